//! Messages from members, AI agents and integrations, and internal notes.

use super::*;
use crate::error::FieldError;

pub(super) fn post_message(
    conv: &Conversation,
    body: &str,
    on_closed: Option<OnClosed>,
    sender: Option<SenderKind>,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    require(ctx, Capability::PostMessage)?;
    let c = caller(ctx)?.clone();
    match c.role {
        Role::AiAgent => {
            if on_closed.is_some() || sender.is_some() {
                return Err(DomainError::BadRequest(
                    "on_closed and sender are not for AI agents".into(),
                ));
            }
            ai_reply(conv, body, &c, ctx)
        }
        Role::Integration => {
            if on_closed.is_some() {
                return Err(DomainError::BadRequest(
                    "on_closed is for members' replies".into(),
                ));
            }
            let kind = match sender {
                Some(k @ (SenderKind::Broadcast | SenderKind::Workflow)) => k,
                _ => {
                    return Err(DomainError::BadRequest(
                        "integrations must send sender: broadcast or workflow".into(),
                    ));
                }
            };
            integration_message(conv, body, kind, &c, ctx)
        }
        _ => {
            if sender.is_some() {
                return Err(DomainError::Validation {
                    message: "sender is for integrations".into(),
                    errors: vec![FieldError::new("sender", "only integrations name a sender")],
                });
            }
            human_reply(conv, body, on_closed, &c, ctx)
        }
    }
}

pub(super) fn human_reply(
    conv: &Conversation,
    body: &str,
    on_closed: Option<OnClosed>,
    me: &Caller,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    let body = validate_body(body)?;
    let Some(name) = me.display_name() else {
        return Err(DomainError::ProfileIncomplete);
    };
    if let Some(refused) = reply_refusal(conv, me, ctx.now) {
        return Err(refused);
    }
    let sender = Sender {
        kind: SenderKind::Member,
        id: Some(me.id.clone()),
        name: Some(name.to_string()),
    };
    let apply = |ch: &mut Change<'_, '_, '_>| -> Message {
        let pending_human = ch.after.human_handoff;
        if ch.after.assignee.is_none() && pending_human {
            ch.assign(member_ref(me), Some(AssignReason::Replied));
            // An auto-assignment is an assignment: it stops the AI like any other.
            if ch.settings().ai.end_session_on_human_assignment {
                ch.end_session(SessionEndReason::HumanAssigned);
            }
        }
        if ch.settings().ai.stop_on_human_reply && ch.after.has_active_session() {
            ch.end_session(SessionEndReason::HumanReplied);
            if ch.after.assignee.is_none() {
                ch.assign(member_ref(me), Some(AssignReason::Replied));
            }
        }
        ch.after.human_handoff = false;
        ch.after.last_responder = Some(Responder {
            kind: ResponderKind::Human,
            id: me.id.clone(),
        });
        let msg = ch.add_message(sender.clone(), body, None);
        ch.arm_timer();
        outbound(ch, &msg);
        msg
    };
    if !conv.is_closed() {
        let mut ch = Change::on(conv, ctx);
        let msg = apply(&mut ch);
        return Ok(one_write(ch, msg));
    }
    match on_closed {
        None => Err(DomainError::ConversationClosed),
        Some(OnClosed::Reopen) => {
            let mut ch = Change::on(conv, ctx);
            ch.set_status(Status::Open, StatusSource::ReplyReopen);
            let msg = apply(&mut ch);
            Ok(one_write(ch, msg))
        }
        Some(OnClosed::NewConversation) => {
            let fresh = new_conversation(
                &conv.workspace_id,
                conv.contact.clone(),
                conv.channel(),
                ctx,
            );
            let mut ch = Change::created(fresh, ctx);
            let msg = apply(&mut ch);
            Ok(one_write(ch, msg))
        }
    }
}

pub(super) fn ai_reply(
    conv: &Conversation,
    body: &str,
    me: &Caller,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    let body = validate_body(body)?;
    if let Some(refused) = reply_refusal(conv, me, ctx.now) {
        return Err(refused);
    }
    let name = conv.agent.as_ref().map(|a| a.name.clone());
    let mut ch = Change::on(conv, ctx);
    ch.after.last_responder = Some(Responder {
        kind: ResponderKind::Ai,
        id: me.id.clone(),
    });
    let msg = ch.add_message(
        Sender {
            kind: SenderKind::AiAgent,
            id: Some(me.id.clone()),
            name,
        },
        body,
        None,
    );
    outbound(&mut ch, &msg);
    Ok(one_write(ch, msg))
}

pub(super) fn integration_message(
    conv: &Conversation,
    body: &str,
    kind: SenderKind,
    me: &Caller,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    let body = validate_body(body)?;
    if let Some(refused) = reply_refusal(conv, me, ctx.now) {
        return Err(refused);
    }
    let mut ch = Change::on(conv, ctx);
    let msg = ch.add_message(
        Sender {
            kind,
            id: Some(me.id.clone()),
            name: me.display_name().map(str::to_string),
        },
        body,
        None,
    );
    outbound(&mut ch, &msg);
    Ok(one_write(ch, msg))
}

/// An internal note on the timeline.
pub(super) fn add_note(
    conv: &Conversation,
    body: &str,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    require(ctx, Capability::ChatEdit)?;
    let body = validate_body(body)?.to_string();
    single(conv, ctx, |ch| {
        let note_id = ch.ctx.ids.new_id(IdKind::Note);
        ch.event(EventKind::NoteAdded { note_id, body });
        Ok(())
    })
}
