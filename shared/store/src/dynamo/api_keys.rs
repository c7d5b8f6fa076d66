//! API keys: the key at `APIKEY#<id>` (what the authorizer reads, by the id
//! its secret names) and a listing entry in the workspace's directory
//! (`WS#<ws>#DIR`, `APIKEY#<id>`).
//!
//! The two are written in an order that never leaves a usable key unlisted:
//! the listing entry before the key on create, the key before the entry on
//! revoke. A listing entry without its key is not listed.

use super::DynamoStore;
use super::error;
use super::items::{Item, from_item, get_s, key, s, to_item};
use super::table::keys;
use crate::port::{ApiKeyStore, StoreError};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use inbox_domain::{ApiKey, Timestamp};
use serde::Serialize;

#[derive(Serialize)]
struct ListingEntry<'a> {
    id: &'a str,
}

fn listing_sk(id: &str) -> String {
    format!("{}{id}", keys::API_KEY_PREFIX)
}

#[async_trait]
impl ApiKeyStore for DynamoStore {
    async fn create_api_key(&self, api_key: &ApiKey) -> Result<(), StoreError> {
        let entry = to_item(
            &ListingEntry { id: &api_key.id },
            keys::directory_pk(&api_key.workspace_id),
            listing_sk(&api_key.id),
            "api_key_listing",
        )?;
        let item = to_item(
            api_key,
            keys::api_key_pk(&api_key.id),
            keys::API_KEY_SK.into(),
            "api_key",
        )?;
        for item in [entry, item] {
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .send()
                .await
                .map_err(error::conditional)?;
        }
        Ok(())
    }

    async fn get_api_key(&self, id: &str) -> Result<Option<ApiKey>, StoreError> {
        self.get_item(key(keys::api_key_pk(id), keys::API_KEY_SK))
            .await?
            .map(from_item)
            .transpose()
    }

    async fn list_api_keys(&self, workspace_id: &str) -> Result<Vec<ApiKey>, StoreError> {
        let ids: Vec<Item> = self
            .directory_items(workspace_id, keys::API_KEY_PREFIX)
            .await?
            .iter()
            .filter_map(|entry| get_s(entry, "id"))
            .map(|id| key(keys::api_key_pk(id), keys::API_KEY_SK))
            .collect();
        let mut found = self
            .batch_get(ids)
            .await?
            .into_iter()
            .map(from_item::<ApiKey>)
            .collect::<Result<Vec<_>, _>>()?;
        found.retain(|k| k.workspace_id == workspace_id);
        found.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(found)
    }

    async fn delete_api_key(&self, workspace_id: &str, id: &str) -> Result<bool, StoreError> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::api_key_pk(id), keys::API_KEY_SK)))
            .condition_expression("workspace_id = :ws")
            .expression_attribute_values(":ws", s(workspace_id))
            .send()
            .await;
        let existed = match deleted {
            Ok(_) => true,
            Err(e) if error::is_condition_failure(&e) => false,
            Err(e) => return Err(error::unavailable(e)),
        };
        // The entry goes whether or not the key was there: one left by a
        // failed revoke is cleaned up by the next.
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::directory_pk(workspace_id), &listing_sk(id))))
            .send()
            .await
            .map_err(error::unavailable)?;
        Ok(existed)
    }

    async fn record_api_key_use(&self, id: &str, at: Timestamp) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::api_key_pk(id), keys::API_KEY_SK)))
            .update_expression("SET #u = :at")
            // RFC 3339 with fixed milliseconds sorts as text in time order.
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(#u) OR attribute_type(#u, :null) OR #u < :at)",
            )
            .expression_attribute_names("#u", "last_used_at")
            .expression_attribute_values(":at", s(at.to_rfc3339()))
            .expression_attribute_values(":null", AttributeValue::S("NULL".into()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if error::is_condition_failure(&e) => Ok(()),
            Err(e) => Err(error::unavailable(e)),
        }
    }
}
