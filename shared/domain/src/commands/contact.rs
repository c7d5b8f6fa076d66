//! Contacts' side: new conversations, a contact's messages, channel transfer, and contact changes.

use super::*;

/// A fresh conversation (not yet written): status `open`, version 0.
pub fn new_conversation(
    workspace_id: &str,
    contact: ContactSnapshot,
    channel: Option<ChannelRef>,
    ctx: &mut Ctx<'_>,
) -> Conversation {
    let (channel_id, channel_kind, contact_address) = match channel {
        Some(c) => (Some(c.id), c.kind, c.address),
        None => (None, None, None),
    };
    Conversation {
        workspace_id: workspace_id.to_string(),
        id: ctx.ids.new_id(IdKind::Conversation),
        channel_id,
        channel_kind,
        contact,
        status: Status::Open,
        assignee: None,
        team: None,
        agent: None,
        human_handoff: false,
        last_responder: None,
        auto_close: None,
        timer_generation: 0,
        snoozed_until: None,
        labels: Vec::new(),
        closing: None,
        created_at: ctx.now,
        last_activity_at: ctx.now,
        last_contact_message_at: None,
        last_message_sender: None,
        member_flags: Default::default(),
        contact_address,
        failed_deliveries: Vec::new(),
        version: 0,
    }
}

/// The channel a lookup found; an id that names no channel is `unknown_channel`.
pub(super) fn existing_channel(channel: Lookup<Channel>) -> Result<Channel, DomainError> {
    match channel {
        Lookup::Found(c) => Ok(c),
        Lookup::Unknown(id) => Err(DomainError::UnknownChannel(id)),
        Lookup::AiAgent(a) => Err(DomainError::UnknownChannel(a.id)),
        Lookup::Member(m) => Err(DomainError::UnknownChannel(m.id)),
    }
}

/// `POST /conversations` as asked: a new open conversation for `contact`,
/// on `channel` when one is named (it must exist: `unknown_channel`).
pub fn create_conversation_on(
    workspace_id: &str,
    contact: &Contact,
    channel: Option<Lookup<Channel>>,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    let channel = channel.map(existing_channel).transpose()?;
    create_conversation(
        workspace_id,
        contact,
        channel.as_ref().map(ChannelRef::from),
        ctx,
    )
}

/// A new open conversation for `contact` on `channel` (already known to exist).
pub fn create_conversation(
    workspace_id: &str,
    contact: &Contact,
    channel: Option<ChannelRef>,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    require(ctx, Capability::CreateContactsAndConversations)?;
    let fresh = new_conversation(workspace_id, contact.snapshot(), channel, ctx);
    let ch = Change::created(fresh, ctx);
    let w = ch.finish();
    let conversation = w.as_ref().map(|w| w.conversation.clone());
    match conversation {
        Some(conversation) => Ok(Outcome {
            conversation,
            writes: w.into_iter().collect(),
            message: None,
        }),
        None => Err(DomainError::BadRequest("nothing to create".into())),
    }
}

pub(super) fn apply_contact_message(
    ch: &mut Change<'_, '_, '_>,
    body: &str,
    channel_message_id: Option<String>,
) -> Message {
    let contact = ch.after.contact.clone();
    let sender = Sender {
        kind: SenderKind::Contact,
        id: Some(contact.id.clone()),
        name: contact.name.clone(),
    };
    if contact.blocked {
        // Stored, and nothing else changes.
        let msg = ch.add_message(sender, body, channel_message_id);
        return msg;
    }
    let msg = ch.add_message(sender, body, channel_message_id);
    ch.after.last_contact_message_at = Some(ch.ctx.now);
    ch.cancel_timer();
    if ch.after.snoozed_until.take().is_some() {
        ch.event(EventKind::Unsnoozed {
            reason: Some(UnsnoozeReason::ContactMessage),
        });
    }
    if let Some(session) = ch.after.active_session().cloned() {
        let agent_id = ch
            .after
            .agent
            .as_ref()
            .map(|a| a.id.clone())
            .unwrap_or_default();
        ch.events.push(DomainEvent::AiReplyRequested {
            workspace_id: ch.after.workspace_id.clone(),
            conversation_id: ch.after.id.clone(),
            agent_id,
            session_id: session.id,
            trigger: ReplyTrigger::ContactMessage,
            message_id: Some(msg.id.clone()),
        });
    }
    msg
}

pub(super) fn contact_message(
    conv: &Conversation,
    body: &str,
    channel_message_id: Option<String>,
    first_agent: Option<&AiAgent>,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    if !matches!(ctx.actor, Actor::Contact { .. } | Actor::System) {
        return Err(DomainError::Forbidden);
    }
    let body = validate_body(body)?;
    if conv.is_closed() && !conv.contact.blocked && !ctx.settings.reopen_on_contact_message {
        let ws = conv.workspace_id.clone();
        return contact_message_in_new(
            &ws,
            conv.contact.clone(),
            conv.channel(),
            body,
            channel_message_id,
            first_agent,
            ctx,
        );
    }
    let mut ch = Change::on(conv, ctx);
    if ch.after.is_closed() && !ch.after.contact.blocked {
        ch.set_status(Status::Open, StatusSource::ContactMessage);
    }
    let msg = apply_contact_message(&mut ch, body, channel_message_id);
    Ok(one_write(ch, msg))
}

pub(super) fn contact_message_in_new(
    workspace_id: &str,
    contact: ContactSnapshot,
    channel: Option<ChannelRef>,
    body: &str,
    channel_message_id: Option<String>,
    first_agent: Option<&AiAgent>,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    let fresh = new_conversation(workspace_id, contact, channel, ctx);
    let mut ch = Change::created(fresh, ctx);
    // A blocked contact's message changes nothing else, so no agent answers it.
    if let Some(agent) = first_agent.filter(|_| !ch.after.contact.blocked) {
        // "The AI agent answers first": the session starts before the
        // message, which then asks it for a reply.
        start_session(&mut ch, agent, false);
    }
    let msg = apply_contact_message(&mut ch, body, channel_message_id);
    Ok(one_write(ch, msg))
}

/// A contact's inbound message: applied to its latest conversation on the
/// channel, or to a new one when there is none. A conversation it starts
/// starts with an active session of `first_agent` (the channel's default
/// AI agent), if any.
#[allow(clippy::too_many_arguments)]
pub fn receive_contact_message(
    latest: Option<&Conversation>,
    workspace_id: &str,
    contact: &Contact,
    channel: Option<ChannelRef>,
    first_agent: Option<&AiAgent>,
    body: &str,
    channel_message_id: Option<String>,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    match latest {
        Some(conv) => {
            // The contact's address on the conversation's channel is learnt
            // from what they write there (a conversation started by a member
            // has none yet).
            let learnt = channel
                .and_then(|c| {
                    c.address
                        .filter(|_| conv.channel_id.as_ref() == Some(&c.id))
                })
                .filter(|a| conv.contact_address.as_ref() != Some(a))
                .map(|address| Conversation {
                    contact_address: Some(address),
                    ..conv.clone()
                });
            decide(
                learnt.as_ref().unwrap_or(conv),
                Command::ContactMessage {
                    body: body.to_string(),
                    channel_message_id,
                    first_agent: first_agent.cloned(),
                },
                ctx,
            )
        }
        None => {
            let body = validate_body(body)?;
            contact_message_in_new(
                workspace_id,
                contact.snapshot(),
                channel,
                body,
                channel_message_id,
                first_agent,
                ctx,
            )
        }
    }
}

/// Move the conversation to another channel (it must exist).
pub(super) fn transfer_channel(
    conv: &Conversation,
    channel: Lookup<Channel>,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    require(ctx, Capability::ChatEdit)?;
    let channel = existing_channel(channel)?;
    single(conv, ctx, |ch| {
        if ch.after.channel_id.as_deref() != Some(channel.id.as_str()) {
            let from = ch.after.channel_id.replace(channel.id.clone());
            ch.after.channel_kind = Some(channel.kind);
            // The address was the contact's on the old channel.
            ch.after.contact_address = None;
            ch.event(EventKind::ChannelTransferred {
                from,
                to: channel.id,
            });
        }
        Ok(())
    })
}

/// The contact changed (name, lead, blocked): refresh the snapshot.
pub(super) fn contact_changed(
    conv: &Conversation,
    contact: Contact,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    require(ctx, Capability::ChatEdit)?;
    if contact.id != conv.contact.id {
        return Err(DomainError::BadRequest(
            "the contact is not this conversation's contact".into(),
        ));
    }
    single(conv, ctx, |ch| {
        let was_blocked = ch.after.contact.blocked;
        ch.after.contact = contact.snapshot();
        if contact.blocked {
            // A blocked contact's conversation can be neither opened nor
            // closed, so no timer may close it later.
            ch.cancel_timer();
        }
        if was_blocked != contact.blocked && !ch.after.is_closed() {
            let contact_id = contact.id.clone();
            ch.event(if contact.blocked {
                EventKind::ContactBlocked { contact_id }
            } else {
                EventKind::ContactUnblocked { contact_id }
            });
        }
        Ok(())
    })
}
