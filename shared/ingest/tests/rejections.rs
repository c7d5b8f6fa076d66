//! Deliveries that must be refused, and must leave nothing behind.

mod common;

use common::{Harness, SECRET, WS, generic_body, headers, sample};
use inbox_channels::verify::{generic_signature, twilio_signature, whatsapp_signature};
use inbox_domain::ChannelKind;
use inbox_ingest::{MAX_BODY_BYTES, WebhookReply, ingest};
use serde_json::Value;

fn assert_problem(reply: &WebhookReply, status: u16, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.content_type, "application/problem+json");
    let body: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(body["code"], code);
    assert_eq!(body["status"], status);
    assert_eq!(body["type"], format!("urn:inbox:problem:{code}"));
}

const TWILIO_SENDER: &str = "+15557654321";
const WHATSAPP_SENDER: &str = "16505551234";
const TELEGRAM_SENDER: &str = "1111111";

#[tokio::test]
async fn wrong_secret_is_401_for_every_provider() {
    let h = Harness::new().await;
    let twilio = sample("twilio-sms-mms.txt");
    let reply = h
        .post(
            ChannelKind::Twilio,
            &headers(&[
                ("content-type", "application/x-www-form-urlencoded"),
                (
                    "x-twilio-signature",
                    &twilio_signature("wrong", &Harness::url(ChannelKind::Twilio), &twilio),
                ),
            ]),
            &twilio,
        )
        .await;
    assert_problem(&reply, 401, "invalid_signature");
    h.assert_nothing_written(ChannelKind::Twilio, TWILIO_SENDER)
        .await;

    let h = Harness::new().await;
    let wa = sample("whatsapp-text-message.json");
    let reply = h
        .post(
            ChannelKind::Whatsapp,
            &headers(&[("x-hub-signature-256", &whatsapp_signature("wrong", &wa))]),
            &wa,
        )
        .await;
    assert_problem(&reply, 401, "invalid_signature");
    h.assert_nothing_written(ChannelKind::Whatsapp, WHATSAPP_SENDER)
        .await;

    let h = Harness::new().await;
    let tg = sample("telegram-message-update.json");
    let reply = h
        .post(
            ChannelKind::Telegram,
            &headers(&[("x-telegram-bot-api-secret-token", "wrong")]),
            &tg,
        )
        .await;
    assert_problem(&reply, 401, "invalid_signature");
    h.assert_nothing_written(ChannelKind::Telegram, TELEGRAM_SENDER)
        .await;

    let h = Harness::new().await;
    let body = generic_body("m1", "cust-1", "hi");
    let ts = h.now().unix_seconds();
    let reply = h
        .post(
            ChannelKind::Generic,
            &headers(&[
                ("x-inbox-timestamp", &ts.to_string()),
                ("x-inbox-signature", &generic_signature("wrong", ts, &body)),
            ]),
            &body,
        )
        .await;
    assert_problem(&reply, 401, "invalid_signature");
    h.assert_nothing_written(ChannelKind::Generic, "cust-1")
        .await;
}

#[tokio::test]
async fn a_changed_body_byte_is_401() {
    for (kind, file, sender) in [
        (ChannelKind::Twilio, "twilio-sms-mms.txt", TWILIO_SENDER),
        (
            ChannelKind::Whatsapp,
            "whatsapp-text-message.json",
            WHATSAPP_SENDER,
        ),
        (
            ChannelKind::Generic,
            "generic-message.json",
            "customer-1024",
        ),
    ] {
        let h = Harness::new().await;
        let body = sample(file);
        let headers = h.signed(kind, &body);
        let mut tampered = body.clone();
        // Change a byte of the message text, keeping the body well formed.
        let at = tampered
            .windows(2)
            .rposition(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_lowercase())
            .unwrap();
        tampered[at] = if tampered[at] == b'a' { b'b' } else { b'a' };
        let reply = h.post(kind, &headers, &tampered).await;
        assert_problem(&reply, 401, "invalid_signature");
        h.assert_nothing_written(kind, sender).await;
    }
}

#[tokio::test]
async fn a_missing_header_is_401() {
    for (kind, file, sender, header) in [
        (
            ChannelKind::Twilio,
            "twilio-sms-mms.txt",
            TWILIO_SENDER,
            "x-twilio-signature",
        ),
        (
            ChannelKind::Whatsapp,
            "whatsapp-text-message.json",
            WHATSAPP_SENDER,
            "x-hub-signature-256",
        ),
        (
            ChannelKind::Telegram,
            "telegram-message-update.json",
            TELEGRAM_SENDER,
            "x-telegram-bot-api-secret-token",
        ),
        (
            ChannelKind::Generic,
            "generic-message.json",
            "customer-1024",
            "x-inbox-signature",
        ),
        (
            ChannelKind::Generic,
            "generic-message.json",
            "customer-1024",
            "x-inbox-timestamp",
        ),
    ] {
        let h = Harness::new().await;
        let body = sample(file);
        let mut headers = h.signed(kind, &body);
        headers.remove(header);
        let reply = h.post(kind, &headers, &body).await;
        assert_problem(&reply, 401, "invalid_signature");
        h.assert_nothing_written(kind, sender).await;
    }
}

#[tokio::test]
async fn an_old_generic_timestamp_is_401() {
    let h = Harness::new().await;
    let body = generic_body("m1", "cust-1", "hi");
    let old = h.now().unix_seconds() - 301;
    let reply = h
        .post(
            ChannelKind::Generic,
            &headers(&[
                ("x-inbox-timestamp", &old.to_string()),
                ("x-inbox-signature", &generic_signature(SECRET, old, &body)),
            ]),
            &body,
        )
        .await;
    assert_problem(&reply, 401, "invalid_signature");
    h.assert_nothing_written(ChannelKind::Generic, "cust-1")
        .await;
}

#[tokio::test]
async fn unknown_channel_or_wrong_kind_or_workspace_is_401() {
    let h = Harness::new().await;
    let body = generic_body("m1", "cust-1", "hi");
    let signed = h.signed(ChannelKind::Generic, &body);
    // Unknown channel id, an invalid one, the Twilio channel under /generic/, another workspace.
    for (ws, channel) in [(WS, "nope"), (WS, "Bad Id"), (WS, "sms"), ("other", "web")] {
        let reply = ingest(
            &h.app(),
            ChannelKind::Generic,
            ws,
            channel,
            &signed,
            &body,
            "",
        )
        .await;
        assert_problem(&reply, 401, "invalid_signature");
    }
    h.assert_nothing_written(ChannelKind::Generic, "cust-1")
        .await;
}

#[tokio::test]
async fn malformed_bodies_are_400_and_write_nothing() {
    let h = Harness::new().await;
    let cases: Vec<(ChannelKind, Vec<u8>)> = vec![
        (ChannelKind::Whatsapp, b"{not json".to_vec()),
        (ChannelKind::Telegram, b"[1, 2".to_vec()),
        (
            ChannelKind::Generic,
            br#"{"message_id": "m1", "text": "no sender"}"#.to_vec(),
        ),
        (
            ChannelKind::Generic,
            br#"{"message_id": "m1", "from": {"id": "cust-1"}, "text": "hi", "extra": 1}"#
                .to_vec(),
        ),
        (
            ChannelKind::Whatsapp,
            br#"{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {"messages": [{"id": "w1", "type": "text", "text": {"body": "x"}}]}}]}]}"#
                .to_vec(),
        ),
        // A form without From.
        (ChannelKind::Twilio, b"MessageSid=SM1&Body=hi".to_vec()),
    ];
    for (kind, body) in cases {
        let reply = h.deliver(kind, &body).await;
        assert_problem(&reply, 400, "bad_request");
    }
    assert!(h.conversations().await.is_empty());
    assert!(h.all_messages().await.is_empty());
    assert!(!h.has_contact("web", "cust-1").await);
}

#[tokio::test]
async fn twilio_needs_a_form_content_type() {
    let h = Harness::new().await;
    let body = sample("twilio-sms-mms.txt");
    for content_type in [Some("application/json"), Some("text/plain"), None] {
        let mut headers = h.signed(ChannelKind::Twilio, &body);
        headers.remove("content-type");
        if let Some(value) = content_type {
            headers.insert("content-type", value.parse().unwrap());
        }
        let reply = h.post(ChannelKind::Twilio, &headers, &body).await;
        assert_problem(&reply, 400, "bad_request");
    }
    h.assert_nothing_written(ChannelKind::Twilio, TWILIO_SENDER)
        .await;
}

#[tokio::test]
async fn bodies_over_256_kib_are_413_before_anything_else() {
    let h = Harness::new().await;
    let text = "x".repeat(300 * 1024);
    let body = generic_body("m1", "cust-1", &text);
    assert!(body.len() > MAX_BODY_BYTES);
    // Correctly signed, unsigned, or to an unknown channel: the size is checked first.
    let signed = h.signed(ChannelKind::Generic, &body);
    assert_problem(
        &h.post(ChannelKind::Generic, &signed, &body).await,
        413,
        "payload_too_large",
    );
    assert_problem(
        &h.post(ChannelKind::Generic, &headers(&[]), &body).await,
        413,
        "payload_too_large",
    );
    let unknown = ingest(
        &h.app(),
        ChannelKind::Generic,
        WS,
        "nope",
        &signed,
        &body,
        "",
    )
    .await;
    assert_problem(&unknown, 413, "payload_too_large");
    h.assert_nothing_written(ChannelKind::Generic, "cust-1")
        .await;
}

#[tokio::test]
async fn exactly_256_kib_is_not_too_large() {
    let h = Harness::new().await;
    let overhead = generic_body("m1", "cust-1", "").len();
    let body = generic_body("m1", "cust-1", &"x".repeat(MAX_BODY_BYTES - overhead));
    assert_eq!(body.len(), MAX_BODY_BYTES);
    let reply = h.deliver(ChannelKind::Generic, &body).await;
    // Not 413: the domain's message length limit answers instead, and writes nothing.
    assert_problem(&reply, 400, "bad_request");
    h.assert_nothing_written(ChannelKind::Generic, "cust-1")
        .await;
}

#[tokio::test]
async fn one_bad_item_refuses_the_whole_batch() {
    let h = Harness::new().await;
    let long = "y".repeat(20_001);
    let body = serde_json::json!({
        "object": "whatsapp_business_account",
        "entry": [{"changes": [{"field": "messages", "value": {"messages": [
            {"from": "111", "id": "w1", "type": "text", "text": {"body": "fine"}},
            {"from": "222", "id": "w2", "type": "text", "text": {"body": long}}
        ]}}]}]
    })
    .to_string()
    .into_bytes();
    let reply = h.deliver(ChannelKind::Whatsapp, &body).await;
    assert_problem(&reply, 400, "bad_request");
    h.assert_nothing_written(ChannelKind::Whatsapp, "111").await;
}
