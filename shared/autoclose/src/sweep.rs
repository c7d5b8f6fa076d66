//! The sweep: page the due timers and queue one message per timer.

use crate::message::TimerMessage;
use crate::queue::{MAX_BATCH, TimerQueue};
use inbox_domain::Timestamp;
use inbox_store::{ConversationStore, PageRequest, StoreError};
use std::time::Duration;

/// How much one sweep does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepLimits {
    /// Due timers read per store page (1 to 200).
    pub page_size: usize,
    /// Stop after this many due timers; the rest wait for the next sweep.
    pub max_timers: usize,
    /// Attempts per batch of 10 (the first send included).
    pub send_attempts: u32,
    /// The delay before the first retry; it doubles per retry.
    pub backoff: Duration,
}

impl Default for SweepLimits {
    fn default() -> Self {
        SweepLimits {
            page_size: 100,
            // A minute's sweep in Lambda stays well within its timeout.
            max_timers: 50_000,
            send_attempts: 4,
            backoff: Duration::from_millis(50),
        }
    }
}

/// What a sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Due timers read from the store.
    pub due: usize,
    /// Messages the queue accepted.
    pub sent: usize,
    /// Messages still refused after every attempt (the next sweep sees their timers again).
    pub failed: usize,
    /// Messages sent again after a failure.
    pub retried: usize,
    /// Store pages read.
    pub pages: usize,
    /// `send_batch` calls.
    pub send_calls: usize,
    /// Whether `max_timers` stopped the sweep before the last due timer.
    pub truncated: bool,
}

/// The store failed mid-sweep; what was sent before stays sent.
#[derive(Debug, thiserror::Error)]
#[error("sweep stopped: {source}")]
pub struct SweepError {
    /// What the sweep did before it stopped.
    pub report: SweepReport,
    /// The store's error.
    #[source]
    pub source: StoreError,
}

/// Queues every timer due at `now`. Safe to run twice at once or late: a
/// duplicate message is harmless, because the worker fires only the generation
/// still armed. Reads only the due-timer index, so its cost follows the number
/// of due timers, not the number of conversations.
pub async fn sweep<S, Q>(
    store: &S,
    queue: &Q,
    now: Timestamp,
    limits: &SweepLimits,
) -> Result<SweepReport, SweepError>
where
    S: ConversationStore + ?Sized,
    Q: TimerQueue + ?Sized,
{
    let mut report = SweepReport::default();
    let mut page = PageRequest::first(limits.page_size.clamp(1, 200));
    loop {
        let want = limits.max_timers.saturating_sub(report.due);
        if want == 0 {
            report.truncated = true;
            break;
        }
        page.limit = page.limit.min(want);
        let got = match store.due_timers(now, &page).await {
            Ok(p) => p,
            Err(source) => return Err(SweepError { report, source }),
        };
        report.pages += 1;
        report.due += got.items.len();
        let msgs: Vec<TimerMessage> = got.items.into_iter().map(TimerMessage::from).collect();
        for chunk in msgs.chunks(MAX_BATCH) {
            send_with_retries(queue, chunk, limits, &mut report).await;
        }
        match got.next_cursor {
            Some(c) => page.cursor = Some(c),
            None => break,
        }
    }
    tracing::info!(?report, "sweep finished");
    Ok(report)
}

/// Sends one batch, re-sending the refused entries with exponential backoff.
async fn send_with_retries<Q>(
    queue: &Q,
    chunk: &[TimerMessage],
    limits: &SweepLimits,
    report: &mut SweepReport,
) where
    Q: TimerQueue + ?Sized,
{
    let mut pending: Vec<TimerMessage> = chunk.to_vec();
    let mut delay = limits.backoff;
    for attempt in 0..limits.send_attempts.max(1) {
        if attempt > 0 {
            tokio::time::sleep(delay).await;
            delay = delay.saturating_mul(2);
            report.retried += pending.len();
        }
        report.send_calls += 1;
        let failed = match queue.send_batch(&pending).await {
            Ok(failed) => failed,
            Err(e) => {
                tracing::warn!(error = %e, attempt, "timer batch not sent");
                (0..pending.len()).collect()
            }
        };
        let mut failed = failed;
        failed.sort_unstable();
        failed.dedup();
        let before = pending.len();
        pending = failed
            .into_iter()
            .filter_map(|i| pending.get(i).cloned())
            .collect();
        report.sent += before - pending.len();
        if pending.is_empty() {
            return;
        }
    }
    tracing::warn!(
        count = pending.len(),
        "timer messages refused after every attempt"
    );
    report.failed += pending.len();
}
