//! Outgoing webhooks: endpoints by workspace and id; deliveries keyed by
//! endpoint, commit time and event, so the latest list first.

use super::{SqliteStore, db, from_doc, list_docs, to_doc};
use crate::port::{DeliveryRef, StoreError, WebhookStore};
use async_trait::async_trait;
use inbox_domain::Timestamp;
use inbox_domain::webhooks::{DeliveryState, DisabledReason, WebhookDelivery, WebhookEndpoint};
use rusqlite::{Connection, OptionalExtension, params};

fn get_endpoint(
    conn: &Connection,
    ws: &str,
    id: &str,
) -> Result<Option<WebhookEndpoint>, StoreError> {
    conn.query_row(
        "SELECT doc FROM webhook_endpoints WHERE workspace_id = ?1 AND id = ?2",
        params![ws, id],
        |r| r.get::<_, String>(0),
    )
    .optional()
    .map_err(db)?
    .map(|doc| from_doc(&doc))
    .transpose()
}

fn status_text(s: DeliveryState) -> &'static str {
    match s {
        DeliveryState::Succeeded => "succeeded",
        DeliveryState::Retrying => "retrying",
        DeliveryState::Failed => "failed",
    }
}

#[async_trait]
impl WebhookStore for SqliteStore {
    async fn put_webhook_endpoint(&self, e: &WebhookEndpoint) -> Result<(), StoreError> {
        let (ws, id, doc) = (e.workspace_id.clone(), e.id.clone(), to_doc(e)?);
        self.run(move |conn| {
            conn.execute(
                "INSERT INTO webhook_endpoints (workspace_id, id, doc) VALUES (?1, ?2, ?3)
                 ON CONFLICT (workspace_id, id) DO UPDATE SET doc = excluded.doc",
                params![ws, id, doc],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn get_webhook_endpoint(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> Result<Option<WebhookEndpoint>, StoreError> {
        let (ws, id) = (workspace_id.to_string(), id.to_string());
        self.run(move |conn| get_endpoint(conn, &ws, &id)).await
    }

    async fn list_webhook_endpoints(
        &self,
        workspace_id: &str,
    ) -> Result<Vec<WebhookEndpoint>, StoreError> {
        let ws = workspace_id.to_string();
        self.run(move |conn| {
            list_docs(
                conn,
                "SELECT doc FROM webhook_endpoints WHERE workspace_id = ?1 ORDER BY id",
                params![ws],
            )
        })
        .await
    }

    async fn delete_webhook_endpoint(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> Result<bool, StoreError> {
        let (ws, id) = (workspace_id.to_string(), id.to_string());
        self.run(move |conn| {
            let n = conn
                .execute(
                    "DELETE FROM webhook_endpoints WHERE workspace_id = ?1 AND id = ?2",
                    params![ws, id],
                )
                .map_err(db)?;
            Ok(n > 0)
        })
        .await
    }

    async fn record_webhook_health(
        &self,
        endpoint: &WebhookEndpoint,
        failing_since: Option<Timestamp>,
        disable: bool,
    ) -> Result<(), StoreError> {
        let seen = endpoint.clone();
        // One connection serves every call, so this read and write are not interleaved.
        self.run(move |conn| {
            let Some(mut e) = get_endpoint(conn, &seen.workspace_id, &seen.id)? else {
                return Ok(());
            };
            if e.updated_at != seen.updated_at {
                return Ok(());
            }
            e.failing_since = failing_since;
            if disable {
                e.enabled = false;
                e.disabled_reason = Some(DisabledReason::Failing);
            }
            conn.execute(
                "UPDATE webhook_endpoints SET doc = ?3 WHERE workspace_id = ?1 AND id = ?2",
                params![e.workspace_id, e.id, to_doc(&e)?],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn create_webhook_delivery(
        &self,
        workspace_id: &str,
        d: &WebhookDelivery,
    ) -> Result<bool, StoreError> {
        let (ws, d, doc) = (workspace_id.to_string(), d.clone(), to_doc(d)?);
        self.run(move |conn| {
            let n = conn
                .execute(
                    "INSERT INTO webhook_deliveries
                       (workspace_id, endpoint_id, created_at, event_id, attempts, status, doc)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
                    params![
                        ws,
                        d.endpoint_id,
                        d.created_at.to_rfc3339(),
                        d.event_id,
                        d.attempts,
                        status_text(d.status),
                        doc
                    ],
                )
                .map_err(db)?;
            Ok(n > 0)
        })
        .await
    }

    async fn get_webhook_delivery(
        &self,
        workspace_id: &str,
        at: &DeliveryRef<'_>,
    ) -> Result<Option<WebhookDelivery>, StoreError> {
        let (ws, endpoint, created, event) = (
            workspace_id.to_string(),
            at.endpoint_id.to_string(),
            at.created_at.to_rfc3339(),
            at.event_id.to_string(),
        );
        self.run(move |conn| {
            conn.query_row(
                "SELECT doc FROM webhook_deliveries
                 WHERE workspace_id = ?1 AND endpoint_id = ?2 AND created_at = ?3 AND event_id = ?4",
                params![ws, endpoint, created, event],
                |r| r.get::<_, String>(0),
            )
            .optional()
            .map_err(db)?
            .map(|doc| from_doc(&doc))
            .transpose()
        })
        .await
    }

    async fn save_webhook_delivery(
        &self,
        workspace_id: &str,
        d: &WebhookDelivery,
        expected_attempts: u32,
    ) -> Result<bool, StoreError> {
        let (ws, d, doc) = (workspace_id.to_string(), d.clone(), to_doc(d)?);
        self.run(move |conn| {
            let n = conn
                .execute(
                    "UPDATE webhook_deliveries SET attempts = ?5, status = ?6, doc = ?7
                     WHERE workspace_id = ?1 AND endpoint_id = ?2 AND created_at = ?3
                       AND event_id = ?4 AND attempts = ?8 AND status = 'retrying'",
                    params![
                        ws,
                        d.endpoint_id,
                        d.created_at.to_rfc3339(),
                        d.event_id,
                        d.attempts,
                        status_text(d.status),
                        doc,
                        expected_attempts
                    ],
                )
                .map_err(db)?;
            Ok(n > 0)
        })
        .await
    }

    async fn list_webhook_deliveries(
        &self,
        workspace_id: &str,
        endpoint_id: &str,
        limit: usize,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        let (ws, endpoint) = (workspace_id.to_string(), endpoint_id.to_string());
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(move |conn| {
            list_docs(
                conn,
                "SELECT doc FROM webhook_deliveries WHERE workspace_id = ?1 AND endpoint_id = ?2
                     ORDER BY created_at DESC, event_id DESC LIMIT ?3",
                params![ws, endpoint, limit],
            )
        })
        .await
    }
}
