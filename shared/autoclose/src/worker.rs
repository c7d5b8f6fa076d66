//! The worker: an SQS batch of timer messages in, partial batch failures out.

use crate::fire::{FireOutcome, fire};
use crate::message::TimerMessage;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures::future::join_all;
use inbox_app::App;
use inbox_store::{ContactStore, ConversationStore};

/// What one batch did, message by message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkerReport {
    /// Conversations closed.
    pub closed: usize,
    /// Due timers cleared without closing (auto-close off).
    pub cleared: usize,
    /// Stale, duplicate or superseded messages: nothing to do.
    pub stale: usize,
    /// Conversations that no longer exist.
    pub missing: usize,
    /// Bodies that are not timer messages: logged and acknowledged.
    pub malformed: usize,
    /// Messages that failed and will be delivered again (or dead-lettered).
    pub failed: usize,
}

enum RecordResult {
    Fired(FireOutcome),
    Malformed,
    Failed,
}

/// Handles one SQS batch: fires every record (concurrently) and names the
/// records that failed, so that only they are delivered again. A malformed
/// body is logged and acknowledged: it can never succeed, so retrying it
/// would only delay it into the dead-letter queue.
pub async fn worker<S>(app: &App<S>, event: SqsEvent) -> SqsBatchResponse
where
    S: ConversationStore + ContactStore,
{
    worker_with_report(app, &event).await.0
}

/// [`worker`], also returning counts (for logs, the dev server and benchmarks).
pub async fn worker_with_report<S>(
    app: &App<S>,
    event: &SqsEvent,
) -> (SqsBatchResponse, WorkerReport)
where
    S: ConversationStore + ContactStore,
{
    let results = join_all(
        event
            .records
            .iter()
            .map(|record| handle_record(app, record)),
    )
    .await;
    let mut response = SqsBatchResponse::default();
    let mut report = WorkerReport::default();
    for (record, result) in event.records.iter().zip(results) {
        match result {
            RecordResult::Fired(FireOutcome::Closed { .. }) => report.closed += 1,
            RecordResult::Fired(FireOutcome::Cleared) => report.cleared += 1,
            RecordResult::Fired(FireOutcome::Stale) => report.stale += 1,
            RecordResult::Fired(FireOutcome::Missing) => report.missing += 1,
            RecordResult::Malformed => report.malformed += 1,
            RecordResult::Failed => {
                report.failed += 1;
                match &record.message_id {
                    Some(id) => response.batch_item_failures.push(BatchItemFailure {
                        item_identifier: id.clone(),
                    }),
                    // Lambda always sets the id; without one the message cannot be named.
                    None => tracing::error!("a failed timer message has no message id"),
                }
            }
        }
    }
    (response, report)
}

async fn handle_record<S>(app: &App<S>, record: &SqsMessage) -> RecordResult
where
    S: ConversationStore + ContactStore,
{
    let message_id = record.message_id.as_deref().unwrap_or_default();
    let msg = match TimerMessage::from_body(record.body.as_deref()) {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(message_id, error = %e, "malformed timer message acknowledged");
            return RecordResult::Malformed;
        }
    };
    match fire(app, &msg).await {
        Ok(outcome) => {
            tracing::info!(message_id, workspace_id = %msg.workspace_id,
                conversation_id = %msg.conversation_id, generation = msg.generation,
                ?outcome, "timer message handled");
            RecordResult::Fired(outcome)
        }
        Err(e) => {
            tracing::warn!(message_id, workspace_id = %msg.workspace_id,
                conversation_id = %msg.conversation_id, generation = msg.generation,
                error = %e, retryable = e.is_retryable(), "timer message failed");
            RecordResult::Failed
        }
    }
}
