//! Every verifier on arbitrary headers and bodies: errors are fine, panics are bugs.
//!
//! Input layout: the first line is the secret, each following line up to an empty
//! one is `header-index value`, the rest is the body.
#![no_main]

use http::{HeaderMap, HeaderName, HeaderValue};
use inbox_channels::verify::{
    GENERIC_SIGNATURE_HEADER, GENERIC_TIMESTAMP_HEADER, TELEGRAM_SECRET_HEADER,
    TWILIO_SIGNATURE_HEADER, WHATSAPP_SIGNATURE_HEADER,
};
use inbox_channels::{Delivery, KINDS, verify};
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 5] = [
    TWILIO_SIGNATURE_HEADER,
    WHATSAPP_SIGNATURE_HEADER,
    TELEGRAM_SECRET_HEADER,
    GENERIC_SIGNATURE_HEADER,
    GENERIC_TIMESTAMP_HEADER,
];

fuzz_target!(|data: &[u8]| {
    let mut lines = data.split(|&b| b == b'\n');
    let secret = String::from_utf8_lossy(lines.next().unwrap_or_default()).into_owned();
    let mut headers = HeaderMap::new();
    let mut consumed = secret.len() + 1;
    for line in lines.by_ref() {
        consumed += line.len() + 1;
        let Some((&index, value)) = line.split_first() else {
            break;
        };
        let name = NAMES[usize::from(index) % NAMES.len()];
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(value),
        ) {
            headers.append(name, value);
        }
    }
    let body = data.get(consumed.min(data.len())..).unwrap_or_default();
    let now = i64::from(data.len() as u32) * 1_000_003;
    let delivery = Delivery {
        headers: &headers,
        body,
        public_url: "https://inbox.example.com/webhooks/twilio/w/c",
        now,
    };
    for kind in KINDS {
        let _ = verify(kind, &secret, &delivery);
    }
});
