//! What every SQS-triggered worker of the bus shares: reading the
//! EventBridge envelope a rule puts on its queue, and answering a batch
//! record by record with partial batch failures.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use inbox_domain::model::DomainEvent;
use serde_json::Value;
use std::future::Future;

/// The domain event in a rule's EventBridge envelope (`detail-type` and
/// `detail`); `None` for any other body.
pub fn bus_event(body: &str) -> Option<DomainEvent> {
    let envelope: Value = serde_json::from_str(body).ok()?;
    serde_json::from_value(serde_json::json!({
        "detail_type": envelope.get("detail-type")?,
        "detail": envelope.get("detail")?,
    }))
    .ok()
}

/// Runs `each` on every record at once; the records it names (`Some(id)`)
/// are reported to come back.
pub async fn each_record<'a, F, Fut>(event: &'a SqsEvent, each: F) -> SqsBatchResponse
where
    F: Fn(&'a SqsMessage) -> Fut,
    Fut: Future<Output = Option<String>>,
{
    let failed = futures::future::join_all(event.records.iter().map(each)).await;
    SqsBatchResponse {
        batch_item_failures: failed
            .into_iter()
            .flatten()
            .map(|item_identifier| BatchItemFailure { item_identifier })
            .collect(),
    }
}
