//! Support for tests and benchmarks against a DynamoDB endpoint (moto's
//! server in `scripts/test.sh`): each caller gets its own fresh table.

use super::{DynamoStore, OperationCounter, connect, create_table_if_missing};
use crate::port::StoreError;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The variable naming the endpoint of the AWS-protocol tests.
pub const ENDPOINT_VAR: &str = "INBOX_TEST_AWS_ENDPOINT";

/// The test endpoint, or an error telling how to get one (tests fail on it, never skip).
pub fn test_endpoint() -> Result<String, String> {
    match std::env::var(ENDPOINT_VAR) {
        Ok(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(format!(
            "{ENDPOINT_VAR} is not set: the DynamoDB tests need moto's server. \
             Run them with scripts/test.sh (it installs and starts moto), or start \
             `.venv/bin/moto_server -H 127.0.0.1 -p 5055` and set \
             {ENDPOINT_VAR}=http://127.0.0.1:5055 with dummy AWS credentials and region."
        )),
    }
}

/// A table name no other test uses.
pub fn unique_table_name(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{}-{nanos}-{n}", std::process::id())
}

/// A store on a new table at the test endpoint, with an operation counter on its client.
pub async fn fresh_store(prefix: &str) -> Result<(DynamoStore, OperationCounter), StoreError> {
    let endpoint = test_endpoint().map_err(StoreError::Unavailable)?;
    let counter = OperationCounter::new();
    let client = connect(Some(&endpoint), Some(counter.clone())).await;
    let table = unique_table_name(prefix);
    create_table_if_missing(&client, &table).await?;
    counter.reset();
    Ok((DynamoStore::new(client, table), counter))
}

/// A store on a new table without its stream, for benchmarks: moto backs up a
/// table, stream records included, on every `TransactWriteItems`, so a
/// table that keeps every write's record makes each transaction slower than
/// the last. Requests and transactions are the same with or without it.
pub async fn fresh_store_without_stream(
    prefix: &str,
) -> Result<(DynamoStore, OperationCounter), StoreError> {
    let endpoint = test_endpoint().map_err(StoreError::Unavailable)?;
    let counter = OperationCounter::new();
    let client = connect(Some(&endpoint), Some(counter.clone())).await;
    let table = unique_table_name(prefix);
    let mut input = super::table::create_table_input(&table)
        .map_err(|e| StoreError::Unavailable(format!("table definition: {e}")))?;
    input.stream_specification = None;
    super::table::create_table_from_if_missing(&client, input).await?;
    counter.reset();
    Ok((DynamoStore::new(client, table), counter))
}

/// The shared SDK configuration for any AWS client of a test (SQS,
/// EventBridge, Cognito…) at the test endpoint, with dummy credentials and
/// region; panics, saying how to get one, when the endpoint is not set.
pub async fn sdk_config() -> aws_config::SdkConfig {
    let endpoint = test_endpoint().unwrap_or_else(|e| panic!("{e}"));
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await
}
