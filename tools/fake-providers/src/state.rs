//! What the fakes remember: every request, the failures they were told to
//! give, and the ids they handed out.

use crate::Shared;
use axum::Json;
use axum::extract::{Query, State as Extract};
use http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Which fake a request went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    /// The Twilio Messages API.
    Twilio,
    /// The WhatsApp Cloud API.
    Whatsapp,
    /// The Telegram Bot API.
    Telegram,
    /// A webhook receiver (a generic channel's `outbound_url`).
    Receiver,
    /// API Gateway's WebSocket management API (`@connections`).
    Connections,
    /// An OpenAI-compatible Chat Completions endpoint.
    Model,
}

/// One request as it arrived.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Recorded {
    /// Which fake took it.
    pub provider: Provider,
    /// The path, as sent.
    pub path: String,
    /// Every header, names in lower case.
    pub headers: BTreeMap<String, String>,
    /// The raw body, as text.
    pub body: String,
    /// The HTTP status the fake answered.
    pub status: u16,
    /// The id the fake gave the message, when it accepted it.
    pub provider_id: Option<String>,
}

/// A failure the next sends to one provider answer with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Failure {
    /// Which fake fails.
    pub provider: Provider,
    /// The HTTP status to answer.
    pub status: u16,
    /// How many sends fail; `None`: every one until reset.
    #[serde(default)]
    pub times: Option<u32>,
    /// Seconds to wait, said the provider's way (Telegram's
    /// `parameters.retry_after`, a `Retry-After` header elsewhere).
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// The provider's error code (a default per status otherwise).
    #[serde(default)]
    pub code: Option<String>,
    /// The provider's error message (a default per status otherwise).
    #[serde(default)]
    pub message: Option<String>,
}

impl Failure {
    /// The numeric error code to answer: the one given, else `default`.
    pub fn code_or(&self, default: u32) -> u32 {
        self.code
            .as_deref()
            .and_then(|c| c.parse().ok())
            .unwrap_or(default)
    }

    /// The error message to answer: the one given, else `default`.
    pub fn message_or<'a>(&'a self, default: &'a str) -> &'a str {
        self.message.as_deref().unwrap_or(default)
    }
}

/// A delay the next answers of one provider wait before answering.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Delay {
    /// Which fake is slow.
    pub provider: Provider,
    /// How long each answer waits.
    pub ms: u64,
    /// How many answers wait; `None`: every one until reset.
    #[serde(default)]
    pub times: Option<u32>,
}

/// Everything the fakes remember.
#[derive(Debug, Default)]
pub struct State {
    requests: Mutex<Vec<Recorded>>,
    failures: Mutex<HashMap<Provider, Failure>>,
    next_id: AtomicU64,
    open_connections: Mutex<HashSet<String>>,
    delays: Mutex<HashMap<Provider, Delay>>,
    held: Mutex<HashMap<Provider, u64>>,
}

impl State {
    /// Keeps a request.
    pub fn record(&self, request: Recorded) {
        if let Ok(mut all) = self.requests.lock() {
            all.push(request);
        }
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// The accepted send that was given `provider_id`.
    pub fn sent_with_id(&self, provider_id: &str) -> Option<Recorded> {
        self.requests()
            .into_iter()
            .find(|r| r.provider_id.as_deref() == Some(provider_id))
    }

    /// The failure this send of `provider` answers with, if any (counting it).
    pub fn take_failure(&self, provider: Provider) -> Option<Failure> {
        let mut failures = self.failures.lock().ok()?;
        let failure = failures.get_mut(&provider)?;
        let given = failure.clone();
        match &mut failure.times {
            Some(0) | Some(1) => {
                failures.remove(&provider);
            }
            Some(n) => *n -= 1,
            None => {}
        }
        Some(given)
    }

    /// How long this answer of `provider` waits, if it was told to (counting it).
    pub fn take_delay(&self, provider: Provider) -> Option<u64> {
        let mut delays = self.delays.lock().ok()?;
        let delay = delays.get_mut(&provider)?;
        let ms = delay.ms;
        match &mut delay.times {
            Some(0) | Some(1) => {
                delays.remove(&provider);
            }
            Some(n) => *n -= 1,
            None => {}
        }
        Some(ms)
    }

    /// Waits out this answer's delay, if it was told to, counted as held
    /// meanwhile (so a test knows the request has arrived and is waiting).
    pub async fn hold(&self, provider: Provider) {
        let Some(ms) = self.take_delay(provider) else {
            return;
        };
        let count = |by: i64| {
            if let Ok(mut held) = self.held.lock() {
                let n = held.entry(provider).or_default();
                *n = n.saturating_add_signed(by);
            }
        };
        count(1);
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        count(-1);
    }

    /// How many answers of each provider a delay holds now.
    pub fn held(&self) -> HashMap<Provider, u64> {
        self.held.lock().map(|h| h.clone()).unwrap_or_default()
    }

    /// A WebSocket connection opened (API Gateway's `$connect`).
    pub fn open_connection(&self, id: &str) {
        if let Ok(mut open) = self.open_connections.lock() {
            open.insert(id.to_string());
        }
    }

    /// Whether a WebSocket connection is open.
    pub fn connection_is_open(&self, id: &str) -> bool {
        self.open_connections
            .lock()
            .is_ok_and(|open| open.contains(id))
    }

    /// Closes a WebSocket connection; whether it was open.
    pub fn close_connection(&self, id: &str) -> bool {
        self.open_connections
            .lock()
            .is_ok_and(|mut open| open.remove(id))
    }

    /// A fresh number for ids.
    pub fn next(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// The headers of a request, as recorded.
pub(crate) fn header_map(headers: &HeaderMap) -> BTreeMap<String, String> {
    headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect()
}

#[derive(Deserialize)]
pub(crate) struct Filter {
    provider: Option<Provider>,
}

/// `GET /_fake/requests`.
pub(crate) async fn list_requests(
    Extract(state): Extract<Shared>,
    Query(filter): Query<Filter>,
) -> Json<Vec<Recorded>> {
    Json(
        state
            .requests()
            .into_iter()
            .filter(|r| filter.provider.is_none_or(|p| p == r.provider))
            .collect(),
    )
}

/// `GET /_fake/held`: `{"<provider>": n}`, the answers a delay holds now.
pub(crate) async fn list_held(Extract(state): Extract<Shared>) -> Json<HashMap<Provider, u64>> {
    Json(state.held())
}

/// `POST /_fake/fail`.
pub(crate) async fn set_failure(
    Extract(state): Extract<Shared>,
    Json(failure): Json<Failure>,
) -> StatusCode {
    if failure.times == Some(0) {
        return StatusCode::NO_CONTENT;
    }
    if let Ok(mut failures) = state.failures.lock() {
        failures.insert(failure.provider, failure);
    }
    StatusCode::NO_CONTENT
}

/// `POST /_fake/delay`.
pub(crate) async fn set_delay(
    Extract(state): Extract<Shared>,
    Json(delay): Json<Delay>,
) -> StatusCode {
    if delay.times == Some(0) {
        return StatusCode::NO_CONTENT;
    }
    if let Ok(mut delays) = state.delays.lock() {
        delays.insert(delay.provider, delay);
    }
    StatusCode::NO_CONTENT
}

/// `POST /_fake/reset`.
pub(crate) async fn reset(Extract(state): Extract<Shared>) -> StatusCode {
    if let Ok(mut r) = state.requests.lock() {
        r.clear();
    }
    if let Ok(mut f) = state.failures.lock() {
        f.clear();
    }
    if let Ok(mut d) = state.delays.lock() {
        d.clear();
    }
    StatusCode::NO_CONTENT
}
