//! Jobs in AWS: steps queued on SQS, and the `job-worker` function that runs
//! them, one step per message, reporting partial batch failures.

use async_trait::async_trait;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use inbox_app::{App, AppError, JobMessage, JobQueue};
use inbox_store::{Store, StoreError};

/// The jobs queue on SQS.
#[derive(Debug, Clone)]
pub struct SqsJobQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsJobQueue {
    /// The queue at `queue_url`.
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        SqsJobQueue {
            client,
            queue_url: queue_url.into(),
        }
    }
}

#[async_trait]
impl JobQueue for SqsJobQueue {
    async fn enqueue(&self, message: &JobMessage) -> Result<(), AppError> {
        let body = serde_json::to_string(message)
            .map_err(|e| AppError::Store(StoreError::Corrupt(e.to_string())))?;
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .send()
            .await
            .map_err(|e| {
                AppError::Store(StoreError::Unavailable(format!(
                    "the jobs queue refused a step: {}",
                    aws_sdk_sqs::error::DisplayErrorContext(e)
                )))
            })?;
        Ok(())
    }
}

/// Runs one step per record. A record whose step failed (and may succeed
/// later) is named in the response, so only it is delivered again; a body
/// that is not a job message is logged and acknowledged (it never succeeds).
pub async fn job_worker<S: Store>(app: &App<S>, event: &SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for record in &event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let message: JobMessage = match record.body.as_deref().map(serde_json::from_str) {
            Some(Ok(m)) => m,
            _ => {
                tracing::error!(message_id = %id, "malformed job message acknowledged");
                continue;
            }
        };
        match app.run_job(&message.workspace_id, &message.job_id).await {
            Ok(report) => tracing::info!(
                job_id = %message.job_id,
                outcome = ?report.outcome,
                changed = report.figures.changed,
                transactions = report.figures.transactions,
                "job step"
            ),
            // Gone (expired or never created): nothing will ever run it.
            Err(AppError::NotFound(_)) => {
                tracing::warn!(job_id = %message.job_id, "job not found; message acknowledged");
            }
            Err(e) => {
                tracing::warn!(job_id = %message.job_id, error = %e, "job step failed; will be retried");
                response.batch_item_failures.push(BatchItemFailure {
                    item_identifier: id,
                });
            }
        }
    }
    response
}
