//! Error types, split by who is at fault and what the HTTP layer answers.

use thiserror::Error;

/// Why a delivery is not accepted as authentic; every variant maps to 401 `invalid_signature`.
///
/// The variants exist for logs and tests; the HTTP answer must not reveal which one it was.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VerifyError {
    /// The channel has no secret, so nothing could be authentic (an empty secret would
    /// otherwise match an empty header or sign with an empty key).
    #[error("the channel has no secret configured")]
    NoSecret,
    /// A header the scheme requires was not sent.
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    /// A required header was sent but is not in the scheme's format.
    #[error("malformed header {header}: {reason}")]
    MalformedHeader {
        /// The header's canonical name.
        header: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The header is well formed but does not match what the secret produces.
    #[error("signature mismatch")]
    Mismatch,
    /// The signature matches but the signed timestamp is outside the accepted window.
    #[error("timestamp {timestamp} is more than {tolerance} s away from now ({now})")]
    StaleTimestamp {
        /// The timestamp the sender signed, in Unix seconds.
        timestamp: i64,
        /// The receiver's clock, in Unix seconds.
        now: i64,
        /// The accepted distance, in seconds.
        tolerance: u64,
    },
}

/// Why an authentic body could not be understood; maps to 400 `bad_request`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    /// The body (or a form value in it) is not UTF-8.
    #[error("body is not valid UTF-8")]
    NotUtf8,
    /// The body is not syntactically valid JSON.
    #[error("body is not valid JSON: {0}")]
    InvalidJson(String),
    /// The JSON is valid but not the expected shape (missing field, wrong type, unknown field).
    #[error("unexpected payload shape: {0}")]
    InvalidShape(String),
    /// A field the provider always sends is absent.
    #[error("missing field {0}")]
    MissingField(&'static str),
    /// A field is present but its value is unusable.
    #[error("invalid field {field}: {reason}")]
    InvalidField {
        /// The field's path in the provider's payload.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl ParseError {
    /// Sorts a `serde_json` error into syntax (`InvalidJson`) versus shape (`InvalidShape`).
    pub(crate) fn from_json(err: &serde_json::Error) -> Self {
        use serde_json::error::Category;
        match err.classify() {
            Category::Data => Self::InvalidShape(err.to_string()),
            Category::Syntax | Category::Eof | Category::Io => Self::InvalidJson(err.to_string()),
        }
    }
}

/// Why the WhatsApp subscription handshake is refused; maps to 403.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HandshakeError {
    /// The channel has no verify token, so no handshake can succeed.
    #[error("the channel has no verify token configured")]
    NoVerifyToken,
    /// A `hub.*` query parameter is absent.
    #[error("missing query parameter {0}")]
    MissingParameter(&'static str),
    /// `hub.mode` is not `subscribe`.
    #[error("hub.mode is not subscribe")]
    WrongMode,
    /// `hub.verify_token` does not equal the configured token.
    #[error("verify token mismatch")]
    TokenMismatch,
    /// The challenge is empty, too long or has control characters, so it is not echoed.
    #[error("hub.challenge is not an acceptable value")]
    BadChallenge,
}

/// Either failure of [`crate::verify_and_parse`], kept apart so they map to different statuses.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WebhookError {
    /// Not authentic: 401 `invalid_signature`.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// Authentic but malformed: 400 `bad_request`.
    #[error(transparent)]
    Parse(#[from] ParseError),
}

impl WebhookError {
    /// The HTTP status the contract gives this failure.
    pub fn status(&self) -> u16 {
        match self {
            Self::Verify(_) => 401,
            Self::Parse(_) => 400,
        }
    }

    /// The contract's stable problem `code` for this failure.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Verify(_) => "invalid_signature",
            Self::Parse(_) => "bad_request",
        }
    }
}
