//! Why a delivery was not accepted, and what the webhook answers for it.

use inbox_channels::{ChannelKind, ParseError, VerifyError};
use inbox_domain::DomainError;
use inbox_store::StoreError;

use crate::reply::WebhookReply;

/// A delivery that was refused or could not be stored; nothing of it was written
/// unless stated.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The body is over the contract's limit: 413 `payload_too_large`, checked first.
    #[error("body of {size} bytes is over the {limit}-byte limit")]
    PayloadTooLarge {
        /// The body's size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// No such channel in the workspace: 401 `invalid_signature` (not 404, so the
    /// answer does not reveal which channels exist).
    #[error("unknown channel")]
    UnknownChannel,
    /// The channel exists under another kind than the URL names: 401 `invalid_signature`.
    #[error("the channel is a {configured:?} channel")]
    KindMismatch {
        /// The kind the channel was configured with.
        configured: ChannelKind,
    },
    /// The delivery is not authentic: 401 `invalid_signature`.
    #[error("not authentic: {0}")]
    Verify(#[from] VerifyError),
    /// An authentic Twilio delivery that is not a form post: 400 `bad_request`.
    #[error("expected an application/x-www-form-urlencoded body, got {0:?}")]
    NotAForm(Option<String>),
    /// Authentic but unreadable: 400 `bad_request`.
    #[error("malformed delivery: {0}")]
    Parse(#[from] ParseError),
    /// The domain refused an item (e.g. a body over the length limit): 400 `bad_request`.
    /// Items are checked before anything is stored, so nothing was written.
    #[error("message refused: {0}")]
    Rejected(#[from] DomainError),
    /// Version conflicts did not settle within the retry budget: 503, the provider retries.
    #[error("the conversation kept changing; gave up after {0} attempts")]
    Contention(u32),
    /// The store failed: 503 when it is unavailable (the provider retries), else 500.
    /// Items of the delivery before the failing one may be stored; a retry dedupes them.
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

impl From<inbox_app::AppError> for IngestError {
    fn from(e: inbox_app::AppError) -> Self {
        use inbox_app::AppError;
        match e {
            AppError::Contended(n) => IngestError::Contention(n),
            AppError::Domain(d) => IngestError::Rejected(d),
            AppError::Store(s) => IngestError::Store(s),
            AppError::Duplicate => IngestError::Store(StoreError::Duplicate),
            // A contact message moves no delivery.
            AppError::DeliveryMoved => IngestError::Store(StoreError::DeliveryMoved),
            // A contact message names no conversation and carries no
            // precondition: these mean the store answered inconsistently.
            AppError::NotFound(what) => IngestError::Store(StoreError::Corrupt(format!(
                "{what} vanished during ingestion"
            ))),
            AppError::PreconditionFailed => IngestError::Store(StoreError::Conflict),
            // Ingestion uses no optional feature.
            AppError::Unsupported(what) => {
                IngestError::Store(StoreError::Unavailable(format!("{what} unavailable")))
            }
        }
    }
}

impl IngestError {
    /// The HTTP status the contract gives this failure.
    pub fn status(&self) -> u16 {
        match self {
            Self::PayloadTooLarge { .. } => 413,
            Self::UnknownChannel | Self::KindMismatch { .. } | Self::Verify(_) => 401,
            Self::NotAForm(_) | Self::Parse(_) | Self::Rejected(_) => 400,
            Self::Contention(_) | Self::Store(StoreError::Unavailable(_)) => 503,
            Self::Store(_) => 500,
        }
    }

    /// The contract's stable problem `code`.
    pub fn code(&self) -> &'static str {
        match self.status() {
            413 => "payload_too_large",
            401 => "invalid_signature",
            400 => "bad_request",
            503 => "service_unavailable",
            _ => "internal_error",
        }
    }

    /// The problem+json answer. A 401 never says which check failed, and store
    /// details stay in the logs.
    pub fn reply(&self) -> WebhookReply {
        let status = self.status();
        let (title, detail) = match status {
            413 => ("Payload too large", self.to_string()),
            401 => (
                "Invalid signature",
                "the delivery is not signed for this channel".to_string(),
            ),
            400 => ("Bad request", self.to_string()),
            503 => (
                "Service unavailable",
                "the delivery could not be stored now; retry later".to_string(),
            ),
            _ => (
                "Internal error",
                "the delivery could not be stored".to_string(),
            ),
        };
        WebhookReply::problem(status, self.code(), title, &detail)
    }
}
