//! Each provider's sample delivery, signed and ingested end to end on the embedded store.

mod common;

use common::{Harness, SECRET, VERIFY_TOKEN, WS, channel_of, generic_body, sample};
use inbox_domain::model::{ActorKind, DeliveryStatus, EventKind, SenderKind, Status};
use inbox_domain::{ChannelKind, Command};
use inbox_ingest::{handshake, public_url, try_ingest};
use inbox_store::ConversationStore;

const TWIML: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Response></Response>"#;

/// One delivery → one open conversation with one contact message; returns the body stored.
async fn single_message(h: &Harness, kind: ChannelKind) -> (String, String) {
    let convs = h.conversations().await;
    assert_eq!(convs.len(), 1, "one conversation");
    let conv = &convs[0];
    assert_eq!(conv.status, Status::Open);
    assert_eq!(conv.channel_id.as_deref(), Some(channel_of(kind)));
    assert!(conv.is_unread_for("bob"), "unread for a member");
    let msgs = h.messages(&conv.id).await;
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].sender.kind, SenderKind::Contact);
    assert_eq!(msgs[0].sender.id.as_deref(), Some(conv.contact.id.as_str()));
    assert!(conv.contact.id.starts_with("ct_"));
    let timeline = h.timeline(&conv.id).await;
    assert!(matches!(
        timeline[0].kind,
        EventKind::ConversationCreated { .. }
    ));
    assert_eq!(timeline[0].actor.kind, ActorKind::Contact);
    (
        msgs[0].body.clone(),
        msgs[0].channel_message_id.clone().unwrap(),
    )
}

#[tokio::test]
async fn twilio_sms_with_media() {
    let h = Harness::new().await;
    let body = sample("twilio-sms-mms.txt");
    let reply = h.deliver(ChannelKind::Twilio, &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.content_type, "text/xml");
    assert_eq!(reply.body, TWIML);
    let (text, id) = single_message(&h, ChannelKind::Twilio).await;
    assert_eq!(text, "Here is the damaged box\n[1 attachment]");
    assert_eq!(id, "SM6a2f3c1e9b8d4f7a0c5e2b1d8f9a3c4e");
    let conv = &h.conversations().await[0];
    assert!(conv.contact.has_lead, "the phone number is a lead");
}

#[tokio::test]
async fn twilio_whatsapp_message_names_the_contact() {
    let h = Harness::new().await;
    let reply = h
        .deliver(ChannelKind::Twilio, &sample("twilio-whatsapp-message.txt"))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let (text, _) = single_message(&h, ChannelKind::Twilio).await;
    assert_eq!(text, "Hello, my order #42 has not arrived 😟");
    let conv = &h.conversations().await[0];
    assert_eq!(conv.contact.name.as_deref(), Some("Ada Lovelace"));
    assert!(h.has_contact("sms", "whatsapp:+15551234567").await);
}

#[tokio::test]
async fn twilio_public_url_with_query_string_is_what_is_signed() {
    let h = Harness::new().await;
    let body = sample("twilio-sms-mms.txt");
    let url = public_url(BASE_WITH_SLASH, ChannelKind::Twilio, WS, "sms", Some("v=2"));
    let headers = common::headers(&[
        ("content-type", "application/x-www-form-urlencoded"),
        (
            "x-twilio-signature",
            &inbox_channels::verify::twilio_signature(SECRET, &url, &body),
        ),
    ]);
    let report = try_ingest(
        &h.app(),
        ChannelKind::Twilio,
        WS,
        "sms",
        &headers,
        &body,
        &url,
    )
    .await
    .unwrap();
    assert_eq!(report.stored, 1);
}

const BASE_WITH_SLASH: &str = "https://inbox.example.com/prod/";

#[tokio::test]
async fn whatsapp_text_message() {
    let h = Harness::new().await;
    let reply = h
        .deliver(ChannelKind::Whatsapp, &sample("whatsapp-text-message.json"))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.content_type, "application/json");
    assert_eq!(reply.body, r#"{"ok":true}"#);
    let (text, id) = single_message(&h, ChannelKind::Whatsapp).await;
    assert_eq!(text, "Does it come in another color?");
    assert!(id.starts_with("wamid."));
    let conv = &h.conversations().await[0];
    assert_eq!(conv.contact.name.as_deref(), Some("Sheena Nelson"));
}

#[tokio::test]
async fn whatsapp_image_message() {
    let h = Harness::new().await;
    let reply = h
        .deliver(
            ChannelKind::Whatsapp,
            &sample("whatsapp-image-message.json"),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let (text, _) = single_message(&h, ChannelKind::Whatsapp).await;
    assert!(text.ends_with("[1 attachment]"), "{text}");
}

#[tokio::test]
async fn telegram_message() {
    let h = Harness::new().await;
    let reply = h
        .deliver(
            ChannelKind::Telegram,
            &sample("telegram-message-update.json"),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body, r#"{"ok":true}"#);
    let (text, id) = single_message(&h, ChannelKind::Telegram).await;
    assert_eq!(text, "Hi, I was charged twice this month");
    assert_eq!(id, "219617430");
    let conv = &h.conversations().await[0];
    assert_eq!(conv.contact.name.as_deref(), Some("Test Lastname"));
}

#[tokio::test]
async fn telegram_photo() {
    let h = Harness::new().await;
    let reply = h
        .deliver(ChannelKind::Telegram, &sample("telegram-photo-update.json"))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let (text, _) = single_message(&h, ChannelKind::Telegram).await;
    assert!(text.contains("[1 attachment]"), "{text}");
}

#[tokio::test]
async fn generic_message() {
    let h = Harness::new().await;
    let reply = h
        .deliver(ChannelKind::Generic, &sample("generic-message.json"))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let (text, id) = single_message(&h, ChannelKind::Generic).await;
    assert_eq!(text, "My invoice shows the wrong billing address.");
    assert_eq!(id, "order-form-8f14e45f");
    let conv = &h.conversations().await[0];
    assert_eq!(conv.contact.name.as_deref(), Some("Grace Hopper"));
    assert!(conv.contact.has_lead);
}

#[tokio::test]
async fn ignored_updates_answer_200_and_write_nothing() {
    let h = Harness::new().await;
    let body = sample("telegram-edited-message-update.json");
    let headers = h.signed(ChannelKind::Telegram, &body);
    let report = try_ingest(
        &h.app(),
        ChannelKind::Telegram,
        WS,
        "tg",
        &headers,
        &body,
        "",
    )
    .await
    .unwrap();
    assert_eq!((report.ignored, report.stored), (1, 0));
    assert_eq!(h.deliver(ChannelKind::Telegram, &body).await.status, 200);
    assert!(h.conversations().await.is_empty());
}

#[tokio::test]
async fn twilio_intermediate_status_is_ignored() {
    let h = Harness::new().await;
    let body = b"MessageSid=SM1&MessageStatus=queued&From=%2B1&To=%2B2";
    let reply = h.deliver(ChannelKind::Twilio, body).await;
    assert_eq!((reply.status, reply.body.as_str()), (200, TWIML));
    assert!(h.conversations().await.is_empty());
}

/// Sends a member reply whose stored copy carries a provider id, as the outbound
/// sender records it once the provider accepted it.
async fn outgoing_message(h: &Harness, provider_id: &str) -> String {
    let body = generic_body("first", "cust-1", "hello");
    assert_eq!(h.deliver(ChannelKind::Generic, &body).await.status, 200);
    let conv = h.conversations().await.remove(0);
    let context = h.store.load_context(WS, Some(&conv.id), &[]).await.unwrap();
    let mut ids = inbox_store::UlidIds::default();
    let actor = Harness::member("bob");
    let mut outcome = {
        let mut ctx = inbox_domain::Ctx {
            now: h.now(),
            actor: &actor,
            settings: &context.settings,
            ids: &mut ids,
            notes: &inbox_domain::ExtractiveNotes,
        };
        inbox_domain::decide(
            &conv,
            Command::PostMessage {
                body: "On its way".into(),
                on_closed: None,
                sender: None,
            },
            &mut ctx,
        )
        .unwrap()
    };
    outcome.writes[0].messages[0].channel_message_id = Some(provider_id.into());
    let id = outcome.writes[0].messages[0].id.clone();
    h.store
        .commit(
            inbox_store::Commit::new(outcome.conversation.workspace_id.clone())
                .with_writes(outcome.writes),
        )
        .await
        .unwrap();
    id
}

#[tokio::test]
async fn delivery_statuses_are_recorded_on_the_outgoing_message() {
    let h = Harness::new().await;
    // The WhatsApp sample reports on two outgoing messages; store the first on the
    // WhatsApp channel by moving a conversation there.
    let wamid = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MTE5MjVBOTE3MDk5QUVFM0YA";
    let sent = outgoing_message(&h, wamid).await;
    let conv = h.conversations().await.remove(0);
    let wa = inbox_domain::model::Channel {
        id: "wa".into(),
        kind: ChannelKind::Whatsapp,
        name: "Channel".into(),
        secret: SECRET.into(),
        verify_token: Some(VERIFY_TOKEN.into()),
        sending: None,
        api_base_url: None,
        default_agent_id: None,
    };
    h.act(
        &conv.id,
        Harness::member("bob"),
        Command::TransferChannel {
            channel: inbox_domain::Lookup::Found(wa),
        },
    )
    .await;

    let body = sample("whatsapp-status-update.json");
    let headers = h.signed(ChannelKind::Whatsapp, &body);
    let report = try_ingest(
        &h.app(),
        ChannelKind::Whatsapp,
        WS,
        "wa",
        &headers,
        &body,
        "",
    )
    .await
    .unwrap();
    assert_eq!(
        (report.statuses_recorded, report.statuses_unmatched),
        (1, 1)
    );
    let msgs = h.messages(&conv.id).await;
    let outgoing = msgs.iter().find(|m| m.id == sent).unwrap();
    let delivery = outgoing.delivery.as_ref().unwrap();
    assert_eq!(delivery.status, DeliveryStatus::Delivered);
    assert_eq!(delivery.error, None);
    // The contact's own message is untouched, and no conversation was added.
    assert!(msgs.iter().all(|m| m.id == sent || m.delivery.is_none()));
    assert_eq!(h.conversations().await.len(), 1);
}

#[tokio::test]
async fn twilio_status_callback_for_an_unknown_message_is_acknowledged() {
    let h = Harness::new().await;
    let reply = h
        .deliver(ChannelKind::Twilio, &sample("twilio-status-delivered.txt"))
        .await;
    assert_eq!((reply.status, reply.body.as_str()), (200, TWIML));
    assert!(h.conversations().await.is_empty());
}

#[tokio::test]
async fn whatsapp_handshake() {
    let h = Harness::new().await;
    let ok = handshake(
        &h.store,
        WS,
        "wa",
        &format!("hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444"),
    )
    .await;
    assert_eq!(
        (ok.status, ok.content_type, ok.body.as_str()),
        (200, "text/plain", "1158201444")
    );
    for (channel, query) in [
        (
            "wa",
            "hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1",
        ),
        (
            "wa",
            "hub.mode=unsubscribe&hub.verify_token=vt-123&hub.challenge=1",
        ),
        ("wa", ""),
        (
            "tg",
            "hub.mode=subscribe&hub.verify_token=vt-123&hub.challenge=1",
        ),
        (
            "nope",
            "hub.mode=subscribe&hub.verify_token=vt-123&hub.challenge=1",
        ),
    ] {
        let refused = handshake(&h.store, WS, channel, query).await;
        assert_eq!(refused.status, 403, "{channel} {query}");
        assert_eq!(refused.content_type, "application/problem+json");
    }
    let other_ws = handshake(
        &h.store,
        "other",
        "wa",
        "hub.mode=subscribe&hub.verify_token=vt-123&hub.challenge=1",
    )
    .await;
    assert_eq!(other_ws.status, 403);
}

/// A provider's profile follows the API's limits but is never refused: a
/// 300-character name with line breaks is cleaned and cut at a character
/// boundary, and the message is stored.
#[tokio::test]
async fn a_long_profile_name_is_cut_not_refused() {
    let h = Harness::new().await;
    let long = format!("Ada\nLovelace {}", "é".repeat(300));
    let body = serde_json::json!({
        "message_id": "m-long",
        "from": {"id": "cust-long", "name": long},
        "text": "Hello"
    })
    .to_string()
    .into_bytes();
    let reply = h.deliver(ChannelKind::Generic, &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let convs = h.conversations().await;
    assert_eq!(convs.len(), 1);
    let name = convs[0].contact.name.clone().expect("a name");
    assert_eq!(name.chars().count(), inbox_domain::DisplayName::MAX_CHARS);
    assert!(name.starts_with("Ada Lovelace é"), "{name}");
    assert_eq!(h.messages(&convs[0].id).await.len(), 1);
}
