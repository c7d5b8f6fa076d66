//! The stream publisher: only inserted outbox items are published; a refused
//! event and everything after it are reported for retry.

use async_trait::async_trait;
use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use inbox_domain::model::{DomainEvent, ReplyTrigger};
use inbox_events::stream::publish_stream_batch;
use inbox_events::{BusError, EventBus, MemoryBus};
use serde_json::{Value, json};

fn event(n: usize) -> DomainEvent {
    DomainEvent::AiReplyRequested {
        workspace_id: "acme".into(),
        conversation_id: format!("conv_{n}"),
        agent_id: "max".into(),
        session_id: "as_1".into(),
        trigger: ReplyTrigger::ContactMessage,
        message_id: None,
    }
}

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
    let resp = publish_stream_batch(ev, &bus).await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(bus.published(), vec![event(1), event(2)]);
}

/// Refuses the second event it is given.
struct RefuseSecond;

#[async_trait]
impl EventBus for RefuseSecond {
    async fn publish(&self, events: &[DomainEvent]) -> Result<Vec<usize>, BusError> {
        Ok(if events.len() > 1 { vec![1] } else { vec![] })
    }
}

#[tokio::test]
async fn a_refused_event_and_those_after_it_are_retried() {
    let ev = batch(vec![
        record("200", "INSERT", "OUT#1#0", &event(1)),
        record("201", "INSERT", "OUT#1#1", &event(2)),
        record("202", "INSERT", "OUT#2#0", &event(3)),
    ]);
    let resp = publish_stream_batch(ev, &RefuseSecond).await;
    let ids: Vec<_> = resp
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone().unwrap())
        .collect();
    assert_eq!(ids, vec!["201", "202"]);
}
