//! Outgoing webhooks: endpoints in the workspace's directory partition
//! (`WS#<ws>#DIR`, `HOOK#<id>`: listing them is one `Query`), deliveries in
//! their endpoint's partition (`WS#<ws>#HOOK#<endpoint>`,
//! `DLV#<created_at>#<event id>`: the latest are one `Query` backwards),
//! expiring [`DELIVERY_RETENTION_SECONDS`] after their event.

use super::error;
use super::items::{from_item, key, s, to_item};
use super::table::{TTL_ATTRIBUTE, keys, ttl_seconds};
use super::transaction::n;
use super::{DynamoStore, QuerySpec};
use crate::port::{DeliveryRef, StoreError, WebhookStore};
use async_trait::async_trait;
use inbox_domain::Timestamp;
use inbox_domain::webhooks::{DisabledReason, WebhookDelivery, WebhookEndpoint};

/// How long a delivery record is kept (the retries end after about 28 hours).
pub const DELIVERY_RETENTION_SECONDS: i64 = 30 * 24 * 3600;

fn endpoint_sk(id: &str) -> String {
    format!("{}{id}", keys::WEBHOOK_PREFIX)
}

fn delivery_key(ws: &str, at: &DeliveryRef<'_>) -> super::items::Item {
    key(
        keys::webhook_deliveries_pk(ws, at.endpoint_id),
        &keys::webhook_delivery_sk(at.created_at, at.event_id),
    )
}

fn delivery_item(ws: &str, d: &WebhookDelivery) -> Result<super::items::Item, StoreError> {
    let mut item = to_item(
        d,
        keys::webhook_deliveries_pk(ws, &d.endpoint_id),
        keys::webhook_delivery_sk(d.created_at, &d.event_id),
        "webhook_delivery",
    )?;
    item.insert(
        TTL_ATTRIBUTE.into(),
        n(ttl_seconds(d.created_at).saturating_add(DELIVERY_RETENTION_SECONDS)),
    );
    Ok(item)
}

#[async_trait]
impl WebhookStore for DynamoStore {
    async fn put_webhook_endpoint(&self, e: &WebhookEndpoint) -> Result<(), StoreError> {
        let item = to_item(
            e,
            keys::directory_pk(&e.workspace_id),
            endpoint_sk(&e.id),
            "webhook_endpoint",
        )?;
        self.put_item(item).await
    }

    async fn get_webhook_endpoint(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> Result<Option<WebhookEndpoint>, StoreError> {
        self.get_item(key(keys::directory_pk(workspace_id), &endpoint_sk(id)))
            .await?
            .map(from_item)
            .transpose()
    }

    async fn list_webhook_endpoints(
        &self,
        workspace_id: &str,
    ) -> Result<Vec<WebhookEndpoint>, StoreError> {
        self.directory_items(workspace_id, keys::WEBHOOK_PREFIX)
            .await?
            .into_iter()
            .map(from_item)
            .collect()
    }

    async fn delete_webhook_endpoint(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> Result<bool, StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(
                keys::directory_pk(workspace_id),
                &endpoint_sk(id),
            )))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        error::applied(out)
    }

    async fn record_webhook_health(
        &self,
        endpoint: &WebhookEndpoint,
        failing_since: Option<Timestamp>,
        disable: bool,
    ) -> Result<(), StoreError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(
                keys::directory_pk(&endpoint.workspace_id),
                &endpoint_sk(&endpoint.id),
            )))
            .condition_expression("attribute_exists(pk) AND updated_at = :seen")
            .expression_attribute_values(":seen", s(endpoint.updated_at.to_rfc3339()))
            .expression_attribute_values(
                ":since",
                match failing_since {
                    Some(t) => s(t.to_rfc3339()),
                    None => aws_sdk_dynamodb::types::AttributeValue::Null(true),
                },
            );
        update = if disable {
            update
                .update_expression(
                    "SET failing_since = :since, enabled = :off, disabled_reason = :why",
                )
                .expression_attribute_values(
                    ":off",
                    aws_sdk_dynamodb::types::AttributeValue::Bool(false),
                )
                .expression_attribute_values(
                    ":why",
                    super::transaction::attribute(&DisabledReason::Failing)?,
                )
        } else {
            update.update_expression("SET failing_since = :since")
        };
        match update.send().await {
            Ok(_) => Ok(()),
            Err(e) if error::is_condition_failure(&e) => Ok(()),
            Err(e) => Err(error::unavailable(e)),
        }
    }

    async fn create_webhook_delivery(
        &self,
        workspace_id: &str,
        d: &WebhookDelivery,
    ) -> Result<bool, StoreError> {
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(delivery_item(workspace_id, d)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        error::applied(out)
    }

    async fn get_webhook_delivery(
        &self,
        workspace_id: &str,
        at: &DeliveryRef<'_>,
    ) -> Result<Option<WebhookDelivery>, StoreError> {
        self.get_item(delivery_key(workspace_id, at))
            .await?
            .map(from_item)
            .transpose()
    }

    async fn save_webhook_delivery(
        &self,
        workspace_id: &str,
        d: &WebhookDelivery,
        expected_attempts: u32,
    ) -> Result<bool, StoreError> {
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(delivery_item(workspace_id, d)?))
            .condition_expression("attempts = :expected AND #st = :retrying")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":expected", n(expected_attempts))
            .expression_attribute_values(":retrying", s("retrying"))
            .send()
            .await;
        error::applied(out)
    }

    async fn list_webhook_deliveries(
        &self,
        workspace_id: &str,
        endpoint_id: &str,
        limit: usize,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        let mut spec = QuerySpec::partition(
            keys::webhook_deliveries_pk(workspace_id, endpoint_id),
            Some(keys::WEBHOOK_DELIVERY_PREFIX),
        );
        spec.forward = false;
        spec.limit = Some(limit.max(1));
        let (items, _) = self.query(spec).await?;
        items.into_iter().map(from_item).collect()
    }
}
