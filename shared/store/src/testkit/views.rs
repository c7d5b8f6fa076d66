//! Views and filters against the domain's predicates, cursors, member flags, due timers.

use super::SuiteConfig;
use super::fixtures::{SharedIds, T0, Ws, agent_actor, collect, commit_of, load, run_tag};
use crate::port::{Commit, DueTimer, PageRequest, Store, StoreError};
use futures::future::join_all;
use inbox_domain::ids::{IdGen, IdKind};
use inbox_domain::model::{
    ActorKind, ActorRef, AgentAssignment, AgentSession, AutoCloseTimer, Closing, ClosingSource,
    ContactSnapshot, Conversation, MemberFlags, NamedRef, Responder, ResponderKind, SenderKind,
    Status,
};
use inbox_domain::views::list_order;
use inbox_domain::{Command, Filters, ListQuery, Timestamp, View, Write};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, BTreeSet};

/// The due-timer check's era (2001-09-09), far from every other check's data.
const T_TIMERS: Timestamp = Timestamp::from_millis(1_000_000_000_000);

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len())]
}

fn minutes(n: i64) -> i64 {
    n * 60_000
}

/// A conversation with random fields around `base`; many share an activity time.
fn random_conversation(rng: &mut StdRng, ws: &str, id: String, base: Timestamp) -> Conversation {
    let status = *pick(
        rng,
        &[Status::Unset, Status::Open, Status::Open, Status::Closed],
    );
    let closed = status == Status::Closed;
    let named = |id: &str| NamedRef {
        id: id.to_string(),
        name: id.to_uppercase(),
    };
    let assignee = pick(rng, &[None, Some("bob"), Some("carol"), Some("dave")]).map(named);
    let team = pick(rng, &[None, Some("support"), Some("sales")]).map(named);
    let channel_id = pick(rng, &[None, Some("sms-main"), Some("wa-main")]).map(str::to_string);
    let contact_no = rng.gen_range(0..12);
    let last_activity_at = base.plus_millis(-minutes(rng.gen_range(0..40)));
    let created_at = last_activity_at.plus_millis(-minutes(rng.gen_range(0..1000)));
    let agent = rng.gen_bool(0.3).then(|| AgentAssignment {
        id: "max".into(),
        name: "Max".into(),
        session: Some(AgentSession {
            id: format!("as_{id}"),
            active: !closed && rng.gen_bool(0.5),
            started_at: created_at,
        }),
    });
    let last_responder = pick(
        rng,
        &[
            None,
            Some((ResponderKind::Human, "bob")),
            Some((ResponderKind::Human, "carol")),
            Some((ResponderKind::Ai, "max")),
            Some((ResponderKind::Ai, "ada")),
        ],
    )
    .map(|(kind, id)| Responder {
        kind,
        id: id.to_string(),
    });
    let auto_close = (!closed && rng.gen_bool(0.5)).then(|| AutoCloseTimer {
        // Whole minutes around `base`: due times tie, and some are exactly `base`.
        due_at: base.plus_millis(minutes(rng.gen_range(-60..=30))),
        after_seconds: 3600,
    });
    let mut labels: Vec<String> = ["billing", "bug", "refund", "vip"]
        .iter()
        .filter(|_| rng.gen_bool(0.3))
        .map(|l| l.to_string())
        .collect();
    labels.sort();
    Conversation {
        workspace_id: ws.to_string(),
        id,
        channel_id,
        channel_kind: None,
        contact: ContactSnapshot {
            id: format!("ct_{ws}_{contact_no}"),
            name: Some(format!("Contact {contact_no}")),
            blocked: false,
            has_lead: contact_no % 3 != 0,
        },
        status,
        assignee,
        team,
        agent,
        human_handoff: rng.gen_bool(0.3),
        last_responder,
        auto_close,
        timer_generation: rng.gen_range(0..5),
        snoozed_until: None,
        labels,
        closing: closed.then(|| Closing {
            at: last_activity_at,
            source: ClosingSource::Manual,
            by: ActorRef {
                kind: ActorKind::Member,
                id: Some("bob".into()),
            },
            note: None,
        }),
        created_at,
        last_activity_at,
        last_contact_message_at: rng.gen_bool(0.7).then_some(created_at),
        last_message_sender: Some(*pick(rng, &[SenderKind::Contact, SenderKind::Member])),
        member_flags: BTreeMap::new(),
        contact_address: None,
        failed_deliveries: Vec::new(),
        version: 1,
    }
}

/// The creation of `conv` as a commit.
fn create_commit(conv: &Conversation) -> Commit {
    Commit::new(conv.workspace_id.clone()).with_writes([Write {
        conversation: conv.clone(),
        expected_version: None,
        timeline: vec![],
        messages: vec![],
        events: vec![],
        delivery: None,
    }])
}

/// The next version of `conv` (already changed by the caller), as a commit.
fn update_commit(before: &Conversation, after: &Conversation) -> Commit {
    let mut after = after.clone();
    after.version = before.version + 1;
    Commit::new(after.workspace_id.clone()).with_writes([Write {
        conversation: after,
        expected_version: Some(before.version),
        timeline: vec![],
        messages: vec![],
        events: vec![],
        delivery: None,
    }])
}

/// Writes conversations a few at a time.
async fn store_all<S: Store + ?Sized>(store: &S, convs: &[Conversation]) {
    for chunk in convs.chunks(16) {
        for r in join_all(chunk.iter().map(|c| store.commit(create_commit(c)))).await {
            r.expect("create conversation");
        }
    }
}

/// A data set over two workspaces: (workspace a, workspace b, every conversation).
async fn data_set<S: Store + ?Sized>(
    store: &S,
    cfg: &SuiteConfig,
    check: &str,
    base: Timestamp,
    n: usize,
) -> (String, String, Vec<Conversation>) {
    let run = run_tag();
    let (a, b) = (format!("ws-{check}-a-{run}"), format!("ws-{check}-b-{run}"));
    let mut ids = SharedIds::new(&run);
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let convs: Vec<Conversation> = (0..n)
        .map(|i| {
            let ws = if i % 3 == 2 { &b } else { &a };
            random_conversation(&mut rng, ws, ids.new_id(IdKind::Conversation), base)
        })
        .collect();
    store_all(store, &convs).await;
    (a, b, convs)
}

/// Lists `query` for `caller` through pages of `limit` and compares with the domain's selection.
async fn expect_listing<S: Store + ?Sized>(
    store: &S,
    ws: &str,
    all: &[Conversation],
    query: &ListQuery,
    caller: &str,
    limit: usize,
) {
    let mut expected: Vec<&Conversation> = all
        .iter()
        .filter(|c| c.workspace_id == ws && query.matches(c, caller))
        .collect();
    expected.sort_by(|x, y| list_order(x, y));
    let what = format!("{query:?} for {caller}");
    let actual = collect(&what, limit, |p| async move {
        store.list_conversations(ws, query, caller, &p).await
    })
    .await;
    let want_ids: Vec<&str> = expected.iter().map(|c| c.id.as_str()).collect();
    let got_ids: Vec<&str> = actual.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        got_ids, want_ids,
        "{what}: the listed ids differ from the domain's selection"
    );
    for (got, want) in actual.iter().zip(expected) {
        assert_eq!(
            got, want,
            "{what}: a listed conversation differs from the stored one"
        );
    }
}

fn filter_sets() -> Vec<Filters> {
    let f = Filters::default;
    vec![
        f(),
        Filters {
            team: Some("support".into()),
            ..f()
        },
        Filters {
            team: Some("sales".into()),
            ..f()
        },
        Filters {
            team: Some("ghost".into()),
            ..f()
        },
        Filters {
            label: Some("billing".into()),
            ..f()
        },
        Filters {
            label: Some("vip".into()),
            ..f()
        },
        Filters {
            channel_id: Some("sms-main".into()),
            ..f()
        },
        Filters {
            channel_id: Some("wa-main".into()),
            ..f()
        },
        Filters {
            agent_type: Some(ResponderKind::Ai),
            ..f()
        },
        Filters {
            agent_type: Some(ResponderKind::Human),
            ..f()
        },
        Filters {
            responded_by: Some("bob".into()),
            ..f()
        },
        Filters {
            responded_by: Some("max".into()),
            ..f()
        },
        Filters {
            status: Some(Status::Unset),
            ..f()
        },
        Filters {
            status: Some(Status::Open),
            ..f()
        },
        Filters {
            status: Some(Status::Closed),
            ..f()
        },
        Filters {
            team: Some("sales".into()),
            label: Some("vip".into()),
            ..f()
        },
        Filters {
            channel_id: Some("wa-main".into()),
            agent_type: Some(ResponderKind::Human),
            status: Some(Status::Open),
            ..f()
        },
        Filters {
            team: Some("support".into()),
            label: Some("billing".into()),
            responded_by: Some("carol".into()),
            ..f()
        },
    ]
}

/// Every view with every filter, for several callers, on a random data set
/// over two workspaces (with activity-time ties and per-member flags): the
/// store lists exactly what `ListQuery::matches` selects, in `list_order`,
/// through pages of `page_limit`; cursors are stable.
pub async fn check_views<S: Store + ?Sized>(store: &S, cfg: &SuiteConfig) {
    let (a, b, mut all) = data_set(store, cfg, "views", T0, cfg.conversations).await;
    // Some members' flags, which lists return with the conversation.
    let mut rng = StdRng::seed_from_u64(cfg.seed ^ 0xf1a6);
    for conv in all.iter_mut().filter(|c| c.workspace_id == a) {
        if rng.gen_bool(0.2) {
            let member = pick(&mut rng, &["bob", "carol"]).to_string();
            let flags = MemberFlags {
                read_at: Some(T0.plus_millis(-minutes(rng.gen_range(0..60)))),
                marked_unread: rng.gen_bool(0.3),
                favorite: rng.gen_bool(0.5),
            };
            store
                .set_member_flags(&a, &conv.id, &member, &flags)
                .await
                .expect("set_member_flags");
            conv.member_flags.insert(member, flags);
        }
    }
    let limit = cfg.page_limit.max(1);
    for view in View::ALL {
        let callers: &[&str] = match view {
            View::Mine | View::AssignedToMe => &["bob", "carol", "nobody"],
            _ => &["bob"],
        };
        for filters in filter_sets() {
            let query = ListQuery { view, filters };
            for caller in callers {
                expect_listing(store, &a, &all, &query, caller, limit).await;
            }
        }
        let query = ListQuery {
            view,
            filters: Filters::default(),
        };
        expect_listing(store, &b, &all, &query, "carol", limit).await;
    }
    // Larger pages give the same list.
    let everything = ListQuery {
        view: View::All,
        filters: Filters::default(),
    };
    expect_listing(store, &a, &all, &everything, "bob", 200).await;

    // A cursor gives the same page every time.
    let first = store
        .list_conversations(&a, &everything, "bob", &PageRequest::first(limit))
        .await
        .expect("first page");
    let cursor = first.next_cursor.clone().expect("more than one page");
    let page = PageRequest {
        limit,
        cursor: Some(cursor),
    };
    let second = store
        .list_conversations(&a, &everything, "bob", &page)
        .await
        .expect("second page");
    let again = store
        .list_conversations(&a, &everything, "bob", &page)
        .await
        .expect("second page again");
    assert_eq!(second, again, "a cursor is stable");
}

/// Malformed cursors, and cursors of another query, workspace, conversation
/// or list, are `InvalidCursor`.
pub async fn check_cursors<S: Store + ?Sized>(store: &S, cfg: &SuiteConfig) {
    let ws = Ws::new(store, "cursors").await;
    let other = Ws::new(store, "cursors").await;
    let w = ws.id.as_str();
    let bob = agent_actor("bob");
    let mut convs = Vec::new();
    for i in 0..3 {
        for s in [&ws, &other] {
            let created = s.create(Some("sms-main"), T0.plus_seconds(i));
            store.commit(commit_of(&created)).await.expect("create");
            if s.id == ws.id {
                convs.push(created.conversation);
            }
        }
    }
    // Several timeline events and messages, to have cursors.
    for c in &convs[..2] {
        let mut conv = c.clone();
        for i in 0..3 {
            let out = ws.decide(
                &conv,
                Command::PostMessage {
                    body: format!("reply {i}"),
                    on_closed: None,
                    sender: None,
                },
                &bob,
                T0.plus_seconds(10 + i),
            );
            store.commit(commit_of(&out)).await.expect("reply");
            let note = ws.decide(
                &out.conversation,
                Command::AddNote {
                    body: format!("note {i}"),
                },
                &bob,
                T0.plus_seconds(10 + i),
            );
            store.commit(commit_of(&note)).await.expect("note");
            conv = note.conversation;
        }
    }
    let _ = cfg;
    let all = ListQuery {
        view: View::All,
        filters: Filters::default(),
    };
    let first = |c: &str| PageRequest {
        limit: 1,
        cursor: Some(c.to_string()),
    };
    let list_cursor = store
        .list_conversations(w, &all, "bob", &PageRequest::first(1))
        .await
        .expect("list")
        .next_cursor
        .expect("a list cursor");
    let timeline_cursor = store
        .list_timeline(w, &convs[0].id, &PageRequest::first(1))
        .await
        .expect("timeline")
        .next_cursor
        .expect("a timeline cursor");
    let message_cursor = store
        .list_messages(w, &convs[0].id, &PageRequest::first(1))
        .await
        .expect("messages")
        .next_cursor
        .expect("a message cursor");
    let garbage = [
        "garbage",
        "!!!",
        "eyJub3QiOiJ5b3VycyJ9",
        "AAAAAAAAAAAAAAAAAAAAAAAA",
    ];
    let invalid = |what: &str, r: Result<(), StoreError>| {
        assert!(
            matches!(r, Err(StoreError::InvalidCursor)),
            "{what}: expected InvalidCursor, got {r:?}"
        );
    };
    for g in garbage {
        invalid(
            "garbage list cursor",
            store
                .list_conversations(w, &all, "bob", &first(g))
                .await
                .map(drop),
        );
        invalid(
            "garbage timeline cursor",
            store
                .list_timeline(w, &convs[0].id, &first(g))
                .await
                .map(drop),
        );
        invalid(
            "garbage message cursor",
            store
                .list_messages(w, &convs[0].id, &first(g))
                .await
                .map(drop),
        );
        invalid(
            "garbage due-timer cursor",
            store.due_timers(T0, &first(g)).await.map(drop),
        );
        invalid(
            "garbage contact-note cursor",
            store
                .list_contact_notes(w, &ws.contact.id, &first(g))
                .await
                .map(drop),
        );
    }
    let resolved = ListQuery {
        view: View::Resolved,
        filters: Filters::default(),
    };
    invalid(
        "a list cursor for another view",
        store
            .list_conversations(w, &resolved, "bob", &first(&list_cursor))
            .await
            .map(drop),
    );
    let filtered = ListQuery {
        view: View::All,
        filters: Filters {
            channel_id: Some("sms-main".into()),
            ..Filters::default()
        },
    };
    invalid(
        "a list cursor for other filters",
        store
            .list_conversations(w, &filtered, "bob", &first(&list_cursor))
            .await
            .map(drop),
    );
    invalid(
        "a list cursor in another workspace",
        store
            .list_conversations(&other.id, &all, "bob", &first(&list_cursor))
            .await
            .map(drop),
    );
    invalid(
        "a timeline cursor of another conversation",
        store
            .list_timeline(w, &convs[1].id, &first(&timeline_cursor))
            .await
            .map(drop),
    );
    invalid(
        "a message cursor of another conversation",
        store
            .list_messages(w, &convs[1].id, &first(&message_cursor))
            .await
            .map(drop),
    );
    invalid(
        "a list cursor for the timeline",
        store
            .list_timeline(w, &convs[0].id, &first(&list_cursor))
            .await
            .map(drop),
    );
    invalid(
        "a timeline cursor for messages",
        store
            .list_messages(w, &convs[0].id, &first(&timeline_cursor))
            .await
            .map(drop),
    );
    // The real cursors still work where they belong.
    store
        .list_conversations(w, &all, "bob", &first(&list_cursor))
        .await
        .expect("the list cursor");
    store
        .list_timeline(w, &convs[0].id, &first(&timeline_cursor))
        .await
        .expect("the timeline cursor");
}

/// Per-member flags: set without a version bump, returned with the
/// conversation (context and lists), kept apart per member, and never lost
/// to a commit decided on a read from before they were set.
pub async fn check_member_flags<S: Store + ?Sized>(store: &S, _cfg: &SuiteConfig) {
    let ws = Ws::new(store, "flags").await;
    let w = ws.id.as_str();
    let created = ws.create(Some("sms-main"), T0);
    store.commit(commit_of(&created)).await.expect("create");
    let before = load(store, w, &created.conversation.id).await;
    let id = before.id.clone();
    let bob_flags = MemberFlags {
        read_at: Some(T0.plus_seconds(5)),
        marked_unread: false,
        favorite: true,
    };
    let carol_flags = MemberFlags {
        read_at: None,
        marked_unread: true,
        favorite: false,
    };
    store
        .set_member_flags(w, &id, "bob", &bob_flags)
        .await
        .expect("set_member_flags");
    store
        .set_member_flags(w, &id, "carol", &carol_flags)
        .await
        .expect("set_member_flags");
    let flagged = load(store, w, &id).await;
    assert_eq!(
        flagged.version, before.version,
        "flags never bump the version"
    );
    assert_eq!(flagged.member_flags.get("bob"), Some(&bob_flags));
    assert_eq!(flagged.member_flags.get("carol"), Some(&carol_flags));
    assert_eq!(flagged.member_flags.len(), 2);
    let mut expected = before.clone();
    expected.member_flags = flagged.member_flags.clone();
    assert_eq!(flagged, expected, "flags change nothing else");

    // A commit decided on the read from before the flags keeps them.
    let note = ws.decide(
        &before,
        Command::AddNote {
            body: "decided before the flags".into(),
        },
        &agent_actor("bob"),
        T0.plus_seconds(6),
    );
    store.commit(commit_of(&note)).await.expect("commit");
    let after = load(store, w, &id).await;
    assert_eq!(after.version, before.version + 1);
    assert_eq!(
        after.member_flags, flagged.member_flags,
        "a commit never loses flags"
    );

    // Replacing one member's flags leaves the other's.
    let bob_read = MemberFlags {
        read_at: Some(T0.plus_seconds(7)),
        marked_unread: false,
        favorite: false,
    };
    store
        .set_member_flags(w, &id, "bob", &bob_read)
        .await
        .expect("set_member_flags");
    let listed = store
        .list_conversations(
            w,
            &ListQuery {
                view: View::All,
                filters: Filters::default(),
            },
            "bob",
            &PageRequest::first(10),
        )
        .await
        .expect("list_conversations");
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].member_flags.get("bob"), Some(&bob_read));
    assert_eq!(
        listed.items[0].member_flags.get("carol"),
        Some(&carol_flags)
    );
    assert_eq!(listed.items[0].version, before.version + 1);
}

fn timer_of(c: &Conversation) -> Option<DueTimer> {
    let due = c.auto_close.as_ref()?.due_at;
    (!c.is_closed()).then(|| DueTimer {
        workspace_id: c.workspace_id.clone(),
        conversation_id: c.id.clone(),
        due_at: due,
        generation: c.timer_generation,
    })
}

async fn due_in<S: Store + ?Sized>(
    store: &S,
    now: Timestamp,
    limit: usize,
    workspaces: &[&str],
) -> BTreeSet<(String, String, i64, u64)> {
    let items = collect("due timers", limit, |p| async move {
        store.due_timers(now, &p).await
    })
    .await;
    let mut seen = BTreeSet::new();
    for t in &items {
        assert!(
            t.due_at <= now,
            "a timer due at {} is not due at {now}",
            t.due_at
        );
        assert!(
            seen.insert((t.workspace_id.clone(), t.conversation_id.clone())),
            "the timer of {} is listed twice",
            t.conversation_id
        );
    }
    items
        .into_iter()
        .filter(|t| workspaces.contains(&t.workspace_id.as_str()))
        .map(|t| {
            (
                t.workspace_id,
                t.conversation_id,
                t.due_at.as_millis(),
                t.generation,
            )
        })
        .collect()
}

fn expected_due(all: &[Conversation], now: Timestamp) -> BTreeSet<(String, String, i64, u64)> {
    all.iter()
        .filter_map(timer_of)
        .filter(|t| t.due_at <= now)
        .map(|t| {
            (
                t.workspace_id,
                t.conversation_id,
                t.due_at.as_millis(),
                t.generation,
            )
        })
        .collect()
}

/// `due_timers` lists exactly the armed timers of open conversations due at
/// or before `now`, across workspaces, each once, through pages; moving,
/// disarming or closing takes a timer off the list.
pub async fn check_due_timers<S: Store + ?Sized>(store: &S, cfg: &SuiteConfig) {
    let n = (cfg.conversations / 3).max(30);
    let (a, b, mut all) = data_set(store, cfg, "timers", T_TIMERS, n).await;
    let ws = [a.as_str(), b.as_str()];
    let limit = cfg.page_limit.max(1);
    for now in [
        T_TIMERS.plus_millis(-minutes(61)),
        T_TIMERS.plus_millis(-minutes(20)),
        T_TIMERS,
    ] {
        assert_eq!(
            due_in(store, now, limit, &ws).await,
            expected_due(&all, now),
            "due timers at {now}"
        );
    }
    let due_now: Vec<usize> = (0..all.len())
        .filter(|&i| timer_of(&all[i]).is_some_and(|t| t.due_at <= T_TIMERS))
        .collect();
    assert!(due_now.len() >= 3, "the data set has due timers");
    let not_armed = (0..all.len()).find(|&i| !all[i].is_closed() && all[i].auto_close.is_none());

    // Move one later, disarm one, close one, arm one exactly at now.
    let mut changes = Vec::new();
    let (i, j, k) = (due_now[0], due_now[1], due_now[2]);
    let mut moved = all[i].clone();
    if let Some(t) = moved.auto_close.as_mut() {
        t.due_at = T_TIMERS.plus_seconds(3600);
    }
    moved.timer_generation += 1;
    changes.push((i, moved));
    let mut disarmed = all[j].clone();
    disarmed.auto_close = None;
    disarmed.timer_generation += 1;
    changes.push((j, disarmed));
    let mut closed = all[k].clone();
    closed.status = Status::Closed;
    closed.auto_close = None;
    closed.timer_generation += 1;
    changes.push((k, closed));
    if let Some(x) = not_armed {
        let mut armed = all[x].clone();
        armed.auto_close = Some(AutoCloseTimer {
            due_at: T_TIMERS,
            after_seconds: 60,
        });
        armed.timer_generation += 1;
        changes.push((x, armed));
    }
    for (idx, after) in changes {
        let commit = update_commit(&all[idx], &after);
        store.commit(commit.clone()).await.expect("update timer");
        all[idx] = commit.writes[0].conversation.clone();
    }
    assert_eq!(
        due_in(store, T_TIMERS, limit, &ws).await,
        expected_due(&all, T_TIMERS),
        "due timers after changes"
    );
    assert_eq!(
        due_in(store, T_TIMERS.plus_seconds(7200), 200, &ws).await,
        expected_due(&all, T_TIMERS.plus_seconds(7200)),
        "every armed timer is due later"
    );
}
