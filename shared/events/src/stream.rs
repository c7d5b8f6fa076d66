//! The table stream publisher (AWS): outbox items inserted by commits are
//! published to the bus; records that fail are reported so Lambda retries them.

use crate::EventBus;
use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use inbox_domain::model::DomainEvent;

/// Sort-key prefix of outbox items (the DynamoDB adapter's `OUT#<version>#<position>`).
pub const OUTBOX_SK_PREFIX: &str = "OUT#";

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

/// Publishes the outbox items of a stream batch. A record whose event cannot
/// be read is logged and skipped (retrying cannot fix it); a record the bus
/// refuses is reported as a batch item failure, and so is every record after
/// it, because Lambda retries a stream from the first reported failure on.
pub async fn publish_stream_batch(
    event: StreamEvent,
    bus: &(impl EventBus + ?Sized),
) -> DynamoDbEventResponse {
    let mut pending: Vec<(String, DomainEvent)> = Vec::new();
    for record in &event.records {
        let seq = record.change.sequence_number.clone().unwrap_or_default();
        match outbox_event(record) {
            None => {}
            Some(Ok(e)) => pending.push((seq, e)),
            Some(Err(reason)) => {
                tracing::error!(sequence_number = %seq, %reason, "unreadable outbox item skipped");
            }
        }
    }
    let events: Vec<DomainEvent> = pending.iter().map(|(_, e)| e.clone()).collect();
    let first_failed = match bus.publish(&events).await {
        Ok(failed) => failed.into_iter().min(),
        Err(e) => {
            tracing::error!(error = %e, "publishing a stream batch failed");
            (!pending.is_empty()).then_some(0)
        }
    };
    let batch_item_failures = match first_failed {
        Some(i) => pending[i..]
            .iter()
            .map(|(seq, _)| DynamoDbBatchItemFailure {
                item_identifier: Some(seq.clone()),
            })
            .collect(),
        None => Vec::new(),
    };
    DynamoDbEventResponse {
        batch_item_failures,
    }
}
