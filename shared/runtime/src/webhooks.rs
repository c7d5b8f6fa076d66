//! Outgoing webhooks in AWS. `webhook-dispatch` reads the table stream (the
//! change feed: timeline events and messages as stored, in commit order per
//! conversation) and queues one task per subscribed endpoint on an SQS FIFO
//! queue whose message groups are the lanes (endpoint + conversation), so
//! one conversation's events reach one endpoint in commit order.
//! `webhook-sender` makes each task's next attempt; a failed attempt's
//! record is held back with `ChangeMessageVisibility` for the retry's wait
//! (the whole lane waits behind it, as FIFO groups do) and reported as a
//! batch item failure, so it comes back when the retry is due, however many
//! invocations that spans; nothing is lost while a receiver is down.

use crate::live::{ConnectionPoster, fan_out};
use async_trait::async_trait;
use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use inbox_app::{App, AppError, WebhookAttempted, WebhookQueue, WebhookTask};
use inbox_domain::live::live_messages;
use inbox_domain::webhooks::StoredChange;
use inbox_store::dynamo::stream::{RecordKind, stored_change};
use inbox_store::{LiveConnectionStore, Store, StoreError};
use sha2::{Digest, Sha256};

/// Most entries in one `SendMessageBatch`.
const MAX_SEND_BATCH: usize = 10;
/// The longest an SQS message can be held back (12 hours).
pub const MAX_VISIBILITY_SECONDS: i64 = 12 * 3600;

/// An SQS FIFO message group id or deduplication id (at most 128
/// characters): the hex SHA-256 of what it stands for.
fn fifo_id(of: &str) -> String {
    hex::encode(Sha256::digest(of.as_bytes()))
}

/// The webhook queue on SQS FIFO: a lane is a message group; a task's
/// delivery (endpoint + event) deduplicates.
#[derive(Debug, Clone)]
pub struct SqsWebhookQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsWebhookQueue {
    /// The FIFO queue at `queue_url`.
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        SqsWebhookQueue {
            client,
            queue_url: queue_url.into(),
        }
    }
}

fn queue_error(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::Store(StoreError::Unavailable(format!(
        "the webhook queue {what}: {e}"
    )))
}

#[async_trait]
impl WebhookQueue for SqsWebhookQueue {
    async fn enqueue(&self, tasks: &[WebhookTask]) -> Result<(), AppError> {
        for chunk in tasks.chunks(MAX_SEND_BATCH) {
            let mut entries = Vec::with_capacity(chunk.len());
            for (i, task) in chunk.iter().enumerate() {
                let body = serde_json::to_string(task)
                    .map_err(|e| AppError::Store(StoreError::Corrupt(e.to_string())))?;
                let entry = aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(body)
                    .message_group_id(fifo_id(&task.lane()))
                    .message_deduplication_id(fifo_id(&format!(
                        "{}|{}",
                        task.endpoint_id, task.event_id
                    )))
                    .build()
                    .map_err(|e| queue_error("entry could not be built", e))?;
                entries.push(entry);
            }
            let out = self
                .client
                .send_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| {
                    queue_error(
                        "refused a batch",
                        aws_sdk_sqs::error::DisplayErrorContext(e),
                    )
                })?;
            // A lane's later tasks may have gone in: the caller hands the run
            // over again; FIFO deduplication and the attempt's claim keep
            // what was queued twice from being posted twice.
            if let Some(f) = out.failed.first() {
                return Err(queue_error("refused a task", &f.code));
            }
        }
        Ok(())
    }
}

/// The stored changes of a stream batch, in order, with their sequence
/// numbers. Records that are no change are skipped; one that should be and
/// does not read is logged and skipped (the item itself is in the table).
pub fn changes_of(event: &StreamEvent) -> Vec<(String, StoredChange)> {
    let mut out = Vec::new();
    for record in &event.records {
        let seq = record.change.sequence_number.clone().unwrap_or_default();
        let Some(kind) = RecordKind::parse(&record.event_name) else {
            continue;
        };
        match stored_change(kind, record.change.new_image.clone()) {
            None => {}
            Some(Ok(change)) => out.push((seq, change)),
            Some(Err(e)) => {
                tracing::error!(sequence_number = %seq, error = %e, "a stream record that does not read; no webhook for it");
            }
        }
    }
    out
}

/// `webhook-dispatch`, the change feed's consumer: folds a stream batch's
/// changes into the report aggregates, queues their webhook tasks, then
/// sends what was handled to the live
/// connections (when the stack has its WebSocket API: `live`); when a run
/// cannot be queued, reports its first record, so the stream hands it and
/// everything after it over again, in order (and live once, then).
pub async fn dispatch_stream_batch<S: Store + LiveConnectionStore>(
    app: &App<S>,
    event: &StreamEvent,
    queue: &(impl WebhookQueue + ?Sized),
    live: Option<&dyn ConnectionPoster>,
) -> DynamoDbEventResponse {
    let changes = changes_of(event);
    let (seqs, changes): (Vec<String>, Vec<StoredChange>) = changes.into_iter().unzip();
    let mut response = DynamoDbEventResponse {
        batch_item_failures: Vec::new(),
    };
    // Reports first: if they cannot be saved the stream hands the whole
    // batch over again, and folding it again counts nothing twice.
    if let Err(e) = app.aggregate_reports(&changes).await {
        tracing::warn!(error = %e, "report aggregation failed; the stream retries");
        response.batch_item_failures.push(DynamoDbBatchItemFailure {
            item_identifier: seqs.first().cloned(),
        });
        return response;
    }
    let done = app.dispatch_webhooks(&changes, queue).await;
    tracing::info!(
        changes = changes.len(),
        queued = done.queued,
        "webhook dispatch"
    );
    if let Some(poster) = live {
        let messages = live_messages(&changes[..done.handled]);
        let now = inbox_store::Clock::now(&inbox_store::SystemClock);
        let report = fan_out(app.store(), poster, &messages, now).await;
        tracing::info!(?report, "live fan-out");
    }
    if let Some(e) = done.error {
        tracing::warn!(error = %e, handled = done.handled, "webhook dispatch stopped; the stream retries");
        response.batch_item_failures.push(DynamoDbBatchItemFailure {
            item_identifier: seqs.get(done.handled).cloned(),
        });
    }
    response
}

/// Holds a queue record back until its retry is due.
#[async_trait]
pub trait HoldBack: Send + Sync {
    /// Makes the record with `receipt_handle` visible again in `seconds`.
    async fn hold_back(&self, receipt_handle: &str, seconds: i32) -> Result<(), AppError>;
}

/// [`HoldBack`] with SQS's `ChangeMessageVisibility`.
#[derive(Debug, Clone)]
pub struct SqsHoldBack {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsHoldBack {
    /// On the queue at `queue_url`.
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        SqsHoldBack {
            client,
            queue_url: queue_url.into(),
        }
    }
}

#[async_trait]
impl HoldBack for SqsHoldBack {
    async fn hold_back(&self, receipt_handle: &str, seconds: i32) -> Result<(), AppError> {
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(seconds)
            .send()
            .await
            .map_err(|e| {
                queue_error("kept a record", aws_sdk_sqs::error::DisplayErrorContext(e))
            })?;
        Ok(())
    }
}

/// A retry's wait as a visibility timeout: whole seconds, rounded up, at most 12 hours.
pub fn visibility_seconds(millis: i64) -> i32 {
    let secs = (millis.max(0) + 999) / 1000;
    i32::try_from(secs.min(MAX_VISIBILITY_SECONDS)).unwrap_or(i32::MAX)
}

/// What became of one record.
enum Handled {
    /// Finished with (delivered, dropped, or nothing to do): deleted.
    Done,
    /// To come back: a retry held back this many seconds, or (`None`) a
    /// failure inside the inbox, back after the queue's visibility timeout.
    /// Its lane waits.
    Again(Option<i32>),
}

/// `webhook-sender`: the records of each lane in order, lanes at once. A
/// record whose attempt is to be retried is held back for the retry's wait,
/// and the rest of its lane in the batch with it; all are reported, so they
/// come back together, in order.
pub async fn send_webhooks<S: Store>(
    app: &App<S>,
    event: &SqsEvent,
    hold: &(impl HoldBack + ?Sized),
) -> SqsBatchResponse {
    let mut lanes: Vec<(String, Vec<&SqsMessage>)> = Vec::new();
    for record in &event.records {
        let group = record
            .attributes
            .get("MessageGroupId")
            .cloned()
            .unwrap_or_default();
        match lanes.iter_mut().find(|(g, _)| *g == group) {
            Some((_, records)) => records.push(record),
            None => lanes.push((group, vec![record])),
        }
    }
    let runs = lanes.iter().map(|(_, records)| async move {
        let mut again: Vec<String> = Vec::new();
        let mut held: Option<Option<i32>> = None;
        for record in records {
            let id = record.message_id.clone().unwrap_or_default();
            match held {
                // Behind a record that comes back: back with it, after the
                // same wait, so the lane resumes in order and at once.
                Some(wait) => {
                    if let (Some(seconds), Some(receipt)) = (wait, record.receipt_handle.as_deref())
                        && let Err(e) = hold.hold_back(receipt, seconds).await
                    {
                        tracing::warn!(message_id = %id, error = %e, "could not hold a lane's record back");
                    }
                    again.push(id);
                }
                None => {
                    if let Handled::Again(wait) = attempt(app, record, hold).await {
                        held = Some(wait);
                        again.push(id);
                    }
                }
            }
        }
        again
    });
    let again = futures::future::join_all(runs).await;
    SqsBatchResponse {
        batch_item_failures: again
            .into_iter()
            .flatten()
            .map(|item_identifier| BatchItemFailure { item_identifier })
            .collect(),
    }
}

async fn attempt<S: Store>(
    app: &App<S>,
    record: &SqsMessage,
    hold: &(impl HoldBack + ?Sized),
) -> Handled {
    let id = record.message_id.as_deref().unwrap_or_default();
    let Some(task) = record
        .body
        .as_deref()
        .and_then(|b| serde_json::from_str::<WebhookTask>(b).ok())
    else {
        tracing::error!(message_id = %id, "a webhook queue record that is no task; acknowledged");
        return Handled::Done;
    };
    match app.attempt_webhook(&task).await {
        Ok(WebhookAttempted::RetryIn { millis }) => {
            let seconds = visibility_seconds(millis);
            match record.receipt_handle.as_deref() {
                Some(receipt) => {
                    if let Err(e) = hold.hold_back(receipt, seconds).await {
                        // It comes back after the queue's visibility timeout
                        // instead; the attempt waits for its due time then.
                        tracing::warn!(event_id = %task.event_id, error = %e, "could not hold a retry back");
                    }
                }
                None => {
                    tracing::warn!(event_id = %task.event_id, "a record without a receipt handle")
                }
            }
            tracing::info!(event_id = %task.event_id, endpoint = %task.endpoint_id, seconds, "webhook attempt failed; retrying");
            Handled::Again(Some(seconds))
        }
        Ok(done) => {
            tracing::info!(event_id = %task.event_id, endpoint = %task.endpoint_id, outcome = ?done, "webhook delivery");
            Handled::Done
        }
        Err(e) if e.is_transient() => {
            tracing::warn!(event_id = %task.event_id, error = %e, "webhook attempt failed inside the inbox; will be retried");
            Handled::Again(None)
        }
        Err(e) => {
            tracing::error!(event_id = %task.event_id, error = %e, "webhook attempt refused; dropped");
            Handled::Done
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_become_visibility_timeouts_within_sqs_limit() {
        assert_eq!(visibility_seconds(0), 0);
        assert_eq!(visibility_seconds(4_001), 5);
        assert_eq!(visibility_seconds(-1), 0);
        assert_eq!(visibility_seconds(36_000_000), 36_000);
        assert_eq!(visibility_seconds(i64::MAX / 2), 43_200);
    }

    #[test]
    fn fifo_ids_fit_sqs() {
        let long = "w".repeat(64) + "#" + &"e".repeat(64) + "#conv_01m8w44nb1s861z7mczxh9t57p";
        assert_eq!(fifo_id(&long).len(), 64);
        assert_ne!(fifo_id("a#b#c"), fifo_id("a#b#d"));
    }
}
