//! What the event crate's tests share.

use inbox_domain::model::{DomainEvent, ReplyTrigger};

/// A distinct domain event per `n` (an AI reply request on `conv_<n>`).
pub fn event(n: usize) -> DomainEvent {
    DomainEvent::AiReplyRequested {
        workspace_id: "acme".into(),
        conversation_id: format!("conv_{n}"),
        agent_id: "max".into(),
        session_id: "as_1".into(),
        trigger: ReplyTrigger::ContactMessage,
        message_id: Some(format!("msg_{n}")),
    }
}
