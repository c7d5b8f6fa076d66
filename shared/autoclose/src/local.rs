//! One tick of the engine outside Lambda: sweep, then drain the queue through
//! the same worker Lambda runs. The dev server calls this on an interval.

use crate::queue::{MAX_BATCH, QueueError, TimerQueue, TimerReceiver};
use crate::sweep::{SweepError, SweepLimits, SweepReport, sweep};
use crate::worker::{WorkerReport, worker_with_report};
use inbox_app::App;
use inbox_store::{ContactStore, ConversationStore};

/// How much one tick does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalTickLimits {
    /// The sweep's limits.
    pub sweep: SweepLimits,
    /// Batches (of up to 10) handled per tick; the rest wait for the next tick.
    pub max_batches: usize,
}

impl Default for LocalTickLimits {
    fn default() -> Self {
        LocalTickLimits {
            sweep: SweepLimits::default(),
            max_batches: 10_000,
        }
    }
}

/// What a tick did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalTickReport {
    /// The sweep.
    pub sweep: SweepReport,
    /// The worker, summed over every batch.
    pub worker: WorkerReport,
    /// Batches handled.
    pub batches: usize,
}

/// Why a tick stopped.
#[derive(Debug, thiserror::Error)]
pub enum LocalTickError {
    /// The sweep could not read the due timers.
    #[error(transparent)]
    Sweep(#[from] SweepError),
    /// The queue failed while draining.
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// Receives one batch, runs the worker on it and settles it as Lambda would
/// (failed records come back later). Returns `None` when nothing was waiting.
pub async fn drain_once<S, R>(
    app: &App<S>,
    receiver: &R,
) -> Result<Option<WorkerReport>, QueueError>
where
    S: ConversationStore + ContactStore,
    R: TimerReceiver + ?Sized,
{
    let event = receiver.receive(MAX_BATCH).await?;
    if event.records.is_empty() {
        return Ok(None);
    }
    let (response, report) = worker_with_report(app, &event).await;
    receiver.settle(&event, &response).await?;
    Ok(Some(report))
}

/// One sweep at the app's `now`, then the queue drained through [`worker`](crate::worker)
/// until it is empty (failed messages wait for their visibility delay, so a
/// later tick retries them) or `max_batches` is reached. Works with the
/// [`InProcessQueue`](crate::InProcessQueue) and, given an endpoint, the SQS queue.
pub async fn run_local_tick<S, Q>(
    app: &App<S>,
    queue: &Q,
    limits: &LocalTickLimits,
) -> Result<LocalTickReport, LocalTickError>
where
    S: ConversationStore + ContactStore,
    Q: TimerQueue + TimerReceiver + ?Sized,
{
    let mut report = LocalTickReport {
        sweep: sweep(app.store(), queue, app.clock().now(), &limits.sweep).await?,
        ..LocalTickReport::default()
    };
    while report.batches < limits.max_batches {
        let Some(w) = drain_once(app, queue).await? else {
            break;
        };
        report.batches += 1;
        let t = &mut report.worker;
        t.closed += w.closed;
        t.cleared += w.cleared;
        t.stale += w.stale;
        t.missing += w.missing;
        t.malformed += w.malformed;
        t.failed += w.failed;
    }
    Ok(report)
}
