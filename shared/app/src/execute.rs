//! [`App::execute`]: the one read-decide-commit loop.

use crate::RECENT_MESSAGES;
use crate::app::App;
use crate::error::AppError;
use crate::precondition::IfMatch;
use inbox_domain::ids::SequentialIds;
use inbox_domain::model::{DirectoryEntry, Member};
use inbox_domain::{
    Actor, Caller, Command, Conversation, Ctx, Outcome, Role, decide, directory, routing,
};
use inbox_store::{
    CommandContext, Commit, ContactStore, ConversationStore, DedupeKey, LookupKey, StoreError,
};

/// How many of a contact's newest conversations are searched for the one
/// their message continues (contacts are keyed per channel and sender, so
/// more than this on other channels is remote).
pub const CONTACT_CONVERSATIONS_SEARCHED: usize = 100;

/// A verified token's subject, role and `name` claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The token's subject: a member, AI agent or integration id.
    pub sub: String,
    /// The token's role.
    pub role: Role,
    /// The token's `name` claim.
    pub name: Option<String>,
}

impl Token {
    /// The caller with the directory's name applied (see `directory::caller_from_directory`).
    pub fn caller(&self, entry: Option<&DirectoryEntry>) -> Caller {
        directory::caller_from_directory(&self.sub, self.role, self.name.as_deref(), entry)
    }

    /// The member to add to the directory with this write, if any.
    pub fn provision(&self, entry: Option<&DirectoryEntry>) -> Option<Member> {
        directory::provision(&self.caller(entry), entry)
    }
}

/// Who acts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A verified token (member, AI agent, integration); a member-role token
    /// not yet in the directory is added with its first write.
    Token(Token),
    /// A contact, writing through a channel.
    Contact(String),
    /// The product itself (timers, workers).
    System,
}

/// Which conversation a command reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// None: the command creates one.
    New,
    /// This one; when it is not in the workspace the command is `NotFound`.
    Conversation(String),
    /// The one a contact's message on a channel continues (the domain's
    /// routing rule picks it among the contact's conversations), if any.
    ContactOnChannel {
        /// The contact.
        contact_id: String,
        /// The channel the message came in on.
        channel_id: String,
    },
}

/// What a command reads and who runs it.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The workspace.
    pub workspace_id: String,
    /// Who acts.
    pub principal: Principal,
    /// The conversation to read.
    pub target: Target,
    /// The caller's precondition on the conversation's version.
    pub if_match: IfMatch,
    /// Members, agents, teams and channels read in the same request.
    pub lookups: Vec<LookupKey>,
    /// Stores an inbound delivery at most once, in the same write.
    pub dedupe: Option<DedupeKey>,
}

impl Plan {
    /// A plan with no precondition, lookups or dedupe key.
    pub fn new(workspace_id: impl Into<String>, principal: Principal, target: Target) -> Self {
        Plan {
            workspace_id: workspace_id.into(),
            principal,
            target,
            if_match: IfMatch::Absent,
            lookups: Vec::new(),
            dedupe: None,
        }
    }

    /// With a precondition.
    pub fn with_if_match(mut self, if_match: IfMatch) -> Self {
        self.if_match = if_match;
        self
    }

    /// With lookups.
    pub fn with_lookups(mut self, lookups: impl IntoIterator<Item = LookupKey>) -> Self {
        self.lookups.extend(lookups);
        self
    }

    /// With a dedupe key.
    pub fn with_dedupe(mut self, key: DedupeKey) -> Self {
        self.dedupe = Some(key);
        self
    }
}

/// What one attempt read.
pub struct Loaded<'a> {
    /// The conversation (if any), settings and lookups, from one read.
    pub context: &'a CommandContext,
    /// How many attempts lost a race before this one.
    pub attempt: u32,
}

impl Loaded<'_> {
    /// The conversation read, if any.
    pub fn conversation(&self) -> Option<&Conversation> {
        self.context.conversation.as_ref()
    }
}

/// What the plan decided on what was read.
// One is built per attempt and consumed at once: boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Decision {
    /// Decide this command on the conversation read (its latest messages are
    /// read first when the command generates a note from them).
    Command(Command),
    /// Already decided through a domain function (creating a conversation,
    /// a contact's message).
    Decided(Outcome),
}

/// A command carried out.
#[derive(Debug, Clone)]
pub struct Executed {
    /// The decision: the conversation to answer with, the message posted.
    pub outcome: Outcome,
    /// Who acted, as decided with (the directory's name applied).
    pub actor: Actor,
    /// Whether anything was written (a command that changes nothing writes nothing).
    pub written: bool,
}

impl Executed {
    /// The caller, when a token acted.
    pub fn caller(&self) -> Option<&Caller> {
        match &self.actor {
            Actor::Caller(c) => Some(c),
            _ => None,
        }
    }
}

impl<S: ConversationStore + ContactStore> App<S> {
    /// Runs one command: reads the target conversation, the settings and the
    /// lookups in one request; checks `If-Match`; lets `decide` choose what to
    /// do on what was read; decides in the domain (reading the latest messages
    /// only when the decision needs them); commits in one write, with any
    /// just-in-time provisioning and the dedupe key. A lost race re-reads and
    /// re-decides under the retry policy (a changed version then fails
    /// `If-Match`); `decide` is called again each time.
    pub async fn execute<F>(&self, plan: Plan, mut decide_on: F) -> Result<Executed, AppError>
    where
        F: FnMut(&Loaded<'_>, &mut Ctx<'_>) -> Result<Decision, AppError> + Send,
    {
        let ws = plan.workspace_id.as_str();
        let mut lookups = plan.lookups.clone();
        if let Principal::Token(t) = &plan.principal {
            lookups.push(LookupKey::Person(t.sub.clone()));
        }
        // A conversation an earlier attempt created, to read directly: the
        // contact's conversation index may not show it yet.
        let mut created_before: Option<String> = None;
        let policy = *self.retry();
        for attempt in 0..policy.max_attempts {
            policy.pause(attempt).await;
            let context = self
                .read_target(ws, &plan.target, created_before.take(), &lookups)
                .await?;
            if let Some(conv) = &context.conversation {
                if !plan.if_match.matches(conv.version) {
                    return Err(AppError::PreconditionFailed);
                }
            } else if matches!(plan.target, Target::Conversation(_)) {
                return Err(AppError::NotFound("conversation"));
            }
            let (actor, provision) = match &plan.principal {
                Principal::Token(t) => {
                    let entry = context.people.get(&t.sub);
                    (Actor::Caller(t.caller(entry)), t.provision(entry))
                }
                Principal::Contact(id) => (Actor::Contact { id: id.clone() }, None),
                Principal::System => (Actor::System, None),
            };
            let loaded = Loaded {
                context: &context,
                attempt,
            };
            let outcome = match self.decide_once(&loaded, &actor, &mut decide_on)? {
                Decided::Done(outcome) => outcome,
                Decided::NeedsReads(cmd) => {
                    self.decide_with_reads(ws, cmd, &context, &actor).await?
                }
            };
            let mut commit = Commit::new(ws).with_writes(outcome.writes.iter().cloned());
            commit.dedupe = plan.dedupe.clone();
            commit.provision = provision;
            if commit.is_empty() {
                return Ok(Executed {
                    outcome,
                    actor,
                    written: false,
                });
            }
            match self.commit(commit).await {
                Ok(()) => {
                    return Ok(Executed {
                        outcome,
                        actor,
                        written: true,
                    });
                }
                Err(StoreError::Conflict) => {
                    created_before = outcome
                        .writes
                        .iter()
                        .find(|w| w.expected_version.is_none())
                        .map(|w| w.conversation.id.clone());
                    tracing::debug!(
                        workspace_id = ws,
                        attempt,
                        "version conflict; deciding again"
                    );
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Contended(policy.max_attempts))
    }

    /// Reads the target conversation with the settings and lookups.
    async fn read_target(
        &self,
        ws: &str,
        target: &Target,
        created_before: Option<String>,
        lookups: &[LookupKey],
    ) -> Result<CommandContext, AppError> {
        let store = self.store();
        Ok(match target {
            Target::New => store.load_context(ws, None, lookups).await?,
            Target::Conversation(id) => store.load_context(ws, Some(id), lookups).await?,
            Target::ContactOnChannel {
                contact_id,
                channel_id,
            } => {
                if let Some(id) = created_before {
                    let found = store.load_context(ws, Some(&id), lookups).await?;
                    if found
                        .conversation
                        .as_ref()
                        .is_some_and(|c| routing::is_on_channel_of(c, contact_id, channel_id))
                    {
                        return Ok(found);
                    }
                }
                let theirs = store
                    .conversations_of_contact(
                        ws,
                        contact_id,
                        &inbox_store::PageRequest::first(CONTACT_CONVERSATIONS_SEARCHED),
                    )
                    .await?
                    .items;
                let joins = routing::conversation_for_contact_message(&theirs, channel_id);
                store
                    .load_context(ws, joins.map(|c| c.id.as_str()), lookups)
                    .await?
            }
        })
    }

    /// Asks the plan what to do and decides it, unless the command needs the
    /// latest messages first. A command that would change nothing (the
    /// common duplicate timer message) is found out before those are read
    /// (scratch ids: nothing of this trial decision is kept).
    fn decide_once<F>(
        &self,
        loaded: &Loaded<'_>,
        actor: &Actor,
        decide_on: &mut F,
    ) -> Result<Decided, AppError>
    where
        F: FnMut(&Loaded<'_>, &mut Ctx<'_>) -> Result<Decision, AppError> + Send,
    {
        let context = loaded.context;
        let mut ids = self.new_ids();
        let mut ctx = self.ctx(actor, &context.settings, ids.as_mut());
        let cmd = match decide_on(loaded, &mut ctx)? {
            Decision::Decided(outcome) => return Ok(Decided::Done(outcome)),
            Decision::Command(cmd) => cmd,
        };
        let conv = context
            .conversation
            .as_ref()
            .ok_or(AppError::NotFound("conversation"))?;
        if !cmd.wants_recent_messages(&context.settings) && !cmd.depends_on_contact_state() {
            return Ok(Decided::Done(decide(conv, cmd, &mut ctx)?));
        }
        // A refusal here may be for want of the messages (a required note
        // they would generate) or of the contact's own state: only the
        // decision with them is authoritative.
        let mut scratch = SequentialIds::default();
        ctx.ids = &mut scratch;
        match decide(conv, cmd.clone(), &mut ctx) {
            Ok(trial) if trial.is_noop() => Ok(Decided::Done(trial)),
            _ => Ok(Decided::NeedsReads(cmd)),
        }
    }

    /// Decides `cmd` after the reads it needs: the contact, when a rule of
    /// the command looks at whether they are blocked (a snapshot the contact
    /// changed since is refreshed first, in the same write, with its timeline
    /// event), and the latest messages, when it generates a note from them.
    async fn decide_with_reads(
        &self,
        ws: &str,
        cmd: Command,
        context: &CommandContext,
        actor: &Actor,
    ) -> Result<Outcome, AppError> {
        let store = self.store();
        let read = context
            .conversation
            .as_ref()
            .ok_or(AppError::NotFound("conversation"))?;
        let mut refresh = None;
        if cmd.depends_on_contact_state()
            && let Some(contact) = store.get_contact(ws, &read.contact.id).await?
            && contact.blocked != read.contact.blocked
        {
            let changed = Command::ContactChanged { contact };
            refresh = Some(self.decide_command(read, changed, context, actor)?);
        }
        let conv = refresh.as_ref().map_or(read, |r| &r.conversation);
        let (cmd, notes) = if cmd.wants_recent_messages(&context.settings) {
            let recent = store.latest_messages(ws, &conv.id, RECENT_MESSAGES).await?;
            // The workspace's summarizer writes the note (a model is asked
            // here, before the decision, never inside it).
            let notes = self.note_writer(ws, &context.settings, &recent).await;
            (cmd.with_recent_messages(recent), notes)
        } else {
            (cmd, self.shared_notes())
        };
        let mut ids = self.new_ids();
        let mut ctx = self.ctx(actor, &context.settings, ids.as_mut());
        ctx.notes = notes.as_ref();
        let outcome = decide(conv, cmd, &mut ctx)?;
        Ok(match &refresh {
            Some(earlier) => outcome.after(earlier),
            None => outcome,
        })
    }

    /// Decides `cmd` on `conv` now, as `actor`.
    pub(crate) fn decide_command(
        &self,
        conv: &Conversation,
        cmd: Command,
        context: &CommandContext,
        actor: &Actor,
    ) -> Result<Outcome, AppError> {
        let mut ids = self.new_ids();
        let mut ctx = self.ctx(actor, &context.settings, ids.as_mut());
        Ok(decide(conv, cmd, &mut ctx)?)
    }
}

#[allow(clippy::large_enum_variant)]
enum Decided {
    Done(Outcome),
    /// The command needs the contact or the latest messages read first.
    NeedsReads(Command),
}
