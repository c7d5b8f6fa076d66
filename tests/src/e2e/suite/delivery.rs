//! Replies leaving through each provider, against the fake providers: the
//! provider's exact request, the states they move through (the fakes' signed
//! status callbacks included), retries, refusals and the retry route. Each
//! flow starts fakes of its own, so what they record is the flow's alone.

use super::*;
use crate::e2e::client::Who;
use base64::Engine;

const TWILIO_TOKEN: &str = "e2e-twilio-auth-token";
const TWILIO_SID: &str = "AC0123456789abcdef0123456789abcdef";
pub(super) const WA_SECRET: &str = "e2e-wa-app-secret";
pub(super) const WA_PHONE_ID: &str = "106540352242922";
const TG_SECRET: &str = "e2e-tg-secret";
const TG_BOT: &str = "123456:e2e-bot-token";
const WEB_SECRET: &str = "e2e-web-secret";

/// The fakes, started in this process, and their control routes.
pub(super) struct Fakes {
    pub(super) base: String,
    pub(super) control: fake_providers::Control,
}

impl Fakes {
    pub(super) async fn start() -> Fakes {
        let base = fake_providers::start().await.expect("the fakes start");
        Fakes {
            control: fake_providers::Control::new(&base),
            base,
        }
    }

    pub(super) async fn requests(&self, provider: &str) -> Vec<Value> {
        self.control
            .requests(Some(provider))
            .await
            .expect("the fakes' requests")
    }

    pub(super) async fn fail(&self, failure: Value) {
        self.control
            .fail(&failure)
            .await
            .expect("the fakes take a failure");
    }

    /// Asks the fakes to send a provider's status callback (`kind`: twilio or whatsapp).
    async fn callback(&self, kind: &str, body: Value) {
        let resp = reqwest::Client::new()
            .post(format!("{}/_fake/callbacks/{kind}", self.base))
            .json(&body)
            .send()
            .await
            .expect("the fakes answer");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        assert!(
            (200..300).contains(&status),
            "callback {body}: {status} {text}"
        );
    }
}

/// The four channels, each sending through the fakes.
pub(super) async fn sending_channels(ws: &Ws, fakes: &Fakes) {
    let channels = [
        (
            "sms",
            json!({"kind": "twilio", "name": "SMS", "secret": TWILIO_TOKEN,
                   "account_sid": TWILIO_SID, "from": "+15550001000", "api_base_url": fakes.base}),
        ),
        (
            "wa",
            json!({"kind": "whatsapp", "name": "WhatsApp", "secret": WA_SECRET,
                   "phone_number_id": WA_PHONE_ID, "access_token": "EAAG-e2e", "api_base_url": fakes.base}),
        ),
        (
            "tg",
            json!({"kind": "telegram", "name": "Telegram", "secret": TG_SECRET,
                   "bot_token": TG_BOT, "api_base_url": fakes.base}),
        ),
        (
            "web",
            json!({"kind": "generic", "name": "Widget", "secret": WEB_SECRET,
                   "outbound_url": format!("{}/receiver/{}", fakes.base, ws.id)}),
        ),
    ];
    for (id, body) in channels {
        let view = ws
            .put(ADA, &format!("/channels/{id}"), body)
            .await
            .expect(200);
        assert_eq!(view["can_send"], true, "{view}");
    }
}

/// A contact with a phone and a conversation with them on `channel`.
async fn phone_conversation(ws: &Ws, channel: &str, phone: &str) -> String {
    let c = ws
        .post(BOB, "/contacts", json!({"name": "Pat", "phone": phone}))
        .await
        .expect(201);
    let conv = ws
        .post(
            BOB,
            "/conversations",
            json!({"contact_id": c["id"], "channel_id": channel}),
        )
        .await
        .expect(201);
    conv["id"].as_str().expect("an id").to_string()
}

/// The conversation a contact's signed webhook delivery opened on `channel`.
pub(super) async fn delivered_conversation(ws: &Ws, channel: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let all = ws.all_pages("/conversations?view=all").await;
        if let Some(c) = all.iter().find(|c| c["channel_id"] == channel) {
            return c["id"].as_str().expect("an id").to_string();
        }
        assert!(Instant::now() < deadline, "no conversation on {channel}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Ann writes on WhatsApp (a signed Cloud API webhook): the window opens.
async fn whatsapp_contact_writes(ws: &Ws) -> String {
    whatsapp_writes(ws, &format!("wamid.in-{}", ws.id), "Hello?").await
}

/// Ann writes `text` on the `wa` channel as WhatsApp message `wamid`; her conversation.
pub(super) async fn whatsapp_writes(ws: &Ws, wamid: &str, text: &str) -> String {
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages",
        "value": {"messaging_product": "whatsapp",
                  "metadata": {"display_phone_number": "15550001111", "phone_number_id": WA_PHONE_ID},
                  "contacts": [{"profile": {"name": "Ann"}, "wa_id": "447700900123"}],
                  "messages": [{"from": "447700900123", "id": wamid,
                                "timestamp": "1795255200", "type": "text", "text": {"body": text}}]}}]}]})
    .to_string();
    let signature = inbox_channels::verify::whatsapp_signature(WA_SECRET, body.as_bytes());
    ws.raw(
        None,
        Method::POST,
        &format!("/webhooks/whatsapp/{}/wa", ws.id),
        &[
            ("content-type", "application/json"),
            ("x-hub-signature-256", &signature),
        ],
        Some(body.into_bytes()),
    )
    .await
    .expect(200);
    delivered_conversation(ws, "wa").await
}

/// Tom writes to the bot (Telegram's secret-token header): replies go to his chat.
async fn telegram_contact_writes(ws: &Ws) -> String {
    let body = json!({"update_id": 1, "message": {"message_id": 7, "date": 1795255200,
        "from": {"id": 4242, "is_bot": false, "first_name": "Tom"},
        "chat": {"id": 4242, "type": "private"}, "text": "Hi bot"}})
    .to_string();
    ws.raw(
        None,
        Method::POST,
        &format!("/webhooks/telegram/{}/tg", ws.id),
        &[
            ("content-type", "application/json"),
            ("x-telegram-bot-api-secret-token", TG_SECRET),
        ],
        Some(body.into_bytes()),
    )
    .await
    .expect(200);
    delivered_conversation(ws, "tg").await
}

async fn reply(ws: &Ws, who: Who, conv: &str, body: Value) -> String {
    let posted = ws
        .post(who, &format!("/conversations/{conv}/messages"), body)
        .await
        .expect(201);
    assert_eq!(
        posted["message"]["delivery"]["status"], "pending",
        "{posted}"
    );
    posted["message"]["id"].as_str().expect("an id").to_string()
}

pub(super) async fn message(ws: &Ws, conv: &str, id: &str) -> Value {
    ws.all_pages(&format!("/conversations/{conv}/messages"))
        .await
        .into_iter()
        .find(|m| m["id"] == id)
        .unwrap_or_else(|| panic!("no message {id}"))
}

/// Waits until the message's delivery is `status`; the message then.
pub(super) async fn until_status(ws: &Ws, conv: &str, id: &str, status: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let m = message(ws, conv, id).await;
        if m["delivery"]["status"] == status {
            return m;
        }
        assert!(
            Instant::now() < deadline,
            "message {id} never became {status}: {m}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A reply on each kind reaches its provider with exactly the provider's
/// request, becomes `sent` under the provider's id, then `delivered` and
/// `read` from signed status callbacks; a late callback moves nothing back.
pub async fn replies_reach_each_provider(base: &str) {
    let ws = ready(base, "delivery").await;
    let fakes = Fakes::start().await;
    sending_channels(&ws, &fakes).await;

    // Twilio: a form, Basic auth, StatusCallback at the channel's webhook.
    let sms = phone_conversation(&ws, "sms", "+15550100777").await;
    let id = reply(&ws, BOB, &sms, json!({"body": "Your order shipped"})).await;
    let sent = until_status(&ws, &sms, &id, "sent").await;
    let twilio = fakes.requests("twilio").await;
    assert_eq!(twilio.len(), 1, "{twilio:?}");
    let call = &twilio[0];
    assert_eq!(
        call["path"],
        format!("/2010-04-01/Accounts/{TWILIO_SID}/Messages.json")
    );
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{TWILIO_SID}:{TWILIO_TOKEN}"));
    assert_eq!(call["headers"]["authorization"], format!("Basic {basic}"));
    assert_eq!(
        call["headers"]["content-type"],
        "application/x-www-form-urlencoded"
    );
    let form: std::collections::HashMap<String, String> =
        url_form(call["body"].as_str().expect("a body"));
    assert_eq!(form["To"], "+15550100777");
    assert_eq!(form["From"], "+15550001000");
    assert_eq!(form["Body"], "Your order shipped");
    assert_eq!(
        form["StatusCallback"],
        format!("{base}/webhooks/twilio/{}/sms", ws.id)
    );
    let sid = call["provider_id"].as_str().expect("the fake's SM id");
    assert!(sid.starts_with("SM"), "{sid}");
    assert_eq!(sent["channel_message_id"], sid);
    assert_eq!(sent["delivery"]["attempts"], 1);
    fakes
        .callback("twilio", json!({"sid": sid, "status": "delivered"}))
        .await;
    until_status(&ws, &sms, &id, "delivered").await;
    fakes
        .callback("twilio", json!({"sid": sid, "status": "read"}))
        .await;
    until_status(&ws, &sms, &id, "read").await;
    // Out of order: a late `sent` and `delivered` after `read`.
    fakes
        .callback("twilio", json!({"sid": sid, "status": "sent"}))
        .await;
    fakes
        .callback("twilio", json!({"sid": sid, "status": "delivered"}))
        .await;
    assert_eq!(message(&ws, &sms, &id).await["delivery"]["status"], "read");

    // WhatsApp Cloud: JSON with a Bearer token, the wamid recorded.
    let wa = whatsapp_contact_writes(&ws).await;
    let id = reply(&ws, BOB, &wa, json!({"body": "Hi Ann"})).await;
    let sent = until_status(&ws, &wa, &id, "sent").await;
    let calls = fakes.requests("whatsapp").await;
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0]["path"], format!("/v21.0/{WA_PHONE_ID}/messages"));
    assert_eq!(calls[0]["headers"]["authorization"], "Bearer EAAG-e2e");
    let body: Value =
        serde_json::from_str(calls[0]["body"].as_str().expect("a body")).expect("json");
    assert_eq!(
        body,
        json!({"messaging_product": "whatsapp", "recipient_type": "individual",
               "to": "447700900123", "type": "text", "text": {"body": "Hi Ann"}})
    );
    let wamid = calls[0]["provider_id"].as_str().expect("a wamid");
    assert!(wamid.starts_with("wamid."), "{wamid}");
    assert_eq!(sent["channel_message_id"], wamid);
    let status_url = format!("{base}/webhooks/whatsapp/{}/wa", ws.id);
    for status in ["delivered", "read", "delivered"] {
        fakes
            .callback(
                "whatsapp",
                json!({"id": wamid, "status": status, "url": status_url, "app_secret": WA_SECRET}),
            )
            .await;
        if status == "read" {
            until_status(&ws, &wa, &id, "read").await;
        }
    }
    assert_eq!(message(&ws, &wa, &id).await["delivery"]["status"], "read");

    // Telegram: sendMessage to the chat the contact wrote from.
    let tg = telegram_contact_writes(&ws).await;
    let id = reply(&ws, BOB, &tg, json!({"body": "Hello Tom"})).await;
    let sent = until_status(&ws, &tg, &id, "sent").await;
    let calls = fakes.requests("telegram").await;
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0]["path"], format!("/bot{TG_BOT}/sendMessage"));
    let body: Value =
        serde_json::from_str(calls[0]["body"].as_str().expect("a body")).expect("json");
    assert_eq!(
        body["chat_id"],
        json!(4242),
        "a numeric chat id goes as a number"
    );
    assert_eq!(body["text"], "Hello Tom");
    assert_eq!(sent["channel_message_id"], calls[0]["provider_id"]);

    // Generic: the message.outbound event, signed as the generic channel signs.
    let web = phone_conversation(&ws, "web", "+15550100888").await;
    let id = reply(&ws, BOB, &web, json!({"body": "Hello from the widget"})).await;
    until_status(&ws, &web, &id, "sent").await;
    let calls = fakes.requests("receiver").await;
    assert_eq!(calls.len(), 1, "{calls:?}");
    let raw = calls[0]["body"].as_str().expect("a body");
    let ts: i64 = calls[0]["headers"]["x-inbox-timestamp"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("a timestamp");
    assert_eq!(
        calls[0]["headers"]["x-inbox-signature"],
        inbox_channels::verify::generic_signature(WEB_SECRET, ts, raw.as_bytes())
    );
    let event: Value = serde_json::from_str(raw).expect("json");
    assert_eq!(event["detail_type"], "message.outbound");
    assert_eq!(event["detail"]["message"]["id"], id);
    assert_eq!(event["detail"]["message"]["body"], "Hello from the widget");
}

/// Splits an `application/x-www-form-urlencoded` body.
fn url_form(body: &str) -> std::collections::HashMap<String, String> {
    reqwest::Url::parse(&format!("http://x/?{body}"))
        .map(|u| u.query_pairs().into_owned().collect())
        .unwrap_or_default()
}

/// The provider is down for three attempts, then up: one message at the
/// provider, `sent` after 4 attempts. A permanent refusal fails at once with
/// the provider's code on the timeline; the retry route sends it once more.
pub async fn delivery_retries_and_refusals(base: &str) {
    let ws = ready(base, "retries").await;
    let fakes = Fakes::start().await;
    sending_channels(&ws, &fakes).await;
    let sms = phone_conversation(&ws, "sms", "+15550100999").await;

    fakes
        .fail(json!({"provider": "twilio", "status": 503, "times": 3}))
        .await;
    let id = reply(&ws, BOB, &sms, json!({"body": "Third time lucky"})).await;
    let sent = until_status(&ws, &sms, &id, "sent").await;
    assert_eq!(sent["delivery"]["attempts"], 4, "{sent}");
    let calls = fakes.requests("twilio").await;
    assert_eq!(calls.len(), 4);
    let accepted: Vec<_> = calls.iter().filter(|c| c["status"] == 201).collect();
    assert_eq!(accepted.len(), 1, "one message at the provider: {calls:?}");

    fakes
        .fail(
            json!({"provider": "twilio", "status": 400, "times": 1, "code": "21211",
                     "message": "The 'To' number is not a valid phone number."}),
        )
        .await;
    let id = reply(&ws, BOB, &sms, json!({"body": "Refused"})).await;
    let failed = until_status(&ws, &sms, &id, "failed").await;
    assert_eq!(failed["delivery"]["attempts"], 1);
    assert_eq!(
        failed["delivery"]["error"],
        json!({"code": "21211", "message": "The 'To' number is not a valid phone number."})
    );
    let timeline = ws.timeline(&sms).await;
    let event = last(&timeline, "delivery_failed");
    assert_eq!(event["data"], json!({"message_id": id, "code": "21211"}));
    assert_eq!(fakes.requests("twilio").await.len(), 5);

    let retry = format!("/conversations/{sms}/messages/{id}/retry");
    ws.call(VIC, Method::POST, &retry, None)
        .await
        .problem(403, "forbidden");
    let queued = ws.call(BOB, Method::POST, &retry, None).await.expect(202);
    assert_eq!(queued["message"]["delivery"]["status"], "pending");
    let sent = until_status(&ws, &sms, &id, "sent").await;
    assert_eq!(sent["delivery"]["attempts"], 1);
    assert_eq!(fakes.requests("twilio").await.len(), 6, "sent once more");
    ws.call(BOB, Method::POST, &retry, None)
        .await
        .problem(409, "not_retryable");

    // A channel without credentials receives, and its replies fail as such.
    ws.put(
        ADA,
        "/channels/plain",
        json!({"kind": "generic", "name": "Receive only", "secret": "plain-secret"}),
    )
    .await
    .expect(200);
    let plain = phone_conversation(&ws, "plain", "+15550100111").await;
    let id = reply(&ws, BOB, &plain, json!({"body": "Into the void"})).await;
    let failed = until_status(&ws, &plain, &id, "failed").await;
    assert_eq!(
        failed["delivery"]["error"]["code"],
        "channel_not_configured"
    );
    assert_eq!(fakes.requests("receiver").await.len(), 0);
}

/// AI, broadcast and workflow replies are delivered too; notes never; a
/// conversation without a channel sends nothing.
pub async fn every_reply_kind_is_delivered(base: &str) {
    let ws = ready(base, "reply-kinds").await;
    let fakes = Fakes::start().await;
    sending_channels(&ws, &fakes).await;
    let sms = phone_conversation(&ws, "sms", "+15550100222").await;
    ws.act(BOB, &sms, "agent", json!({"agent_id": "max"}))
        .await
        .expect(200);
    let ai = reply(&ws, MAX, &sms, json!({"body": "Hi, I am Max"})).await;
    let broadcast = reply(
        &ws,
        ZAP,
        &sms,
        json!({"body": "Sale today", "sender": "broadcast"}),
    )
    .await;
    let workflow = reply(
        &ws,
        ZAP,
        &sms,
        json!({"body": "Your code is 1234", "sender": "workflow"}),
    )
    .await;
    ws.post(
        BOB,
        &format!("/conversations/{sms}/notes"),
        json!({"body": "internal only"}),
    )
    .await
    .expect(200);
    let no_channel = ws.conversation("Nora").await;
    let posted = ws
        .post(
            BOB,
            &format!("/conversations/{no_channel}/messages"),
            json!({"body": "Stored only"}),
        )
        .await
        .expect(201);
    assert_eq!(posted["message"]["delivery"], Value::Null);
    for id in [&ai, &broadcast, &workflow] {
        until_status(&ws, &sms, id, "sent").await;
    }
    let bodies: Vec<String> = fakes
        .requests("twilio")
        .await
        .iter()
        .map(|c| url_form(c["body"].as_str().unwrap_or_default())["Body"].clone())
        .collect();
    let mut sorted = bodies.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        ["Hi, I am Max", "Sale today", "Your code is 1234"],
        "{bodies:?}"
    );
    assert_eq!(fakes.requests("receiver").await.len(), 0);
}
