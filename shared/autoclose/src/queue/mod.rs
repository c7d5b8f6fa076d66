//! The timer queue port: the sweep sends to it; a receiver hands deliveries to
//! the worker in the shape Lambda's SQS event source uses.

pub mod in_process;
pub mod sqs;

use crate::message::TimerMessage;
use async_trait::async_trait;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};

/// The most messages one `send_batch` takes (SQS `SendMessageBatch`'s limit).
pub const MAX_BATCH: usize = 10;

/// Queue failures (whole-request ones; per-message failures are returned as indexes).
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// More than [`MAX_BATCH`] messages in one call.
    #[error("a batch holds at most {MAX_BATCH} messages, got {0}")]
    BatchTooLarge(usize),
    /// The queue could not be reached or refused the request.
    #[error("queue unavailable: {0}")]
    Unavailable(String),
}

/// Where the sweep sends due timers.
#[async_trait]
pub trait TimerQueue: Send + Sync {
    /// Sends up to [`MAX_BATCH`] messages; returns the indexes (into `msgs`) of those not accepted.
    async fn send_batch(&self, msgs: &[TimerMessage]) -> Result<Vec<usize>, QueueError>;
}

/// The receiving side, for pollers outside Lambda (the dev server, the tests):
/// deliveries come as the same `SqsEvent` Lambda would pass to the worker.
#[async_trait]
pub trait TimerReceiver: Send + Sync {
    /// Up to `max` (at most [`MAX_BATCH`]) visible deliveries; empty when none are waiting.
    async fn receive(&self, max: usize) -> Result<SqsEvent, QueueError>;

    /// Settles a handled batch as Lambda does: deletes every record except those
    /// the response names as failed, which are delivered again later (and reach
    /// the dead-letter queue after the configured number of receives).
    async fn settle(&self, event: &SqsEvent, response: &SqsBatchResponse)
    -> Result<(), QueueError>;
}

#[async_trait]
impl<Q: TimerQueue + ?Sized> TimerQueue for &Q {
    async fn send_batch(&self, msgs: &[TimerMessage]) -> Result<Vec<usize>, QueueError> {
        (**self).send_batch(msgs).await
    }
}

#[async_trait]
impl<Q: TimerQueue + ?Sized> TimerQueue for std::sync::Arc<Q> {
    async fn send_batch(&self, msgs: &[TimerMessage]) -> Result<Vec<usize>, QueueError> {
        (**self).send_batch(msgs).await
    }
}

/// The message ids a batch response names as failed.
pub(crate) fn failed_ids(response: &SqsBatchResponse) -> std::collections::HashSet<&str> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect()
}
