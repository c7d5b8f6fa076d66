//! Delivery outcomes that show on the conversation: a message the sender
//! gave up on, and a person's retry of it.

use super::*;
use crate::delivery::MAX_FAILED_KEPT;

/// The sender gave up on a message: its `failed` state, the
/// `delivery_failed` timeline event and its place in the retry list, in one write.
pub(super) fn delivery_failed(
    conv: &Conversation,
    change: DeliveryChange,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    if !matches!(ctx.actor, Actor::System) {
        return Err(DomainError::Forbidden);
    }
    if change.next.status != DeliveryStatus::Failed {
        return Err(DomainError::BadRequest(
            "a delivery failure must leave the message failed".into(),
        ));
    }
    let code = change
        .next
        .error
        .as_ref()
        .map_or_else(String::new, |e| e.code.clone());
    single(conv, ctx, |ch| {
        let failed = &mut ch.after.failed_deliveries;
        failed.retain(|f| f.message_id != change.message_id);
        failed.push(FailedDelivery {
            message_id: change.message_id.clone(),
            at: change.at,
        });
        let excess = failed.len().saturating_sub(MAX_FAILED_KEPT);
        failed.drain(..excess);
        ch.event(EventKind::DeliveryFailed {
            message_id: change.message_id.clone(),
            code,
        });
        ch.delivery = Some(change);
        Ok(())
    })
}

/// A person queues a failed message again: it is `pending` from its first
/// attempt, leaves the retry list, and goes out as `message.outbound` again
/// (to the conversation's channel now). Nothing goes to a blocked contact,
/// nor past WhatsApp's reply window.
pub(super) fn retry_delivery(
    conv: &Conversation,
    message: Message,
    at: MessageAt,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    require(ctx, Capability::ChatEdit)?;
    let listed = conv
        .failed_deliveries
        .iter()
        .any(|f| f.message_id == message.id && f.at == at);
    let (Some(expected), true) = (message.delivery.clone(), listed) else {
        return Err(DomainError::NotRetryable);
    };
    let Some(next) = expected.retried(ctx.now) else {
        return Err(DomainError::NotRetryable);
    };
    if conv.contact.blocked {
        return Err(DomainError::ContactBlocked);
    }
    if crate::delivery::reply_window_closed(conv, ctx.now) {
        return Err(DomainError::ReplyWindowClosed);
    }
    single(conv, ctx, |ch| {
        ch.after
            .failed_deliveries
            .retain(|f| f.message_id != message.id);
        let mut queued = message.clone();
        queued.delivery = Some(next.clone());
        outbound(ch, &queued);
        if let Some(DomainEvent::OutboundMessage { at: place, .. }) = ch.events.last_mut() {
            *place = Some(at);
        }
        ch.delivery = Some(DeliveryChange {
            message_id: message.id.clone(),
            at,
            expected,
            next,
        });
        Ok(())
    })
}
