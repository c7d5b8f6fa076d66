//! One webhook delivery, from raw request to stored messages and an answer.

use http::HeaderMap;
use inbox_app::{App, AppError, Decision, Plan, Principal, Target};
use inbox_channels::{
    ChannelKind, Delivery, DeliveryState, Inbound, InboundMessage, kind_name,
    whatsapp_handshake_query,
};
use inbox_domain::commands::validate_body;
use inbox_domain::ids::is_valid_external_id;
use inbox_domain::model::{Channel, ChannelRef, Contact, DeliveryError, DeliveryStatus};
use inbox_domain::{Ctx, DisplayName, Email, IdKind, Phone, receive_contact_message};
use inbox_store::{
    DedupeKey, DeliveryReport, DirectoryEntry, DirectoryStore, LookupKey, ReportOutcome, Store,
};

use crate::convergent::{ConvergentIds, successor_conversation_id};
use crate::error::IngestError;
use crate::reply::WebhookReply;

/// The contract's request body limit; larger deliveries are refused (413) before
/// anything else is looked at.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// How long a `(channel, provider message id)` key is remembered: providers retry
/// for hours to a few days (Meta up to 7 days), so a week covers every redelivery.
pub const DEDUPE_TTL_SECONDS: i64 = 7 * 24 * 60 * 60;

/// What one accepted delivery did, item by item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestReport {
    /// Messages stored now.
    pub stored: usize,
    /// Messages seen before (same channel and provider id): nothing written.
    pub duplicates: usize,
    /// Delivery statuses recorded on a stored outgoing message.
    pub statuses_recorded: usize,
    /// Delivery statuses that would not move the message forward (late, repeated): nothing written.
    pub statuses_not_moved: usize,
    /// Delivery statuses about no stored outgoing message (acknowledged, dropped).
    pub statuses_unmatched: usize,
    /// Items the inbox does not act on.
    pub ignored: usize,
}

/// Handles one webhook `POST` and answers it: the entry point of the
/// `webhook-*` functions and the dev server's `/webhooks/{kind}/{ws}/{channel}`.
///
/// `kind`, `workspace_id` and `channel_id` come from the path; `raw_body` is the
/// body exactly as received; `public_url` is what the provider called (see
/// [`crate::public_url`]; only Twilio uses it). The answer is 200 in the
/// provider's form once every item is stored, or a problem+json error.
#[allow(clippy::too_many_arguments)]
pub async fn ingest<S>(
    app: &App<S>,
    kind: ChannelKind,
    workspace_id: &str,
    channel_id: &str,
    headers: &HeaderMap,
    raw_body: &[u8],
    public_url: &str,
) -> WebhookReply
where
    S: Store,
{
    let kind_label = kind_name(kind);
    match try_ingest(
        app,
        kind,
        workspace_id,
        channel_id,
        headers,
        raw_body,
        public_url,
    )
    .await
    {
        Ok(report) => {
            tracing::info!(
                kind = kind_label,
                workspace_id,
                channel_id,
                stored = report.stored,
                duplicates = report.duplicates,
                statuses_recorded = report.statuses_recorded,
                statuses_unmatched = report.statuses_unmatched,
                ignored = report.ignored,
                "webhook delivery accepted"
            );
            WebhookReply::accepted(kind)
        }
        Err(err) => {
            let status = err.status();
            if status >= 500 {
                tracing::error!(kind = kind_label, workspace_id, channel_id, status, error = %err, "webhook delivery failed");
            } else {
                tracing::warn!(kind = kind_label, workspace_id, channel_id, status, error = %err, "webhook delivery refused");
            }
            err.reply()
        }
    }
}

/// [`ingest`] without the answer: what was done, or why not (for callers that log
/// or answer differently, and for tests).
#[allow(clippy::too_many_arguments)]
pub async fn try_ingest<S>(
    app: &App<S>,
    kind: ChannelKind,
    workspace_id: &str,
    channel_id: &str,
    headers: &HeaderMap,
    raw_body: &[u8],
    public_url: &str,
) -> Result<IngestReport, IngestError>
where
    S: Store,
{
    let (store, clock) = (app.store(), app.clock());
    if raw_body.len() > MAX_BODY_BYTES {
        return Err(IngestError::PayloadTooLarge {
            size: raw_body.len(),
            limit: MAX_BODY_BYTES,
        });
    }
    // An id that could never have been configured needs no read to be refused.
    if !is_valid_external_id(channel_id) {
        return Err(IngestError::UnknownChannel);
    }
    let channel = store
        .get_channel(workspace_id, channel_id)
        .await?
        .ok_or(IngestError::UnknownChannel)?;
    if channel.kind != kind {
        return Err(IngestError::KindMismatch {
            configured: channel.kind,
        });
    }
    let delivery = Delivery {
        headers,
        body: raw_body,
        public_url,
        now: clock.now().unix_seconds(),
    };
    inbox_channels::verify(kind, &channel.secret, &delivery)?;
    if kind == ChannelKind::Twilio {
        require_form(headers)?;
    }
    let items = inbox_channels::parse(kind, raw_body)?;

    // Refuse the whole delivery before storing any of it if one message cannot be
    // stored, so a 400 never leaves part of a batch behind.
    let mut bodies = Vec::new();
    for item in &items {
        if let Inbound::Message(message) = item {
            let body = message_body(message);
            validate_body(&body)?;
            bodies.push(body);
        }
    }

    let mut bodies = bodies.into_iter();
    let mut report = IngestReport::default();
    for item in items {
        match item {
            Inbound::Message(message) => {
                let body = bodies.next().unwrap_or_default();
                let stored = store_message(app, workspace_id, &channel, &message, &body).await?;
                if stored {
                    report.stored += 1;
                } else {
                    tracing::info!(
                        workspace_id,
                        channel_id,
                        provider_message_id = %message.provider_message_id,
                        "duplicate delivery: already stored"
                    );
                    report.duplicates += 1;
                }
            }
            Inbound::Status(update) => {
                let status = delivery_status(update.status);
                let delivery_report = DeliveryReport {
                    error: update.error.as_ref().map(|code| DeliveryError {
                        code: code.clone(),
                        message: format!(
                            "{} reported the message as not delivered",
                            kind_name(kind)
                        ),
                    }),
                    provider_message_id: update.provider_message_id.clone(),
                    status,
                    at: clock.now(),
                };
                let outcome = store
                    .record_delivery_status(workspace_id, channel_id, &delivery_report)
                    .await?;
                let provider_message_id = &update.provider_message_id;
                match outcome {
                    ReportOutcome::Moved => report.statuses_recorded += 1,
                    ReportOutcome::NotMoved => {
                        tracing::info!(
                            workspace_id, channel_id, %provider_message_id, ?status,
                            "late or repeated delivery status: not moved back"
                        );
                        report.statuses_not_moved += 1;
                    }
                    ReportOutcome::NoMessage => {
                        tracing::info!(
                            workspace_id, channel_id, %provider_message_id, ?status,
                            "delivery status for no stored outgoing message"
                        );
                        report.statuses_unmatched += 1;
                    }
                }
            }
            Inbound::Ignored { reason } => {
                tracing::info!(workspace_id, channel_id, %reason, "webhook item ignored");
                report.ignored += 1;
            }
        }
    }
    Ok(report)
}

/// The text stored for an inbound message. The message model has no attachment
/// field, so media and content the inbox cannot show are noted in the text:
/// `"[1 attachment]"` after any caption, or `"[unsupported message: location]"`.
pub fn message_body(message: &InboundMessage) -> String {
    let text = message.text.trim();
    let mut parts: Vec<String> = Vec::new();
    if !text.is_empty() {
        parts.push(text.to_string());
    }
    match message.media_count {
        0 => {}
        1 => parts.push("[1 attachment]".to_string()),
        n => parts.push(format!("[{n} attachments]")),
    }
    if let Some(kind) = &message.unsupported {
        parts.push(format!("[unsupported message: {kind}]"));
    }
    if parts.is_empty() {
        // Blank bodies are refused by the domain; an authentic empty message still happened.
        parts.push("[empty message]".to_string());
    }
    parts.join("\n")
}

/// Answers WhatsApp's subscription `GET` on `/webhooks/whatsapp/{ws}/{channel}`:
/// 200 with the challenge as `text/plain` when `hub.verify_token` is the channel's
/// verify token, else 403. `raw_query` is the query string without the `?`.
pub async fn handshake<S>(
    store: &S,
    workspace_id: &str,
    channel_id: &str,
    raw_query: &str,
) -> WebhookReply
where
    S: DirectoryStore + ?Sized,
{
    let refused = || {
        WebhookReply::problem(
            403,
            "forbidden",
            "Forbidden",
            "the verify token does not match this channel",
        )
    };
    if !is_valid_external_id(channel_id) {
        return refused();
    }
    let channel = match store.get_channel(workspace_id, channel_id).await {
        Ok(Some(channel)) if channel.kind == ChannelKind::Whatsapp => channel,
        Ok(_) => {
            tracing::warn!(
                workspace_id,
                channel_id,
                "whatsapp handshake for no whatsapp channel"
            );
            return refused();
        }
        Err(err) => {
            let err = IngestError::Store(err);
            tracing::error!(workspace_id, channel_id, error = %err, "whatsapp handshake failed");
            return err.reply();
        }
    };
    match whatsapp_handshake_query(raw_query, channel.verify_token.as_deref()) {
        Ok(challenge) => WebhookReply::challenge(challenge),
        Err(err) => {
            tracing::warn!(workspace_id, channel_id, error = %err, "whatsapp handshake refused");
            refused()
        }
    }
}

/// Twilio posts forms; anything else is not a Twilio delivery we can read.
fn require_form(headers: &HeaderMap) -> Result<(), IngestError> {
    let value = headers
        .get(http::header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let is_form = value.as_deref().is_some_and(|v| {
        v.split(';').next().is_some_and(|essence| {
            essence
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
    });
    if is_form {
        Ok(())
    } else {
        Err(IngestError::NotAForm(value))
    }
}

fn delivery_status(state: DeliveryState) -> DeliveryStatus {
    match state {
        DeliveryState::Sent => DeliveryStatus::Sent,
        DeliveryState::Delivered => DeliveryStatus::Delivered,
        DeliveryState::Read => DeliveryStatus::Read,
        DeliveryState::Failed => DeliveryStatus::Failed,
    }
}

/// Stores one contact message through the application layer; `Ok(false)`
/// when the delivery was stored before.
async fn store_message<S: Store>(
    app: &App<S>,
    workspace_id: &str,
    channel: &Channel,
    message: &InboundMessage,
    body: &str,
) -> Result<bool, IngestError> {
    let first_seen = app.clock().now();
    let sender = &message.sender;
    // A provider's profile fields follow the API's rules, cleaned rather than refused.
    let name = sender
        .name
        .as_deref()
        .and_then(DisplayName::from_channel)
        .or_else(|| sender.handle.as_deref().and_then(DisplayName::from_channel));
    let candidate = Contact {
        id: app.new_ids().new_id(IdKind::Contact),
        name: name.map(String::from),
        email: sender
            .email
            .as_deref()
            .and_then(Email::from_channel)
            .map(String::from),
        phone: sender
            .phone
            .as_deref()
            .and_then(Phone::from_channel)
            .map(String::from),
        blocked: false,
        created_at: first_seen,
    };
    let contact = app
        .store()
        .contact_for_sender(workspace_id, &channel.id, &sender.id, &candidate)
        .await?;
    let dedupe = DedupeKey {
        workspace_id: workspace_id.to_string(),
        channel_id: channel.id.clone(),
        message_id: message.provider_message_id.clone(),
        expires_at: first_seen.plus_seconds(DEDUPE_TTL_SECONDS),
    };
    let plan = Plan::new(
        workspace_id,
        Principal::Contact(contact.id.clone()),
        Target::ContactOnChannel {
            contact_id: contact.id.clone(),
            channel_id: channel.id.clone(),
        },
    )
    .with_dedupe(dedupe)
    .with_lookups(
        channel
            .default_agent_id
            .iter()
            .map(|id| LookupKey::Person(id.clone())),
    );
    // An attempt is repeated only after its commit lost a race. When it was
    // creating a conversation under the convergent id, that id is not
    // proposed again: if it was not the racer's conversation on this channel
    // (e.g. one moved elsewhere), proposing it again would lose forever.
    let mut refused: Vec<String> = Vec::new();
    let mut created_last: Option<String> = None;
    let done = app
        .execute(plan, |loaded, ctx| {
            refused.extend(created_last.take());
            let latest = loaded.conversation();
            let proposed = successor_conversation_id(workspace_id, &channel.id, &contact, latest);
            let fixed = (!refused.contains(&proposed)).then(|| proposed.clone());
            let mut ids = ConvergentIds::new(&mut *ctx.ids, fixed);
            let mut ctx = Ctx {
                now: ctx.now,
                actor: ctx.actor,
                settings: ctx.settings,
                ids: &mut ids,
                notes: ctx.notes,
            };
            // The channel's default agent answers first, if it still exists.
            let first_agent = channel.default_agent_id.as_ref().and_then(|id| {
                match loaded.context.people.get(id) {
                    Some(DirectoryEntry::Agent(a)) => Some(a),
                    _ => None,
                }
            });
            let outcome = receive_contact_message(
                latest,
                workspace_id,
                &contact,
                Some(ChannelRef::from(channel).with_address(reply_address(message))),
                first_agent,
                body,
                Some(message.provider_message_id.clone()),
                &mut ctx,
            )?;
            if outcome
                .writes
                .iter()
                .any(|w| w.expected_version.is_none() && w.conversation.id == proposed)
            {
                created_last = Some(proposed);
            }
            Ok(Decision::Decided(outcome))
        })
        .await;
    match done {
        Ok(_) => Ok(true),
        Err(AppError::Duplicate) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Where replies to `message`'s sender go: the chat it was posted in
/// (Telegram), else the sender's own id (a phone number, a `wa_id`).
fn reply_address(message: &InboundMessage) -> String {
    message
        .chat_id
        .clone()
        .unwrap_or_else(|| message.sender.id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use inbox_channels::Sender;
    use inbox_domain::Timestamp;

    fn message(text: &str, media: u32, unsupported: Option<&str>) -> InboundMessage {
        InboundMessage {
            provider_message_id: "m1".into(),
            sender: Sender::default(),
            text: text.into(),
            media_count: media,
            unsupported: unsupported.map(str::to_string),
            recipient: None,
            chat_id: None,
            sent_at: None,
        }
    }

    #[test]
    fn bodies_say_what_arrived() {
        assert_eq!(message_body(&message(" hi ", 0, None)), "hi");
        assert_eq!(
            message_body(&message("box", 1, None)),
            "box\n[1 attachment]"
        );
        assert_eq!(message_body(&message("", 2, None)), "[2 attachments]");
        assert_eq!(
            message_body(&message("", 0, Some("location"))),
            "[unsupported message: location]"
        );
        assert_eq!(message_body(&message("  ", 0, None)), "[empty message]");
    }

    #[test]
    fn twilio_needs_a_form() {
        let mut h = HeaderMap::new();
        assert!(require_form(&h).is_err());
        h.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("Application/X-WWW-Form-Urlencoded; charset=utf-8"),
        );
        assert!(require_form(&h).is_ok());
        h.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        assert!(require_form(&h).is_err());
    }

    #[test]
    fn dedupe_window_is_a_week() {
        let t = Timestamp::from_unix_seconds(0).plus_seconds(DEDUPE_TTL_SECONDS);
        assert_eq!(t.unix_seconds(), 604_800);
    }
}
