//! The events dead-letter queue on SQS.

use crate::dead_letters::{DeadLetter, DeadLetterError, DeadLetters, Received};
use async_trait::async_trait;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use aws_smithy_types::error::display::DisplayErrorContext;

/// How long a received dead letter stays hidden while a replay publishes it.
const VISIBILITY_SECONDS: i32 = 60;

/// The events dead-letter queue as an SQS queue (client built once per process).
#[derive(Debug, Clone)]
pub struct SqsDeadLetters {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsDeadLetters {
    /// The queue at `queue_url`.
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        SqsDeadLetters {
            client,
            queue_url: queue_url.into(),
        }
    }
}

fn unavailable(e: impl std::error::Error) -> DeadLetterError {
    DeadLetterError(DisplayErrorContext(e).to_string())
}

#[async_trait]
impl DeadLetters for SqsDeadLetters {
    async fn keep(&self, letters: &[DeadLetter]) -> Result<(), DeadLetterError> {
        // SendMessageBatch takes ten entries at most.
        for chunk in letters.chunks(10) {
            let mut entries = Vec::with_capacity(chunk.len());
            for (i, letter) in chunk.iter().enumerate() {
                let body =
                    serde_json::to_string(letter).map_err(|e| DeadLetterError(e.to_string()))?;
                entries.push(
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(body)
                        .build()
                        .map_err(unavailable)?,
                );
            }
            let out = self
                .client
                .send_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(unavailable)?;
            if let Some(failed) = out.failed().first() {
                return Err(DeadLetterError(format!(
                    "entry {} not kept: {}",
                    failed.id(),
                    failed.message().unwrap_or_default()
                )));
            }
        }
        Ok(())
    }

    async fn receive(&self) -> Result<Vec<Received>, DeadLetterError> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(10)
            .visibility_timeout(VISIBILITY_SECONDS)
            .wait_time_seconds(1)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out
            .messages()
            .iter()
            .map(|m| Received {
                receipt: m.receipt_handle().unwrap_or_default().to_string(),
                id: m.message_id().unwrap_or_default().to_string(),
                body: m.body().unwrap_or_default().to_string(),
            })
            .collect())
    }

    async fn delete(&self, receipt: &str) -> Result<(), DeadLetterError> {
        self.client
            .delete_message()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}
