//! The application layer: every way in (an HTTP action, a webhook, a timer, a
//! queue worker, an AI answer) runs its command through [`App::execute`]: load
//! the context in one read, check `If-Match`, load what the decision needs,
//! decide in the domain, commit in one write, and on a version conflict re-read
//! and re-decide under one bounded, jittered [`RetryPolicy`]. No caller
//! re-implements that loop; `tests/one_loop.rs` fails if one does.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![warn(missing_docs)]

mod agents;
mod answer;
mod api_keys;
mod app;
mod contact;
mod deliver;
mod error;
mod execute;
mod export;
mod flags;
mod invitations;
mod jobs;
mod live;
mod members;
mod models;
mod precondition;
mod reports;
mod retry;
mod sending;
mod summaries;
mod webhook_endpoints;
mod webhooks;

pub use agents::PutAgent;
pub use answer::Answered;
pub use api_keys::{CreatedApiKey, KeyRefused, authenticate_api_key};
pub use app::{App, IdFactory};
pub use contact::ContactChange;
pub use deliver::{Attempted, SendQueue, SendTask};
pub use error::AppError;
pub use execute::{
    CONTACT_CONVERSATIONS_SEARCHED, Decision, Executed, Loaded, Plan, Principal, Target, Token,
};
pub use export::{EXPORT_HEADER, ExportFiles, ExportStatus, neutralise_cell};
pub use invitations::{Invitation, Invitations, InviteError, NoInvitations};
pub use jobs::{
    FanOut, FanOutFigures, JobMessage, JobQueue, STEP_CHANGES, StepOutcome, StepReport,
};
pub use models::ChatModel;
pub use precondition::IfMatch;
pub use reports::{REPORT_CSV_HEADER, report_csv};
pub use retry::RetryPolicy;
pub use sending::{ChannelSender, Outgoing};
pub use summaries::SUMMARY_TIMEOUT_SECONDS;
pub use webhook_endpoints::{MAX_DELIVERIES_LISTED, PutEndpoint};
pub use webhooks::{
    CallAnswer, Dispatched, MAX_ANSWER_BYTES, WebhookAttempted, WebhookPost, WebhookQueue,
    WebhookTask, WebhookTransport,
};

/// How many of the latest messages feed summaries and generated notes.
pub const RECENT_MESSAGES: usize = inbox_domain::notes::SUMMARY_WINDOW;
