//! The contract test suite every store adapter must pass (used by the adapters' tests).
//!
//! Every check takes a store and a [`SuiteConfig`], makes its own workspaces
//! (named with a random run id, so checks never see each other's data and a
//! store may be reused across runs), and panics with a description on the
//! first broken promise. Call [`run_all`] (or [`run_all_with_outbox`] for a
//! store that implements [`Outbox`]) from an adapter's test, or the `check_*`
//! functions one by one to see which promise fails:
//!
//! ```ignore
//! #[tokio::test(flavor = "multi_thread")]
//! async fn contract() {
//!     let store = MyStore::new().await;
//!     inbox_store::testkit::run_all(&store, &SuiteConfig::default()).await;
//! }
//! ```
//!
//! Checks run one after the other: they may share a store, but
//! [`check_outbox`] drains every pending event, so do not run it beside
//! another test that reads the same store's outbox.
//!
//! Paging promise checked everywhere: a page holds at most `limit` items; a
//! page that has a `next_cursor` is full; following cursors yields every item
//! exactly once, in order; the last page has no cursor.

mod api_keys;
mod changes;
mod commands;
mod conflicts;
mod delivery;
mod directory;
mod fixtures;
mod jobs;
mod live;
mod ordering;
mod outbox;
mod reports;
mod views;
mod webhooks;

pub use api_keys::check_api_keys;
pub use changes::{check_change_feed, check_change_feed_resumes};
pub use commands::check_round_trip;
pub use conflicts::{
    check_commit_workspace, check_concurrent_commits, check_conflicts, check_duplicates,
};
pub use delivery::{check_commit_delivery_change, check_delivery_status, check_put_delivery};
pub use directory::{
    check_contact_batches, check_contact_for_sender_race, check_contacts, check_directory,
    check_owner_guard, check_tenant_isolation,
};
pub use fixtures::SharedIds;
pub use jobs::check_jobs;
pub use live::check_live_connections;
pub use ordering::check_timeline_and_messages;
pub use outbox::check_outbox;
pub use reports::check_report_store;
pub use views::{check_cursors, check_due_timers, check_member_flags, check_views};
pub use webhooks::check_webhooks;

use crate::port::{ChangeFeed, Outbox, Store};

/// How much data the suite writes (scale down for slow backends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuiteConfig {
    /// Conversations in the view data set (spread over two workspaces).
    pub conversations: usize,
    /// Page size used when paging through lists (small, to cross many pages).
    pub page_limit: usize,
    /// Concurrent tasks in the race checks.
    pub concurrency: usize,
    /// Random seed of the data sets (a failing seed reproduces).
    pub seed: u64,
}

impl Default for SuiteConfig {
    fn default() -> Self {
        SuiteConfig {
            conversations: 300,
            page_limit: 7,
            concurrency: 20,
            seed: 0x1b0c_5eed,
        }
    }
}

impl SuiteConfig {
    /// A lighter run for backends reached over the network.
    pub fn small() -> Self {
        SuiteConfig {
            conversations: 80,
            ..SuiteConfig::default()
        }
    }
}

/// Runs every check of the port's contract except the outbox.
pub async fn run_all<S: Store>(store: &S, cfg: &SuiteConfig) {
    check_directory(store, cfg).await;
    check_api_keys(store, cfg).await;
    check_webhooks(store, cfg).await;
    check_owner_guard(store, cfg).await;
    check_jobs(store, cfg).await;
    check_round_trip(store, cfg).await;
    check_timeline_and_messages(store, cfg).await;
    check_delivery_status(store, cfg).await;
    check_put_delivery(store, cfg).await;
    check_commit_delivery_change(store, cfg).await;
    check_conflicts(store, cfg).await;
    check_duplicates(store, cfg).await;
    check_commit_workspace(store, cfg).await;
    check_member_flags(store, cfg).await;
    check_tenant_isolation(store, cfg).await;
    check_contacts(store, cfg).await;
    check_contact_batches(store, cfg).await;
    check_contact_for_sender_race(store, cfg).await;
    check_concurrent_commits(store, cfg).await;
    check_views(store, cfg).await;
    check_cursors(store, cfg).await;
    check_due_timers(store, cfg).await;
    check_report_store(store, cfg).await;
}

/// Runs every check, the outbox's included.
pub async fn run_all_with_outbox<S: Store + Outbox>(store: &S, cfg: &SuiteConfig) {
    run_all(store, cfg).await;
    check_outbox(store, cfg).await;
}

/// Runs every check, the outbox's and the change feed's included (the
/// embedded store; DynamoDB's feed is its table stream).
pub async fn run_all_with_feeds<S: Store + Outbox + ChangeFeed>(store: &S, cfg: &SuiteConfig) {
    run_all_with_outbox(store, cfg).await;
    check_change_feed(store, store, cfg).await;
    check_change_feed_resumes(store, || store, cfg).await;
}
