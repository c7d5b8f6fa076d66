//! Signature verification against independently computed vectors.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderName, HeaderValue};
use inbox_channels::verify::{
    generic_signature, twilio_signature, verify_generic, verify_telegram, verify_twilio,
    verify_whatsapp, whatsapp_signature,
};
use inbox_channels::{ChannelKind, Delivery, VerifyError, WebhookError};
use sha1::Sha1;
use sha2::Sha256;

const TWILIO_DOC_URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
const TWILIO_DOC_BODY: &[u8] =
    b"CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234&From=%2B12349013030&To=%2B18005551212";
/// The value published in Twilio's "Validating requests" documentation for the example above.
const TWILIO_DOC_SIGNATURE: &str = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

/// HMAC-SHA256 as hex, written out here rather than taken from the crate.
fn hmac256_hex(key: &str, message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

fn missing(name: &'static str) -> VerifyError {
    VerifyError::MissingHeader(name)
}

fn is_malformed(result: Result<(), VerifyError>) -> bool {
    matches!(result, Err(VerifyError::MalformedHeader { .. }))
}

// ---- Twilio ---------------------------------------------------------------

#[test]
fn twilio_documentation_vector() {
    assert_eq!(
        twilio_signature("12345", TWILIO_DOC_URL, TWILIO_DOC_BODY),
        TWILIO_DOC_SIGNATURE
    );
    let h = headers(&[("X-Twilio-Signature", TWILIO_DOC_SIGNATURE)]);
    assert_eq!(
        verify_twilio("12345", TWILIO_DOC_URL, &h, TWILIO_DOC_BODY),
        Ok(())
    );
}

#[test]
fn twilio_vector_matches_a_hand_built_string() {
    // Same algorithm spelled out: URL, then name+value sorted by name, HMAC-SHA1, base64.
    let signed = "https://mycompany.com/myapp.php?foo=1&bar=2\
                  CallSidCA1234567890ABCDECaller+12349013030Digits1234From+12349013030To+18005551212";
    let mut mac = Hmac::<Sha1>::new_from_slice(b"12345").unwrap();
    mac.update(signed.as_bytes());
    assert_eq!(
        BASE64.encode(mac.finalize().into_bytes()),
        TWILIO_DOC_SIGNATURE
    );
}

#[test]
fn twilio_parameter_order_in_the_body_does_not_matter() {
    let shuffled = b"To=%2B18005551212&Digits=1234&From=%2B12349013030&CallSid=CA1234567890ABCDE&Caller=%2B12349013030";
    let h = headers(&[("x-twilio-signature", TWILIO_DOC_SIGNATURE)]);
    assert_eq!(verify_twilio("12345", TWILIO_DOC_URL, &h, shuffled), Ok(()));
}

#[test]
fn twilio_rejects_wrong_secret_url_and_changed_body() {
    let h = headers(&[("X-Twilio-Signature", TWILIO_DOC_SIGNATURE)]);
    assert_eq!(
        verify_twilio("12346", TWILIO_DOC_URL, &h, TWILIO_DOC_BODY),
        Err(VerifyError::Mismatch)
    );
    assert_eq!(
        verify_twilio(
            "12345",
            "https://mycompany.com/myapp.php?foo=1&bar=3",
            &h,
            TWILIO_DOC_BODY
        ),
        Err(VerifyError::Mismatch)
    );
    let mut body = TWILIO_DOC_BODY.to_vec();
    let last = body.len() - 1;
    body[last] = b'3';
    assert_eq!(
        verify_twilio("12345", TWILIO_DOC_URL, &h, &body),
        Err(VerifyError::Mismatch)
    );
}

#[test]
fn twilio_missing_and_malformed_headers() {
    assert_eq!(
        verify_twilio("12345", TWILIO_DOC_URL, &HeaderMap::new(), TWILIO_DOC_BODY),
        Err(missing("x-twilio-signature"))
    );
    for bad in ["not base64!", "AAAA", "", "0/KCTR6DLpKmkAf8muzZqo1nDgQ"] {
        let h = headers(&[("X-Twilio-Signature", bad)]);
        assert!(
            is_malformed(verify_twilio("12345", TWILIO_DOC_URL, &h, TWILIO_DOC_BODY)),
            "{bad}"
        );
    }
    let twice = headers(&[
        ("X-Twilio-Signature", TWILIO_DOC_SIGNATURE),
        ("x-twilio-signature", TWILIO_DOC_SIGNATURE),
    ]);
    assert!(is_malformed(verify_twilio(
        "12345",
        TWILIO_DOC_URL,
        &twice,
        TWILIO_DOC_BODY
    )));
}

#[test]
fn twilio_accepts_the_url_signed_with_or_without_the_default_port() {
    let body = b"From=%2B15551234567&Body=hi";
    let with_port = twilio_signature(
        "tok",
        "https://inbox.example.com:443/webhooks/twilio/ws/ch",
        body,
    );
    let h = headers(&[("X-Twilio-Signature", &with_port)]);
    assert_eq!(
        verify_twilio(
            "tok",
            "https://inbox.example.com/webhooks/twilio/ws/ch",
            &h,
            body
        ),
        Ok(())
    );
}

#[test]
fn twilio_repeated_names_sign_distinct_sorted_values() {
    // Twilio's helper libraries: for a repeated name, its distinct values in sorted order.
    let body = b"b=2&a=z&a=y&a=z";
    let mut mac = Hmac::<Sha1>::new_from_slice(b"tok").unwrap();
    mac.update(b"https://x.test/hookayazb2");
    let expected = BASE64.encode(mac.finalize().into_bytes());
    let h = headers(&[("X-Twilio-Signature", &expected)]);
    assert_eq!(
        verify_twilio("tok", "https://x.test/hook", &h, body),
        Ok(())
    );
}

#[test]
fn twilio_decodes_form_escapes_before_signing() {
    let body = b"Body=caf%C3%A9+%26+cr%C3%A8me&From=whatsapp%3A%2B1555";
    let mut mac = Hmac::<Sha1>::new_from_slice(b"tok").unwrap();
    mac.update("https://x.test/hookBodycafé & crèmeFromwhatsapp:+1555".as_bytes());
    let expected = BASE64.encode(mac.finalize().into_bytes());
    let h = headers(&[("X-Twilio-Signature", &expected)]);
    assert_eq!(
        verify_twilio("tok", "https://x.test/hook", &h, body),
        Ok(())
    );
}

// ---- WhatsApp -------------------------------------------------------------

const WA_BODY: &[u8] = include_bytes!("../../../events/channels/whatsapp-text-message.json");

#[test]
fn whatsapp_accepts_an_independently_computed_signature() {
    let header = format!("sha256={}", hmac256_hex("app-secret", WA_BODY));
    assert_eq!(whatsapp_signature("app-secret", WA_BODY), header);
    let h = headers(&[("X-Hub-Signature-256", &header)]);
    assert_eq!(verify_whatsapp("app-secret", &h, WA_BODY), Ok(()));
    // Upper-case hex digits are the same digest.
    let upper = format!(
        "sha256={}",
        hmac256_hex("app-secret", WA_BODY).to_uppercase()
    );
    let h = headers(&[("x-hub-signature-256", &upper)]);
    assert_eq!(verify_whatsapp("app-secret", &h, WA_BODY), Ok(()));
}

#[test]
fn whatsapp_rejects_wrong_secret_and_changed_byte() {
    let header = format!("sha256={}", hmac256_hex("app-secret", WA_BODY));
    let h = headers(&[("X-Hub-Signature-256", &header)]);
    assert_eq!(
        verify_whatsapp("app-secreT", &h, WA_BODY),
        Err(VerifyError::Mismatch)
    );
    let mut body = WA_BODY.to_vec();
    body[10] ^= 0x01;
    assert_eq!(
        verify_whatsapp("app-secret", &h, &body),
        Err(VerifyError::Mismatch)
    );
}

#[test]
fn whatsapp_missing_and_malformed_headers() {
    assert_eq!(
        verify_whatsapp("s", &HeaderMap::new(), WA_BODY),
        Err(missing("x-hub-signature-256"))
    );
    let digest = hmac256_hex("s", WA_BODY);
    for bad in [
        digest.clone(),                       // no prefix
        format!("sha1={digest}"),             // wrong algorithm
        format!("sha256={}", &digest[..62]),  // too short
        format!("sha256={digest}00"),         // too long
        format!("sha256=zz{}", &digest[2..]), // not hex
    ] {
        let h = headers(&[("X-Hub-Signature-256", &bad)]);
        assert!(is_malformed(verify_whatsapp("s", &h, WA_BODY)), "{bad}");
    }
}

// ---- Telegram -------------------------------------------------------------

#[test]
fn telegram_compares_the_secret_token() {
    let h = headers(&[("X-Telegram-Bot-Api-Secret-Token", "s3cr3t_Token-1")]);
    assert_eq!(verify_telegram("s3cr3t_Token-1", &h), Ok(()));
    let h = headers(&[("x-telegram-bot-api-secret-token", "s3cr3t_Token-1")]);
    assert_eq!(verify_telegram("s3cr3t_Token-1", &h), Ok(()));
    assert_eq!(
        verify_telegram("s3cr3t_Token-2", &h),
        Err(VerifyError::Mismatch)
    );
    assert_eq!(
        verify_telegram("s3cr3t_Token-", &h),
        Err(VerifyError::Mismatch)
    );
    assert_eq!(
        verify_telegram("s3cr3t_Token-1", &HeaderMap::new()),
        Err(missing("x-telegram-bot-api-secret-token"))
    );
    let mut non_ascii = HeaderMap::new();
    non_ascii.insert(
        "x-telegram-bot-api-secret-token",
        HeaderValue::from_bytes(b"caf\xe9").unwrap(),
    );
    assert!(is_malformed(verify_telegram("s", &non_ascii)));
}

#[test]
fn an_empty_secret_authenticates_nothing() {
    let h = headers(&[("X-Telegram-Bot-Api-Secret-Token", "")]);
    assert_eq!(verify_telegram("", &h), Err(VerifyError::NoSecret));
    let h = headers(&[("X-Hub-Signature-256", &whatsapp_signature("", WA_BODY))]);
    assert_eq!(verify_whatsapp("", &h, WA_BODY), Err(VerifyError::NoSecret));
}

// ---- Generic --------------------------------------------------------------

const GENERIC_BODY: &[u8] = include_bytes!("../../../events/channels/generic-message.json");
const NOW: i64 = 1_790_000_000;

fn generic_headers(secret: &str, timestamp: i64, body: &[u8]) -> HeaderMap {
    let mut signed = format!("{timestamp}.").into_bytes();
    signed.extend_from_slice(body);
    let signature = format!("sha256={}", hmac256_hex(secret, &signed));
    headers(&[
        ("X-Inbox-Signature", &signature),
        ("X-Inbox-Timestamp", &timestamp.to_string()),
    ])
}

#[test]
fn generic_accepts_an_independently_computed_signature() {
    let h = generic_headers("gen-secret", NOW, GENERIC_BODY);
    assert_eq!(verify_generic("gen-secret", &h, GENERIC_BODY, NOW), Ok(()));
    assert_eq!(
        generic_signature("gen-secret", NOW, GENERIC_BODY),
        h["x-inbox-signature"].to_str().unwrap()
    );
}

#[test]
fn generic_rejects_wrong_secret_changed_byte_and_changed_timestamp() {
    let h = generic_headers("gen-secret", NOW, GENERIC_BODY);
    assert_eq!(
        verify_generic("gen-secreT", &h, GENERIC_BODY, NOW),
        Err(VerifyError::Mismatch)
    );
    let mut body = GENERIC_BODY.to_vec();
    body[20] ^= 0x20;
    assert_eq!(
        verify_generic("gen-secret", &h, &body, NOW),
        Err(VerifyError::Mismatch)
    );
    // The timestamp is signed: moving it breaks the signature.
    let mut moved = h.clone();
    moved.insert("x-inbox-timestamp", HeaderValue::from(NOW + 1));
    assert_eq!(
        verify_generic("gen-secret", &moved, GENERIC_BODY, NOW),
        Err(VerifyError::Mismatch)
    );
}

#[test]
fn generic_timestamp_window_is_300_seconds_either_way() {
    for offset in [-300_i64, -1, 0, 1, 300] {
        let h = generic_headers("s", NOW + offset, GENERIC_BODY);
        assert_eq!(
            verify_generic("s", &h, GENERIC_BODY, NOW),
            Ok(()),
            "offset {offset}"
        );
    }
    for offset in [-301_i64, 301, -86_400, 86_400] {
        let h = generic_headers("s", NOW + offset, GENERIC_BODY);
        assert_eq!(
            verify_generic("s", &h, GENERIC_BODY, NOW),
            Err(VerifyError::StaleTimestamp {
                timestamp: NOW + offset,
                now: NOW,
                tolerance: 300
            }),
            "offset {offset}"
        );
    }
}

#[test]
fn generic_missing_and_malformed_headers() {
    let good = generic_headers("s", NOW, GENERIC_BODY);
    let mut no_signature = good.clone();
    no_signature.remove("x-inbox-signature");
    assert_eq!(
        verify_generic("s", &no_signature, GENERIC_BODY, NOW),
        Err(missing("x-inbox-signature"))
    );
    let mut no_timestamp = good.clone();
    no_timestamp.remove("x-inbox-timestamp");
    assert_eq!(
        verify_generic("s", &no_timestamp, GENERIC_BODY, NOW),
        Err(missing("x-inbox-timestamp"))
    );
    for stamp in [
        "",
        "-1",
        "+1790000000",
        "1790000000.5",
        "17900e5",
        "99999999999999999999",
        "now",
    ] {
        let mut h = good.clone();
        h.insert("x-inbox-timestamp", HeaderValue::from_str(stamp).unwrap());
        assert!(
            is_malformed(verify_generic("s", &h, GENERIC_BODY, NOW)),
            "{stamp:?}"
        );
    }
    let mut bad_signature = good.clone();
    bad_signature.insert("x-inbox-signature", HeaderValue::from_static("sha256=abc"));
    assert!(is_malformed(verify_generic(
        "s",
        &bad_signature,
        GENERIC_BODY,
        NOW
    )));
}

// ---- Dispatch -------------------------------------------------------------

#[test]
fn verify_and_parse_keeps_the_two_error_families_apart() {
    let body = br#"{"message_id": "m1", "from": {"id": "c1"}}"#;
    let h = generic_headers("s", NOW, body);
    let delivery = Delivery {
        headers: &h,
        body,
        public_url: "https://unused.example",
        now: NOW,
    };
    let err = inbox_channels::verify_and_parse(ChannelKind::Generic, "s", &delivery).unwrap_err();
    assert!(matches!(err, WebhookError::Parse(_)));
    assert_eq!((err.status(), err.code()), (400, "bad_request"));

    let err =
        inbox_channels::verify_and_parse(ChannelKind::Generic, "other", &delivery).unwrap_err();
    assert_eq!(err, WebhookError::Verify(VerifyError::Mismatch));
    assert_eq!((err.status(), err.code()), (401, "invalid_signature"));
}

#[test]
fn verify_dispatches_every_kind() {
    let twilio = headers(&[("X-Twilio-Signature", TWILIO_DOC_SIGNATURE)]);
    let delivery = Delivery {
        headers: &twilio,
        body: TWILIO_DOC_BODY,
        public_url: TWILIO_DOC_URL,
        now: NOW,
    };
    assert_eq!(
        inbox_channels::verify(ChannelKind::Twilio, "12345", &delivery),
        Ok(())
    );
    // Each other scheme finds its own header missing in a Twilio request.
    for kind in [
        ChannelKind::Whatsapp,
        ChannelKind::Telegram,
        ChannelKind::Generic,
    ] {
        assert!(matches!(
            inbox_channels::verify(kind, "12345", &delivery),
            Err(VerifyError::MissingHeader(_))
        ));
    }
}
