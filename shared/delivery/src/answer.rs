//! A provider's answer as a [`SendOutcome`]: its id on success, its own
//! error code and message on failure, and when it asks to come back.

use inbox_domain::delivery::{DeliveryError, SendOutcome, is_transient_status};
use serde_json::Value;

/// How a provider writes its errors and ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorShape {
    /// `{"sid"}`; errors `{"code", "message", "more_info", "status"}`, `Retry-After`.
    Twilio,
    /// `{"messages": [{"id"}]}`; errors `{"error": {"code", "message"}}`.
    Meta,
    /// `{"ok": true, "result": {"message_id"}}`; errors
    /// `{"ok": false, "error_code", "description", "parameters": {"retry_after"}}`.
    Telegram,
    /// Any 2xx; no id.
    Receiver,
}

/// What came back.
pub(crate) struct Answer {
    status: u16,
    retry_after_secs: Option<i64>,
    body: Value,
}

impl Answer {
    pub(crate) async fn read(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let retry_after_secs = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        // A body that is not JSON (a proxy's HTML page) still has a status.
        let body = response.json().await.unwrap_or(Value::Null);
        Answer {
            status,
            retry_after_secs,
            body,
        }
    }

    pub(crate) fn outcome(self, shape: ErrorShape) -> SendOutcome {
        if (200..300).contains(&self.status) {
            let id = match shape {
                ErrorShape::Twilio => self.body["sid"].as_str().map(str::to_string),
                ErrorShape::Meta => self.body["messages"][0]["id"].as_str().map(str::to_string),
                ErrorShape::Telegram => self.body["result"]["message_id"]
                    .as_i64()
                    .map(|id| id.to_string()),
                ErrorShape::Receiver => None,
            };
            if id.is_some() || shape == ErrorShape::Receiver {
                return SendOutcome::Accepted {
                    provider_message_id: id,
                };
            }
            // Accepted without the id it always gives: not knowing what was
            // sent, the inbox does not send it again.
            return SendOutcome::Permanent {
                error: DeliveryError {
                    code: "unexpected_answer".into(),
                    message: format!("the provider answered {} without a message id", self.status),
                },
            };
        }
        let (code, message, retry_after) = match shape {
            ErrorShape::Twilio => (
                text(&self.body["code"]),
                text(&self.body["message"]),
                self.retry_after_secs,
            ),
            ErrorShape::Meta => (
                text(&self.body["error"]["code"]),
                text(&self.body["error"]["message"]),
                self.retry_after_secs,
            ),
            ErrorShape::Telegram => (
                text(&self.body["error_code"]),
                text(&self.body["description"]),
                self.body["parameters"]["retry_after"].as_i64(),
            ),
            ErrorShape::Receiver => (None, None, self.retry_after_secs),
        };
        let error = DeliveryError {
            code: code.unwrap_or_else(|| format!("http_{}", self.status)),
            message: message.unwrap_or_else(|| format!("the provider answered {}", self.status)),
        };
        if is_transient_status(self.status) {
            SendOutcome::Transient {
                error,
                retry_after_millis: retry_after.map(|s| s.saturating_mul(1000)),
            }
        } else {
            SendOutcome::Permanent { error }
        }
    }
}

/// No answer at all: worth another attempt. The message names no URL (a
/// Telegram URL holds the bot token) and no other detail of the request.
pub(crate) fn unanswered(e: &reqwest::Error) -> SendOutcome {
    let (code, message) = if e.is_timeout() {
        ("timeout", "the provider did not answer in time")
    } else if e.is_connect() {
        ("network", "could not connect to the provider")
    } else {
        ("network", "the request to the provider failed")
    };
    SendOutcome::Transient {
        error: DeliveryError {
            code: code.into(),
            message: message.into(),
        },
        retry_after_millis: None,
    }
}

/// A code or message as text, whether the provider wrote a number or a string.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
