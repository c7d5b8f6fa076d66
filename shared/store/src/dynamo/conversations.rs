//! Conversations: the one-read context, the one-transaction commit, views,
//! messages, timeline, member flags and due timers.

use super::cursor::{self, Position};
use super::error::{self, corrupt};
use super::items::{
    self, Item, MAX_TRANSACTION_BYTES, MAX_TRANSACTION_ITEMS, PersonRecord, check_item_size,
    conversation_item, from_item, get_s, index_attributes, s, to_item,
};
use super::table::{
    self, ACTIVITY_SK, BY_ACTIVITY, BY_ASSIGNEE, BY_CONTACT, BY_LEAD, BY_PENDING, BY_QUEUE,
    BY_STATE, IndexDef, OUTBOX, PK, SK, TIMER_SHARDS, TIMERS, TTL_ATTRIBUTE, keys,
};
use super::{DynamoStore, OutboxMode, QuerySpec, STREAM_OUTBOX_TTL_SECONDS};
use crate::port::{
    CommandContext, Commit, ConversationStore, DirectoryEntry, DueTimer, LookupKey, Page,
    PageRequest, StoreError,
};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, Put, TransactWriteItem, Update};
use inbox_domain::model::{
    Channel, Conversation, DeliveryStatus, MemberFlags, Message, ResponderKind, SenderKind, Status,
    Team, TimelineEvent,
};
use inbox_domain::views::MAX_LIMIT;
use inbox_domain::{Filters, ListQuery, Settings, Timestamp, View};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// Most keys in one `BatchGetItem`.
const MAX_BATCH_GET: usize = 100;
/// A filtered view evaluates this many times the page size per `Query` (the
/// filter runs after `Limit`), so dense filters still take one request.
const FILTER_READ_AHEAD: usize = 4;

fn clamp_limit(limit: usize) -> usize {
    limit.clamp(1, MAX_LIMIT)
}

/// A transaction being assembled, with the limits checked as it grows.
#[derive(Default)]
pub(super) struct Transaction {
    items: Vec<TransactWriteItem>,
    bytes: usize,
    dedupe_index: Option<usize>,
}

impl Transaction {
    fn push(&mut self, item: TransactWriteItem, size: usize) -> Result<(), StoreError> {
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

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// The dedupe record of an inbound delivery.
#[derive(Serialize)]
struct DedupeRecord<'a> {
    workspace_id: &'a str,
    channel_id: &'a str,
    message_id: &'a str,
    expires_at: i64,
}

/// Which message a provider message id names on a channel (the key holds the
/// workspace, channel and provider id): delivery statuses find it without an index.
#[derive(Serialize, Deserialize)]
struct ChannelMessageRecord {
    conversation_id: String,
    message_id: String,
    message_sk: String,
}

/// The pointer key and record of `message`, if statuses can be reported on it:
/// it has a provider id, its conversation is on a channel, and the inbox sent
/// it (a contact's message is never reported on, as in the embedded store).
fn channel_message_pointer(
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

/// A due timer as the `timers` index projects it.
#[derive(Deserialize)]
struct TimerRow {
    workspace_id: String,
    id: String,
    timer_generation: u64,
    timer_sk: String,
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
            tx.dedupe_index = Some(tx.items.len() - 1);
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
        let dedupe_index = tx.dedupe_index;
        self.client
            .transact_write_items()
            .set_transact_items(Some(tx.items))
            .send()
            .await
            .map_err(|e| error::transaction(e, dedupe_index))?;
        Ok(())
    }

    /// One `BatchGetItem` of `keys` (more only if DynamoDB leaves keys unprocessed, or over 100 keys).
    async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
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

    /// Pages through `spec` until `limit` items are found (one `Query` unless
    /// a filter discards items or 1 MB is read); the cursor continues after
    /// the last item returned.
    pub(super) async fn view_page(
        &self,
        mut spec: QuerySpec,
        filtered: bool,
        key_names: &[&str],
        f: &str,
        page: &PageRequest,
    ) -> Result<(Vec<Item>, Option<String>), StoreError> {
        let limit = clamp_limit(page.limit);
        let want = limit + 1;
        spec.start = cursor::decode_opt(f, page.cursor.as_deref())?.key;
        let mut found: Vec<Item> = Vec::new();
        let mut last_key;
        loop {
            let missing = want - found.len();
            spec.limit = Some(if filtered {
                (want * FILTER_READ_AHEAD).min(1000)
            } else {
                missing
            });
            let (items, last) = self
                .query(QuerySpec {
                    index: spec.index,
                    key_condition: spec.key_condition.clone(),
                    names: spec.names.clone(),
                    values: spec.values.clone(),
                    filter: spec.filter.clone(),
                    forward: spec.forward,
                    limit: spec.limit,
                    start: spec.start.take(),
                })
                .await?;
            found.extend(items);
            last_key = last;
            // A page with a cursor is full (the port's paging promise), so a
            // rare filter keeps reading: each further Query reads at most 1 MB.
            if found.len() >= want || last_key.is_none() {
                break;
            }
            spec.start = last_key.clone();
        }
        let next = if found.len() > limit {
            found.truncate(limit);
            found.last().map(|i| cursor::key_of(i, key_names))
        } else {
            last_key
        };
        let next_cursor = match next {
            Some(key) => Some(cursor::encode(
                f,
                &Position {
                    shard: None,
                    key: Some(key),
                },
            )?),
            None => None,
        };
        Ok((found, next_cursor))
    }

    /// A page of a conversation's records under a sort key prefix.
    async fn partition_page(
        &self,
        pk: String,
        prefix: &str,
        page: &PageRequest,
    ) -> Result<(Vec<Item>, Option<String>), StoreError> {
        let f = cursor::fingerprint(&[&pk, prefix]);
        let spec = QuerySpec::partition(pk, Some(prefix));
        self.view_page(spec, false, &[PK, SK], &f, page).await
    }
}

/// How a view is read: which index partition, what the filter keeps.
struct ViewPlan {
    index: IndexDef,
    partition: String,
    filters: Filters,
    /// The view and filters contradict each other: nothing to read.
    empty: bool,
}

fn plan(ws: &str, q: &ListQuery, caller: &str) -> ViewPlan {
    let mut filters = q.filters.clone();
    let status = filters.status;
    let open_only = matches!(
        q.view,
        View::Mine | View::Unassigned | View::Unresolved | View::PendingHuman
    );
    let empty = (open_only && status == Some(Status::Closed))
        || (q.view == View::Resolved && status.is_some_and(|s| s != Status::Closed));
    let (index, partition) = match q.view {
        // A status filter on `all` is served by the state index.
        View::All => match status {
            Some(Status::Closed) => (BY_STATE, keys::view_pk(ws, "CLOSED")),
            Some(_) => (BY_STATE, keys::view_pk(ws, "OPEN")),
            None => (BY_ACTIVITY, keys::view_pk(ws, "ALL")),
        },
        View::Mine => (BY_QUEUE, keys::view_pk(ws, &format!("MINE#{caller}"))),
        View::AssignedToMe => (
            BY_ASSIGNEE,
            keys::view_pk(ws, &format!("ASSIGNEE#{caller}")),
        ),
        View::Unassigned => (BY_QUEUE, keys::view_pk(ws, "UNASSIGNED")),
        View::Unresolved => (BY_STATE, keys::view_pk(ws, "OPEN")),
        View::Resolved => (BY_STATE, keys::view_pk(ws, "CLOSED")),
        View::PendingHuman => (BY_PENDING, keys::view_pk(ws, "PENDING_HUMAN")),
        View::HasLead => (BY_LEAD, keys::view_pk(ws, "HAS_LEAD")),
    };
    // The CLOSED partition holds only closed conversations: the filter is the key.
    if status == Some(Status::Closed) && partition.ends_with("#VIEW#CLOSED") {
        filters.status = None;
    }
    ViewPlan {
        index,
        partition,
        filters,
        empty,
    }
}

/// The filter expression for what the index key cannot carry.
fn add_filters(spec: &mut QuerySpec, f: &Filters) -> bool {
    let mut terms = Vec::new();
    let name = |spec: &mut QuerySpec, placeholder: &str, attr: &str| {
        spec.names.insert(placeholder.into(), attr.into());
    };
    if let Some(team) = &f.team {
        name(spec, "#team", "team");
        name(spec, "#id", "id");
        spec.values.insert(":team".into(), s(team));
        terms.push("#team.#id = :team");
    }
    if let Some(label) = &f.label {
        name(spec, "#labels", "labels");
        spec.values.insert(":label".into(), s(label));
        terms.push("contains(#labels, :label)");
    }
    if let Some(channel) = &f.channel_id {
        name(spec, "#channel", "channel_id");
        spec.values.insert(":channel".into(), s(channel));
        terms.push("#channel = :channel");
    }
    if let Some(kind) = f.agent_type {
        name(spec, "#lr", "last_responder");
        name(spec, "#kind", "kind");
        let k = match kind {
            ResponderKind::Human => "human",
            ResponderKind::Ai => "ai",
        };
        spec.values.insert(":kind".into(), s(k));
        terms.push("#lr.#kind = :kind");
    }
    if let Some(by) = &f.responded_by {
        name(spec, "#lr", "last_responder");
        name(spec, "#id", "id");
        spec.values.insert(":by".into(), s(by));
        terms.push("#lr.#id = :by");
    }
    if let Some(status) = f.status {
        name(spec, "#status", "status");
        spec.values.insert(":status".into(), s(status.as_str()));
        terms.push("#status = :status");
    }
    if terms.is_empty() {
        false
    } else {
        spec.filter = Some(terms.join(" AND "));
        true
    }
}

fn query_fingerprint(ws: &str, q: &ListQuery, caller: &str) -> String {
    let f = &q.filters;
    let agent_type = match f.agent_type {
        Some(ResponderKind::Ai) => "ai",
        Some(ResponderKind::Human) => "human",
        None => "",
    };
    cursor::fingerprint(&[
        "conversations",
        ws,
        caller,
        q.view.as_str(),
        f.team.as_deref().unwrap_or(""),
        f.label.as_deref().unwrap_or(""),
        f.channel_id.as_deref().unwrap_or(""),
        agent_type,
        f.responded_by.as_deref().unwrap_or(""),
        f.status.map(Status::as_str).unwrap_or(""),
    ])
}

fn conversations(items: Vec<Item>) -> Result<Vec<Conversation>, StoreError> {
    items.into_iter().map(from_item).collect()
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
        if let (true, None, Some(member)) =
            (commit.writes.is_empty(), &commit.dedupe, &commit.provision)
        {
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
        limit: usize,
    ) -> Result<Vec<Conversation>, StoreError> {
        let mut spec = QuerySpec::index(
            &BY_CONTACT,
            keys::contact_conversations_pk(workspace_id, contact_id),
        );
        spec.forward = false;
        let mut out = Vec::new();
        loop {
            spec.limit = Some(limit.saturating_sub(out.len()).max(1));
            let start = spec.start.take();
            let (items, last) = self
                .query(QuerySpec {
                    index: spec.index,
                    key_condition: spec.key_condition.clone(),
                    names: spec.names.clone(),
                    values: spec.values.clone(),
                    filter: None,
                    forward: false,
                    limit: spec.limit,
                    start,
                })
                .await?;
            out.extend(conversations(items)?);
            match last {
                Some(k) if out.len() < limit => spec.start = Some(k),
                _ => break,
            }
        }
        out.truncate(limit);
        Ok(out)
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
        provider_message_id: &str,
        status: DeliveryStatus,
    ) -> Result<bool, StoreError> {
        let pointer_key = items::key(
            keys::channel_message_pk(workspace_id, channel_id, provider_message_id),
            keys::CHANNEL_MESSAGE_SK,
        );
        let Some(item) = self.get_item(pointer_key).await? else {
            return Ok(false);
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
            return Ok(false);
        }
        let value = serde_dynamo::to_attribute_value(status)
            .map_err(|e| corrupt("serializing a delivery status", e))?;
        let updated = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(items::key(pk, &pointer.message_sk)))
            .update_expression("SET #status = :status")
            // Never creates a stray item from a pointer whose message is gone.
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#status", "delivery_status")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":status", value)
            .send()
            .await;
        match updated {
            Ok(_) => Ok(true),
            Err(e) if error::is_condition_failure(&e) => Ok(false),
            Err(e) => Err(error::unavailable(e)),
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
