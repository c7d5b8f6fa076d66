//! The providers' send APIs: their request checks, their answers and their
//! error bodies, as their documentation gives them.

use crate::Shared;
use crate::state::{Failure, Provider, Recorded, header_map};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// A JSON answer, with `Retry-After` when the failure names one.
pub(crate) fn answer(status: u16, body: Value, retry_after: Option<u64>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (status, axum::Json(body)).into_response();
    if let Some(v) = retry_after.and_then(|secs| HeaderValue::from_str(&secs.to_string()).ok()) {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// One request to a fake, kept with what it was answered.
pub(crate) struct Call<'a> {
    pub(crate) state: &'a Shared,
    pub(crate) provider: Provider,
    pub(crate) path: String,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a Bytes,
}

impl Call<'_> {
    /// Keeps the request with the status answered and the id given, and answers.
    pub(crate) fn done(
        &self,
        status: u16,
        provider_id: Option<String>,
        resp: Response,
    ) -> Response {
        self.state.record(Recorded {
            provider: self.provider,
            path: self.path.clone(),
            headers: header_map(self.headers),
            body: String::from_utf8_lossy(self.body).into_owned(),
            status,
            provider_id,
        });
        resp
    }
}

// ---- Twilio ------------------------------------------------------------

fn twilio_error(status: u16, code: u32, message: &str, retry_after: Option<u64>) -> Response {
    answer(
        status,
        json!({"code": code, "message": message,
               "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status}),
        retry_after,
    )
}

fn twilio_failure(f: &Failure) -> Response {
    let (code, message) = match f.status {
        429 => (20429, "Too Many Requests"),
        401 => (20003, "Authenticate"),
        s if s >= 500 => (20500, "Internal Server Error"),
        _ => (21211, "The 'To' number is not a valid phone number."),
    };
    twilio_error(
        f.status,
        f.code_or(code),
        f.message_or(message),
        f.retry_after,
    )
}

/// The account and auth token of a Basic `Authorization` header.
fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some((user.to_string(), pass.to_string()))
}

/// `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`.
pub(crate) async fn twilio_send(
    State(state): State<Shared>,
    Path(account_sid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/2010-04-01/Accounts/{account_sid}/Messages.json");
    let call = Call {
        state: &state,
        provider: Provider::Twilio,
        path,
        headers: &headers,
        body: &body,
    };
    match basic_auth(&headers) {
        Some((user, pass)) if user == account_sid && !pass.is_empty() => {}
        _ => return call.done(401, None, twilio_error(401, 20003, "Authenticate", None)),
    }
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let form: HashMap<String, String> = match serde_urlencoded::from_bytes(&body) {
        Ok(form) if is_form => form,
        _ => {
            let resp = twilio_error(400, 21602, "Message body is required.", None);
            return call.done(400, None, resp);
        }
    };
    let missing = if !form.contains_key("To") {
        Some((21604, "A 'To' phone number is required."))
    } else if form.get("Body").is_none_or(|b| b.is_empty()) {
        Some((21602, "Message body is required."))
    } else if !form.contains_key("From") && !form.contains_key("MessagingServiceSid") {
        Some((21603, "A 'From' phone number is required."))
    } else {
        None
    };
    if let Some((code, message)) = missing {
        return call.done(400, None, twilio_error(400, code, message, None));
    }
    if let Some(f) = state.take_failure(Provider::Twilio) {
        return call.done(f.status, None, twilio_failure(&f));
    }
    let sid = format!("SM{:032x}", state.next());
    let resource = json!({
        "sid": sid,
        "account_sid": account_sid,
        "messaging_service_sid": form.get("MessagingServiceSid"),
        "from": form.get("From"),
        "to": form.get("To"),
        "body": form.get("Body"),
        "status": "queued",
        "direction": "outbound-api",
        "num_segments": "1",
        "num_media": "0",
        "error_code": null,
        "error_message": null,
        "api_version": "2010-04-01",
        "uri": format!("/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json"),
    });
    call.done(201, Some(sid), answer(201, resource, None))
}

// ---- WhatsApp Cloud ----------------------------------------------------

fn meta_error(status: u16, code: u32, message: &str, retry_after: Option<u64>) -> Response {
    answer(
        status,
        json!({"error": {"message": message, "type": "OAuthException", "code": code,
                         "error_data": {"messaging_product": "whatsapp", "details": message},
                         "fbtrace_id": "AFakeTraceId"}}),
        retry_after,
    )
}

fn whatsapp_failure(f: &Failure) -> Response {
    let (code, message) = match f.status {
        429 => (130429, "Rate limit hit"),
        401 => (190, "Invalid OAuth access token"),
        s if s >= 500 => (131000, "Something went wrong"),
        _ => (131026, "Message undeliverable"),
    };
    meta_error(
        f.status,
        f.code_or(code),
        f.message_or(message),
        f.retry_after,
    )
}

/// `POST /{version}/{phone_number_id}/messages`.
pub(crate) async fn whatsapp_send(
    State(state): State<Shared>,
    Path((version, phone_number_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/{version}/{phone_number_id}/messages");
    let call = Call {
        state: &state,
        provider: Provider::Whatsapp,
        path,
        headers: &headers,
        body: &body,
    };
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| !t.is_empty());
    if !bearer {
        let resp = meta_error(
            401,
            190,
            "Invalid OAuth access token - Cannot parse access token",
            None,
        );
        return call.done(401, None, resp);
    }
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    let valid = parsed.as_ref().is_some_and(|v| {
        v["messaging_product"] == "whatsapp"
            && v["to"].as_str().is_some_and(|t| !t.is_empty())
            && v["type"] == "text"
            && v["text"]["body"].as_str().is_some_and(|b| !b.is_empty())
    });
    if !valid {
        return call.done(
            400,
            None,
            meta_error(400, 100, "(#100) Invalid parameter", None),
        );
    }
    if let Some(f) = state.take_failure(Provider::Whatsapp) {
        return call.done(f.status, None, whatsapp_failure(&f));
    }
    let to = parsed
        .as_ref()
        .and_then(|v| v["to"].as_str())
        .unwrap_or_default()
        .to_string();
    let id = format!("wamid.FAKE{:020}", state.next());
    let resp = json!({"messaging_product": "whatsapp",
                      "contacts": [{"input": to, "wa_id": to}],
                      "messages": [{"id": id}]});
    call.done(200, Some(id), answer(200, resp, None))
}

// ---- Telegram ----------------------------------------------------------

fn telegram_error(status: u16, description: &str, retry_after: Option<u64>) -> Response {
    let mut body = json!({"ok": false, "error_code": status, "description": description});
    if let Some(secs) = retry_after {
        body["parameters"] = json!({"retry_after": secs});
    }
    // Telegram says when to come back in the body only.
    answer(status, body, None)
}

fn telegram_failure(f: &Failure) -> Response {
    let description = match (f.status, f.retry_after) {
        (429, Some(secs)) => format!("Too Many Requests: retry after {secs}"),
        (429, None) => "Too Many Requests".to_string(),
        (403, _) => "Forbidden: bot was blocked by the user".to_string(),
        (401, _) => "Unauthorized".to_string(),
        (s, _) if s >= 500 => "Internal Server Error".to_string(),
        _ => "Bad Request: chat not found".to_string(),
    };
    telegram_error(f.status, f.message_or(&description), f.retry_after)
}

/// `<digits>:<token>`, as BotFather issues them.
fn is_bot_token(token: &str) -> bool {
    token.split_once(':').is_some_and(|(id, secret)| {
        !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && !secret.is_empty()
    })
}

/// `POST /bot{token}/sendMessage`.
pub(crate) async fn telegram_send(
    State(state): State<Shared>,
    Path(bot): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/{bot}/sendMessage");
    let call = Call {
        state: &state,
        provider: Provider::Telegram,
        path,
        headers: &headers,
        body: &body,
    };
    let Some(token) = bot.strip_prefix("bot").filter(|t| is_bot_token(t)) else {
        return call.done(404, None, telegram_error(404, "Not Found", None));
    };
    let bot_id: i64 = token
        .split_once(':')
        .and_then(|(id, _)| id.parse().ok())
        .unwrap_or_default();
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let chat_id = parsed["chat_id"].clone();
    if chat_id.is_null() || chat_id == "" {
        return call.done(
            400,
            None,
            telegram_error(400, "Bad Request: chat_id is empty", None),
        );
    }
    let Some(text) = parsed["text"].as_str().filter(|t| !t.is_empty()) else {
        return call.done(
            400,
            None,
            telegram_error(400, "Bad Request: message text is empty", None),
        );
    };
    if let Some(f) = state.take_failure(Provider::Telegram) {
        return call.done(f.status, None, telegram_failure(&f));
    }
    let message_id = state.next();
    let chat = match &chat_id {
        Value::String(s) => s.parse::<i64>().map(Value::from).unwrap_or(chat_id.clone()),
        other => other.clone(),
    };
    let resp = json!({"ok": true, "result": {
        "message_id": message_id,
        "from": {"id": bot_id, "is_bot": true, "first_name": "Inbox bot", "username": "inbox_fake_bot"},
        "chat": {"id": chat, "type": "private"},
        "date": unix_now(),
        "text": text,
    }});
    call.done(200, Some(message_id.to_string()), answer(200, resp, None))
}

// ---- webhook receivers -------------------------------------------------

/// `POST /receiver/{path}`: any signed event; answers 200 unless told to fail.
pub(crate) async fn receive(
    State(state): State<Shared>,
    Path(rest): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = Call {
        state: &state,
        provider: Provider::Receiver,
        path: format!("/receiver/{rest}"),
        headers: &headers,
        body: &body,
    };
    if let Some(f) = state.take_failure(Provider::Receiver) {
        let error = json!({"error": f.message_or("receiver failed")});
        return call.done(f.status, None, answer(f.status, error, f.retry_after));
    }
    call.done(200, None, answer(200, json!({"received": true}), None))
}
