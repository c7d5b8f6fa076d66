//! The change builder: one conversation's new state, its timeline events, messages and outgoing events, packed into one write.

use super::*;

/// A change being built on one conversation.
pub(super) struct Change<'c, 'a, 'x> {
    pub(super) before: Option<&'c Conversation>,
    pub(super) after: Conversation,
    pub(super) timeline: Vec<TimelineEvent>,
    pub(super) messages: Vec<Message>,
    pub(super) events: Vec<DomainEvent>,
    pub(super) delivery: Option<DeliveryChange>,
    pub(super) ctx: &'x mut Ctx<'a>,
}

impl<'c, 'a, 'x> Change<'c, 'a, 'x> {
    pub(super) fn on(conv: &'c Conversation, ctx: &'x mut Ctx<'a>) -> Self {
        Change {
            before: Some(conv),
            after: conv.clone(),
            timeline: Vec::new(),
            messages: Vec::new(),
            events: Vec::new(),
            delivery: None,
            ctx,
        }
    }

    /// A change that creates `fresh`, its `conversation_created` event first.
    pub(super) fn created(fresh: Conversation, ctx: &'x mut Ctx<'a>) -> Self {
        let mut ch = Change {
            before: None,
            after: fresh,
            timeline: Vec::new(),
            messages: Vec::new(),
            events: Vec::new(),
            delivery: None,
            ctx,
        };
        let created = EventKind::ConversationCreated {
            channel_id: ch.after.channel_id.clone(),
            contact_id: ch.after.contact.id.clone(),
        };
        ch.event(created);
        ch
    }

    pub(super) fn event(&mut self, kind: EventKind) {
        let id = self.ctx.ids.new_id(IdKind::Event);
        self.timeline.push(TimelineEvent {
            id,
            conversation_id: self.after.id.clone(),
            kind,
            at: self.ctx.now,
            actor: actor_ref(self.ctx.actor),
        });
    }

    pub(super) fn settings(&self) -> &Settings {
        self.ctx.settings
    }

    /// Ends the active AI session, if any, with `reason`.
    pub(super) fn end_session(&mut self, reason: SessionEndReason) {
        let Some(agent) = self.after.agent.as_mut() else {
            return;
        };
        let Some(session) = agent.session.as_mut().filter(|s| s.active) else {
            return;
        };
        session.active = false;
        let kind = EventKind::AgentSessionEnded {
            agent_id: agent.id.clone(),
            session_id: session.id.clone(),
            reason,
        };
        self.event(kind);
    }

    pub(super) fn assign(&mut self, to: NamedRef, reason: Option<AssignReason>) {
        let from = self.after.assignee.as_ref().map(|a| a.id.clone());
        let to_id = to.id.clone();
        self.after.assignee = Some(to);
        self.event(EventKind::Assigned {
            from,
            to: to_id,
            reason,
        });
    }

    pub(super) fn unassign(&mut self, reason: Option<UnassignReason>) {
        if let Some(prev) = self.after.assignee.take() {
            self.event(EventKind::Unassigned {
                from: prev.id,
                reason,
            });
        }
    }

    pub(super) fn set_status(&mut self, to: Status, source: StatusSource) {
        let from = self.after.status;
        if from == to {
            return;
        }
        self.after.status = to;
        if from == Status::Closed {
            self.after.closing = None;
        }
        self.event(EventKind::StatusChanged { from, to, source });
    }

    /// Clears the timer (a new generation, so any pending fire is stale).
    pub(super) fn cancel_timer(&mut self) {
        if self.after.auto_close.take().is_some() {
            self.after.timer_generation += 1;
        }
    }

    /// Arms or resets the timer after a human reply.
    pub(super) fn arm_timer(&mut self) {
        let ac = &self.ctx.settings.auto_close;
        if !ac.enabled || self.after.is_closed() {
            return;
        }
        let after_seconds = ac.after_seconds;
        self.after.auto_close = Some(AutoCloseTimer {
            due_at: timer_due(self.ctx.now, self.after.snoozed_until, after_seconds),
            after_seconds,
        });
        self.after.timer_generation += 1;
    }

    pub(super) fn close(&mut self, source: ClosingSource, note: Option<ClosingNote>) {
        let status_source = match source {
            ClosingSource::Manual => StatusSource::Manual,
            ClosingSource::AutoClose => StatusSource::AutoClose,
        };
        self.set_status(Status::Closed, status_source);
        self.after.closing = Some(Closing {
            at: self.ctx.now,
            source,
            by: match source {
                ClosingSource::Manual => actor_ref(self.ctx.actor),
                ClosingSource::AutoClose => ActorRef::system(),
            },
            note: note.clone(),
        });
        self.cancel_timer();
        self.after.snoozed_until = None;
        if let Some(n) = note {
            self.event(EventKind::ClosingNoteAdded {
                category: n.category,
                summary: n.summary,
                generated: n.generated,
                generator: n.generator,
            });
        }
    }

    pub(super) fn add_message(
        &mut self,
        sender: Sender,
        body: &str,
        channel_message_id: Option<String>,
    ) -> Message {
        let delivery = crate::delivery::is_delivered(&self.after, sender.kind)
            .then(|| Delivery::pending(self.ctx.now));
        let msg = Message {
            id: self.ctx.ids.new_id(IdKind::Message),
            conversation_id: self.after.id.clone(),
            sender,
            body: body.to_string(),
            created_at: self.ctx.now,
            channel_message_id,
            delivery,
        };
        self.after.last_message_sender = Some(msg.sender.kind);
        self.messages.push(msg.clone());
        msg
    }

    /// The write, or `None` when nothing changed.
    pub(super) fn finish(mut self) -> Option<Write> {
        let before = self.before;
        let unchanged = self.timeline.is_empty()
            && self.messages.is_empty()
            && self.delivery.is_none()
            && before.is_some_and(|b| *b == self.after);
        if unchanged {
            return None;
        }
        self.after.version = before.map_or(1, |b| b.version + 1);
        // Only what shows on the conversation (a message or a timeline event)
        // moves it up the inbox; clearing a timer or refreshing a snapshot does not.
        if before.is_none() || !self.timeline.is_empty() || !self.messages.is_empty() {
            self.after.last_activity_at = self.ctx.now;
        }
        let mut write = Write {
            conversation: self.after,
            expected_version: before.map(|b| b.version),
            timeline: self.timeline,
            messages: self.messages,
            events: self.events,
            delivery: self.delivery,
        };
        write.seal();
        Some(write)
    }
}

/// Runs `f` on a change of `conv` and packs the outcome.
pub(super) fn single(
    conv: &Conversation,
    ctx: &mut Ctx<'_>,
    f: impl FnOnce(&mut Change<'_, '_, '_>) -> Result<(), DomainError>,
) -> Result<Outcome, DomainError> {
    let mut ch = Change::on(conv, ctx);
    f(&mut ch)?;
    Ok(match ch.finish() {
        Some(w) => Outcome {
            conversation: w.conversation.clone(),
            writes: vec![w],
            message: None,
        },
        None => Outcome::unchanged(conv),
    })
}

pub(super) fn one_write(ch: Change<'_, '_, '_>, msg: Message) -> Outcome {
    // A message is always a change, so `finish` yields a write; the state
    // before finishing only stands in to keep this total without a panic.
    let fallback = ch.after.clone();
    let w = ch.finish();
    Outcome {
        conversation: w.as_ref().map_or(fallback, |w| w.conversation.clone()),
        writes: w.into_iter().collect(),
        message: Some(msg),
    }
}

pub(super) fn outbound(ch: &mut Change<'_, '_, '_>, msg: &Message) {
    ch.events.push(DomainEvent::OutboundMessage {
        workspace_id: ch.after.workspace_id.clone(),
        conversation_id: ch.after.id.clone(),
        channel_id: ch.after.channel_id.clone(),
        contact_id: ch.after.contact.id.clone(),
        to: ch.after.contact_address.clone(),
        message: msg.clone(),
        at: None,
    });
}
