//! Domain errors: each carries the contract's stable `code` and its extra fields.

use serde::Serialize;
use serde_json::{Map, Value, json};

/// One invalid field of a settings document (or other validated input).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Dotted path of the field, e.g. `auto_close.after_seconds`.
    pub field: String,
    /// What is wrong, as a sentence.
    pub message: String,
}

impl FieldError {
    /// A field error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A command was refused; nothing may be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The request is malformed in a way the domain detects.
    #[error("{0}")]
    BadRequest(String),
    /// The caller's role does not allow this.
    #[error("your role does not allow this action")]
    Forbidden,
    /// The thing named does not exist in the caller's workspace.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// An AI agent's id was given where a member is required.
    #[error("that is an AI agent: pick a team member instead")]
    CannotAssignAiAgent,
    /// No member with that id.
    #[error("no member with id {0}")]
    UnknownMember(String),
    /// No team with that id.
    #[error("no team with id {0}")]
    UnknownTeam(String),
    /// No AI agent with that id.
    #[error("no AI agent with id {0}")]
    UnknownAgent(String),
    /// No channel with that id.
    #[error("no channel with id {0}")]
    UnknownChannel(String),
    /// Takeover needs someone other than the caller assigned.
    #[error("takeover applies only when someone else is assigned")]
    TakeoverNotApplicable,
    /// There is no active AI agent session.
    #[error("the conversation has no active AI agent session")]
    NoActiveSession,
    /// The contact is blocked.
    #[error("the contact is blocked")]
    ContactBlocked,
    /// Closing notes are turned off but one was given.
    #[error("closing notes are turned off in this workspace")]
    ClosingNotesDisabled,
    /// The workspace requires parts of a closing note that are missing.
    #[error("a closing note is required: missing {}", .missing.join(", "))]
    ClosingNoteRequired {
        /// The missing parts: `category`, `summary`.
        missing: Vec<&'static str>,
    },
    /// The category is not in the workspace's list.
    #[error("unknown closing category {0}")]
    UnknownCategory(String),
    /// The snooze time is not acceptable.
    #[error("{0}")]
    InvalidSnooze(String),
    /// The message body is blank.
    #[error("the message body is empty")]
    EmptyBody,
    /// The member has no display name yet.
    #[error("set your name in your profile before replying")]
    ProfileIncomplete,
    /// The conversation is closed; say how to proceed.
    #[error("the conversation is closed: reopen it or start a new conversation")]
    ConversationClosed,
    /// The AI agent may not post now.
    #[error("the AI agent does not hold the active session on this open conversation")]
    AiPaused,
    /// WhatsApp takes no free-text reply more than 24 hours after the contact's last message.
    #[error(
        "WhatsApp's 24-hour reply window is closed: the contact has not written in the last 24 hours"
    )]
    ReplyWindowClosed,
    /// Only a `failed` message can be queued again.
    #[error("only a message whose delivery failed can be retried")]
    NotRetryable,
    /// The settings document is invalid.
    #[error("the settings are invalid")]
    InvalidSettings {
        /// Every invalid field.
        errors: Vec<FieldError>,
    },
    /// The id is already used by a member or an AI agent.
    #[error("id {0} is already taken by a member or an AI agent")]
    IdTaken(String),
    /// The export would have more rows than one response carries.
    #[error("the export has more than {0} rows: narrow the view or the filters")]
    ExportTooLarge(usize),
    /// The change would leave the workspace with no owner.
    #[error(
        "the workspace's last owner cannot be removed or demoted: make another member owner first"
    )]
    LastOwner,
    /// A webhook URL is not one the inbox calls (scheme, shape, or a non-public address).
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    /// The input failed validation.
    #[error("{message}")]
    Validation {
        /// What is wrong.
        message: String,
        /// Each invalid field.
        errors: Vec<FieldError>,
    },
}

/// The options offered when replying to a closed conversation.
pub const CLOSED_REPLY_OPTIONS: [&str; 2] = ["reopen", "new_conversation"];

impl DomainError {
    /// The contract's stable, machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::BadRequest(_) => "bad_request",
            DomainError::Forbidden => "forbidden",
            DomainError::NotFound(_) => "not_found",
            DomainError::CannotAssignAiAgent => "cannot_assign_ai_agent",
            DomainError::UnknownMember(_) => "unknown_member",
            DomainError::UnknownTeam(_) => "unknown_team",
            DomainError::UnknownAgent(_) => "unknown_agent",
            DomainError::UnknownChannel(_) => "unknown_channel",
            DomainError::TakeoverNotApplicable => "takeover_not_applicable",
            DomainError::NoActiveSession => "no_active_session",
            DomainError::ContactBlocked => "contact_blocked",
            DomainError::ClosingNotesDisabled => "closing_notes_disabled",
            DomainError::ClosingNoteRequired { .. } => "closing_note_required",
            DomainError::UnknownCategory(_) => "unknown_category",
            DomainError::InvalidSnooze(_) => "invalid_snooze",
            DomainError::EmptyBody => "empty_body",
            DomainError::ProfileIncomplete => "profile_incomplete",
            DomainError::ConversationClosed => "conversation_closed",
            DomainError::AiPaused => "ai_paused",
            DomainError::ReplyWindowClosed => "reply_window_closed",
            DomainError::NotRetryable => "not_retryable",
            DomainError::InvalidSettings { .. } => "invalid_settings",
            DomainError::IdTaken(_) => "id_taken",
            DomainError::LastOwner => "last_owner",
            DomainError::ExportTooLarge(_) => "export_too_large",
            DomainError::InvalidUrl(_) => "invalid_url",
            DomainError::Validation { .. } => "validation_failed",
        }
    }

    /// The HTTP status the contract gives this error.
    pub fn status(&self) -> u16 {
        match self {
            DomainError::BadRequest(_) => 400,
            DomainError::Forbidden => 403,
            DomainError::NotFound(_) => 404,
            DomainError::TakeoverNotApplicable
            | DomainError::NoActiveSession
            | DomainError::ContactBlocked
            | DomainError::ConversationClosed
            | DomainError::AiPaused
            | DomainError::NotRetryable
            | DomainError::IdTaken(_)
            | DomainError::LastOwner => 409,
            _ => 422,
        }
    }

    /// Extra problem-details fields named by the contract (`missing`, `options`, `errors`).
    pub fn extra(&self) -> Map<String, Value> {
        let mut m = Map::new();
        match self {
            DomainError::ClosingNoteRequired { missing } => {
                m.insert("missing".into(), json!(missing));
            }
            DomainError::ConversationClosed => {
                m.insert("options".into(), json!(CLOSED_REPLY_OPTIONS));
            }
            DomainError::InvalidSettings { errors } | DomainError::Validation { errors, .. } => {
                m.insert("errors".into(), json!(errors));
            }
            _ => {}
        }
        m
    }
}
