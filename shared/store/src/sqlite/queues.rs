//! The two queues the embedded store keeps in order of writing: the outbox
//! (events a commit wrote for the bus) and the change feed (rows its
//! triggers add for every stored timeline event and message). Both are read
//! oldest first and deleted once handled.

use super::conversations::write_tx;
use super::{SqliteStore, db, from_doc};
use crate::port::{ChangeFeed, Outbox, StoreError};
use async_trait::async_trait;
use inbox_domain::model::DomainEvent;
use inbox_domain::webhooks::StoredChange;
use rusqlite::params;
use serde::de::DeserializeOwned;

/// A table read as a queue: its `seq` is the key, its `doc` the item.
#[derive(Debug, Clone, Copy)]
enum Queue {
    Outbox,
    Changes,
}

impl Queue {
    fn select(self) -> &'static str {
        match self {
            Queue::Outbox => "SELECT seq, doc FROM outbox ORDER BY seq LIMIT ?1",
            Queue::Changes => "SELECT seq, doc FROM changes ORDER BY seq LIMIT ?1",
        }
    }

    fn delete(self) -> &'static str {
        match self {
            Queue::Outbox => "DELETE FROM outbox WHERE seq = ?1",
            Queue::Changes => "DELETE FROM changes WHERE seq = ?1",
        }
    }
}

impl SqliteStore {
    /// Up to `limit` items of `queue`, oldest first, keyed by their sequence.
    async fn queued<T: DeserializeOwned + Send + 'static>(
        &self,
        queue: Queue,
        limit: usize,
    ) -> Result<Vec<(String, T)>, StoreError> {
        self.run(move |conn| {
            let mut stmt = conn.prepare_cached(queue.select()).map_err(db)?;
            let rows = stmt
                .query_map(params![i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
                })
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            rows.into_iter()
                .map(|(seq, doc)| Ok((format!("{seq:020}"), from_doc(&doc)?)))
                .collect()
        })
        .await
    }

    /// Deletes the items of `queue` with these keys.
    async fn dequeue(&self, queue: Queue, keys: &[String]) -> Result<(), StoreError> {
        let keys = keys.to_vec();
        self.run(move |conn| {
            let tx = write_tx(conn)?;
            for key in &keys {
                // A key this store never made names nothing to acknowledge.
                if let Ok(seq) = key.parse::<i64>() {
                    tx.execute(queue.delete(), params![seq]).map_err(db)?;
                }
            }
            tx.commit().map_err(db)
        })
        .await
    }
}

#[async_trait]
impl Outbox for SqliteStore {
    async fn pending_events(&self, limit: usize) -> Result<Vec<(String, DomainEvent)>, StoreError> {
        self.queued(Queue::Outbox, limit).await
    }

    async fn ack_events(&self, keys: &[String]) -> Result<(), StoreError> {
        self.dequeue(Queue::Outbox, keys).await
    }
}

#[async_trait]
impl ChangeFeed for SqliteStore {
    async fn pending_changes(
        &self,
        limit: usize,
    ) -> Result<Vec<(String, StoredChange)>, StoreError> {
        self.queued(Queue::Changes, limit).await
    }

    async fn ack_changes(&self, keys: &[String]) -> Result<(), StoreError> {
        self.dequeue(Queue::Changes, keys).await
    }
}
