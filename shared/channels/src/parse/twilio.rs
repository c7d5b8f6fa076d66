//! Twilio Programmable Messaging webhooks (form bodies).
//!
//! One delivery is one item: an incoming message, or a status callback when the
//! channel's outbound messages use the same URL as `StatusCallback`.

use crate::parse::{check_id, present};
use crate::{DeliveryState, DeliveryStatus, Inbound, InboundMessage, ParseError, Sender, form};

/// The `From` prefix Twilio uses for WhatsApp senders.
const WHATSAPP_PREFIX: &str = "whatsapp:";

/// Parses a Twilio form body into one item.
pub fn parse(body: &[u8]) -> Result<Vec<Inbound>, ParseError> {
    let fields = Fields::decode(body)?;
    let status = match fields.get("MessageStatus")? {
        Some(status) => Some(status),
        None => fields.get("SmsStatus")?,
    };
    let item = match status {
        // Inbound messages carry `received`; anything else is about an outbound one.
        Some(status) if status != "received" && status != "receiving" => {
            delivery_status(&fields, status)?
        }
        _ => Inbound::Message(message(&fields)?),
    };
    Ok(vec![item])
}

/// An incoming message: `MessageSid`, `From`, `To`, `Body`, `NumMedia`, `ProfileName`.
fn message(fields: &Fields) -> Result<InboundMessage, ParseError> {
    let id = fields.required("MessageSid")?;
    let from = fields.required("From")?;
    let text = fields.get("Body")?.unwrap_or_default().to_owned();
    let media_count = match fields.get("NumMedia")? {
        Some(count) => count
            .trim()
            .parse::<u32>()
            .map_err(|_| ParseError::InvalidField {
                field: "NumMedia",
                reason: "not a non-negative integer",
            })?,
        None => 0,
    };
    let unsupported = if text.trim().is_empty() && media_count == 0 {
        let kind = fields.get("MessageType")?.filter(|kind| *kind != "text");
        let location = fields.get("Latitude")?.map(|_| "location");
        kind.or(location).map(str::to_owned)
    } else {
        None
    };
    Ok(InboundMessage {
        provider_message_id: id.to_owned(),
        sender: Sender {
            id: from.to_owned(),
            name: present(fields.get("ProfileName")?.map(str::to_owned)),
            email: None,
            phone: phone_of(from),
            handle: None,
        },
        text,
        media_count,
        unsupported,
        recipient: present(fields.get("To")?.map(str::to_owned)),
        chat_id: None,
        sent_at: None,
    })
}

/// A status callback: `MessageSid` plus `MessageStatus`, and `ErrorCode` when it failed.
fn delivery_status(fields: &Fields, status: &str) -> Result<Inbound, ParseError> {
    let state = match status {
        "sent" => DeliveryState::Sent,
        "delivered" => DeliveryState::Delivered,
        "read" => DeliveryState::Read,
        "failed" | "undelivered" => DeliveryState::Failed,
        // queued, sending, accepted, scheduled, canceled…: nothing the inbox shows.
        other => {
            return Ok(Inbound::Ignored {
                reason: format!("twilio status {other}"),
            });
        }
    };
    Ok(Inbound::Status(DeliveryStatus {
        provider_message_id: fields.required("MessageSid")?.to_owned(),
        status: state,
        at: None,
        recipient: present(fields.get("To")?.map(str::to_owned)),
        error: present(fields.get("ErrorCode")?.map(str::to_owned)),
    }))
}

/// The E.164 number behind a Twilio address: `+1555…` or `whatsapp:+1555…`.
fn phone_of(from: &str) -> Option<String> {
    let number = from.strip_prefix(WHATSAPP_PREFIX).unwrap_or(from);
    let digits = number.strip_prefix('+')?;
    crate::parse::e164_from_digits(digits)
}

/// The decoded form, as UTF-8 text.
struct Fields(Vec<(String, String)>);

impl Fields {
    /// Decodes the form and requires every name and value to be UTF-8, as Twilio sends.
    fn decode(body: &[u8]) -> Result<Self, ParseError> {
        form::decode(body)
            .into_iter()
            .map(|(name, value)| {
                let name = String::from_utf8(name).map_err(|_| ParseError::NotUtf8)?;
                let value = String::from_utf8(value).map_err(|_| ParseError::NotUtf8)?;
                Ok((name, value))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// The one value of `name`; a repeated field is ambiguous and refused.
    fn get(&self, name: &'static str) -> Result<Option<&str>, ParseError> {
        let mut values = self.0.iter().filter(|(key, _)| key == name);
        let first = values.next().map(|(_, value)| value.as_str());
        if values.next().is_some() {
            return Err(ParseError::InvalidField {
                field: name,
                reason: "sent more than once",
            });
        }
        Ok(first)
    }

    /// The value of an id field Twilio always sends, checked by [`check_id`].
    fn required(&self, name: &'static str) -> Result<&str, ParseError> {
        let value = self.get(name)?.ok_or(ParseError::MissingField(name))?;
        check_id(value, name)?;
        Ok(value)
    }
}
