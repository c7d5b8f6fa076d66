//! Parsing the sample payloads in `events/channels/` and malformed input.

use inbox_channels::{
    ChannelKind, DeliveryState, DeliveryStatus, Inbound, InboundMessage, ParseError, Sender, parse,
};

macro_rules! sample {
    ($name:literal) => {
        include_bytes!(concat!("../../../events/channels/", $name)).as_slice()
    };
}

fn only_message(items: Vec<Inbound>) -> InboundMessage {
    match <[Inbound; 1]>::try_from(items) {
        Ok([Inbound::Message(message)]) => message,
        other => panic!("expected one message, got {other:?}"),
    }
}

fn is_shape_error(result: Result<Vec<Inbound>, ParseError>) -> bool {
    matches!(
        result,
        Err(ParseError::InvalidShape(_)
            | ParseError::MissingField(_)
            | ParseError::InvalidField { .. })
    )
}

// ---- Twilio ---------------------------------------------------------------

#[test]
fn twilio_whatsapp_message() {
    let message =
        only_message(parse(ChannelKind::Twilio, sample!("twilio-whatsapp-message.txt")).unwrap());
    assert_eq!(
        message,
        InboundMessage {
            provider_message_id: "SM1f0e8ae6ade43cb3c0ce4525424e404f".into(),
            sender: Sender {
                id: "whatsapp:+15551234567".into(),
                name: Some("Ada Lovelace".into()),
                email: None,
                phone: Some("+15551234567".into()),
                handle: None,
            },
            text: "Hello, my order #42 has not arrived 😟".into(),
            media_count: 0,
            unsupported: None,
            recipient: Some("whatsapp:+14155238886".into()),
            chat_id: None,
            sent_at: None,
        }
    );
}

#[test]
fn twilio_sms_with_media() {
    let message = only_message(parse(ChannelKind::Twilio, sample!("twilio-sms-mms.txt")).unwrap());
    assert_eq!(message.sender.id, "+15557654321");
    assert_eq!(message.sender.phone.as_deref(), Some("+15557654321"));
    assert_eq!(message.sender.name, None);
    assert_eq!(message.text, "Here is the damaged box");
    assert_eq!(message.media_count, 1);
}

#[test]
fn twilio_status_callbacks() {
    let items = parse(ChannelKind::Twilio, sample!("twilio-status-delivered.txt")).unwrap();
    assert_eq!(
        items,
        [Inbound::Status(DeliveryStatus {
            provider_message_id: "SM8b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e".into(),
            status: DeliveryState::Delivered,
            at: None,
            recipient: Some("+15557654321".into()),
            error: None,
        })]
    );
    let failed = parse(
        ChannelKind::Twilio,
        b"MessageSid=SM1&MessageStatus=undelivered&ErrorCode=30006&To=%2B1555",
    )
    .unwrap();
    assert!(matches!(
        failed.as_slice(),
        [Inbound::Status(DeliveryStatus { status: DeliveryState::Failed, error: Some(code), .. })] if code == "30006"
    ));
    let queued = parse(ChannelKind::Twilio, b"MessageSid=SM1&MessageStatus=queued").unwrap();
    assert!(matches!(queued.as_slice(), [Inbound::Ignored { .. }]));
}

#[test]
fn twilio_location_without_body_is_marked_unsupported() {
    let body = b"MessageSid=SM2&From=whatsapp%3A%2B15551234567&Latitude=51.5&Longitude=-0.12&NumMedia=0&MessageType=location";
    let message = only_message(parse(ChannelKind::Twilio, body).unwrap());
    assert_eq!(message.text, "");
    assert_eq!(message.unsupported.as_deref(), Some("location"));
}

#[test]
fn twilio_malformed_forms() {
    assert_eq!(
        parse(ChannelKind::Twilio, b"From=%2B1555&Body=hi"),
        Err(ParseError::MissingField("MessageSid"))
    );
    assert_eq!(
        parse(ChannelKind::Twilio, b"MessageSid=SM1&Body=hi"),
        Err(ParseError::MissingField("From"))
    );
    assert!(is_shape_error(parse(
        ChannelKind::Twilio,
        b"MessageSid=SM1&From=x&NumMedia=two"
    )));
    assert!(is_shape_error(parse(
        ChannelKind::Twilio,
        b"MessageSid=SM1&From=x&NumMedia=-1"
    )));
    assert!(is_shape_error(parse(
        ChannelKind::Twilio,
        b"MessageSid=SM1&MessageSid=SM2&From=x"
    )));
    assert!(is_shape_error(parse(
        ChannelKind::Twilio,
        b"MessageSid=&From=x"
    )));
    assert_eq!(
        parse(ChannelKind::Twilio, b"MessageSid=SM1&From=x&Body=%FF"),
        Err(ParseError::NotUtf8)
    );
    assert_eq!(
        parse(ChannelKind::Twilio, b"MessageSid=SM1&From=\xff"),
        Err(ParseError::NotUtf8)
    );
    assert_eq!(
        parse(ChannelKind::Twilio, b""),
        Err(ParseError::MissingField("MessageSid"))
    );
}

// ---- WhatsApp -------------------------------------------------------------

#[test]
fn whatsapp_text_message() {
    let message =
        only_message(parse(ChannelKind::Whatsapp, sample!("whatsapp-text-message.json")).unwrap());
    assert_eq!(
        message,
        InboundMessage {
            provider_message_id: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
                .into(),
            sender: Sender {
                id: "16505551234".into(),
                name: Some("Sheena Nelson".into()),
                email: None,
                phone: Some("+16505551234".into()),
                handle: None,
            },
            text: "Does it come in another color?".into(),
            media_count: 0,
            unsupported: None,
            recipient: Some("106540352242922".into()),
            chat_id: None,
            sent_at: Some(1_749_416_383),
        }
    );
}

#[test]
fn whatsapp_image_message_keeps_its_caption() {
    let message = only_message(
        parse(
            ChannelKind::Whatsapp,
            sample!("whatsapp-image-message.json"),
        )
        .unwrap(),
    );
    assert_eq!(message.text, "The scratch on the lid");
    assert_eq!(message.media_count, 1);
    assert_eq!(message.sender.name.as_deref(), Some("Sheena Nelson"));
}

#[test]
fn whatsapp_status_updates() {
    let items = parse(
        ChannelKind::Whatsapp,
        sample!("whatsapp-status-update.json"),
    )
    .unwrap();
    assert_eq!(
        items,
        [
            Inbound::Status(DeliveryStatus {
                provider_message_id: "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MTE5MjVBOTE3MDk5QUVFM0YA"
                    .into(),
                status: DeliveryState::Delivered,
                at: Some(1_750_263_773),
                recipient: Some("16505551234".into()),
                error: None,
            }),
            Inbound::Status(DeliveryStatus {
                provider_message_id: "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDNTJEMUZBRjNCRTM0NjlFQzcA"
                    .into(),
                status: DeliveryState::Failed,
                at: Some(1_750_263_780),
                recipient: Some("16505551234".into()),
                error: Some("131047: Re-engagement message".into()),
            }),
        ]
    );
}

fn wa_messages(messages: &str, contacts: &str) -> Vec<u8> {
    format!(
        r#"{{"object":"whatsapp_business_account","entry":[{{"id":"1","changes":[{{"field":"messages",
        "value":{{"messaging_product":"whatsapp","metadata":{{"phone_number_id":"106"}},
        "contacts":{contacts},"messages":{messages}}}}}]}}]}}"#
    )
    .into_bytes()
}

#[test]
fn whatsapp_batches_every_message_with_its_contact() {
    let body = wa_messages(
        r#"[{"from":"111111","id":"wamid.a","timestamp":"1","type":"text","text":{"body":"one"}},
            {"from":"222222","id":"wamid.b","timestamp":"2","type":"audio","audio":{"id":"9"}},
            {"from":"222222","id":"wamid.c","timestamp":"3","type":"location","location":{"latitude":1.0}},
            {"from":"111111","id":"wamid.d","timestamp":"4","type":"reaction","reaction":{"emoji":"👍"}},
            {"from":"111111","id":"wamid.e","timestamp":"5","type":"interactive",
             "interactive":{"type":"button_reply","button_reply":{"id":"y","title":"Yes please"}}}]"#,
        r#"[{"wa_id":"111111","profile":{"name":"One"}},{"wa_id":"222222","profile":{"name":"Two"}}]"#,
    );
    let items = parse(ChannelKind::Whatsapp, &body).unwrap();
    assert_eq!(items.len(), 5);
    let summary: Vec<_> = items
        .iter()
        .map(|item| match item {
            Inbound::Message(m) => (
                m.provider_message_id.as_str(),
                m.sender.name.as_deref(),
                m.text.as_str(),
                m.media_count,
                m.unsupported.as_deref(),
            ),
            Inbound::Ignored { .. } => ("ignored", None, "", 0, None),
            Inbound::Status(_) => ("status", None, "", 0, None),
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("wamid.a", Some("One"), "one", 0, None),
            ("wamid.b", Some("Two"), "", 1, None),
            ("wamid.c", Some("Two"), "", 0, Some("location")),
            ("ignored", None, "", 0, None),
            ("wamid.e", Some("One"), "Yes please", 0, None),
        ]
    );
}

#[test]
fn whatsapp_other_objects_and_fields_are_ignored() {
    let page = parse(ChannelKind::Whatsapp, br#"{"object":"page","entry":[]}"#).unwrap();
    assert!(matches!(page.as_slice(), [Inbound::Ignored { .. }]));
    let template = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[
        {"field":"message_template_status_update","value":{"event":"APPROVED","messages":"not a list"}}]}]}"#;
    let items = parse(ChannelKind::Whatsapp, template).unwrap();
    assert!(matches!(items.as_slice(), [Inbound::Ignored { .. }]));
    let empty = parse(
        ChannelKind::Whatsapp,
        br#"{"object":"whatsapp_business_account","entry":[]}"#,
    );
    assert_eq!(empty, Ok(vec![]));
}

#[test]
fn whatsapp_malformed_payloads() {
    assert!(is_shape_error(parse(
        ChannelKind::Whatsapp,
        br#"{"entry":[]}"#
    )));
    assert!(is_shape_error(parse(
        ChannelKind::Whatsapp,
        br#"{"object":7}"#
    )));
    assert!(is_shape_error(parse(
        ChannelKind::Whatsapp,
        br#"{"object":"whatsapp_business_account","entry":{}}"#
    )));
    // A message without an id, with a numeric sender, with an unreadable timestamp.
    for messages in [
        r#"[{"from":"1","type":"text","text":{"body":"x"}}]"#,
        r#"[{"from":1,"id":"w","type":"text","text":{"body":"x"}}]"#,
        r#"[{"from":"1","id":"w","timestamp":"soon","type":"text","text":{"body":"x"}}]"#,
        r#"[{"from":"1","id":"w","type":"text"}]"#,
        r#"[{"from":"1","id":"","type":"text","text":{"body":"x"}}]"#,
        r#"{"from":"1"}"#,
    ] {
        let body = wa_messages(messages, "[]");
        assert!(
            is_shape_error(parse(ChannelKind::Whatsapp, &body)),
            "{messages}"
        );
    }
    let missing_value =
        br#"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages"}]}]}"#;
    assert_eq!(
        parse(ChannelKind::Whatsapp, missing_value),
        Err(ParseError::MissingField("entry.changes.value"))
    );
}

// ---- Telegram -------------------------------------------------------------

#[test]
fn telegram_text_message() {
    let message = only_message(
        parse(
            ChannelKind::Telegram,
            sample!("telegram-message-update.json"),
        )
        .unwrap(),
    );
    assert_eq!(
        message,
        InboundMessage {
            provider_message_id: "219617430".into(),
            sender: Sender {
                id: "1111111".into(),
                name: Some("Test Lastname".into()),
                email: None,
                phone: None,
                handle: Some("testuser".into()),
            },
            text: "Hi, I was charged twice this month".into(),
            media_count: 0,
            unsupported: None,
            recipient: None,
            chat_id: Some("1111111".into()),
            sent_at: Some(1_441_645_532),
        }
    );
}

#[test]
fn telegram_photo_counts_once_and_keeps_its_caption() {
    let message =
        only_message(parse(ChannelKind::Telegram, sample!("telegram-photo-update.json")).unwrap());
    assert_eq!(message.provider_message_id, "219617431");
    assert_eq!(message.text, "Both charges on my statement");
    assert_eq!(message.media_count, 1);
    assert_eq!(message.sender.name.as_deref(), Some("Test"));
}

#[test]
fn telegram_non_message_updates_are_ignored() {
    let edited = parse(
        ChannelKind::Telegram,
        sample!("telegram-edited-message-update.json"),
    )
    .unwrap();
    assert_eq!(
        edited,
        [Inbound::Ignored {
            reason: "telegram update edited_message".into()
        }]
    );
    let callback = br#"{"update_id":5,"callback_query":{"id":"1","from":{"id":1,"is_bot":false,"first_name":"A"},"data":"x"}}"#;
    assert!(matches!(
        parse(ChannelKind::Telegram, callback).unwrap().as_slice(),
        [Inbound::Ignored { .. }]
    ));
    let service = br#"{"update_id":6,"message":{"message_id":1,"date":1,"chat":{"id":-100,"type":"group"},
        "from":{"id":1,"is_bot":false,"first_name":"A"},"new_chat_members":[{"id":2,"is_bot":false,"first_name":"B"}]}}"#;
    assert!(matches!(
        parse(ChannelKind::Telegram, service).unwrap().as_slice(),
        [Inbound::Ignored { .. }]
    ));
    let location = br#"{"update_id":7,"message":{"message_id":2,"date":1,"chat":{"id":1,"type":"private"},
        "from":{"id":1,"is_bot":false,"first_name":"A"},"location":{"latitude":1.0,"longitude":2.0}}}"#;
    let message = only_message(parse(ChannelKind::Telegram, location).unwrap());
    assert_eq!(message.unsupported.as_deref(), Some("location"));
}

#[test]
fn telegram_malformed_updates() {
    assert!(is_shape_error(parse(
        ChannelKind::Telegram,
        br#"{"message":{"text":"hi"}}"#
    )));
    assert!(is_shape_error(parse(
        ChannelKind::Telegram,
        br#"{"update_id":"1"}"#
    )));
    assert!(is_shape_error(parse(
        ChannelKind::Telegram,
        br#"{"update_id":1,"message":{"from":{"id":"one"},"text":"hi"}}"#
    )));
    assert!(is_shape_error(parse(
        ChannelKind::Telegram,
        br#"{"update_id":1,"message":{"text":5}}"#
    )));
    assert!(is_shape_error(parse(ChannelKind::Telegram, br#"[1,2]"#)));
}

// ---- Generic --------------------------------------------------------------

#[test]
fn generic_message() {
    let message =
        only_message(parse(ChannelKind::Generic, sample!("generic-message.json")).unwrap());
    assert_eq!(
        message,
        InboundMessage {
            provider_message_id: "order-form-8f14e45f".into(),
            sender: Sender {
                id: "customer-1024".into(),
                name: Some("Grace Hopper".into()),
                email: Some("grace@example.com".into()),
                phone: Some("+15550001024".into()),
                handle: None,
            },
            text: "My invoice shows the wrong billing address.".into(),
            media_count: 0,
            unsupported: None,
            recipient: None,
            chat_id: None,
            sent_at: None,
        }
    );
}

#[test]
fn generic_is_strict() {
    let minimal = br#"{"message_id":"m","from":{"id":"c"},"text":"hi"}"#;
    assert!(parse(ChannelKind::Generic, minimal).is_ok());
    for bad in [
        r#"{"message_id":"m","from":{"id":"c"},"text":"hi","extra":1}"#,
        r#"{"message_id":"m","from":{"id":"c","nickname":"x"},"text":"hi"}"#,
        r#"{"from":{"id":"c"},"text":"hi"}"#,
        r#"{"message_id":"m","text":"hi"}"#,
        r#"{"message_id":"m","from":{},"text":"hi"}"#,
        r#"{"message_id":"m","from":{"id":"c"}}"#,
        r#"{"message_id":7,"from":{"id":"c"},"text":"hi"}"#,
        r#"{"message_id":"m","from":"c","text":"hi"}"#,
        r#"{"message_id":"m","from":{"id":"c"},"text":null}"#,
        r#"{"message_id":"  ","from":{"id":"c"},"text":"hi"}"#,
        r#"{"message_id":"m","from":{"id":""},"text":"hi"}"#,
        r#"[]"#,
    ] {
        assert!(
            is_shape_error(parse(ChannelKind::Generic, bad.as_bytes())),
            "{bad}"
        );
    }
    let long_id = format!(
        r#"{{"message_id":"{}","from":{{"id":"c"}},"text":"hi"}}"#,
        "m".repeat(257)
    );
    assert!(is_shape_error(parse(
        ChannelKind::Generic,
        long_id.as_bytes()
    )));
}

// ---- Every JSON parser ----------------------------------------------------

#[test]
fn json_parsers_reject_bad_json_and_non_utf8() {
    for kind in [
        ChannelKind::Whatsapp,
        ChannelKind::Telegram,
        ChannelKind::Generic,
    ] {
        for bad in [&b""[..], b"{", b"not json", b"{\"a\":1,}", b"null"] {
            let result = parse(kind, bad);
            assert!(
                matches!(
                    result,
                    Err(ParseError::InvalidJson(_) | ParseError::InvalidShape(_))
                ),
                "{kind:?} {bad:?}: {result:?}"
            );
        }
        assert_eq!(
            parse(kind, b"{\"text\":\"\xff\"}"),
            Err(ParseError::NotUtf8),
            "{kind:?}"
        );
        assert!(matches!(parse(kind, b"{"), Err(ParseError::InvalidJson(_))));
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    for kind in [
        ChannelKind::Whatsapp,
        ChannelKind::Telegram,
        ChannelKind::Generic,
    ] {
        assert!(parse(kind, deep.as_bytes()).is_err());
    }
    // Inside fields that are kept as untyped JSON (Telegram's other update kinds,
    // WhatsApp's change values) too.
    let nested = "[".repeat(100_000);
    let telegram = format!(r#"{{"update_id":1,"poll":{nested}"#);
    assert!(parse(ChannelKind::Telegram, telegram.as_bytes()).is_err());
    let whatsapp = format!(
        r#"{{"object":"whatsapp_business_account","entry":[{{"changes":[{{"field":"x","value":{nested}"#
    );
    assert!(parse(ChannelKind::Whatsapp, whatsapp.as_bytes()).is_err());
}

#[test]
fn channel_kinds_round_trip_through_their_path_names() {
    for kind in inbox_channels::KINDS {
        let name = inbox_channels::kind_name(kind);
        assert_eq!(inbox_channels::kind_from_path(name), Some(kind));
        // The same spelling as the domain's serde form, so stored kinds and URLs agree.
        assert_eq!(serde_json::to_value(kind).unwrap(), name);
    }
    assert_eq!(inbox_channels::kind_from_path("sms"), None);
    assert_eq!(inbox_channels::kind_from_path("Twilio"), None);
}
