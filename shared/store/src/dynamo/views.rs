//! Views: each inbox view is one `Query` on the index keyed for it, the
//! filters it cannot key on applied by DynamoDB, paged by opaque cursors.

use super::cursor::{self, Position};
use super::items::{Item, from_item, s};
use super::table::{
    BY_ACTIVITY, BY_ASSIGNEE, BY_LEAD, BY_PENDING, BY_QUEUE, BY_STATE, IndexDef, PK, SK, keys,
};
use super::{DynamoStore, QuerySpec};
use crate::port::{PageRequest, StoreError};
use inbox_domain::model::{Conversation, ResponderKind, Status};
use inbox_domain::views::MAX_LIMIT;
use inbox_domain::{Filters, ListQuery, View};
use keys::ViewPartition;

/// A filtered view evaluates this many times the page size per `Query` (the
/// filter runs after `Limit`), so dense filters still take one request.
pub(super) const FILTER_READ_AHEAD: usize = 4;

pub(super) fn clamp_limit(limit: usize) -> usize {
    limit.clamp(1, MAX_LIMIT)
}

impl DynamoStore {
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
                    eventually_consistent: spec.eventually_consistent,
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
    pub(super) async fn partition_page(
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
pub(super) struct ViewPlan {
    pub(super) index: IndexDef,
    pub(super) partition: String,
    pub(super) filters: Filters,
    /// The view and filters contradict each other: nothing to read.
    pub(super) empty: bool,
}

pub(super) fn plan(ws: &str, q: &ListQuery, caller: &str) -> ViewPlan {
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
            Some(Status::Closed) => (BY_STATE, ViewPartition::Closed),
            Some(_) => (BY_STATE, ViewPartition::Open),
            None => (BY_ACTIVITY, ViewPartition::All),
        },
        View::Mine => (BY_QUEUE, ViewPartition::Mine(caller)),
        View::AssignedToMe => (BY_ASSIGNEE, ViewPartition::Assignee(caller)),
        View::Unassigned => (BY_QUEUE, ViewPartition::Unassigned),
        View::Unresolved => (BY_STATE, ViewPartition::Open),
        View::Resolved => (BY_STATE, ViewPartition::Closed),
        View::PendingHuman => (BY_PENDING, ViewPartition::PendingHuman),
        View::HasLead => (BY_LEAD, ViewPartition::HasLead),
    };
    // The CLOSED partition holds only closed conversations: the filter is the key.
    if status == Some(Status::Closed) && partition == ViewPartition::Closed {
        filters.status = None;
    }
    ViewPlan {
        index,
        partition: keys::view_pk(ws, partition),
        filters,
        empty,
    }
}

/// The filter expression for what the index key cannot carry.
pub(super) fn add_filters(spec: &mut QuerySpec, f: &Filters) -> bool {
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

pub(super) fn query_fingerprint(ws: &str, q: &ListQuery, caller: &str) -> String {
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

pub(super) fn conversations(items: Vec<Item>) -> Result<Vec<Conversation>, StoreError> {
    items.into_iter().map(from_item).collect()
}
