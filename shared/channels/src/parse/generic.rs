//! The inbox's own generic format for integrations.
//!
//! `{"message_id", "from": {"id", "name"?, "email"?, "phone"?}, "text"}`. The
//! format is ours, so unlike provider payloads it is strict: unknown fields are
//! rejected, as everywhere else in the API.

use serde::Deserialize;

use crate::parse::{check_id, present};
use crate::{Inbound, InboundMessage, ParseError, Sender};

/// Parses a generic delivery into one message.
pub fn parse(body: &[u8]) -> Result<Vec<Inbound>, ParseError> {
    let payload: Payload = crate::parse::json(body)?;
    check_id(&payload.message_id, "message_id")?;
    check_id(&payload.from.id, "from.id")?;
    Ok(vec![Inbound::Message(InboundMessage {
        provider_message_id: payload.message_id,
        sender: Sender {
            id: payload.from.id,
            name: present(payload.from.name),
            email: present(payload.from.email),
            phone: present(payload.from.phone),
            handle: None,
        },
        text: payload.text,
        media_count: 0,
        unsupported: None,
        recipient: None,
        chat_id: None,
        sent_at: None,
    })])
}

/// The body of a generic delivery.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    message_id: String,
    from: From,
    text: String,
}

/// The sender of a generic delivery.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct From {
    id: String,
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
}
