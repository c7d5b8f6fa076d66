//! Jobs in the dev server: steps queued in process and run by one task, the
//! same `App::run_job` the Lambda job worker calls. A step that fails for a
//! reason that may pass is queued again after a pause; jobs still running
//! when the server stops are not resumed by the next start.

use async_trait::async_trait;
use inbox_app::{AppError, JobMessage, JobQueue, StepOutcome};
use inbox_http::App;
use inbox_store::{Store, StoreError};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, mpsc, watch};

/// The pause before a failed step runs again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Queues job steps for [`run_jobs`].
#[derive(Debug, Clone)]
pub struct LocalJobQueue {
    tx: mpsc::UnboundedSender<JobMessage>,
}

/// A queue and the receiver [`run_jobs`] drains.
pub fn local_job_queue() -> (LocalJobQueue, mpsc::UnboundedReceiver<JobMessage>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (LocalJobQueue { tx }, rx)
}

#[async_trait]
impl JobQueue for LocalJobQueue {
    async fn enqueue(&self, message: &JobMessage) -> Result<(), AppError> {
        self.tx.send(message.clone()).map_err(|_| {
            AppError::Store(StoreError::Unavailable("the job runner has stopped".into()))
        })
    }
}

/// Runs queued steps one after the other until `stop` turns true.
pub async fn run_jobs<S: Store>(
    app: Arc<App<S>>,
    queue: LocalJobQueue,
    mut steps: mpsc::UnboundedReceiver<JobMessage>,
    wrote: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let message = tokio::select! {
            m = steps.recv() => match m {
                Some(m) => m,
                None => return,
            },
            _ = stop.changed() => return,
        };
        match app.run_job(&message.workspace_id, &message.job_id).await {
            Ok(report) => {
                wrote.notify_one();
                if report.outcome == StepOutcome::Finished {
                    tracing::info!(job_id = %message.job_id, "job finished");
                }
            }
            Err(e) => {
                tracing::warn!(job_id = %message.job_id, error = %e, "job step failed; retrying");
                let queue = queue.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(RETRY_AFTER).await;
                    let _ = queue.enqueue(&message).await;
                });
            }
        }
    }
}
