//! What a caller may do on a conversation now. The commands refuse with these
//! very checks, and the conversation's `viewer` is derived from them, so a
//! screen never offers what the server would refuse.

use crate::access::{Caller, Capability, Role};
use crate::delivery::reply_window_closed;
use crate::error::DomainError;
use crate::model::Conversation;
use crate::time::Timestamp;

/// Whether `agent_id` holds the conversation's active AI session.
pub fn holds_active_session(conv: &Conversation, agent_id: &str) -> bool {
    conv.agent.as_ref().is_some_and(|a| a.id == agent_id) && conv.has_active_session()
}

/// Whether `session_id` is the conversation's active AI session, held by
/// `agent_id`: an answer to a request made in another session (one that
/// ended, or an earlier one of a conversation handed back to the AI) is late.
pub fn holds_session(conv: &Conversation, agent_id: &str, session_id: &str) -> bool {
    holds_active_session(conv, agent_id)
        && conv
            .agent
            .as_ref()
            .and_then(|a| a.session.as_ref())
            .is_some_and(|s| s.id == session_id)
}

/// Why `caller` may not post a message on `conv` at `now`, or `None` when
/// they may: their role, an AI agent without the active session (or on a
/// closed conversation), a blocked contact, WhatsApp's closed reply window.
/// (A member's own profile and the body are checked by the reply itself.)
pub fn reply_refusal(conv: &Conversation, caller: &Caller, now: Timestamp) -> Option<DomainError> {
    if !caller.role.can(Capability::PostMessage) {
        return Some(DomainError::Forbidden);
    }
    if caller.role == Role::AiAgent && (!holds_active_session(conv, &caller.id) || conv.is_closed())
    {
        return Some(DomainError::AiPaused);
    }
    if conv.contact.blocked {
        return Some(DomainError::ContactBlocked);
    }
    if reply_window_closed(conv, now) {
        return Some(DomainError::ReplyWindowClosed);
    }
    None
}

/// Why `caller` may not assign members, teams or agents on `conv`, if not.
pub fn assign_refusal(caller: &Caller) -> Option<DomainError> {
    (!caller.role.can(Capability::ChatEdit)).then_some(DomainError::Forbidden)
}

/// Why `caller` may not take `conv` over now, or `None` when someone else is
/// assigned and the caller may assign.
pub fn takeover_refusal(conv: &Conversation, caller: &Caller) -> Option<DomainError> {
    if let Some(e) = assign_refusal(caller) {
        return Some(e);
    }
    match conv.assignee_id() {
        Some(a) if a != caller.id => None,
        _ => Some(DomainError::TakeoverNotApplicable),
    }
}
