//! Conversations, their messages and timeline, member flags and timers.

use super::{SqliteStore, cursor, db, from_doc, limit_plus_one, to_doc, to_i64, to_u64};
use crate::port::{
    CommandContext, Commit, ConversationStore, DeliveryReport, DeliveryWrite, DueTimer, LookupKey,
    Page, PageRequest, ReportOutcome, StoreError,
};
use async_trait::async_trait;
use inbox_domain::model::{
    Conversation, DeliveryChange, MemberFlags, Message, MessageAt, ResponderKind, SenderKind,
    Status, TimelineEvent,
};
use inbox_domain::{ListQuery, Timestamp, View};
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde_json::Value;
use std::collections::BTreeMap;

/// The conversation document and every member's flags, gathered in the same read.
const CONVERSATION_COLUMNS: &str = "c.doc, (SELECT json_group_object(f.member_id, json(f.doc)) \
     FROM member_flags f WHERE f.workspace_id = c.workspace_id AND f.conversation_id = c.id)";

/// Rebuilds a conversation from its document and its flags (kept apart so
/// that flag changes never race with commits).
fn conversation_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(String, Option<String>)> {
    Ok((row.get(0)?, row.get(1)?))
}

fn decode_conversation((doc, flags): (String, Option<String>)) -> Result<Conversation, StoreError> {
    let mut conv: Conversation = from_doc(&doc)?;
    conv.member_flags = match flags {
        Some(f) => from_doc::<BTreeMap<String, MemberFlags>>(&f)?,
        None => BTreeMap::new(),
    };
    Ok(conv)
}

fn responder_kind(kind: ResponderKind) -> &'static str {
    match kind {
        ResponderKind::Human => "human",
        ResponderKind::Ai => "ai",
    }
}

/// Reads one conversation of a workspace.
pub(super) fn get_conversation(
    conn: &Connection,
    workspace_id: &str,
    id: &str,
) -> Result<Option<Conversation>, StoreError> {
    let sql = format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE c.workspace_id = ?1 AND c.id = ?2"
    );
    conn.query_row(&sql, params![workspace_id, id], conversation_from_row)
        .optional()
        .map_err(db)?
        .map(decode_conversation)
        .transpose()
}

/// Writes one commit inside `tx`; any failure leaves `tx` to roll back.
pub(super) fn apply_commit(tx: &Transaction<'_>, commit: &Commit) -> Result<(), StoreError> {
    commit.check_workspace()?;
    // The dedupe key first: a redelivery is reported as such even when its
    // decision was made on stale state.
    if let Some(key) = &commit.dedupe {
        let inserted = tx
            .execute(
                "INSERT INTO dedupe (workspace_id, channel_id, message_id, expires_at)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                params![
                    key.workspace_id,
                    key.channel_id,
                    key.message_id,
                    key.expires_at.as_millis()
                ],
            )
            .map_err(db)?;
        if inserted == 0 {
            return Err(StoreError::Duplicate);
        }
    }
    for w in &commit.writes {
        let c = &w.conversation;
        let ws = c.workspace_id.as_str();
        // Before the version check, as on DynamoDB, where a moved delivery
        // is reported over a version conflict.
        if let Some(change) = &w.delivery {
            move_delivery(tx, ws, &c.id, change)?;
        }
        // Flags live in their own table; the document never carries them.
        let mut stored = c.clone();
        stored.member_flags = BTreeMap::new();
        let doc = to_doc(&stored)?;
        let closed = c.status == Status::Closed;
        let timer_due = c
            .auto_close
            .as_ref()
            .filter(|_| !closed)
            .map(|t| t.due_at.as_millis());
        let values = params![
            ws,
            c.id,
            to_i64(c.version),
            c.last_activity_at.as_millis(),
            c.created_at.as_millis(),
            c.status.as_str(),
            closed,
            c.assignee_id(),
            c.team.as_ref().map(|t| t.id.as_str()),
            c.channel_id,
            c.contact.id,
            c.human_handoff,
            c.last_responder.as_ref().map(|r| responder_kind(r.kind)),
            c.last_responder.as_ref().map(|r| r.id.as_str()),
            c.contact.has_lead,
            timer_due,
            to_i64(c.timer_generation),
            doc,
            w.expected_version.map(to_i64),
        ];
        let changed = match w.expected_version {
            None => tx.execute(
                "INSERT INTO conversations (workspace_id, id, version, last_activity_at, created_at,
                    status, closed, assignee_id, team_id, channel_id, contact_id, human_handoff,
                    responder_kind, responder_id, has_lead, timer_due, timer_generation, doc)
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18
                 WHERE ?19 IS NULL
                 ON CONFLICT (workspace_id, id) DO NOTHING",
                values,
            ),
            Some(_) => tx.execute(
                "UPDATE conversations SET version = ?3, last_activity_at = ?4, created_at = ?5,
                    status = ?6, closed = ?7, assignee_id = ?8, team_id = ?9, channel_id = ?10,
                    contact_id = ?11, human_handoff = ?12, responder_kind = ?13, responder_id = ?14,
                    has_lead = ?15, timer_due = ?16, timer_generation = ?17, doc = ?18
                 WHERE workspace_id = ?1 AND id = ?2 AND version = ?19",
                values,
            ),
        }
        .map_err(db)?;
        if changed == 0 {
            return Err(StoreError::Conflict);
        }
        tx.execute(
            "DELETE FROM conversation_labels WHERE workspace_id = ?1 AND conversation_id = ?2",
            params![ws, c.id],
        )
        .map_err(db)?;
        for label in &c.labels {
            tx.execute(
                "INSERT INTO conversation_labels (workspace_id, label, conversation_id)
                 VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                params![ws, label, c.id],
            )
            .map_err(db)?;
        }
        let version = to_i64(c.version);
        for (i, e) in w.timeline.iter().enumerate() {
            tx.execute(
                "INSERT INTO timeline (workspace_id, conversation_id, write_version, position, doc)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![ws, c.id, version, to_i64(i as u64), to_doc(e)?],
            )
            .map_err(db)?;
        }
        for (i, m) in w.messages.iter().enumerate() {
            tx.execute(
                "INSERT INTO messages (workspace_id, conversation_id, write_version, position, doc)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![ws, c.id, version, to_i64(i as u64), to_doc(m)?],
            )
            .map_err(db)?;
        }
        for e in &w.events {
            tx.execute(
                "INSERT INTO outbox (workspace_id, doc) VALUES (?1, ?2)",
                params![ws, to_doc(e)?],
            )
            .map_err(db)?;
        }
    }
    if let Some(w) = &commit.job {
        super::directory::write_job(tx, &commit.workspace_id, w)?;
    }
    if let Some(member) = &commit.provision {
        let ws = commit.workspace_id.as_str();
        let inserted = tx
            .execute(
                "INSERT INTO people (workspace_id, id, kind, doc) VALUES (?1, ?2, 'member', ?3)
                 ON CONFLICT DO NOTHING",
                params![ws, member.id, to_doc(member)?],
            )
            .map_err(db)?;
        if inserted == 0 {
            return Err(StoreError::Conflict);
        }
    }
    Ok(())
}

/// Starts a write transaction that takes the write lock at once (no upgrade deadlocks).
pub(super) fn write_tx(conn: &mut Connection) -> Result<Transaction<'_>, StoreError> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db)
}

/// The fingerprint of a list query (cursors are valid only for the same one).
fn list_scope(workspace_id: &str, query: &ListQuery, caller_id: &str) -> Vec<String> {
    let f = &query.filters;
    vec![
        "conversations".into(),
        workspace_id.into(),
        caller_id.into(),
        query.view.as_str().into(),
        f.team.clone().unwrap_or_default(),
        f.label.clone().unwrap_or_default(),
        f.channel_id.clone().unwrap_or_default(),
        f.agent_type.map(responder_kind).unwrap_or_default().into(),
        f.responded_by.clone().unwrap_or_default(),
        f.status.map(Status::as_str).unwrap_or_default().into(),
    ]
}

fn scope_refs(scope: &[String]) -> Vec<&str> {
    scope.iter().map(String::as_str).collect()
}

fn list_page(
    conn: &Connection,
    workspace_id: &str,
    query: &ListQuery,
    caller_id: &str,
    page: &PageRequest,
) -> Result<Page<Conversation>, StoreError> {
    let scope = list_scope(workspace_id, query, caller_id);
    let scope = scope_refs(&scope);
    let mut sql =
        format!("SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE c.workspace_id = ?");
    let mut args: Vec<Sql> = vec![Sql::Text(workspace_id.into())];
    // Constant terms are spelled exactly as in the partial indexes so the planner uses them.
    match query.view {
        View::All => {}
        View::Mine => {
            sql.push_str(" AND c.assignee_id = ? AND closed = 0");
            args.push(Sql::Text(caller_id.into()));
        }
        View::AssignedToMe => {
            sql.push_str(" AND c.assignee_id = ?");
            args.push(Sql::Text(caller_id.into()));
        }
        View::Unassigned => sql.push_str(" AND c.assignee_id IS NULL AND closed = 0"),
        View::Unresolved => sql.push_str(" AND c.closed = 0"),
        View::Resolved => sql.push_str(" AND c.closed = 1"),
        View::PendingHuman => sql.push_str(" AND c.human_handoff = 1 AND c.closed = 0"),
        View::HasLead => sql.push_str(" AND has_lead = 1"),
    }
    let f = &query.filters;
    if let Some(team) = &f.team {
        sql.push_str(" AND c.team_id = ?");
        args.push(Sql::Text(team.clone()));
    }
    if let Some(label) = &f.label {
        sql.push_str(
            " AND EXISTS (SELECT 1 FROM conversation_labels l WHERE l.workspace_id = c.workspace_id \
             AND l.label = ? AND l.conversation_id = c.id)",
        );
        args.push(Sql::Text(label.clone()));
    }
    if let Some(channel) = &f.channel_id {
        sql.push_str(" AND c.channel_id = ?");
        args.push(Sql::Text(channel.clone()));
    }
    if let Some(kind) = f.agent_type {
        sql.push_str(" AND c.responder_kind = ?");
        args.push(Sql::Text(responder_kind(kind).into()));
    }
    if let Some(id) = &f.responded_by {
        sql.push_str(" AND c.responder_id = ?");
        args.push(Sql::Text(id.clone()));
    }
    if let Some(status) = f.status {
        sql.push_str(" AND c.status = ?");
        args.push(Sql::Text(status.as_str().into()));
    }
    if let Some(c) = &page.cursor {
        let key = cursor::decode(&scope, c)?;
        sql.push_str(" AND (c.last_activity_at, c.id) < (?, ?)");
        args.push(Sql::Integer(cursor::int(&key, 0)?));
        args.push(Sql::Text(cursor::text(&key, 1)?));
    }
    sql.push_str(" ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ?");
    args.push(Sql::Integer(limit_plus_one(page.limit)));
    let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args), conversation_from_row)
        .map_err(db)?;
    let mut items = Vec::new();
    for row in rows {
        items.push(decode_conversation(row.map_err(db)?)?);
    }
    Ok(paginate(items, page.limit, |c| {
        cursor::encode(
            &scope,
            vec![c.last_activity_at.as_millis().into(), c.id.clone().into()],
        )
    }))
}

/// Cuts the extra row fetched to detect a following page, and makes its cursor.
fn paginate<T>(mut items: Vec<T>, limit: usize, key: impl Fn(&T) -> String) -> Page<T> {
    let limit = limit.max(1);
    if items.len() > limit {
        items.truncate(limit);
        let next_cursor = items.last().map(key);
        Page { items, next_cursor }
    } else {
        Page {
            items,
            next_cursor: None,
        }
    }
}

/// Which per-conversation record table a list reads.
#[derive(Clone, Copy)]
enum Records {
    Messages,
    Timeline,
}

impl Records {
    fn table(self) -> &'static str {
        match self {
            Records::Messages => "messages",
            Records::Timeline => "timeline",
        }
    }
}

/// One page of a conversation's messages or timeline, in commit order, with each row's key.
fn records_page(
    conn: &Connection,
    records: Records,
    workspace_id: &str,
    conversation_id: &str,
    page: &PageRequest,
) -> Result<Page<String>, StoreError> {
    let table = records.table();
    let scope = [table, workspace_id, conversation_id];
    let (after_version, after_position) = match &page.cursor {
        Some(c) => {
            let key = cursor::decode(&scope, c)?;
            (cursor::int(&key, 0)?, cursor::int(&key, 1)?)
        }
        None => (-1, -1),
    };
    let sql = format!(
        "SELECT write_version, position, doc FROM {table}
         WHERE workspace_id = ?1 AND conversation_id = ?2 AND (write_version, position) > (?3, ?4)
         ORDER BY write_version, position LIMIT ?5"
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
    let rows = stmt
        .query_map(
            params![
                workspace_id,
                conversation_id,
                after_version,
                after_position,
                limit_plus_one(page.limit)
            ],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                ))
            },
        )
        .map_err(db)?;
    let rows = rows.collect::<Result<Vec<_>, _>>().map_err(db)?;
    let page = paginate(rows, page.limit, |(v, p, _)| {
        cursor::encode(&scope, vec![(*v).into(), (*p).into()])
    });
    Ok(Page {
        items: page.items.into_iter().map(|(_, _, doc)| doc).collect(),
        next_cursor: page.next_cursor,
    })
}

fn decode_event(doc: &str, conversation_id: &str) -> Result<TimelineEvent, StoreError> {
    // The conversation id is the row's, not the document's.
    let mut e: TimelineEvent = from_doc(doc)?;
    e.conversation_id = conversation_id.to_string();
    Ok(e)
}

fn lookup(
    conn: &Connection,
    workspace_id: &str,
    key: &LookupKey,
    ctx: &mut CommandContext,
) -> Result<(), StoreError> {
    match key {
        LookupKey::Person(id) => {
            if let Some(p) = super::directory::get_person(conn, workspace_id, id)? {
                ctx.people.insert(id.clone(), p);
            }
        }
        LookupKey::Team(id) => {
            if let Some(t) = super::directory::get_doc(conn, "teams", workspace_id, id)? {
                ctx.teams.insert(id.clone(), t);
            }
        }
        LookupKey::Channel(id) => {
            if let Some(c) = super::directory::get_doc(conn, "channels", workspace_id, id)? {
                ctx.channels.insert(id.clone(), c);
            }
        }
    }
    Ok(())
}

#[async_trait]
impl ConversationStore for SqliteStore {
    async fn load_context(
        &self,
        workspace_id: &str,
        conversation_id: Option<&str>,
        lookups: &[LookupKey],
    ) -> Result<CommandContext, StoreError> {
        let ws = workspace_id.to_string();
        let id = conversation_id.map(str::to_string);
        let lookups = lookups.to_vec();
        self.run(move |conn| {
            // One read transaction: every part of the context is from the same snapshot.
            let tx = conn.transaction().map_err(db)?;
            let mut ctx = CommandContext {
                settings: super::directory::get_settings(&tx, &ws)?,
                ..CommandContext::default()
            };
            if let Some(id) = &id {
                ctx.conversation = get_conversation(&tx, &ws, id)?;
            }
            for key in &lookups {
                lookup(&tx, &ws, key, &mut ctx)?;
            }
            tx.commit().map_err(db)?;
            Ok(ctx)
        })
        .await
    }

    async fn commit(&self, commit: Commit) -> Result<(), StoreError> {
        self.run(move |conn| {
            let tx = write_tx(conn)?;
            apply_commit(&tx, &commit)?;
            tx.commit().map_err(db)
        })
        .await
    }

    async fn list_conversations(
        &self,
        workspace_id: &str,
        query: &ListQuery,
        caller_id: &str,
        page: &PageRequest,
    ) -> Result<Page<Conversation>, StoreError> {
        let (ws, query, caller, page) = (
            workspace_id.to_string(),
            query.clone(),
            caller_id.to_string(),
            page.clone(),
        );
        self.run(move |conn| list_page(conn, &ws, &query, &caller, &page))
            .await
    }

    async fn conversations_of_contact(
        &self,
        workspace_id: &str,
        contact_id: &str,
        page: &PageRequest,
    ) -> Result<Page<Conversation>, StoreError> {
        let (ws, contact, page) = (
            workspace_id.to_string(),
            contact_id.to_string(),
            page.clone(),
        );
        self.run(move |conn| {
            let scope = ["contact_conversations", ws.as_str(), contact.as_str()];
            let (after_at, after_id) = match &page.cursor {
                Some(c) => {
                    let key = cursor::decode(&scope, c)?;
                    (Some(cursor::int(&key, 0)?), Some(cursor::text(&key, 1)?))
                }
                None => (None, None),
            };
            let sql = format!(
                "SELECT {CONVERSATION_COLUMNS} FROM conversations c
                 WHERE c.workspace_id = ?1 AND c.contact_id = ?2
                   AND (?3 IS NULL OR (c.created_at, c.id) < (?3, ?4))
                 ORDER BY c.created_at DESC, c.id DESC LIMIT ?5"
            );
            let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
            let rows = stmt
                .query_map(
                    params![ws, contact, after_at, after_id, limit_plus_one(page.limit)],
                    conversation_from_row,
                )
                .map_err(db)?;
            let mut items = Vec::new();
            for row in rows {
                items.push(decode_conversation(row.map_err(db)?)?);
            }
            Ok(paginate(items, page.limit, |c: &Conversation| {
                cursor::encode(
                    &scope,
                    vec![c.created_at.as_millis().into(), c.id.clone().into()],
                )
            }))
        })
        .await
    }

    async fn list_messages(
        &self,
        workspace_id: &str,
        conversation_id: &str,
        page: &PageRequest,
    ) -> Result<Page<Message>, StoreError> {
        let (ws, id, page) = (
            workspace_id.to_string(),
            conversation_id.to_string(),
            page.clone(),
        );
        self.run(move |conn| {
            let docs = records_page(conn, Records::Messages, &ws, &id, &page)?;
            Ok(Page {
                items: docs
                    .items
                    .iter()
                    .map(|d| from_doc(d))
                    .collect::<Result<_, _>>()?,
                next_cursor: docs.next_cursor,
            })
        })
        .await
    }

    async fn latest_messages(
        &self,
        workspace_id: &str,
        conversation_id: &str,
        n: usize,
    ) -> Result<Vec<Message>, StoreError> {
        let (ws, id) = (workspace_id.to_string(), conversation_id.to_string());
        self.run(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT doc FROM messages WHERE workspace_id = ?1 AND conversation_id = ?2
                     ORDER BY write_version DESC, position DESC LIMIT ?3",
                )
                .map_err(db)?;
            let docs = stmt
                .query_map(params![ws, id, i64::try_from(n).unwrap_or(i64::MAX)], |r| {
                    r.get::<_, String>(0)
                })
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            docs.iter().rev().map(|d| from_doc(d)).collect()
        })
        .await
    }

    async fn list_timeline(
        &self,
        workspace_id: &str,
        conversation_id: &str,
        page: &PageRequest,
    ) -> Result<Page<TimelineEvent>, StoreError> {
        let (ws, id, page) = (
            workspace_id.to_string(),
            conversation_id.to_string(),
            page.clone(),
        );
        self.run(move |conn| {
            let docs = records_page(conn, Records::Timeline, &ws, &id, &page)?;
            Ok(Page {
                items: docs
                    .items
                    .iter()
                    .map(|d| decode_event(d, &id))
                    .collect::<Result<_, _>>()?,
                next_cursor: docs.next_cursor,
            })
        })
        .await
    }

    async fn set_member_flags(
        &self,
        workspace_id: &str,
        conversation_id: &str,
        member_id: &str,
        flags: &MemberFlags,
    ) -> Result<(), StoreError> {
        let (ws, id, member) = (
            workspace_id.to_string(),
            conversation_id.to_string(),
            member_id.to_string(),
        );
        let doc = to_doc(flags)?;
        self.run(move |conn| {
            // Only on a conversation that exists in the workspace.
            conn.execute(
                "INSERT INTO member_flags (workspace_id, conversation_id, member_id, doc)
                 SELECT ?1, ?2, ?3, ?4 WHERE EXISTS
                    (SELECT 1 FROM conversations WHERE workspace_id = ?1 AND id = ?2)
                 ON CONFLICT (workspace_id, conversation_id, member_id) DO UPDATE SET doc = excluded.doc",
                params![ws, id, member, doc],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn record_delivery_status(
        &self,
        workspace_id: &str,
        channel_id: &str,
        report: &DeliveryReport,
    ) -> Result<ReportOutcome, StoreError> {
        let (ws, channel, report) = (
            workspace_id.to_string(),
            channel_id.to_string(),
            report.clone(),
        );
        self.run(move |conn| {
            let tx = write_tx(conn)?;
            let found: Vec<(i64, String)> = {
                let mut stmt = tx
                    .prepare(
                        "SELECT m.rowid, m.doc FROM messages m
                         JOIN conversations c ON c.workspace_id = m.workspace_id AND c.id = m.conversation_id
                         WHERE m.workspace_id = ?1
                           AND json_extract(m.doc, '$.channel_message_id') = ?2
                           AND c.channel_id = ?3",
                    )
                    .map_err(db)?;
                let rows = stmt
                    .query_map(params![ws, report.provider_message_id, channel], |row| {
                        Ok((row.get(0)?, row.get(1)?))
                    })
                    .map_err(db)?;
                rows.collect::<Result<_, _>>().map_err(db)?
            };
            let mut outcome = ReportOutcome::NoMessage;
            for (rowid, doc) in found {
                let mut message: Message = from_doc(&doc)?;
                // Only what the inbox sent has a delivery status; a contact's message with
                // the same provider id is not the one reported on.
                if message.sender.kind == SenderKind::Contact {
                    continue;
                }
                // A message without a delivery state is not on its way anywhere
                // (as on DynamoDB, whose condition needs the state).
                let after = message
                    .delivery
                    .as_ref()
                    .and_then(|d| d.reported(report.status, report.error.clone(), report.at));
                let Some(after) = after else {
                    if outcome == ReportOutcome::NoMessage {
                        outcome = ReportOutcome::NotMoved;
                    }
                    continue;
                };
                message.delivery = Some(after);
                tx.execute(
                    "UPDATE messages SET doc = ?1 WHERE rowid = ?2",
                    params![to_doc(&message)?, rowid],
                )
                .map_err(db)?;
                outcome = ReportOutcome::Moved;
            }
            tx.commit().map_err(db)?;
            Ok(outcome)
        })
        .await
    }

    async fn get_message(
        &self,
        workspace_id: &str,
        conversation_id: &str,
        at: MessageAt,
    ) -> Result<Option<Message>, StoreError> {
        let (ws, conv) = (workspace_id.to_string(), conversation_id.to_string());
        self.run(move |conn| message_at(conn, &ws, &conv, at).map(|found| found.map(|(_, m)| m)))
            .await
    }

    async fn put_delivery(
        &self,
        workspace_id: &str,
        conversation_id: &str,
        at: MessageAt,
        write: &DeliveryWrite,
    ) -> Result<bool, StoreError> {
        let (ws, conv, write) = (
            workspace_id.to_string(),
            conversation_id.to_string(),
            write.clone(),
        );
        self.run(move |conn| {
            let tx = write_tx(conn)?;
            let Some((rowid, mut message)) = message_at(&tx, &ws, &conv, at)? else {
                return Ok(false);
            };
            if message.id != write.message_id || message.delivery.as_ref() != Some(&write.expected)
            {
                return Ok(false);
            }
            message.delivery = Some(write.next.clone());
            if let Some(sent) = &write.sent_as {
                message.channel_message_id = Some(sent.provider_message_id.clone());
            }
            tx.execute(
                "UPDATE messages SET doc = ?1 WHERE rowid = ?2",
                params![to_doc(&message)?, rowid],
            )
            .map_err(db)?;
            tx.commit().map_err(db)?;
            Ok(true)
        })
        .await
    }

    async fn due_timers(
        &self,
        now: Timestamp,
        page: &PageRequest,
    ) -> Result<Page<DueTimer>, StoreError> {
        let page = page.clone();
        self.run(move |conn| {
            let scope = ["due_timers"];
            let (due, ws, id) = match &page.cursor {
                Some(c) => {
                    let key = cursor::decode(&scope, c)?;
                    (
                        cursor::int(&key, 0)?,
                        cursor::text(&key, 1)?,
                        cursor::text(&key, 2)?,
                    )
                }
                // Sorts before every real key.
                None => (i64::MIN, String::new(), String::new()),
            };
            let mut stmt = conn
                .prepare_cached(
                    "SELECT workspace_id, id, timer_due, timer_generation FROM conversations
                     WHERE timer_due IS NOT NULL AND timer_due <= ?1
                       AND (timer_due, workspace_id, id) > (?2, ?3, ?4)
                     ORDER BY timer_due, workspace_id, id LIMIT ?5",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map(
                    params![now.as_millis(), due, ws, id, limit_plus_one(page.limit)],
                    |r| {
                        Ok(DueTimer {
                            workspace_id: r.get(0)?,
                            conversation_id: r.get(1)?,
                            due_at: Timestamp::from_millis(r.get(2)?),
                            generation: to_u64(r.get(3)?),
                        })
                    },
                )
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            Ok(paginate(rows, page.limit, |t| {
                cursor::encode(
                    &scope,
                    vec![
                        t.due_at.as_millis().into(),
                        Value::from(t.workspace_id.clone()),
                        Value::from(t.conversation_id.clone()),
                    ],
                )
            }))
        })
        .await
    }
}

/// Moves the delivery of the message `change` names, only if it is still
/// as the write was decided on; otherwise `DeliveryMoved`.
fn move_delivery(
    tx: &Connection,
    ws: &str,
    conv: &str,
    change: &DeliveryChange,
) -> Result<(), StoreError> {
    let found = message_at(tx, ws, conv, change.at)?;
    let Some((rowid, mut message)) = found.filter(|(_, m)| {
        m.id == change.message_id && m.delivery.as_ref() == Some(&change.expected)
    }) else {
        return Err(StoreError::DeliveryMoved);
    };
    message.delivery = Some(change.next.clone());
    tx.execute(
        "UPDATE messages SET doc = ?1 WHERE rowid = ?2",
        params![to_doc(&message)?, rowid],
    )
    .map_err(db)?;
    Ok(())
}

/// The row id and message stored at `at` in the conversation.
fn message_at(
    conn: &Connection,
    ws: &str,
    conv: &str,
    at: MessageAt,
) -> Result<Option<(i64, Message)>, StoreError> {
    let row: Option<(i64, String)> = conn
        .query_row(
            "SELECT rowid, doc FROM messages
             WHERE workspace_id = ?1 AND conversation_id = ?2 AND write_version = ?3 AND position = ?4",
            params![ws, conv, to_i64(at.version), i64::from(at.position)],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .map_err(db)?;
    row.map(|(rowid, doc)| Ok((rowid, from_doc(&doc)?)))
        .transpose()
}
