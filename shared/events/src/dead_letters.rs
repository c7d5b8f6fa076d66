//! The events dead-letter queue: where an outbox event the publisher could
//! not deliver is kept, whole, so that nothing a commit wrote is ever lost,
//! and [`replay_dead_letters`] re-publishes from it.

use crate::EventBus;
use async_trait::async_trait;
use inbox_domain::model::DomainEvent;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::Mutex;

/// One kept event: the event itself when it could be read, else the raw
/// stream image (a later release may read it), with why it was kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DeadLetter {
    /// The bus kept refusing this event.
    Refused {
        /// The event, as it would have been published.
        event: Box<DomainEvent>,
        /// The bus's last answer.
        reason: String,
    },
    /// The outbox item does not read as an event (written by a newer or
    /// broken release): kept as the stream delivered it.
    Unreadable {
        /// The item's new image, in DynamoDB's JSON form.
        image: serde_json::Value,
        /// Why it did not read.
        reason: String,
    },
}

impl DeadLetter {
    /// The event to publish now, if it reads (an unreadable item is tried again).
    pub fn event(&self) -> Result<DomainEvent, String> {
        match self {
            DeadLetter::Refused { event, .. } => Ok((**event).clone()),
            DeadLetter::Unreadable { image, .. } => {
                let item: serde_dynamo::Item =
                    serde_json::from_value(image.clone()).map_err(|e| e.to_string())?;
                serde_dynamo::from_item(item).map_err(|e| e.to_string())
            }
        }
    }
}

/// A message received from the dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The queue's id of this delivery (to delete it once replayed).
    pub receipt: String,
    /// The message id (the same across redeliveries).
    pub id: String,
    /// The body as sent.
    pub body: String,
}

/// Failures of the dead-letter queue.
#[derive(Debug, thiserror::Error)]
#[error("dead-letter queue unavailable: {0}")]
pub struct DeadLetterError(pub String);

/// The events dead-letter queue (SQS in AWS; in memory in tests).
#[async_trait]
pub trait DeadLetters: Send + Sync {
    /// Keeps `letters`; an error means none may be assumed kept.
    async fn keep(&self, letters: &[DeadLetter]) -> Result<(), DeadLetterError>;
    /// Up to 10 messages, hidden from other readers for a while.
    async fn receive(&self) -> Result<Vec<Received>, DeadLetterError>;
    /// Deletes a replayed message.
    async fn delete(&self, receipt: &str) -> Result<(), DeadLetterError>;
}

/// What a replay did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct ReplayReport {
    /// Events published and deleted from the queue.
    pub replayed: usize,
    /// Messages left in the queue: unreadable still, refused again, or a
    /// stream batch pointer from Lambda (which holds no event; see docs/events.md).
    pub left: usize,
}

/// Re-publishes every event in the dead-letter queue and deletes each one
/// the bus accepts; anything else stays, counted in `left`. Stops when the
/// queue is empty or hands back only messages it has seen in this run.
pub async fn replay_dead_letters(
    letters: &(impl DeadLetters + ?Sized),
    bus: &(impl EventBus + ?Sized),
) -> Result<ReplayReport, DeadLetterError> {
    let mut report = ReplayReport::default();
    let mut seen: HashSet<String> = HashSet::new();
    loop {
        let batch = letters.receive().await?;
        let fresh: Vec<Received> = batch
            .into_iter()
            .filter(|m| seen.insert(m.id.clone()))
            .collect();
        if fresh.is_empty() {
            return Ok(report);
        }
        let mut readable: Vec<(Received, DomainEvent)> = Vec::new();
        for m in fresh {
            let event = serde_json::from_str::<DeadLetter>(&m.body)
                .map_err(|e| e.to_string())
                .and_then(|l| l.event());
            match event {
                Ok(e) => readable.push((m, e)),
                Err(reason) => {
                    tracing::warn!(message_id = %m.id, %reason, "dead letter left in the queue");
                    report.left += 1;
                }
            }
        }
        let events: Vec<DomainEvent> = readable.iter().map(|(_, e)| e.clone()).collect();
        let refused = match bus.publish(&events).await {
            Ok(refused) => refused,
            Err(e) => {
                tracing::warn!(error = %e, "the bus refused a replay batch");
                (0..events.len()).collect()
            }
        };
        for (i, (m, _)) in readable.iter().enumerate() {
            if refused.contains(&i) {
                report.left += 1;
            } else {
                letters.delete(&m.receipt).await?;
                report.replayed += 1;
            }
        }
    }
}

/// A dead-letter queue in memory (tests).
#[derive(Debug, Default)]
pub struct MemoryDeadLetters {
    messages: Mutex<Vec<(String, String)>>,
    /// Ids received and not deleted: hidden from later receives, as SQS's
    /// visibility timeout hides them.
    hidden: Mutex<HashSet<String>>,
    next: Mutex<u64>,
    /// When set, `keep` fails (an unreachable queue).
    pub unavailable: std::sync::atomic::AtomicBool,
}

impl MemoryDeadLetters {
    /// The letters kept and not deleted.
    pub fn letters(&self) -> Vec<DeadLetter> {
        self.messages
            .lock()
            .map(|m| {
                m.iter()
                    .filter_map(|(_, b)| serde_json::from_str(b).ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Adds a raw message body (as Lambda's own failure destination would).
    pub fn push_raw(&self, body: &str) {
        let id = self.next_id();
        if let Ok(mut m) = self.messages.lock() {
            m.push((id, body.to_string()));
        }
    }

    /// Makes every received message visible again (its visibility timeout passed).
    pub fn make_visible(&self) {
        if let Ok(mut h) = self.hidden.lock() {
            h.clear();
        }
    }

    fn next_id(&self) -> String {
        let mut n = self.next.lock().unwrap_or_else(|p| p.into_inner());
        *n += 1;
        format!("m{n}")
    }
}

#[async_trait]
impl DeadLetters for MemoryDeadLetters {
    async fn keep(&self, letters: &[DeadLetter]) -> Result<(), DeadLetterError> {
        if self.unavailable.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(DeadLetterError("unavailable".into()));
        }
        for l in letters {
            let body = serde_json::to_string(l).map_err(|e| DeadLetterError(e.to_string()))?;
            self.push_raw(&body);
        }
        Ok(())
    }

    async fn receive(&self) -> Result<Vec<Received>, DeadLetterError> {
        let m = self
            .messages
            .lock()
            .map_err(|_| DeadLetterError("poisoned".into()))?;
        let mut hidden = self
            .hidden
            .lock()
            .map_err(|_| DeadLetterError("poisoned".into()))?;
        Ok(m.iter()
            .filter(|(id, _)| hidden.insert(id.clone()))
            .take(10)
            .map(|(id, body)| Received {
                receipt: id.clone(),
                id: id.clone(),
                body: body.clone(),
            })
            .collect())
    }

    async fn delete(&self, receipt: &str) -> Result<(), DeadLetterError> {
        let mut m = self
            .messages
            .lock()
            .map_err(|_| DeadLetterError("poisoned".into()))?;
        m.retain(|(id, _)| id != receipt);
        Ok(())
    }
}
