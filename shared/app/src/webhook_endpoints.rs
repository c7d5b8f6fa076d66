//! Outgoing webhook endpoints: made and changed by `PUT` (the signing secret
//! shown when it is made and when it is rotated), listed, deleted, and their
//! latest deliveries. What an endpoint may be is the domain's
//! (`EndpointDraft`); the URL policy is the transport's, so a URL accepted
//! here is one the sender will post to.

use crate::app::App;
use crate::error::AppError;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use inbox_domain::webhooks::{EndpointDraft, SECRET_PREFIX, WebhookDelivery, WebhookEndpoint};
use inbox_store::Store;
use rand::RngCore;

/// Random bytes in a signing secret (Standard Webhooks asks for 24 to 64).
const SECRET_RANDOM_BYTES: usize = 32;

/// The most deliveries `GET /outgoing-webhooks/{id}/deliveries` returns.
pub const MAX_DELIVERIES_LISTED: usize = 200;

/// A new `whsec_…` secret: the prefix and the base64 of random bytes.
pub(crate) fn new_secret() -> String {
    let mut random = [0u8; SECRET_RANDOM_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut random);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(random))
}

/// An endpoint after `PUT`, and whether the `PUT` made it.
#[derive(Debug, Clone)]
pub struct PutEndpoint {
    /// As stored.
    pub endpoint: WebhookEndpoint,
    /// `true` when it did not exist (its secret is shown this once).
    pub created: bool,
}

impl<S: Store> App<S> {
    /// Makes or changes endpoint `id` from a `PUT /outgoing-webhooks/{id}` body.
    pub async fn put_webhook_endpoint(
        &self,
        workspace_id: &str,
        id: &str,
        url: &str,
        events: &[String],
        enabled: Option<bool>,
    ) -> Result<PutEndpoint, AppError> {
        let draft = EndpointDraft::parse(id, url, events, enabled, self.webhook_url_policy())?;
        let store = self.store();
        let existing = store.get_webhook_endpoint(workspace_id, id).await?;
        let created = existing.is_none();
        let endpoint = draft.apply(workspace_id, id, existing, new_secret, self.clock().now());
        store.put_webhook_endpoint(&endpoint).await?;
        Ok(PutEndpoint { endpoint, created })
    }

    /// The workspace's endpoints, by id.
    pub async fn webhook_endpoints(
        &self,
        workspace_id: &str,
    ) -> Result<Vec<WebhookEndpoint>, AppError> {
        Ok(self.store().list_webhook_endpoints(workspace_id).await?)
    }

    /// Endpoint `id`, or `not_found`.
    async fn webhook_endpoint(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> Result<WebhookEndpoint, AppError> {
        self.store()
            .get_webhook_endpoint(workspace_id, id)
            .await?
            .ok_or(AppError::NotFound("outgoing webhook"))
    }

    /// Gives endpoint `id` a new secret; deliveries are signed with it from
    /// the next attempt on, and the old one stops verifying at once.
    pub async fn rotate_webhook_secret(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> Result<WebhookEndpoint, AppError> {
        let mut endpoint = self.webhook_endpoint(workspace_id, id).await?;
        endpoint.secret = new_secret();
        endpoint.updated_at = self.clock().now();
        self.store().put_webhook_endpoint(&endpoint).await?;
        Ok(endpoint)
    }

    /// Deletes endpoint `id`: what it was still owed is dropped (recorded on
    /// its next attempt); its delivery records expire.
    pub async fn delete_webhook_endpoint(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> Result<(), AppError> {
        if self
            .store()
            .delete_webhook_endpoint(workspace_id, id)
            .await?
        {
            Ok(())
        } else {
            Err(AppError::NotFound("outgoing webhook"))
        }
    }

    /// Endpoint `id`'s latest deliveries, newest first.
    pub async fn webhook_deliveries(
        &self,
        workspace_id: &str,
        id: &str,
        limit: usize,
    ) -> Result<Vec<WebhookDelivery>, AppError> {
        self.webhook_endpoint(workspace_id, id).await?;
        Ok(self
            .store()
            .list_webhook_deliveries(workspace_id, id, limit.clamp(1, MAX_DELIVERIES_LISTED))
            .await?)
    }
}
