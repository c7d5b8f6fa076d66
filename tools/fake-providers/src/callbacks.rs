//! Status callbacks, sent and signed as each provider does: Twilio's
//! `MessageStatus` form to the message's `StatusCallback`, and Meta's
//! `statuses[]` webhook.

use crate::Shared;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{Value, json};
use sha1::Sha1;
use sha2::Sha256;
use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// What to report on a message Twilio accepted.
#[derive(Deserialize)]
pub(crate) struct TwilioCallback {
    sid: String,
    status: String,
    #[serde(default)]
    error_code: Option<String>,
}

/// What to report on a message WhatsApp accepted.
#[derive(Deserialize)]
pub(crate) struct WhatsappCallback {
    id: String,
    status: String,
    /// The channel's webhook URL.
    url: String,
    /// The Meta app secret the webhook is verified with.
    app_secret: String,
    #[serde(default)]
    error_code: Option<u32>,
}

type Answer = (StatusCode, Json<Value>);

fn refused(status: StatusCode, why: &str) -> Answer {
    (status, Json(json!({"error": why})))
}

/// Twilio's `X-Twilio-Signature`: Base64(HMAC-SHA1(auth token, URL followed
/// by each POST parameter's name and value, sorted by name)).
pub fn twilio_signature(auth_token: &str, url: &str, params: &BTreeMap<String, String>) -> String {
    let mut data = url.to_string();
    for (name, value) in params {
        data.push_str(name);
        data.push_str(value);
    }
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()) else {
        return String::new();
    };
    mac.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Meta's `X-Hub-Signature-256`: `sha256=` and the hex HMAC-SHA256 of the raw body.
pub fn meta_signature(app_secret: &str, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()) else {
        return String::new();
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn post(url: &str, content_type: &str, signature: (&str, String), body: Vec<u8>) -> Answer {
    let client = reqwest::Client::new();
    let sent = client
        .post(url)
        .header("content-type", content_type)
        .header(signature.0, signature.1)
        .body(body)
        .timeout(std::time::Duration::from_secs(10))
        .send()
        .await;
    match sent {
        Ok(resp) => (
            StatusCode::OK,
            Json(json!({"status": resp.status().as_u16()})),
        ),
        Err(e) => refused(StatusCode::BAD_GATEWAY, &e.to_string()),
    }
}

/// `POST /_fake/callbacks/twilio`.
pub(crate) async fn twilio(State(state): State<Shared>, Json(cb): Json<TwilioCallback>) -> Answer {
    let Some(sent) = state.sent_with_id(&cb.sid) else {
        return refused(StatusCode::NOT_FOUND, "no message was sent with that sid");
    };
    let form: BTreeMap<String, String> = serde_urlencoded::from_str(&sent.body).unwrap_or_default();
    let Some(url) = form.get("StatusCallback").cloned() else {
        return refused(
            StatusCode::CONFLICT,
            "the message was sent without a StatusCallback",
        );
    };
    let auth = sent
        .headers
        .get("authorization")
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|v| {
            v.split_once(':')
                .map(|(u, p)| (u.to_string(), p.to_string()))
        });
    let Some((account_sid, auth_token)) = auth else {
        return refused(
            StatusCode::CONFLICT,
            "the message was sent without Basic auth",
        );
    };
    let mut params = BTreeMap::new();
    params.insert("AccountSid".to_string(), account_sid);
    params.insert("ApiVersion".to_string(), "2010-04-01".to_string());
    params.insert("MessageSid".to_string(), cb.sid.clone());
    params.insert("SmsSid".to_string(), cb.sid.clone());
    params.insert("MessageStatus".to_string(), cb.status.clone());
    params.insert("SmsStatus".to_string(), cb.status.clone());
    for (field, name) in [
        ("To", "To"),
        ("From", "From"),
        ("MessagingServiceSid", "MessagingServiceSid"),
    ] {
        if let Some(v) = form.get(field) {
            params.insert(name.to_string(), v.clone());
        }
    }
    if let Some(code) = &cb.error_code {
        params.insert("ErrorCode".to_string(), code.clone());
    }
    let signature = twilio_signature(&auth_token, &url, &params);
    let body = serde_urlencoded::to_string(&params).unwrap_or_default();
    post(
        &url,
        "application/x-www-form-urlencoded",
        ("x-twilio-signature", signature),
        body.into_bytes(),
    )
    .await
}

/// `POST /_fake/callbacks/whatsapp`.
pub(crate) async fn whatsapp(
    State(state): State<Shared>,
    Json(cb): Json<WhatsappCallback>,
) -> Answer {
    let Some(sent) = state.sent_with_id(&cb.id) else {
        return refused(StatusCode::NOT_FOUND, "no message was sent with that id");
    };
    let phone_number_id = sent.path.split('/').nth(2).unwrap_or_default().to_string();
    let to = serde_json::from_str::<Value>(&sent.body)
        .ok()
        .and_then(|v| v["to"].as_str().map(str::to_string))
        .unwrap_or_default();
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
        .to_string();
    let mut status = json!({"id": cb.id, "status": cb.status, "timestamp": timestamp,
                            "recipient_id": to});
    if let Some(code) = cb.error_code {
        status["errors"] = json!([{"code": code, "title": "Message undeliverable",
                                  "message": "Message undeliverable",
                                  "error_data": {"details": "Message could not be delivered"}}]);
    }
    let payload = json!({"object": "whatsapp_business_account", "entry": [{
        "id": "0",
        "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550000000", "phone_number_id": phone_number_id},
            "statuses": [status]}}]}]});
    let body = serde_json::to_vec(&payload).unwrap_or_default();
    let signature = meta_signature(&cb.app_secret, &body);
    post(
        &cb.url,
        "application/json",
        ("x-hub-signature-256", signature),
        body,
    )
    .await
}
