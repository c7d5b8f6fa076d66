//! API keys: one row per key, by id; listed by workspace.

use super::{SqliteStore, db, from_doc, insert_new, list_docs, to_doc};
use crate::port::{ApiKeyStore, StoreError};
use async_trait::async_trait;
use inbox_domain::{ApiKey, Timestamp};
use rusqlite::{Connection, OptionalExtension, params};

fn get_key(conn: &Connection, id: &str) -> Result<Option<ApiKey>, StoreError> {
    conn.query_row("SELECT doc FROM api_keys WHERE id = ?1", params![id], |r| {
        r.get::<_, String>(0)
    })
    .optional()
    .map_err(db)?
    .map(|doc| from_doc(&doc))
    .transpose()
}

#[async_trait]
impl ApiKeyStore for SqliteStore {
    async fn create_api_key(&self, key: &ApiKey) -> Result<(), StoreError> {
        let (id, ws, doc) = (key.id.clone(), key.workspace_id.clone(), to_doc(key)?);
        self.run(move |conn| {
            insert_new(
                conn,
                "INSERT INTO api_keys (id, workspace_id, doc) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
                params![id, ws, doc],
            )
        })
        .await
    }

    async fn get_api_key(&self, id: &str) -> Result<Option<ApiKey>, StoreError> {
        let id = id.to_string();
        self.run(move |conn| get_key(conn, &id)).await
    }

    async fn list_api_keys(&self, workspace_id: &str) -> Result<Vec<ApiKey>, StoreError> {
        let ws = workspace_id.to_string();
        self.run(move |conn| {
            list_docs(
                conn,
                "SELECT doc FROM api_keys WHERE workspace_id = ?1 ORDER BY id",
                params![ws],
            )
        })
        .await
    }

    async fn delete_api_key(&self, workspace_id: &str, id: &str) -> Result<bool, StoreError> {
        let (ws, id) = (workspace_id.to_string(), id.to_string());
        self.run(move |conn| {
            let deleted = conn
                .execute(
                    "DELETE FROM api_keys WHERE id = ?1 AND workspace_id = ?2",
                    params![id, ws],
                )
                .map_err(db)?;
            Ok(deleted > 0)
        })
        .await
    }

    async fn record_api_key_use(&self, id: &str, at: Timestamp) -> Result<(), StoreError> {
        let id = id.to_string();
        // One connection serves every call, so this read and write are not interleaved.
        self.run(move |conn| {
            let Some(mut key) = get_key(conn, &id)? else {
                return Ok(());
            };
            if key.last_used_at.is_some_and(|t| t >= at) {
                return Ok(());
            }
            key.last_used_at = Some(at);
            conn.execute(
                "UPDATE api_keys SET doc = ?2 WHERE id = ?1",
                params![id, to_doc(&key)?],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }
}
