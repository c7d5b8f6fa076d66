//! The dependencies every entry point shares, built once per process (or
//! Lambda cold start), and the small reads that resolve who is acting.

use crate::deliver::SendQueue;
use crate::error::AppError;
use crate::execute::Token;
use crate::export::ExportFiles;
use crate::invitations::{Invitations, NoInvitations};
use crate::jobs::JobQueue;
use crate::models::ChatModel;
use crate::retry::RetryPolicy;
use crate::sending::ChannelSender;
use crate::webhooks::WebhookTransport;
use inbox_domain::ids::IdGen;
use inbox_domain::webhooks::{RetrySchedule, UrlPolicy};
use inbox_domain::{Actor, Caller, Ctx, ExtractiveNotes, NoteGenerator, Settings, directory};
use inbox_store::{
    Clock, Commit, ConversationStore, DirectoryStore, StoreError, SystemClock, UlidIds,
};
use std::sync::Arc;

/// Makes a fresh id generator for one command.
pub type IdFactory = Arc<dyn Fn() -> Box<dyn IdGen> + Send + Sync>;

/// The store, the clock, ids, the note generator and the retry policy.
pub struct App<S> {
    store: S,
    clock: Arc<dyn Clock>,
    ids: IdFactory,
    notes: Arc<dyn NoteGenerator>,
    retry: RetryPolicy,
    public_base_url: Option<String>,
    invitations: Arc<dyn Invitations>,
    job_queue: Option<Arc<dyn JobQueue>>,
    export_files: Option<Arc<dyn ExportFiles>>,
    sender: Option<(Arc<dyn ChannelSender>, Arc<dyn SendQueue>)>,
    webhooks: Option<(Arc<dyn WebhookTransport>, RetrySchedule)>,
    model: Option<Arc<dyn ChatModel>>,
}

impl<S> App<S> {
    /// The production wiring: system clock, ULID ids, extractive notes, the default retry policy.
    pub fn new(store: S) -> Self {
        let ulids = UlidIds::default();
        App {
            store,
            clock: Arc::new(SystemClock),
            ids: Arc::new(move || Box::new(ulids.clone()) as Box<dyn IdGen>),
            notes: Arc::new(ExtractiveNotes),
            retry: RetryPolicy::default(),
            public_base_url: None,
            invitations: Arc::new(NoInvitations),
            job_queue: None,
            export_files: None,
            sender: None,
            webhooks: None,
            model: None,
        }
    }

    /// Replaces the clock (tests use a manual one).
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Replaces the clock with a shared one.
    pub fn with_shared_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Replaces the id generator factory.
    pub fn with_ids(mut self, ids: impl Fn() -> Box<dyn IdGen> + Send + Sync + 'static) -> Self {
        self.ids = Arc::new(ids);
        self
    }

    /// Replaces the closing-note and summary generator.
    pub fn with_notes(mut self, notes: impl NoteGenerator + 'static) -> Self {
        self.notes = Arc::new(notes);
        self
    }

    /// Replaces the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the URL the product is reached at from outside (providers sign
    /// webhook URLs under it); without it the request's host is used.
    pub fn with_public_base_url(mut self, url: Option<String>) -> Self {
        self.public_base_url = url.map(|u| u.trim_end_matches('/').to_string());
        self
    }

    /// With an identity provider that can invite members.
    pub fn with_invitations(mut self, invitations: impl Invitations + 'static) -> Self {
        self.invitations = Arc::new(invitations);
        self
    }

    /// The identity provider that invites members.
    pub fn invitations(&self) -> &dyn Invitations {
        self.invitations.as_ref()
    }

    /// Sets where job steps are queued.
    pub(crate) fn set_job_queue(&mut self, queue: Arc<dyn JobQueue>) {
        self.job_queue = Some(queue);
    }

    /// Keeps export jobs' files in `files` (without, `POST /conversations/exports` is 501).
    pub fn with_export_files(mut self, files: Arc<dyn ExportFiles>) -> Self {
        self.export_files = Some(files);
        self
    }

    /// Where export files are kept, if this deployment keeps them.
    pub(crate) fn export_files(&self) -> Option<&dyn ExportFiles> {
        self.export_files.as_deref()
    }

    /// Posts outgoing webhooks through `transport`, retrying on `schedule`.
    pub fn with_webhooks(
        mut self,
        transport: Arc<dyn WebhookTransport>,
        schedule: RetrySchedule,
    ) -> Self {
        self.webhooks = Some((transport, schedule));
        self
    }

    /// The webhook transport and retry schedule, if this process delivers webhooks.
    pub(crate) fn webhooks(&self) -> Option<(&dyn WebhookTransport, RetrySchedule)> {
        self.webhooks.as_ref().map(|(t, s)| (t.as_ref(), *s))
    }

    /// Where endpoint URLs may point: the webhook transport's policy (so a
    /// URL accepted is one the transport will post to), or loopback-free
    /// when this process posts none.
    pub fn webhook_url_policy(&self) -> UrlPolicy {
        self.webhooks
            .as_ref()
            .map_or(UrlPolicy::PublicOnly, |(t, _)| t.policy())
    }

    /// Calls LLM agents' models through `model`.
    pub fn with_chat_model(mut self, model: Arc<dyn ChatModel>) -> Self {
        self.model = Some(model);
        self
    }

    /// The model client, if this process answers for LLM agents.
    pub(crate) fn chat_model(&self) -> Option<&dyn ChatModel> {
        self.model.as_deref()
    }

    pub(crate) fn set_sender(&mut self, sender: Arc<dyn ChannelSender>, queue: Arc<dyn SendQueue>) {
        self.sender = Some((sender, queue));
    }

    /// The provider client and the retry queue, if this process sends replies.
    pub(crate) fn sender(&self) -> Option<(&dyn ChannelSender, &dyn SendQueue)> {
        self.sender.as_ref().map(|(s, q)| {
            (
                s.as_ref() as &dyn ChannelSender,
                q.as_ref() as &dyn SendQueue,
            )
        })
    }

    /// Where job steps are queued (`None`: a job runs to its end where it starts).
    pub(crate) fn job_queue(&self) -> Option<&dyn JobQueue> {
        self.job_queue.as_deref()
    }

    /// The store, for reads (writes go through [`App::execute`]).
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The clock.
    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    /// The note generator.
    pub fn notes(&self) -> &dyn NoteGenerator {
        self.notes.as_ref()
    }

    /// The note generator, shared.
    pub(crate) fn shared_notes(&self) -> Arc<dyn NoteGenerator> {
        Arc::clone(&self.notes)
    }

    /// A fresh id generator.
    pub fn new_ids(&self) -> Box<dyn IdGen> {
        (self.ids)()
    }

    /// The retry policy every command runs under.
    pub fn retry(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The configured public base URL, if any.
    pub fn public_base_url(&self) -> Option<&str> {
        self.public_base_url.as_deref()
    }

    /// What the domain decides with, now, as `actor`.
    pub(crate) fn ctx<'a>(
        &'a self,
        actor: &'a Actor,
        settings: &'a Settings,
        ids: &'a mut dyn IdGen,
    ) -> Ctx<'a> {
        Ctx {
            now: self.clock.now(),
            actor,
            settings,
            ids,
            notes: self.notes.as_ref(),
        }
    }
}

impl<S: ConversationStore + DirectoryStore> App<S> {
    /// The caller as decisions see them, with the directory's name applied,
    /// provisioned first if this is a member-role token's first write: one
    /// read, and one write only for a new member.
    pub async fn provisioned_caller(
        &self,
        workspace_id: &str,
        token: &Token,
    ) -> Result<Caller, AppError> {
        let entry = self.store.get_person(workspace_id, &token.sub).await?;
        if let Some(member) = token.provision(entry.as_ref()) {
            let mut commit = Commit::new(workspace_id);
            commit.provision = Some(member);
            self.commit(commit).await?;
        }
        Ok(token.caller(entry.as_ref()))
    }

    /// Adds a member-role caller to the directory on a write that changes no
    /// conversation (settings, directory, contact notes): at most one read and one write.
    pub async fn provision(&self, workspace_id: &str, token: &Token) -> Result<(), AppError> {
        if !directory::is_provisioned_role(token.role) {
            return Ok(());
        }
        self.provisioned_caller(workspace_id, token)
            .await
            .map(|_| ())
    }
}

impl<S: ConversationStore> App<S> {
    /// The one place commits are sent. For a commit that only provisions a
    /// member, the id being taken meanwhile is no conflict.
    pub(crate) async fn commit(&self, commit: Commit) -> Result<(), StoreError> {
        if commit.is_empty() {
            return Ok(());
        }
        let only_provisions =
            commit.writes.is_empty() && commit.dedupe.is_none() && commit.job.is_none();
        match self.store.commit(commit).await {
            Err(StoreError::Conflict) if only_provisions => Ok(()),
            other => other,
        }
    }
}
