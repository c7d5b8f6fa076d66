//! What the application layer refuses with, for each entry point to map.

use inbox_domain::DomainError;
use inbox_store::StoreError;

/// Why a command was not carried out. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The named thing is not in the workspace (`"conversation"`, `"contact"`).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// `If-Match` named a version that is not current.
    #[error("the conversation changed since the version given in If-Match")]
    PreconditionFailed,
    /// Every attempt lost a race with a concurrent write.
    #[error("the conversation kept changing: gave up after {0} attempts")]
    Contended(u32),
    /// The inbound delivery was stored before (its dedupe key exists).
    #[error("this delivery was already stored")]
    Duplicate,
    /// A message's delivery moved since it was read (another sender or a
    /// duplicate got there first): nothing was written.
    #[error("the message's delivery changed since it was read")]
    DeliveryMoved,
    /// The domain refused the command.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
    /// This deployment does not offer the feature (`"invitations"`).
    #[error("this deployment does not offer {0}")]
    Unsupported(&'static str),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Duplicate => AppError::Duplicate,
            StoreError::DeliveryMoved => AppError::DeliveryMoved,
            other => AppError::Store(other),
        }
    }
}

impl AppError {
    /// Whether trying the same command later may succeed (a refusal never will).
    pub fn is_transient(&self) -> bool {
        match self {
            AppError::Contended(_) => true,
            AppError::Store(e) => matches!(e, StoreError::Unavailable(_) | StoreError::Conflict),
            _ => false,
        }
    }
}
