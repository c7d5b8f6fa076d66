//! Inbox views and filters as predicates over a conversation, so every store
//! can be tested against the same definition.

use crate::error::DomainError;
use crate::model::{Conversation, ResponderKind, Status};
use std::cmp::Ordering;

/// The default page size.
pub const DEFAULT_LIMIT: usize = 50;
/// The largest page size.
pub const MAX_LIMIT: usize = 200;

/// An inbox view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum View {
    /// Everything.
    All,
    /// Assigned to the caller, not closed ("Your inbox").
    Mine,
    /// Assigned to the caller, any status.
    AssignedToMe,
    /// Nobody assigned, not closed.
    Unassigned,
    /// Not closed.
    Unresolved,
    /// Closed.
    Resolved,
    /// Waiting for a human, not closed.
    PendingHuman,
    /// The contact has an email or phone.
    HasLead,
}

impl View {
    /// Every view, in the order the docs list them.
    pub const ALL: [View; 8] = [
        View::All,
        View::Mine,
        View::AssignedToMe,
        View::Unassigned,
        View::Unresolved,
        View::Resolved,
        View::PendingHuman,
        View::HasLead,
    ];

    /// Parses a `view=` value.
    pub fn parse(s: &str) -> Option<View> {
        View::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            View::All => "all",
            View::Mine => "mine",
            View::AssignedToMe => "assigned_to_me",
            View::Unassigned => "unassigned",
            View::Unresolved => "unresolved",
            View::Resolved => "resolved",
            View::PendingHuman => "pending_human",
            View::HasLead => "has_lead",
        }
    }

    /// Whether `conv` is in this view for `caller_id`.
    pub fn matches(self, conv: &Conversation, caller_id: &str) -> bool {
        let open = !conv.is_closed();
        match self {
            View::All => true,
            View::Mine => open && conv.assignee_id() == Some(caller_id),
            View::AssignedToMe => conv.assignee_id() == Some(caller_id),
            View::Unassigned => open && conv.assignee.is_none(),
            View::Unresolved => open,
            View::Resolved => !open,
            View::PendingHuman => open && conv.human_handoff,
            View::HasLead => conv.contact.has_lead,
        }
    }
}

/// Filters that combine with any view.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Filters {
    /// Team id.
    pub team: Option<String>,
    /// A label the conversation carries.
    pub label: Option<String>,
    /// Channel id.
    pub channel_id: Option<String>,
    /// Kind of the last responder.
    pub agent_type: Option<ResponderKind>,
    /// Id of the last responder.
    pub responded_by: Option<String>,
    /// Status.
    pub status: Option<Status>,
}

impl Filters {
    /// Whether `conv` passes every filter.
    pub fn matches(&self, conv: &Conversation) -> bool {
        self.team
            .as_ref()
            .is_none_or(|t| conv.team.as_ref().is_some_and(|ct| &ct.id == t))
            && self.label.as_ref().is_none_or(|l| conv.labels.contains(l))
            && self
                .channel_id
                .as_ref()
                .is_none_or(|c| conv.channel_id.as_ref() == Some(c))
            && self
                .agent_type
                .is_none_or(|k| conv.last_responder.as_ref().is_some_and(|r| r.kind == k))
            && self
                .responded_by
                .as_ref()
                .is_none_or(|id| conv.last_responder.as_ref().is_some_and(|r| &r.id == id))
            && self.status.is_none_or(|s| conv.status == s)
    }
}

/// A list request: a view, filters and the caller it is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ListQuery {
    /// The view.
    pub view: View,
    /// The filters.
    pub filters: Filters,
}

impl ListQuery {
    /// Whether `conv` is listed for `caller_id`.
    pub fn matches(&self, conv: &Conversation, caller_id: &str) -> bool {
        self.view.matches(conv, caller_id) && self.filters.matches(conv)
    }

    /// Parses query parameters (`view`, the filters); `limit` and `cursor` are
    /// skipped here. Unknown parameters or values are 400 `bad_request`.
    pub fn parse<'a>(
        params: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<ListQuery, DomainError> {
        let mut q = ListQuery {
            view: View::All,
            filters: Filters::default(),
        };
        let bad = |m: String| DomainError::BadRequest(m);
        let mut seen = std::collections::HashSet::new();
        for (k, v) in params {
            if !seen.insert(k.to_string()) {
                return Err(bad(format!("parameter {k} is given more than once")));
            }
            let nonempty = |v: &str| -> Result<String, DomainError> {
                if v.is_empty() {
                    Err(bad(format!("parameter {k} is empty")))
                } else {
                    Ok(v.to_string())
                }
            };
            match k {
                "view" => {
                    q.view = View::parse(v).ok_or_else(|| bad(format!("unknown view {v:?}")))?
                }
                "team" => q.filters.team = Some(nonempty(v)?),
                "label" => q.filters.label = Some(nonempty(v)?),
                "channel_id" => q.filters.channel_id = Some(nonempty(v)?),
                "responded_by" => q.filters.responded_by = Some(nonempty(v)?),
                "agent_type" => {
                    q.filters.agent_type = Some(match v {
                        "ai" => ResponderKind::Ai,
                        "human" => ResponderKind::Human,
                        _ => return Err(bad(format!("agent_type must be ai or human, not {v:?}"))),
                    })
                }
                "status" => {
                    q.filters.status = Some(match v {
                        "unset" => Status::Unset,
                        "open" => Status::Open,
                        "closed" => Status::Closed,
                        _ => {
                            return Err(bad(format!(
                                "status must be unset, open or closed, not {v:?}"
                            )));
                        }
                    })
                }
                "limit" | "cursor" => {}
                _ => return Err(bad(format!("unknown parameter {k:?}"))),
            }
        }
        Ok(q)
    }
}

/// The most rows `GET /conversations/export.csv` answers directly: about
/// 3 MB of CSV, inside a Lambda response (6 MB) and its time.
pub const MAX_EXPORT_ROWS: usize = 10_000;

/// The most rows an export job writes to a file: about 30 MB of CSV, read
/// in one job step well inside the job worker's time.
pub const MAX_EXPORT_JOB_ROWS: usize = 100_000;

/// Refuses an export that has reached more than `max` rows
/// ([`MAX_EXPORT_ROWS`] answered directly, [`MAX_EXPORT_JOB_ROWS`] as a file).
pub fn check_export_rows(rows: usize, max: usize) -> Result<(), DomainError> {
    if rows > max {
        Err(DomainError::ExportTooLarge(max))
    } else {
        Ok(())
    }
}

/// Parses `limit` (default 50, 1 to 200).
pub fn parse_limit(raw: Option<&str>) -> Result<usize, DomainError> {
    match raw {
        None => Ok(DEFAULT_LIMIT),
        Some(s) => match s.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            _ => Err(DomainError::BadRequest(format!(
                "limit must be a whole number from 1 to {MAX_LIMIT}"
            ))),
        },
    }
}

/// List order: newest `last_activity_at` first, then id descending (a total order).
pub fn list_order(a: &Conversation, b: &Conversation) -> Ordering {
    b.last_activity_at
        .cmp(&a.last_activity_at)
        .then_with(|| b.id.cmp(&a.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_rejects_unknown_views_filters_and_values() {
        assert!(ListQuery::parse([("view", "mine")]).is_ok());
        assert!(ListQuery::parse([("view", "everything")]).is_err());
        assert!(ListQuery::parse([("colour", "red")]).is_err());
        assert!(ListQuery::parse([("agent_type", "robot")]).is_err());
        assert!(ListQuery::parse([("status", "pending")]).is_err());
        assert!(ListQuery::parse([("view", "all"), ("view", "mine")]).is_err());
        let q =
            ListQuery::parse([("view", "resolved"), ("agent_type", "ai"), ("limit", "5")]).unwrap();
        assert_eq!(q.view, View::Resolved);
        assert_eq!(q.filters.agent_type, Some(ResponderKind::Ai));
    }

    #[test]
    fn limits() {
        assert_eq!(parse_limit(None).unwrap(), 50);
        assert_eq!(parse_limit(Some("200")).unwrap(), 200);
        assert!(parse_limit(Some("0")).is_err());
        assert!(parse_limit(Some("201")).is_err());
        assert!(parse_limit(Some("x")).is_err());
    }
}
