//! Opaque cursors: the last item's sort key plus a fingerprint of the query.

use crate::port::StoreError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Serialize, Deserialize)]
struct Raw {
    /// Fingerprint of the query the cursor belongs to.
    q: String,
    /// The sort key of the last item returned.
    k: Vec<Value>,
}

/// FNV-1a: stable across builds and platforms (unlike the std hasher).
fn fingerprint(scope: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in scope {
        // A separator that cannot appear in ids keeps ("ab","c") apart from ("a","bc").
        for b in part.bytes().chain(std::iter::once(0xff)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// Makes the cursor that continues after `key` for the query named by `scope`.
pub(super) fn encode(scope: &[&str], key: Vec<Value>) -> String {
    let raw = Raw {
        q: fingerprint(scope),
        k: key,
    };
    // Serialising plain JSON values cannot fail.
    let json = serde_json::to_vec(&raw).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

/// The sort key in `cursor`, if it was made for the query named by `scope`.
pub(super) fn decode(scope: &[&str], cursor: &str) -> Result<Vec<Value>, StoreError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| StoreError::InvalidCursor)?;
    let raw: Raw = serde_json::from_slice(&bytes).map_err(|_| StoreError::InvalidCursor)?;
    if raw.q != fingerprint(scope) {
        return Err(StoreError::InvalidCursor);
    }
    Ok(raw.k)
}

/// The key's `i`-th part as an integer.
pub(super) fn int(key: &[Value], i: usize) -> Result<i64, StoreError> {
    key.get(i)
        .and_then(Value::as_i64)
        .ok_or(StoreError::InvalidCursor)
}

/// The key's `i`-th part as a string.
pub(super) fn text(key: &[Value], i: usize) -> Result<String, StoreError> {
    key.get(i)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or(StoreError::InvalidCursor)
}
