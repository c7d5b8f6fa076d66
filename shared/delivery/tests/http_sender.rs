//! The provider clients against the loopback fakes: each sends its
//! provider's exact request, and each answer becomes the outcome the sender
//! acts on.

use inbox_app::{ChannelSender, Outgoing};
use inbox_delivery::{CHANNEL_NOT_CONFIGURED, HttpSender};
use inbox_domain::delivery::SendOutcome;
use inbox_domain::model::{Channel, ChannelKind, Sending, TwilioSender};
use serde_json::{Value, json};

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const NOW: i64 = 1_795_255_200;

fn channel(kind: ChannelKind, sending: Option<Sending>, base: &str) -> Channel {
    Channel {
        id: "ch".into(),
        kind,
        name: "Channel".into(),
        secret: "channel-secret".into(),
        verify_token: None,
        sending,
        api_base_url: Some(base.to_string()),
        default_agent_id: None,
    }
}

fn twilio(base: &str) -> Channel {
    let sending = Sending::Twilio {
        account_sid: SID.into(),
        sender: TwilioSender::From("+15550001111".into()),
    };
    channel(ChannelKind::Twilio, Some(sending), base)
}

fn whatsapp(base: &str) -> Channel {
    let sending = Sending::Whatsapp {
        phone_number_id: "106540352242922".into(),
        access_token: "EAAG-token".into(),
    };
    channel(ChannelKind::Whatsapp, Some(sending), base)
}

fn telegram(base: &str) -> Channel {
    let sending = Sending::Telegram {
        bot_token: "123456:AAH-secret".into(),
    };
    channel(ChannelKind::Telegram, Some(sending), base)
}

async fn send(ch: &Channel, to: &str, event: &[u8]) -> SendOutcome {
    let sender = HttpSender::new().unwrap();
    sender
        .send(&Outgoing {
            channel: ch,
            to,
            body: "Hello Ann",
            status_callback: Some("https://inbox.example.com/webhooks/twilio/acme/ch"),
            event,
            unix_now: NOW,
        })
        .await
}

async fn requests(base: &str) -> Vec<Value> {
    fake_providers::Control::new(base)
        .requests(None)
        .await
        .unwrap()
}

async fn fail(base: &str, failure: Value) {
    fake_providers::Control::new(base)
        .fail(&failure)
        .await
        .unwrap();
}

fn accepted(o: &SendOutcome) -> Option<String> {
    match o {
        SendOutcome::Accepted {
            provider_message_id,
        } => provider_message_id.clone(),
        other => panic!("not accepted: {other:?}"),
    }
}

#[tokio::test]
async fn twilio_gets_a_basic_auth_form_with_the_status_callback() {
    let base = fake_providers::start().await.unwrap();
    let id = accepted(&send(&twilio(&base), "+447700900123", b"{}").await).unwrap();
    assert!(id.starts_with("SM"));
    let seen = &requests(&base).await[0];
    assert_eq!(
        seen["path"],
        format!("/2010-04-01/Accounts/{SID}/Messages.json")
    );
    let auth = format!("{SID}:channel-secret");
    assert_eq!(
        seen["headers"]["authorization"],
        format!("Basic {}", base64_of(&auth))
    );
    assert_eq!(
        seen["headers"]["content-type"],
        "application/x-www-form-urlencoded"
    );
    let form: Vec<(String, String)> = serde_urlencoded_pairs(seen["body"].as_str().unwrap());
    assert_eq!(
        form,
        [
            ("To", "+447700900123"),
            ("Body", "Hello Ann"),
            ("From", "+15550001111"),
            (
                "StatusCallback",
                "https://inbox.example.com/webhooks/twilio/acme/ch"
            ),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
    );
}

#[tokio::test]
async fn whatsapp_gets_a_bearer_json_text_message() {
    let base = fake_providers::start().await.unwrap();
    let id = accepted(&send(&whatsapp(&base), "447700900123", b"{}").await).unwrap();
    assert!(id.starts_with("wamid."));
    let seen = &requests(&base).await[0];
    assert_eq!(seen["path"], "/v21.0/106540352242922/messages");
    assert_eq!(seen["headers"]["authorization"], "Bearer EAAG-token");
    let body: Value = serde_json::from_str(seen["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"messaging_product": "whatsapp", "recipient_type": "individual",
               "to": "447700900123", "type": "text", "text": {"body": "Hello Ann"}})
    );
}

#[tokio::test]
async fn telegram_gets_send_message_with_the_numeric_chat_id() {
    let base = fake_providers::start().await.unwrap();
    let id = accepted(&send(&telegram(&base), "987654321", b"{}").await).unwrap();
    assert!(id.parse::<u64>().is_ok());
    let seen = &requests(&base).await[0];
    assert_eq!(seen["path"], "/bot123456:AAH-secret/sendMessage");
    let body: Value = serde_json::from_str(seen["body"].as_str().unwrap()).unwrap();
    assert_eq!(body, json!({"chat_id": 987654321, "text": "Hello Ann"}));
}

#[tokio::test]
async fn a_generic_channel_gets_the_event_signed_as_inbound_deliveries_are() {
    let base = fake_providers::start().await.unwrap();
    let ch = channel(
        ChannelKind::Generic,
        Some(Sending::Generic {
            outbound_url: format!("{base}/receiver/acme/web"),
        }),
        &base,
    );
    let event = br#"{"detail_type":"message.outbound"}"#;
    assert_eq!(accepted(&send(&ch, "", event).await), None);
    let seen = &requests(&base).await[0];
    assert_eq!(seen["body"], std::str::from_utf8(event).unwrap());
    let mut headers = http::HeaderMap::new();
    for name in ["x-inbox-signature", "x-inbox-timestamp"] {
        headers.insert(
            name,
            seen["headers"][name].as_str().unwrap().parse().unwrap(),
        );
    }
    inbox_channels::verify::verify_generic("channel-secret", &headers, event, NOW)
        .expect("the receiver verifies it as the inbox verifies inbound deliveries");
}

#[tokio::test]
async fn answers_become_transient_or_permanent_in_the_providers_words() {
    let base = fake_providers::start().await.unwrap();
    fail(
        &base,
        json!({"provider": "twilio", "status": 503, "times": 1}),
    )
    .await;
    assert!(matches!(
        send(&twilio(&base), "+447700900123", b"{}").await,
        SendOutcome::Transient { error, retry_after_millis: None } if error.code == "20500"
    ));
    fail(
        &base,
        json!({"provider": "twilio", "status": 429, "times": 1, "retry_after": 7}),
    )
    .await;
    assert!(matches!(
        send(&twilio(&base), "+447700900123", b"{}").await,
        SendOutcome::Transient {
            retry_after_millis: Some(7_000),
            ..
        }
    ));
    fail(
        &base,
        json!({"provider": "telegram", "status": 429, "times": 1, "retry_after": 3}),
    )
    .await;
    assert!(matches!(
        send(&telegram(&base), "987654321", b"{}").await,
        SendOutcome::Transient { error, retry_after_millis: Some(3_000) }
            if error.code == "429" && error.message == "Too Many Requests: retry after 3"
    ));
    fail(
        &base,
        json!({"provider": "whatsapp", "status": 400, "times": 1}),
    )
    .await;
    assert!(matches!(
        send(&whatsapp(&base), "447700900123", b"{}").await,
        SendOutcome::Permanent { error }
            if error.code == "131026" && error.message == "Message undeliverable"
    ));
    fail(
        &base,
        json!({"provider": "twilio", "status": 400, "times": 1, "code": "21610",
                       "message": "Attempt to send to unsubscribed recipient"}),
    )
    .await;
    assert!(matches!(
        send(&twilio(&base), "+447700900123", b"{}").await,
        SendOutcome::Permanent { error } if error.code == "21610"
    ));
}

#[tokio::test]
async fn no_credentials_and_no_answer() {
    let base = fake_providers::start().await.unwrap();
    let receive_only = channel(ChannelKind::Twilio, None, &base);
    assert!(matches!(
        send(&receive_only, "+447700900123", b"{}").await,
        SendOutcome::Permanent { error } if error.code == CHANNEL_NOT_CONFIGURED
    ));
    assert!(requests(&base).await.is_empty(), "nothing was sent");

    // Nothing listens there: transient, and the message names no URL (it holds the bot token).
    let down = telegram("http://127.0.0.1:9");
    match send(&down, "987654321", b"{}").await {
        SendOutcome::Transient { error, .. } => {
            assert_eq!(error.code, "network");
            assert!(!error.message.contains("AAH-secret"), "{}", error.message);
        }
        other => panic!("expected transient, got {other:?}"),
    }
}

fn base64_of(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn serde_urlencoded_pairs(body: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str(body).unwrap()
}
