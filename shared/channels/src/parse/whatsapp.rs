//! WhatsApp Business Cloud API (Meta) webhooks.
//!
//! A delivery batches items: `entry[].changes[].value.messages[]` (incoming
//! messages, with the senders' profile names in `value.contacts[]`) and
//! `entry[].changes[].value.statuses[]` (what happened to our outbound messages).
//! Changes of any other `field` (template updates, account events…) are ignored.
//!
//! Message types map as follows:
//! - `text`: the body.
//! - `image`, `video`, `document`: the caption (or empty), one medium.
//! - `audio`, `sticker`: empty text, one medium.
//! - `button`: the button's text; `interactive`: the chosen reply's title.
//! - `reaction` and `system`: ignored (not something a contact wrote).
//! - anything else (`location`, `contacts`, `order`, `unsupported`…): a message
//!   with empty text and `unsupported` naming the type, so the inbox can show
//!   that something arrived.

use serde::Deserialize;
use serde_json::Value;

use crate::parse::{check_id, e164_from_digits, present, unix_seconds_text};
use crate::{DeliveryState, DeliveryStatus, Inbound, InboundMessage, ParseError, Sender};

/// The `object` of WhatsApp Business Account notifications.
const WHATSAPP_OBJECT: &str = "whatsapp_business_account";

/// Parses a WhatsApp Cloud notification into its items, in payload order.
pub fn parse(body: &[u8]) -> Result<Vec<Inbound>, ParseError> {
    let payload: Payload = crate::parse::json(body)?;
    if payload.object != WHATSAPP_OBJECT {
        return Ok(vec![Inbound::Ignored {
            reason: format!("whatsapp object {}", payload.object),
        }]);
    }
    let mut items = Vec::new();
    for change in payload.entry.into_iter().flat_map(|entry| entry.changes) {
        if change.field.as_deref() != Some("messages") {
            let field = change.field.unwrap_or_default();
            items.push(Inbound::Ignored {
                reason: format!("whatsapp change {field}"),
            });
            continue;
        }
        // Typed only here: other fields carry other shapes, which must not fail the batch.
        let value: ChangeValue = match change.value {
            Some(value) => {
                serde_json::from_value(value).map_err(|err| ParseError::from_json(&err))?
            }
            None => return Err(ParseError::MissingField("entry.changes.value")),
        };
        let recipient = value.metadata.and_then(|m| present(m.phone_number_id));
        for message in value.messages {
            items.push(convert_message(
                message,
                &value.contacts,
                recipient.clone(),
            )?);
        }
        for status in value.statuses {
            items.push(convert_status(status)?);
        }
    }
    Ok(items)
}

/// One `messages[]` item as a normalised message, or ignored.
fn convert_message(
    message: Message,
    contacts: &[Contact],
    recipient: Option<String>,
) -> Result<Inbound, ParseError> {
    check_id(&message.id, "messages.id")?;
    check_id(&message.from, "messages.from")?;
    let kind = message.kind.as_deref().unwrap_or("unknown");
    let caption = |media: Option<Media>| media.and_then(|m| m.caption).unwrap_or_default();
    let (text, media_count, unsupported) = match kind {
        "text" => {
            let body = message
                .text
                .and_then(|t| t.body)
                .ok_or(ParseError::MissingField("messages.text.body"))?;
            (body, 0, None)
        }
        "image" => (caption(message.image), 1, None),
        "video" => (caption(message.video), 1, None),
        "document" => (caption(message.document), 1, None),
        "audio" | "sticker" => (String::new(), 1, None),
        "button" => (
            message.button.and_then(|b| b.text).unwrap_or_default(),
            0,
            None,
        ),
        "interactive" => match message.interactive.and_then(Interactive::title) {
            Some(title) => (title, 0, None),
            None => (String::new(), 0, Some(kind.to_owned())),
        },
        "reaction" | "system" => {
            return Ok(Inbound::Ignored {
                reason: format!("whatsapp message type {kind}"),
            });
        }
        other => (String::new(), 0, Some(other.to_owned())),
    };
    let sent_at = match &message.timestamp {
        Some(stamp) => Some(stamp.seconds("messages.timestamp")?),
        None => None,
    };
    let name = contact_name(contacts, &message.from);
    Ok(Inbound::Message(InboundMessage {
        provider_message_id: message.id,
        sender: Sender {
            phone: e164_from_digits(&message.from),
            id: message.from,
            name,
            email: None,
            handle: None,
        },
        text,
        media_count,
        unsupported,
        recipient,
        chat_id: None,
        sent_at,
    }))
}

/// The profile name of `wa_id` in the change's contacts (or of its only contact).
fn contact_name(contacts: &[Contact], wa_id: &str) -> Option<String> {
    let matching = contacts
        .iter()
        .find(|c| c.wa_id.as_deref() == Some(wa_id))
        .or(match contacts {
            [only] if only.wa_id.is_none() => Some(only),
            _ => None,
        })?;
    present(matching.profile.as_ref()?.name.clone())
}

/// One `statuses[]` item as a delivery status, or ignored for states the inbox does not track.
fn convert_status(status: Status) -> Result<Inbound, ParseError> {
    check_id(&status.id, "statuses.id")?;
    let state = match status.status.as_str() {
        "sent" => DeliveryState::Sent,
        "delivered" => DeliveryState::Delivered,
        "read" => DeliveryState::Read,
        "failed" => DeliveryState::Failed,
        other => {
            return Ok(Inbound::Ignored {
                reason: format!("whatsapp status {other}"),
            });
        }
    };
    let at = match &status.timestamp {
        Some(stamp) => Some(stamp.seconds("statuses.timestamp")?),
        None => None,
    };
    Ok(Inbound::Status(DeliveryStatus {
        provider_message_id: status.id,
        status: state,
        at,
        recipient: present(status.recipient_id),
        error: status.errors.first().and_then(StatusError::describe),
    }))
}

/// The notification envelope.
#[derive(Deserialize)]
struct Payload {
    object: String,
    #[serde(default)]
    entry: Vec<Entry>,
}

/// One business account's changes.
#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    changes: Vec<Change>,
}

/// One change; `value`'s shape depends on `field`.
#[derive(Deserialize)]
struct Change {
    field: Option<String>,
    value: Option<Value>,
}

/// The `value` of a `messages` change.
#[derive(Deserialize)]
struct ChangeValue {
    metadata: Option<Metadata>,
    #[serde(default)]
    contacts: Vec<Contact>,
    #[serde(default)]
    messages: Vec<Message>,
    #[serde(default)]
    statuses: Vec<Status>,
}

/// The business phone number the change is about.
#[derive(Deserialize)]
struct Metadata {
    phone_number_id: Option<String>,
}

/// A sender's WhatsApp id and profile.
#[derive(Deserialize)]
struct Contact {
    wa_id: Option<String>,
    profile: Option<Profile>,
}

/// A sender's WhatsApp profile.
#[derive(Deserialize)]
struct Profile {
    name: Option<String>,
}

/// An incoming message; only the parts the inbox reads.
#[derive(Deserialize)]
struct Message {
    id: String,
    from: String,
    timestamp: Option<Stamp>,
    #[serde(rename = "type")]
    kind: Option<String>,
    text: Option<Text>,
    image: Option<Media>,
    video: Option<Media>,
    document: Option<Media>,
    button: Option<Button>,
    interactive: Option<Interactive>,
}

/// A text message's content.
#[derive(Deserialize)]
struct Text {
    body: Option<String>,
}

/// A medium's content; only the caption is text.
#[derive(Deserialize)]
struct Media {
    caption: Option<String>,
}

/// A quick-reply button press.
#[derive(Deserialize)]
struct Button {
    text: Option<String>,
}

/// A reply to an interactive message.
#[derive(Deserialize)]
struct Interactive {
    button_reply: Option<Reply>,
    list_reply: Option<Reply>,
}

impl Interactive {
    /// The title of whichever reply was chosen.
    fn title(self) -> Option<String> {
        self.button_reply
            .or(self.list_reply)
            .and_then(|reply| reply.title)
    }
}

/// A chosen button or list row.
#[derive(Deserialize)]
struct Reply {
    title: Option<String>,
}

/// A delivery update for an outbound message.
#[derive(Deserialize)]
struct Status {
    id: String,
    status: String,
    timestamp: Option<Stamp>,
    recipient_id: Option<String>,
    #[serde(default)]
    errors: Vec<StatusError>,
}

/// Why an outbound message failed.
#[derive(Deserialize)]
struct StatusError {
    code: Option<Value>,
    title: Option<String>,
}

impl StatusError {
    /// `"<code>: <title>"`, or whichever of the two is present.
    fn describe(&self) -> Option<String> {
        let code = match &self.code {
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        };
        match (code, present(self.title.clone())) {
            (Some(code), Some(title)) => Some(format!("{code}: {title}")),
            (code, title) => code.or(title),
        }
    }
}

/// A Unix timestamp; Meta sends strings, but a number is accepted too.
#[derive(Deserialize)]
#[serde(untagged)]
enum Stamp {
    /// The documented form: decimal seconds in a string.
    Text(String),
    /// Seconds as a JSON number.
    Number(i64),
}

impl Stamp {
    /// The timestamp in Unix seconds.
    fn seconds(&self, field: &'static str) -> Result<i64, ParseError> {
        match self {
            Self::Text(text) => unix_seconds_text(text, field),
            Self::Number(n) => Ok(*n),
        }
    }
}
