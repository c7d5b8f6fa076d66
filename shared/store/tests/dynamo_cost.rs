//! The request budget on DynamoDB (moto), counted by an SDK interceptor:
//! a command is one read and one write request, a list page one `Query`,
//! a sweep's cost follows the due timers, and nothing ever scans.

use inbox_domain::model::{Contact, Conversation, Lookup, Member, Status, Team};
use inbox_domain::settings::Settings;
use inbox_domain::{
    Actor, Caller, Command, Ctx, ExtractiveNotes, Filters, ListQuery, Outcome, Role, Timestamp,
    View, create_conversation, decide,
};
use inbox_store::dynamo::table::TIMER_SHARDS;
use inbox_store::dynamo::testing::fresh_store;
use inbox_store::dynamo::{DynamoStore, OperationCounter};
use inbox_store::{
    CommandContext, Commit, ContactStore, ConversationStore, DedupeKey, DirectoryEntry,
    DirectoryStore, LookupKey, PageRequest, UlidIds,
};

const T0: Timestamp = Timestamp::from_millis(1_790_000_000_000);

struct Rig {
    store: DynamoStore,
    counter: OperationCounter,
    ws: String,
    ids: UlidIds,
    contact: Contact,
}

fn bob() -> Actor {
    Actor::Caller(Caller::new("bob", Role::Agent, Some("Bob Ray")))
}

impl Rig {
    async fn new(name: &str) -> Rig {
        let (store, counter) = fresh_store(name).await.unwrap_or_else(|e| panic!("{e}"));
        let ws = "ws-cost".to_string();
        let mut settings = Settings::default();
        settings.auto_close.enabled = true;
        settings.auto_close.after_seconds = 60;
        store.put_settings(&ws, &settings).await.unwrap();
        for (id, name) in [("bob", "Bob Ray"), ("carol", "Carol Diaz")] {
            let m = Member {
                id: id.into(),
                name: name.into(),
                email: None,
                role: Role::Agent,
            };
            store.put_member(&ws, &m).await.unwrap();
        }
        let team = Team {
            id: "support".into(),
            name: "Support".into(),
            member_ids: vec!["bob".into()],
        };
        store.put_team(&ws, &team).await.unwrap();
        let contact = Contact {
            id: "ct_cost".into(),
            name: Some("Ann".into()),
            email: Some("ann@example.com".into()),
            phone: None,
            blocked: false,
            created_at: T0,
        };
        store.create_contact(&ws, &contact).await.unwrap();
        Rig {
            store,
            counter,
            ws,
            ids: UlidIds::default(),
            contact,
        }
    }

    /// One command by bob.
    async fn command(
        &self,
        conv_id: Option<&str>,
        lookups: &[LookupKey],
        now: Timestamp,
        dedupe: Option<DedupeKey>,
        decide_with: impl FnOnce(&CommandContext, &mut Ctx<'_>) -> Outcome,
    ) -> Conversation {
        self.command_as(&bob(), conv_id, lookups, now, dedupe, decide_with)
            .await
    }

    /// One command through the store, asserting it costs one read and one write request.
    async fn command_as(
        &self,
        actor: &Actor,
        conv_id: Option<&str>,
        lookups: &[LookupKey],
        now: Timestamp,
        dedupe: Option<DedupeKey>,
        decide_with: impl FnOnce(&CommandContext, &mut Ctx<'_>) -> Outcome,
    ) -> Conversation {
        self.counter.reset();
        let ctx = self
            .store
            .load_context(&self.ws, conv_id, lookups)
            .await
            .unwrap();
        let mut ids = self.ids.clone();
        let mut dctx = Ctx {
            now,
            actor,
            settings: &ctx.settings,
            ids: &mut ids,
            notes: &ExtractiveNotes,
        };
        let outcome = decide_with(&ctx, &mut dctx);
        assert!(
            !outcome.is_noop(),
            "the cost test's commands all change something"
        );
        self.store
            .commit(Commit {
                workspace_id: outcome.conversation.workspace_id.clone(),
                writes: outcome.writes.clone(),
                dedupe,
                provision: None,
                job: None,
            })
            .await
            .unwrap();
        let ops = self.counter.snapshot();
        assert_eq!(ops.get("BatchGetItem"), Some(&1), "one read: {ops:?}");
        assert_eq!(
            ops.get("TransactWriteItems"),
            Some(&1),
            "one write: {ops:?}"
        );
        assert_eq!(self.counter.total(), 2, "nothing else: {ops:?}");
        outcome.conversation
    }

    async fn create(&self, now: Timestamp) -> Conversation {
        let contact = self.contact.clone();
        let ws = self.ws.clone();
        self.command(None, &[], now, None, |_, ctx| {
            create_conversation(
                &ws,
                &contact,
                Some(inbox_domain::ChannelRef::new(
                    "sms",
                    inbox_domain::ChannelKind::Twilio,
                )),
                ctx,
            )
            .unwrap()
        })
        .await
    }

    async fn on(&self, conv: &Conversation, cmd: Command, now: Timestamp) -> Conversation {
        self.command(Some(&conv.id), &[], now, None, |ctx, dctx| {
            decide(ctx.conversation.as_ref().unwrap(), cmd, dctx).unwrap()
        })
        .await
    }
}

fn member_lookup(ctx: &CommandContext, id: &str) -> Lookup<Member> {
    match ctx.people.get(id) {
        Some(DirectoryEntry::Member(m)) => Lookup::Found(m.clone()),
        Some(DirectoryEntry::Agent(a)) => Lookup::AiAgent(a.clone()),
        None => Lookup::Unknown(id.into()),
    }
}

fn query(view: View) -> ListQuery {
    ListQuery {
        view,
        filters: Filters::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_is_one_read_and_one_write() {
    let rig = Rig::new("cost-commands").await;
    let t = |s: i64| T0.plus_seconds(s);
    let conv = rig.create(t(1)).await;

    let conv = rig
        .command(
            Some(&conv.id),
            &[LookupKey::Person("carol".into())],
            t(2),
            None,
            |ctx, dctx| {
                let target = member_lookup(ctx, "carol");
                decide(
                    ctx.conversation.as_ref().unwrap(),
                    Command::Assign { target },
                    dctx,
                )
                .unwrap()
            },
        )
        .await;
    assert_eq!(conv.assignee_id(), Some("carol"));
    let conv = rig.on(&conv, Command::Takeover, t(3)).await;
    let conv = rig
        .command(
            Some(&conv.id),
            &[LookupKey::Team("support".into())],
            t(4),
            None,
            |ctx, dctx| {
                let team = ctx.teams.get("support").cloned().map(Lookup::Found);
                decide(
                    ctx.conversation.as_ref().unwrap(),
                    Command::SetTeam { team },
                    dctx,
                )
                .unwrap()
            },
        )
        .await;
    let reply = Command::PostMessage {
        body: "Hello Ann".into(),
        on_closed: None,
        sender: None,
    };
    let conv = rig.on(&conv, reply, t(5)).await;
    assert!(conv.auto_close.is_some(), "a human reply arms the timer");
    // A contact message through a channel, deduplicated in the same transaction.
    let dedupe = DedupeKey {
        workspace_id: rig.ws.clone(),
        channel_id: "sms".into(),
        message_id: "SM1".into(),
        expires_at: t(86_400),
    };
    let contact = Actor::Contact {
        id: rig.contact.id.clone(),
    };
    let conv = rig
        .command_as(
            &contact,
            Some(&conv.id),
            &[],
            t(6),
            Some(dedupe),
            |ctx, dctx| {
                let cmd = Command::ContactMessage {
                    body: "Thanks".into(),
                    channel_message_id: Some("SM1".into()),
                    first_agent: None,
                };
                decide(ctx.conversation.as_ref().unwrap(), cmd, dctx).unwrap()
            },
        )
        .await;
    let conv = rig
        .on(
            &conv,
            Command::Labels {
                add: vec!["billing".into()],
                remove: vec![],
            },
            t(7),
        )
        .await;
    let conv = rig
        .on(&conv, Command::AddNote { body: "VIP".into() }, t(8))
        .await;
    let conv = rig.on(&conv, Command::Handoff { reason: None }, t(9)).await;
    let conv = rig
        .on(
            &conv,
            Command::SetStatus {
                status: Status::Closed,
                closing_note: None,
                recent_messages: vec![],
            },
            t(10),
        )
        .await;
    assert_eq!(conv.status, Status::Closed);

    // Member flags: one UpdateItem, no read.
    rig.counter.reset();
    let flags = inbox_domain::model::MemberFlags {
        read_at: Some(t(11)),
        marked_unread: false,
        favorite: true,
    };
    rig.store
        .set_member_flags(&rig.ws, &conv.id, "bob", &flags)
        .await
        .unwrap();
    assert_eq!(rig.counter.count("UpdateItem"), 1);
    assert_eq!(rig.counter.total(), 1);
    assert_eq!(rig.counter.count("Scan"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_list_page_is_one_query_and_sweeps_follow_due_timers() {
    let rig = Rig::new("cost-views").await;
    let mut convs = Vec::new();
    for i in 0..24i64 {
        let mut c = rig.create(T0.plus_seconds(i)).await;
        if i % 2 == 0 {
            c = rig
                .command(
                    Some(&c.id),
                    &[LookupKey::Person("bob".into())],
                    T0.plus_seconds(100 + i),
                    None,
                    |ctx, dctx| {
                        let target = member_lookup(ctx, "bob");
                        decide(
                            ctx.conversation.as_ref().unwrap(),
                            Command::Assign { target },
                            dctx,
                        )
                        .unwrap()
                    },
                )
                .await;
        }
        if i % 3 == 0 {
            let reply = Command::PostMessage {
                body: "Hi".into(),
                on_closed: None,
                sender: None,
            };
            c = rig.on(&c, reply, T0.plus_seconds(200 + i)).await;
        }
        if i % 5 == 0 {
            c = rig
                .on(
                    &c,
                    Command::Handoff { reason: None },
                    T0.plus_seconds(300 + i),
                )
                .await;
        }
        if i % 7 == 0 {
            let close = Command::SetStatus {
                status: Status::Closed,
                closing_note: None,
                recent_messages: vec![],
            };
            c = rig.on(&c, close, T0.plus_seconds(400 + i)).await;
        }
        convs.push(c);
    }

    let mut queries = vec![query(View::All)];
    queries.extend(View::ALL.into_iter().map(query));
    queries.push(ListQuery {
        view: View::All,
        filters: Filters {
            status: Some(Status::Closed),
            ..Filters::default()
        },
    });
    for q in queries {
        let mut cursor = None;
        let mut pages = 0;
        loop {
            rig.counter.reset();
            let page = rig
                .store
                .list_conversations(
                    &rig.ws,
                    &q,
                    "bob",
                    &PageRequest {
                        limit: 5,
                        cursor: cursor.clone(),
                    },
                )
                .await
                .unwrap();
            let ops = rig.counter.snapshot();
            assert_eq!(
                ops.get("Query"),
                Some(&1),
                "{q:?}: one Query per page: {ops:?}"
            );
            assert_eq!(rig.counter.total(), 1, "{q:?}: nothing else: {ops:?}");
            let expected: Vec<&Conversation> =
                convs.iter().filter(|c| q.matches(c, "bob")).collect();
            assert!(page.items.iter().all(|c| q.matches(c, "bob")));
            pages += 1;
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => {
                    assert_eq!(pages, expected.len().div_ceil(5).max(1), "{q:?}");
                    break;
                }
            }
        }
    }

    // The sweep: one Query per shard while its due timers fit on a page,
    // however many conversations there are.
    let armed = convs
        .iter()
        .filter(|c| c.auto_close.is_some() && c.status != Status::Closed)
        .count();
    assert!(armed > 0);
    rig.counter.reset();
    let due = rig
        .store
        .due_timers(T0.plus_seconds(100_000), &PageRequest::first(200))
        .await
        .unwrap();
    assert_eq!(due.items.len(), armed);
    assert_eq!(rig.counter.count("Query"), u64::from(TIMER_SHARDS));
    assert_eq!(rig.counter.total(), u64::from(TIMER_SHARDS));
    // Nothing is due before the first timer.
    let none = rig
        .store
        .due_timers(T0, &PageRequest::first(200))
        .await
        .unwrap();
    assert!(none.items.is_empty());
    assert_eq!(rig.counter.count("Scan"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_over_the_transaction_limits_are_refused_before_sending() {
    let rig = Rig::new("cost-limits").await;
    let conv = rig.create(T0).await;
    let reply = Command::PostMessage {
        body: "hi".into(),
        on_closed: None,
        sender: None,
    };
    let actor = bob();
    let ctx = rig
        .store
        .load_context(&rig.ws, Some(&conv.id), &[])
        .await
        .unwrap();
    let mut ids = rig.ids.clone();
    let mut dctx = Ctx {
        now: T0.plus_seconds(1),
        actor: &actor,
        settings: &ctx.settings,
        ids: &mut ids,
        notes: &ExtractiveNotes,
    };
    let outcome = decide(ctx.conversation.as_ref().unwrap(), reply, &mut dctx).unwrap();
    // Over the 400 KB item limit (the domain caps bodies well below it).
    let mut big_writes = outcome.writes.clone();
    big_writes[0].messages[0].body = "x".repeat(500 * 1024);
    rig.counter.reset();
    let big = rig
        .store
        .commit(Commit::new(conv.workspace_id.clone()).with_writes(big_writes))
        .await;
    assert!(
        matches!(big, Err(inbox_store::StoreError::TooLarge(_))),
        "{big:?}"
    );

    let mut many = outcome.writes.clone();
    many[0].messages.clear();
    let event = inbox_domain::model::TimelineEvent {
        id: "evt_x".into(),
        conversation_id: conv.id.clone(),
        kind: inbox_domain::model::EventKind::NoteAdded {
            note_id: "note_x".into(),
            body: "x".into(),
        },
        at: T0,
        actor: inbox_domain::model::ActorRef::system(),
    };
    many[0].timeline = vec![event; 120];
    let too_many = rig
        .store
        .commit(Commit::new(conv.workspace_id.clone()).with_writes(many))
        .await;
    assert!(
        matches!(too_many, Err(inbox_store::StoreError::TooLarge(_))),
        "{too_many:?}"
    );
    assert_eq!(rig.counter.total(), 0, "refused before any request");
}
