//! AI agents answer in process, through the same `App::answer` the AWS
//! `ai-agent` function runs: every published `ai.reply_requested` is
//! queued (what the EventBridge rule and its SQS queue do in AWS), and a
//! pool of tasks answers them, each as long as its agent's tries take.

use async_trait::async_trait;
use inbox_domain::agents::AnswerRequest;
use inbox_domain::model::DomainEvent;
use inbox_events::{BusError, EventBus};
use inbox_http::App;
use inbox_store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, mpsc, watch};

/// Requests answered at once (each mostly waits on a model or a webhook).
pub const ANSWER_CONCURRENCY: usize = 32;
/// The pause before a request whose answer failed inside the inbox (a
/// store failure) is answered again, and how often.
const RETRY_AFTER: Duration = Duration::from_secs(1);
const RETRIES: u32 = 5;

/// The bus, with every reply request queued for [`run_answers`] before
/// the event is published on.
pub struct AnsweringBus {
    inner: Arc<dyn EventBus>,
    queue: mpsc::UnboundedSender<AnswerRequest>,
}

impl AnsweringBus {
    /// Queues reply requests on `queue` and publishes everything on `inner`.
    pub fn new(inner: Arc<dyn EventBus>, queue: mpsc::UnboundedSender<AnswerRequest>) -> Self {
        AnsweringBus { inner, queue }
    }
}

#[async_trait]
impl EventBus for AnsweringBus {
    async fn publish(&self, events: &[DomainEvent]) -> Result<Vec<usize>, BusError> {
        // A republished event is queued again: its answer's dedupe key
        // makes the second answer a no-op.
        for req in events.iter().filter_map(AnswerRequest::of) {
            self.queue
                .send(req)
                .map_err(|_| BusError::Unavailable("the AI agents have stopped".into()))?;
        }
        self.inner.publish(events).await
    }
}

/// Answers queued requests, [`ANSWER_CONCURRENCY`] at a time, until
/// `stop` turns true.
pub async fn run_answers<S: Store + 'static>(
    app: Arc<App<S>>,
    requests: mpsc::UnboundedReceiver<AnswerRequest>,
    wrote: Arc<Notify>,
    stop: watch::Receiver<bool>,
) {
    crate::workers::run_pool(requests, ANSWER_CONCURRENCY, stop, move |req: AnswerRequest| {
        let (app, wrote) = (Arc::clone(&app), Arc::clone(&wrote));
        async move {
            for attempt in 0..=RETRIES {
                match app.answer(&req).await {
                    Ok(done) => {
                        wrote.notify_one();
                        tracing::info!(conversation = %req.conversation_id, agent = %req.agent_id, outcome = ?done, "reply request answered");
                        return;
                    }
                    Err(e) if e.is_transient() && attempt < RETRIES => {
                        tracing::warn!(conversation = %req.conversation_id, error = %e, "answering failed; trying again");
                        tokio::time::sleep(RETRY_AFTER).await;
                    }
                    Err(e) => {
                        tracing::error!(conversation = %req.conversation_id, error = %e, "answering failed; dropped");
                        return;
                    }
                }
            }
        }
    })
    .await;
}
