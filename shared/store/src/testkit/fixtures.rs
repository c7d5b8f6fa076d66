//! Shared fixtures of the contract suite: ids, actors, decisions, paging.

use crate::port::{Commit, Page, PageRequest, Store, StoreError};
use inbox_domain::ids::{IdGen, IdKind};
use inbox_domain::model::{
    AiAgent, Channel, ChannelKind, ChannelRef, Contact, Conversation, Member, Team,
};
use inbox_domain::{
    Actor, Caller, Command, Ctx, ExtractiveNotes, Outcome, Role, Settings, Timestamp, decide,
};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// 2026-01-01T00:00:00Z: the suite's "now" (the due-timer check uses another era).
pub(crate) const T0: Timestamp = Timestamp::from_millis(1_767_225_600_000);

/// Ids unique across concurrent tasks and across runs: `<prefix><run><counter>`.
#[derive(Debug, Clone)]
pub struct SharedIds {
    run: String,
    next: Arc<AtomicU64>,
}

impl SharedIds {
    /// A generator whose ids embed `run` (lower-case letters and digits).
    pub fn new(run: &str) -> Self {
        SharedIds {
            run: run.to_string(),
            next: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl IdGen for SharedIds {
    fn new_id(&mut self, kind: IdKind) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        format!("{}{}{:010}", kind.prefix(), self.run, n)
    }
}

/// A random tag for this run's workspaces and ids.
pub(crate) fn run_tag() -> String {
    format!("{:08x}", rand::random::<u32>())
}

/// A workspace of one check, with its directory.
pub(crate) struct Ws {
    /// Workspace id.
    pub id: String,
    /// Id source (shared by every task of the check).
    pub ids: SharedIds,
    /// Settings as stored.
    pub settings: Settings,
    /// A contact with an email.
    pub contact: Contact,
}

impl Ws {
    /// Makes a workspace: auto-close on (1 hour), members bob and carol, AI
    /// agent max, team support, channels sms-main and wa-main, contact Ann.
    pub async fn new<S: Store + ?Sized>(store: &S, check: &str) -> Ws {
        let run = run_tag();
        let id = format!("ws-{check}-{run}");
        let ids = SharedIds::new(&run);
        let mut settings = Settings::default();
        settings.auto_close.enabled = true;
        settings.auto_close.after_seconds = 3600;
        store
            .put_settings(&id, &settings)
            .await
            .expect("put_settings");
        for (m, name) in [("bob", "Bob Ray"), ("carol", "Carol Diaz")] {
            store
                .put_member(&id, &member(m, name))
                .await
                .expect("put_member");
        }
        store
            .put_agent(&id, &AiAgent::external("max", "Max"))
            .await
            .expect("put_agent");
        store
            .put_team(
                &id,
                &Team {
                    id: "support".into(),
                    name: "Support".into(),
                    member_ids: vec!["bob".into()],
                },
            )
            .await
            .expect("put_team");
        for ch in ["sms-main", "wa-main"] {
            store
                .put_channel(&id, &channel(ch))
                .await
                .expect("put_channel");
        }
        let mut gen_ids = ids.clone();
        let contact = Contact {
            id: gen_ids.new_id(IdKind::Contact),
            name: Some("Ann".into()),
            email: Some("ann@example.com".into()),
            phone: None,
            blocked: false,
            created_at: T0,
        };
        store
            .create_contact(&id, &contact)
            .await
            .expect("create_contact");
        Ws {
            id,
            ids,
            settings,
            contact,
        }
    }

    /// Decides `cmd` on `conv` as `actor` at `now` (panics on a domain error: the suite's commands are valid).
    pub fn decide(
        &self,
        conv: &Conversation,
        cmd: Command,
        actor: &Actor,
        now: Timestamp,
    ) -> Outcome {
        let mut ids = self.ids.clone();
        let mut ctx = Ctx {
            now,
            actor,
            settings: &self.settings,
            ids: &mut ids,
            notes: &ExtractiveNotes,
        };
        decide(conv, cmd, &mut ctx).expect("the suite's command is valid")
    }

    /// A new open conversation with the workspace's contact on `channel`.
    pub fn create(&self, channel: Option<&str>, now: Timestamp) -> Outcome {
        self.create_for(&self.contact, channel, now)
    }

    /// A new open conversation with `contact`.
    pub fn create_for(&self, contact: &Contact, channel: Option<&str>, now: Timestamp) -> Outcome {
        let mut ids = self.ids.clone();
        let actor = agent_actor("bob");
        let mut ctx = Ctx {
            now,
            actor: &actor,
            settings: &self.settings,
            ids: &mut ids,
            notes: &ExtractiveNotes,
        };
        let channel = channel.map(|id| ChannelRef::new(id, ChannelKind::Generic));
        inbox_domain::create_conversation(&self.id, contact, channel, &mut ctx)
            .expect("create_conversation")
    }

    /// A fresh id of `kind`.
    pub fn new_id(&self, kind: IdKind) -> String {
        self.ids.clone().new_id(kind)
    }
}

/// A member with role agent.
pub(crate) fn member(id: &str, name: &str) -> Member {
    Member {
        id: id.into(),
        name: name.into(),
        email: Some(format!("{id}@example.com")),
        role: Role::Agent,
    }
}

/// A generic channel.
pub(crate) fn channel(id: &str) -> Channel {
    Channel {
        id: id.into(),
        kind: ChannelKind::Generic,
        name: format!("Channel {id}"),
        secret: format!("secret-{id}"),
        verify_token: None,
        sending: None,
        api_base_url: None,
        default_agent_id: None,
    }
}

/// A member (role agent) acting.
pub(crate) fn agent_actor(id: &str) -> Actor {
    let name = match id {
        "bob" => "Bob Ray",
        "carol" => "Carol Diaz",
        other => other,
    };
    Actor::Caller(Caller::new(id, Role::Agent, Some(name)))
}

/// An AI agent acting.
pub(crate) fn ai_actor(id: &str) -> Actor {
    Actor::Caller(Caller::new(id, Role::AiAgent, None))
}

/// The commit of an outcome.
pub(crate) fn commit_of(outcome: &Outcome) -> Commit {
    Commit::new(outcome.conversation.workspace_id.clone()).with_writes(outcome.writes.clone())
}

/// The conversation as stored (panics if absent).
pub(crate) async fn load<S: Store + ?Sized>(store: &S, ws: &str, id: &str) -> Conversation {
    store
        .load_context(ws, Some(id), &[])
        .await
        .expect("load_context")
        .conversation
        .unwrap_or_else(|| panic!("conversation {id} is missing from {ws}"))
}

/// Pages through a list with `limit`, checking the paging promise, and returns every item.
pub(crate) async fn collect<T, F, Fut>(what: &str, limit: usize, mut fetch: F) -> Vec<T>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: Future<Output = Result<Page<T>, StoreError>>,
{
    let mut out = Vec::new();
    let mut cursor = None;
    // A bound so a store that never ends a list fails instead of hanging.
    for _ in 0..100_000 {
        let page = fetch(PageRequest {
            limit,
            cursor: cursor.clone(),
        })
        .await
        .unwrap_or_else(|e| panic!("{what}: paging failed: {e}"));
        assert!(
            page.items.len() <= limit,
            "{what}: a page holds {} items, more than the limit {limit}",
            page.items.len()
        );
        let full = page.items.len() == limit;
        out.extend(page.items);
        match page.next_cursor {
            Some(c) => {
                assert!(full, "{what}: a page with a next cursor is not full");
                cursor = Some(c);
            }
            None => return out,
        }
    }
    panic!("{what}: the list never ended");
}

#[cfg(all(test, feature = "sqlite"))]
mod packing {
    use super::{T0, Ws};
    use crate::port::{Commit, MAX_COMMIT_ITEMS};
    use crate::sqlite::SqliteStore;
    use inbox_domain::Write;

    #[tokio::test]
    async fn packed_commits_keep_every_write_in_order_within_the_item_limit() {
        let store = SqliteStore::in_memory().expect("an in-memory store");
        let ws = Ws::new(&store, "packing").await;
        let writes: Vec<Write> = (0..80).flat_map(|_| ws.create(None, T0).writes).collect();
        let commits = Commit::packed(&ws.id, writes.clone(), 2);
        assert!(commits.len() > 1, "80 conversations do not fit one commit");
        let flattened: Vec<Write> = commits.iter().flat_map(|c| c.writes.clone()).collect();
        assert_eq!(flattened, writes, "every write, once, in order");
        for (i, c) in commits.iter().enumerate() {
            let items: usize = c.writes.iter().map(Commit::items_of).sum::<usize>() + 2;
            assert!(items <= MAX_COMMIT_ITEMS, "commit {i} has {items} items");
            // Greedy: the next commit's first write would not have fitted.
            if let Some(next) = commits.get(i + 1).and_then(|n| n.writes.first()) {
                assert!(items + Commit::items_of(next) > MAX_COMMIT_ITEMS);
            }
            assert_eq!(c.workspace_id, ws.id);
        }
        assert_eq!(
            Commit::packed(&ws.id, Vec::new(), 2).len(),
            1,
            "never empty"
        );
    }
}
