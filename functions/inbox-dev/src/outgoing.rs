//! Outgoing webhooks (and live updates, see `live`) leave the dev server in process, through the same
//! `App::dispatch_webhooks` and `App::attempt_webhook` the AWS functions
//! run: the store's change feed is drained in commit order (the table
//! stream's part in AWS), tasks join lanes, one per endpoint and
//! conversation (the FIFO queue's message groups), and each lane makes its
//! attempts one after another, waiting out each retry's delay before the
//! next task of the lane.

use crate::live::LiveHub;
use async_trait::async_trait;
use inbox_app::{AppError, WebhookAttempted, WebhookQueue, WebhookTask};
use inbox_domain::live::{live_messages, whole_commits_len};
use inbox_http::App;
use inbox_store::{ChangeFeed, Store, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc, watch};

/// Attempts in flight at once, across lanes (they wait on receivers).
pub const WEBHOOK_CONCURRENCY: usize = 64;
/// Changes read from the feed per batch.
const FEED_BATCH: usize = 100;
/// A lane with nothing to do for this long is put away.
const LANE_IDLE: Duration = Duration::from_secs(30);
/// The pause before an attempt that failed inside the inbox runs again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// The dev server's webhook queue: lanes of tasks, made as tasks arrive.
pub struct LocalLanes<S> {
    inner: Arc<Lanes<S>>,
}

impl<S> Clone for LocalLanes<S> {
    fn clone(&self) -> Self {
        LocalLanes {
            inner: Arc::clone(&self.inner),
        }
    }
}

struct Lanes<S> {
    app: Arc<App<S>>,
    open: Mutex<HashMap<String, mpsc::UnboundedSender<WebhookTask>>>,
    slots: Arc<Semaphore>,
    stop: watch::Receiver<bool>,
}

impl<S: Store + 'static> LocalLanes<S> {
    /// Lanes whose attempts `app` makes until `stop` turns true.
    pub fn new(app: Arc<App<S>>, stop: watch::Receiver<bool>) -> Self {
        LocalLanes {
            inner: Arc::new(Lanes {
                app,
                open: Mutex::new(HashMap::new()),
                slots: Arc::new(Semaphore::new(WEBHOOK_CONCURRENCY)),
                stop,
            }),
        }
    }

    /// Hands `task` to its lane, opening the lane if it is not open.
    fn push(&self, task: WebhookTask) -> Result<(), AppError> {
        let mut open = self
            .inner
            .open
            .lock()
            .map_err(|_| unavailable("the webhook lanes are poisoned"))?;
        let lane = task.lane();
        let task = match open.get(&lane) {
            Some(tx) => match tx.send(task) {
                Ok(()) => return Ok(()),
                Err(mpsc::error::SendError(task)) => task,
            },
            None => task,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        tx.send(task)
            .map_err(|_| unavailable("a webhook lane closed as it opened"))?;
        open.insert(lane.clone(), tx);
        tokio::spawn(run_lane(Arc::clone(&self.inner), lane, rx));
        Ok(())
    }
}

fn unavailable(why: &str) -> AppError {
    AppError::Store(StoreError::Unavailable(why.into()))
}

#[async_trait]
impl<S: Store + 'static> WebhookQueue for LocalLanes<S> {
    async fn enqueue(&self, tasks: &[WebhookTask]) -> Result<(), AppError> {
        for task in tasks {
            self.push(task.clone())?;
        }
        Ok(())
    }
}

/// One lane: its tasks in order, each until it is finished (succeeded,
/// dropped, or held by someone else), waiting out its retries.
async fn run_lane<S: Store + 'static>(
    lanes: Arc<Lanes<S>>,
    lane: String,
    mut rx: mpsc::UnboundedReceiver<WebhookTask>,
) {
    let mut stop = lanes.stop.clone();
    loop {
        let task = match tokio::time::timeout(LANE_IDLE, rx.recv()).await {
            Ok(Some(task)) => task,
            _ => {
                // Closed under the lock, so that no task is handed to a lane that is gone.
                let Ok(mut open) = lanes.open.lock() else {
                    return;
                };
                if rx.is_empty() {
                    open.remove(&lane);
                    return;
                }
                continue;
            }
        };
        loop {
            let outcome = {
                let Ok(_slot) = lanes.slots.acquire().await else {
                    return;
                };
                lanes.app.attempt_webhook(&task).await
            };
            let wait = match outcome {
                Ok(WebhookAttempted::RetryIn { millis }) => {
                    Duration::from_millis(millis.max(0).unsigned_abs())
                }
                Ok(done) => {
                    tracing::debug!(event_id = %task.event_id, endpoint = %task.endpoint_id, outcome = ?done, "webhook delivery");
                    break;
                }
                Err(e) if e.is_transient() => {
                    tracing::warn!(event_id = %task.event_id, error = %e, "webhook attempt failed; retrying");
                    RETRY_AFTER
                }
                Err(e) => {
                    tracing::error!(event_id = %task.event_id, error = %e, "webhook attempt refused; dropped");
                    break;
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => return,
            }
        }
    }
}

/// Moves the change feed into the lanes and to the live connections,
/// oldest first and a whole commit at a time, acknowledging only what was
/// dispatched: a failure leaves the rest for the next drain, in order.
pub async fn drain_changes<S: Store + 'static>(
    app: &App<S>,
    feed: &dyn ChangeFeed,
    lanes: &LocalLanes<S>,
    live: &LiveHub,
) -> Result<usize, AppError> {
    let mut queued = 0;
    loop {
        let mut page = feed.pending_changes(FEED_BATCH).await?;
        let full = page.len() == FEED_BATCH;
        let (keys, changes): (Vec<String>, Vec<_>) = page.drain(..).unzip();
        let whole = whole_commits_len(&changes, full);
        if whole == 0 {
            return Ok(queued);
        }
        // Reports first: a failure leaves the page unacknowledged, and
        // folding it again later counts nothing twice.
        app.aggregate_reports(&changes[..whole]).await?;
        let done = app.dispatch_webhooks(&changes[..whole], lanes).await;
        queued += done.queued;
        live.publish(&live_messages(&changes[..done.handled]));
        feed.ack_changes(&keys[..done.handled]).await?;
        if let Some(e) = done.error {
            return Err(e);
        }
        if !full {
            return Ok(queued);
        }
    }
}
