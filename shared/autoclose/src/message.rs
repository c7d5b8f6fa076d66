//! The queue message: one due timer, as the sweep saw it.

use inbox_domain::Timestamp;
use inbox_store::DueTimer;
use serde::{Deserialize, Serialize};

/// One due timer, sent by the sweep and fired by the worker (JSON body).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimerMessage {
    /// Workspace.
    pub workspace_id: String,
    /// Conversation.
    pub conversation_id: String,
    /// When the timer came due, as the sweep saw it (informational: the worker re-reads).
    pub due_at: Timestamp,
    /// The timer generation the sweep saw: the worker fires only this one.
    pub generation: u64,
}

/// A queue body that is not a timer message.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    /// The record had no body.
    #[error("the message has no body")]
    MissingBody,
    /// The body is not a timer message.
    #[error("malformed timer message: {0}")]
    Malformed(#[from] serde_json::Error),
}

impl TimerMessage {
    /// The JSON body.
    pub fn to_body(&self) -> String {
        // A struct of strings and integers always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses a JSON body.
    pub fn from_body(body: Option<&str>) -> Result<Self, MessageError> {
        let body = body.ok_or(MessageError::MissingBody)?;
        Ok(serde_json::from_str(body)?)
    }

    /// A stable key for the timer this names (one per conversation and generation).
    pub fn dedupe_key(&self) -> String {
        format!(
            "{}/{}/{}",
            self.workspace_id, self.conversation_id, self.generation
        )
    }
}

impl From<DueTimer> for TimerMessage {
    fn from(t: DueTimer) -> Self {
        TimerMessage {
            workspace_id: t.workspace_id,
            conversation_id: t.conversation_id,
            due_at: t.due_at,
            generation: t.generation,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_round_trips_and_rejects_garbage() {
        let m = TimerMessage {
            workspace_id: "ws1".into(),
            conversation_id: "conv_1".into(),
            due_at: Timestamp::from_millis(1_700_000_000_123),
            generation: 7,
        };
        let body = m.to_body();
        assert!(body.contains("\"due_at\":\"2023-11-14T22:13:20.123Z\""));
        assert_eq!(TimerMessage::from_body(Some(&body)).unwrap(), m);
        assert!(matches!(
            TimerMessage::from_body(None),
            Err(MessageError::MissingBody)
        ));
        assert!(TimerMessage::from_body(Some("{\"workspace_id\":1}")).is_err());
        assert!(TimerMessage::from_body(Some("not json")).is_err());
    }
}
