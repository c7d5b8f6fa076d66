//! The table's stream as the change feed (what the embedded store's
//! triggers keep): a timeline event or message inserted by a commit, and a
//! message rewritten by a sender step or a status report, read from the
//! record's new image. Every other item's records are not changes.

use super::error::corrupt;
use super::table::{ENTITY_ATTRIBUTE, PK, SK, keys};
use crate::port::StoreError;
use inbox_domain::webhooks::{StoredChange, StoredRecord};
use serde_dynamo::{AttributeValue, Item};

/// A stream record's `eventName`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    /// `INSERT`.
    Insert,
    /// `MODIFY`.
    Modify,
    /// `REMOVE` (TTL expiry, deletes): never a change.
    Remove,
}

impl RecordKind {
    /// The kind an `eventName` names, if any.
    pub fn parse(event_name: &str) -> Option<RecordKind> {
        match event_name {
            "INSERT" => Some(RecordKind::Insert),
            "MODIFY" => Some(RecordKind::Modify),
            "REMOVE" => Some(RecordKind::Remove),
            _ => None,
        }
    }
}

fn string<'a>(image: &'a Item, name: &str) -> Option<&'a str> {
    match image.get(name) {
        Some(AttributeValue::S(s)) => Some(s),
        _ => None,
    }
}

/// The change a stream record of this table reports, if it is one; an
/// error when it should be and does not read as one.
pub fn stored_change(
    kind: RecordKind,
    new_image: Item,
) -> Option<Result<StoredChange, StoreError>> {
    let entity = string(&new_image, ENTITY_ATTRIBUTE)?;
    let wanted = matches!(
        (entity, kind),
        ("timeline", RecordKind::Insert) | ("message", RecordKind::Insert | RecordKind::Modify)
    );
    if !wanted {
        return None;
    }
    let entity = entity.to_string();
    let Some((ws, conv)) = string(&new_image, PK).and_then(keys::parse_conversation_pk) else {
        return Some(Err(corrupt(
            "reading a stream record",
            "not a conversation's item",
        )));
    };
    let (workspace_id, conversation_id) = (ws.to_string(), conv.to_string());
    let Some(version) = string(&new_image, SK).and_then(keys::version_of_ordered_sk) else {
        return Some(Err(corrupt(
            "reading a stream record",
            "its sort key names no version",
        )));
    };
    let record = match (entity.as_str(), kind) {
        ("timeline", _) => serde_dynamo::from_item(new_image).map(StoredRecord::TimelineAdded),
        (_, RecordKind::Insert) => {
            serde_dynamo::from_item(new_image).map(StoredRecord::MessageAdded)
        }
        _ => serde_dynamo::from_item(new_image).map(StoredRecord::MessageRewritten),
    };
    Some(
        record
            .map(|record| StoredChange {
                workspace_id,
                conversation_id,
                version,
                record,
            })
            .map_err(|e| corrupt(&format!("reading a {entity} stream record"), e)),
    )
}
