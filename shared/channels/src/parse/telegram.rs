//! Telegram Bot API webhook updates.
//!
//! One update is one item. Its id is `update_id` (unique per bot, and what
//! Telegram redelivers on retry). Only `message` updates that a person wrote
//! become messages; other update kinds (`edited_message`, `callback_query`,
//! `my_chat_member`…) and service messages (members joining, pins…) are ignored.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::parse::present;
use crate::{Inbound, InboundMessage, ParseError, Sender};

/// Message fields that carry an attachment (`photo` is one picture in several sizes).
const MEDIA_FIELDS: [&str; 8] = [
    "photo",
    "document",
    "video",
    "audio",
    "voice",
    "sticker",
    "animation",
    "video_note",
];

/// Message fields a contact writes that have no text or medium to show.
const UNSUPPORTED_FIELDS: [&str; 10] = [
    "location",
    "venue",
    "contact",
    "poll",
    "dice",
    "game",
    "invoice",
    "story",
    "paid_media",
    "checklist",
];

/// Parses a Telegram update into one item.
pub fn parse(body: &[u8]) -> Result<Vec<Inbound>, ParseError> {
    let update: Update = crate::parse::json(body)?;
    let id = update.update_id.to_string();
    let Some(message) = update.message else {
        let kind = update
            .rest
            .keys()
            .next()
            .map_or("without content", String::as_str);
        return Ok(vec![Inbound::Ignored {
            reason: format!("telegram update {kind}"),
        }]);
    };
    Ok(vec![convert(id, message)])
}

/// A `message` update as a normalised message, or ignored.
fn convert(id: String, message: Message) -> Inbound {
    let Some(from) = message.from else {
        return Inbound::Ignored {
            reason: "telegram message without sender".to_owned(),
        };
    };
    let has = |field: &str| message.rest.get(field).is_some_and(|v| !v.is_null());
    let media_count = u32::from(MEDIA_FIELDS.into_iter().any(has));
    let text = present(message.text)
        .or_else(|| present(message.caption))
        .unwrap_or_default();
    let unsupported = if text.is_empty() && media_count == 0 {
        match UNSUPPORTED_FIELDS.into_iter().find(|field| has(field)) {
            Some(field) => Some(field.to_owned()),
            None => {
                return Inbound::Ignored {
                    reason: "telegram service message".to_owned(),
                };
            }
        }
    } else {
        None
    };
    Inbound::Message(InboundMessage {
        provider_message_id: id,
        sender: Sender {
            id: from.id.to_string(),
            name: from.full_name(),
            email: None,
            phone: None,
            handle: present(from.username),
        },
        text,
        media_count,
        unsupported,
        recipient: None,
        chat_id: message.chat.map(|chat| chat.id.to_string()),
        sent_at: message.date,
    })
}

/// An update: its id, an optional `message`, and whichever other kind it is.
#[derive(Deserialize)]
struct Update {
    update_id: i64,
    message: Option<Message>,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

/// A message; content fields other than text and caption are only checked for presence.
#[derive(Deserialize)]
struct Message {
    date: Option<i64>,
    from: Option<User>,
    chat: Option<Chat>,
    text: Option<String>,
    caption: Option<String>,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

/// The person who wrote a message.
#[derive(Deserialize)]
struct User {
    id: i64,
    first_name: Option<String>,
    last_name: Option<String>,
    username: Option<String>,
}

impl User {
    /// First and last name joined, as Telegram clients show them.
    fn full_name(&self) -> Option<String> {
        let parts: Vec<&str> = [&self.first_name, &self.last_name]
            .into_iter()
            .flatten()
            .map(|part| part.trim())
            .filter(|part| !part.is_empty())
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    }
}

/// The chat a message was posted in.
#[derive(Deserialize)]
struct Chat {
    id: i64,
}
