//! Live connections: one item per open WebSocket in its workspace's own
//! partition (`LIVE#<ws>`, `CONN#<connection id>`), so a change's fan-out
//! finds them with one `Query`, and they expire with the connection (TTL).

use super::DynamoStore;
use super::error;
use super::items::{from_item, key, to_item};
use super::table::{TTL_ATTRIBUTE, keys, ttl_seconds};
use super::transaction::n;
use crate::port::{LiveConnectionStore, StoreError};
use async_trait::async_trait;
use inbox_domain::live::LiveConnection;

fn connection_sk(id: &str) -> String {
    format!("{}{id}", keys::CONNECTION_PREFIX)
}

#[async_trait]
impl LiveConnectionStore for DynamoStore {
    async fn put_live_connection(&self, c: &LiveConnection) -> Result<(), StoreError> {
        let mut item = to_item(
            c,
            keys::live_pk(&c.workspace_id),
            connection_sk(&c.connection_id),
            "live_connection",
        )?;
        // Past its end the item is only clutter: DynamoDB removes it (lazily).
        item.insert(TTL_ATTRIBUTE.into(), n(ttl_seconds(c.ends_at)));
        self.put_item(item).await
    }

    async fn live_connections(
        &self,
        workspace_id: &str,
    ) -> Result<Vec<LiveConnection>, StoreError> {
        self.partition_items(keys::live_pk(workspace_id), None)
            .await?
            .into_iter()
            .map(from_item)
            .collect()
    }

    async fn forget_live_connection(
        &self,
        workspace_id: &str,
        connection_id: &str,
    ) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(
                keys::live_pk(workspace_id),
                &connection_sk(connection_id),
            )))
            .send()
            .await
            .map_err(error::unavailable)?;
        Ok(())
    }
}
