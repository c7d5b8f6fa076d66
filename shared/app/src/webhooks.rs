//! Outgoing webhooks: the port a delivery attempt leaves through. Whether
//! and when to attempt, and what an answer means, are the domain's
//! (`inbox_domain::webhooks`); adapters sign, post and report.

use crate::app::App;
use crate::error::AppError;
use async_trait::async_trait;
use inbox_domain::Timestamp;
use inbox_domain::webhooks::{
    AttemptOutcome, DeliveryState, StoredChange, UrlPolicy, WebhookDelivery, WebhookEvent,
};
use inbox_store::{DeliveryRef, Store};
use serde::{Deserialize, Serialize};

/// One signed POST of one event to one endpoint.
#[derive(Debug, Clone, Copy)]
pub struct WebhookPost<'a> {
    /// The endpoint's URL.
    pub url: &'a str,
    /// Its `whsec_…` secret.
    pub secret: &'a str,
    /// The event's id: `webhook-id`, the same on every attempt.
    pub event_id: &'a str,
    /// The JSON body `{"type", "timestamp", "data"}`.
    pub body: &'a str,
    /// Now, in Unix seconds: `webhook-timestamp`.
    pub unix_now: i64,
}

/// What a signed POST that waits for its answer got back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallAnswer {
    /// An HTTP answer: its status and (the start of) its body.
    Answered {
        /// The status.
        status: u16,
        /// The body as text, cut at [`MAX_ANSWER_BYTES`].
        body: String,
    },
    /// No answer in time, or no connection.
    NoAnswer,
}

/// The most of an answer's body a call reads.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Posts events to endpoints.
#[async_trait]
pub trait WebhookTransport: Send + Sync {
    /// Where this transport may connect (checked again after DNS resolution).
    fn policy(&self) -> UrlPolicy;
    /// Makes one attempt; every answer, and no answer, is an outcome.
    async fn post(&self, post: &WebhookPost<'_>) -> AttemptOutcome;
    /// Makes one attempt and reads the answer's body (a webhook AI agent
    /// may answer in it), signed and guarded as [`Self::post`] is.
    async fn call(&self, post: &WebhookPost<'_>) -> CallAnswer;
}

/// One attempt at one event for one endpoint: a queue message. The body is
/// carried whole, so every attempt posts the same bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookTask {
    /// Workspace.
    pub workspace_id: String,
    /// The endpoint.
    pub endpoint_id: String,
    /// The event (`webhook-id`).
    pub event_id: String,
    /// Its type (`conversation.assigned`, …).
    pub event_type: String,
    /// Its conversation: attempts of one conversation to one endpoint go in order.
    pub conversation_id: String,
    /// When it was committed.
    pub created_at: Timestamp,
    /// `{"type", "timestamp", "data"}`.
    pub body: String,
}

impl WebhookTask {
    /// The ordering lane: one endpoint, one conversation (an SQS FIFO message group).
    pub fn lane(&self) -> String {
        format!(
            "{}#{}#{}",
            self.workspace_id, self.endpoint_id, self.conversation_id
        )
    }
}

/// Where webhook tasks wait their turn: an SQS FIFO queue with a message
/// group per lane (AWS), lanes in process (the dev server).
#[async_trait]
pub trait WebhookQueue: Send + Sync {
    /// Queues `tasks`, a lane's in the order given.
    async fn enqueue(&self, tasks: &[WebhookTask]) -> Result<(), AppError>;
}

/// How far a dispatch of stored changes got.
#[derive(Debug)]
pub struct Dispatched {
    /// The leading changes handled (their tasks queued, or none due);
    /// the rest are to be handed over again, in order.
    pub handled: usize,
    /// Tasks queued.
    pub queued: usize,
    /// Why it stopped before the end.
    pub error: Option<AppError>,
}

/// What an attempt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookAttempted {
    /// The endpoint answered 2xx.
    Succeeded,
    /// It did not; try again after this long (the lane waits meanwhile).
    RetryIn {
        /// Milliseconds.
        millis: i64,
    },
    /// Dropped: every attempt failed, or the endpoint is off or gone (recorded).
    Failed,
    /// Nothing to do: the delivery is finished, or another worker holds it.
    Skipped,
}

impl<S: Store> App<S> {
    /// The tasks for `events` of one workspace: one per endpoint that wants
    /// each event, its delivery record made first (one read of the endpoints
    /// for the whole batch). A republished event gets its task again only
    /// while its delivery has never been attempted (its queue message may
    /// have been lost); the attempt's claim makes any duplicate harmless.
    pub async fn webhook_tasks(
        &self,
        workspace_id: &str,
        events: &[WebhookEvent],
    ) -> Result<Vec<WebhookTask>, AppError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let store = self.store();
        let endpoints = store.list_webhook_endpoints(workspace_id).await?;
        let mut tasks = Vec::new();
        for event in events {
            // Serialised once per event, however many endpoints want it.
            let mut body: Option<String> = None;
            for endpoint in endpoints.iter().filter(|e| e.wants(&event.event_type)) {
                let d = WebhookDelivery::new(
                    &endpoint.id,
                    &event.id,
                    &event.event_type,
                    &event.conversation_id,
                    event.timestamp,
                );
                let fresh = store.create_webhook_delivery(workspace_id, &d).await?
                    || store
                        .get_webhook_delivery(workspace_id, &DeliveryRef::of(&d))
                        .await?
                        .is_some_and(|s| s.never_attempted());
                if fresh {
                    tasks.push(WebhookTask {
                        workspace_id: workspace_id.to_string(),
                        endpoint_id: endpoint.id.clone(),
                        event_id: event.id.clone(),
                        event_type: event.event_type.clone(),
                        conversation_id: event.conversation_id.clone(),
                        created_at: event.timestamp,
                        body: body.get_or_insert_with(|| event.body()).clone(),
                    });
                }
            }
        }
        Ok(tasks)
    }

    /// Queues the webhook tasks of stored changes, taken in commit order
    /// (the table stream's, the change feed's): one read of the endpoints
    /// per run of one workspace's changes. Stops at the first run it cannot
    /// queue, so that the caller hands the rest over again and every lane
    /// stays in commit order.
    pub async fn dispatch_webhooks(
        &self,
        changes: &[StoredChange],
        queue: &(impl WebhookQueue + ?Sized),
    ) -> Dispatched {
        let mut done = Dispatched {
            handled: 0,
            queued: 0,
            error: None,
        };
        for run in changes.chunk_by(|a, b| a.workspace_id == b.workspace_id) {
            let events: Vec<WebhookEvent> =
                run.iter().filter_map(WebhookEvent::of_stored).collect();
            let queued = match self.webhook_tasks(&run[0].workspace_id, &events).await {
                Ok(tasks) if tasks.is_empty() => Ok(0),
                Ok(tasks) => queue.enqueue(&tasks).await.map(|()| tasks.len()),
                Err(e) => Err(e),
            };
            match queued {
                Ok(n) => {
                    done.handled += run.len();
                    done.queued += n;
                }
                Err(e) => {
                    done.error = Some(e);
                    break;
                }
            }
        }
        done
    }

    /// Makes the next attempt of `task`'s delivery, at most once however
    /// often the task is handed over: the attempt is claimed with a
    /// conditional write before the POST and its outcome saved after.
    pub async fn attempt_webhook(&self, task: &WebhookTask) -> Result<WebhookAttempted, AppError> {
        let (transport, schedule) = self
            .webhooks()
            .ok_or(AppError::Unsupported("outgoing webhooks"))?;
        let store = self.store();
        let ws = task.workspace_id.as_str();
        let now = self.clock().now();
        let at = DeliveryRef {
            endpoint_id: &task.endpoint_id,
            event_id: &task.event_id,
            created_at: task.created_at,
        };
        let delivery = match store.get_webhook_delivery(ws, &at).await? {
            Some(d) => d,
            None => {
                let d = WebhookDelivery::new(
                    &task.endpoint_id,
                    &task.event_id,
                    &task.event_type,
                    &task.conversation_id,
                    task.created_at,
                );
                store.create_webhook_delivery(ws, &d).await?;
                d
            }
        };
        if delivery.status != DeliveryState::Retrying {
            return Ok(WebhookAttempted::Skipped);
        }
        // Not due yet (a duplicate of a task whose retry is scheduled, or an
        // attempt another worker holds): come back then.
        if let Some(millis) = delivery.not_due_for(now) {
            return Ok(WebhookAttempted::RetryIn { millis });
        }
        let endpoint = match store.get_webhook_endpoint(ws, &task.endpoint_id).await? {
            Some(e) if e.enabled => e,
            _ => {
                store
                    .save_webhook_delivery(ws, &delivery.dropped(now), delivery.attempts)
                    .await?;
                return Ok(WebhookAttempted::Failed);
            }
        };
        let claimed = delivery.claim(now);
        if !store
            .save_webhook_delivery(ws, &claimed, delivery.attempts)
            .await?
        {
            return Ok(WebhookAttempted::Skipped);
        }
        let outcome = transport
            .post(&WebhookPost {
                url: &endpoint.url,
                secret: &endpoint.secret,
                event_id: &task.event_id,
                body: &task.body,
                unix_now: now.unix_seconds(),
            })
            .await;
        let done = self.clock().now();
        let after = claimed.after_attempt(schedule, outcome, endpoint.failing_since, done);
        store
            .save_webhook_delivery(ws, &after.delivery, claimed.attempts)
            .await?;
        if after.failing_since != endpoint.failing_since || after.disable {
            store
                .record_webhook_health(&endpoint, after.failing_since, after.disable)
                .await?;
        }
        Ok(match after.delivery.status {
            DeliveryState::Succeeded => WebhookAttempted::Succeeded,
            DeliveryState::Failed => WebhookAttempted::Failed,
            DeliveryState::Retrying => WebhookAttempted::RetryIn {
                millis: after
                    .delivery
                    .next_attempt_at
                    .map_or(0, |t| (t.as_millis() - done.as_millis()).max(0)),
            },
        })
    }
}
