//! The conversation as the API shows it to one caller.

use crate::access::Caller;
use crate::model::*;
use crate::permissions;
use crate::time::Timestamp;
use serde::Serialize;

/// What the caller may do now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ViewerAbilities {
    /// A reply would be accepted: by role, an AI agent only with the active
    /// session of an open conversation, never to a blocked contact, on
    /// WhatsApp only within 24 hours of the contact's last message.
    pub can_reply: bool,
    /// Why not, when `can_reply` is false: the code the reply would be refused with.
    pub reply_blocked_reason: Option<&'static str>,
    /// By role.
    pub can_assign: bool,
    /// Someone else is assigned and the caller may assign.
    pub can_takeover: bool,
}

/// A conversation response (`GET /conversations/{id}` and list items).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConversationView {
    /// `conv_…`
    pub id: String,
    /// Channel.
    pub channel_id: Option<String>,
    /// Contact snapshot.
    pub contact: ContactSnapshot,
    /// Status.
    pub status: Status,
    /// Assignee.
    pub assignee: Option<NamedRef>,
    /// Team.
    pub team: Option<NamedRef>,
    /// AI agent and session.
    pub agent: Option<AgentAssignment>,
    /// Waiting for a person.
    pub human_handoff: bool,
    /// Last responder.
    pub last_responder: Option<Responder>,
    /// Auto-close due time.
    pub auto_close_at: Option<Timestamp>,
    /// Snoozed until.
    pub snoozed_until: Option<Timestamp>,
    /// Labels.
    pub labels: Vec<String>,
    /// Closing record.
    pub closing: Option<Closing>,
    /// The caller's own unread flag.
    pub unread: bool,
    /// The caller's own favorite flag.
    pub favorite: bool,
    /// What the caller may do.
    pub viewer: ViewerAbilities,
    /// Created.
    pub created_at: Timestamp,
    /// Last activity.
    pub last_activity_at: Timestamp,
    /// Version (also the ETag).
    pub version: u64,
}

/// What `caller` may do on `conv` at `now`: the commands' own permission checks.
pub fn abilities(conv: &Conversation, caller: &Caller, now: Timestamp) -> ViewerAbilities {
    let reply_refusal = permissions::reply_refusal(conv, caller, now);
    ViewerAbilities {
        can_reply: reply_refusal.is_none(),
        reply_blocked_reason: reply_refusal.map(|e| e.code()),
        can_assign: permissions::assign_refusal(caller).is_none(),
        can_takeover: permissions::takeover_refusal(conv, caller).is_none(),
    }
}

/// Renders `conv` for `caller` at `now` (what they may do depends on the time).
pub fn render(conv: &Conversation, caller: &Caller, now: Timestamp) -> ConversationView {
    ConversationView {
        id: conv.id.clone(),
        channel_id: conv.channel_id.clone(),
        contact: conv.contact.clone(),
        status: conv.status,
        assignee: conv.assignee.clone(),
        team: conv.team.clone(),
        agent: conv.agent.clone(),
        human_handoff: conv.human_handoff,
        last_responder: conv.last_responder.clone(),
        auto_close_at: conv.auto_close_at(),
        snoozed_until: conv.snoozed_until,
        labels: conv.labels.clone(),
        closing: conv.closing.clone(),
        unread: conv.is_unread_for(&caller.id),
        favorite: conv.is_favorite_for(&caller.id),
        viewer: abilities(conv, caller, now),
        created_at: conv.created_at,
        last_activity_at: conv.last_activity_at,
        version: conv.version,
    }
}
