//! Replies leave the dev server in process, through the same `App::deliver`
//! the AWS sender function runs: published `message.outbound` events are
//! queued as first attempts (what the EventBridge rule does in AWS), later
//! attempts wait out their delay in a task (SQS's message delay), and a
//! pool of tasks makes the attempts.

use async_trait::async_trait;
use inbox_app::{AppError, Attempted, SendQueue, SendTask};
use inbox_domain::delivery::CLAIM_LEASE_MILLIS;
use inbox_domain::model::DomainEvent;
use inbox_events::{BusError, EventBus};
use inbox_http::App;
use inbox_store::{Store, StoreError};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, mpsc, watch};

/// Attempts in flight at once (provider calls wait on the network, not the CPU).
pub const SEND_CONCURRENCY: usize = 64;
/// The pause before an attempt that failed inside the inbox (not at the
/// provider) runs again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Queues attempts for [`run_sends`], each after its delay.
#[derive(Debug, Clone)]
pub struct LocalSendQueue {
    tx: mpsc::UnboundedSender<SendTask>,
    speedup: u32,
}

/// A queue and the receiver [`run_sends`] drains; waits are divided by `speedup`.
pub fn local_send_queue(speedup: u32) -> (LocalSendQueue, mpsc::UnboundedReceiver<SendTask>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let speedup = speedup.max(1);
    (LocalSendQueue { tx, speedup }, rx)
}

impl LocalSendQueue {
    fn push(&self, task: SendTask) -> Result<(), AppError> {
        self.tx
            .send(task)
            .map_err(|_| AppError::Store(StoreError::Unavailable("the sender has stopped".into())))
    }
}

#[async_trait]
impl SendQueue for LocalSendQueue {
    async fn enqueue(&self, task: &SendTask, delay_millis: i64) -> Result<(), AppError> {
        if delay_millis <= 0 {
            return self.push(task.clone());
        }
        let (queue, task) = (self.clone(), task.clone());
        let delay = Duration::from_millis(delay_millis.unsigned_abs() / u64::from(self.speedup));
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            if queue.push(task).is_err() {
                tracing::warn!("a delayed send attempt was dropped: the sender has stopped");
            }
        });
        Ok(())
    }
}

/// The bus, with every `message.outbound` that goes out queued as its first
/// attempt before the event is published on.
pub struct SendingBus {
    inner: Arc<dyn EventBus>,
    queue: LocalSendQueue,
}

impl SendingBus {
    /// Queues outbound messages on `queue` and publishes everything on `inner`.
    pub fn new(inner: Arc<dyn EventBus>, queue: LocalSendQueue) -> Self {
        SendingBus { inner, queue }
    }
}

#[async_trait]
impl EventBus for SendingBus {
    async fn publish(&self, events: &[DomainEvent]) -> Result<Vec<usize>, BusError> {
        // A republished event queues its attempt again: the claim makes the
        // duplicate a no-op.
        for task in events.iter().filter_map(SendTask::first) {
            self.queue
                .push(task)
                .map_err(|e| BusError::Unavailable(e.to_string()))?;
        }
        self.inner.publish(events).await
    }
}

/// Makes queued attempts, [`SEND_CONCURRENCY`] at a time, until `stop`
/// turns true. An attempt another sender holds is looked at again after
/// its claim's lease; one that failed inside the inbox, after a pause.
pub async fn run_sends<S: Store + 'static>(
    app: Arc<App<S>>,
    queue: LocalSendQueue,
    tasks: mpsc::UnboundedReceiver<SendTask>,
    wrote: Arc<Notify>,
    stop: watch::Receiver<bool>,
) {
    crate::workers::run_pool(tasks, SEND_CONCURRENCY, stop, move |task: SendTask| {
        let (app, queue, wrote) = (Arc::clone(&app), queue.clone(), Arc::clone(&wrote));
        async move {
            let later = match app.deliver(&task).await {
                Ok(Attempted::Busy) => Some(CLAIM_LEASE_MILLIS + 1_000),
                Ok(done) => {
                    // The message was rewritten (and, on failure, a timeline
                    // event added): the change feed has something to dispatch.
                    wrote.notify_one();
                    tracing::debug!(message_id = %task.message_id, attempt = task.attempt, outcome = ?done, "send attempt");
                    None
                }
                Err(e) if e.is_transient() => {
                    tracing::warn!(message_id = %task.message_id, error = %e, "send attempt failed; retrying");
                    Some(RETRY_AFTER.as_millis() as i64)
                }
                Err(e) => {
                    tracing::error!(message_id = %task.message_id, error = %e, "send attempt refused; dropped");
                    None
                }
            };
            if let Some(wait) = later {
                let _ = queue.enqueue(&task, wait).await;
            }
        }
    })
    .await;
}
