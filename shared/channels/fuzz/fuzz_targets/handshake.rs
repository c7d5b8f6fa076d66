//! The WhatsApp handshake on arbitrary query strings: errors are fine, panics are bugs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(query) = std::str::from_utf8(data) {
        let _ = inbox_channels::whatsapp_handshake_query(query, Some("verify-me"));
    }
});
