//! Shared fixtures for the domain's scenario tests: a fixed clock, people,
//! a conversation builder, settings presets and helpers to read outcomes.
#![allow(dead_code)]

use inbox_domain::commands::{Ctx, timer_due};
use inbox_domain::*;
use serde_json::Value;

/// The generator every test uses for closing notes.
pub static NOTES: ExtractiveNotes = ExtractiveNotes;

/// The fixed "now" of every scenario: 2026-11-21T10:00:00.000Z.
pub fn now() -> Timestamp {
    Timestamp::from_unix_seconds(1_795_255_200)
}

/// `now()` plus `secs` seconds.
pub fn at(secs: i64) -> Timestamp {
    now().plus_seconds(secs)
}

/// A decision context with a fixed `now`.
pub fn ctx<'a>(
    actor: &'a Actor,
    settings: &'a Settings,
    ids: &'a mut SequentialIds,
    now: Timestamp,
) -> Ctx<'a> {
    Ctx {
        now,
        actor,
        settings,
        ids,
        notes: &NOTES,
    }
}

// ---- people -------------------------------------------------------------

/// Bob, an agent-role member.
pub fn bob() -> Caller {
    Caller::new("bob", Role::Agent, Some("Bob Ray"))
}
/// Carol, an agent-role member.
pub fn carol() -> Caller {
    Caller::new("carol", Role::Agent, Some("Carol Diaz"))
}
/// An admin.
pub fn alice_admin() -> Caller {
    Caller::new("alice", Role::Admin, Some("Alice Admin"))
}
/// A read-only member.
pub fn vic_viewer() -> Caller {
    Caller::new("vic", Role::Viewer, Some("Vic Viewer"))
}
/// A member who has not set a name.
pub fn nameless() -> Caller {
    Caller::new("nemo", Role::Agent, None)
}
/// Max, an AI agent.
pub fn max_ai() -> Caller {
    Caller::new("max", Role::AiAgent, Some("Max"))
}
/// Another AI agent.
pub fn eve_ai() -> Caller {
    Caller::new("eve", Role::AiAgent, Some("Eve"))
}
/// An integration.
pub fn zap() -> Caller {
    Caller::new("zap", Role::Integration, Some("Zap"))
}

/// The actor for a caller.
pub fn who(c: &Caller) -> Actor {
    Actor::Caller(c.clone())
}
/// The contact as an actor.
pub fn ann_actor() -> Actor {
    Actor::Contact { id: ANN.into() }
}

/// The contact's id.
pub const ANN: &str = "ct_ann";

/// Ann, the contact.
pub fn ann() -> Contact {
    Contact {
        id: ANN.into(),
        name: Some("Ann".into()),
        email: Some("ann@example.com".into()),
        phone: None,
        blocked: false,
        created_at: at(-3600),
    }
}

/// A directory member.
pub fn member(id: &str, name: &str) -> Member {
    Member {
        id: id.into(),
        name: name.into(),
        email: Some(format!("{id}@x.io")),
        role: Role::Agent,
    }
}
/// A team.
pub fn team(id: &str, name: &str) -> Team {
    Team {
        id: id.into(),
        name: name.into(),
        member_ids: vec!["bob".into()],
    }
}
/// An AI agent of the directory.
pub fn agent(id: &str, name: &str) -> AiAgent {
    AiAgent::external(id, name)
}
/// A channel.
pub fn channel(id: &str) -> Channel {
    Channel {
        id: id.into(),
        kind: ChannelKind::Generic,
        name: id.into(),
        secret: "s3cret".into(),
        verify_token: None,
        sending: None,
        api_base_url: None,
        default_agent_id: None,
    }
}

// ---- settings -----------------------------------------------------------

/// Settings presets, built from the contract's defaults.
#[derive(Clone)]
pub struct SettingsBuilder(Settings);

/// The defaults of the contract.
pub fn settings() -> SettingsBuilder {
    SettingsBuilder(Settings::default())
}

impl SettingsBuilder {
    /// Auto-close on, with this quiet period.
    pub fn auto_close(mut self, after_seconds: u64) -> Self {
        self.0.auto_close.enabled = true;
        self.0.auto_close.after_seconds = after_seconds;
        self
    }
    /// Closing-note mode and categories.
    pub fn closing(mut self, mode: settings::ClosingNoteMode, categories: &[&str]) -> Self {
        self.0.closing_notes.mode = mode;
        self.0.closing_notes.categories = categories.iter().map(|c| c.to_string()).collect();
        self
    }
    /// Generate missing closing-note parts.
    pub fn auto_generate(mut self) -> Self {
        self.0.closing_notes.auto_generate = true;
        self
    }
    /// The AI switches.
    pub fn ai(mut self, end_session_on_human_assignment: bool, stop_on_human_reply: bool) -> Self {
        self.0.ai.end_session_on_human_assignment = end_session_on_human_assignment;
        self.0.ai.stop_on_human_reply = stop_on_human_reply;
        self
    }
    /// Whether a contact message reopens a closed conversation.
    pub fn reopen_on_contact_message(mut self, on: bool) -> Self {
        self.0.reopen_on_contact_message = on;
        self
    }
    /// The settings.
    pub fn build(self) -> Settings {
        self.0
    }
}

// ---- conversations ------------------------------------------------------

/// Builds a stored conversation in a given state.
pub struct ConvBuilder(Conversation);

/// An open conversation with Ann on `sms-main`, version 1, created an hour ago.
pub fn conversation() -> ConvBuilder {
    ConvBuilder(Conversation {
        workspace_id: "acme".into(),
        id: "conv_1".into(),
        channel_id: Some("sms-main".into()),
        channel_kind: None,
        contact: ann().snapshot(),
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
        created_at: at(-3600),
        last_activity_at: at(-3600),
        last_contact_message_at: None,
        last_message_sender: None,
        member_flags: Default::default(),
        contact_address: None,
        failed_deliveries: Vec::new(),
        version: 1,
    })
}

impl ConvBuilder {
    /// Assigned to a member.
    pub fn assigned(mut self, id: &str, name: &str) -> Self {
        self.0.assignee = Some(NamedRef {
            id: id.into(),
            name: name.into(),
        });
        self
    }
    /// With a team.
    pub fn team(mut self, id: &str, name: &str) -> Self {
        self.0.team = Some(NamedRef {
            id: id.into(),
            name: name.into(),
        });
        self
    }
    /// With an AI agent whose session `as_1` is active or ended.
    pub fn agent(mut self, id: &str, name: &str, active: bool) -> Self {
        self.0.agent = Some(AgentAssignment {
            id: id.into(),
            name: name.into(),
            session: Some(AgentSession {
                id: "as_1".into(),
                active,
                started_at: at(-600),
            }),
        });
        self
    }
    /// Waiting for a person.
    pub fn handoff(mut self) -> Self {
        self.0.human_handoff = true;
        self
    }
    /// With a status (closing it records a manual closing by bob).
    pub fn status(mut self, status: Status) -> Self {
        self.0.status = status;
        self.0.closing = (status == Status::Closed).then(|| Closing {
            at: at(-60),
            source: ClosingSource::Manual,
            by: ActorRef {
                kind: ActorKind::Member,
                id: Some("bob".into()),
            },
            note: None,
        });
        self
    }
    /// Closed (manually, a minute ago).
    pub fn closed(self) -> Self {
        self.status(Status::Closed)
    }
    /// The contact is blocked.
    pub fn blocked(mut self) -> Self {
        self.0.contact.blocked = true;
        self
    }
    /// An armed timer of generation `generation`, due at `due`.
    pub fn timer(mut self, due: Timestamp, after_seconds: u64, generation: u64) -> Self {
        self.0.auto_close = Some(AutoCloseTimer {
            due_at: due,
            after_seconds,
        });
        self.0.timer_generation = generation;
        self
    }
    /// Snoozed until `until`.
    pub fn snoozed(mut self, until: Timestamp) -> Self {
        self.0.snoozed_until = Some(until);
        self
    }
    /// With labels.
    pub fn labels(mut self, labels: &[&str]) -> Self {
        self.0.labels = labels.iter().map(|l| l.to_string()).collect();
        self
    }
    /// On another channel (or none).
    pub fn channel(mut self, id: Option<&str>) -> Self {
        self.0.channel_id = id.map(str::to_string);
        self
    }
    /// On a channel of `kind` (kept with the conversation).
    pub fn channel_kind(mut self, kind: ChannelKind) -> Self {
        self.0.channel_kind = Some(kind);
        self
    }
    /// The last message came from the contact at `when`.
    pub fn contact_wrote(mut self, when: Timestamp) -> Self {
        self.0.last_contact_message_at = Some(when);
        self.0.last_message_sender = Some(SenderKind::Contact);
        self
    }
    /// At a version.
    pub fn version(mut self, v: u64) -> Self {
        self.0.version = v;
        self
    }
    /// The conversation.
    pub fn build(self) -> Conversation {
        self.0
    }
}

// ---- running commands ---------------------------------------------------

/// A workspace's settings, an id source and a clock, for deciding commands in sequence.
pub struct Desk {
    /// The workspace's settings.
    pub settings: Settings,
    /// Ids.
    pub ids: SequentialIds,
    /// The clock.
    pub now: Timestamp,
}

impl Desk {
    /// A desk at `now()` with these settings.
    pub fn new(settings: Settings) -> Self {
        Desk {
            settings,
            ids: SequentialIds::default(),
            now: now(),
        }
    }

    /// Decides `cmd` on `conv` as `actor`.
    pub fn decide(
        &mut self,
        conv: &Conversation,
        actor: &Actor,
        cmd: Command,
    ) -> Result<Outcome, DomainError> {
        let mut c = ctx(actor, &self.settings, &mut self.ids, self.now);
        decide(conv, cmd, &mut c)
    }

    /// Decides and, on success, returns the state to carry on with (the
    /// conversation the outcome answers with).
    pub fn apply(&mut self, conv: &Conversation, actor: &Actor, cmd: Command) -> Conversation {
        match self.decide(conv, actor, cmd) {
            Ok(o) => o.conversation,
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }

    /// Moves the clock.
    pub fn advance(&mut self, secs: i64) {
        self.now = self.now.plus_seconds(secs);
    }
}

/// Decides one command at `now()` with `settings`.
pub fn run(
    conv: &Conversation,
    actor: &Actor,
    settings: &Settings,
    cmd: Command,
) -> Result<Outcome, DomainError> {
    let mut ids = SequentialIds::default();
    let mut c = ctx(actor, settings, &mut ids, now());
    decide(conv, cmd, &mut c)
}

/// Decides one command with the default settings, expecting success.
pub fn ok(conv: &Conversation, actor: &Actor, cmd: Command) -> Outcome {
    ok_with(conv, actor, &Settings::default(), cmd)
}

/// Decides one command, expecting success.
pub fn ok_with(conv: &Conversation, actor: &Actor, settings: &Settings, cmd: Command) -> Outcome {
    match run(conv, actor, settings, cmd) {
        Ok(o) => o,
        Err(e) => panic!("unexpected error {e:?}"),
    }
}

/// Decides one command with the default settings, expecting an error.
pub fn err(conv: &Conversation, actor: &Actor, cmd: Command) -> DomainError {
    err_with(conv, actor, &Settings::default(), cmd)
}

/// Decides one command, expecting an error.
pub fn err_with(
    conv: &Conversation,
    actor: &Actor,
    settings: &Settings,
    cmd: Command,
) -> DomainError {
    match run(conv, actor, settings, cmd) {
        Ok(o) => panic!("expected an error, got {o:?}"),
        Err(e) => e,
    }
}

/// The one write of an outcome.
pub fn the_write(o: &Outcome) -> &Write {
    assert_eq!(o.writes.len(), 1, "expected exactly one write: {o:?}");
    &o.writes[0]
}

/// The timeline types written, in order (all writes).
pub fn types(o: &Outcome) -> Vec<&'static str> {
    o.writes
        .iter()
        .flat_map(|w| w.timeline.iter().map(|e| e.kind.type_name()))
        .collect()
}

/// The wire `data` of the only event of type `ty`.
pub fn data(o: &Outcome, ty: &str) -> Value {
    let found: Vec<&TimelineEvent> = o
        .writes
        .iter()
        .flat_map(|w| w.timeline.iter())
        .filter(|e| e.kind.type_name() == ty)
        .collect();
    assert_eq!(found.len(), 1, "expected one {ty} in {:?}", types(o));
    let v = serde_json::to_value(found[0]).unwrap_or(Value::Null);
    v["data"].clone()
}

/// The outgoing events of all writes.
pub fn out_events(o: &Outcome) -> Vec<&DomainEvent> {
    o.writes.iter().flat_map(|w| w.events.iter()).collect()
}

/// The `ai.reply_requested` events, as JSON details.
pub fn reply_requests(o: &Outcome) -> Vec<Value> {
    out_events(o)
        .into_iter()
        .filter(|e| e.detail_type() == "ai.reply_requested")
        .map(|e| serde_json::to_value(e).unwrap_or(Value::Null)["detail"].clone())
        .collect()
}

/// Asserts a no-op: nothing to write, the state answered as it was.
pub fn assert_noop(o: &Outcome, before: &Conversation) {
    assert!(o.is_noop(), "expected a no-op, got {:?}", types(o));
    assert_eq!(&o.conversation, before);
    assert!(o.message.is_none());
}

/// Asserts one write guarded by the version read, advancing it by one.
pub fn assert_one_step(o: &Outcome, before: &Conversation) {
    let w = the_write(o);
    assert_eq!(w.expected_version, Some(before.version));
    assert_eq!(w.conversation.version, before.version + 1);
    assert_eq!(o.conversation, w.conversation);
}

/// Where a timer armed now would be due.
pub fn due(now: Timestamp, snoozed: Option<Timestamp>, after: u64) -> Timestamp {
    timer_due(now, snoozed, after)
}

// ---- commands -----------------------------------------------------------

/// Assign a directory member.
pub fn assign(m: Member) -> Command {
    Command::Assign {
        target: Lookup::Found(m),
    }
}
/// A member's reply.
pub fn reply(body: &str) -> Command {
    Command::PostMessage {
        body: body.into(),
        on_closed: None,
        sender: None,
    }
}
/// A member's reply to a closed conversation.
pub fn reply_on_closed(body: &str, on_closed: commands::OnClosed) -> Command {
    Command::PostMessage {
        body: body.into(),
        on_closed: Some(on_closed),
        sender: None,
    }
}
/// An integration's message.
pub fn integration_post(body: &str, sender: SenderKind) -> Command {
    Command::PostMessage {
        body: body.into(),
        on_closed: None,
        sender: Some(sender),
    }
}
/// The contact writes.
pub fn contact_says(body: &str) -> Command {
    Command::ContactMessage {
        body: body.into(),
        channel_message_id: Some("SM1".into()),
        first_agent: None,
    }
}
/// Hand to an AI agent.
pub fn hand_to(a: AiAgent, send_initial_message: bool) -> Command {
    Command::HandToAgent {
        agent: Lookup::Found(a),
        send_initial_message,
    }
}
/// The status menu without a note.
pub fn set_status(status: Status) -> Command {
    Command::SetStatus {
        status,
        closing_note: None,
        recent_messages: Vec::new(),
    }
}
/// Close with a note.
pub fn close_with(category: Option<&str>, summary: Option<&str>, recent: Vec<Message>) -> Command {
    Command::SetStatus {
        status: Status::Closed,
        closing_note: Some(ClosingNoteInput {
            category: category.map(str::to_string),
            summary: summary.map(str::to_string),
        }),
        recent_messages: recent,
    }
}
/// Close without a note but with the recent messages.
pub fn close_from(recent: Vec<Message>) -> Command {
    Command::SetStatus {
        status: Status::Closed,
        closing_note: None,
        recent_messages: recent,
    }
}
/// The sweep fires a timer.
pub fn fire(generation: u64) -> Command {
    Command::FireAutoClose {
        generation,
        recent_messages: Vec::new(),
    }
}
/// A message as the store would return it.
pub fn msg(kind: SenderKind, body: &str) -> Message {
    Message {
        id: "msg_x".into(),
        conversation_id: "conv_1".into(),
        sender: Sender {
            kind,
            id: None,
            name: None,
        },
        body: body.into(),
        created_at: at(-30),
        channel_message_id: None,
        delivery: None,
    }
}
/// A short billing conversation.
pub fn billing_talk() -> Vec<Message> {
    vec![
        msg(
            SenderKind::Contact,
            "My invoice shows a double charge on my card.",
        ),
        msg(
            SenderKind::Member,
            "Sorry about that. I have refunded the duplicate charge.",
        ),
    ]
}
