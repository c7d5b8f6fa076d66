//! Property tests: no input, however hostile, makes a verifier or a parser panic.
//!
//! Bounded to 2,000 cases per property so they run in CI on every change; the
//! `fuzz/` targets explore the same entry points without a bound.

use http::{HeaderMap, HeaderName, HeaderValue};
use inbox_channels::verify::{
    GENERIC_SIGNATURE_HEADER, GENERIC_TIMESTAMP_HEADER, TELEGRAM_SECRET_HEADER,
    TWILIO_SIGNATURE_HEADER, WHATSAPP_SIGNATURE_HEADER,
};
use inbox_channels::{ChannelKind, Delivery, Inbound, parse, verify, whatsapp_handshake_query};
use proptest::prelude::*;

const HEADER_NAMES: [&str; 5] = [
    TWILIO_SIGNATURE_HEADER,
    WHATSAPP_SIGNATURE_HEADER,
    TELEGRAM_SECRET_HEADER,
    GENERIC_SIGNATURE_HEADER,
    GENERIC_TIMESTAMP_HEADER,
];

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 2_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Any header value HTTP can carry (visible ASCII, spaces, tabs and obs-text bytes).
fn header_value() -> impl Strategy<Value = HeaderValue> {
    let plausible = prop_oneof![
        "sha256=[0-9a-fA-F]{0,70}",
        "[A-Za-z0-9+/=]{0,40}",
        "-?[0-9]{0,22}",
        ".{0,40}",
    ]
    .prop_filter_map("not a header value", |text: String| {
        HeaderValue::from_str(&text).ok()
    });
    let raw = proptest::collection::vec(any::<u8>(), 0..80)
        .prop_filter_map("not a header value", |bytes| {
            HeaderValue::from_bytes(&bytes).ok()
        });
    prop_oneof![plausible, raw]
}

/// A header map holding any subset of the security headers, some repeated, under any case.
fn header_map() -> impl Strategy<Value = HeaderMap> {
    proptest::collection::vec((0..HEADER_NAMES.len(), any::<bool>(), header_value()), 0..7)
        .prop_map(|entries| {
            let mut map = HeaderMap::new();
            for (index, upper, value) in entries {
                let name = HEADER_NAMES.get(index).copied().unwrap_or("x-other");
                let name = if upper {
                    name.to_ascii_uppercase()
                } else {
                    name.to_owned()
                };
                if let Ok(name) = HeaderName::from_bytes(name.as_bytes()) {
                    map.append(name, value);
                }
            }
            map
        })
}

/// Bytes that are sometimes close to a real payload, so parsers get past their first checks.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let json_ish = prop_oneof![
        Just(r#"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":"#.to_owned()),
        Just(r#"{"update_id":1,"message":"#.to_owned()),
        Just(r#"{"message_id":"m","from":"#.to_owned()),
    ];
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        "[a-zA-Z%+=&0-9]{0,200}".prop_map(String::into_bytes),
        (json_ish, "[\\[\\]{}\":,a-z0-9 .-]{0,200}")
            .prop_map(|(head, tail)| (head + &tail).into_bytes()),
        any::<serde_json_value::Arbitrary>().prop_map(|v| v.0.into_bytes()),
    ]
}

mod serde_json_value {
    //! Random JSON documents made of the keys the parsers look for.
    use proptest::prelude::*;

    /// A JSON document as text.
    #[derive(Debug, Clone)]
    pub struct Arbitrary(pub String);

    const KEYS: [&str; 20] = [
        "object",
        "entry",
        "changes",
        "field",
        "value",
        "messages",
        "statuses",
        "contacts",
        "id",
        "from",
        "type",
        "text",
        "body",
        "timestamp",
        "update_id",
        "message",
        "chat",
        "photo",
        "message_id",
        "status",
    ];

    impl proptest::arbitrary::Arbitrary for Arbitrary {
        type Parameters = ();
        type Strategy = BoxedStrategy<Self>;

        fn arbitrary_with((): ()) -> Self::Strategy {
            let leaf = prop_oneof![
                Just(serde_json::Value::Null),
                any::<bool>().prop_map(serde_json::Value::from),
                any::<i64>().prop_map(serde_json::Value::from),
                any::<f64>().prop_map(serde_json::Value::from),
                prop_oneof![
                    Just("messages".to_owned()),
                    Just("whatsapp_business_account".to_owned()),
                    ".{0,12}".prop_map(|s| s)
                ]
                .prop_map(serde_json::Value::from),
            ];
            leaf.prop_recursive(5, 64, 6, |inner| {
                prop_oneof![
                    proptest::collection::vec(inner.clone(), 0..4)
                        .prop_map(serde_json::Value::from),
                    proptest::collection::vec((0..KEYS.len(), inner), 0..6).prop_map(|pairs| {
                        serde_json::Value::Object(
                            pairs
                                .into_iter()
                                .map(|(k, v)| (KEYS.get(k).copied().unwrap_or("k").to_owned(), v))
                                .collect(),
                        )
                    }),
                ]
            })
            .prop_map(|value| Arbitrary(value.to_string()))
            .boxed()
        }
    }
}

fn kind() -> impl Strategy<Value = ChannelKind> {
    prop::sample::select(inbox_channels::KINDS.to_vec())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn verifiers_never_panic(
        kind in kind(),
        secret in ".{0,24}",
        headers in header_map(),
        body in body(),
        url in prop_oneof![Just("https://inbox.example.com/webhooks/twilio/w/c".to_owned()), ".{0,60}"],
        now in any::<i64>(),
    ) {
        let delivery = Delivery { headers: &headers, body: &body, public_url: &url, now };
        let _ = verify(kind, &secret, &delivery);
    }

    #[test]
    fn parsers_never_panic(kind in kind(), body in body()) {
        if let Ok(items) = parse(kind, &body) {
            for item in items {
                if let Inbound::Message(message) = item {
                    prop_assert!(!message.provider_message_id.trim().is_empty());
                    prop_assert!(!message.sender.id.trim().is_empty());
                }
            }
        }
    }

    #[test]
    fn handshake_never_panics(query in ".{0,120}", token in proptest::option::of(".{0,12}")) {
        let _ = whatsapp_handshake_query(&query, token.as_deref());
    }

    #[test]
    fn a_signed_generic_delivery_always_verifies(
        secret in ".{1,24}",
        body in proptest::collection::vec(any::<u8>(), 0..256),
        now in 0_i64..4_000_000_000,
        skew in -300_i64..=300,
    ) {
        let timestamp = now + skew;
        let mut headers = HeaderMap::new();
        let signature = inbox_channels::verify::generic_signature(&secret, timestamp, &body);
        headers.insert(GENERIC_SIGNATURE_HEADER, HeaderValue::from_str(&signature).unwrap());
        headers.insert(GENERIC_TIMESTAMP_HEADER, HeaderValue::from(timestamp));
        let delivery = Delivery { headers: &headers, body: &body, public_url: "", now };
        prop_assert_eq!(verify(ChannelKind::Generic, &secret, &delivery), Ok(()));
    }

    #[test]
    fn a_signed_twilio_form_always_verifies(
        secret in ".{1,24}",
        pairs in proptest::collection::vec(("[A-Za-z]{1,8}", ".{0,16}"), 0..8),
    ) {
        let body = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let url = "https://inbox.example.com/webhooks/twilio/w/c?x=1";
        let signature = inbox_channels::verify::twilio_signature(&secret, url, body.as_bytes());
        let mut headers = HeaderMap::new();
        headers.insert(TWILIO_SIGNATURE_HEADER, HeaderValue::from_str(&signature).unwrap());
        let delivery = Delivery { headers: &headers, body: body.as_bytes(), public_url: url, now: 0 };
        prop_assert_eq!(verify(ChannelKind::Twilio, &secret, &delivery), Ok(()));
    }
}

/// Percent-encodes every byte outside `[A-Za-z0-9]`, as a form encoder may.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
