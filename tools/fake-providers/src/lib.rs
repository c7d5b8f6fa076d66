//! Loopback stand-ins for the services the inbox sends through: the Twilio
//! Messages API, the WhatsApp Cloud API, the Telegram Bot API, and webhook
//! receivers (a generic channel's `outbound_url`), and API Gateway's
//! WebSocket management API (`@connections`), and an OpenAI-compatible
//! Chat Completions endpoint (`POST /v1/chat/completions`, see `model`). Each speaks its
//! provider's wire format, answers as the provider does (ids, error bodies,
//! `429` with a retry-after), records every request it got, can be told to
//! fail, and can send the provider's signed status callbacks back.
//!
//! Control routes, under `/_fake`:
//! - `GET /_fake/requests[?provider=twilio|whatsapp|telegram|receiver|connections|model]`: what arrived, oldest first.
//! - `POST /_fake/connections/{id}`: a WebSocket client connected; posts to
//!   any other connection id answer 410 `GoneException`.
//! - `POST /_fake/fail` `{"provider", "status", "times"?, "retry_after"?, "code"?, "message"?}`:
//!   the next `times` sends (all, without `times`) answer `status` with the
//!   provider's error body.
//! - `POST /_fake/delay` `{"provider", "ms", "times"?}`: the next `times`
//!   answers (all, without `times`) wait `ms` first (the model's slowness).
//! - `GET /_fake/held`: `{"<provider>": n}`, the answers a delay holds now.
//! - `POST /_fake/reset`: forget requests, failures and delays.
//! - `POST /_fake/callbacks/twilio` `{"sid", "status", "error_code"?}`: a
//!   `MessageStatus` callback to the message's `StatusCallback`, signed with
//!   the auth token it was sent with.
//! - `POST /_fake/callbacks/whatsapp` `{"id", "status", "url", "app_secret", "error_code"?}`:
//!   a `statuses[]` webhook, signed with the app secret.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![warn(missing_docs)]

mod callbacks;
mod connections;
mod model;
mod providers;
mod state;

use axum::Router;
use axum::routing::{get, post};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

pub use state::{Delay, Failure, Provider, Recorded, State};

/// Shared between the routes.
pub type Shared = Arc<State>;

/// Every route: the providers' send APIs and the control routes.
pub fn router(state: Shared) -> Router {
    Router::new()
        .route(
            "/2010-04-01/Accounts/{account_sid}/Messages.json",
            post(providers::twilio_send),
        )
        .route(
            "/{version}/{phone_number_id}/messages",
            post(providers::whatsapp_send),
        )
        .route("/{bot}/sendMessage", post(providers::telegram_send))
        .route("/receiver/{*path}", post(providers::receive))
        .route(
            "/@connections/{id}",
            post(connections::post_to_connection).delete(connections::delete_connection),
        )
        .route(
            "/{stage}/@connections/{id}",
            post(connections::post_to_connection).delete(connections::delete_connection),
        )
        .route("/v1/chat/completions", post(model::chat_completions))
        .route("/_fake/connections/{id}", post(connections::open))
        .route("/_fake/requests", get(state::list_requests))
        .route("/_fake/fail", post(state::set_failure))
        .route("/_fake/delay", post(state::set_delay))
        .route("/_fake/held", get(state::list_held))
        .route("/_fake/reset", post(state::reset))
        .route("/_fake/callbacks/twilio", post(callbacks::twilio))
        .route("/_fake/callbacks/whatsapp", post(callbacks::whatsapp))
        .with_state(state)
}

/// Serves on `listener` until the process ends.
pub async fn serve(listener: TcpListener) -> std::io::Result<()> {
    axum::serve(listener, router(Arc::new(State::default()))).await
}

/// A client of the control routes, for tests that drive the fakes.
#[derive(Debug, Clone)]
pub struct Control {
    base: String,
    client: reqwest::Client,
}

impl Control {
    /// The control routes of the fakes at `base`.
    pub fn new(base: &str) -> Self {
        Control {
            base: base.to_string(),
            client: reqwest::Client::new(),
        }
    }

    /// `POST /_fake/fail`: the next sends to a provider fail as `failure`
    /// says; answers the control route's status (204).
    pub async fn fail(&self, failure: &serde_json::Value) -> Result<u16, reqwest::Error> {
        let resp = self
            .client
            .post(format!("{}/_fake/fail", self.base))
            .json(failure)
            .send()
            .await?
            .error_for_status()?;
        Ok(resp.status().as_u16())
    }

    /// `POST /_fake/delay`: the next answers of a provider wait first, as
    /// `delay` (`{"provider", "ms", "times"?}`) says.
    pub async fn delay(&self, delay: &serde_json::Value) -> Result<u16, reqwest::Error> {
        let resp = self
            .client
            .post(format!("{}/_fake/delay", self.base))
            .json(delay)
            .send()
            .await?
            .error_for_status()?;
        Ok(resp.status().as_u16())
    }

    /// `GET /_fake/held`: how many answers of `provider` a delay holds now.
    pub async fn held(&self, provider: &str) -> Result<u64, reqwest::Error> {
        let held: serde_json::Value = self
            .client
            .get(format!("{}/_fake/held", self.base))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(held[provider].as_u64().unwrap_or(0))
    }

    /// `GET /_fake/requests`: what arrived, oldest first, of one provider or all.
    pub async fn requests(
        &self,
        provider: Option<&str>,
    ) -> Result<Vec<serde_json::Value>, reqwest::Error> {
        let query = provider
            .map(|p| format!("?provider={p}"))
            .unwrap_or_default();
        self.client
            .get(format!("{}/_fake/requests{query}", self.base))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    }
}

/// Starts the fakes on a free loopback port in this process (for tests);
/// returns their base URL.
pub async fn start() -> std::io::Result<String> {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(e) = serve(listener).await {
            tracing::error!(error = %e, "fake providers stopped");
        }
    });
    Ok(format!("http://{addr}"))
}
