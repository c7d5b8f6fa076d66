//! The provider clients behind [`inbox_app::ChannelSender`]: each speaks one
//! provider's send API (the contract's "Outbound delivery" table) and turns
//! its answer into a [`SendOutcome`]; and the Chat Completions client behind
//! [`inbox_app::ChatModel`] ([`model`]). One HTTP client, built once, with
//! timeouts; a channel's `api_base_url` points it at a proxy or the fakes.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![warn(missing_docs)]

mod answer;
pub mod model;
pub mod webhooks;

use answer::{Answer, ErrorShape};
use async_trait::async_trait;
use inbox_app::{ChannelSender, Outgoing};
use inbox_domain::delivery::{DeliveryError, SendOutcome};
use inbox_domain::model::{ChannelKind, Sending, TwilioSender};
use std::time::Duration;

/// Twilio's public API.
pub const TWILIO_API: &str = "https://api.twilio.com";
/// Meta's Graph API, where WhatsApp Cloud lives.
pub const WHATSAPP_API: &str = "https://graph.facebook.com";
/// The Graph API version the inbox sends with.
pub const WHATSAPP_API_VERSION: &str = "v21.0";
/// Telegram's Bot API.
pub const TELEGRAM_API: &str = "https://api.telegram.org";
/// How long a provider may take to answer one send.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(15);
/// How long connecting to a provider may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub use inbox_domain::delivery::CHANNEL_NOT_CONFIGURED;

/// Sends over HTTPS with one pooled client.
#[derive(Debug, Clone)]
pub struct HttpSender {
    client: reqwest::Client,
}

impl HttpSender {
    /// A sender with the timeouts above.
    pub fn new() -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(SEND_TIMEOUT)
            .build()?;
        Ok(HttpSender { client })
    }
}

#[async_trait]
impl ChannelSender for HttpSender {
    async fn send(&self, m: &Outgoing<'_>) -> SendOutcome {
        let channel = m.channel;
        let base = |default: &str| {
            channel
                .api_base_url
                .clone()
                .unwrap_or_else(|| default.to_string())
        };
        let (request, shape) = match (&channel.sending, channel.kind) {
            (
                Some(Sending::Twilio {
                    account_sid,
                    sender,
                }),
                ChannelKind::Twilio,
            ) => {
                let url = format!(
                    "{}/2010-04-01/Accounts/{account_sid}/Messages.json",
                    base(TWILIO_API)
                );
                let mut form = vec![("To", m.to), ("Body", m.body)];
                match sender {
                    TwilioSender::From(from) => form.push(("From", from)),
                    TwilioSender::MessagingService(sid) => {
                        form.push(("MessagingServiceSid", sid));
                    }
                }
                if let Some(callback) = m.status_callback {
                    form.push(("StatusCallback", callback));
                }
                let request = self
                    .client
                    .post(url)
                    .basic_auth(account_sid, Some(&channel.secret))
                    .form(&form);
                (request, ErrorShape::Twilio)
            }
            (
                Some(Sending::Whatsapp {
                    phone_number_id,
                    access_token,
                }),
                ChannelKind::Whatsapp,
            ) => {
                let url = format!(
                    "{}/{WHATSAPP_API_VERSION}/{phone_number_id}/messages",
                    base(WHATSAPP_API)
                );
                let body = serde_json::json!({
                    "messaging_product": "whatsapp",
                    "recipient_type": "individual",
                    "to": m.to,
                    "type": "text",
                    "text": {"body": m.body},
                });
                let request = self.client.post(url).bearer_auth(access_token).json(&body);
                (request, ErrorShape::Meta)
            }
            (Some(Sending::Telegram { bot_token }), ChannelKind::Telegram) => {
                let url = format!("{}/bot{bot_token}/sendMessage", base(TELEGRAM_API));
                // Telegram takes the chat id as a number or a string; ours are its numbers.
                let chat_id =
                    m.to.parse::<i64>()
                        .map(serde_json::Value::from)
                        .unwrap_or_else(|_| serde_json::Value::from(m.to));
                let body = serde_json::json!({"chat_id": chat_id, "text": m.body});
                (self.client.post(url).json(&body), ErrorShape::Telegram)
            }
            (Some(Sending::Generic { outbound_url }), ChannelKind::Generic) => {
                let signature =
                    inbox_channels::verify::generic_signature(&channel.secret, m.unix_now, m.event);
                let request = self
                    .client
                    .post(outbound_url)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .header(inbox_channels::GENERIC_SIGNATURE_HEADER, signature)
                    .header(
                        inbox_channels::GENERIC_TIMESTAMP_HEADER,
                        m.unix_now.to_string(),
                    )
                    .body(m.event.to_vec());
                (request, ErrorShape::Receiver)
            }
            _ => {
                return SendOutcome::Permanent {
                    error: DeliveryError {
                        code: CHANNEL_NOT_CONFIGURED.into(),
                        message: "the channel has no sending credentials for its kind".into(),
                    },
                };
            }
        };
        match request.send().await {
            Ok(response) => Answer::read(response).await.outcome(shape),
            Err(e) => answer::unanswered(&e),
        }
    }
}
