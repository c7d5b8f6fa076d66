//! What a webhook answers, independent of the HTTP framework.

use inbox_channels::ChannelKind;
use serde_json::json;

/// Twilio expects TwiML back; an empty `<Response>` sends no automatic reply.
const EMPTY_TWIML: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Response></Response>"#;

/// A finished webhook answer: status, content type and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookReply {
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Type` header value.
    pub content_type: &'static str,
    /// The body.
    pub body: String,
}

impl WebhookReply {
    /// The success answer in the form the provider expects: empty TwiML for Twilio
    /// (`text/xml`), `{"ok":true}` (`application/json`) for everyone else.
    pub fn accepted(kind: ChannelKind) -> Self {
        match kind {
            ChannelKind::Twilio => WebhookReply {
                status: 200,
                content_type: "text/xml",
                body: EMPTY_TWIML.to_string(),
            },
            ChannelKind::Whatsapp | ChannelKind::Telegram | ChannelKind::Generic => WebhookReply {
                status: 200,
                content_type: "application/json",
                body: json!({"ok": true}).to_string(),
            },
        }
    }

    /// The WhatsApp handshake's answer: the challenge echoed as `text/plain`.
    pub fn challenge(challenge: String) -> Self {
        WebhookReply {
            status: 200,
            content_type: "text/plain",
            body: challenge,
        }
    }

    /// An RFC 9457 problem (`application/problem+json`) with the contract's `code`.
    pub fn problem(status: u16, code: &str, title: &str, detail: &str) -> Self {
        let body = json!({
            "type": format!("urn:inbox:problem:{code}"),
            "title": title,
            "status": status,
            "detail": detail,
            "code": code,
        });
        WebhookReply {
            status,
            content_type: "application/problem+json",
            body: body.to_string(),
        }
    }

    /// The same answer as an `http::Response`, for adapters that speak `http` types.
    pub fn into_http(self) -> http::Response<String> {
        let mut response = http::Response::new(self.body);
        *response.status_mut() = http::StatusCode::from_u16(self.status)
            .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static(self.content_type),
        );
        response
    }
}
