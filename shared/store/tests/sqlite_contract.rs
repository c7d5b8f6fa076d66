//! The store contract suite against the embedded SQLite adapter.

use inbox_store::sqlite::SqliteStore;
use inbox_store::testkit::{SuiteConfig, run_all_with_feeds};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn contract_in_memory() {
    let store = SqliteStore::in_memory().expect("in-memory database");
    run_all_with_feeds(&store, &SuiteConfig::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn contract_file() {
    let dir = std::env::temp_dir().join(format!("inbox-store-contract-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("inbox.db");
    let _ = std::fs::remove_file(&path);
    let store = SqliteStore::open(&path).expect("database file");
    run_all_with_feeds(&store, &SuiteConfig::default()).await;
    // Reopening the file sees the same data, and the schema set-up is idempotent.
    drop(store);
    let reopened = SqliteStore::open(&path).expect("reopen");
    run_all_with_feeds(&reopened, &SuiteConfig::small()).await;
    let _ = std::fs::remove_dir_all(&dir);
}
