//! Conversations: the one-read context, the commit, views, messages,
//! timeline, member flags and due timers, as the port asks for them.

use super::cursor::{self, Position};
use super::error::{self, corrupt};
use super::items::{self, Item, PersonRecord, from_item, get_s, s, to_item};
use super::table::{ACTIVITY_SK, BY_CONTACT, PK, SK, TIMER_SHARDS, TIMERS, keys};
use super::transaction::*;
use super::views::*;
use super::{DynamoStore, QuerySpec};
use crate::port::{
    CommandContext, Commit, ConversationStore, DeliveryReport, DeliveryWrite, DirectoryEntry,
    DueTimer, LookupKey, Page, PageRequest, ReportOutcome, StoreError,
};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{KeysAndAttributes, Put, TransactWriteItem};
use inbox_domain::model::{
    Channel, Conversation, MemberFlags, Message, MessageAt, Team, TimelineEvent,
};
use inbox_domain::{ListQuery, Settings, Timestamp};
use serde::Deserialize;
use std::collections::HashSet;

/// Most keys in one `BatchGetItem`.
const MAX_BATCH_GET: usize = 100;
/// A due timer as the `timers` index projects it.
#[derive(Deserialize)]
struct TimerRow {
    workspace_id: String,
    id: String,
    timer_generation: u64,
    timer_sk: String,
}

impl DynamoStore {
    /// One `BatchGetItem` of `keys` (more only if DynamoDB leaves keys unprocessed, or over 100 keys).
    pub(super) async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::new();
        for chunk in keys.chunks(MAX_BATCH_GET) {
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.to_vec()))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| corrupt("building a batch get", e))?,
            );
            let mut attempt = 0u32;
            while let Some(request) = pending.take() {
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(error::unavailable)?;
                if let Some(mut responses) = out.responses {
                    found.extend(responses.remove(&self.table).unwrap_or_default());
                }
                pending = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .filter(|k| !k.keys().is_empty());
                if pending.is_some() {
                    attempt += 1;
                    if attempt > 8 {
                        return Err(StoreError::Unavailable(
                            "dynamodb: keys stayed unprocessed (throttled)".into(),
                        ));
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(20 << attempt)).await;
                }
            }
        }
        Ok(found)
    }
}

#[async_trait]
impl ConversationStore for DynamoStore {
    async fn load_context(
        &self,
        workspace_id: &str,
        conversation_id: Option<&str>,
        lookups: &[LookupKey],
    ) -> Result<CommandContext, StoreError> {
        let dir = keys::directory_pk(workspace_id);
        let mut wanted: Vec<Item> = Vec::new();
        let mut seen = HashSet::new();
        let mut want = |pk: String, sk: String| {
            if seen.insert((pk.clone(), sk.clone())) {
                wanted.push(items::key(pk, &sk));
            }
        };
        if let Some(id) = conversation_id {
            want(
                keys::conversation_pk(workspace_id, id),
                keys::CONVERSATION_SK.into(),
            );
        }
        want(dir.clone(), keys::SETTINGS_SK.into());
        for l in lookups {
            let sk = match l {
                LookupKey::Person(id) => format!("{}{id}", keys::PERSON_PREFIX),
                LookupKey::Team(id) => format!("{}{id}", keys::TEAM_PREFIX),
                LookupKey::Channel(id) => format!("{}{id}", keys::CHANNEL_PREFIX),
            };
            want(dir.clone(), sk);
        }
        let mut ctx = CommandContext::default();
        for item in self.batch_get(wanted).await? {
            let sk = get_s(&item, SK).unwrap_or_default().to_string();
            if sk == keys::CONVERSATION_SK {
                ctx.conversation = Some(from_item(item)?);
            } else if sk == keys::SETTINGS_SK {
                ctx.settings = from_item::<Settings>(item)?;
            } else if let Some(id) = sk.strip_prefix(keys::PERSON_PREFIX) {
                let entry = match from_item::<PersonRecord>(item)? {
                    PersonRecord::Member(m) => DirectoryEntry::Member(m),
                    PersonRecord::Agent(a) => DirectoryEntry::Agent(a),
                };
                ctx.people.insert(id.to_string(), entry);
            } else if let Some(id) = sk.strip_prefix(keys::TEAM_PREFIX) {
                ctx.teams.insert(id.to_string(), from_item::<Team>(item)?);
            } else if let Some(id) = sk.strip_prefix(keys::CHANNEL_PREFIX) {
                ctx.channels
                    .insert(id.to_string(), from_item::<Channel>(item)?);
            }
        }
        Ok(ctx)
    }

    async fn commit(&self, commit: Commit) -> Result<(), StoreError> {
        // A commit that only provisions a member is one conditional put, not
        // a transaction (half the write cost).
        if let (true, None, Some(member), None) = (
            commit.writes.is_empty(),
            &commit.dedupe,
            &commit.provision,
            &commit.job,
        ) {
            commit.check_workspace()?;
            return crate::port::DirectoryStore::provision_member(
                self,
                &commit.workspace_id,
                member,
            )
            .await;
        }
        let mut tx = Transaction::default();
        self.add_commit(&mut tx, &commit)?;
        self.send(tx).await
    }

    async fn list_conversations(
        &self,
        workspace_id: &str,
        query: &ListQuery,
        caller_id: &str,
        page: &PageRequest,
    ) -> Result<Page<Conversation>, StoreError> {
        let f = query_fingerprint(workspace_id, query, caller_id);
        let plan = plan(workspace_id, query, caller_id);
        if plan.empty {
            // Still refuse a cursor that is not ours.
            cursor::decode_opt(&f, page.cursor.as_deref())?;
            return Ok(Page {
                items: Vec::new(),
                next_cursor: None,
            });
        }
        let mut spec = QuerySpec::index(&plan.index, plan.partition);
        spec.forward = false;
        let filtered = add_filters(&mut spec, &plan.filters);
        let key_names = [PK, SK, plan.index.pk, ACTIVITY_SK];
        let (items, next_cursor) = self.view_page(spec, filtered, &key_names, &f, page).await?;
        Ok(Page {
            items: conversations(items)?,
            next_cursor,
        })
    }

    async fn conversations_of_contact(
        &self,
        workspace_id: &str,
        contact_id: &str,
        page: &PageRequest,
    ) -> Result<Page<Conversation>, StoreError> {
        let f = cursor::fingerprint(&["contact_conversations", workspace_id, contact_id]);
        let mut spec = QuerySpec::index(
            &BY_CONTACT,
            keys::contact_conversations_pk(workspace_id, contact_id),
        );
        spec.forward = false;
        let key_names = [PK, SK, BY_CONTACT.pk, BY_CONTACT.sk];
        let (items, next_cursor) = self.view_page(spec, false, &key_names, &f, page).await?;
        Ok(Page {
            items: conversations(items)?,
            next_cursor,
        })
    }

    async fn list_messages(
        &self,
        workspace_id: &str,
        conversation_id: &str,
        page: &PageRequest,
    ) -> Result<Page<Message>, StoreError> {
        let pk = keys::conversation_pk(workspace_id, conversation_id);
        let (items, next_cursor) = self.partition_page(pk, keys::MESSAGE_PREFIX, page).await?;
        Ok(Page {
            items: items.into_iter().map(from_item).collect::<Result<_, _>>()?,
            next_cursor,
        })
    }

    async fn latest_messages(
        &self,
        workspace_id: &str,
        conversation_id: &str,
        n: usize,
    ) -> Result<Vec<Message>, StoreError> {
        if n == 0 {
            return Ok(Vec::new());
        }
        let pk = keys::conversation_pk(workspace_id, conversation_id);
        let mut spec = QuerySpec::partition(pk, Some(keys::MESSAGE_PREFIX));
        spec.forward = false;
        let mut out: Vec<Message> = Vec::new();
        loop {
            spec.limit = Some(n - out.len());
            let start = spec.start.take();
            let (items, last) = self
                .query(QuerySpec {
                    key_condition: spec.key_condition.clone(),
                    names: spec.names.clone(),
                    values: spec.values.clone(),
                    forward: false,
                    limit: spec.limit,
                    start,
                    ..QuerySpec::default()
                })
                .await?;
            for item in items {
                out.push(from_item(item)?);
            }
            match last {
                Some(k) if out.len() < n => spec.start = Some(k),
                _ => break,
            }
        }
        out.truncate(n);
        out.reverse();
        Ok(out)
    }

    async fn list_timeline(
        &self,
        workspace_id: &str,
        conversation_id: &str,
        page: &PageRequest,
    ) -> Result<Page<TimelineEvent>, StoreError> {
        let pk = keys::conversation_pk(workspace_id, conversation_id);
        let (items, next_cursor) = self.partition_page(pk, keys::EVENT_PREFIX, page).await?;
        let mut events = Vec::with_capacity(items.len());
        for item in items {
            let mut e: TimelineEvent = from_item(item)?;
            // Not serialized (the partition names the conversation).
            e.conversation_id = conversation_id.to_string();
            events.push(e);
        }
        Ok(Page {
            items: events,
            next_cursor,
        })
    }

    async fn set_member_flags(
        &self,
        workspace_id: &str,
        conversation_id: &str,
        member_id: &str,
        flags: &MemberFlags,
    ) -> Result<(), StoreError> {
        let value = serde_dynamo::to_attribute_value(flags)
            .map_err(|e| corrupt("serializing member flags", e))?;
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(items::key(
                keys::conversation_pk(workspace_id, conversation_id),
                keys::CONVERSATION_SK,
            )))
            .update_expression("SET #flags.#member = :flags")
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#flags", "member_flags")
            .expression_attribute_names("#member", member_id)
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":flags", value)
            .send()
            .await
            .map_err(error::conditional)?;
        Ok(())
    }

    async fn record_delivery_status(
        &self,
        workspace_id: &str,
        channel_id: &str,
        report: &DeliveryReport,
    ) -> Result<ReportOutcome, StoreError> {
        let pointer_key = items::key(
            keys::channel_message_pk(workspace_id, channel_id, &report.provider_message_id),
            keys::CHANNEL_MESSAGE_SK,
        );
        let Some(item) = self.get_item(pointer_key).await? else {
            return Ok(ReportOutcome::NoMessage);
        };
        let pointer: ChannelMessageRecord = from_item(item)?;
        let pk = keys::conversation_pk(workspace_id, &pointer.conversation_id);
        // Statuses match in a conversation currently on the channel (as in the
        // embedded store): one moved to another channel since no longer takes them.
        let conversation = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(items::key(pk.clone(), keys::CONVERSATION_SK)))
            .projection_expression("#channel")
            .expression_attribute_names("#channel", "channel_id")
            .consistent_read(true)
            .send()
            .await
            .map_err(error::unavailable)?;
        let on_channel = conversation
            .item
            .as_ref()
            .and_then(|c| get_s(c, "channel_id"))
            .is_some_and(|c| c == channel_id);
        if !on_channel {
            return Ok(ReportOutcome::NoMessage);
        }
        // One conditional write, no read: the domain's `may_follow` lists the
        // statuses the report moves, and the attempts already counted stay.
        let predecessors = report.status.may_follow();
        if predecessors.is_empty() {
            return Ok(ReportOutcome::NotMoved);
        }
        let error = if report.status == inbox_domain::DeliveryStatus::Failed {
            report.error.clone()
        } else {
            None
        };
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(items::key(pk, &pointer.message_sk)))
            .update_expression(
                "SET #delivery.#status = :status, #delivery.#error = :error, #delivery.#at = :at",
            )
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#delivery", "delivery")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#error", "error")
            .expression_attribute_names("#at", "updated_at")
            .expression_attribute_values(":status", attribute(&report.status)?)
            .expression_attribute_values(":error", attribute(&error)?)
            .expression_attribute_values(":at", attribute(&report.at)?);
        let mut allowed = Vec::new();
        for (i, before) in predecessors.iter().enumerate() {
            let name = format!(":before{i}");
            update = update.expression_attribute_values(&name, attribute(before)?);
            allowed.push(name);
        }
        // Never creates a stray item from a pointer whose message is gone.
        let condition = format!(
            "attribute_exists(#pk) AND #delivery.#status IN ({})",
            allowed.join(", ")
        );
        match update.condition_expression(condition).send().await {
            Ok(_) => Ok(ReportOutcome::Moved),
            Err(e) if error::is_condition_failure(&e) => Ok(ReportOutcome::NotMoved),
            Err(e) => Err(error::unavailable(e)),
        }
    }

    async fn get_message(
        &self,
        workspace_id: &str,
        conversation_id: &str,
        at: MessageAt,
    ) -> Result<Option<Message>, StoreError> {
        let key = items::key(
            keys::conversation_pk(workspace_id, conversation_id),
            &message_sk(at),
        );
        self.get_item(key).await?.map(from_item).transpose()
    }

    async fn put_delivery(
        &self,
        workspace_id: &str,
        conversation_id: &str,
        at: MessageAt,
        write: &DeliveryWrite,
    ) -> Result<bool, StoreError> {
        let pk = keys::conversation_pk(workspace_id, conversation_id);
        let sk = message_sk(at);
        let provider_id = write
            .sent_as
            .as_ref()
            .map(|a| a.provider_message_id.as_str());
        let update = delivery_update(
            &self.table,
            items::key(pk, &sk),
            &write.message_id,
            &write.expected,
            &write.next,
            provider_id,
        )?;
        let Some(sent) = &write.sent_as else {
            let sent = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(update.key))
                .update_expression(update.update_expression)
                .set_condition_expression(update.condition_expression)
                .set_expression_attribute_names(update.expression_attribute_names)
                .set_expression_attribute_values(update.expression_attribute_values)
                .send()
                .await;
            return error::applied(sent);
        };
        // Accepted: the message and the pointer a status report finds it by, together.
        let pointer = ChannelMessageRecord {
            conversation_id: conversation_id.to_string(),
            message_id: write.message_id.clone(),
            message_sk: sk,
        };
        let pointer = to_item(
            &pointer,
            keys::channel_message_pk(workspace_id, &sent.channel_id, &sent.provider_message_id),
            keys::CHANNEL_MESSAGE_SK.into(),
            "channel_message",
        )?;
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(pointer))
            .build()
            .map_err(|e| corrupt("building a pointer", e))?;
        let sent = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(update).build())
            .transact_items(TransactWriteItem::builder().put(put).build())
            .send()
            .await;
        match sent.map_err(|e| error::transaction(e, TxGuards::default())) {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn due_timers(
        &self,
        now: Timestamp,
        page: &PageRequest,
    ) -> Result<Page<DueTimer>, StoreError> {
        let limit = clamp_limit(page.limit);
        let f = cursor::fingerprint(&["timers"]);
        let start = cursor::decode_opt(&f, page.cursor.as_deref())?;
        let mut shard = start.shard.unwrap_or(0);
        let mut start_key = start.key;
        // Strictly below the next millisecond: due at or before `now`.
        let bound = now.plus_millis(1).to_rfc3339();
        let mut out = Vec::new();
        while shard < TIMER_SHARDS {
            let mut spec = QuerySpec::index(&TIMERS, keys::timer_pk(shard));
            spec.names.insert("#isk".into(), TIMERS.sk.into());
            spec.values.insert(":bound".into(), s(bound.clone()));
            spec.key_condition = "#ipk = :ipk AND #isk < :bound".into();
            spec.limit = Some(limit - out.len());
            spec.start = start_key.take();
            let (items, last) = self.query(spec).await?;
            for item in &items {
                let row: TimerRow = from_item(item.clone())?;
                let due = row
                    .timer_sk
                    .split_once('#')
                    .and_then(|(t, _)| Timestamp::parse(t).ok())
                    .ok_or_else(|| corrupt("reading a timer", &row.timer_sk))?;
                out.push(DueTimer {
                    workspace_id: row.workspace_id,
                    conversation_id: row.id,
                    due_at: due,
                    generation: row.timer_generation,
                });
            }
            if out.len() >= limit {
                let position = match last {
                    Some(k) => Position {
                        shard: Some(shard),
                        key: Some(k),
                    },
                    None if shard + 1 < TIMER_SHARDS => Position {
                        shard: Some(shard + 1),
                        key: None,
                    },
                    None => {
                        return Ok(Page {
                            items: out,
                            next_cursor: None,
                        });
                    }
                };
                return Ok(Page {
                    items: out,
                    next_cursor: Some(cursor::encode(&f, &position)?),
                });
            }
            match last {
                Some(k) => start_key = Some(k),
                None => shard += 1,
            }
        }
        Ok(Page {
            items: out,
            next_cursor: None,
        })
    }
}
