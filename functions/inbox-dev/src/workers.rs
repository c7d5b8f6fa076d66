//! The background work Lambda does on schedules and streams, on intervals:
//! the outbox publisher, the change feed's dispatch, and the auto-close
//! sweep + worker.

use crate::live::LiveHub;
use crate::outgoing::{LocalLanes, drain_changes};
use inbox_autoclose::{LocalTickLimits, TimerQueue, TimerReceiver, run_local_tick};
use inbox_events::{EventBus, drain_outbox};
use inbox_http::App;
use inbox_store::{ChangeFeed, Outbox, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// Events moved from the outbox to the bus per batch.
const OUTBOX_BATCH: usize = 100;

/// A timer queue the dev server can both fill (sweep) and drain (worker).
pub trait LocalTimerQueue: TimerQueue + TimerReceiver {}
impl<T: TimerQueue + TimerReceiver> LocalTimerQueue for T {}

/// The change feed and the lanes its webhook tasks go to.
pub struct Feed<S> {
    /// The store's change feed.
    pub changes: Arc<dyn ChangeFeed>,
    /// Where webhook tasks wait their turn.
    pub lanes: LocalLanes<S>,
    /// The live connections.
    pub live: Arc<LiveHub>,
}

/// Publishes the outbox after every successful write (or every `interval`)
/// until `stop` turns true, then drains once more; after each drain it
/// wakes `published` (the change feed's dispatcher).
pub async fn publish_outbox<S: Store + Outbox>(
    app: Arc<App<S>>,
    bus: Arc<dyn EventBus>,
    wrote: Arc<Notify>,
    published: Arc<Notify>,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let stopping = tokio::select! {
            _ = wrote.notified() => false,
            _ = tokio::time::sleep(interval) => false,
            _ = stop.changed() => true,
        };
        match drain_outbox(app.store(), bus.as_ref(), OUTBOX_BATCH).await {
            Ok(r) if r.failed > 0 => tracing::warn!(
                published = r.published,
                failed = r.failed,
                "outbox partly published"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "outbox drain failed; retrying"),
        }
        published.notify_one();
        if stopping || *stop.borrow() {
            return;
        }
    }
}

/// Dispatches the change feed into the webhook lanes and the live hub whenever `woken` (the
/// publisher, after a write) or every `interval`, until `stop` turns true.
/// Its own task, so that webhooks never hold up replies.
pub async fn dispatch_feed<S: Store + 'static>(
    app: Arc<App<S>>,
    feed: Feed<S>,
    woken: Arc<Notify>,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = woken.notified() => {}
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => return,
        }
        if let Err(e) = drain_changes(&app, feed.changes.as_ref(), &feed.lanes, &feed.live).await {
            tracing::warn!(error = %e, "change feed dispatch failed; retrying");
        }
    }
}

/// Runs the auto-close engine's own tick (sweep, then the worker over the
/// queue) every `interval` until `stop` turns true.
pub async fn auto_close<S: Store>(
    app: Arc<App<S>>,
    queue: Arc<dyn LocalTimerQueue>,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let limits = LocalTickLimits::default();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => return,
        }
        match run_local_tick(app.as_ref(), queue.as_ref(), &limits).await {
            Ok(r) => {
                let w = &r.worker;
                if w.closed + w.cleared + w.failed + w.malformed > 0 {
                    tracing::info!(
                        closed = w.closed,
                        cleared = w.cleared,
                        stale = w.stale,
                        failed = w.failed,
                        "auto-close tick"
                    );
                }
            }
            Err(e) => tracing::warn!(error = %e, "auto-close tick failed; retrying next tick"),
        }
    }
}

/// Runs `work` on each item `items` yields, at most `concurrency` at once,
/// until the channel closes or `stop` turns true (the in-process stand-in
/// for a queue and its function's concurrency).
pub async fn run_pool<T, F, Fut>(
    mut items: tokio::sync::mpsc::UnboundedReceiver<T>,
    concurrency: usize,
    mut stop: watch::Receiver<bool>,
    work: F,
) where
    T: Send + 'static,
    F: Fn(T) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let slots = Arc::new(tokio::sync::Semaphore::new(concurrency));
    loop {
        let item = tokio::select! {
            i = items.recv() => match i {
                Some(i) => i,
                None => return,
            },
            _ = stop.changed() => return,
        };
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let job = work(item);
        tokio::spawn(async move {
            let _slot = slot;
            job.await;
        });
    }
}
