//! The EventBridge adapter of the event bus.

use crate::{BusError, EVENT_SOURCE, EventBus, detail_json};
use async_trait::async_trait;
use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use inbox_domain::model::DomainEvent;

/// `PutEvents` takes at most this many entries.
const PUT_EVENTS_MAX: usize = 10;

/// Publishes to one EventBridge bus.
#[derive(Debug, Clone)]
pub struct EventBridgeBus {
    client: Client,
    bus_name: String,
}

impl EventBridgeBus {
    /// A bus adapter for `bus_name`, with a client built once by the caller.
    pub fn new(client: Client, bus_name: impl Into<String>) -> Self {
        EventBridgeBus {
            client,
            bus_name: bus_name.into(),
        }
    }
}

#[async_trait]
impl EventBus for EventBridgeBus {
    async fn publish(&self, events: &[DomainEvent]) -> Result<Vec<usize>, BusError> {
        let mut failed = Vec::new();
        for (chunk_no, chunk) in events.chunks(PUT_EVENTS_MAX).enumerate() {
            let base = chunk_no * PUT_EVENTS_MAX;
            let mut entries = Vec::with_capacity(chunk.len());
            for e in chunk {
                entries.push(
                    PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus_name)
                        .source(EVENT_SOURCE)
                        .detail_type(e.detail_type())
                        .detail(detail_json(e)?)
                        .build(),
                );
            }
            let out = self
                .client
                .put_events()
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| {
                    BusError::Unavailable(
                        aws_sdk_eventbridge::error::DisplayErrorContext(e).to_string(),
                    )
                })?;
            // Entries answer in request order; a failed one carries an error code.
            for (i, entry) in out.entries().iter().enumerate() {
                if entry.error_code().is_some() {
                    failed.push(base + i);
                }
            }
        }
        Ok(failed)
    }
}
