//! The store port: what the handlers need from storage, adapter-independent.
//!
//! Contract every adapter keeps:
//! - `commit` is one atomic write: every `Write` (state guarded by its
//!   `expected_version`, or created only if absent), its timeline events,
//!   messages and outgoing events, the optional dedupe key and the optional
//!   provisioned member — all or nothing. A failed guard is `StoreError::Conflict`;
//!   an existing dedupe key is `StoreError::Duplicate`. Nothing is partially written.
//! - Timeline events and messages list in commit order: by the version of the
//!   write that added them, then their position in it.
//! - Every read is scoped to one workspace; another workspace's data never appears.
//! - Lists page with opaque cursors: stable, no duplicates, no gaps, in the
//!   order the domain defines (`inbox_domain::views::list_order`).

use async_trait::async_trait;
use inbox_domain::live::LiveConnection;
use inbox_domain::model::{
    AiAgent, Channel, Contact, ContactNote, Conversation, Delivery, DeliveryError, DeliveryStatus,
    DomainEvent, Member, MemberFlags, Message, MessageAt, Team, TimelineEvent,
};
use inbox_domain::reports::{Day, DayCounters, GroupBy, ReportFacts};
use inbox_domain::webhooks::{StoredChange, WebhookDelivery, WebhookEndpoint};
use inbox_domain::{ApiKey, Job, ListQuery, Settings, Timestamp, Write};
use std::collections::{BTreeMap, HashMap};

/// A provider's report on a message the inbox sent (a status callback).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    /// The provider's id of the message.
    pub provider_message_id: String,
    /// What the provider says happened.
    pub status: DeliveryStatus,
    /// Its error, when it failed.
    pub error: Option<DeliveryError>,
    /// When the report arrived.
    pub at: Timestamp,
}

/// One sender step on an outgoing message's delivery: from the state it
/// read to the next, guarded by the first (see `Delivery::claim` and
/// `Delivery::answered`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryWrite {
    /// The message (checked against what is stored at the place named).
    pub message_id: String,
    /// The state the step was decided on; the write happens only if it is still so.
    pub expected: Delivery,
    /// The state after the step.
    pub next: Delivery,
    /// Once the provider accepted it: its id for the message, stored as the
    /// message's `channel_message_id` so that status reports find it.
    pub sent_as: Option<SentAs>,
}

/// The provider's id for a message it accepted, on the channel it was sent on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentAs {
    /// The channel the message was sent on (status reports come on it).
    pub channel_id: String,
    /// The provider's message id.
    pub provider_message_id: String,
}

/// What a delivery report did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportOutcome {
    /// The message's delivery moved to the reported status.
    Moved,
    /// The message is there but the report does not move it (late, repeated, after `failed`).
    NotMoved,
    /// No outgoing message with that provider id on the channel.
    NoMessage,
}

/// Storage failures. A conflict is never a 500.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A version guard failed (or a create found the item): re-read and re-decide.
    #[error("the conversation changed since it was read")]
    Conflict,
    /// The dedupe key was seen before: the delivery was already stored.
    #[error("this delivery was already stored")]
    Duplicate,
    /// A message's delivery state is no longer what the write was decided
    /// on (another sender, or a duplicate, moved it): nothing was written.
    #[error("the message's delivery changed since it was read")]
    DeliveryMoved,
    /// The cursor is not one this store made (or is for another query).
    #[error("invalid cursor")]
    InvalidCursor,
    /// The write exceeds a backend limit (items per transaction, item or transaction size).
    #[error("write too large: {0}")]
    TooLarge(String),
    /// The backend failed or is unreachable.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Stored data could not be read back.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// The commit names data outside its own workspace (a caller's bug): nothing is written.
    #[error("invalid commit: {0}")]
    InvalidCommit(String),
}

/// A page request: `limit` 1..=200, and the cursor of the previous page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// Items wanted.
    pub limit: usize,
    /// Where to continue.
    pub cursor: Option<String>,
}

impl PageRequest {
    /// The first page of `limit` items.
    pub fn first(limit: usize) -> Self {
        PageRequest {
            limit,
            cursor: None,
        }
    }
}

/// A page of items.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// The cursor of the next page, or `None` at the end.
    pub next_cursor: Option<String>,
}

/// A `(channel, provider message id)` key: a delivery is stored at most once.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DedupeKey {
    /// Workspace.
    pub workspace_id: String,
    /// Channel.
    pub channel_id: String,
    /// The provider's message id.
    pub message_id: String,
    /// When the key may expire (TTL).
    pub expires_at: Timestamp,
}

/// The most items one commit may write: DynamoDB's limit for one
/// transaction. The embedded store has no such limit; work split by it
/// (`Commit::packed`) behaves the same on both.
pub const MAX_COMMIT_ITEMS: usize = 100;

/// Everything one command writes, atomically, in one workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct Commit {
    /// The workspace every write, the dedupe key and the provisioned member belong to.
    pub workspace_id: String,
    /// Conversation writes from the domain's decision.
    pub writes: Vec<Write>,
    /// Deduplicates an inbound delivery.
    pub dedupe: Option<DedupeKey>,
    /// A member provisioned just in time (created only if absent, else `Conflict`).
    pub provision: Option<Member>,
    /// A job's progress, counted in the same transaction as the conversations
    /// it changed: a step is never counted twice, nor its writes lost.
    pub job: Option<JobWrite>,
}

/// A job written with a commit.
#[derive(Debug, Clone, PartialEq)]
pub struct JobWrite {
    /// The job as it is after this commit.
    pub job: Job,
    /// The version it must still have (`None`: created, and absent until now).
    /// A mismatch is `StoreError::Conflict`.
    pub expected_version: Option<u64>,
}

impl Commit {
    /// An empty commit in `workspace_id`.
    pub fn new(workspace_id: impl Into<String>) -> Self {
        Commit {
            workspace_id: workspace_id.into(),
            writes: Vec::new(),
            dedupe: None,
            provision: None,
            job: None,
        }
    }

    /// This commit with `writes` added.
    pub fn with_writes(mut self, writes: impl IntoIterator<Item = Write>) -> Self {
        self.writes.extend(writes);
        self
    }

    /// How many stored items one write of a conversation takes: the
    /// conversation, and each of its timeline events, messages and outgoing
    /// events (a channel message's pointer rides on its message's count, as
    /// at most one per message).
    pub fn items_of(write: &Write) -> usize {
        1 + write.timeline.len() + 2 * write.messages.len() + write.events.len()
    }

    /// Splits `writes` into commits that each stay within
    /// [`MAX_COMMIT_ITEMS`], every one leaving room for `reserved_in_each`
    /// items of its own (a job's progress rides on each); never empty.
    pub fn packed(workspace_id: &str, writes: Vec<Write>, reserved_in_each: usize) -> Vec<Commit> {
        let mut commits = vec![Commit::new(workspace_id)];
        let mut used = reserved_in_each;
        for w in writes {
            let items = Commit::items_of(&w);
            let last_has_writes = commits.last().is_some_and(|c| !c.writes.is_empty());
            if used + items > MAX_COMMIT_ITEMS && last_has_writes {
                commits.push(Commit::new(workspace_id));
                used = reserved_in_each;
            }
            used += items;
            if let Some(c) = commits.last_mut() {
                c.writes.push(w);
            }
        }
        commits
    }

    /// Whether it writes nothing at all.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
            && self.dedupe.is_none()
            && self.provision.is_none()
            && self.job.is_none()
    }

    /// Checks that everything in it belongs to its workspace: both adapters
    /// refuse a commit that would write into another one.
    pub fn check_workspace(&self) -> Result<(), StoreError> {
        let ws = self.workspace_id.as_str();
        if ws.is_empty() {
            return Err(StoreError::InvalidCommit("no workspace".into()));
        }
        if let Some(w) = self
            .writes
            .iter()
            .find(|w| w.conversation.workspace_id != ws)
        {
            return Err(StoreError::InvalidCommit(format!(
                "conversation {} is not in workspace {ws}",
                w.conversation.id
            )));
        }
        if self.dedupe.as_ref().is_some_and(|d| d.workspace_id != ws) {
            return Err(StoreError::InvalidCommit(format!(
                "the dedupe key is not in workspace {ws}"
            )));
        }
        Ok(())
    }
}

pub use inbox_domain::model::DirectoryEntry;

/// Something to look up in the same read as the conversation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LookupKey {
    /// A member or AI agent id.
    Person(String),
    /// A team id.
    Team(String),
    /// A channel id.
    Channel(String),
}

/// The state a command decides on, read in one request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CommandContext {
    /// The conversation, if it exists in the workspace.
    pub conversation: Option<Conversation>,
    /// The workspace settings (defaults when never set).
    pub settings: Settings,
    /// Members and AI agents found, by id.
    pub people: HashMap<String, DirectoryEntry>,
    /// Teams found, by id.
    pub teams: HashMap<String, Team>,
    /// Channels found, by id.
    pub channels: HashMap<String, Channel>,
}

/// An armed auto-close timer that is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueTimer {
    /// Workspace.
    pub workspace_id: String,
    /// Conversation.
    pub conversation_id: String,
    /// When it came due.
    pub due_at: Timestamp,
    /// The timer generation armed.
    pub generation: u64,
}

/// Conversations: commands, views, messages, timeline, flags, timers.
#[async_trait]
pub trait ConversationStore: Send + Sync {
    /// One read: the conversation (if `conversation_id` is given), the settings and the lookups.
    async fn load_context(
        &self,
        workspace_id: &str,
        conversation_id: Option<&str>,
        lookups: &[LookupKey],
    ) -> Result<CommandContext, StoreError>;

    /// One atomic write (see the module docs).
    async fn commit(&self, commit: Commit) -> Result<(), StoreError>;

    /// One page of a view with filters, for `caller_id`, in list order.
    async fn list_conversations(
        &self,
        workspace_id: &str,
        query: &ListQuery,
        caller_id: &str,
        page: &PageRequest,
    ) -> Result<Page<Conversation>, StoreError>;

    /// One page of a contact's conversations, newest `created_at` first. The
    /// order's key never changes, so a cursor walks them all exactly once
    /// (conversations created meanwhile come before it).
    async fn conversations_of_contact(
        &self,
        workspace_id: &str,
        contact_id: &str,
        page: &PageRequest,
    ) -> Result<Page<Conversation>, StoreError>;

    /// Messages, oldest first.
    async fn list_messages(
        &self,
        workspace_id: &str,
        conversation_id: &str,
        page: &PageRequest,
    ) -> Result<Page<Message>, StoreError>;

    /// The latest `n` messages, returned oldest first.
    async fn latest_messages(
        &self,
        workspace_id: &str,
        conversation_id: &str,
        n: usize,
    ) -> Result<Vec<Message>, StoreError>;

    /// Timeline events, in commit order.
    async fn list_timeline(
        &self,
        workspace_id: &str,
        conversation_id: &str,
        page: &PageRequest,
    ) -> Result<Page<TimelineEvent>, StoreError>;

    /// Sets one member's flags on a conversation (no version bump).
    async fn set_member_flags(
        &self,
        workspace_id: &str,
        conversation_id: &str,
        member_id: &str,
        flags: &MemberFlags,
    ) -> Result<(), StoreError>;

    /// Armed timers due at or before `now`, across all workspaces, paged.
    async fn due_timers(
        &self,
        now: Timestamp,
        page: &PageRequest,
    ) -> Result<Page<DueTimer>, StoreError>;

    /// Applies a provider's report to the outgoing message sent on
    /// `channel_id` with the report's provider id, in a conversation currently
    /// on that channel (no version bump): only a move the domain allows
    /// (`DeliveryStatus::may_become`), decided and written atomically.
    async fn record_delivery_status(
        &self,
        workspace_id: &str,
        channel_id: &str,
        report: &DeliveryReport,
    ) -> Result<ReportOutcome, StoreError>;

    /// The message stored at `at` in the conversation, if any.
    async fn get_message(
        &self,
        workspace_id: &str,
        conversation_id: &str,
        at: MessageAt,
    ) -> Result<Option<Message>, StoreError>;

    /// Applies a sender step to the message at `at` (no version bump):
    /// `Ok(false)`, writing nothing, when the message is not there or its
    /// delivery is no longer `expected` (another worker or a duplicate got
    /// there first). With a provider id, a status report on the
    /// conversation's current channel finds the message afterwards.
    async fn put_delivery(
        &self,
        workspace_id: &str,
        conversation_id: &str,
        at: MessageAt,
        write: &DeliveryWrite,
    ) -> Result<bool, StoreError>;
}

/// API keys: kept by id across workspaces, so that a presented secret (which
/// names its key) is one read, and listed per workspace.
#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    /// Stores a new key (`Conflict` if the id exists).
    async fn create_api_key(&self, key: &ApiKey) -> Result<(), StoreError>;
    /// The key with this id, in whichever workspace (strongly consistent).
    async fn get_api_key(&self, id: &str) -> Result<Option<ApiKey>, StoreError>;
    /// The workspace's keys.
    async fn list_api_keys(&self, workspace_id: &str) -> Result<Vec<ApiKey>, StoreError>;
    /// Revokes the workspace's key `id`; `false` when it has none of that id.
    async fn delete_api_key(&self, workspace_id: &str, id: &str) -> Result<bool, StoreError>;
    /// Sets `last_used_at` to `at` unless it is already `at` or later (a key
    /// gone meanwhile is not brought back).
    async fn record_api_key_use(&self, id: &str, at: Timestamp) -> Result<(), StoreError>;
}

#[async_trait]
impl<T: ApiKeyStore + ?Sized> ApiKeyStore for &T {
    async fn create_api_key(&self, key: &ApiKey) -> Result<(), StoreError> {
        (**self).create_api_key(key).await
    }
    async fn get_api_key(&self, id: &str) -> Result<Option<ApiKey>, StoreError> {
        (**self).get_api_key(id).await
    }
    async fn list_api_keys(&self, workspace_id: &str) -> Result<Vec<ApiKey>, StoreError> {
        (**self).list_api_keys(workspace_id).await
    }
    async fn delete_api_key(&self, workspace_id: &str, id: &str) -> Result<bool, StoreError> {
        (**self).delete_api_key(workspace_id, id).await
    }
    async fn record_api_key_use(&self, id: &str, at: Timestamp) -> Result<(), StoreError> {
        (**self).record_api_key_use(id, at).await
    }
}

/// Names one delivery of one event to one endpoint: the delivery's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRef<'a> {
    /// The endpoint.
    pub endpoint_id: &'a str,
    /// The event (`webhook-id`).
    pub event_id: &'a str,
    /// When the event was committed: deliveries list newest first by it.
    pub created_at: Timestamp,
}

impl<'a> DeliveryRef<'a> {
    /// The key of `d`.
    pub fn of(d: &'a WebhookDelivery) -> DeliveryRef<'a> {
        DeliveryRef {
            endpoint_id: &d.endpoint_id,
            event_id: &d.event_id,
            created_at: d.created_at,
        }
    }
}

/// The open live connections of each workspace, as the AWS side keeps them
/// (API Gateway holds the sockets; the dev server keeps its own in process).
#[async_trait]
pub trait LiveConnectionStore: Send + Sync {
    /// Records an open connection (replacing one of the same id).
    async fn put_live_connection(&self, c: &LiveConnection) -> Result<(), StoreError>;
    /// Every recorded connection of the workspace (one `Query` a page).
    async fn live_connections(&self, workspace_id: &str)
    -> Result<Vec<LiveConnection>, StoreError>;
    /// Forgets a connection (gone, closed or expired); forgetting one that
    /// is not recorded does nothing.
    async fn forget_live_connection(
        &self,
        workspace_id: &str,
        connection_id: &str,
    ) -> Result<(), StoreError>;
}

/// Outgoing-webhook endpoints and the record of their deliveries.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Creates or replaces the endpoint `e.id` of `e.workspace_id`.
    async fn put_webhook_endpoint(&self, e: &WebhookEndpoint) -> Result<(), StoreError>;
    /// The workspace's endpoint `id`.
    async fn get_webhook_endpoint(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> Result<Option<WebhookEndpoint>, StoreError>;
    /// The workspace's endpoints, by id (one read).
    async fn list_webhook_endpoints(
        &self,
        workspace_id: &str,
    ) -> Result<Vec<WebhookEndpoint>, StoreError>;
    /// Deletes the endpoint; `false` when there was none. Its delivery
    /// records stay until they expire.
    async fn delete_webhook_endpoint(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> Result<bool, StoreError>;
    /// After an attempt: the endpoint's failing streak start, and, with
    /// `disable`, turned off as failing. An endpoint gone, or changed
    /// meanwhile by its admin (its `updated_at` is no longer `endpoint.updated_at`), is left alone.
    async fn record_webhook_health(
        &self,
        endpoint: &WebhookEndpoint,
        failing_since: Option<Timestamp>,
        disable: bool,
    ) -> Result<(), StoreError>;
    /// Stores a delivery not made before; `false` when one with its key exists
    /// (a republished event).
    async fn create_webhook_delivery(
        &self,
        workspace_id: &str,
        d: &WebhookDelivery,
    ) -> Result<bool, StoreError>;
    /// The delivery `at`.
    async fn get_webhook_delivery(
        &self,
        workspace_id: &str,
        at: &DeliveryRef<'_>,
    ) -> Result<Option<WebhookDelivery>, StoreError>;
    /// Replaces the delivery if the stored one still has `expected_attempts`
    /// attempts and is `retrying`; `false` otherwise (another worker got there
    /// first: a duplicate queue message does nothing).
    async fn save_webhook_delivery(
        &self,
        workspace_id: &str,
        d: &WebhookDelivery,
        expected_attempts: u32,
    ) -> Result<bool, StoreError>;
    /// The endpoint's latest `limit` deliveries, newest first (one read).
    async fn list_webhook_deliveries(
        &self,
        workspace_id: &str,
        endpoint_id: &str,
        limit: usize,
    ) -> Result<Vec<WebhookDelivery>, StoreError>;
}

#[async_trait]
impl<T: WebhookStore + ?Sized> WebhookStore for &T {
    async fn put_webhook_endpoint(&self, e: &WebhookEndpoint) -> Result<(), StoreError> {
        (**self).put_webhook_endpoint(e).await
    }
    async fn get_webhook_endpoint(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> Result<Option<WebhookEndpoint>, StoreError> {
        (**self).get_webhook_endpoint(workspace_id, id).await
    }
    async fn list_webhook_endpoints(
        &self,
        workspace_id: &str,
    ) -> Result<Vec<WebhookEndpoint>, StoreError> {
        (**self).list_webhook_endpoints(workspace_id).await
    }
    async fn delete_webhook_endpoint(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> Result<bool, StoreError> {
        (**self).delete_webhook_endpoint(workspace_id, id).await
    }
    async fn record_webhook_health(
        &self,
        endpoint: &WebhookEndpoint,
        failing_since: Option<Timestamp>,
        disable: bool,
    ) -> Result<(), StoreError> {
        (**self)
            .record_webhook_health(endpoint, failing_since, disable)
            .await
    }
    async fn create_webhook_delivery(
        &self,
        workspace_id: &str,
        d: &WebhookDelivery,
    ) -> Result<bool, StoreError> {
        (**self).create_webhook_delivery(workspace_id, d).await
    }
    async fn get_webhook_delivery(
        &self,
        workspace_id: &str,
        at: &DeliveryRef<'_>,
    ) -> Result<Option<WebhookDelivery>, StoreError> {
        (**self).get_webhook_delivery(workspace_id, at).await
    }
    async fn save_webhook_delivery(
        &self,
        workspace_id: &str,
        d: &WebhookDelivery,
        expected_attempts: u32,
    ) -> Result<bool, StoreError> {
        (**self)
            .save_webhook_delivery(workspace_id, d, expected_attempts)
            .await
    }
    async fn list_webhook_deliveries(
        &self,
        workspace_id: &str,
        endpoint_id: &str,
        limit: usize,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        (**self)
            .list_webhook_deliveries(workspace_id, endpoint_id, limit)
            .await
    }
}

/// Workspace settings and the directory.
#[async_trait]
pub trait DirectoryStore: Send + Sync {
    /// Settings (defaults when never set).
    async fn get_settings(&self, workspace_id: &str) -> Result<Settings, StoreError>;
    /// Replaces the settings.
    async fn put_settings(&self, workspace_id: &str, settings: &Settings)
    -> Result<(), StoreError>;

    /// A member or AI agent by id.
    async fn get_person(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> Result<Option<DirectoryEntry>, StoreError>;
    /// A job by id (written with `Commit::job`).
    async fn get_job(&self, workspace_id: &str, id: &str) -> Result<Option<Job>, StoreError>;
    /// Creates or replaces a member; `Conflict` if the id is an AI agent's.
    async fn put_member(&self, workspace_id: &str, member: &Member) -> Result<(), StoreError>;
    /// Creates a member only if the id names nobody yet (just-in-time
    /// provisioning outside a conversation write); `Conflict` if it does.
    /// The default reads then writes; adapters may make it one conditional write.
    async fn provision_member(
        &self,
        workspace_id: &str,
        member: &Member,
    ) -> Result<(), StoreError> {
        if self.get_person(workspace_id, &member.id).await?.is_some() {
            return Err(StoreError::Conflict);
        }
        self.put_member(workspace_id, member).await
    }
    /// Removes a member (no-op when absent).
    async fn delete_member(&self, workspace_id: &str, id: &str) -> Result<(), StoreError>;
    /// Replaces member `id` with `member` (`Some`) or removes it (`None`),
    /// atomically with a check that member `owner` is still an owner:
    /// `Conflict` when it is not (or when `id` is an AI agent's), and nothing
    /// is written. How an owner is demoted or removed without two such
    /// changes at once leaving the workspace with no owner.
    async fn change_member_while_owner(
        &self,
        workspace_id: &str,
        id: &str,
        member: Option<&Member>,
        owner: &str,
    ) -> Result<(), StoreError>;
    /// All members, by id.
    async fn list_members(&self, workspace_id: &str) -> Result<Vec<Member>, StoreError>;

    /// Creates or replaces an AI agent; `Conflict` if the id is a member's.
    async fn put_agent(&self, workspace_id: &str, agent: &AiAgent) -> Result<(), StoreError>;
    /// Removes an AI agent.
    async fn delete_agent(&self, workspace_id: &str, id: &str) -> Result<(), StoreError>;
    /// All AI agents, by id.
    async fn list_agents(&self, workspace_id: &str) -> Result<Vec<AiAgent>, StoreError>;

    /// A team.
    async fn get_team(&self, workspace_id: &str, id: &str) -> Result<Option<Team>, StoreError>;
    /// Creates or replaces a team.
    async fn put_team(&self, workspace_id: &str, team: &Team) -> Result<(), StoreError>;
    /// Removes a team.
    async fn delete_team(&self, workspace_id: &str, id: &str) -> Result<(), StoreError>;
    /// All teams, by id.
    async fn list_teams(&self, workspace_id: &str) -> Result<Vec<Team>, StoreError>;

    /// A channel (with its secret).
    async fn get_channel(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> Result<Option<Channel>, StoreError>;
    /// Creates or replaces a channel.
    async fn put_channel(&self, workspace_id: &str, channel: &Channel) -> Result<(), StoreError>;
    /// All channels, by id.
    async fn list_channels(&self, workspace_id: &str) -> Result<Vec<Channel>, StoreError>;
}

/// Contacts and their notes.
#[async_trait]
pub trait ContactStore: Send + Sync {
    /// Creates a contact.
    async fn create_contact(&self, workspace_id: &str, contact: &Contact)
    -> Result<(), StoreError>;
    /// A contact by id.
    async fn get_contact(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> Result<Option<Contact>, StoreError>;
    /// The contacts of `ids` that exist, in any order: a batch read (one
    /// request per 100 ids on DynamoDB), for lists that show many at once.
    async fn get_contacts(
        &self,
        workspace_id: &str,
        ids: &[String],
    ) -> Result<Vec<Contact>, StoreError>;
    /// Replaces a contact together with the conversation writes that refresh its snapshots, atomically.
    async fn update_contact(
        &self,
        workspace_id: &str,
        contact: &Contact,
        commit: Commit,
    ) -> Result<(), StoreError>;
    /// The contact a channel's sender id maps to, creating `candidate` if none
    /// does; two concurrent first messages get the same contact.
    async fn contact_for_sender(
        &self,
        workspace_id: &str,
        channel_id: &str,
        sender_id: &str,
        candidate: &Contact,
    ) -> Result<Contact, StoreError>;
    /// Adds a note on a contact.
    async fn add_contact_note(
        &self,
        workspace_id: &str,
        note: &ContactNote,
    ) -> Result<(), StoreError>;
    /// A contact's notes, oldest first.
    async fn list_contact_notes(
        &self,
        workspace_id: &str,
        contact_id: &str,
        page: &PageRequest,
    ) -> Result<Page<ContactNote>, StoreError>;
}

/// Report aggregates: per conversation the facts the aggregator has folded
/// in, per workspace and UTC day the counters reports read.
#[async_trait]
pub trait ReportStore: Send + Sync {
    /// The facts kept of a conversation, if any change of it was folded in.
    async fn report_facts(
        &self,
        workspace_id: &str,
        conversation_id: &str,
    ) -> Result<Option<ReportFacts>, StoreError>;
    /// Stores `facts` and adds `counters` to their days' items in one
    /// atomic write, if the stored facts are still the ones `facts` was
    /// folded from (stored `rev` is `facts.rev - 1`; none stored when
    /// `facts.rev` is 1): otherwise `Conflict` and nothing is written.
    async fn save_report(
        &self,
        workspace_id: &str,
        conversation_id: &str,
        facts: &ReportFacts,
        counters: &BTreeMap<Day, BTreeMap<String, i64>>,
    ) -> Result<(), StoreError>;
    /// The counters of `[from, to]` that a report grouped by `group_by`
    /// reads (those of its dimension), per day, oldest first: one `Query`
    /// per page.
    async fn report_days(
        &self,
        workspace_id: &str,
        from: Day,
        to: Day,
        group_by: GroupBy,
    ) -> Result<Vec<DayCounters>, StoreError>;
}

#[async_trait]
impl<T: ReportStore + ?Sized> ReportStore for &T {
    async fn report_facts(
        &self,
        workspace_id: &str,
        conversation_id: &str,
    ) -> Result<Option<ReportFacts>, StoreError> {
        (**self).report_facts(workspace_id, conversation_id).await
    }
    async fn save_report(
        &self,
        workspace_id: &str,
        conversation_id: &str,
        facts: &ReportFacts,
        counters: &BTreeMap<Day, BTreeMap<String, i64>>,
    ) -> Result<(), StoreError> {
        (**self)
            .save_report(workspace_id, conversation_id, facts, counters)
            .await
    }
    async fn report_days(
        &self,
        workspace_id: &str,
        from: Day,
        to: Day,
        group_by: GroupBy,
    ) -> Result<Vec<DayCounters>, StoreError> {
        (**self).report_days(workspace_id, from, to, group_by).await
    }
}

/// The outbox: outgoing events written by `commit`, drained by a publisher.
/// (DynamoDB publishes from its stream; the embedded store drains this.)
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Up to `limit` unpublished events, oldest first, with their sequence keys.
    async fn pending_events(&self, limit: usize) -> Result<Vec<(String, DomainEvent)>, StoreError>;
    /// Marks events published.
    async fn ack_events(&self, keys: &[String]) -> Result<(), StoreError>;
}

/// The change feed: every timeline event and message the store wrote, and
/// every rewrite of a message, in commit order, for consumers that act
/// after the fact (outgoing webhooks). On DynamoDB the table's stream is
/// this feed and nothing is kept here; the embedded store keeps it.
#[async_trait]
pub trait ChangeFeed: Send + Sync {
    /// Up to `limit` changes not yet acknowledged, oldest first, with their keys.
    async fn pending_changes(
        &self,
        limit: usize,
    ) -> Result<Vec<(String, StoredChange)>, StoreError>;
    /// Marks changes handled.
    async fn ack_changes(&self, keys: &[String]) -> Result<(), StoreError>;
}

// A borrowed store is a store: callers (tests, the dev server's workers) can
// hand the application layer `&store` without giving the store away.
#[async_trait]
impl<T: ConversationStore + ?Sized> ConversationStore for &T {
    async fn load_context(
        &self,
        workspace_id: &str,
        conversation_id: Option<&str>,
        lookups: &[LookupKey],
    ) -> Result<CommandContext, StoreError> {
        (**self)
            .load_context(workspace_id, conversation_id, lookups)
            .await
    }
    async fn commit(&self, commit: Commit) -> Result<(), StoreError> {
        (**self).commit(commit).await
    }
    async fn list_conversations(
        &self,
        workspace_id: &str,
        query: &ListQuery,
        caller_id: &str,
        page: &PageRequest,
    ) -> Result<Page<Conversation>, StoreError> {
        (**self)
            .list_conversations(workspace_id, query, caller_id, page)
            .await
    }
    async fn conversations_of_contact(
        &self,
        workspace_id: &str,
        contact_id: &str,
        page: &PageRequest,
    ) -> Result<Page<Conversation>, StoreError> {
        (**self)
            .conversations_of_contact(workspace_id, contact_id, page)
            .await
    }
    async fn list_messages(
        &self,
        workspace_id: &str,
        conversation_id: &str,
        page: &PageRequest,
    ) -> Result<Page<Message>, StoreError> {
        (**self)
            .list_messages(workspace_id, conversation_id, page)
            .await
    }
    async fn latest_messages(
        &self,
        workspace_id: &str,
        conversation_id: &str,
        n: usize,
    ) -> Result<Vec<Message>, StoreError> {
        (**self)
            .latest_messages(workspace_id, conversation_id, n)
            .await
    }
    async fn list_timeline(
        &self,
        workspace_id: &str,
        conversation_id: &str,
        page: &PageRequest,
    ) -> Result<Page<TimelineEvent>, StoreError> {
        (**self)
            .list_timeline(workspace_id, conversation_id, page)
            .await
    }
    async fn set_member_flags(
        &self,
        workspace_id: &str,
        conversation_id: &str,
        member_id: &str,
        flags: &MemberFlags,
    ) -> Result<(), StoreError> {
        (**self)
            .set_member_flags(workspace_id, conversation_id, member_id, flags)
            .await
    }
    async fn due_timers(
        &self,
        now: Timestamp,
        page: &PageRequest,
    ) -> Result<Page<DueTimer>, StoreError> {
        (**self).due_timers(now, page).await
    }
    async fn record_delivery_status(
        &self,
        workspace_id: &str,
        channel_id: &str,
        report: &DeliveryReport,
    ) -> Result<ReportOutcome, StoreError> {
        (**self)
            .record_delivery_status(workspace_id, channel_id, report)
            .await
    }
    async fn get_message(
        &self,
        workspace_id: &str,
        conversation_id: &str,
        at: MessageAt,
    ) -> Result<Option<Message>, StoreError> {
        (**self)
            .get_message(workspace_id, conversation_id, at)
            .await
    }
    async fn put_delivery(
        &self,
        workspace_id: &str,
        conversation_id: &str,
        at: MessageAt,
        write: &DeliveryWrite,
    ) -> Result<bool, StoreError> {
        (**self)
            .put_delivery(workspace_id, conversation_id, at, write)
            .await
    }
}

#[async_trait]
impl<T: DirectoryStore + ?Sized> DirectoryStore for &T {
    async fn get_settings(&self, workspace_id: &str) -> Result<Settings, StoreError> {
        (**self).get_settings(workspace_id).await
    }
    async fn put_settings(
        &self,
        workspace_id: &str,
        settings: &Settings,
    ) -> Result<(), StoreError> {
        (**self).put_settings(workspace_id, settings).await
    }
    async fn get_person(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> Result<Option<DirectoryEntry>, StoreError> {
        (**self).get_person(workspace_id, id).await
    }
    async fn get_job(&self, workspace_id: &str, id: &str) -> Result<Option<Job>, StoreError> {
        (**self).get_job(workspace_id, id).await
    }
    async fn put_member(&self, workspace_id: &str, member: &Member) -> Result<(), StoreError> {
        (**self).put_member(workspace_id, member).await
    }
    async fn provision_member(
        &self,
        workspace_id: &str,
        member: &Member,
    ) -> Result<(), StoreError> {
        (**self).provision_member(workspace_id, member).await
    }
    async fn delete_member(&self, workspace_id: &str, id: &str) -> Result<(), StoreError> {
        (**self).delete_member(workspace_id, id).await
    }
    async fn change_member_while_owner(
        &self,
        workspace_id: &str,
        id: &str,
        member: Option<&Member>,
        owner: &str,
    ) -> Result<(), StoreError> {
        (**self)
            .change_member_while_owner(workspace_id, id, member, owner)
            .await
    }
    async fn list_members(&self, workspace_id: &str) -> Result<Vec<Member>, StoreError> {
        (**self).list_members(workspace_id).await
    }
    async fn put_agent(&self, workspace_id: &str, agent: &AiAgent) -> Result<(), StoreError> {
        (**self).put_agent(workspace_id, agent).await
    }
    async fn delete_agent(&self, workspace_id: &str, id: &str) -> Result<(), StoreError> {
        (**self).delete_agent(workspace_id, id).await
    }
    async fn list_agents(&self, workspace_id: &str) -> Result<Vec<AiAgent>, StoreError> {
        (**self).list_agents(workspace_id).await
    }
    async fn get_team(&self, workspace_id: &str, id: &str) -> Result<Option<Team>, StoreError> {
        (**self).get_team(workspace_id, id).await
    }
    async fn put_team(&self, workspace_id: &str, team: &Team) -> Result<(), StoreError> {
        (**self).put_team(workspace_id, team).await
    }
    async fn delete_team(&self, workspace_id: &str, id: &str) -> Result<(), StoreError> {
        (**self).delete_team(workspace_id, id).await
    }
    async fn list_teams(&self, workspace_id: &str) -> Result<Vec<Team>, StoreError> {
        (**self).list_teams(workspace_id).await
    }
    async fn get_channel(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> Result<Option<Channel>, StoreError> {
        (**self).get_channel(workspace_id, id).await
    }
    async fn put_channel(&self, workspace_id: &str, channel: &Channel) -> Result<(), StoreError> {
        (**self).put_channel(workspace_id, channel).await
    }
    async fn list_channels(&self, workspace_id: &str) -> Result<Vec<Channel>, StoreError> {
        (**self).list_channels(workspace_id).await
    }
}

#[async_trait]
impl<T: ContactStore + ?Sized> ContactStore for &T {
    async fn create_contact(
        &self,
        workspace_id: &str,
        contact: &Contact,
    ) -> Result<(), StoreError> {
        (**self).create_contact(workspace_id, contact).await
    }
    async fn get_contact(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> Result<Option<Contact>, StoreError> {
        (**self).get_contact(workspace_id, id).await
    }
    async fn get_contacts(
        &self,
        workspace_id: &str,
        ids: &[String],
    ) -> Result<Vec<Contact>, StoreError> {
        (**self).get_contacts(workspace_id, ids).await
    }
    async fn update_contact(
        &self,
        workspace_id: &str,
        contact: &Contact,
        commit: Commit,
    ) -> Result<(), StoreError> {
        (**self).update_contact(workspace_id, contact, commit).await
    }
    async fn contact_for_sender(
        &self,
        workspace_id: &str,
        channel_id: &str,
        sender_id: &str,
        candidate: &Contact,
    ) -> Result<Contact, StoreError> {
        (**self)
            .contact_for_sender(workspace_id, channel_id, sender_id, candidate)
            .await
    }
    async fn add_contact_note(
        &self,
        workspace_id: &str,
        note: &ContactNote,
    ) -> Result<(), StoreError> {
        (**self).add_contact_note(workspace_id, note).await
    }
    async fn list_contact_notes(
        &self,
        workspace_id: &str,
        contact_id: &str,
        page: &PageRequest,
    ) -> Result<Page<ContactNote>, StoreError> {
        (**self)
            .list_contact_notes(workspace_id, contact_id, page)
            .await
    }
}

#[async_trait]
impl<T: ChangeFeed + ?Sized> ChangeFeed for &T {
    async fn pending_changes(
        &self,
        limit: usize,
    ) -> Result<Vec<(String, StoredChange)>, StoreError> {
        (**self).pending_changes(limit).await
    }
    async fn ack_changes(&self, keys: &[String]) -> Result<(), StoreError> {
        (**self).ack_changes(keys).await
    }
}

#[async_trait]
impl<T: Outbox + ?Sized> Outbox for &T {
    async fn pending_events(&self, limit: usize) -> Result<Vec<(String, DomainEvent)>, StoreError> {
        (**self).pending_events(limit).await
    }
    async fn ack_events(&self, keys: &[String]) -> Result<(), StoreError> {
        (**self).ack_events(keys).await
    }
}

/// The whole store.
pub trait Store:
    ConversationStore + DirectoryStore + ContactStore + ApiKeyStore + WebhookStore + ReportStore
{
}
impl<
    T: ConversationStore + DirectoryStore + ContactStore + ApiKeyStore + WebhookStore + ReportStore,
> Store for T
{
}
