//! The model: directory, contacts, conversations, messages, timeline, outgoing events.
//!
//! A conversation is one stored item; its messages and timeline events are
//! separate records beside it (same partition in DynamoDB).

use crate::agents::AgentKind;
pub use crate::delivery::{Delivery, DeliveryChange, DeliveryError, DeliveryStatus};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A person in the workspace directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Caller-chosen id (the token's `sub`).
    pub id: String,
    /// Display name; empty means the member may read but not reply.
    pub name: String,
    /// Email, if known.
    pub email: Option<String>,
    /// Role: viewer, agent, admin or owner.
    pub role: crate::access::Role,
}

impl Member {
    /// First letters of the first and last words of the name, upper-case.
    pub fn initials(&self) -> String {
        initials(&self.name)
    }
}

/// "Bob Ray" → "BR"; "Ann" → "A"; "" → "".
pub fn initials(name: &str) -> String {
    let words: Vec<&str> = name.split_whitespace().collect();
    let first = |w: &&str| w.chars().next().into_iter().flat_map(char::to_uppercase);
    match words.as_slice() {
        [] => String::new(),
        [only] => first(only).collect(),
        [a, .., b] => first(a).chain(first(b)).collect(),
    }
}

/// A team of members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    /// Caller-chosen id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Members of the team.
    pub member_ids: Vec<String>,
}

/// Why a member was assigned automatically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignReason {
    /// They replied to an unassigned conversation that was waiting for a human.
    Replied,
}

/// Why the assignee was cleared by the product rather than by a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnassignReason {
    /// The member was removed from the workspace.
    MemberRemoved,
    /// The conversation was handed to an AI agent.
    HandedToAi,
}

/// Why the team was cleared by the product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TeamUnassignReason {
    /// The team was deleted.
    TeamRemoved,
}

/// Why an AI session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionEndReason {
    /// A member was assigned (or took over).
    HumanAssigned,
    /// A member replied.
    HumanReplied,
    /// A human was requested.
    Handoff,
    /// The AI agent was removed from the conversation.
    AgentUnassigned,
    /// A member ended the session.
    EndedByMember,
    /// Another AI agent was assigned.
    AgentReplaced,
    /// The AI agent was deleted from the workspace.
    AgentRemoved,
    /// The agent gave no usable answer after its tries: people take over.
    AiUnavailable,
}

/// Why a snooze was cleared by the product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnsnoozeReason {
    /// The contact wrote.
    ContactMessage,
}

/// What a directory id names: ids are shared by members and AI agents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectoryEntry {
    /// A member.
    Member(Member),
    /// An AI agent.
    Agent(AiAgent),
}

/// An AI agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AiAgent {
    /// Caller-chosen id (the `sub` of its tokens).
    pub id: String,
    /// Display name.
    pub name: String,
    /// How it answers, with its settings (secrets included: never returned).
    #[serde(default)]
    pub answers: AgentKind,
}

impl AiAgent {
    /// An `external` agent: it answers through the API itself.
    pub fn external(id: impl Into<String>, name: impl Into<String>) -> Self {
        AiAgent {
            id: id.into(),
            name: name.into(),
            answers: AgentKind::External,
        }
    }
}

/// The kinds of messaging channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// Twilio SMS / WhatsApp via Twilio.
    Twilio,
    /// WhatsApp Cloud API.
    Whatsapp,
    /// Telegram bot.
    Telegram,
    /// Our generic signed webhook.
    Generic,
}

impl ChannelKind {
    /// The wire value, also the kind's segment in webhook paths.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Twilio => "twilio",
            ChannelKind::Whatsapp => "whatsapp",
            ChannelKind::Telegram => "telegram",
            ChannelKind::Generic => "generic",
        }
    }
}

/// Where a channel's provider calls the inbox (messages and status
/// callbacks): `/webhooks/{kind}/{workspace_id}/{channel_id}`, under the
/// public base URL.
pub fn webhook_path(kind: ChannelKind, workspace_id: &str, channel_id: &str) -> String {
    format!("/webhooks/{}/{workspace_id}/{channel_id}", kind.as_str())
}

/// A messaging channel of the workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    /// Caller-chosen id.
    pub id: String,
    /// Provider kind.
    pub kind: ChannelKind,
    /// Display name.
    pub name: String,
    /// The signing secret (never returned by the API).
    pub secret: String,
    /// WhatsApp's verify token for the subscription handshake.
    pub verify_token: Option<String>,
    /// How the inbox sends replies on it; `None`: it only receives.
    #[serde(default)]
    pub sending: Option<Sending>,
    /// The provider API's base URL; `None`: the provider's public API.
    #[serde(default)]
    pub api_base_url: Option<String>,
    /// The AI agent a conversation that a contact starts here starts with.
    #[serde(default)]
    pub default_agent_id: Option<String>,
}

/// A channel's sending credentials, one shape per provider (never returned by the API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "via", rename_all = "snake_case")]
pub enum Sending {
    /// Twilio Messages API; the channel's `secret` is the auth token.
    Twilio {
        /// `AC…`: the account, and the Basic auth user.
        account_sid: String,
        /// Where messages are sent from.
        sender: TwilioSender,
    },
    /// WhatsApp Cloud API; the channel's `secret` is the app secret.
    Whatsapp {
        /// The business phone number's id (the path of `/messages`).
        phone_number_id: String,
        /// The Bearer token.
        access_token: String,
    },
    /// Telegram Bot API.
    Telegram {
        /// `<bot id>:<secret>`, part of the method URL.
        bot_token: String,
    },
    /// A signed POST of the `message.outbound` event.
    Generic {
        /// Where the event is POSTed.
        outbound_url: String,
    },
}

/// Twilio's two ways to name the sender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TwilioSender {
    /// A phone number (`+1555…`, `whatsapp:+1555…`) or alphanumeric sender id: form field `From`.
    From(String),
    /// `MG…`: form field `MessagingServiceSid`.
    MessagingService(String),
}

/// The channel a conversation runs on: its id, and its kind where known
/// (conversations stored before the kind was kept have only the id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRef {
    /// The channel's id.
    pub id: String,
    /// Its provider kind.
    pub kind: Option<ChannelKind>,
    /// The contact's address on it (the sender id their messages came
    /// from: a phone number, a `wa_id`, a Telegram chat id), where known.
    pub address: Option<String>,
}

impl ChannelRef {
    /// A channel of a known kind.
    pub fn new(id: impl Into<String>, kind: ChannelKind) -> Self {
        ChannelRef {
            id: id.into(),
            kind: Some(kind),
            address: None,
        }
    }

    /// This channel, with the contact's address on it.
    pub fn with_address(mut self, address: impl Into<String>) -> Self {
        self.address = Some(address.into());
        self
    }
}

impl From<&Channel> for ChannelRef {
    fn from(channel: &Channel) -> Self {
        ChannelRef {
            id: channel.id.clone(),
            kind: Some(channel.kind),
            address: None,
        }
    }
}

/// What a directory lookup for an id found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup<T> {
    /// Found the wanted kind.
    Found(T),
    /// The id belongs to an AI agent (where a member was wanted).
    AiAgent(AiAgent),
    /// The id belongs to a member (where an AI agent was wanted).
    Member(Member),
    /// Nothing has this id.
    Unknown(String),
}

/// A contact (end customer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// `ct_…`
    pub id: String,
    /// Name, if known.
    pub name: Option<String>,
    /// Email, if known.
    pub email: Option<String>,
    /// Phone, if known.
    pub phone: Option<String>,
    /// Blocked contacts' messages are stored and change nothing else.
    pub blocked: bool,
    /// When the contact was created.
    pub created_at: Timestamp,
}

impl Contact {
    /// True once an email or phone is known.
    pub fn has_lead(&self) -> bool {
        self.email.as_deref().is_some_and(|s| !s.trim().is_empty())
            || self.phone.as_deref().is_some_and(|s| !s.trim().is_empty())
    }

    /// The snapshot a conversation carries.
    pub fn snapshot(&self) -> ContactSnapshot {
        ContactSnapshot {
            id: self.id.clone(),
            name: self.name.clone(),
            blocked: self.blocked,
            has_lead: self.has_lead(),
        }
    }
}

/// An internal note on a contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactNote {
    /// `note_…`
    pub id: String,
    /// The contact it is about.
    pub contact_id: String,
    /// The note text.
    pub body: String,
    /// Who wrote it.
    pub author: ActorRef,
    /// When.
    pub created_at: Timestamp,
}

/// The contact as a conversation shows it (kept in step by contact commands).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactSnapshot {
    /// `ct_…`
    pub id: String,
    /// Name, if known.
    pub name: Option<String>,
    /// Whether the contact is blocked.
    pub blocked: bool,
    /// Whether an email or phone is known.
    pub has_lead: bool,
}

/// A conversation's status dimension (independent of assignment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// No open/closed decision yet (the status menu's "Unassigned").
    Unset,
    /// Open.
    Open,
    /// Closed.
    Closed,
}

impl Status {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Unset => "unset",
            Status::Open => "open",
            Status::Closed => "closed",
        }
    }
}

/// An id with a display name (assignee, team).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedRef {
    /// The id.
    pub id: String,
    /// Its display name when it was set.
    pub name: String,
}

/// The AI agent on a conversation and its latest session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentAssignment {
    /// The agent's id.
    pub id: String,
    /// The agent's name.
    pub name: String,
    /// The latest session, active or ended.
    pub session: Option<AgentSession>,
}

/// An AI agent session: while active, the AI may reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentSession {
    /// `as_…`
    pub id: String,
    /// Whether the AI may reply now.
    pub active: bool,
    /// When it started.
    pub started_at: Timestamp,
}

/// Kinds of responder, for `last_responder` and the `agent_type` filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponderKind {
    /// A member.
    Human,
    /// An AI agent.
    Ai,
}

/// Who last answered the contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Responder {
    /// Human or AI.
    pub kind: ResponderKind,
    /// Member or agent id.
    pub id: String,
}

/// How a conversation came to be closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClosingSource {
    /// Closed by a member.
    Manual,
    /// Closed by the auto-close timer.
    AutoClose,
}

/// A closing record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closing {
    /// When it closed.
    pub at: Timestamp,
    /// Manual or auto-close.
    pub source: ClosingSource,
    /// Who closed it.
    pub by: ActorRef,
    /// The closing note, if any.
    pub note: Option<ClosingNote>,
}

/// A closing note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosingNote {
    /// One of the workspace's categories.
    pub category: Option<String>,
    /// A summary.
    pub summary: Option<String>,
    /// Whether any part was generated.
    pub generated: bool,
    /// Who wrote what was generated (`builtin` when the model failed and the
    /// built-in summarizer stood in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator: Option<crate::notes::Generator>,
}

/// A member's own flags on a conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberFlags {
    /// When the member last marked it read.
    #[serde(default)]
    pub read_at: Option<Timestamp>,
    /// Whether the member marked it unread.
    #[serde(default)]
    pub marked_unread: bool,
    /// Whether the member favorited it.
    #[serde(default)]
    pub favorite: bool,
}

/// The armed auto-close timer, as stored on the conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoCloseTimer {
    /// When it comes due.
    pub due_at: Timestamp,
    /// The quiet period it was armed with (snooze shifts reuse it).
    pub after_seconds: u64,
}

/// A conversation: the one stored item that commands change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    /// Owning workspace.
    pub workspace_id: String,
    /// `conv_…`
    pub id: String,
    /// The channel it runs on, if any.
    pub channel_id: Option<String>,
    /// That channel's kind, kept with it (rules such as WhatsApp's reply window depend on it).
    #[serde(default)]
    pub channel_kind: Option<ChannelKind>,
    /// The contact.
    pub contact: ContactSnapshot,
    /// unset / open / closed.
    pub status: Status,
    /// The one human assignee.
    pub assignee: Option<NamedRef>,
    /// The team.
    pub team: Option<NamedRef>,
    /// The AI agent and its session.
    pub agent: Option<AgentAssignment>,
    /// Waiting for a person.
    pub human_handoff: bool,
    /// Who last answered.
    pub last_responder: Option<Responder>,
    /// The armed auto-close timer.
    pub auto_close: Option<AutoCloseTimer>,
    /// Bumped whenever the timer is armed, moved or cleared: a fire names the generation it saw.
    pub timer_generation: u64,
    /// Snoozed until.
    pub snoozed_until: Option<Timestamp>,
    /// Labels, sorted and unique.
    pub labels: Vec<String>,
    /// The closing record while closed.
    pub closing: Option<Closing>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When anything last happened on it (list order).
    pub last_activity_at: Timestamp,
    /// When the contact last wrote (drives `unread`).
    pub last_contact_message_at: Option<Timestamp>,
    /// Who sent the latest message.
    pub last_message_sender: Option<SenderKind>,
    /// Per-member flags (`unread`, `favorite`), keyed by member id.
    #[serde(default)]
    pub member_flags: BTreeMap<String, MemberFlags>,
    /// The contact's address on the channel, where replies are sent (learnt
    /// from their messages on it); without one, a phone channel uses the
    /// contact's phone. Always stored, empty as null: a stored item is
    /// updated attribute by attribute, and a skipped one would keep its old value.
    #[serde(default)]
    pub contact_address: Option<String>,
    /// Outgoing messages whose delivery failed and that may be retried,
    /// oldest first (at most `delivery::MAX_FAILED_KEPT`).
    #[serde(default)]
    pub failed_deliveries: Vec<FailedDelivery>,
    /// Grows by one per effective change.
    pub version: u64,
}

/// A failed outgoing message, and where it is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedDelivery {
    /// The message.
    pub message_id: String,
    /// Where it is stored.
    pub at: MessageAt,
}

impl Conversation {
    /// The channel it runs on, if any.
    pub fn channel(&self) -> Option<ChannelRef> {
        self.channel_id.as_ref().map(|id| ChannelRef {
            id: id.clone(),
            kind: self.channel_kind,
            address: self.contact_address.clone(),
        })
    }

    /// Whether an AI session is active.
    pub fn has_active_session(&self) -> bool {
        self.active_session().is_some()
    }

    /// The active session, if any.
    pub fn active_session(&self) -> Option<&AgentSession> {
        self.agent
            .as_ref()
            .and_then(|a| a.session.as_ref())
            .filter(|s| s.active)
    }

    /// The assignee's id.
    pub fn assignee_id(&self) -> Option<&str> {
        self.assignee.as_ref().map(|a| a.id.as_str())
    }

    /// When the auto-close timer is due, if armed.
    pub fn auto_close_at(&self) -> Option<Timestamp> {
        self.auto_close.as_ref().map(|t| t.due_at)
    }

    /// Whether the conversation is closed.
    pub fn is_closed(&self) -> bool {
        self.status == Status::Closed
    }

    /// `unread` for one member: a contact message arrived after their last read, or they marked it unread.
    pub fn is_unread_for(&self, member_id: &str) -> bool {
        let flags = self.member_flags.get(member_id);
        if flags.is_some_and(|f| f.marked_unread) {
            return true;
        }
        match (self.last_contact_message_at, flags.and_then(|f| f.read_at)) {
            (Some(contact_at), Some(read_at)) => contact_at > read_at,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }

    /// `favorite` for one member.
    pub fn is_favorite_for(&self, member_id: &str) -> bool {
        self.member_flags.get(member_id).is_some_and(|f| f.favorite)
    }
}

/// Who sent a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SenderKind {
    /// The contact, through a channel.
    Contact,
    /// A member (human reply).
    Member,
    /// An AI agent.
    AiAgent,
    /// An integration's broadcast.
    Broadcast,
    /// An integration's workflow.
    Workflow,
}

/// The sender of a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sender {
    /// What kind of sender.
    pub kind: SenderKind,
    /// Contact, member, agent or integration id.
    pub id: Option<String>,
    /// Display name when known.
    pub name: Option<String>,
}

/// A message in a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// `msg_…`
    pub id: String,
    /// The conversation it belongs to.
    pub conversation_id: String,
    /// Who sent it.
    pub sender: Sender,
    /// The text.
    pub body: String,
    /// When it was accepted.
    pub created_at: Timestamp,
    /// The provider's message id (inbound deliveries and sent outbound messages).
    #[serde(default)]
    pub channel_message_id: Option<String>,
    /// Where it is on its way to the contact: outgoing messages on a channel only.
    #[serde(default)]
    pub delivery: Option<Delivery>,
}

/// Where a message is stored: the conversation version whose write added
/// it, and its place among that write's messages (both stores key messages
/// so, in commit order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MessageAt {
    /// The conversation's version after the write.
    pub version: u64,
    /// The message's index in the write.
    pub position: u32,
}

/// Kinds of actor on the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// A member.
    Member,
    /// An AI agent.
    AiAgent,
    /// The contact.
    Contact,
    /// An integration.
    Integration,
    /// The system.
    System,
}

/// An actor as recorded on the timeline and closings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActorRef {
    /// Kind.
    pub kind: ActorKind,
    /// Id; null for the system.
    pub id: Option<String>,
}

impl ActorRef {
    /// The system actor.
    pub fn system() -> Self {
        ActorRef {
            kind: ActorKind::System,
            id: None,
        }
    }
}

/// A timeline event (`GET /conversations/{id}/timeline` items).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEvent {
    /// `evt_…`
    pub id: String,
    /// The conversation.
    #[serde(skip_serializing, default)]
    pub conversation_id: String,
    /// Type and data.
    #[serde(flatten)]
    pub kind: EventKind,
    /// When.
    pub at: Timestamp,
    /// Who caused it.
    pub actor: ActorRef,
}

/// Why a status changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusSource {
    /// The status menu.
    Manual,
    /// The auto-close timer.
    AutoClose,
    /// A member replied to a closed conversation with `on_closed: reopen`.
    ReplyReopen,
    /// The contact wrote to a closed conversation.
    ContactMessage,
}

/// The typed timeline: each variant is one `type` with its `data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum EventKind {
    /// The conversation was created.
    ConversationCreated {
        /// Its channel.
        channel_id: Option<String>,
        /// Its contact.
        contact_id: String,
    },
    /// A member was assigned.
    Assigned {
        /// Previous assignee.
        from: Option<String>,
        /// New assignee.
        to: String,
        /// Why, for automatic assignments.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<AssignReason>,
    },
    /// The assignee was cleared.
    Unassigned {
        /// Previous assignee.
        from: String,
        /// Why, absent for a manual unassign.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<UnassignReason>,
    },
    /// A member took the conversation over.
    TakenOver {
        /// Previous assignee.
        from: String,
        /// The caller.
        to: String,
    },
    /// A team was set.
    TeamAssigned {
        /// Previous team.
        from: Option<String>,
        /// New team.
        to: String,
    },
    /// The team was cleared.
    TeamUnassigned {
        /// Previous team.
        from: String,
        /// Why, absent when manual.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<TeamUnassignReason>,
    },
    /// The conversation was handed to an AI agent.
    AgentAssigned {
        /// Previous agent.
        from: Option<String>,
        /// The agent.
        to: String,
        /// The new session.
        session_id: String,
        /// Whether the AI was asked to write first.
        send_initial_message: bool,
    },
    /// The AI agent was removed.
    AgentUnassigned {
        /// The agent removed.
        from: String,
    },
    /// An AI session ended.
    AgentSessionEnded {
        /// The agent.
        agent_id: String,
        /// The session.
        session_id: String,
        /// Why it ended.
        reason: SessionEndReason,
    },
    /// A human was requested.
    HandoffRequested {
        /// The requester's free-text reason.
        reason: Option<String>,
    },
    /// The status changed.
    StatusChanged {
        /// Old status.
        from: Status,
        /// New status.
        to: Status,
        /// Why.
        source: StatusSource,
    },
    /// A closing note was recorded.
    ClosingNoteAdded {
        /// Category.
        category: Option<String>,
        /// Summary.
        summary: Option<String>,
        /// Whether generated.
        generated: bool,
        /// Who wrote what was generated.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        generator: Option<crate::notes::Generator>,
    },
    /// Snoozed.
    Snoozed {
        /// Until when.
        until: Timestamp,
    },
    /// Unsnoozed.
    Unsnoozed {
        /// Why, absent when manual.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<UnsnoozeReason>,
    },
    /// Labels changed.
    LabelsChanged {
        /// Labels added.
        added: Vec<String>,
        /// Labels removed.
        removed: Vec<String>,
    },
    /// An internal note was added.
    NoteAdded {
        /// `note_…`
        note_id: String,
        /// The note text.
        body: String,
    },
    /// Moved to another channel.
    ChannelTransferred {
        /// Old channel.
        from: Option<String>,
        /// New channel.
        to: String,
    },
    /// The contact was blocked.
    ContactBlocked {
        /// The contact.
        contact_id: String,
    },
    /// An outgoing message will not reach the contact.
    DeliveryFailed {
        /// The message.
        message_id: String,
        /// The provider's error code, or ours (`channel_not_configured`).
        code: String,
    },
    /// The contact was unblocked.
    ContactUnblocked {
        /// The contact.
        contact_id: String,
    },
}

impl EventKind {
    /// Every wire `type`, in declaration order (a test keeps it in step with [`EventKind::type_name`]).
    pub const TYPE_NAMES: [&'static str; 20] = [
        "conversation_created",
        "assigned",
        "unassigned",
        "taken_over",
        "team_assigned",
        "team_unassigned",
        "agent_assigned",
        "agent_unassigned",
        "agent_session_ended",
        "handoff_requested",
        "status_changed",
        "closing_note_added",
        "snoozed",
        "unsnoozed",
        "labels_changed",
        "note_added",
        "channel_transferred",
        "contact_blocked",
        "delivery_failed",
        "contact_unblocked",
    ];

    /// The wire `type`.
    pub fn type_name(&self) -> &'static str {
        match self {
            EventKind::ConversationCreated { .. } => "conversation_created",
            EventKind::Assigned { .. } => "assigned",
            EventKind::Unassigned { .. } => "unassigned",
            EventKind::TakenOver { .. } => "taken_over",
            EventKind::TeamAssigned { .. } => "team_assigned",
            EventKind::TeamUnassigned { .. } => "team_unassigned",
            EventKind::AgentAssigned { .. } => "agent_assigned",
            EventKind::AgentUnassigned { .. } => "agent_unassigned",
            EventKind::AgentSessionEnded { .. } => "agent_session_ended",
            EventKind::HandoffRequested { .. } => "handoff_requested",
            EventKind::StatusChanged { .. } => "status_changed",
            EventKind::ClosingNoteAdded { .. } => "closing_note_added",
            EventKind::Snoozed { .. } => "snoozed",
            EventKind::Unsnoozed { .. } => "unsnoozed",
            EventKind::LabelsChanged { .. } => "labels_changed",
            EventKind::NoteAdded { .. } => "note_added",
            EventKind::ChannelTransferred { .. } => "channel_transferred",
            EventKind::ContactBlocked { .. } => "contact_blocked",
            EventKind::ContactUnblocked { .. } => "contact_unblocked",
            EventKind::DeliveryFailed { .. } => "delivery_failed",
        }
    }
}

/// Why the AI is asked to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyTrigger {
    /// Handed over with `send_initial_message`.
    InitialMessage,
    /// The contact wrote while a session is active.
    ContactMessage,
}

/// Events for the outside world (EventBridge), written in the same atomic
/// write as the change. (Integrations hear of timeline events and messages
/// through outgoing webhooks, from the store's change feed.)
// A commit makes one or two; boxing the message would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "detail_type", content = "detail")]
pub enum DomainEvent {
    /// An AI agent should write a reply.
    #[serde(rename = "ai.reply_requested")]
    AiReplyRequested {
        /// Workspace.
        workspace_id: String,
        /// Conversation.
        conversation_id: String,
        /// Agent.
        agent_id: String,
        /// Session.
        session_id: String,
        /// Why.
        trigger: ReplyTrigger,
        /// The contact message that triggered it.
        message_id: Option<String>,
    },
    /// A message to deliver to the contact through its channel.
    #[serde(rename = "message.outbound")]
    OutboundMessage {
        /// Workspace.
        workspace_id: String,
        /// Conversation.
        conversation_id: String,
        /// Channel to deliver on.
        channel_id: Option<String>,
        /// The contact.
        #[serde(default)]
        contact_id: String,
        /// The contact's address on the channel, where known.
        #[serde(default)]
        to: Option<String>,
        /// The message.
        message: Message,
        /// Where the message is stored (set when its write is sealed); the
        /// sender reads and claims it there.
        #[serde(default)]
        at: Option<MessageAt>,
    },
}

impl DomainEvent {
    /// The EventBridge detail-type.
    pub fn detail_type(&self) -> &'static str {
        match self {
            DomainEvent::AiReplyRequested { .. } => "ai.reply_requested",
            DomainEvent::OutboundMessage { .. } => "message.outbound",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn type_names_list_every_timeline_type() {
        // serde's error for an unknown variant lists every variant, in order.
        let err = serde_json::from_value::<EventKind>(json!({"type": "?", "data": {}}))
            .unwrap_err()
            .to_string();
        let listed: Vec<&str> = err
            .split("expected one of ")
            .nth(1)
            .unwrap()
            .split(", ")
            .map(|v| v.trim_matches(|c: char| c == '`' || !c.is_ascii()))
            .map(|v| v.split('`').next().unwrap())
            .collect();
        assert_eq!(listed, EventKind::TYPE_NAMES.to_vec(), "{err}");
    }

    #[test]
    fn initials_from_first_and_last_words() {
        assert_eq!(initials("Bob Ray"), "BR");
        assert_eq!(initials("ann marie de luca"), "AL");
        assert_eq!(initials("Ann"), "A");
        assert_eq!(initials("  "), "");
    }

    #[test]
    fn timeline_event_wire_shape() {
        let e = TimelineEvent {
            id: "evt_1".into(),
            conversation_id: "conv_1".into(),
            kind: EventKind::Assigned {
                from: None,
                to: "bob".into(),
                reason: None,
            },
            at: Timestamp::from_millis(0),
            actor: ActorRef {
                kind: ActorKind::Member,
                id: Some("carol".into()),
            },
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(
            v,
            json!({"id": "evt_1", "type": "assigned", "data": {"from": null, "to": "bob"},
                   "at": "1970-01-01T00:00:00.000Z", "actor": {"kind": "member", "id": "carol"}})
        );
        let back: TimelineEvent = serde_json::from_value(v).unwrap();
        assert_eq!(back.kind, e.kind);
        assert_eq!(e.kind.type_name(), "assigned");
    }

    #[test]
    fn has_lead_needs_email_or_phone() {
        let mut c = Contact {
            id: "ct_1".into(),
            name: None,
            email: None,
            phone: None,
            blocked: false,
            created_at: Timestamp::default(),
        };
        assert!(!c.has_lead());
        c.phone = Some("+1555".into());
        assert!(c.has_lead());
    }
}
