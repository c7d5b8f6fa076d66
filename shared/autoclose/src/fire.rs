//! The worker's per-message step: fire one due timer through the domain.

use crate::message::TimerMessage;
use inbox_app::{App, AppError, Decision, Plan, Principal, Target};
use inbox_domain::{Command, Status};
use inbox_store::{ContactStore, ConversationStore};

/// What firing a timer message did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FireOutcome {
    /// The conversation closed (`auto_close`), with a generated note or not.
    Closed {
        /// Whether a generated closing note was added.
        note_generated: bool,
    },
    /// Auto-close is off (or the contact is blocked): the due timer was cleared, nothing closed.
    Cleared,
    /// Nothing to do: the timer was reset, cancelled or not yet due, or the conversation is closed.
    Stale,
    /// The conversation does not exist (any more): acknowledged.
    Missing,
}

/// Why a fire failed (the message is delivered again, unless it never can succeed).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct FireError(#[from] AppError);

impl FireError {
    /// Whether a later delivery may succeed (a domain refusal never will).
    pub fn is_retryable(&self) -> bool {
        !matches!(self.0, AppError::Domain(_))
    }
}

/// Fires one timer message through the application layer: the domain decides
/// `FireAutoClose` for the generation the sweep saw on the conversation as
/// read, and the decision is committed guarded by the version read. On a
/// conflict it is re-read and re-decided, so the outcome always reflects the
/// latest committed state. A stale message (the common duplicate) costs one
/// read: the latest messages are read only for a real close that generates a note.
pub async fn fire<S>(app: &App<S>, msg: &TimerMessage) -> Result<FireOutcome, FireError>
where
    S: ConversationStore + ContactStore,
{
    let plan = Plan::new(
        msg.workspace_id.as_str(),
        Principal::System,
        Target::Conversation(msg.conversation_id.clone()),
    );
    let generation = msg.generation;
    let done = match app
        .execute(plan, |_, _| {
            Ok(Decision::Command(Command::FireAutoClose {
                generation,
                recent_messages: Vec::new(),
            }))
        })
        .await
    {
        Ok(done) => done,
        Err(AppError::NotFound(_)) => return Ok(FireOutcome::Missing),
        Err(e) => return Err(e.into()),
    };
    if !done.written {
        return Ok(FireOutcome::Stale);
    }
    let after = &done.outcome.conversation;
    Ok(if after.status == Status::Closed {
        FireOutcome::Closed {
            note_generated: after
                .closing
                .as_ref()
                .and_then(|c| c.note.as_ref())
                .is_some_and(|n| n.generated),
        }
    } else {
        FireOutcome::Cleared
    })
}
