//! Commands on conversations: each is decided on the current state and gives
//! either a typed error (nothing is written) or the new state, its timeline
//! events, any message and any outgoing event, to be written atomically.

use crate::access::{Actor, Caller, Capability, Role, authorize};
use crate::agents::AgentAnswer;
use crate::delivery::DeliveryChange;
use crate::error::DomainError;
use crate::ids::{IdGen, IdKind};
use crate::model::*;
use crate::notes::NoteGenerator;
use crate::permissions::{holds_active_session, holds_session, reply_refusal, takeover_refusal};
use crate::settings::Settings;
use crate::time::Timestamp;

mod agent;
mod assignment;
mod change;
mod contact;
mod delivery;
mod labels;
mod messages;
mod status;

use agent::*;
use assignment::*;
use change::*;
use contact::*;
use delivery::*;
use labels::*;
use messages::*;
use status::*;

pub use agent::AI_UNAVAILABLE;
pub use contact::{
    create_conversation, create_conversation_on, new_conversation, receive_contact_message,
};
pub use labels::{FlagChange, change_flags, validate_label};
pub use status::{check_closing_note, timer_due};

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
        /// The channel's default AI agent: a conversation this message
        /// starts starts with its session.
        first_agent: Option<AiAgent>,
    },
    /// An AI agent's answer to a reply request made in `session_id`.
    AgentAnswer {
        /// The session the request was made in.
        session_id: String,
        /// The reply, or a request for a human.
        answer: AgentAnswer,
    },
    /// The AI agent of `session_id` could not answer: people take over.
    AiUnavailable {
        /// The session the request was made in.
        session_id: String,
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
    /// The sender gave up on an outgoing message: it is `failed`, on the
    /// timeline, and may be retried.
    DeliveryFailed {
        /// The message's delivery as the sender read it, and as it is now.
        change: DeliveryChange,
    },
    /// Queue a failed message again (a person's retry).
    RetryDelivery {
        /// The message as stored.
        message: Message,
        /// Where it is stored.
        at: MessageAt,
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

    /// Whether a rule of this command looks at whether the contact is
    /// blocked (a reply, a status change): it is then decided on the
    /// contact's own state, not on the conversation's snapshot of it, which a
    /// contact change may not have refreshed yet.
    pub fn depends_on_contact_state(&self) -> bool {
        matches!(
            self,
            Command::PostMessage { .. } | Command::SetStatus { .. }
        )
    }

    /// This command with the latest messages it generates a note from (other commands are unchanged).
    pub fn with_recent_messages(mut self, messages: Vec<Message>) -> Command {
        if let Command::SetStatus {
            recent_messages, ..
        }
        | Command::FireAutoClose {
            recent_messages, ..
        } = &mut self
        {
            *recent_messages = messages;
        }
        self
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
    /// A stored message's delivery state moved in the same write (only if
    /// it is still as the decision read it).
    pub delivery: Option<DeliveryChange>,
}

impl Write {
    /// Names, on each outgoing message's event, where the message is
    /// stored; run once the write's version and messages are final.
    pub(crate) fn seal(&mut self) {
        let version = self.conversation.version;
        for event in &mut self.events {
            // A message sent again (a retry) keeps the place it was stored at.
            if let DomainEvent::OutboundMessage { message, at, .. } = event
                && let Some(i) = self.messages.iter().position(|m| m.id == message.id)
            {
                *at = Some(MessageAt {
                    version,
                    position: i as u32,
                });
            }
        }
    }
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

    /// This decision, taken on the conversation as `earlier` left it, folded
    /// into the same commit: `earlier`'s write of a conversation this one
    /// writes again becomes one write from the version `earlier` read, its
    /// items first; its other writes are kept as they are. A no-op stays a
    /// no-op (nothing is written).
    pub fn after(mut self, earlier: &Outcome) -> Outcome {
        if self.is_noop() {
            return self;
        }
        let mut kept = Vec::new();
        for first in &earlier.writes {
            match self
                .writes
                .iter_mut()
                .find(|w| w.conversation.id == first.conversation.id)
            {
                Some(last) => {
                    last.expected_version = first.expected_version;
                    last.timeline.splice(0..0, first.timeline.iter().cloned());
                    last.messages.splice(0..0, first.messages.iter().cloned());
                    last.events.splice(0..0, first.events.iter().cloned());
                    last.seal();
                }
                None => kept.push(first.clone()),
            }
        }
        self.writes.splice(0..0, kept);
        self
    }

    pub(super) fn unchanged(conv: &Conversation) -> Outcome {
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

pub(super) fn caller<'a>(ctx: &'a Ctx<'_>) -> Result<&'a Caller, DomainError> {
    match ctx.actor {
        Actor::Caller(c) => Ok(c),
        _ => Err(DomainError::Forbidden),
    }
}

pub(super) fn require(ctx: &Ctx<'_>, cap: Capability) -> Result<(), DomainError> {
    match ctx.actor {
        Actor::Caller(c) => authorize(c.role, cap),
        // Contacts and the system act only through their own commands.
        _ => Ok(()),
    }
}

pub(super) fn member_ref(c: &Caller) -> NamedRef {
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

/// Decides `cmd` on `conv`: each command is one rule, in the module named for it.
pub fn decide(
    conv: &Conversation,
    cmd: Command,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    match cmd {
        Command::Assign { target } => assign(conv, target, ctx),
        Command::Takeover => takeover(conv, ctx),
        Command::Unassign => unassign(conv, ctx),
        Command::SetTeam { team } => set_team(conv, team, ctx),
        Command::HandToAgent {
            agent,
            send_initial_message,
        } => hand_to_agent(conv, agent, send_initial_message, ctx),
        Command::UnassignAgent => unassign_agent(conv, ctx),
        Command::EndAgentSession => end_agent_session(conv, ctx),
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
            first_agent,
        } => contact_message(conv, &body, channel_message_id, first_agent.as_ref(), ctx),
        Command::AgentAnswer { session_id, answer } => agent_answer(conv, &session_id, answer, ctx),
        Command::AiUnavailable { session_id } => ai_unavailable(conv, &session_id, ctx),
        Command::AddNote { body } => add_note(conv, &body, ctx),
        Command::Snooze { until } => snooze(conv, until, ctx),
        Command::Unsnooze => unsnooze(conv, ctx),
        Command::Labels { add, remove } => labels(conv, add, remove, ctx),
        Command::TransferChannel { channel } => transfer_channel(conv, channel, ctx),
        Command::FireAutoClose {
            generation,
            recent_messages,
        } => fire_auto_close(conv, generation, &recent_messages, ctx),
        Command::MemberRemoved { member_id } => member_removed(conv, &member_id, ctx),
        Command::AgentRemoved { agent_id } => agent_removed(conv, agent_id, ctx),
        Command::TeamRemoved { team_id } => team_removed(conv, &team_id, ctx),
        Command::ContactChanged { contact } => contact_changed(conv, contact, ctx),
        Command::DeliveryFailed { change } => delivery_failed(conv, change, ctx),
        Command::RetryDelivery { message, at } => retry_delivery(conv, message, at, ctx),
    }
}
