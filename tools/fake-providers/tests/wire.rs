//! The fakes answer each provider's send request as the provider does, fail
//! on demand, and sign status callbacks so the inbox's own verification
//! accepts them.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use inbox_channels::verify::{verify_twilio, verify_whatsapp};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

const SID: &str = "AC0123456789abcdef0123456789abcdef";

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn twilio(base: &str, auth: (&str, &str), form: &[(&str, &str)]) -> (u16, Value) {
    let resp = client()
        .post(format!("{base}/2010-04-01/Accounts/{SID}/Messages.json"))
        .basic_auth(auth.0, Some(auth.1))
        .form(form)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

async fn fail(base: &str, failure: Value) {
    fake_providers::Control::new(base)
        .fail(&failure)
        .await
        .unwrap();
}

async fn requests(base: &str, provider: &str) -> Vec<Value> {
    fake_providers::Control::new(base)
        .requests(Some(provider))
        .await
        .unwrap()
}

#[tokio::test]
async fn twilio_takes_a_basic_auth_form_and_answers_a_message_resource() {
    let base = fake_providers::start().await.unwrap();
    let form = [
        ("To", "+15550002222"),
        ("From", "+15550001111"),
        ("Body", "Hi"),
        ("StatusCallback", "http://127.0.0.1:1/cb"),
    ];
    let (status, body) = twilio(&base, (SID, "token"), &form).await;
    assert_eq!(status, 201);
    let sid = body["sid"].as_str().unwrap();
    assert!(sid.starts_with("SM") && sid.len() == 34, "{sid}");
    assert_eq!(
        (body["status"].as_str(), body["to"].as_str()),
        (Some("queued"), Some("+15550002222"))
    );
    let seen = requests(&base, "twilio").await;
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0]["headers"]["content-type"],
        "application/x-www-form-urlencoded"
    );
    assert_eq!(seen[0]["provider_id"], sid);

    let (status, body) = twilio(&base, ("ACother", "token"), &form).await;
    assert_eq!((status, body["code"].as_u64()), (401, Some(20003)));
    let (status, body) = twilio(
        &base,
        (SID, "token"),
        &[("From", "+15550001111"), ("Body", "Hi")],
    )
    .await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(21604)));
    assert_eq!(
        body["more_info"],
        "https://www.twilio.com/docs/errors/21604"
    );
}

#[tokio::test]
async fn failures_come_n_times_or_for_good_in_the_providers_shape() {
    let base = fake_providers::start().await.unwrap();
    let form = [
        ("To", "+15550002222"),
        ("MessagingServiceSid", "MG0123456789abcdef0123456789abcdef"),
        ("Body", "Hi"),
    ];
    fail(
        &base,
        json!({"provider": "twilio", "status": 503, "times": 3}),
    )
    .await;
    for _ in 0..3 {
        let (status, body) = twilio(&base, (SID, "t"), &form).await;
        assert_eq!((status, body["code"].as_u64()), (503, Some(20500)));
    }
    assert_eq!(twilio(&base, (SID, "t"), &form).await.0, 201);

    fail(&base, json!({"provider": "twilio", "status": 400, "code": "21610", "message": "Attempt to send to unsubscribed recipient"})).await;
    for _ in 0..2 {
        let (status, body) = twilio(&base, (SID, "t"), &form).await;
        assert_eq!((status, body["code"].as_u64()), (400, Some(21610)));
        assert_eq!(body["message"], "Attempt to send to unsubscribed recipient");
    }
    client()
        .post(format!("{base}/_fake/reset"))
        .send()
        .await
        .unwrap();
    assert_eq!(twilio(&base, (SID, "t"), &form).await.0, 201);
    assert_eq!(
        requests(&base, "twilio").await.len(),
        1,
        "reset forgets what came before"
    );

    // A 429 says when to come back: a header for Twilio, the body for Telegram.
    fail(
        &base,
        json!({"provider": "twilio", "status": 429, "times": 1, "retry_after": 7}),
    )
    .await;
    let resp = client()
        .post(format!("{base}/2010-04-01/Accounts/{SID}/Messages.json"))
        .basic_auth(SID, Some("t"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "7");
}

#[tokio::test]
async fn whatsapp_takes_a_bearer_json_text_and_answers_a_wamid() {
    let base = fake_providers::start().await.unwrap();
    let url = format!("{base}/v21.0/106540352242922/messages");
    let msg = json!({"messaging_product": "whatsapp", "recipient_type": "individual",
                     "to": "447700900123", "type": "text", "text": {"body": "Hello"}});
    let resp = client()
        .post(&url)
        .bearer_auth("EAAG")
        .json(&msg)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["messages"][0]["id"]
            .as_str()
            .unwrap()
            .starts_with("wamid.")
    );
    assert_eq!(body["contacts"][0]["wa_id"], "447700900123");

    let resp = client().post(&url).json(&msg).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], 190);
    let resp = client()
        .post(&url)
        .bearer_auth("EAAG")
        .json(&json!({"to": "1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);

    fail(
        &base,
        json!({"provider": "whatsapp", "status": 400, "times": 1}),
    )
    .await;
    let resp = client()
        .post(&url)
        .bearer_auth("EAAG")
        .json(&msg)
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], 131026);
}

#[tokio::test]
async fn telegram_answers_ok_and_says_retry_after_in_the_body() {
    let base = fake_providers::start().await.unwrap();
    let url = format!("{base}/bot123456:AAH-secret/sendMessage");
    let msg = json!({"chat_id": 987654321, "text": "Hello"});
    let body: Value = client()
        .post(&url)
        .json(&msg)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["ok"], true);
    assert_eq!(body["result"]["chat"]["id"], 987654321);
    assert!(body["result"]["message_id"].as_u64().is_some());

    fail(
        &base,
        json!({"provider": "telegram", "status": 429, "times": 1, "retry_after": 3}),
    )
    .await;
    let resp = client().post(&url).json(&msg).send().await.unwrap();
    assert_eq!(resp.status(), 429);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body,
        json!({"ok": false, "error_code": 429,
                            "description": "Too Many Requests: retry after 3",
                            "parameters": {"retry_after": 3}})
    );
    let resp = client()
        .post(format!("{base}/botnope/sendMessage"))
        .json(&msg)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
}

/// What a receiver was sent.
type Received = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

/// A receiver that keeps what it is sent.
async fn webhook_receiver() -> (String, Received) {
    let got: Received = Arc::default();
    let app = Router::new()
        .route(
            "/{*path}",
            post(
                |State(got): State<Received>, headers: HeaderMap, body: Bytes| async move {
                    got.lock().unwrap().push((headers, body));
                    "ok"
                },
            ),
        )
        .with_state(got.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), got)
}

#[tokio::test]
async fn status_callbacks_are_signed_as_the_providers_sign_them() {
    let base = fake_providers::start().await.unwrap();
    let (hook, got) = webhook_receiver().await;
    let callback = format!("{hook}/webhooks/twilio/acme/sms");
    let (_, sent) = twilio(
        &base,
        (SID, "auth-token"),
        &[
            ("To", "+15550002222"),
            ("From", "+15550001111"),
            ("Body", "Hi"),
            ("StatusCallback", &callback),
        ],
    )
    .await;
    let r: Value = client()
        .post(format!("{base}/_fake/callbacks/twilio"))
        .json(&json!({"sid": sent["sid"], "status": "delivered"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["status"], 200);
    let (headers, body) = got.lock().unwrap().remove(0);
    verify_twilio("auth-token", &callback, &headers, &body)
        .expect("the inbox accepts Twilio's signature");
    let form: std::collections::HashMap<String, String> =
        serde_urlencoded::from_bytes(&body).unwrap();
    assert_eq!(form["MessageStatus"], "delivered");
    assert_eq!(form["MessageSid"], sent["sid"].as_str().unwrap());
    assert!(verify_twilio("other-token", &callback, &headers, &body).is_err());

    let wa: Value = client()
        .post(format!("{base}/v21.0/106540352242922/messages"))
        .bearer_auth("EAAG")
        .json(&json!({"messaging_product": "whatsapp", "to": "447700900123", "type": "text", "text": {"body": "Hi"}}))
        .send().await.unwrap().json().await.unwrap();
    let wamid = wa["messages"][0]["id"].as_str().unwrap();
    let url = format!("{hook}/webhooks/whatsapp/acme/wa");
    let r: Value = client()
        .post(format!("{base}/_fake/callbacks/whatsapp"))
        .json(&json!({"id": wamid, "status": "failed", "url": url, "app_secret": "app-secret", "error_code": 131026}))
        .send().await.unwrap().json().await.unwrap();
    assert_eq!(r["status"], 200);
    let (headers, body) = got.lock().unwrap().remove(0);
    verify_whatsapp("app-secret", &headers, &body).expect("the inbox accepts Meta's signature");
    let items = inbox_channels::parse(inbox_channels::ChannelKind::Whatsapp, &body).unwrap();
    assert!(
        matches!(&items[..], [inbox_channels::Inbound::Status(s)]
        if s.provider_message_id == wamid && s.status == inbox_channels::DeliveryState::Failed
           && s.error.as_deref().is_some_and(|e| e.contains("131026"))),
        "{items:?}"
    );
}

#[tokio::test]
async fn receivers_record_signed_events() {
    let base = fake_providers::start().await.unwrap();
    let resp = client()
        .post(format!("{base}/receiver/acme/web"))
        .header("x-inbox-signature", "sha256=abc")
        .body("{\"type\":\"message.outbound\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let seen = requests(&base, "receiver").await;
    assert_eq!(seen[0]["path"], "/receiver/acme/web");
    assert_eq!(seen[0]["headers"]["x-inbox-signature"], "sha256=abc");
    assert_eq!(seen[0]["body"], "{\"type\":\"message.outbound\"}");
}

async fn complete(base: &str, key: Option<&str>, body: Value) -> (u16, Value, Option<String>) {
    let mut req = client()
        .post(format!("{base}/v1/chat/completions"))
        .json(&body);
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let json = resp.json().await.unwrap_or(Value::Null);
    (status, json, retry_after)
}

fn chat(last: &str, with_handoff: bool) -> Value {
    let mut body = json!({
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "You are Max."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!"},
            {"role": "user", "content": last}
        ]
    });
    if with_handoff {
        body["tools"] = json!([{"type": "function", "function": {
            "name": "handoff", "description": "Hand the conversation to a person.",
            "parameters": {"type": "object", "properties": {"reason": {"type": "string"}}, "required": ["reason"]}
        }}]);
    }
    body
}

#[tokio::test]
async fn the_model_answers_a_chat_completion_from_the_last_user_message() {
    let base = fake_providers::start().await.unwrap();
    let (status, body, _) =
        complete(&base, Some("sk-test"), chat("Where is my order?", true)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "gpt-4o-mini");
    let choice = &body["choices"][0];
    assert_eq!(choice["finish_reason"], "stop");
    assert_eq!(choice["message"]["role"], "assistant");
    assert_eq!(
        choice["message"]["content"],
        "Max here. You said: Where is my order?"
    );
    assert!(body["usage"]["total_tokens"].as_u64().unwrap() > 0);
    let seen = requests(&base, "model").await;
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["headers"]["authorization"], "Bearer sk-test");
    let sent: Value = serde_json::from_str(seen[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(sent["messages"][0]["content"], "You are Max.");
}

#[tokio::test]
async fn asked_for_a_human_the_model_calls_the_handoff_tool_if_it_has_one() {
    let base = fake_providers::start().await.unwrap();
    let (_, body, _) = complete(
        &base,
        Some("sk-test"),
        chat("I want to talk to a human", true),
    )
    .await;
    let choice = &body["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["content"], Value::Null);
    let call = &choice["message"]["tool_calls"][0];
    assert_eq!(
        (call["type"].as_str(), call["function"]["name"].as_str()),
        (Some("function"), Some("handoff"))
    );
    let args: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args["reason"], "The contact asked for a human.");
    // Without the tool on offer, it can only talk.
    let (_, body, _) = complete(
        &base,
        Some("sk-test"),
        chat("I want to talk to a human", false),
    )
    .await;
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn the_model_refuses_without_a_key_fails_and_is_slow_on_demand() {
    let base = fake_providers::start().await.unwrap();
    let (status, body, _) = complete(&base, None, chat("Hi", false)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("invalid_api_key"))
    );
    let (status, body, _) = complete(&base, Some("k"), json!({"messages": "no"})).await;
    assert_eq!(
        (status, body["error"]["type"].as_str()),
        (400, Some("invalid_request_error"))
    );

    fail(
        &base,
        json!({"provider": "model", "status": 503, "times": 1}),
    )
    .await;
    let (status, body, _) = complete(&base, Some("k"), chat("Hi", false)).await;
    assert_eq!(
        (status, body["error"]["type"].as_str()),
        (503, Some("server_error"))
    );
    fail(
        &base,
        json!({"provider": "model", "status": 429, "times": 1, "retry_after": 7}),
    )
    .await;
    let (status, _, retry_after) = complete(&base, Some("k"), chat("Hi", false)).await;
    assert_eq!((status, retry_after.as_deref()), (429, Some("7")));
    fail(
        &base,
        json!({"provider": "model", "status": 200, "times": 1, "code": "malformed"}),
    )
    .await;
    let (status, body, _) = complete(&base, Some("k"), chat("Hi", false)).await;
    assert_eq!(
        (status, body["choices"].as_array().map(Vec::len)),
        (200, Some(0))
    );
    let (status, _, _) = complete(&base, Some("k"), chat("Hi", false)).await;
    assert_eq!(status, 200, "the failures were used up");

    client()
        .post(format!("{base}/_fake/delay"))
        .json(&json!({"provider": "model", "ms": 300, "times": 1}))
        .send()
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let control = fake_providers::Control::new(&base);
    let (answered, held) = tokio::join!(complete(&base, Some("k"), chat("Hi", false)), async {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        control.held("model").await.unwrap()
    });
    assert_eq!(answered.0, 200);
    assert_eq!(held, 1, "the answer is held while it waits");
    assert_eq!(control.held("model").await.unwrap(), 0);
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(300),
        "held back"
    );
    let started = std::time::Instant::now();
    complete(&base, Some("k"), chat("Hi", false)).await;
    assert!(
        started.elapsed() < std::time::Duration::from_millis(300),
        "once only"
    );
}
