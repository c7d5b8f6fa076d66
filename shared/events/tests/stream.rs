//! The stream publisher: only inserted outbox items are published; nothing
//! is dropped: what the bus keeps refusing, and what does not read as an
//! event, is kept whole in the dead-letter queue, and reported for the
//! stream to retry only when that queue fails too. The replay publishes
//! what the queue holds.

mod common;
use common::event;

use async_trait::async_trait;
use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use inbox_domain::model::DomainEvent;
use inbox_events::stream::publish_stream_batch;
use inbox_events::{
    BusError, DeadLetter, EventBus, MemoryBus, MemoryDeadLetters, replay_dead_letters,
};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// A stream record as DynamoDB sends it, for an item with `sk` and the event's attributes.
fn record(seq: &str, name: &str, sk: &str, e: &DomainEvent) -> Value {
    let mut item: serde_dynamo::Item = serde_dynamo::to_item(e).unwrap();
    item.insert(
        "pk".into(),
        serde_dynamo::AttributeValue::S("WS#acme#CONV#conv_1".into()),
    );
    item.insert("sk".into(), serde_dynamo::AttributeValue::S(sk.into()));
    json!({
        "eventID": seq, "eventName": name, "eventVersion": "1.1", "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "Keys": {"pk": {"S": "WS#acme#CONV#conv_1"}, "sk": {"S": sk}},
            "NewImage": serde_json::to_value(&item).unwrap(),
            "SequenceNumber": seq, "SizeBytes": 100, "StreamViewType": "NEW_IMAGE"
        },
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/inbox/stream/2026"
    })
}

fn batch(records: Vec<Value>) -> StreamEvent {
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

#[tokio::test]
async fn publishes_only_inserted_outbox_items() {
    let bus = MemoryBus::default();
    let ev = batch(vec![
        record("100", "INSERT", "OUT#000000000002#000", &event(1)),
        record("101", "INSERT", "EVT#000000000002#000", &event(9)),
        record("102", "MODIFY", "OUT#000000000003#000", &event(9)),
        record("103", "REMOVE", "OUT#000000000002#000", &event(9)),
        record("104", "INSERT", "OUT#000000000003#000", &event(2)),
    ]);
    let letters = MemoryDeadLetters::default();
    let resp = publish_stream_batch(ev, &bus, &letters).await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(bus.published(), vec![event(1), event(2)]);
    assert!(letters.letters().is_empty());
}

/// Refuses every event whose conversation is `conv_2`, until told otherwise;
/// counts the calls.
#[derive(Default)]
struct RefuseConv2 {
    healed: AtomicBool,
    calls: AtomicUsize,
    inner: MemoryBus,
}

#[async_trait]
impl EventBus for RefuseConv2 {
    async fn publish(&self, events: &[DomainEvent]) -> Result<Vec<usize>, BusError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let healed = self.healed.load(Ordering::SeqCst);
        let refused: Vec<usize> = events
            .iter()
            .enumerate()
            .filter(|(_, e)| !healed && **e == event(2))
            .map(|(i, _)| i)
            .collect();
        let accepted: Vec<DomainEvent> = events
            .iter()
            .enumerate()
            .filter(|(i, _)| !refused.contains(i))
            .map(|(_, e)| e.clone())
            .collect();
        self.inner.publish(&accepted).await?;
        Ok(refused)
    }
}

/// A record whose outbox item is not an event this release can read.
fn unreadable(seq: &str) -> Value {
    let mut r = record(seq, "INSERT", "OUT#9#0", &event(7));
    r["dynamodb"]["NewImage"]["detail_type"] = json!({"S": "conversation.teleported"});
    r
}

#[tokio::test]
async fn a_refused_event_is_offered_again_then_kept_whole_and_replayed() {
    let bus = RefuseConv2::default();
    let letters = MemoryDeadLetters::default();
    let ev = batch(vec![
        record("200", "INSERT", "OUT#1#0", &event(1)),
        record("201", "INSERT", "OUT#1#1", &event(2)),
        record("202", "INSERT", "OUT#2#0", &event(3)),
    ]);
    let resp = publish_stream_batch(ev, &bus, &letters).await;
    assert!(resp.batch_item_failures.is_empty(), "kept, so not retried");
    assert_eq!(bus.inner.published(), vec![event(1), event(3)]);
    assert_eq!(
        bus.calls.load(Ordering::SeqCst),
        inbox_events::stream::PUBLISH_ATTEMPTS as usize
    );
    let kept = letters.letters();
    assert!(
        matches!(&kept[..], [DeadLetter::Refused { event: e, .. }] if **e == event(2)),
        "{kept:?}"
    );
    // While the bus still refuses, a replay leaves it; once it accepts, the
    // replay publishes it and empties the queue.
    let report = replay_dead_letters(&letters, &bus).await.unwrap();
    assert_eq!((report.replayed, report.left), (0, 1));
    assert_eq!(letters.letters().len(), 1);
    bus.healed.store(true, Ordering::SeqCst);
    letters.make_visible();
    let report = replay_dead_letters(&letters, &bus).await.unwrap();
    assert_eq!((report.replayed, report.left), (1, 0));
    assert!(letters.letters().is_empty());
    assert_eq!(bus.inner.published(), vec![event(1), event(3), event(2)]);
}

#[tokio::test]
async fn an_unreadable_item_is_kept_not_skipped() {
    let bus = MemoryBus::default();
    let letters = MemoryDeadLetters::default();
    let ev = batch(vec![
        record("300", "INSERT", "OUT#1#0", &event(1)),
        unreadable("301"),
    ]);
    let resp = publish_stream_batch(ev, &bus, &letters).await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(bus.published(), vec![event(1)]);
    let kept = letters.letters();
    let [DeadLetter::Unreadable { image, reason }] = &kept[..] else {
        panic!("{kept:?}");
    };
    assert_eq!(image["sk"]["S"], "OUT#9#0");
    assert!(!reason.is_empty());
    // Still unreadable: a replay leaves it in the queue, and so does a
    // stream batch pointer from Lambda's own failure destination.
    letters.push_raw(r#"{"requestContext":{"condition":"RetryAttemptsExhausted"},"DDBStreamBatchInfo":{"shardId":"s"}}"#);
    let report = replay_dead_letters(&letters, &bus).await.unwrap();
    assert_eq!((report.replayed, report.left), (0, 2));
}

#[tokio::test]
async fn when_the_dead_letter_queue_fails_too_the_stream_retries() {
    let bus = RefuseConv2::default();
    let letters = MemoryDeadLetters::default();
    letters.unavailable.store(true, Ordering::SeqCst);
    let ev = batch(vec![
        record("400", "INSERT", "OUT#1#0", &event(1)),
        record("401", "INSERT", "OUT#1#1", &event(2)),
        unreadable("402"),
    ]);
    let resp = publish_stream_batch(ev, &bus, &letters).await;
    let ids: Vec<_> = resp
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone().unwrap())
        .collect();
    assert_eq!(ids, vec!["402", "401"]);
}
