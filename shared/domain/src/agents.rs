//! How an AI agent answers (`external`, `webhook`, `llm`), what its settings
//! may be, and the rules of an answer: which request it answers, how often
//! a dead agent is tried before the conversation goes to a person, and what a
//! webhook agent's response body means.

use crate::error::{DomainError, FieldError};
use crate::llm::{ModelAnswer, ModelEndpoint, ModelFailure};
use crate::model::{Conversation, DomainEvent, Message, ReplyTrigger};
use crate::time::Timestamp;
use crate::webhooks::{UrlPolicy, WebhookEvent, WebhookUrl};
use serde::{Deserialize, Serialize};
use std::fmt;

/// How many messages an LLM or webhook agent sees when its settings do not say.
pub const DEFAULT_HISTORY_MESSAGES: usize = 20;
/// The most messages an agent may ask to see.
pub const MAX_HISTORY_MESSAGES: usize = 100;
/// A model request's timeout when the settings do not say, in seconds.
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 20;
/// The longest a model request may take, in seconds.
pub const MAX_TIMEOUT_SECONDS: u64 = 60;
/// The longest instructions an LLM agent may have, in characters.
pub const MAX_INSTRUCTIONS_CHARS: usize = 20_000;
/// The longest model name, in characters.
const MAX_MODEL_CHARS: usize = 200;
/// The longest API key, in bytes.
const MAX_API_KEY_BYTES: usize = 4_096;

/// An agent is tried this many times before the conversation goes to a person.
pub const ANSWER_TRIES: u32 = 3;
/// The waits before the second and third tries, in milliseconds.
pub const ANSWER_WAITS_MILLIS: [u64; 2] = [2_000, 5_000];
/// Every try of one request ends by this many milliseconds after the first
/// began: a try that could run past it is not made, so a contact waits at
/// most this long (and the hand-off's write) for a person to be asked.
pub const ANSWER_DEADLINE_MILLIS: u64 = 70_000;

/// How an AI agent answers.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AgentKind {
    /// Nothing is called: the agent listens to the event bus and answers with its API key.
    #[default]
    External,
    /// Each reply request is POSTed, signed, to the agent's URL.
    Webhook(WebhookAgent),
    /// The inbox calls an OpenAI-compatible Chat Completions API itself.
    Llm(LlmAgent),
}

impl AgentKind {
    /// The wire name: `external`, `webhook` or `llm`.
    pub fn as_str(&self) -> &'static str {
        match self {
            AgentKind::External => "external",
            AgentKind::Webhook(_) => "webhook",
            AgentKind::Llm(_) => "llm",
        }
    }
}

// Secrets never reach a log.
impl fmt::Debug for AgentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgentKind::External => f.write_str("External"),
            AgentKind::Webhook(w) => f
                .debug_struct("Webhook")
                .field("url", &w.url)
                .field("secret", &"<redacted>")
                .finish(),
            AgentKind::Llm(l) => f
                .debug_struct("Llm")
                .field("base_url", &l.base_url)
                .field("model", &l.model)
                .field("api_key", &"<redacted>")
                .field("history_messages", &l.history_messages)
                .field("timeout_seconds", &l.timeout_seconds)
                .finish(),
        }
    }
}

/// A webhook agent's settings.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookAgent {
    /// Where reply requests are POSTed.
    pub url: String,
    /// `whsec_…`: the signing secret, shown when made and when rotated.
    pub secret: String,
    /// How many of the latest messages a request carries.
    pub history_messages: usize,
}

/// An LLM agent's settings.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LlmAgent {
    /// The API's base URL (`https://api.openai.com/v1`).
    pub base_url: String,
    /// The model's name.
    pub model: String,
    /// Sent as a bearer token; never returned.
    pub api_key: String,
    /// The system message.
    pub instructions: String,
    /// How many of the latest messages the model sees.
    pub history_messages: usize,
    /// How long one request may take, in seconds.
    pub timeout_seconds: u64,
}

impl LlmAgent {
    /// Where and how to call its model.
    pub fn endpoint(&self) -> ModelEndpoint {
        ModelEndpoint {
            base_url: self.base_url.clone(),
            model: self.model.clone(),
            api_key: self.api_key.clone(),
            timeout_seconds: self.timeout_seconds,
        }
    }
}

/// The `llm` object of a `PUT /agents/{id}` body, as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LlmInput {
    /// Required.
    pub base_url: Option<String>,
    /// Required.
    pub model: Option<String>,
    /// Required when the agent is not already an LLM agent with a key.
    pub api_key: Option<String>,
    /// Optional system message.
    pub instructions: Option<String>,
    /// 1 to 100, default 20.
    pub history_messages: Option<i64>,
    /// 1 to 60, default 20.
    pub timeout_seconds: Option<i64>,
}

/// The kind-specific part of a `PUT /agents/{id}` body, as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentInput {
    /// `external` (default), `webhook` or `llm`.
    pub kind: Option<String>,
    /// `webhook.url`, when the `webhook` object is given.
    pub webhook_url: Option<Option<String>>,
    /// `webhook.history_messages`.
    pub webhook_history: Option<i64>,
    /// The `llm` object, when given.
    pub llm: Option<LlmInput>,
}

fn field(name: &str, message: &str) -> DomainError {
    DomainError::Validation {
        message: format!("{name} {message}"),
        errors: vec![FieldError::new(name, message)],
    }
}

fn bounded(name: &str, value: Option<i64>, default: u64, max: u64) -> Result<u64, DomainError> {
    match value {
        None => Ok(default),
        Some(v) if v >= 1 && v.unsigned_abs() <= max => Ok(v.unsigned_abs()),
        Some(_) => Err(field(name, &format!("must be from 1 to {max}"))),
    }
}

fn history(name: &str, value: Option<i64>) -> Result<usize, DomainError> {
    let n = bounded(
        name,
        value,
        DEFAULT_HISTORY_MESSAGES as u64,
        MAX_HISTORY_MESSAGES as u64,
    )?;
    Ok(usize::try_from(n).unwrap_or(DEFAULT_HISTORY_MESSAGES))
}

fn required_text(name: &str, value: Option<&str>, max_chars: usize) -> Result<String, DomainError> {
    let v = value.map(str::trim).unwrap_or_default();
    if v.is_empty() {
        return Err(field(name, "is required"));
    }
    if v.chars().count() > max_chars || v.chars().any(char::is_control) {
        return Err(field(
            name,
            &format!("must be at most {max_chars} characters, on one line"),
        ));
    }
    Ok(v.to_string())
}

impl AgentKind {
    /// The kind a `PUT` body asks for, given what the agent was (`existing`).
    /// Secrets carry over: a webhook agent keeps its secret (`new_secret`
    /// makes one only for an agent that was not a webhook agent), an LLM
    /// agent its key when the body gives none. URLs are checked under
    /// `policy` (`invalid_url`); everything else is 422 `validation_failed`.
    pub fn parse(
        input: &AgentInput,
        existing: Option<&AgentKind>,
        policy: UrlPolicy,
        new_secret: impl FnOnce() -> String,
    ) -> Result<AgentKind, DomainError> {
        let kind = input.kind.as_deref().unwrap_or("external");
        let only = |name: &str, given: bool| -> Result<(), DomainError> {
            if given {
                Err(field(name, &format!("is not a setting of a {kind} agent")))
            } else {
                Ok(())
            }
        };
        match kind {
            "external" => {
                only("webhook", input.webhook_url.is_some())?;
                only("llm", input.llm.is_some())?;
                Ok(AgentKind::External)
            }
            "webhook" => {
                only("llm", input.llm.is_some())?;
                let url = match &input.webhook_url {
                    Some(Some(url)) => WebhookUrl::parse(url, policy)?,
                    _ => return Err(field("webhook.url", "is required")),
                };
                let secret = match existing {
                    Some(AgentKind::Webhook(w)) => w.secret.clone(),
                    _ => new_secret(),
                };
                Ok(AgentKind::Webhook(WebhookAgent {
                    url: url.as_str().to_string(),
                    secret,
                    history_messages: history("webhook.history_messages", input.webhook_history)?,
                }))
            }
            "llm" => {
                only("webhook", input.webhook_url.is_some())?;
                let Some(llm) = &input.llm else {
                    return Err(field("llm", "is required"));
                };
                let base_url = match &llm.base_url {
                    Some(url) => WebhookUrl::parse(url.trim_end_matches('/'), policy)?,
                    None => return Err(field("llm.base_url", "is required")),
                };
                let model = required_text("llm.model", llm.model.as_deref(), MAX_MODEL_CHARS)?;
                let api_key = match (&llm.api_key, existing) {
                    (Some(key), _) => required_text("llm.api_key", Some(key), MAX_API_KEY_BYTES)?,
                    (None, Some(AgentKind::Llm(old))) => old.api_key.clone(),
                    (None, _) => return Err(field("llm.api_key", "is required")),
                };
                let instructions = llm.instructions.clone().unwrap_or_default();
                if instructions.chars().count() > MAX_INSTRUCTIONS_CHARS {
                    return Err(field(
                        "llm.instructions",
                        &format!("must be at most {MAX_INSTRUCTIONS_CHARS} characters"),
                    ));
                }
                Ok(AgentKind::Llm(LlmAgent {
                    base_url: base_url.as_str().trim_end_matches('/').to_string(),
                    model,
                    api_key,
                    instructions,
                    history_messages: history("llm.history_messages", llm.history_messages)?,
                    timeout_seconds: bounded(
                        "llm.timeout_seconds",
                        llm.timeout_seconds,
                        DEFAULT_TIMEOUT_SECONDS,
                        MAX_TIMEOUT_SECONDS,
                    )?,
                }))
            }
            _ => Err(field("kind", "must be external, webhook or llm")),
        }
    }
}

/// One `ai.reply_requested`: the work of answering it, as queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    /// Workspace.
    pub workspace_id: String,
    /// Conversation.
    pub conversation_id: String,
    /// The agent asked.
    pub agent_id: String,
    /// The session it was asked in: an answer counts only while it is active.
    pub session_id: String,
    /// Why.
    pub trigger: ReplyTrigger,
    /// The contact's message it answers, if any.
    pub message_id: Option<String>,
}

impl AnswerRequest {
    /// The request an event asks for (`None` for any other event).
    pub fn of(event: &DomainEvent) -> Option<AnswerRequest> {
        match event {
            DomainEvent::AiReplyRequested {
                workspace_id,
                conversation_id,
                agent_id,
                session_id,
                trigger,
                message_id,
            } => Some(AnswerRequest {
                workspace_id: workspace_id.clone(),
                conversation_id: conversation_id.clone(),
                agent_id: agent_id.clone(),
                session_id: session_id.clone(),
                trigger: *trigger,
                message_id: message_id.clone(),
            }),
            _ => None,
        }
    }

    /// Whether an answer to it may still be posted on `conv`: its session is
    /// the active one and the conversation is not closed.
    pub fn is_current(&self, conv: &Conversation) -> bool {
        crate::permissions::holds_session(conv, &self.agent_id, &self.session_id)
            && !conv.is_closed()
    }

    /// What the request is, the same however often it is delivered: the
    /// answer's dedupe key (one answer per request) and a webhook agent's
    /// `webhook-id` (receivers deduplicate on it).
    pub fn key(&self) -> String {
        format!(
            "aireq_{}_{}",
            self.session_id,
            self.message_id.as_deref().unwrap_or("initial")
        )
    }
}

/// The `ai.reply_requested` event a webhook agent receives: its
/// `webhook-id` is the request's [`AnswerRequest::key`] (the same on every
/// try), and its `data` holds the request, the conversation as an agent
/// needs it, and the latest messages, oldest first (internal notes are not
/// messages and are never sent).
pub fn reply_request_event(
    req: &AnswerRequest,
    conv: &Conversation,
    messages: &[Message],
    now: Timestamp,
) -> WebhookEvent {
    let conversation = serde_json::json!({
        "id": conv.id,
        "status": conv.status.as_str(),
        "channel_id": conv.channel_id,
        "channel_kind": conv.channel_kind.map(|k| k.as_str()),
        "contact": {"id": conv.contact.id, "name": conv.contact.name},
        "assignee": conv.assignee,
        "team": conv.team,
        "human_handoff": conv.human_handoff,
        "labels": conv.labels,
        "created_at": conv.created_at,
        "last_activity_at": conv.last_activity_at,
    });
    let mut data = serde_json::Map::new();
    data.insert("workspace_id".into(), req.workspace_id.clone().into());
    data.insert("conversation_id".into(), req.conversation_id.clone().into());
    data.insert("agent_id".into(), req.agent_id.clone().into());
    data.insert("session_id".into(), req.session_id.clone().into());
    data.insert(
        "trigger".into(),
        serde_json::to_value(req.trigger).unwrap_or_default(),
    );
    data.insert("message_id".into(), req.message_id.clone().into());
    data.insert("conversation".into(), conversation);
    data.insert(
        "messages".into(),
        serde_json::to_value(messages).unwrap_or_default(),
    );
    WebhookEvent {
        id: req.key(),
        event_type: REPLY_REQUESTED.to_string(),
        workspace_id: req.workspace_id.clone(),
        conversation_id: req.conversation_id.clone(),
        timestamp: now,
        data,
    }
}

/// The type of the event a webhook agent is asked to answer.
pub const REPLY_REQUESTED: &str = "ai.reply_requested";

/// What an agent gave back for a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentAnswer {
    /// Post this as the agent's reply.
    Reply(String),
    /// Ask for a human.
    Handoff(Option<String>),
}

impl From<ModelAnswer> for AgentAnswer {
    fn from(a: ModelAnswer) -> Self {
        match a {
            ModelAnswer::Reply(body) => AgentAnswer::Reply(body),
            ModelAnswer::Handoff { reason } => AgentAnswer::Handoff(reason),
        }
    }
}

/// What a webhook agent's 2xx body says: an answer to apply, or nothing
/// (it will answer through the API). A `reply` without a usable `body`
/// is malformed.
pub fn read_webhook_answer(body: &str) -> Result<Option<AgentAnswer>, ModelFailure> {
    if body.trim().is_empty() {
        return Ok(None);
    }
    let Ok(value) = serde_json::from_str::<serde_json::Value>(body) else {
        // Not JSON: an acknowledgement such as `OK`.
        return Ok(None);
    };
    if let Some(handoff) = value.get("handoff").filter(|h| !h.is_null()) {
        let reason = handoff
            .get("reason")
            .and_then(|r| r.as_str())
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string);
        return Ok(Some(AgentAnswer::Handoff(reason)));
    }
    match value.get("reply").filter(|r| !r.is_null()) {
        None => Ok(None),
        Some(reply) => match reply.get("body").and_then(|b| b.as_str()).map(str::trim) {
            Some(text) if !text.is_empty() => Ok(Some(AgentAnswer::Reply(text.to_string()))),
            _ => Err(ModelFailure::Malformed("its reply has no body text".into())),
        },
    }
}

/// A webhook agent's non-2xx answer as a failure: retried like a model's
/// (408, 429 and 5xx may pass on another try, any other refusal will not).
pub fn webhook_status_failure(status: u16) -> ModelFailure {
    ModelFailure::Status {
        status,
        message: format!("the agent's webhook answered {status}"),
        retry_after: None,
    }
}

/// The wait before try `next` (2 or 3) of a request, or `None` when no
/// more tries are made: after [`ANSWER_TRIES`], after a failure that will
/// not pass, or when the try would start past the deadline.
pub fn wait_before_try(
    next: u32,
    failure: &ModelFailure,
    elapsed_millis: u64,
    try_millis: u64,
) -> Option<u64> {
    if next > ANSWER_TRIES || !failure.is_retryable() {
        return None;
    }
    let idx = usize::try_from(next.saturating_sub(2)).unwrap_or(usize::MAX);
    let mut wait = *ANSWER_WAITS_MILLIS.get(idx)?;
    if let ModelFailure::Status {
        retry_after: Some(s),
        ..
    } = failure
    {
        wait = wait.max(s.saturating_mul(1_000));
    }
    (elapsed_millis + wait + try_millis <= ANSWER_DEADLINE_MILLIS).then_some(wait)
}

#[cfg(test)]
mod tests;
