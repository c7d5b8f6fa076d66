//! The SQS adapter: `SendMessageBatch` to send, `ReceiveMessage`/`DeleteMessageBatch` to poll.

use super::{MAX_BATCH, QueueError, TimerQueue, TimerReceiver, failed_ids};
use crate::message::TimerMessage;
use async_trait::async_trait;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, MessageSystemAttributeName, SendMessageBatchRequestEntry,
};
use std::collections::HashMap;

/// An SQS queue of timer messages.
#[derive(Debug, Clone)]
pub struct SqsTimerQueue {
    client: Client,
    queue_url: String,
    wait_seconds: i32,
}

impl SqsTimerQueue {
    /// A queue at `queue_url` (the client is built once, by the caller).
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        SqsTimerQueue {
            client,
            queue_url: queue_url.into(),
            wait_seconds: 0,
        }
    }

    /// Long-polls `receive` for up to `seconds` (0 to 20) when nothing is waiting.
    pub fn with_wait_seconds(mut self, seconds: i32) -> Self {
        self.wait_seconds = seconds.clamp(0, 20);
        self
    }

    /// The queue URL.
    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }
}

fn unavailable(e: impl std::fmt::Display) -> QueueError {
    QueueError::Unavailable(e.to_string())
}

#[async_trait]
impl TimerQueue for SqsTimerQueue {
    async fn send_batch(&self, msgs: &[TimerMessage]) -> Result<Vec<usize>, QueueError> {
        if msgs.len() > MAX_BATCH {
            return Err(QueueError::BatchTooLarge(msgs.len()));
        }
        if msgs.is_empty() {
            return Ok(Vec::new());
        }
        let entries = msgs
            .iter()
            .enumerate()
            .map(|(i, m)| {
                // The entry id is the index, so failures map straight back.
                SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(m.to_body())
                    .build()
                    .map_err(unavailable)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let out = self
            .client
            .send_message_batch()
            .queue_url(&self.queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| unavailable(aws_sdk_sqs::error::DisplayErrorContext(e)))?;
        let mut failed = Vec::new();
        for f in out.failed() {
            match f.id().parse::<usize>() {
                Ok(i) if i < msgs.len() => {
                    tracing::warn!(
                        index = i,
                        code = f.code(),
                        sender_fault = f.sender_fault(),
                        message = f.message().unwrap_or_default(),
                        "timer message not accepted"
                    );
                    failed.push(i);
                }
                _ => tracing::warn!(id = f.id(), "SQS reported a failure for an unknown entry"),
            }
        }
        failed.sort_unstable();
        failed.dedup();
        Ok(failed)
    }
}

#[async_trait]
impl TimerReceiver for SqsTimerQueue {
    async fn receive(&self, max: usize) -> Result<SqsEvent, QueueError> {
        let max = i32::try_from(max.clamp(1, MAX_BATCH)).unwrap_or(10);
        let out = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(max)
            .wait_time_seconds(self.wait_seconds)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| unavailable(aws_sdk_sqs::error::DisplayErrorContext(e)))?;
        let records = out
            .messages()
            .iter()
            .map(|m| {
                let attributes: HashMap<String, String> = m
                    .attributes()
                    .map(|a| {
                        a.iter()
                            .map(|(k, v)| (k.as_str().to_string(), v.clone()))
                            .collect()
                    })
                    .unwrap_or_default();
                SqsMessage {
                    message_id: m.message_id().map(str::to_string),
                    receipt_handle: m.receipt_handle().map(str::to_string),
                    body: m.body().map(str::to_string),
                    md5_of_body: m.md5_of_body().map(str::to_string),
                    attributes,
                    event_source: Some("aws:sqs".into()),
                    ..SqsMessage::default()
                }
            })
            .collect();
        Ok(SqsEvent { records })
    }

    async fn settle(
        &self,
        event: &SqsEvent,
        response: &SqsBatchResponse,
    ) -> Result<(), QueueError> {
        let failed = failed_ids(response);
        let entries = event
            .records
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                r.message_id
                    .as_deref()
                    .is_none_or(|id| !failed.contains(id))
            })
            .filter_map(|(i, r)| {
                let handle = r.receipt_handle.as_deref()?;
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(handle)
                    .build()
                    .ok()
            })
            .collect::<Vec<_>>();
        if entries.is_empty() {
            return Ok(());
        }
        let out = self
            .client
            .delete_message_batch()
            .queue_url(&self.queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| unavailable(aws_sdk_sqs::error::DisplayErrorContext(e)))?;
        // An undeleted message is delivered again; the worker is idempotent.
        for f in out.failed() {
            tracing::warn!(id = f.id(), code = f.code(), "timer message not deleted");
        }
        Ok(())
    }
}
