//! What an LLM AI agent sees of a conversation and what its answer means:
//! the prompt built from the agent's instructions and the latest messages
//! (the contact is `user`, the agent `assistant`; internal notes are not
//! messages and never reach it), and the model's answer read as a reply or
//! a request for a human. The wire format is the adapter's; the rules are here.

use crate::model::{Message, SenderKind};
use std::fmt;

/// The name of the tool a model calls to ask for a human.
pub const HANDOFF_TOOL: &str = "handoff";

/// Where an LLM agent's model is and how long it may take.
#[derive(Clone, PartialEq, Eq)]
pub struct ModelEndpoint {
    /// The OpenAI-compatible API's base (`https://api.openai.com/v1`); the
    /// request goes to `{base_url}/chat/completions`.
    pub base_url: String,
    /// The model's name as that API knows it.
    pub model: String,
    /// Sent as `Authorization: Bearer …`.
    pub api_key: String,
    /// How long one request may take, in seconds.
    pub timeout_seconds: u64,
}

// The key is a secret: never in logs.
impl fmt::Debug for ModelEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ModelEndpoint")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &"<redacted>")
            .field("timeout_seconds", &self.timeout_seconds)
            .finish()
    }
}

/// Who a turn of the prompt is from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The agent's instructions.
    System,
    /// The contact.
    User,
    /// The business side: this agent, and anyone else who wrote to the contact.
    Assistant,
}

impl Role {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One turn of the prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    /// From whom.
    pub role: Role,
    /// What they said.
    pub content: String,
}

/// The prompt for agent `agent_id`: its `instructions` as the system turn,
/// then the last `history` messages, oldest first. The contact's messages
/// are `user` turns and the agent's own `assistant` turns; what others
/// wrote to the contact (a member, another AI agent, an integration's
/// broadcast) is an `assistant` turn that says who wrote it, so the model
/// knows it did not.
pub fn prompt(
    instructions: &str,
    agent_id: &str,
    messages: &[Message],
    history: usize,
) -> Vec<Turn> {
    let mut turns = Vec::with_capacity(history.min(messages.len()) + 1);
    if !instructions.trim().is_empty() {
        turns.push(Turn {
            role: Role::System,
            content: instructions.to_string(),
        });
    }
    let start = messages.len().saturating_sub(history);
    for m in &messages[start..] {
        let own = m.sender.kind == SenderKind::AiAgent && m.sender.id.as_deref() == Some(agent_id);
        let (role, content) = match m.sender.kind {
            SenderKind::Contact => (Role::User, m.body.clone()),
            _ if own => (Role::Assistant, m.body.clone()),
            kind => {
                let who = m
                    .sender
                    .name
                    .clone()
                    .or_else(|| m.sender.id.clone())
                    .unwrap_or_else(|| "someone".to_string());
                let what = match kind {
                    SenderKind::Member => "a team member",
                    SenderKind::AiAgent => "another AI agent",
                    SenderKind::Broadcast => "a broadcast",
                    SenderKind::Workflow => "a workflow",
                    SenderKind::Contact => "the contact",
                };
                (Role::Assistant, format!("[{who}, {what}] {}", m.body))
            }
        };
        turns.push(Turn { role, content });
    }
    turns
}

/// What a summarizer agent's model is told (its own instructions are for
/// talking to contacts, not for this).
pub const SUMMARY_INSTRUCTIONS: &str = "Summarize this customer-support conversation for the team's records in at most three short sentences: what the contact wanted and how it was resolved. Answer with the summary only.";

/// The longest a model-written summary is kept, in characters.
pub const MAX_SUMMARY_CHARS: usize = 2_000;

/// The prompt for a summary of `messages` (the latest `SUMMARY_WINDOW`) by agent `agent_id`.
pub fn summary_prompt(agent_id: &str, messages: &[Message]) -> Vec<Turn> {
    prompt(
        SUMMARY_INSTRUCTIONS,
        agent_id,
        messages,
        crate::notes::SUMMARY_WINDOW,
    )
}

/// A model's summary as kept: trimmed and cut to [`MAX_SUMMARY_CHARS`].
pub fn summary_of(answer: ModelAnswer) -> Option<String> {
    match answer {
        ModelAnswer::Reply(text) => {
            let text = text.trim();
            (!text.is_empty()).then(|| text.chars().take(MAX_SUMMARY_CHARS).collect())
        }
        // Asking for a person is no summary.
        ModelAnswer::Handoff { .. } => None,
    }
}

/// What a model answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelAnswer {
    /// Text to post as the agent's reply.
    Reply(String),
    /// The model called the handoff tool.
    Handoff {
        /// Its reason, if it gave one.
        reason: Option<String>,
    },
}

/// Why a model gave no usable answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelFailure {
    /// It did not answer within the agent's timeout.
    #[error("the model did not answer in time")]
    Timeout,
    /// It could not be reached.
    #[error("the model could not be reached: {0}")]
    Unreachable(String),
    /// It answered with an HTTP error.
    #[error("the model answered {status}: {message}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The error's message, as the API gave it.
        message: String,
        /// Seconds it asked to wait (`Retry-After`).
        retry_after: Option<u64>,
    },
    /// It answered something that is neither text nor a handoff.
    #[error("the model's answer was not usable: {0}")]
    Malformed(String),
}

impl ModelFailure {
    /// Whether another try may succeed: timeouts, unreachable, 408, 429,
    /// 5xx and malformed answers may; any other refusal (a wrong key, an
    /// unknown model) will not, so the conversation goes to a human at once.
    pub fn is_retryable(&self) -> bool {
        match self {
            ModelFailure::Timeout | ModelFailure::Unreachable(_) | ModelFailure::Malformed(_) => {
                true
            }
            ModelFailure::Status { status, .. } => {
                *status == 408 || *status == 429 || *status >= 500
            }
        }
    }
}

/// Reads a model's message: a `handoff` tool call wins over any text;
/// otherwise the text, which must not be blank.
pub fn read_answer(
    content: Option<&str>,
    tool_calls: &[(String, Option<String>)],
) -> Result<ModelAnswer, ModelFailure> {
    if let Some((_, reason)) = tool_calls.iter().find(|(name, _)| name == HANDOFF_TOOL) {
        let reason = reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string);
        return Ok(ModelAnswer::Handoff { reason });
    }
    if let Some((name, _)) = tool_calls.first() {
        return Err(ModelFailure::Malformed(format!(
            "it called an unknown tool {name}"
        )));
    }
    match content.map(str::trim) {
        Some(text) if !text.is_empty() => Ok(ModelAnswer::Reply(text.to_string())),
        _ => Err(ModelFailure::Malformed("it answered no text".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Sender;
    use crate::time::Timestamp;

    fn msg(kind: SenderKind, id: &str, name: Option<&str>, body: &str) -> Message {
        Message {
            id: format!("msg_{body}"),
            conversation_id: "c".into(),
            sender: Sender {
                kind,
                id: Some(id.into()),
                name: name.map(String::from),
            },
            body: body.into(),
            created_at: Timestamp::from_millis(0),
            channel_message_id: None,
            delivery: None,
        }
    }

    #[test]
    fn the_prompt_is_the_instructions_then_the_latest_messages_by_role() {
        let messages = vec![
            msg(SenderKind::Contact, "ct", Some("Ann"), "one"),
            msg(SenderKind::AiAgent, "max", Some("Max"), "two"),
            msg(SenderKind::Member, "bob", Some("Bob Ray"), "three"),
            msg(SenderKind::AiAgent, "eve", None, "four"),
            msg(SenderKind::Contact, "ct", Some("Ann"), "five"),
        ];
        let turns = prompt("You are Max.", "max", &messages, 4);
        let got: Vec<(&str, &str)> = turns
            .iter()
            .map(|t| (t.role.as_str(), t.content.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("system", "You are Max."),
                ("assistant", "two"),
                ("assistant", "[Bob Ray, a team member] three"),
                ("assistant", "[eve, another AI agent] four"),
                ("user", "five"),
            ]
        );
        assert_eq!(
            prompt("  ", "max", &messages, 1).len(),
            1,
            "no blank system turn"
        );
        assert_eq!(prompt("x", "max", &[], 20).len(), 1);
    }

    #[test]
    fn a_handoff_call_wins_text_must_not_be_blank() {
        let handoff = vec![("handoff".to_string(), Some(" wants a person ".to_string()))];
        assert_eq!(
            read_answer(Some("ignored"), &handoff),
            Ok(ModelAnswer::Handoff {
                reason: Some("wants a person".into())
            })
        );
        assert_eq!(
            read_answer(None, &[("handoff".into(), None)]),
            Ok(ModelAnswer::Handoff { reason: None })
        );
        assert_eq!(
            read_answer(Some(" Hi "), &[]),
            Ok(ModelAnswer::Reply("Hi".into()))
        );
        assert!(matches!(
            read_answer(Some("  "), &[]),
            Err(ModelFailure::Malformed(_))
        ));
        assert!(matches!(
            read_answer(None, &[]),
            Err(ModelFailure::Malformed(_))
        ));
        assert!(matches!(
            read_answer(Some("x"), &[("weather".into(), None)]),
            Err(ModelFailure::Malformed(_))
        ));
    }

    #[test]
    fn only_failures_that_may_pass_are_retried() {
        let status = |s| ModelFailure::Status {
            status: s,
            message: String::new(),
            retry_after: None,
        };
        for f in [
            ModelFailure::Timeout,
            ModelFailure::Unreachable("x".into()),
            ModelFailure::Malformed("x".into()),
            status(429),
            status(500),
            status(503),
            status(408),
        ] {
            assert!(f.is_retryable(), "{f:?}");
        }
        for f in [status(400), status(401), status(403), status(404)] {
            assert!(!f.is_retryable(), "{f:?}");
        }
    }

    #[test]
    fn the_key_never_shows_in_debug() {
        let e = ModelEndpoint {
            base_url: "http://x/v1".into(),
            model: "m".into(),
            api_key: "sk-secret".into(),
            timeout_seconds: 20,
        };
        assert!(!format!("{e:?}").contains("sk-secret"));
    }
}
