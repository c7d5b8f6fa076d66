//! A store wrapper for tests and the benchmark: counts requests, and can fail
//! one conversation or slip a concurrent write in before the next commit.

use async_trait::async_trait;
use inbox_domain::model::{Conversation, MemberFlags, Message, MessageAt, TimelineEvent};
use inbox_domain::{ListQuery, Timestamp};
use inbox_store::{
    CommandContext, Commit, ConversationStore, DeliveryReport, DeliveryWrite, DueTimer, LookupKey,
    Page, PageRequest, ReportOutcome, StoreError,
};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Request counts.
#[derive(Debug, Default)]
pub struct Counts {
    pub load_context: AtomicUsize,
    pub commit: AtomicUsize,
    pub latest_messages: AtomicUsize,
    pub due_timers: AtomicUsize,
    pub other: AtomicUsize,
}

impl Counts {
    /// Every request so far.
    pub fn total(&self) -> usize {
        [
            &self.load_context,
            &self.commit,
            &self.latest_messages,
            &self.due_timers,
            &self.other,
        ]
        .iter()
        .map(|c| c.load(Ordering::SeqCst))
        .sum()
    }

    /// `(load_context, commit, latest_messages, due_timers)`.
    pub fn split(&self) -> (usize, usize, usize, usize) {
        (
            self.load_context.load(Ordering::SeqCst),
            self.commit.load(Ordering::SeqCst),
            self.latest_messages.load(Ordering::SeqCst),
            self.due_timers.load(Ordering::SeqCst),
        )
    }
}

/// The wrapper.
pub struct Instrumented<S> {
    pub inner: S,
    pub counts: Counts,
    /// `load_context` of this conversation fails with `Unavailable`.
    pub fail_conversation: Mutex<Option<String>>,
    /// Committed to `inner` just before the next `commit` goes through: a
    /// concurrent writer between a read and a write.
    pub sneak_in: Mutex<Vec<Commit>>,
}

#[allow(dead_code)]
impl<S> Instrumented<S> {
    pub fn new(inner: S) -> Self {
        Instrumented {
            inner,
            counts: Counts::default(),
            fail_conversation: Mutex::new(None),
            sneak_in: Mutex::new(Vec::new()),
        }
    }

    pub fn fail(&self, conversation_id: Option<&str>) {
        *self.fail_conversation.lock().unwrap() = conversation_id.map(str::to_string);
    }

    pub fn sneak_in(&self, commit: Commit) {
        self.sneak_in.lock().unwrap().push(commit);
    }
}

fn bump(c: &AtomicUsize) {
    c.fetch_add(1, Ordering::SeqCst);
}

#[async_trait]
impl<S: ConversationStore> ConversationStore for Instrumented<S> {
    async fn load_context(
        &self,
        workspace_id: &str,
        conversation_id: Option<&str>,
        lookups: &[LookupKey],
    ) -> Result<CommandContext, StoreError> {
        bump(&self.counts.load_context);
        let failing = self.fail_conversation.lock().unwrap().clone();
        if failing.is_some() && failing.as_deref() == conversation_id {
            return Err(StoreError::Unavailable("injected failure".into()));
        }
        self.inner
            .load_context(workspace_id, conversation_id, lookups)
            .await
    }

    async fn commit(&self, commit: Commit) -> Result<(), StoreError> {
        bump(&self.counts.commit);
        let sneaks: Vec<Commit> = std::mem::take(&mut *self.sneak_in.lock().unwrap());
        for s in sneaks {
            self.inner.commit(s).await?;
        }
        self.inner.commit(commit).await
    }

    async fn list_conversations(
        &self,
        workspace_id: &str,
        query: &ListQuery,
        caller_id: &str,
        page: &PageRequest,
    ) -> Result<Page<Conversation>, StoreError> {
        bump(&self.counts.other);
        self.inner
            .list_conversations(workspace_id, query, caller_id, page)
            .await
    }

    async fn conversations_of_contact(
        &self,
        workspace_id: &str,
        contact_id: &str,
        page: &PageRequest,
    ) -> Result<Page<Conversation>, StoreError> {
        bump(&self.counts.other);
        self.inner
            .conversations_of_contact(workspace_id, contact_id, page)
            .await
    }

    async fn list_messages(
        &self,
        workspace_id: &str,
        conversation_id: &str,
        page: &PageRequest,
    ) -> Result<Page<Message>, StoreError> {
        bump(&self.counts.other);
        self.inner
            .list_messages(workspace_id, conversation_id, page)
            .await
    }

    async fn latest_messages(
        &self,
        workspace_id: &str,
        conversation_id: &str,
        n: usize,
    ) -> Result<Vec<Message>, StoreError> {
        bump(&self.counts.latest_messages);
        self.inner
            .latest_messages(workspace_id, conversation_id, n)
            .await
    }

    async fn list_timeline(
        &self,
        workspace_id: &str,
        conversation_id: &str,
        page: &PageRequest,
    ) -> Result<Page<TimelineEvent>, StoreError> {
        bump(&self.counts.other);
        self.inner
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
        bump(&self.counts.other);
        self.inner
            .set_member_flags(workspace_id, conversation_id, member_id, flags)
            .await
    }

    async fn due_timers(
        &self,
        now: Timestamp,
        page: &PageRequest,
    ) -> Result<Page<DueTimer>, StoreError> {
        bump(&self.counts.due_timers);
        self.inner.due_timers(now, page).await
    }

    async fn record_delivery_status(
        &self,
        workspace_id: &str,
        channel_id: &str,
        report: &DeliveryReport,
    ) -> Result<ReportOutcome, StoreError> {
        self.inner
            .record_delivery_status(workspace_id, channel_id, report)
            .await
    }

    async fn get_message(
        &self,
        workspace_id: &str,
        conversation_id: &str,
        at: MessageAt,
    ) -> Result<Option<Message>, StoreError> {
        self.inner
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
        self.inner
            .put_delivery(workspace_id, conversation_id, at, write)
            .await
    }
}

/// Contacts pass through, counted as other requests (the auto-close worker
/// never reads one: its command does not depend on the contact's state).
#[async_trait]
impl<S: inbox_store::ContactStore> inbox_store::ContactStore for Instrumented<S> {
    async fn create_contact(
        &self,
        ws: &str,
        contact: &inbox_domain::model::Contact,
    ) -> Result<(), StoreError> {
        self.counts.other.fetch_add(1, Ordering::SeqCst);
        self.inner.create_contact(ws, contact).await
    }
    async fn get_contact(
        &self,
        ws: &str,
        id: &str,
    ) -> Result<Option<inbox_domain::model::Contact>, StoreError> {
        self.counts.other.fetch_add(1, Ordering::SeqCst);
        self.inner.get_contact(ws, id).await
    }
    async fn get_contacts(
        &self,
        ws: &str,
        ids: &[String],
    ) -> Result<Vec<inbox_domain::model::Contact>, StoreError> {
        self.counts.other.fetch_add(1, Ordering::SeqCst);
        self.inner.get_contacts(ws, ids).await
    }
    async fn update_contact(
        &self,
        ws: &str,
        contact: &inbox_domain::model::Contact,
        commit: Commit,
    ) -> Result<(), StoreError> {
        self.counts.other.fetch_add(1, Ordering::SeqCst);
        self.inner.update_contact(ws, contact, commit).await
    }
    async fn contact_for_sender(
        &self,
        ws: &str,
        channel_id: &str,
        sender_id: &str,
        candidate: &inbox_domain::model::Contact,
    ) -> Result<inbox_domain::model::Contact, StoreError> {
        self.counts.other.fetch_add(1, Ordering::SeqCst);
        self.inner
            .contact_for_sender(ws, channel_id, sender_id, candidate)
            .await
    }
    async fn add_contact_note(
        &self,
        ws: &str,
        note: &inbox_domain::model::ContactNote,
    ) -> Result<(), StoreError> {
        self.counts.other.fetch_add(1, Ordering::SeqCst);
        self.inner.add_contact_note(ws, note).await
    }
    async fn list_contact_notes(
        &self,
        ws: &str,
        contact_id: &str,
        page: &PageRequest,
    ) -> Result<Page<inbox_domain::model::ContactNote>, StoreError> {
        self.counts.other.fetch_add(1, Ordering::SeqCst);
        self.inner.list_contact_notes(ws, contact_id, page).await
    }
}
