//! The inbox's rules as pure code: no I/O, no clock, no randomness except what
//! is passed in. A command applied to a conversation's state, the actor, the
//! workspace settings and `now` gives a typed error or the new state with its
//! timeline events, message and outgoing events.

pub mod access;
pub mod agents;
pub mod api_keys;
pub mod commands;
pub mod delivery;
pub mod directory;
pub mod error;
pub mod ids;
pub mod jobs;
pub mod live;
pub mod llm;
pub mod model;
pub mod notes;
pub mod permissions;
pub mod render;
pub mod reports;
pub mod routing;
pub mod settings;
pub mod time;
pub mod values;
pub mod views;
pub mod webhooks;

pub use access::{Actor, Caller, Capability, Role, authorize};
pub use api_keys::{ApiKey, ApiKeyDraft};
pub use commands::{
    ClosingNoteInput, Command, Ctx, FlagChange, OnClosed, Outcome, Write, change_flags,
    create_conversation, create_conversation_on, decide, receive_contact_message,
};
pub use delivery::{Delivery, DeliveryError, DeliveryStatus};
pub use error::{DomainError, FieldError};
pub use ids::{IdGen, IdKind, SequentialIds};
pub use jobs::{Job, JobKind, JobStarter, JobStatus};
pub use model::*;
pub use notes::{ExtractiveNotes, NoteDraft, NoteGenerator};
pub use render::{ConversationView, ViewerAbilities, render};
pub use settings::Settings;
pub use time::Timestamp;
pub use values::{DisplayName, Email, Phone};
pub use views::{Filters, ListQuery, View};
