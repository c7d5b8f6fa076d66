//! The store contract suite against the DynamoDB adapter on moto
//! (`scripts/test.sh` starts moto and sets `INBOX_TEST_AWS_ENDPOINT`).
//! One test per check, each on its own table, so a failure names its promise.

use inbox_store::dynamo::DynamoStore;
use inbox_store::dynamo::testing::fresh_store;
use inbox_store::testkit::{self, SuiteConfig};

async fn store(name: &str) -> DynamoStore {
    match fresh_store(name).await {
        Ok((store, _)) => store,
        Err(e) => panic!("{e}"),
    }
}

fn cfg() -> SuiteConfig {
    SuiteConfig::small()
}

macro_rules! contract {
    ($($check:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $check() {
            let s = store(&stringify!($check).replace('_', "-")).await;
            testkit::$check(&s, &cfg()).await;
            // Nothing the suite does may scan.
        }
    )*};
}

contract!(
    check_directory,
    check_round_trip,
    check_timeline_and_messages,
    check_conflicts,
    check_duplicates,
    check_member_flags,
    check_tenant_isolation,
    check_contacts,
    check_contact_for_sender_race,
    check_concurrent_commits,
    check_views,
    check_cursors,
    check_due_timers,
    check_outbox,
);

/// The whole suite in one go on one table, with the default (larger) data set.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn run_all_with_outbox_on_one_table() {
    let (s, counter) = match fresh_store("contract-all").await {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    };
    testkit::run_all_with_outbox(&s, &SuiteConfig::default()).await;
    assert_eq!(counter.count("Scan"), 0, "the store issued a Scan");
}
