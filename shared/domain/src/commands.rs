//! Commands on conversations: each is decided on the current state and gives
//! either a typed error (nothing is written) or the new state, its timeline
//! events, any message and any outgoing event, to be written atomically.

use crate::access::{Actor, Caller, Capability, Role, authorize};
use crate::error::DomainError;
use crate::ids::{IdGen, IdKind};
use crate::model::*;
use crate::notes::NoteGenerator;
use crate::settings::Settings;
use crate::time::Timestamp;

/// The longest message, note or label we accept, in characters.
pub const MAX_BODY_CHARS: usize = 20_000;
/// The longest label, in characters.
pub const MAX_LABEL_CHARS: usize = 64;
/// The most labels a conversation may carry.
pub const MAX_LABELS: usize = 50;

/// Everything a decision may depend on besides the conversation.
pub struct Ctx<'a> {
    /// The time of the decision.
    pub now: Timestamp,
    /// Who acts.
    pub actor: &'a Actor,
    /// The workspace's settings.
    pub settings: &'a Settings,
    /// Where new ids come from.
    pub ids: &'a mut dyn IdGen,
    /// Writes generated closing notes.
    pub notes: &'a dyn NoteGenerator,
}

/// What a member's reply should do when the conversation is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnClosed {
    /// Reopen this conversation and post.
    Reopen,
    /// Start a new conversation with the same contact and channel and post there.
    NewConversation,
}

/// A closing note as requested.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClosingNoteInput {
    /// Category.
    #[serde(default)]
    pub category: Option<String>,
    /// Summary.
    #[serde(default)]
    pub summary: Option<String>,
}

/// A command on one conversation.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Assign a member.
    Assign {
        /// What the directory says the id is.
        target: Lookup<Member>,
    },
    /// Move the assignment to the caller.
    Takeover,
    /// Clear the assignee.
    Unassign,
    /// Set or clear the team.
    SetTeam {
        /// `None` clears the team.
        team: Option<Lookup<Team>>,
    },
    /// Hand the conversation to an AI agent: a new session starts.
    HandToAgent {
        /// What the directory says the id is.
        agent: Lookup<AiAgent>,
        /// Ask the AI to write first.
        send_initial_message: bool,
    },
    /// Remove the AI agent (its session ends).
    UnassignAgent,
    /// End the active AI session; the agent stays.
    EndAgentSession,
    /// Ask for a human.
    Handoff {
        /// Free-text reason.
        reason: Option<String>,
    },
    /// The status menu.
    SetStatus {
        /// New status.
        status: Status,
        /// Closing note, only when closing.
        closing_note: Option<ClosingNoteInput>,
        /// The latest messages (oldest first), needed when notes are auto-generated.
        recent_messages: Vec<Message>,
    },
    /// Post a message: a human reply, an AI reply or an integration message, by the caller's role.
    PostMessage {
        /// The text.
        body: String,
        /// For a member's reply to a closed conversation.
        on_closed: Option<OnClosed>,
        /// For integrations: `broadcast` or `workflow`.
        sender: Option<SenderKind>,
    },
    /// The contact wrote (through a channel).
    ContactMessage {
        /// The text.
        body: String,
        /// The provider's message id.
        channel_message_id: Option<String>,
    },
    /// An internal note.
    AddNote {
        /// The text.
        body: String,
    },
    /// Snooze until a future time.
    Snooze {
        /// When to wake.
        until: Timestamp,
    },
    /// Clear the snooze.
    Unsnooze,
    /// Add and remove labels.
    Labels {
        /// Labels to add.
        add: Vec<String>,
        /// Labels to remove.
        remove: Vec<String>,
    },
    /// Move to another channel of the workspace.
    TransferChannel {
        /// What the directory says the id is.
        channel: Lookup<Channel>,
    },
    /// The auto-close timer of `generation` came due.
    FireAutoClose {
        /// The generation the sweep saw.
        generation: u64,
        /// The latest messages (oldest first), needed when notes are auto-generated.
        recent_messages: Vec<Message>,
    },
    /// A member left the directory.
    MemberRemoved {
        /// The member.
        member_id: String,
    },
    /// A team was deleted.
    TeamRemoved {
        /// The team.
        team_id: String,
    },
    /// An AI agent was deleted: it leaves the conversation and its session ends.
    AgentRemoved {
        /// The agent.
        agent_id: String,
    },
    /// The contact changed (name, lead, blocked): refresh the snapshot.
    ContactChanged {
        /// The contact as it is now.
        contact: Contact,
    },
}

impl Command {
    /// Whether the handler must load the latest messages before deciding.
    pub fn wants_recent_messages(&self, settings: &Settings) -> bool {
        settings.closing_notes.auto_generate
            && match self {
                Command::SetStatus { status, .. } => *status == Status::Closed,
                Command::FireAutoClose { .. } => true,
                _ => false,
            }
    }
}

/// One conversation's part of an atomic write.
#[derive(Debug, Clone, PartialEq)]
pub struct Write {
    /// The new state (version already advanced).
    pub conversation: Conversation,
    /// The version the decision read; `None` creates the conversation (it must not exist).
    pub expected_version: Option<u64>,
    /// Timeline events, in order.
    pub timeline: Vec<TimelineEvent>,
    /// New messages.
    pub messages: Vec<Message>,
    /// Outgoing events (the table is the outbox).
    pub events: Vec<DomainEvent>,
}

/// A decision: what to write atomically, and what to answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The writes; empty when nothing changes (no event, no version bump).
    pub writes: Vec<Write>,
    /// The conversation to answer with (where a message landed).
    pub conversation: Conversation,
    /// The message posted, if any.
    pub message: Option<Message>,
}

impl Outcome {
    /// Whether the command changed nothing.
    pub fn is_noop(&self) -> bool {
        self.writes.is_empty()
    }

    fn unchanged(conv: &Conversation) -> Outcome {
        Outcome {
            writes: Vec::new(),
            conversation: conv.clone(),
            message: None,
        }
    }
}

/// The actor as the timeline records it.
pub fn actor_ref(actor: &Actor) -> ActorRef {
    match actor {
        Actor::Caller(c) => ActorRef {
            kind: match c.role {
                Role::AiAgent => ActorKind::AiAgent,
                Role::Integration => ActorKind::Integration,
                _ => ActorKind::Member,
            },
            id: Some(c.id.clone()),
        },
        Actor::Contact { id } => ActorRef {
            kind: ActorKind::Contact,
            id: Some(id.clone()),
        },
        Actor::System => ActorRef::system(),
    }
}

/// A change being built on one conversation.
struct Change<'c, 'a, 'x> {
    before: Option<&'c Conversation>,
    after: Conversation,
    timeline: Vec<TimelineEvent>,
    messages: Vec<Message>,
    events: Vec<DomainEvent>,
    ctx: &'x mut Ctx<'a>,
}

impl<'c, 'a, 'x> Change<'c, 'a, 'x> {
    fn on(conv: &'c Conversation, ctx: &'x mut Ctx<'a>) -> Self {
        Change {
            before: Some(conv),
            after: conv.clone(),
            timeline: Vec::new(),
            messages: Vec::new(),
            events: Vec::new(),
            ctx,
        }
    }

    fn event(&mut self, kind: EventKind) {
        let id = self.ctx.ids.new_id(IdKind::Event);
        self.timeline.push(TimelineEvent {
            id,
            conversation_id: self.after.id.clone(),
            kind,
            at: self.ctx.now,
            actor: actor_ref(self.ctx.actor),
        });
    }

    fn settings(&self) -> &Settings {
        self.ctx.settings
    }

    /// Ends the active AI session, if any, with `reason`.
    fn end_session(&mut self, reason: &str) {
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
            reason: reason.to_string(),
        };
        self.event(kind);
    }

    fn assign(&mut self, to: NamedRef, reason: Option<&str>) {
        let from = self.after.assignee.as_ref().map(|a| a.id.clone());
        let to_id = to.id.clone();
        self.after.assignee = Some(to);
        self.event(EventKind::Assigned {
            from,
            to: to_id,
            reason: reason.map(str::to_string),
        });
    }

    fn unassign(&mut self, reason: Option<&str>) {
        if let Some(prev) = self.after.assignee.take() {
            self.event(EventKind::Unassigned {
                from: prev.id,
                reason: reason.map(str::to_string),
            });
        }
    }

    fn set_status(&mut self, to: Status, source: StatusSource) {
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
    fn cancel_timer(&mut self) {
        if self.after.auto_close.take().is_some() {
            self.after.timer_generation += 1;
        }
    }

    /// Arms or resets the timer after a human reply.
    fn arm_timer(&mut self) {
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

    fn close(&mut self, source: ClosingSource, note: Option<ClosingNote>) {
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
            });
        }
    }

    fn add_message(
        &mut self,
        sender: Sender,
        body: &str,
        channel_message_id: Option<String>,
    ) -> Message {
        let msg = Message {
            id: self.ctx.ids.new_id(IdKind::Message),
            conversation_id: self.after.id.clone(),
            sender,
            body: body.to_string(),
            created_at: self.ctx.now,
            channel_message_id,
            delivery_status: None,
        };
        self.after.last_message_sender = Some(msg.sender.kind);
        self.messages.push(msg.clone());
        msg
    }

    /// The write, or `None` when nothing changed.
    fn finish(mut self) -> Option<Write> {
        let before = self.before;
        let unchanged = self.timeline.is_empty()
            && self.messages.is_empty()
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
        Some(Write {
            conversation: self.after,
            expected_version: before.map(|b| b.version),
            timeline: self.timeline,
            messages: self.messages,
            events: self.events,
        })
    }
}

/// When a timer armed now is due: `max(now, snoozed_until) + after_seconds`.
pub fn timer_due(
    now: Timestamp,
    snoozed_until: Option<Timestamp>,
    after_seconds: u64,
) -> Timestamp {
    let base = snoozed_until.map_or(now, |s| s.max(now));
    base.plus_seconds(i64::try_from(after_seconds).unwrap_or(i64::MAX))
}

fn caller<'a>(ctx: &'a Ctx<'_>) -> Result<&'a Caller, DomainError> {
    match ctx.actor {
        Actor::Caller(c) => Ok(c),
        _ => Err(DomainError::Forbidden),
    }
}

fn require(ctx: &Ctx<'_>, cap: Capability) -> Result<(), DomainError> {
    match ctx.actor {
        Actor::Caller(c) => authorize(c.role, cap),
        // Contacts and the system act only through their own commands.
        _ => Ok(()),
    }
}

fn member_ref(c: &Caller) -> NamedRef {
    NamedRef {
        id: c.id.clone(),
        name: c.display_name().unwrap_or_default().to_string(),
    }
}

/// Trims a body and checks it is not blank or too long.
pub fn validate_body(body: &str) -> Result<&str, DomainError> {
    let b = body.trim();
    if b.is_empty() {
        return Err(DomainError::EmptyBody);
    }
    if b.chars().count() > MAX_BODY_CHARS {
        return Err(DomainError::BadRequest(format!(
            "body is longer than {MAX_BODY_CHARS} characters"
        )));
    }
    Ok(b)
}

/// Decides `cmd` on `conv`.
pub fn decide(
    conv: &Conversation,
    cmd: Command,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    match cmd {
        Command::Assign { target } => assign(conv, target, ctx),
        Command::Takeover => takeover(conv, ctx),
        Command::Unassign => {
            require(ctx, Capability::ChatEdit)?;
            single(conv, ctx, |ch| {
                ch.unassign(None);
                Ok(())
            })
        }
        Command::SetTeam { team } => set_team(conv, team, ctx),
        Command::HandToAgent {
            agent,
            send_initial_message,
        } => hand_to_agent(conv, agent, send_initial_message, ctx),
        Command::UnassignAgent => {
            require(ctx, Capability::ChatEdit)?;
            single(conv, ctx, |ch| {
                if let Some(agent) = ch.after.agent.clone() {
                    ch.event(EventKind::AgentUnassigned { from: agent.id });
                    ch.end_session("agent_unassigned");
                    ch.after.agent = None;
                }
                Ok(())
            })
        }
        Command::EndAgentSession => {
            require(ctx, Capability::ChatEdit)?;
            if !conv.has_active_session() {
                return Err(DomainError::NoActiveSession);
            }
            single(conv, ctx, |ch| {
                ch.end_session("ended_by_member");
                Ok(())
            })
        }
        Command::Handoff { reason } => handoff(conv, reason, ctx),
        Command::SetStatus {
            status,
            closing_note,
            recent_messages,
        } => set_status(conv, status, closing_note, &recent_messages, ctx),
        Command::PostMessage {
            body,
            on_closed,
            sender,
        } => post_message(conv, &body, on_closed, sender, ctx),
        Command::ContactMessage {
            body,
            channel_message_id,
        } => contact_message(conv, &body, channel_message_id, ctx),
        Command::AddNote { body } => {
            require(ctx, Capability::ChatEdit)?;
            let body = validate_body(&body)?.to_string();
            single(conv, ctx, |ch| {
                let note_id = ch.ctx.ids.new_id(IdKind::Note);
                ch.event(EventKind::NoteAdded { note_id, body });
                Ok(())
            })
        }
        Command::Snooze { until } => snooze(conv, until, ctx),
        Command::Unsnooze => {
            require(ctx, Capability::ChatEdit)?;
            single(conv, ctx, |ch| {
                if ch.after.snoozed_until.take().is_some() {
                    ch.event(EventKind::Unsnoozed { reason: None });
                }
                Ok(())
            })
        }
        Command::Labels { add, remove } => labels(conv, add, remove, ctx),
        Command::TransferChannel { channel } => {
            require(ctx, Capability::ChatEdit)?;
            let channel = match channel {
                Lookup::Found(c) => c,
                Lookup::Unknown(id) => return Err(DomainError::UnknownChannel(id)),
                Lookup::AiAgent(a) => return Err(DomainError::UnknownChannel(a.id)),
                Lookup::Member(m) => return Err(DomainError::UnknownChannel(m.id)),
            };
            single(conv, ctx, |ch| {
                if ch.after.channel_id.as_deref() != Some(channel.id.as_str()) {
                    let from = ch.after.channel_id.replace(channel.id.clone());
                    ch.event(EventKind::ChannelTransferred {
                        from,
                        to: channel.id,
                    });
                }
                Ok(())
            })
        }
        Command::FireAutoClose {
            generation,
            recent_messages,
        } => fire_auto_close(conv, generation, &recent_messages, ctx),
        Command::MemberRemoved { member_id } => {
            require(ctx, Capability::ManageWorkspace)?;
            single(conv, ctx, |ch| {
                if ch.after.assignee_id() == Some(member_id.as_str()) {
                    ch.unassign(Some("member_removed"));
                }
                Ok(())
            })
        }
        Command::AgentRemoved { agent_id } => {
            require(ctx, Capability::ManageWorkspace)?;
            single(conv, ctx, |ch| {
                if ch.after.agent.as_ref().is_some_and(|a| a.id == agent_id) {
                    ch.event(EventKind::AgentUnassigned { from: agent_id });
                    ch.end_session("agent_removed");
                    ch.after.agent = None;
                }
                Ok(())
            })
        }
        Command::TeamRemoved { team_id } => {
            require(ctx, Capability::ManageWorkspace)?;
            single(conv, ctx, |ch| {
                if ch.after.team.as_ref().is_some_and(|t| t.id == team_id)
                    && let Some(prev) = ch.after.team.take()
                {
                    ch.event(EventKind::TeamUnassigned {
                        from: prev.id,
                        reason: Some("team_removed".into()),
                    });
                }
                Ok(())
            })
        }
        Command::ContactChanged { contact } => {
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
    }
}

/// Runs `f` on a change of `conv` and packs the outcome.
fn single(
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

fn assign(
    conv: &Conversation,
    target: Lookup<Member>,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    require(ctx, Capability::ChatEdit)?;
    let member = match target {
        Lookup::Found(m) => m,
        Lookup::AiAgent(_) => return Err(DomainError::CannotAssignAiAgent),
        Lookup::Unknown(id) => return Err(DomainError::UnknownMember(id)),
        Lookup::Member(m) => m,
    };
    if conv.assignee_id() == Some(member.id.as_str()) {
        return Ok(Outcome::unchanged(conv));
    }
    single(conv, ctx, |ch| {
        ch.assign(
            NamedRef {
                id: member.id.clone(),
                name: member.name.clone(),
            },
            None,
        );
        ch.after.human_handoff = false;
        if ch.settings().ai.end_session_on_human_assignment {
            ch.end_session("human_assigned");
        }
        Ok(())
    })
}

fn takeover(conv: &Conversation, ctx: &mut Ctx<'_>) -> Result<Outcome, DomainError> {
    require(ctx, Capability::ChatEdit)?;
    let me = member_ref(caller(ctx)?);
    let from = match conv.assignee_id() {
        Some(a) if a != me.id => a.to_string(),
        _ => return Err(DomainError::TakeoverNotApplicable),
    };
    single(conv, ctx, |ch| {
        let to = me.id.clone();
        ch.after.assignee = Some(me);
        ch.event(EventKind::TakenOver { from, to });
        ch.after.human_handoff = false;
        if ch.settings().ai.end_session_on_human_assignment {
            ch.end_session("human_assigned");
        }
        Ok(())
    })
}

fn set_team(
    conv: &Conversation,
    team: Option<Lookup<Team>>,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    require(ctx, Capability::ChatEdit)?;
    let team = match team {
        None => None,
        Some(Lookup::Found(t)) => Some(t),
        Some(Lookup::Unknown(id)) => return Err(DomainError::UnknownTeam(id)),
        Some(Lookup::AiAgent(a)) => return Err(DomainError::UnknownTeam(a.id)),
        Some(Lookup::Member(m)) => return Err(DomainError::UnknownTeam(m.id)),
    };
    single(conv, ctx, |ch| {
        let from = ch.after.team.as_ref().map(|t| t.id.clone());
        match team {
            Some(t) if from.as_deref() != Some(t.id.as_str()) => {
                ch.after.team = Some(NamedRef {
                    id: t.id.clone(),
                    name: t.name,
                });
                ch.event(EventKind::TeamAssigned { from, to: t.id });
            }
            None => {
                if let Some(from) = from {
                    ch.after.team = None;
                    ch.event(EventKind::TeamUnassigned { from, reason: None });
                }
            }
            Some(_) => {}
        }
        Ok(())
    })
}

fn hand_to_agent(
    conv: &Conversation,
    agent: Lookup<AiAgent>,
    send_initial_message: bool,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    require(ctx, Capability::ChatEdit)?;
    let agent = match agent {
        Lookup::Found(a) | Lookup::AiAgent(a) => a,
        Lookup::Member(m) => return Err(DomainError::UnknownAgent(m.id)),
        Lookup::Unknown(id) => return Err(DomainError::UnknownAgent(id)),
    };
    single(conv, ctx, |ch| {
        ch.end_session("agent_replaced");
        let from = ch.after.agent.as_ref().map(|a| a.id.clone());
        let session = AgentSession {
            id: ch.ctx.ids.new_id(IdKind::AgentSession),
            active: true,
            started_at: ch.ctx.now,
        };
        ch.after.agent = Some(AgentAssignment {
            id: agent.id.clone(),
            name: agent.name.clone(),
            session: Some(session.clone()),
        });
        ch.after.human_handoff = false;
        ch.cancel_timer();
        if ch.settings().ai.end_session_on_human_assignment {
            ch.unassign(Some("handed_to_ai"));
        }
        ch.event(EventKind::AgentAssigned {
            from,
            to: agent.id.clone(),
            session_id: session.id.clone(),
            send_initial_message,
        });
        if send_initial_message {
            ch.events.push(DomainEvent::AiReplyRequested {
                workspace_id: ch.after.workspace_id.clone(),
                conversation_id: ch.after.id.clone(),
                agent_id: agent.id,
                session_id: session.id,
                trigger: ReplyTrigger::InitialMessage,
                message_id: None,
            });
        }
        Ok(())
    })
}

fn handoff(
    conv: &Conversation,
    reason: Option<String>,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    require(ctx, Capability::RequestHandoff)?;
    let c = caller(ctx)?;
    if c.role == Role::AiAgent && !holds_active_session(conv, &c.id) {
        return Err(DomainError::AiPaused);
    }
    let reason = reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    if reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > MAX_BODY_CHARS)
    {
        return Err(DomainError::BadRequest("reason is too long".into()));
    }
    if conv.human_handoff && !conv.has_active_session() {
        // Already waiting for a person: asking again changes nothing.
        return Ok(Outcome::unchanged(conv));
    }
    single(conv, ctx, |ch| {
        ch.after.human_handoff = true;
        ch.end_session("handoff");
        ch.event(EventKind::HandoffRequested { reason });
        Ok(())
    })
}

fn holds_active_session(conv: &Conversation, agent_id: &str) -> bool {
    conv.agent.as_ref().is_some_and(|a| a.id == agent_id) && conv.has_active_session()
}

fn clean(s: Option<String>) -> Option<String> {
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
    let mut generated = false;
    if cfg.auto_generate {
        if category.is_none() {
            category = notes.categorize(recent_messages, &cfg.categories);
            generated |= category.is_some();
        }
        if summary.is_none() {
            summary = notes.summarize(recent_messages);
            generated |= summary.is_some();
        }
    }
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
            generated,
        }),
    )
}

fn set_status(
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
        return Err(DomainError::BadRequest(
            "closing_note is accepted only when closing".into(),
        ));
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

fn post_message(
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
                return Err(DomainError::BadRequest("sender is for integrations".into()));
            }
            human_reply(conv, body, on_closed, &c, ctx)
        }
    }
}

fn outbound(ch: &mut Change<'_, '_, '_>, msg: &Message) {
    ch.events.push(DomainEvent::OutboundMessage {
        workspace_id: ch.after.workspace_id.clone(),
        conversation_id: ch.after.id.clone(),
        channel_id: ch.after.channel_id.clone(),
        message: msg.clone(),
    });
}

fn human_reply(
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
    if conv.contact.blocked {
        return Err(DomainError::ContactBlocked);
    }
    let sender = Sender {
        kind: SenderKind::Member,
        id: Some(me.id.clone()),
        name: Some(name.to_string()),
    };
    let apply = |ch: &mut Change<'_, '_, '_>| -> Message {
        let pending_human = ch.after.human_handoff;
        if ch.after.assignee.is_none() && pending_human {
            ch.assign(member_ref(me), Some("replied"));
            // An auto-assignment is an assignment: it stops the AI like any other.
            if ch.settings().ai.end_session_on_human_assignment {
                ch.end_session("human_assigned");
            }
        }
        if ch.settings().ai.stop_on_human_reply && ch.after.has_active_session() {
            ch.end_session("human_replied");
            if ch.after.assignee.is_none() {
                ch.assign(member_ref(me), Some("replied"));
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
                conv.channel_id.clone(),
                ctx,
            );
            let mut ch = Change {
                before: None,
                after: fresh,
                timeline: Vec::new(),
                messages: Vec::new(),
                events: Vec::new(),
                ctx,
            };
            let created = EventKind::ConversationCreated {
                channel_id: ch.after.channel_id.clone(),
                contact_id: ch.after.contact.id.clone(),
            };
            ch.event(created);
            let msg = apply(&mut ch);
            Ok(one_write(ch, msg))
        }
    }
}

fn one_write(ch: Change<'_, '_, '_>, msg: Message) -> Outcome {
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

fn ai_reply(
    conv: &Conversation,
    body: &str,
    me: &Caller,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    let body = validate_body(body)?;
    if !holds_active_session(conv, &me.id) || conv.is_closed() {
        return Err(DomainError::AiPaused);
    }
    if conv.contact.blocked {
        return Err(DomainError::ContactBlocked);
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

fn integration_message(
    conv: &Conversation,
    body: &str,
    kind: SenderKind,
    me: &Caller,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    let body = validate_body(body)?;
    if conv.contact.blocked {
        return Err(DomainError::ContactBlocked);
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

/// A fresh conversation (not yet written): status `open`, version 0.
pub fn new_conversation(
    workspace_id: &str,
    contact: ContactSnapshot,
    channel_id: Option<String>,
    ctx: &mut Ctx<'_>,
) -> Conversation {
    Conversation {
        workspace_id: workspace_id.to_string(),
        id: ctx.ids.new_id(IdKind::Conversation),
        channel_id,
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
        version: 0,
    }
}

/// `POST /conversations`: a new open conversation for `contact`.
pub fn create_conversation(
    workspace_id: &str,
    contact: &Contact,
    channel_id: Option<String>,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    require(ctx, Capability::CreateContactsAndConversations)?;
    let fresh = new_conversation(workspace_id, contact.snapshot(), channel_id, ctx);
    let mut ch = Change {
        before: None,
        after: fresh,
        timeline: Vec::new(),
        messages: Vec::new(),
        events: Vec::new(),
        ctx,
    };
    let created = EventKind::ConversationCreated {
        channel_id: ch.after.channel_id.clone(),
        contact_id: contact.id.clone(),
    };
    ch.event(created);
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

fn apply_contact_message(
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
            reason: Some("contact_message".into()),
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

fn contact_message(
    conv: &Conversation,
    body: &str,
    channel_message_id: Option<String>,
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
            conv.channel_id.clone(),
            body,
            channel_message_id,
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

fn contact_message_in_new(
    workspace_id: &str,
    contact: ContactSnapshot,
    channel_id: Option<String>,
    body: &str,
    channel_message_id: Option<String>,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    let fresh = new_conversation(workspace_id, contact, channel_id, ctx);
    let mut ch = Change {
        before: None,
        after: fresh,
        timeline: Vec::new(),
        messages: Vec::new(),
        events: Vec::new(),
        ctx,
    };
    let created = EventKind::ConversationCreated {
        channel_id: ch.after.channel_id.clone(),
        contact_id: ch.after.contact.id.clone(),
    };
    ch.event(created);
    let msg = apply_contact_message(&mut ch, body, channel_message_id);
    Ok(one_write(ch, msg))
}

/// A contact's inbound message: applied to its latest conversation on the
/// channel, or to a new one when there is none.
pub fn receive_contact_message(
    latest: Option<&Conversation>,
    workspace_id: &str,
    contact: &Contact,
    channel_id: Option<String>,
    body: &str,
    channel_message_id: Option<String>,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    match latest {
        Some(conv) => decide(
            conv,
            Command::ContactMessage {
                body: body.to_string(),
                channel_message_id,
            },
            ctx,
        ),
        None => {
            let body = validate_body(body)?;
            contact_message_in_new(
                workspace_id,
                contact.snapshot(),
                channel_id,
                body,
                channel_message_id,
                ctx,
            )
        }
    }
}

fn snooze(
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

/// Checks one label.
pub fn validate_label(label: &str) -> Result<String, DomainError> {
    let l = label.trim();
    if l.is_empty() || l.chars().count() > MAX_LABEL_CHARS || l.chars().any(char::is_control) {
        return Err(DomainError::Validation {
            message: format!("labels must be 1 to {MAX_LABEL_CHARS} printable characters"),
            errors: vec![crate::error::FieldError::new(
                "labels",
                format!("invalid label {label:?}"),
            )],
        });
    }
    Ok(l.to_string())
}

fn labels(
    conv: &Conversation,
    add: Vec<String>,
    remove: Vec<String>,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    require(ctx, Capability::ChatEdit)?;
    let add = add
        .iter()
        .map(|l| validate_label(l))
        .collect::<Result<Vec<_>, _>>()?;
    let remove = remove
        .iter()
        .map(|l| validate_label(l))
        .collect::<Result<Vec<_>, _>>()?;
    let before: std::collections::BTreeSet<String> = conv.labels.iter().cloned().collect();
    let mut set = before.clone();
    for l in &remove {
        set.remove(l);
    }
    // A label both added and removed ends up present (add wins); the event
    // reports only the net difference, so such a request may change nothing.
    set.extend(add);
    let added: Vec<String> = set.difference(&before).cloned().collect();
    let removed: Vec<String> = before.difference(&set).cloned().collect();
    if set.len() > MAX_LABELS {
        return Err(DomainError::Validation {
            message: format!("a conversation carries at most {MAX_LABELS} labels"),
            errors: vec![crate::error::FieldError::new("add", "too many labels")],
        });
    }
    single(conv, ctx, |ch| {
        if !added.is_empty() || !removed.is_empty() {
            ch.after.labels = set.into_iter().collect();
            ch.event(EventKind::LabelsChanged { added, removed });
        }
        Ok(())
    })
}

/// The firing decision: closes only if the same generation is still armed, due,
/// and the conversation is not closed; with auto-close off, or on a blocked
/// contact's conversation, a due timer is cleared instead.
fn fire_auto_close(
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
        })
    } else {
        None
    };
    single(conv, ctx, |ch| {
        ch.close(ClosingSource::AutoClose, note);
        Ok(())
    })
}

/// A change to a member's own flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagChange {
    /// Mark read now.
    Read,
    /// Mark unread.
    Unread,
    /// Favorite.
    Favorite,
    /// Remove the favorite.
    Unfavorite,
}

/// A member's flags after `change` (flags never bump the conversation's version).
pub fn change_flags(
    conv: &Conversation,
    caller: &Caller,
    change: FlagChange,
    now: Timestamp,
) -> Result<MemberFlags, DomainError> {
    authorize(caller.role, Capability::ChatEdit)?;
    let mut f = conv
        .member_flags
        .get(&caller.id)
        .cloned()
        .unwrap_or_default();
    match change {
        FlagChange::Read => {
            f.read_at = Some(now);
            f.marked_unread = false;
        }
        FlagChange::Unread => f.marked_unread = true,
        FlagChange::Favorite => f.favorite = true,
        FlagChange::Unfavorite => f.favorite = false,
    }
    Ok(f)
}
