//! The port replies leave through: one provider call for one message. The
//! sender decides whether and when to call (`inbox_domain::delivery`);
//! adapters only speak a provider's wire format and report its answer.

use async_trait::async_trait;
use inbox_domain::delivery::SendOutcome;
use inbox_domain::model::Channel;

/// One message to send on a channel.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    /// The channel, with its kind, secret and sending credentials.
    pub channel: &'a Channel,
    /// The contact's address on the channel: Twilio's `To`, WhatsApp's
    /// `wa_id`, Telegram's `chat_id` (unused by a generic channel).
    pub to: &'a str,
    /// The text.
    pub body: &'a str,
    /// Where the provider reports delivery statuses (Twilio's
    /// `StatusCallback`): the channel's webhook URL.
    pub status_callback: Option<&'a str>,
    /// The `message.outbound` event as JSON: what a generic channel's receiver is sent.
    pub event: &'a [u8],
    /// Now, in Unix seconds (signatures that carry a timestamp).
    pub unix_now: i64,
}

/// Sends through the channel's provider.
#[async_trait]
pub trait ChannelSender: Send + Sync {
    /// Calls the provider once. Every answer is an outcome, no answer too
    /// (a network failure or timeout is transient); nothing here retries.
    async fn send(&self, message: &Outgoing<'_>) -> SendOutcome;
}
