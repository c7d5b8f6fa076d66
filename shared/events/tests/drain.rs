//! Draining the outbox: published events are acknowledged, refused ones stay.

mod common;
use common::event;

use async_trait::async_trait;
use inbox_domain::model::DomainEvent;
use inbox_events::{BusError, EventBus, MemoryBus, drain_outbox};
use inbox_store::{Outbox, StoreError};
use std::sync::Mutex;

/// A minimal outbox: a list of pending (key, event) pairs.
#[derive(Default)]
struct ListOutbox(Mutex<Vec<(String, DomainEvent)>>);

#[async_trait]
impl Outbox for ListOutbox {
    async fn pending_events(&self, limit: usize) -> Result<Vec<(String, DomainEvent)>, StoreError> {
        Ok(self.0.lock().unwrap().iter().take(limit).cloned().collect())
    }
    async fn ack_events(&self, keys: &[String]) -> Result<(), StoreError> {
        self.0.lock().unwrap().retain(|(k, _)| !keys.contains(k));
        Ok(())
    }
}

fn outbox_of(n: usize) -> ListOutbox {
    ListOutbox(Mutex::new(
        (0..n).map(|i| (format!("k{i:03}"), event(i))).collect(),
    ))
}

#[tokio::test]
async fn drains_everything_in_order() {
    let outbox = outbox_of(25);
    let bus = MemoryBus::default();
    let report = drain_outbox(&outbox, &bus, 10).await.unwrap();
    assert_eq!(report.published, 25);
    assert_eq!(bus.published(), (0..25).map(event).collect::<Vec<_>>());
    assert!(outbox.pending_events(100).await.unwrap().is_empty());
}

/// Refuses the second event of every call.
struct Flaky;

#[async_trait]
impl EventBus for Flaky {
    async fn publish(&self, events: &[DomainEvent]) -> Result<Vec<usize>, BusError> {
        Ok(if events.len() > 1 { vec![1] } else { vec![] })
    }
}

#[tokio::test]
async fn refused_events_stay_in_the_outbox() {
    let outbox = outbox_of(3);
    let report = drain_outbox(&outbox, &Flaky, 10).await.unwrap();
    assert_eq!((report.published, report.failed), (2, 1));
    let left = outbox.pending_events(10).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].0, "k001");
}
