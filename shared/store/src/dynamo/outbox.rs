//! The outbox on DynamoDB. Outgoing events are items beside their
//! conversation (`OUT#<version>#<position>`). With [`OutboxMode::Indexed`]
//! they also sit on the sparse, sharded `outbox` index until acked (deleted);
//! with [`OutboxMode::StreamOnly`] the table stream publishes them and there
//! is nothing to drain here.

use super::error::{self, corrupt};
use super::items::{Item, from_item, get_s, key};
use super::table::{OUTBOX, OUTBOX_SHARDS, PK, SK, keys};
use super::{DynamoStore, OutboxMode, QuerySpec};
use crate::port::{Outbox, StoreError};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{DeleteRequest, WriteRequest};
use inbox_domain::model::DomainEvent;

/// Most requests in one `BatchWriteItem`.
const MAX_BATCH_WRITE: usize = 25;

/// The ack key of an outbox item: its table key (ids never contain `|`).
fn ack_key(item: &Item) -> Option<String> {
    Some(format!("{}|{}", get_s(item, PK)?, get_s(item, SK)?))
}

#[async_trait]
impl Outbox for DynamoStore {
    async fn pending_events(&self, limit: usize) -> Result<Vec<(String, DomainEvent)>, StoreError> {
        if self.outbox == OutboxMode::StreamOnly || limit == 0 {
            return Ok(Vec::new());
        }
        // One Query per shard; merging by the commit sequence gives oldest first.
        let mut found: Vec<(String, Item)> = Vec::new();
        for shard in 0..OUTBOX_SHARDS {
            let mut spec = QuerySpec::index(&OUTBOX, keys::outbox_pk(shard));
            spec.limit = Some(limit);
            let (items, _) = self.query(spec).await?;
            for item in items {
                let seq = get_s(&item, OUTBOX.sk).unwrap_or_default().to_string();
                found.push((seq, item));
            }
        }
        found.sort_by(|a, b| a.0.cmp(&b.0));
        found.truncate(limit);
        let mut out = Vec::with_capacity(found.len());
        for (_, item) in found {
            let k = ack_key(&item).ok_or_else(|| corrupt("reading an outbox item", "no key"))?;
            out.push((k, from_item(item)?));
        }
        Ok(out)
    }

    async fn ack_events(&self, ack_keys: &[String]) -> Result<(), StoreError> {
        let mut requests = Vec::with_capacity(ack_keys.len());
        for k in ack_keys {
            let (pk, sk) = k
                .rsplit_once('|')
                .filter(|(_, sk)| sk.starts_with(keys::OUTBOX_PREFIX))
                .ok_or_else(|| StoreError::Corrupt(format!("not an outbox key: {k}")))?;
            let delete = DeleteRequest::builder()
                .set_key(Some(key(pk.to_string(), sk)))
                .build()
                .map_err(|e| corrupt("building a delete", e))?;
            requests.push(WriteRequest::builder().delete_request(delete).build());
        }
        for chunk in requests.chunks(MAX_BATCH_WRITE) {
            let mut pending = chunk.to_vec();
            let mut attempt = 0u32;
            while !pending.is_empty() {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, pending)
                    .send()
                    .await
                    .map_err(error::unavailable)?;
                pending = out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(&self.table))
                    .unwrap_or_default();
                if !pending.is_empty() {
                    attempt += 1;
                    if attempt > 8 {
                        return Err(StoreError::Unavailable(
                            "dynamodb: outbox deletes stayed unprocessed (throttled)".into(),
                        ));
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(20 << attempt)).await;
                }
            }
        }
        Ok(())
    }
}
