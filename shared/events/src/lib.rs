//! The event bus port. Domain events are written to the store's outbox in the
//! same atomic write as the change; a publisher moves them to the bus, so a
//! crash between the write and the send loses nothing (it only delays).

use async_trait::async_trait;
use inbox_domain::model::DomainEvent;
use inbox_store::{Outbox, StoreError};
use std::sync::Mutex;

pub mod dead_letters;
pub mod eventbridge;
mod sqs_dead_letters;
pub mod stream;

pub use dead_letters::{
    DeadLetter, DeadLetters, MemoryDeadLetters, ReplayReport, replay_dead_letters,
};
pub use eventbridge::EventBridgeBus;
pub use sqs_dead_letters::SqsDeadLetters;

/// The `source` of every event the inbox publishes.
pub const EVENT_SOURCE: &str = "inbox";

/// Publishing failures.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The bus refused or could not be reached.
    #[error("event bus unavailable: {0}")]
    Unavailable(String),
    /// An event could not be serialized.
    #[error("event not serializable: {0}")]
    Serialize(String),
}

/// Where domain events go.
#[async_trait]
pub trait EventBus: Send + Sync {
    /// Publishes `events`; returns the indexes of the ones that failed (to retry).
    async fn publish(&self, events: &[DomainEvent]) -> Result<Vec<usize>, BusError>;
}

/// The `detail` of an event as published (the domain event's payload).
pub fn detail_json(event: &DomainEvent) -> Result<String, BusError> {
    let v = serde_json::to_value(event).map_err(|e| BusError::Serialize(e.to_string()))?;
    let detail = v.get("detail").cloned().unwrap_or(serde_json::Value::Null);
    serde_json::to_string(&detail).map_err(|e| BusError::Serialize(e.to_string()))
}

/// Keeps published events in memory (tests, and the dev server's `/events` feed if any).
#[derive(Debug, Default)]
pub struct MemoryBus {
    events: Mutex<Vec<DomainEvent>>,
}

impl MemoryBus {
    /// Everything published so far.
    pub fn published(&self) -> Vec<DomainEvent> {
        self.events.lock().map(|g| g.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl EventBus for MemoryBus {
    async fn publish(&self, events: &[DomainEvent]) -> Result<Vec<usize>, BusError> {
        match self.events.lock() {
            Ok(mut g) => {
                g.extend_from_slice(events);
                Ok(Vec::new())
            }
            Err(_) => Err(BusError::Unavailable("memory bus poisoned".into())),
        }
    }
}

/// Writes each event as a log line (the dev server without AWS).
#[derive(Debug, Default, Clone, Copy)]
pub struct LogBus;

#[async_trait]
impl EventBus for LogBus {
    async fn publish(&self, events: &[DomainEvent]) -> Result<Vec<usize>, BusError> {
        for e in events {
            let detail = detail_json(e)?;
            tracing::info!(detail_type = e.detail_type(), detail = %detail, "event published");
        }
        Ok(Vec::new())
    }
}

/// What one drain of the outbox did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DrainReport {
    /// Events published and acknowledged.
    pub published: usize,
    /// Events the bus refused (left in the outbox for the next drain).
    pub failed: usize,
}

/// Errors of a drain.
#[derive(Debug, thiserror::Error)]
pub enum DrainError {
    /// The outbox could not be read or acknowledged.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The bus failed as a whole.
    #[error(transparent)]
    Bus(#[from] BusError),
}

/// Moves pending outbox events to the bus, `batch` at a time, until the outbox
/// is empty or the bus refuses something. Only published events are acknowledged.
pub async fn drain_outbox(
    outbox: &(impl Outbox + ?Sized),
    bus: &(impl EventBus + ?Sized),
    batch: usize,
) -> Result<DrainReport, DrainError> {
    let mut report = DrainReport::default();
    loop {
        let pending = outbox.pending_events(batch.max(1)).await?;
        if pending.is_empty() {
            return Ok(report);
        }
        let events: Vec<DomainEvent> = pending.iter().map(|(_, e)| e.clone()).collect();
        let failed = bus.publish(&events).await?;
        let acked: Vec<String> = pending
            .iter()
            .enumerate()
            .filter(|(i, _)| !failed.contains(i))
            .map(|(_, (k, _))| k.clone())
            .collect();
        outbox.ack_events(&acked).await?;
        report.published += acked.len();
        report.failed += failed.len();
        if !failed.is_empty() || pending.len() < batch.max(1) {
            return Ok(report);
        }
    }
}
