//! Outgoing webhooks: the port a delivery attempt leaves through. Whether
//! and when to attempt, and what an answer means, are the domain's
//! (`inbox_domain::webhooks`); adapters sign, post and report.

use async_trait::async_trait;
use inbox_domain::webhooks::{AttemptOutcome, UrlPolicy};

/// One signed POST of one event to one endpoint.
#[derive(Debug, Clone, Copy)]
pub struct WebhookPost<'a> {
    /// The endpoint's URL.
    pub url: &'a str,
    /// Its `whsec_…` secret.
    pub secret: &'a str,
    /// The event's id: `webhook-id`, the same on every attempt.
    pub event_id: &'a str,
    /// The JSON body `{"type", "timestamp", "data"}`.
    pub body: &'a str,
    /// Now, in Unix seconds: `webhook-timestamp`.
    pub unix_now: i64,
}

/// Posts events to endpoints.
#[async_trait]
pub trait WebhookTransport: Send + Sync {
    /// Where this transport may connect (checked again after DNS resolution).
    fn policy(&self) -> UrlPolicy;
    /// Makes one attempt; every answer, and no answer, is an outcome.
    async fn post(&self, post: &WebhookPost<'_>) -> AttemptOutcome;
}
