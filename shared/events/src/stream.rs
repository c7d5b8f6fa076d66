//! The table stream publisher (AWS): outbox items inserted by commits are
//! published to the bus. Nothing is dropped: an item that does not read as an
//! event, or an event the bus keeps refusing, is kept whole in the events
//! dead-letter queue (and alarmed there); only when that queue cannot take
//! it either are its records reported, so that Lambda retries them.

use crate::EventBus;
use crate::dead_letters::{DeadLetter, DeadLetters};
use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use inbox_domain::model::DomainEvent;
use std::time::Duration;

/// Sort-key prefix of outbox items (the DynamoDB adapter's `OUT#<version>#<position>`).
pub const OUTBOX_SK_PREFIX: &str = "OUT#";

/// How often a batch's refused events are offered to the bus again, within
/// one invocation, before they are dead-lettered (pauses double from 100 ms).
pub const PUBLISH_ATTEMPTS: u32 = 3;

/// The domain event an inserted outbox item carries, if the record is one.
pub fn outbox_event(
    record: &aws_lambda_events::event::dynamodb::EventRecord,
) -> Option<Result<DomainEvent, String>> {
    if record.event_name != "INSERT" {
        return None;
    }
    let image = &record.change.new_image;
    let is_outbox = matches!(
        image.get("sk"),
        Some(serde_dynamo::AttributeValue::S(sk)) if sk.starts_with(OUTBOX_SK_PREFIX)
    );
    if !is_outbox {
        return None;
    }
    Some(serde_dynamo::from_item::<_, DomainEvent>(image.clone()).map_err(|e| e.to_string()))
}

/// Publishes `events`, offering the refused ones again up to
/// [`PUBLISH_ATTEMPTS`] times; the indexes still refused, with the last reason.
async fn publish_with_retries(
    bus: &(impl EventBus + ?Sized),
    events: &[DomainEvent],
) -> Vec<(usize, String)> {
    let mut todo: Vec<usize> = (0..events.len()).collect();
    let mut reason = String::new();
    for attempt in 0..PUBLISH_ATTEMPTS {
        if todo.is_empty() {
            break;
        }
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(100 << (attempt - 1))).await;
        }
        let batch: Vec<DomainEvent> = todo.iter().map(|&i| events[i].clone()).collect();
        todo = match bus.publish(&batch).await {
            Ok(refused) => {
                reason = "the bus refused the entry".into();
                refused
                    .into_iter()
                    .filter_map(|j| todo.get(j).copied())
                    .collect()
            }
            Err(e) => {
                reason = e.to_string();
                todo
            }
        };
    }
    todo.into_iter().map(|i| (i, reason.clone())).collect()
}

/// Publishes the outbox items of a stream batch; what cannot be published
/// is dead-lettered; what cannot be dead-lettered either is reported as
/// batch item failures (Lambda retries from the first one reported, so an
/// event may be published twice, never lost; consumers dedupe by event id).
pub async fn publish_stream_batch(
    event: StreamEvent,
    bus: &(impl EventBus + ?Sized),
    dead_letters: &(impl DeadLetters + ?Sized),
) -> DynamoDbEventResponse {
    let mut pending: Vec<(String, DomainEvent)> = Vec::new();
    let mut kept: Vec<(String, DeadLetter)> = Vec::new();
    for record in &event.records {
        let seq = record.change.sequence_number.clone().unwrap_or_default();
        match outbox_event(record) {
            None => {}
            Some(Ok(e)) => pending.push((seq, e)),
            Some(Err(reason)) => {
                tracing::error!(sequence_number = %seq, %reason, "unreadable outbox item dead-lettered");
                let image = serde_json::to_value(&record.change.new_image)
                    .unwrap_or(serde_json::Value::Null);
                kept.push((seq, DeadLetter::Unreadable { image, reason }));
            }
        }
    }
    let events: Vec<DomainEvent> = pending.iter().map(|(_, e)| e.clone()).collect();
    for (i, reason) in publish_with_retries(bus, &events).await {
        tracing::error!(sequence_number = %pending[i].0, %reason, "refused event dead-lettered");
        kept.push((
            pending[i].0.clone(),
            DeadLetter::Refused {
                event: Box::new(pending[i].1.clone()),
                reason,
            },
        ));
    }
    if kept.is_empty() {
        return all_done();
    }
    let letters: Vec<DeadLetter> = kept.iter().map(|(_, l)| l.clone()).collect();
    match dead_letters.keep(&letters).await {
        Ok(()) => all_done(),
        Err(e) => {
            tracing::error!(error = %e, "the events dead-letter queue refused; the stream retries");
            DynamoDbEventResponse {
                batch_item_failures: kept
                    .into_iter()
                    .map(|(seq, _)| DynamoDbBatchItemFailure {
                        item_identifier: Some(seq),
                    })
                    .collect(),
            }
        }
    }
}

/// A response that reports no failure: the whole batch is checkpointed.
fn all_done() -> DynamoDbEventResponse {
    DynamoDbEventResponse {
        batch_item_failures: Vec::new(),
    }
}
