//! Items: domain values serialized with `serde_dynamo`, plus their keys and
//! the sparse index attributes a conversation carries.

use super::error::corrupt;
use super::table::{
    self, ACTIVITY_SK, BY_ACTIVITY, BY_ASSIGNEE, BY_CONTACT, BY_LEAD, BY_PENDING, BY_QUEUE,
    BY_STATE, ENTITY_ATTRIBUTE, PK, SK, TIMERS, keys,
};
use crate::port::StoreError;
use aws_sdk_dynamodb::types::AttributeValue;
use inbox_domain::model::{AiAgent, Conversation, Member, Status};
use keys::ViewPartition;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A DynamoDB item.
pub type Item = HashMap<String, AttributeValue>;

/// The largest item DynamoDB stores.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;
/// The most items in one transaction.
pub const MAX_TRANSACTION_ITEMS: usize = crate::port::MAX_COMMIT_ITEMS;
/// The largest transaction.
pub const MAX_TRANSACTION_BYTES: usize = 4 * 1024 * 1024;

/// A string attribute.
pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// `value` as an item with its keys and entity name.
pub(crate) fn to_item<T: Serialize>(
    value: &T,
    pk: String,
    sk: String,
    entity: &str,
) -> Result<Item, StoreError> {
    let mut item: Item =
        serde_dynamo::to_item(value).map_err(|e| corrupt("serializing an item", e))?;
    item.insert(PK.into(), s(pk));
    item.insert(SK.into(), s(sk));
    item.insert(ENTITY_ATTRIBUTE.into(), s(entity));
    Ok(item)
}

/// An item read back as `T` (keys and index attributes are ignored).
pub(crate) fn from_item<T: for<'de> Deserialize<'de>>(item: Item) -> Result<T, StoreError> {
    let what = match item.get(ENTITY_ATTRIBUTE) {
        Some(AttributeValue::S(e)) => format!("reading a {e} item"),
        _ => "reading an item".to_string(),
    };
    serde_dynamo::from_item(item).map_err(|e| corrupt(&what, e))
}

/// A string attribute of an item.
pub(crate) fn get_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Some(v),
        _ => None,
    }
}

/// The primary key of an item at `pk`/`sk`.
pub(crate) fn key(pk: String, sk: &str) -> Item {
    HashMap::from([(PK.to_string(), s(pk)), (SK.to_string(), s(sk))])
}

/// A member or AI agent: one item per id, so an id is never both.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum PersonRecord {
    /// A member.
    Member(Member),
    /// An AI agent.
    Agent(AiAgent),
}

/// Attribute values of the sparse index keys of `conv`; `None` means absent
/// (the item is not in that index).
pub(crate) fn index_attributes(conv: &Conversation) -> Vec<(&'static str, Option<String>)> {
    let ws = conv.workspace_id.as_str();
    let open = conv.status != Status::Closed;
    let assignee = conv.assignee_id();
    let armed = conv.auto_close.as_ref().filter(|_| open);
    vec![
        (
            ACTIVITY_SK,
            Some(keys::time_sk(conv.last_activity_at, &conv.id)),
        ),
        (BY_ACTIVITY.pk, Some(keys::view_pk(ws, ViewPartition::All))),
        (
            BY_STATE.pk,
            Some(keys::view_pk(
                ws,
                if open {
                    ViewPartition::Open
                } else {
                    ViewPartition::Closed
                },
            )),
        ),
        (
            BY_ASSIGNEE.pk,
            assignee.map(|m| keys::view_pk(ws, ViewPartition::Assignee(m))),
        ),
        (
            BY_QUEUE.pk,
            open.then(|| match assignee {
                Some(m) => keys::view_pk(ws, ViewPartition::Mine(m)),
                None => keys::view_pk(ws, ViewPartition::Unassigned),
            }),
        ),
        (
            BY_PENDING.pk,
            (open && conv.human_handoff).then(|| keys::view_pk(ws, ViewPartition::PendingHuman)),
        ),
        (
            BY_LEAD.pk,
            conv.contact
                .has_lead
                .then(|| keys::view_pk(ws, ViewPartition::HasLead)),
        ),
        (
            BY_CONTACT.pk,
            Some(keys::contact_conversations_pk(ws, &conv.contact.id)),
        ),
        (
            BY_CONTACT.sk,
            Some(keys::time_sk(conv.created_at, &conv.id)),
        ),
        (
            TIMERS.pk,
            armed.map(|_| keys::timer_pk(keys::shard_of(&conv.id, table::TIMER_SHARDS))),
        ),
        (
            TIMERS.sk,
            armed.map(|t| keys::timer_sk(t.due_at, ws, &conv.id)),
        ),
    ]
}

/// The whole conversation item: state, keys and the index attributes it has now
/// (what `commit` writes; also for bulk loads and backfills).
pub fn conversation_item(conv: &Conversation) -> Result<Item, StoreError> {
    let mut item = to_item(
        conv,
        keys::conversation_pk(&conv.workspace_id, &conv.id),
        keys::CONVERSATION_SK.to_string(),
        "conversation",
    )?;
    for (name, value) in index_attributes(conv) {
        if let Some(v) = value {
            item.insert(name.to_string(), s(v));
        }
    }
    Ok(item)
}

/// DynamoDB's item size (attribute names plus values), closely enough to
/// refuse writes over the limits before sending them.
pub(crate) fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

fn value_size(v: &AttributeValue) -> usize {
    match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => n.len().div_ceil(2) + 1,
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::L(l) => 3 + l.iter().map(|e| 1 + value_size(e)).sum::<usize>(),
        AttributeValue::M(m) => {
            3 + m
                .iter()
                .map(|(k, e)| 1 + k.len() + value_size(e))
                .sum::<usize>()
        }
        AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
        AttributeValue::Ns(v) => v.iter().map(|n| n.len().div_ceil(2) + 1).sum(),
        AttributeValue::Bs(v) => v.iter().map(|b| b.as_ref().len()).sum(),
        _ => 0,
    }
}

/// Refuses an item over the item size limit.
pub(crate) fn check_item_size(item: &Item) -> Result<usize, StoreError> {
    let size = item_size(item);
    if size > MAX_ITEM_BYTES {
        let what = get_s(item, ENTITY_ATTRIBUTE).unwrap_or("item");
        return Err(StoreError::TooLarge(format!(
            "a {what} item of {size} bytes exceeds DynamoDB's {MAX_ITEM_BYTES}-byte item limit"
        )));
    }
    Ok(size)
}
