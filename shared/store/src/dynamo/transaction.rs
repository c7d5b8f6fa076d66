//! The one-transaction commit: a `TransactWriteItems` assembled from a
//! `Commit` within DynamoDB's limits.

use super::error::{self, corrupt};
use super::items::{
    Item, MAX_TRANSACTION_BYTES, MAX_TRANSACTION_ITEMS, PersonRecord, check_item_size,
    conversation_item, index_attributes, s, to_item,
};
use super::table::{self, OUTBOX, PK, SK, TTL_ATTRIBUTE, keys};
use super::{DynamoStore, OutboxMode, STREAM_OUTBOX_TTL_SECONDS};
use crate::port::{Commit, StoreError};
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use inbox_domain::model::{Conversation, Delivery, Message, MessageAt, SenderKind};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// How long a job's record stays readable after it last moved (30 days).
const JOB_TTL_SECONDS: i64 = 30 * 24 * 3600;

/// A transaction being assembled, with the limits checked as it grows.
#[derive(Default)]
pub(super) struct Transaction {
    items: Vec<TransactWriteItem>,
    bytes: usize,
    guards: TxGuards,
}

/// Which items' failed conditions mean something other than a version conflict.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct TxGuards {
    /// The dedupe item: the delivery was stored before.
    pub(super) dedupe: Option<usize>,
    /// A message's delivery update: its state moved since it was read.
    pub(super) delivery: Option<usize>,
}

impl Transaction {
    pub(super) fn push(&mut self, item: TransactWriteItem, size: usize) -> Result<(), StoreError> {
        self.items.push(item);
        self.bytes += size;
        if self.items.len() > MAX_TRANSACTION_ITEMS {
            return Err(StoreError::TooLarge(format!(
                "a commit of more than {MAX_TRANSACTION_ITEMS} items exceeds DynamoDB's transaction limit"
            )));
        }
        if self.bytes > MAX_TRANSACTION_BYTES {
            return Err(StoreError::TooLarge(format!(
                "a commit of {} bytes exceeds DynamoDB's {MAX_TRANSACTION_BYTES}-byte transaction limit",
                self.bytes
            )));
        }
        Ok(())
    }

    /// A put that holds only if no item has this key.
    pub(super) fn put_new(&mut self, table: &str, item: Item) -> Result<(), StoreError> {
        self.put(table, item, Some("attribute_not_exists(pk)"), None)
    }

    /// A put, with an optional condition.
    pub(super) fn put(
        &mut self,
        table: &str,
        item: Item,
        condition: Option<&str>,
        values: Option<HashMap<String, AttributeValue>>,
    ) -> Result<(), StoreError> {
        let size = check_item_size(&item)?;
        let put = Put::builder()
            .table_name(table)
            .set_item(Some(item))
            .set_condition_expression(condition.map(str::to_string))
            .set_expression_attribute_values(values)
            .build()
            .map_err(|e| corrupt("building a put", e))?;
        self.push(TransactWriteItem::builder().put(put).build(), size)
    }

    /// A put that holds only if the stored item's `version` is still `expected`.
    pub(super) fn put_if_version(
        &mut self,
        table: &str,
        item: Item,
        expected: u64,
    ) -> Result<(), StoreError> {
        let size = check_item_size(&item)?;
        let put = Put::builder()
            .table_name(table)
            .set_item(Some(item))
            .condition_expression("#ver = :expected")
            .expression_attribute_names("#ver", "version")
            .expression_attribute_values(":expected", n(expected))
            .build()
            .map_err(|e| corrupt("building a put", e))?;
        self.push(TransactWriteItem::builder().put(put).build(), size)
    }

    /// The existing conversation, rewritten in place if its version is still
    /// `expected`. An update, not a put, so that member flags set meanwhile
    /// (they never bump the version) survive; index attributes the
    /// conversation no longer has are removed.
    fn update_conversation(
        &mut self,
        table: &str,
        conv: &Conversation,
        expected: u64,
    ) -> Result<(), StoreError> {
        let item = conversation_item(conv)?;
        let size = check_item_size(&item)?;
        let mut names = HashMap::from([("#ver".to_string(), "version".to_string())]);
        let mut values = HashMap::from([(":expected".to_string(), n(expected))]);
        let mut sets = Vec::new();
        let mut key = HashMap::new();
        for (i, (name, value)) in item.into_iter().enumerate() {
            if name == PK || name == SK {
                key.insert(name, value);
                continue;
            }
            if name == "member_flags" {
                continue;
            }
            names.insert(format!("#a{i}"), name);
            values.insert(format!(":a{i}"), value);
            sets.push(format!("#a{i} = :a{i}"));
        }
        let mut removes = Vec::new();
        for (i, (name, value)) in index_attributes(conv).into_iter().enumerate() {
            if value.is_none() {
                names.insert(format!("#r{i}"), name.to_string());
                removes.push(format!("#r{i}"));
            }
        }
        let mut expression = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        let update = Update::builder()
            .table_name(table)
            .set_key(Some(key))
            .update_expression(expression)
            .condition_expression("#ver = :expected")
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(|e| corrupt("building an update", e))?;
        self.push(TransactWriteItem::builder().update(update).build(), size)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// A message's sort key from where its write put it.
pub(super) fn message_sk(at: MessageAt) -> String {
    keys::ordered_sk(keys::MESSAGE_PREFIX, at.version, at.position as usize)
}

/// One attribute, as DynamoDB stores it.
pub(super) fn attribute<T: Serialize>(value: &T) -> Result<AttributeValue, StoreError> {
    serde_dynamo::to_attribute_value(value).map_err(|e| corrupt("serializing an attribute", e))
}

/// The update that moves the delivery of the message at `key` from
/// `expected` to `next` (and records the provider's id for it), only if the
/// message is `message_id` and its delivery is still `expected`: status,
/// attempts and time name one step of one message, and the error's presence
/// tells a claimed attempt from one answered with a transient failure.
pub(super) fn delivery_update(
    table: &str,
    key: Item,
    message_id: &str,
    expected: &Delivery,
    next: &Delivery,
    provider_message_id: Option<&str>,
) -> Result<Update, StoreError> {
    let mut names = HashMap::from([
        ("#pk".to_string(), PK.to_string()),
        ("#id".to_string(), "id".to_string()),
        ("#d".to_string(), "delivery".to_string()),
        ("#s".to_string(), "status".to_string()),
        ("#a".to_string(), "attempts".to_string()),
        ("#u".to_string(), "updated_at".to_string()),
        ("#e".to_string(), "error".to_string()),
    ]);
    let error_type = if expected.error.is_some() {
        "M"
    } else {
        "NULL"
    };
    let mut values = HashMap::from([
        (":id".to_string(), s(message_id)),
        (":s".to_string(), attribute(&expected.status)?),
        (":a".to_string(), attribute(&expected.attempts)?),
        (":u".to_string(), attribute(&expected.updated_at)?),
        (":etype".to_string(), s(error_type)),
        (":next".to_string(), attribute(next)?),
    ]);
    let mut expression = "SET #d = :next".to_string();
    if let Some(id) = provider_message_id {
        names.insert("#cmid".into(), "channel_message_id".into());
        values.insert(":cmid".into(), s(id));
        expression.push_str(", #cmid = :cmid");
    }
    Update::builder()
        .table_name(table)
        .set_key(Some(key))
        .update_expression(expression)
        .condition_expression(
            "attribute_exists(#pk) AND #id = :id AND #d.#s = :s AND #d.#a = :a \
             AND #d.#u = :u AND attribute_type(#d.#e, :etype)",
        )
        .set_expression_attribute_names(Some(names))
        .set_expression_attribute_values(Some(values))
        .build()
        .map_err(|e| corrupt("building a delivery update", e))
}

pub(super) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// The dedupe record of an inbound delivery.
#[derive(Serialize)]
pub(super) struct DedupeRecord<'a> {
    workspace_id: &'a str,
    channel_id: &'a str,
    message_id: &'a str,
    expires_at: i64,
}

/// Which message a provider message id names on a channel (the key holds the
/// workspace, channel and provider id): delivery statuses find it without an index.
#[derive(Serialize, Deserialize)]
pub(super) struct ChannelMessageRecord {
    pub(super) conversation_id: String,
    pub(super) message_id: String,
    pub(super) message_sk: String,
}

/// The pointer key and record of `message`, if statuses can be reported on it:
/// it has a provider id, its conversation is on a channel, and the inbox sent
/// it (a contact's message is never reported on, as in the embedded store).
pub(super) fn channel_message_pointer(
    conv: &Conversation,
    message: &Message,
    message_sk: &str,
) -> Option<(String, ChannelMessageRecord)> {
    let provider_id = message.channel_message_id.as_deref()?;
    let channel = conv.channel_id.as_deref()?;
    if message.sender.kind == SenderKind::Contact {
        return None;
    }
    let pk = keys::channel_message_pk(&conv.workspace_id, channel, provider_id);
    let record = ChannelMessageRecord {
        conversation_id: conv.id.clone(),
        message_id: message.id.clone(),
        message_sk: message_sk.to_string(),
    };
    Some((pk, record))
}

impl DynamoStore {
    /// Adds every item of `commit` to `tx`.
    pub(super) fn add_commit(
        &self,
        tx: &mut Transaction,
        commit: &Commit,
    ) -> Result<(), StoreError> {
        commit.check_workspace()?;
        let mut pointers: Vec<(String, ChannelMessageRecord)> = Vec::new();
        for w in &commit.writes {
            let conv = &w.conversation;
            let pk = keys::conversation_pk(&conv.workspace_id, &conv.id);
            match w.expected_version {
                Some(expected) => tx.update_conversation(&self.table, conv, expected)?,
                None => tx.put_new(&self.table, conversation_item(conv)?)?,
            }
            for (i, event) in w.timeline.iter().enumerate() {
                let sk = keys::ordered_sk(keys::EVENT_PREFIX, conv.version, i);
                tx.put_new(&self.table, to_item(event, pk.clone(), sk, "timeline")?)?;
            }
            for (i, message) in w.messages.iter().enumerate() {
                let sk = keys::ordered_sk(keys::MESSAGE_PREFIX, conv.version, i);
                if let Some(pointer) = channel_message_pointer(conv, message, &sk) {
                    // A transaction writes an item at most once: the later message wins.
                    pointers.retain(|(k, _)| *k != pointer.0);
                    pointers.push(pointer);
                }
                tx.put_new(&self.table, to_item(message, pk.clone(), sk, "message")?)?;
            }
            if let Some(change) = &w.delivery {
                let key = super::items::key(pk.clone(), &message_sk(change.at));
                let update = delivery_update(
                    &self.table,
                    key,
                    &change.message_id,
                    &change.expected,
                    &change.next,
                    None,
                )?;
                // An update's size is at most the message it rewrites, checked when it was put.
                tx.push(TransactWriteItem::builder().update(update).build(), 0)?;
                tx.guards.delivery = Some(tx.items.len() - 1);
            }
            for (i, event) in w.events.iter().enumerate() {
                let sk = keys::ordered_sk(keys::OUTBOX_PREFIX, conv.version, i);
                let mut item = to_item(event, pk.clone(), sk, "outbox")?;
                match self.outbox {
                    OutboxMode::Indexed => {
                        let shard = keys::shard_of(&conv.id, table::OUTBOX_SHARDS);
                        item.insert(OUTBOX.pk.into(), s(keys::outbox_pk(shard)));
                        item.insert(OUTBOX.sk.into(), s(self.next_sequence()));
                    }
                    OutboxMode::StreamOnly => {
                        let expires = table::ttl_seconds(conv.last_activity_at)
                            .saturating_add(STREAM_OUTBOX_TTL_SECONDS);
                        item.insert(TTL_ATTRIBUTE.into(), n(expires));
                    }
                }
                tx.put_new(&self.table, item)?;
            }
        }
        for (pk, record) in pointers {
            let item = to_item(
                &record,
                pk,
                keys::CHANNEL_MESSAGE_SK.into(),
                "channel_message",
            )?;
            // Unconditional: a provider id reused on a channel must not fail the
            // commit; statuses then go to the latest message sent with it.
            tx.put(&self.table, item, None, None)?;
        }
        if let Some(d) = &commit.dedupe {
            let record = DedupeRecord {
                workspace_id: &d.workspace_id,
                channel_id: &d.channel_id,
                message_id: &d.message_id,
                expires_at: table::ttl_seconds(d.expires_at),
            };
            let pk = keys::dedupe_pk(&d.workspace_id, &d.channel_id, &d.message_id);
            tx.put_new(
                &self.table,
                to_item(&record, pk, keys::DEDUPE_SK.into(), "dedupe")?,
            )?;
            tx.guards.dedupe = Some(tx.items.len() - 1);
        }
        if let Some(w) = &commit.job {
            let ws = &commit.workspace_id;
            let mut item = to_item(
                &w.job,
                keys::directory_pk(ws),
                super::directory::job_sk(&w.job.id),
                "job",
            )?;
            item.insert(
                TTL_ATTRIBUTE.into(),
                n(table::ttl_seconds(w.job.updated_at).saturating_add(JOB_TTL_SECONDS)),
            );
            match w.expected_version {
                None => tx.put_new(&self.table, item)?,
                Some(v) => tx.put_if_version(&self.table, item, v)?,
            }
        }
        if let Some(member) = &commit.provision {
            let ws = &commit.workspace_id;
            let item = to_item(
                &PersonRecord::Member(member.clone()),
                keys::directory_pk(ws),
                format!("{}{}", keys::PERSON_PREFIX, member.id),
                "person",
            )?;
            tx.put_new(&self.table, item)?;
        }
        Ok(())
    }

    /// Sends `tx` as one `TransactWriteItems`.
    pub(super) async fn send(&self, tx: Transaction) -> Result<(), StoreError> {
        if tx.is_empty() {
            return Ok(());
        }
        let guards = tx.guards;
        self.client
            .transact_write_items()
            .set_transact_items(Some(tx.items))
            .send()
            .await
            .map_err(|e| error::transaction(e, guards))?;
        Ok(())
    }
}
