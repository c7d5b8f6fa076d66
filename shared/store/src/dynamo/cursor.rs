//! Opaque cursors: base64 of the key to continue after, bound to the query
//! that made it (a fingerprint), and for sharded indexes the shard.

use super::items::{Item, s};
use crate::port::StoreError;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Serialize, Deserialize)]
struct Wire {
    /// Query fingerprint.
    f: String,
    /// Shard, for sharded indexes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    s: Option<u32>,
    /// The exclusive start key (every key attribute is a string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    k: Option<BTreeMap<String, String>>,
}

/// Where a paged query continues.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Position {
    /// Shard to continue on (sharded indexes only).
    pub shard: Option<u32>,
    /// Key to continue after; `None` starts the shard from the beginning.
    pub key: Option<Item>,
}

/// The fingerprint of a query: a cursor only continues the query that made it.
pub(crate) fn fingerprint(parts: &[&str]) -> String {
    let joined = parts.join("\u{1f}");
    format!("{:016x}", super::table::keys::fnv1a(joined.as_bytes()))
}

/// Encodes a position of the query with fingerprint `f`.
pub(crate) fn encode(f: &str, position: &Position) -> Result<String, StoreError> {
    let key = match &position.key {
        None => None,
        Some(item) => {
            let mut out = BTreeMap::new();
            for (name, v) in item {
                match v {
                    AttributeValue::S(text) => {
                        out.insert(name.clone(), text.clone());
                    }
                    _ => {
                        return Err(StoreError::Corrupt(format!(
                            "key attribute {name} is not a string"
                        )));
                    }
                }
            }
            Some(out)
        }
    };
    let wire = Wire {
        f: f.to_string(),
        s: position.shard,
        k: key,
    };
    let json = serde_json::to_vec(&wire).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(json))
}

/// Decodes a cursor of the query with fingerprint `f`; any other text is `InvalidCursor`.
pub(crate) fn decode(f: &str, cursor: &str) -> Result<Position, StoreError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| StoreError::InvalidCursor)?;
    let wire: Wire = serde_json::from_slice(&bytes).map_err(|_| StoreError::InvalidCursor)?;
    if wire.f != f {
        return Err(StoreError::InvalidCursor);
    }
    Ok(Position {
        shard: wire.s,
        key: wire
            .k
            .map(|k| k.into_iter().map(|(name, v)| (name, s(v))).collect()),
    })
}

/// Decodes the optional cursor of a page request.
pub(crate) fn decode_opt(f: &str, cursor: Option<&str>) -> Result<Position, StoreError> {
    match cursor {
        None => Ok(Position::default()),
        Some(c) => decode(f, c),
    }
}

/// The key attributes `names` of `item`, to continue after it.
pub(crate) fn key_of(item: &Item, names: &[&str]) -> Item {
    names
        .iter()
        .filter_map(|n| item.get(*n).map(|v| (n.to_string(), v.clone())))
        .collect()
}
