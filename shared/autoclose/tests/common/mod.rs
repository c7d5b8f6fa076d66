//! Shared test fixtures: a SQLite store with conversations built through the
//! domain, a manual clock, and SQS queues on moto.
#![allow(dead_code)]

pub mod instrumented;

use aws_sdk_sqs::types::QueueAttributeName;
use inbox_autoclose::{InProcessQueue, SqsTimerQueue, TimerMessage, TimerQueue};
use inbox_domain::model::{Contact, Conversation, EventKind, TimelineEvent};
use inbox_domain::{
    Actor, Caller, Command, Ctx, ExtractiveNotes, Outcome, Role, Settings, Timestamp,
    create_conversation, decide,
};
use inbox_store::sqlite::SqliteStore;
use inbox_store::{Commit, ConversationStore, DirectoryStore, ManualClock, PageRequest, UlidIds};
use instrumented::Instrumented;
use std::sync::Mutex;

/// The workspace every fixture uses.
pub const WS: &str = "ws_test";
/// The auto-close delay the fixtures arm.
pub const AFTER_SECONDS: u64 = 60;
/// The fixtures' starting time.
pub const T0: i64 = 1_800_000_000_000;

/// A member who replies.
pub fn member() -> Actor {
    Actor::Caller(Caller::new("mem_ann", Role::Agent, Some("Ann")))
}

/// Settings with auto-close on.
pub fn auto_close_on() -> Settings {
    let mut s = Settings::default();
    s.auto_close.enabled = true;
    s.auto_close.after_seconds = AFTER_SECONDS;
    s
}

/// A store, a clock and helpers to drive conversations through the domain.
pub struct World<S = SqliteStore> {
    pub store: Instrumented<S>,
    pub clock: ManualClock,
    pub notes: ExtractiveNotes,
    ids: Mutex<UlidIds>,
}

impl World<SqliteStore> {
    /// On a fresh in-memory SQLite store.
    pub async fn new(settings: Settings) -> Self {
        World::with_store(SqliteStore::in_memory().expect("sqlite"), settings).await
    }
}

impl<S: ConversationStore + DirectoryStore> World<S> {
    /// On `store`.
    pub async fn with_store(store: S, settings: Settings) -> Self {
        store.put_settings(WS, &settings).await.expect("settings");
        World {
            store: Instrumented::new(store),
            clock: ManualClock::new(Timestamp::from_millis(T0)),
            notes: ExtractiveNotes,
            ids: Mutex::new(UlidIds::default()),
        }
    }

    /// The application layer over this world's store, clock and notes.
    pub fn app(&self) -> inbox_app::App<&Instrumented<S>> {
        inbox_app::App::new(&self.store)
            .with_clock(self.clock.clone())
            .with_notes(self.notes)
    }

    pub fn now(&self) -> Timestamp {
        inbox_store::Clock::now(&self.clock)
    }

    pub fn advance_secs(&self, s: i64) {
        self.clock.advance_ms(s * 1000);
    }

    pub async fn settings(&self) -> Settings {
        self.store.inner.get_settings(WS).await.expect("settings")
    }

    pub async fn set_settings(&self, s: &Settings) {
        self.store
            .inner
            .put_settings(WS, s)
            .await
            .expect("settings");
    }

    /// Decides `cmd` by `actor` on the stored conversation, as a handler would.
    pub async fn decide(&self, conv_id: &str, actor: &Actor, cmd: Command) -> Outcome {
        let cx = self
            .store
            .inner
            .load_context(WS, Some(conv_id), &[])
            .await
            .expect("load");
        let conv = cx.conversation.expect("conversation exists");
        let mut ids = self.ids.lock().unwrap().clone();
        let mut ctx = Ctx {
            now: self.now(),
            actor,
            settings: &cx.settings,
            ids: &mut ids,
            notes: &self.notes,
        };
        decide(&conv, cmd, &mut ctx).expect("decided")
    }

    /// Decides and commits.
    pub async fn apply(&self, conv_id: &str, actor: &Actor, cmd: Command) -> Conversation {
        let out = self.decide(conv_id, actor, cmd).await;
        self.commit(out.clone()).await;
        out.conversation
    }

    pub async fn commit(&self, out: Outcome) {
        self.store
            .inner
            .commit(Commit::new(out.conversation.workspace_id.clone()).with_writes(out.writes))
            .await
            .expect("commit");
    }

    /// A new open conversation with a contact message and a member's reply: the timer is armed.
    pub async fn armed_conversation(&self, n: usize) -> Conversation {
        let contact = Contact {
            id: format!("ct_{n:08}"),
            name: Some(format!("Contact {n}")),
            email: None,
            phone: None,
            blocked: false,
            created_at: self.now(),
        };
        let settings = self.settings().await;
        let mut ids = self.ids.lock().unwrap().clone();
        let mut ctx = Ctx {
            now: self.now(),
            actor: &member(),
            settings: &settings,
            ids: &mut ids,
            notes: &self.notes,
        };
        let out = create_conversation(WS, &contact, None, &mut ctx).expect("created");
        let conv_id = out.conversation.id.clone();
        self.commit(out).await;
        self.contact_says(
            &conv_id,
            "Hello, my invoice is wrong: billing twice this month",
        )
        .await;
        let conv = self
            .reply(&conv_id, "Sorry about the billing error, refund issued")
            .await;
        assert!(conv.auto_close.is_some(), "the reply arms the timer");
        conv
    }

    pub async fn reply(&self, conv_id: &str, body: &str) -> Conversation {
        let cmd = Command::PostMessage {
            body: body.into(),
            on_closed: None,
            sender: None,
        };
        self.apply(conv_id, &member(), cmd).await
    }

    pub async fn contact_says(&self, conv_id: &str, body: &str) -> Conversation {
        let conv = self.get(conv_id).await;
        let actor = Actor::Contact {
            id: conv.contact.id.clone(),
        };
        let cmd = Command::ContactMessage {
            body: body.into(),
            channel_message_id: None,
            first_agent: None,
        };
        self.apply(conv_id, &actor, cmd).await
    }

    pub async fn get(&self, conv_id: &str) -> Conversation {
        self.store
            .inner
            .load_context(WS, Some(conv_id), &[])
            .await
            .expect("load")
            .conversation
            .expect("exists")
    }

    pub async fn timeline(&self, conv_id: &str) -> Vec<TimelineEvent> {
        self.store
            .inner
            .list_timeline(WS, conv_id, &PageRequest::first(200))
            .await
            .expect("timeline")
            .items
    }

    /// The `status_changed` events of a conversation.
    pub async fn status_changes(&self, conv_id: &str) -> usize {
        self.timeline(conv_id)
            .await
            .iter()
            .filter(|e| matches!(e.kind, EventKind::StatusChanged { .. }))
            .count()
    }
}

/// A queue that records every message it accepts (no dedupe), for sweeps run twice.
#[derive(Default)]
pub struct RecordingQueue(pub Mutex<Vec<TimerMessage>>);

#[async_trait::async_trait]
impl TimerQueue for RecordingQueue {
    async fn send_batch(
        &self,
        msgs: &[TimerMessage],
    ) -> Result<Vec<usize>, inbox_autoclose::QueueError> {
        if msgs.len() > inbox_autoclose::MAX_BATCH {
            return Err(inbox_autoclose::QueueError::BatchTooLarge(msgs.len()));
        }
        self.0.lock().unwrap().extend_from_slice(msgs);
        Ok(Vec::new())
    }
}

/// Refuses the given indexes of the first `send_batch`, like a partial `SendMessageBatch` failure.
pub struct FlakyQueue<Q> {
    pub inner: Q,
    pub fail_first: Mutex<Option<Vec<usize>>>,
    pub calls: std::sync::atomic::AtomicUsize,
}

impl<Q> FlakyQueue<Q> {
    pub fn new(inner: Q, fail_first: Vec<usize>) -> Self {
        FlakyQueue {
            inner,
            fail_first: Mutex::new(Some(fail_first)),
            calls: Default::default(),
        }
    }
}

#[async_trait::async_trait]
impl<Q: TimerQueue> TimerQueue for FlakyQueue<Q> {
    async fn send_batch(
        &self,
        msgs: &[TimerMessage],
    ) -> Result<Vec<usize>, inbox_autoclose::QueueError> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let fail = self.fail_first.lock().unwrap().take();
        match fail {
            Some(fail) => {
                let keep: Vec<TimerMessage> = msgs
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !fail.contains(i))
                    .map(|(_, m)| m.clone())
                    .collect();
                let failed_inner = self.inner.send_batch(&keep).await?;
                assert!(failed_inner.is_empty());
                Ok(fail.into_iter().filter(|i| *i < msgs.len()).collect())
            }
            None => self.inner.send_batch(msgs).await,
        }
    }
}

/// An in-process queue that re-delivers failures at once and dead-letters after 3 receives.
pub fn fast_in_process() -> InProcessQueue {
    InProcessQueue::new(3, std::time::Duration::ZERO)
}

/// The moto endpoint; the AWS-protocol tests fail (never skip) without it.
pub fn aws_endpoint() -> String {
    std::env::var("INBOX_TEST_AWS_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "INBOX_TEST_AWS_ENDPOINT is not set: run the tests with scripts/test.sh, \
             which starts moto (or start moto_server and export its URL)"
        )
    })
}

/// An SQS client on moto.
pub async fn sqs_client() -> aws_sdk_sqs::Client {
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(aws_endpoint())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await;
    aws_sdk_sqs::Client::new(&conf)
}

/// A unique queue name.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{nanos}-{}", N.fetch_add(1, Ordering::SeqCst))
}

/// A new queue with `visibility` seconds and, with `max_receive_count`, a dead-letter queue.
/// Returns the queue and the DLQ's URL.
pub async fn sqs_queue(
    visibility: u32,
    max_receive_count: Option<u32>,
) -> (SqsTimerQueue, Option<String>) {
    let client = sqs_client().await;
    let name = unique("timers");
    let mut create = client.create_queue().queue_name(&name).attributes(
        QueueAttributeName::VisibilityTimeout,
        visibility.to_string(),
    );
    let mut dlq_url = None;
    if let Some(max) = max_receive_count {
        let dlq = client
            .create_queue()
            .queue_name(format!("{name}-dlq"))
            .send()
            .await
            .expect("create dlq");
        let url = dlq.queue_url().expect("dlq url").to_string();
        let arn = client
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("dlq attributes")
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
            .expect("dlq arn");
        create = create.attributes(
            QueueAttributeName::RedrivePolicy,
            serde_json::json!({"deadLetterTargetArn": arn, "maxReceiveCount": max.to_string()})
                .to_string(),
        );
        dlq_url = Some(url);
    }
    let out = create.send().await.expect("create queue");
    let url = out.queue_url().expect("queue url").to_string();
    (SqsTimerQueue::new(client, url), dlq_url)
}

/// How many messages a queue URL holds (visible or not).
pub async fn sqs_depth(url: &str) -> usize {
    let client = sqs_client().await;
    let attrs = client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .expect("attributes");
    let get = |k: QueueAttributeName| {
        attrs
            .attributes()
            .and_then(|a| a.get(&k))
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0)
    };
    get(QueueAttributeName::ApproximateNumberOfMessages)
        + get(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
}
