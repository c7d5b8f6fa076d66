//! Status and closing: the status menu, closing notes, snooze, and the auto-close timer.

use super::*;
use crate::error::FieldError;
use crate::notes::generated_by;

/// When a timer armed now is due: `max(now, snoozed_until) + after_seconds`.
pub fn timer_due(
    now: Timestamp,
    snoozed_until: Option<Timestamp>,
    after_seconds: u64,
) -> Timestamp {
    let base = snoozed_until.map_or(now, |s| s.max(now));
    base.plus_seconds(i64::try_from(after_seconds).unwrap_or(i64::MAX))
}

pub(super) fn clean(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Checks (and completes, with auto-generation) a closing note for a manual close.
pub fn check_closing_note(
    input: Option<ClosingNoteInput>,
    recent_messages: &[Message],
    settings: &Settings,
    notes: &dyn NoteGenerator,
) -> Result<Option<ClosingNote>, DomainError> {
    use crate::settings::ClosingNoteMode;
    let cfg = &settings.closing_notes;
    let input = input.unwrap_or_default();
    let mut category = clean(input.category);
    let mut summary = clean(input.summary);
    if cfg.mode == ClosingNoteMode::Off {
        if category.is_some() || summary.is_some() {
            return Err(DomainError::ClosingNotesDisabled);
        }
        return Ok(None);
    }
    if summary
        .as_ref()
        .is_some_and(|s| s.chars().count() > MAX_BODY_CHARS)
    {
        return Err(DomainError::BadRequest(
            "closing note summary is too long".into(),
        ));
    }
    let (mut made_category, mut made_summary) = (false, false);
    if cfg.auto_generate {
        if category.is_none() {
            category = notes.categorize(recent_messages, &cfg.categories);
            made_category = category.is_some();
        }
        if summary.is_none() {
            summary = notes.summarize(recent_messages);
            made_summary = summary.is_some();
        }
    }
    let generator = generated_by(made_summary, made_category, notes.generator());
    let mut missing = Vec::new();
    if cfg.mode.requires_category() && category.is_none() {
        missing.push("category");
    }
    if cfg.mode.requires_summary() && summary.is_none() {
        missing.push("summary");
    }
    if !missing.is_empty() {
        return Err(DomainError::ClosingNoteRequired { missing });
    }
    if let Some(c) = &category
        && !settings.has_category(c)
    {
        return Err(DomainError::UnknownCategory(c.clone()));
    }
    Ok(
        (category.is_some() || summary.is_some()).then_some(ClosingNote {
            category,
            summary,
            generated: generator.is_some(),
            generator,
        }),
    )
}

pub(super) fn set_status(
    conv: &Conversation,
    status: Status,
    closing_note: Option<ClosingNoteInput>,
    recent_messages: &[Message],
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    require(ctx, Capability::ChatEdit)?;
    if conv.contact.blocked {
        return Err(DomainError::ContactBlocked);
    }
    if closing_note.is_some() && status != Status::Closed {
        return Err(DomainError::Validation {
            message: "closing_note is accepted only when closing".into(),
            errors: vec![FieldError::new(
                "closing_note",
                "is accepted only with status closed",
            )],
        });
    }
    if conv.status == status {
        return Ok(Outcome::unchanged(conv));
    }
    let note = if status == Status::Closed {
        check_closing_note(closing_note, recent_messages, ctx.settings, ctx.notes)?
    } else {
        None
    };
    single(conv, ctx, |ch| {
        if status == Status::Closed {
            ch.close(ClosingSource::Manual, note);
        } else {
            ch.set_status(status, StatusSource::Manual);
        }
        Ok(())
    })
}

pub(super) fn snooze(
    conv: &Conversation,
    until: Timestamp,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    require(ctx, Capability::ChatEdit)?;
    if until <= ctx.now {
        return Err(DomainError::InvalidSnooze(
            "until must be in the future".into(),
        ));
    }
    if conv.is_closed() {
        return Err(DomainError::InvalidSnooze(
            "a closed conversation cannot be snoozed".into(),
        ));
    }
    if conv.snoozed_until == Some(until) {
        return Ok(Outcome::unchanged(conv));
    }
    single(conv, ctx, |ch| {
        ch.after.snoozed_until = Some(until);
        if let Some(timer) = ch.after.auto_close.as_mut() {
            timer.due_at =
                until.plus_seconds(i64::try_from(timer.after_seconds).unwrap_or(i64::MAX));
            ch.after.timer_generation += 1;
        }
        ch.event(EventKind::Snoozed { until });
        Ok(())
    })
}

/// The firing decision: closes only if the same generation is still armed, due,
/// and the conversation is not closed; with auto-close off, or on a blocked
/// contact's conversation, a due timer is cleared instead.
pub(super) fn fire_auto_close(
    conv: &Conversation,
    generation: u64,
    recent_messages: &[Message],
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    if !matches!(ctx.actor, Actor::System) {
        return Err(DomainError::Forbidden);
    }
    let Some(timer) = conv.auto_close.as_ref() else {
        return Ok(Outcome::unchanged(conv));
    };
    if conv.timer_generation != generation || timer.due_at > ctx.now || conv.is_closed() {
        return Ok(Outcome::unchanged(conv));
    }
    // Blocking cancels timers; a timer stored before that rule is cleared, never fired.
    if !ctx.settings.auto_close.enabled || conv.contact.blocked {
        return single(conv, ctx, |ch| {
            ch.cancel_timer();
            Ok(())
        });
    }
    let note = if ctx.settings.closing_notes.auto_generate
        && ctx.settings.closing_notes.mode != crate::settings::ClosingNoteMode::Off
    {
        let draft = ctx
            .notes
            .draft(recent_messages, &ctx.settings.closing_notes.categories);
        (draft.category.is_some() || draft.summary.is_some()).then_some(ClosingNote {
            category: draft.category,
            summary: draft.summary,
            generated: true,
            generator: draft.generator,
        })
    } else {
        None
    };
    single(conv, ctx, |ch| {
        ch.close(ClosingSource::AutoClose, note);
        Ok(())
    })
}

/// Clear the snooze.
pub(super) fn unsnooze(conv: &Conversation, ctx: &mut Ctx<'_>) -> Result<Outcome, DomainError> {
    require(ctx, Capability::ChatEdit)?;
    single(conv, ctx, |ch| {
        if ch.after.snoozed_until.take().is_some() {
            ch.event(EventKind::Unsnoozed { reason: None });
        }
        Ok(())
    })
}
