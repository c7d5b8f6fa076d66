//! The provider-independent shape of what a delivery says.

use serde::{Deserialize, Serialize};

/// One item of a delivery; a delivery may carry several (WhatsApp batches them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Inbound {
    /// A contact wrote to the channel.
    Message(InboundMessage),
    /// The provider reports what happened to a message the inbox sent.
    Status(DeliveryStatus),
    /// Authentic but nothing the inbox acts on; the webhook still answers 200 so the
    /// provider does not retry it.
    Ignored {
        /// Why, for logs (e.g. `telegram update edited_message`).
        reason: String,
    },
}

/// A message from a contact, normalised across providers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundMessage {
    /// The provider's id for this delivery item, the deduplication key with the channel.
    pub provider_message_id: String,
    /// Who wrote it.
    pub sender: Sender,
    /// The text, or a media caption, or empty when there is neither.
    pub text: String,
    /// How many media attachments it carried (an image, a voice note, a document…).
    pub media_count: u32,
    /// The provider's content type when it could not be shown as text or media
    /// (a location, a contact card, a poll…), so the inbox can say something arrived.
    pub unsupported: Option<String>,
    /// The channel address it was sent to (Twilio `To`, WhatsApp `phone_number_id`).
    pub recipient: Option<String>,
    /// The chat it was posted in, where replies go (Telegram `chat.id`).
    pub chat_id: Option<String>,
    /// When the provider says it was sent, in Unix seconds; `None` when it does not say.
    pub sent_at: Option<i64>,
}

/// The contact behind a message, as far as the provider tells.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sender {
    /// The provider's stable id for the contact: the key contacts are found by.
    pub id: String,
    /// A display name, when the provider has one.
    pub name: Option<String>,
    /// An e-mail address, when the provider has one.
    pub email: Option<String>,
    /// A phone number in E.164 form (`+15551234567`), when the provider has one.
    pub phone: Option<String>,
    /// A provider user name (Telegram `@username`, without the `@`).
    pub handle: Option<String>,
}

/// What happened to a message the inbox sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryStatus {
    /// The provider's id of the outbound message this is about.
    pub provider_message_id: String,
    /// The new state.
    pub status: DeliveryState,
    /// When it happened, in Unix seconds; `None` when the provider does not say.
    pub at: Option<i64>,
    /// The contact the message was for, when the provider tells.
    pub recipient: Option<String>,
    /// The provider's error code or title when it failed.
    pub error: Option<String>,
}

/// The delivery states the inbox tracks; providers' finer states map onto these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Accepted by the provider's network.
    Sent,
    /// Reached the contact's device.
    Delivered,
    /// The contact opened it.
    Read,
    /// It will not be delivered.
    Failed,
}
