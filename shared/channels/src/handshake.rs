//! The WhatsApp Cloud (Meta) webhook subscription handshake.
//!
//! When a webhook URL is registered, Meta calls it with
//! `GET ?hub.mode=subscribe&hub.verify_token=<token>&hub.challenge=<n>` and
//! expects the challenge echoed back as the body if the token is ours.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{HandshakeError, form};

/// The longest challenge echoed back; Meta's are short integers.
const MAX_CHALLENGE_LEN: usize = 256;

/// Decides the handshake from already extracted query parameters: `Ok(challenge)` to echo
/// with 200 (as `text/plain`), or the reason to answer 403.
pub fn whatsapp_handshake(
    mode: Option<&str>,
    verify_token: Option<&str>,
    challenge: Option<&str>,
    configured_token: Option<&str>,
) -> Result<String, HandshakeError> {
    let configured = configured_token
        .filter(|token| !token.is_empty())
        .ok_or(HandshakeError::NoVerifyToken)?;
    let mode = mode.ok_or(HandshakeError::MissingParameter("hub.mode"))?;
    let given = verify_token.ok_or(HandshakeError::MissingParameter("hub.verify_token"))?;
    let challenge = challenge.ok_or(HandshakeError::MissingParameter("hub.challenge"))?;
    if mode != "subscribe" {
        return Err(HandshakeError::WrongMode);
    }
    // Hash both sides so the comparison's time reveals neither content nor length.
    let same = Sha256::digest(given.as_bytes())
        .as_slice()
        .ct_eq(Sha256::digest(configured.as_bytes()).as_slice());
    if !bool::from(same) {
        return Err(HandshakeError::TokenMismatch);
    }
    // The challenge is reflected into a response body: keep it to short, printable text.
    let acceptable = !challenge.is_empty()
        && challenge.len() <= MAX_CHALLENGE_LEN
        && !challenge.chars().any(char::is_control);
    if !acceptable {
        return Err(HandshakeError::BadChallenge);
    }
    Ok(challenge.to_owned())
}

/// Decides the handshake from a raw query string (`hub.mode=…&…`, without the `?`).
///
/// A parameter sent twice, or not UTF-8, counts as missing: there is no single
/// value to trust.
pub fn whatsapp_handshake_query(
    raw_query: &str,
    configured_token: Option<&str>,
) -> Result<String, HandshakeError> {
    let params = form::decode(raw_query.as_bytes());
    let only = |name: &str| -> Option<String> {
        let mut values = params
            .iter()
            .filter(|(key, _)| key.as_slice() == name.as_bytes());
        let first = values.next()?;
        if values.next().is_some() {
            return None;
        }
        String::from_utf8(first.1.clone()).ok()
    };
    whatsapp_handshake(
        only("hub.mode").as_deref(),
        only("hub.verify_token").as_deref(),
        only("hub.challenge").as_deref(),
        configured_token,
    )
}
