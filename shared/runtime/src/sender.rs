//! Replies in AWS: an EventBridge rule puts every `message.outbound` event on
//! the send queue; the `sender` function makes one attempt per record (the
//! records of a batch at once) and queues the next attempt of a transient
//! failure on the same queue with an SQS message delay. A record whose
//! attempt another sender holds, or that failed inside the inbox, is
//! reported as a batch item failure and comes back after the visibility
//! timeout; after five receives it goes to the dead-letter queue.

use async_trait::async_trait;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use inbox_app::{App, AppError, Attempted, SendQueue, SendTask};
use inbox_domain::delivery::MAX_RETRY_GAP_MILLIS;
use inbox_store::{Store, StoreError};

/// The send queue on SQS.
#[derive(Debug, Clone)]
pub struct SqsSendQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsSendQueue {
    /// The queue at `queue_url`.
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        SqsSendQueue {
            client,
            queue_url: queue_url.into(),
        }
    }
}

/// SQS's message delay in whole seconds: at least the wait asked for, at most 15 minutes.
pub fn delay_seconds(delay_millis: i64) -> i32 {
    let capped = delay_millis.clamp(0, MAX_RETRY_GAP_MILLIS);
    i32::try_from((capped + 999) / 1000).unwrap_or(900)
}

#[async_trait]
impl SendQueue for SqsSendQueue {
    async fn enqueue(&self, task: &SendTask, delay_millis: i64) -> Result<(), AppError> {
        let body = serde_json::to_string(task)
            .map_err(|e| AppError::Store(StoreError::Corrupt(e.to_string())))?;
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .delay_seconds(delay_seconds(delay_millis))
            .send()
            .await
            .map_err(|e| {
                AppError::Store(StoreError::Unavailable(format!(
                    "the send queue refused an attempt: {}",
                    aws_sdk_sqs::error::DisplayErrorContext(e)
                )))
            })?;
        Ok(())
    }
}

/// The attempt a record asks for: a later attempt queued by the sender, or
/// the first of a `message.outbound` event as the rule delivers it (the
/// EventBridge envelope). `None` for anything else, and for an event whose
/// message goes nowhere.
pub fn task_of(body: &str) -> Option<SendTask> {
    if let Ok(task) = serde_json::from_str::<SendTask>(body) {
        return Some(task);
    }
    SendTask::first(&crate::sqs::bus_event(body)?)
}

/// Makes the attempt of every record, at once; names in the response the
/// records to deliver again.
pub async fn send_worker<S: Store>(app: &App<S>, event: &SqsEvent) -> SqsBatchResponse {
    crate::sqs::each_record(event, |r| attempt(app, r)).await
}

/// One record: `Some(its id)` when it must come back.
async fn attempt<S: Store>(app: &App<S>, record: &SqsMessage) -> Option<String> {
    let id = record.message_id.clone().unwrap_or_default();
    let Some(task) = record.body.as_deref().and_then(task_of) else {
        tracing::error!(message_id = %id, "a send queue record that is no attempt; acknowledged");
        return None;
    };
    match app.deliver(&task).await {
        Ok(Attempted::Busy) => {
            tracing::info!(message_id = %task.message_id, attempt = task.attempt, "attempt held by another sender; will look again");
            Some(id)
        }
        Ok(done) => {
            tracing::info!(message_id = %task.message_id, attempt = task.attempt, outcome = ?done, "send attempt");
            None
        }
        // The conversation is gone: nothing will ever send it.
        Err(AppError::NotFound(what)) => {
            tracing::warn!(message_id = %task.message_id, what, "nothing to send; acknowledged");
            None
        }
        Err(e) => {
            tracing::warn!(message_id = %task.message_id, error = %e, "send attempt failed; will be retried");
            Some(id)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_round_up_to_whole_seconds_within_sqs_limit() {
        assert_eq!(delay_seconds(0), 0);
        assert_eq!(delay_seconds(4_200), 5);
        assert_eq!(delay_seconds(5_000), 5);
        assert_eq!(delay_seconds(-3), 0);
        assert_eq!(delay_seconds(60 * 60 * 1000), 900);
    }

    #[test]
    fn a_record_is_a_later_attempt_or_the_rules_eventbridge_envelope() {
        let task = SendTask {
            workspace_id: "acme".into(),
            conversation_id: "conv_1".into(),
            message_id: "msg_1".into(),
            at: inbox_domain::model::MessageAt {
                version: 3,
                position: 0,
            },
            channel_id: "sms".into(),
            contact_id: "ct_1".into(),
            to: Some("+15550100".into()),
            attempt: 2,
        };
        let body = serde_json::to_string(&task).unwrap();
        assert_eq!(task_of(&body), Some(task.clone()));

        let envelope = serde_json::json!({
            "version": "0", "id": "e1", "detail-type": "message.outbound", "source": "inbox",
            "account": "1", "time": "2026-12-02T08:00:00Z", "region": "us-east-1", "resources": [],
            "detail": {"workspace_id": "acme", "conversation_id": "conv_1", "channel_id": "sms",
                       "contact_id": "ct_1", "to": "+15550100",
                       "message": {"id": "msg_1", "conversation_id": "conv_1",
                                   "sender": {"kind": "member", "id": "bob", "name": "Bob"},
                                   "body": "Hi", "created_at": "2026-12-02T08:00:00.000Z",
                                   "channel_message_id": null,
                                   "delivery": {"status": "pending", "attempts": 0, "error": null,
                                                "updated_at": "2026-12-02T08:00:00.000Z"}},
                       "at": {"version": 3, "position": 0}}
        });
        assert_eq!(
            task_of(&envelope.to_string()),
            Some(SendTask { attempt: 1, ..task })
        );
        // Another event, or a message that goes nowhere, is no attempt.
        let mut other = envelope.clone();
        other["detail-type"] = "ai.reply_requested".into();
        assert_eq!(task_of(&other.to_string()), None);
        let mut nowhere = envelope;
        nowhere["detail"]["channel_id"] = serde_json::Value::Null;
        assert_eq!(task_of(&nowhere.to_string()), None);
        assert_eq!(task_of("not json"), None);
    }
}
