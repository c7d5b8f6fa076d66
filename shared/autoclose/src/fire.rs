//! The worker's per-message step: fire one due timer through the domain.

use crate::message::TimerMessage;
use inbox_domain::notes::SUMMARY_WINDOW;
use inbox_domain::{Actor, Command, Ctx, DomainError, NoteGenerator, Status, decide};
use inbox_store::{Clock, Commit, ConversationStore, StoreError, UlidIds};

/// How many times a fire re-reads and re-decides after a version conflict.
pub const MAX_FIRE_ATTEMPTS: u32 = 5;

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

/// Why a fire failed (the message is delivered again).
#[derive(Debug, thiserror::Error)]
pub enum FireError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The domain refused the decision.
    #[error("the domain refused to fire: {0}")]
    Domain(#[from] DomainError),
    /// Every attempt met a concurrent change.
    #[error("the conversation kept changing: gave up after {0} attempts")]
    TooManyConflicts(u32),
}

impl FireError {
    /// Whether a later delivery may succeed (a domain refusal never will).
    pub fn is_retryable(&self) -> bool {
        !matches!(self, FireError::Domain(_))
    }
}

/// Fires one timer message: reads the conversation and the settings, lets the
/// domain decide `FireAutoClose` for the generation the sweep saw, and commits
/// the decision guarded by the version read. On a conflict it re-reads and
/// re-decides, so the outcome always reflects the latest committed state.
pub async fn fire<S>(
    store: &S,
    clock: &dyn Clock,
    notes: &dyn NoteGenerator,
    msg: &TimerMessage,
) -> Result<FireOutcome, FireError>
where
    S: ConversationStore + ?Sized,
{
    let mut ids = UlidIds::default();
    for _ in 0..MAX_FIRE_ATTEMPTS {
        let cx = store
            .load_context(&msg.workspace_id, Some(&msg.conversation_id), &[])
            .await?;
        let Some(conv) = cx.conversation else {
            return Ok(FireOutcome::Missing);
        };
        let now = clock.now();
        let fire_cmd = |recent_messages| Command::FireAutoClose {
            generation: msg.generation,
            recent_messages,
        };
        let wants_messages = fire_cmd(Vec::new()).wants_recent_messages(&cx.settings);
        let mut ctx = Ctx {
            now,
            actor: &Actor::System,
            settings: &cx.settings,
            ids: &mut ids,
            notes,
        };
        // Decide without messages first: a stale message (the common duplicate)
        // then costs one read, and only a real close reads the latest messages.
        let mut outcome = decide(&conv, fire_cmd(Vec::new()), &mut ctx)?;
        if outcome.is_noop() {
            return Ok(FireOutcome::Stale);
        }
        if wants_messages {
            let recent = store
                .latest_messages(&msg.workspace_id, &msg.conversation_id, SUMMARY_WINDOW)
                .await?;
            outcome = decide(&conv, fire_cmd(recent), &mut ctx)?;
            if outcome.is_noop() {
                return Ok(FireOutcome::Stale);
            }
        }
        let after = outcome.conversation.clone();
        match store
            .commit(Commit {
                writes: outcome.writes,
                ..Commit::default()
            })
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict) => {
                tracing::debug!(conversation_id = %msg.conversation_id, "fire met a concurrent change; re-deciding");
                continue;
            }
            Err(e) => return Err(e.into()),
        }
        return Ok(if after.status == Status::Closed {
            FireOutcome::Closed {
                note_generated: after
                    .closing
                    .as_ref()
                    .and_then(|c| c.note.as_ref())
                    .is_some_and(|n| n.generated),
            }
        } else {
            FireOutcome::Cleared
        });
    }
    Err(FireError::TooManyConflicts(MAX_FIRE_ATTEMPTS))
}
