//! The dev server's change feed on DynamoDB, its table's stream, against
//! moto (`INBOX_TEST_AWS_ENDPOINT`): the store contract's change-feed check,
//! and a restart going on after the last acknowledged record.

use inbox_dev::table_stream::TableStream;
use inbox_store::dynamo::DynamoStore;
use inbox_store::dynamo::testing::{fresh_store, sdk_config};
use inbox_store::testkit::{self, SuiteConfig};
use std::path::PathBuf;

/// A store on a fresh table with its stream, and the stream's ARN.
async fn store_and_stream(name: &str) -> (DynamoStore, String, PathBuf) {
    let (store, _) = fresh_store(name).await.unwrap_or_else(|e| panic!("{e}"));
    let client = aws_sdk_dynamodb::Client::new(&sdk_config().await);
    let arn = client
        .describe_table()
        .table_name(store.table_name())
        .send()
        .await
        .expect("describe the table")
        .table
        .and_then(|t| t.latest_stream_arn)
        .expect("the table has a stream");
    let checkpoint = std::env::temp_dir().join(format!("{}.json", store.table_name()));
    (store, arn, checkpoint)
}

async fn streams() -> aws_sdk_dynamodbstreams::Client {
    aws_sdk_dynamodbstreams::Client::new(&sdk_config().await)
}

#[tokio::test]
async fn the_table_stream_keeps_the_change_feed_contract() {
    let (store, arn, checkpoint) = store_and_stream("feed-contract").await;
    let feed = TableStream::new(streams().await, &arn, checkpoint).expect("the feed");
    testkit::check_change_feed(&store, &feed, &SuiteConfig::small()).await;
}

#[tokio::test]
async fn a_restart_goes_on_after_the_last_acknowledged_change() {
    let (store, arn, checkpoint) = store_and_stream("feed-restart").await;
    let client = streams().await;
    let open = || TableStream::new(client.clone(), &arn, checkpoint.clone()).expect("the feed");
    testkit::check_change_feed_resumes(&store, open, &SuiteConfig::small()).await;
}
