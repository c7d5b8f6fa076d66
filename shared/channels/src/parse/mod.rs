//! Turning a verified body into [`Inbound`](crate::Inbound) items, one module per provider.
//!
//! Parsers never panic: they read input only through `serde`, `Option` and
//! `get`, never by indexing or unwrapping. Provider payloads tolerate unknown
//! fields (providers add fields without notice); the generic format, which is
//! ours, rejects them.

pub mod generic;
pub mod telegram;
pub mod twilio;
pub mod whatsapp;

use crate::ParseError;

/// Parses a JSON body, sorting failures into the crate's error kinds.
pub(crate) fn json<'a, T: serde::Deserialize<'a>>(body: &'a [u8]) -> Result<T, ParseError> {
    // Checked first so that non-UTF-8 input gets its own, clearer error.
    std::str::from_utf8(body).map_err(|_| ParseError::NotUtf8)?;
    serde_json::from_slice(body).map_err(|err| ParseError::from_json(&err))
}

/// Parses Unix seconds that a provider sends as a decimal string.
pub(crate) fn unix_seconds_text(text: &str, field: &'static str) -> Result<i64, ParseError> {
    text.parse::<i64>().map_err(|_| ParseError::InvalidField {
        field,
        reason: "not Unix seconds",
    })
}

/// The longest provider id accepted: real ones are well under 128 bytes, and ids
/// end up in store keys, which have size limits.
pub(crate) const MAX_ID_LEN: usize = 256;

/// Requires a usable identifier: non-blank (it could not deduplicate or find a
/// contact) and at most [`MAX_ID_LEN`] bytes.
pub(crate) fn check_id(value: &str, field: &'static str) -> Result<(), ParseError> {
    if value.trim().is_empty() {
        return Err(ParseError::InvalidField {
            field,
            reason: "empty",
        });
    }
    if value.len() > MAX_ID_LEN {
        return Err(ParseError::InvalidField {
            field,
            reason: "longer than 256 bytes",
        });
    }
    Ok(())
}

/// `Some` only for a value with visible content, so blank optional fields read as absent.
pub(crate) fn present(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

/// A phone number in E.164 form from digits a provider sends without the `+`.
pub(crate) fn e164_from_digits(digits: &str) -> Option<String> {
    let plausible = (6..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
    plausible.then(|| format!("+{digits}"))
}
