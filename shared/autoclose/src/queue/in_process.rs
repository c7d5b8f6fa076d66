//! The in-process adapter for the dev server and tests: SQS semantics in memory
//! (at-least-once delivery, a visibility delay before a failed message is
//! delivered again, a dead-letter list after the configured number of receives).

use super::{MAX_BATCH, QueueError, TimerQueue, TimerReceiver, failed_ids};
use crate::message::TimerMessage;
use async_trait::async_trait;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The default number of receives before a message is dead-lettered.
pub const DEFAULT_MAX_RECEIVE_COUNT: u32 = 5;
/// The default delay before a failed message is delivered again.
pub const DEFAULT_VISIBILITY: Duration = Duration::from_secs(1);

/// One message in the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// A unique id, like SQS's message id.
    pub message_id: String,
    /// The message.
    pub message: TimerMessage,
    /// How many times it has been received.
    pub receive_count: u32,
}

#[derive(Debug, Default)]
struct State {
    next_id: u64,
    ready: VecDeque<Delivery>,
    /// Failed deliveries, visible again at the instant given.
    delayed: Vec<(Instant, Delivery)>,
    /// Received and not yet settled, by message id.
    in_flight: HashMap<String, Delivery>,
    /// Timers queued or in flight: a sweep that sees the same timer again adds nothing.
    keys: HashSet<String>,
    dead: Vec<Delivery>,
}

/// A queue in memory, drained by the dev server through the worker.
#[derive(Debug)]
pub struct InProcessQueue {
    state: Mutex<State>,
    max_receive_count: u32,
    visibility: Duration,
}

impl Default for InProcessQueue {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_RECEIVE_COUNT, DEFAULT_VISIBILITY)
    }
}

impl InProcessQueue {
    /// A queue that dead-letters a message after `max_receive_count` failed
    /// receives and re-delivers a failed one after `visibility`.
    pub fn new(max_receive_count: u32, visibility: Duration) -> Self {
        InProcessQueue {
            state: Mutex::new(State::default()),
            max_receive_count: max_receive_count.max(1),
            visibility,
        }
    }

    fn lock(&self) -> Result<MutexGuard<'_, State>, QueueError> {
        self.state
            .lock()
            .map_err(|_| QueueError::Unavailable("the in-process queue lock is poisoned".into()))
    }

    /// Messages waiting or delayed (not in flight).
    pub fn pending(&self) -> usize {
        self.lock().map_or(0, |s| s.ready.len() + s.delayed.len())
    }

    /// Messages received and not yet settled.
    pub fn in_flight(&self) -> usize {
        self.lock().map_or(0, |s| s.in_flight.len())
    }

    /// The dead-lettered messages, oldest first.
    pub fn dead_letters(&self) -> Vec<Delivery> {
        self.lock().map_or_else(|_| Vec::new(), |s| s.dead.clone())
    }
}

#[async_trait]
impl TimerQueue for InProcessQueue {
    async fn send_batch(&self, msgs: &[TimerMessage]) -> Result<Vec<usize>, QueueError> {
        if msgs.len() > MAX_BATCH {
            return Err(QueueError::BatchTooLarge(msgs.len()));
        }
        let mut s = self.lock()?;
        for m in msgs {
            if !s.keys.insert(m.dedupe_key()) {
                continue;
            }
            s.next_id += 1;
            let message_id = format!("inproc-{:012}", s.next_id);
            s.ready.push_back(Delivery {
                message_id,
                message: m.clone(),
                receive_count: 0,
            });
        }
        Ok(Vec::new())
    }
}

#[async_trait]
impl TimerReceiver for InProcessQueue {
    async fn receive(&self, max: usize) -> Result<SqsEvent, QueueError> {
        let now = Instant::now();
        let mut s = self.lock()?;
        // Failed deliveries whose visibility delay is over come back, in order.
        let (visible, still): (Vec<_>, Vec<_>) = std::mem::take(&mut s.delayed)
            .into_iter()
            .partition(|(at, _)| *at <= now);
        s.delayed = still;
        s.ready.extend(visible.into_iter().map(|(_, d)| d));
        let mut records = Vec::new();
        while records.len() < max.clamp(1, MAX_BATCH) {
            let Some(mut d) = s.ready.pop_front() else {
                break;
            };
            d.receive_count += 1;
            records.push(SqsMessage {
                message_id: Some(d.message_id.clone()),
                receipt_handle: Some(d.message_id.clone()),
                body: Some(d.message.to_body()),
                attributes: HashMap::from([(
                    "ApproximateReceiveCount".to_string(),
                    d.receive_count.to_string(),
                )]),
                event_source: Some("inbox:in-process".into()),
                ..SqsMessage::default()
            });
            s.in_flight.insert(d.message_id.clone(), d);
        }
        Ok(SqsEvent { records })
    }

    async fn settle(
        &self,
        event: &SqsEvent,
        response: &SqsBatchResponse,
    ) -> Result<(), QueueError> {
        let failed = failed_ids(response);
        let visible_at = Instant::now() + self.visibility;
        let mut s = self.lock()?;
        for id in event.records.iter().filter_map(|r| r.message_id.as_deref()) {
            let Some(d) = s.in_flight.remove(id) else {
                continue;
            };
            if !failed.contains(id) {
                s.keys.remove(&d.message.dedupe_key());
            } else if d.receive_count >= self.max_receive_count {
                tracing::error!(
                    message_id = id,
                    receive_count = d.receive_count,
                    "timer message dead-lettered"
                );
                s.keys.remove(&d.message.dedupe_key());
                s.dead.push(d);
            } else {
                s.delayed.push((visible_at, d));
            }
        }
        Ok(())
    }
}
