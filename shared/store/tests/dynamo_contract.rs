//! The store contract suite against the DynamoDB adapter on moto
//! (`scripts/test.sh` starts moto and sets `INBOX_TEST_AWS_ENDPOINT`).
//! One test per check, each on its own table (so a failure names its
//! promise), with the suite's smaller data set: moto applies DynamoDB
//! requests one at a time. Every check also asserts that nothing scanned.

use inbox_store::dynamo::testing::fresh_store;
use inbox_store::testkit::{self, SuiteConfig};

macro_rules! contract {
    ($($check:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $check() {
            let (s, counter) = match fresh_store(&stringify!($check).replace('_', "-")).await {
                Ok(v) => v,
                Err(e) => panic!("{e}"),
            };
            testkit::$check(&s, &SuiteConfig::small()).await;
            assert_eq!(counter.count("Scan"), 0, "the store issued a Scan");
        }
    )*};
}

contract!(
    check_directory,
    check_api_keys,
    check_webhooks,
    check_owner_guard,
    check_jobs,
    check_round_trip,
    check_timeline_and_messages,
    check_delivery_status,
    check_put_delivery,
    check_commit_delivery_change,
    check_conflicts,
    check_duplicates,
    check_commit_workspace,
    check_member_flags,
    check_tenant_isolation,
    check_contacts,
    check_contact_batches,
    check_contact_for_sender_race,
    check_concurrent_commits,
    check_views,
    check_cursors,
    check_due_timers,
    check_outbox,
    check_live_connections,
    check_report_store,
);
