//! Commits: command round-trips, ordering, conflicts, duplicates, races, the outbox.

use super::SuiteConfig;
use super::fixtures::{T0, Ws, agent_actor, ai_actor, collect, commit_of, load, member};
use crate::port::{DedupeKey, DirectoryEntry, LookupKey, Outbox, Store, StoreError};
use futures::future::join_all;
use inbox_domain::model::{
    Conversation, DomainEvent, EventKind, Lookup, Message, Status, TimelineEvent,
};
use inbox_domain::{
    Actor, ClosingNoteInput, Command, OnClosed, Outcome, SenderKind, Timestamp,
    receive_contact_message,
};

/// Every timeline event, message and outgoing event a conversation received.
#[derive(Default)]
struct Expected {
    timeline: Vec<TimelineEvent>,
    messages: Vec<Message>,
    events: Vec<DomainEvent>,
}

impl Expected {
    fn record(&mut self, outcome: &Outcome, conversation_id: &str) {
        for w in outcome
            .writes
            .iter()
            .filter(|w| w.conversation.id == conversation_id)
        {
            self.timeline.extend(w.timeline.iter().cloned());
            self.messages.extend(w.messages.iter().cloned());
            self.events.extend(w.events.iter().cloned());
        }
    }
}

/// Commits a decision and checks that the reloaded conversation is the decided one.
async fn apply<S: Store + ?Sized>(
    store: &S,
    ws: &Ws,
    outcome: &Outcome,
    expected: &mut Expected,
    step: &str,
) -> Conversation {
    assert!(!outcome.is_noop(), "{step}: the suite expected a change");
    store
        .commit(commit_of(outcome))
        .await
        .unwrap_or_else(|e| panic!("{step}: commit failed: {e}"));
    let stored = load(store, &ws.id, &outcome.conversation.id).await;
    assert_eq!(
        stored, outcome.conversation,
        "{step}: the reloaded conversation differs from the decided one"
    );
    expected.record(outcome, &outcome.conversation.id);
    stored
}

async fn timeline_of<S: Store + ?Sized>(
    store: &S,
    ws: &str,
    id: &str,
    limit: usize,
) -> Vec<TimelineEvent> {
    collect("timeline", limit, |p| async move {
        store.list_timeline(ws, id, &p).await
    })
    .await
}

async fn messages_of<S: Store + ?Sized>(
    store: &S,
    ws: &str,
    id: &str,
    limit: usize,
) -> Vec<Message> {
    collect("messages", limit, |p| async move {
        store.list_messages(ws, id, &p).await
    })
    .await
}

fn secs(n: i64) -> Timestamp {
    T0.plus_seconds(n)
}

/// Every command of the domain, committed and reloaded: the stored
/// conversation, timeline and messages are exactly what the decisions made;
/// `load_context` returns settings and lookups.
pub async fn check_round_trip<S: Store + ?Sized>(store: &S, _cfg: &SuiteConfig) {
    let ws = Ws::new(store, "roundtrip").await;
    let w = ws.id.as_str();

    let ctx = store
        .load_context(
            w,
            None,
            &[
                LookupKey::Person("bob".into()),
                LookupKey::Person("max".into()),
                LookupKey::Person("nobody".into()),
                LookupKey::Team("support".into()),
                LookupKey::Team("nope".into()),
                LookupKey::Channel("sms-main".into()),
            ],
        )
        .await
        .expect("load_context");
    assert_eq!(ctx.conversation, None);
    assert_eq!(
        ctx.settings, ws.settings,
        "load_context returns the stored settings"
    );
    assert_eq!(
        ctx.people.get("bob"),
        Some(&DirectoryEntry::Member(member("bob", "Bob Ray")))
    );
    assert!(matches!(ctx.people.get("max"), Some(DirectoryEntry::Agent(a)) if a.name == "Max"));
    assert!(!ctx.people.contains_key("nobody"));
    assert_eq!(
        ctx.teams.get("support").map(|t| t.name.as_str()),
        Some("Support")
    );
    assert!(!ctx.teams.contains_key("nope"));
    assert_eq!(
        ctx.channels.get("sms-main").map(|c| c.secret.as_str()),
        Some("secret-sms-main")
    );
    let missing = store
        .load_context(w, Some("conv_missing"), &[])
        .await
        .expect("load_context");
    assert_eq!(missing.conversation, None);

    let mut exp = Expected::default();
    let created = ws.create(Some("sms-main"), secs(0));
    let mut conv = apply(store, &ws, &created, &mut exp, "create").await;
    let id = conv.id.clone();
    let bob = agent_actor("bob");
    let carol = agent_actor("carol");
    let max = ai_actor("max");
    let contact = Actor::Contact {
        id: ws.contact.id.clone(),
    };
    let team = ctx.teams.get("support").cloned().expect("team");
    let agent = match ctx.people.get("max") {
        Some(DirectoryEntry::Agent(a)) => a.clone(),
        _ => panic!("max is an agent"),
    };
    let wa = store
        .get_channel(w, "wa-main")
        .await
        .expect("get_channel")
        .expect("wa-main");

    let steps: Vec<(&str, Command, &Actor)> = vec![
        (
            "assign",
            Command::Assign {
                target: Lookup::Found(member("bob", "Bob Ray")),
            },
            &carol,
        ),
        (
            "team",
            Command::SetTeam {
                team: Some(Lookup::Found(team)),
            },
            &bob,
        ),
        (
            "hand to agent",
            Command::HandToAgent {
                agent: Lookup::Found(agent),
                send_initial_message: true,
            },
            &bob,
        ),
        (
            "ai reply",
            Command::PostMessage {
                body: "Hi, I am Max.".into(),
                on_closed: None,
                sender: None,
            },
            &max,
        ),
        (
            "contact message",
            Command::ContactMessage {
                body: "My invoice is wrong.".into(),
                channel_message_id: Some("sm-1".into()),
            },
            &contact,
        ),
        (
            "handoff",
            Command::Handoff {
                reason: Some("billing question".into()),
            },
            &max,
        ),
        (
            "human reply",
            Command::PostMessage {
                body: "Let me check that invoice.".into(),
                on_closed: None,
                sender: None,
            },
            &bob,
        ),
        ("snooze", Command::Snooze { until: secs(7200) }, &bob),
        (
            "labels",
            Command::Labels {
                add: vec!["vip".into(), "billing".into()],
                remove: vec![],
            },
            &bob,
        ),
        (
            "note",
            Command::AddNote {
                body: "Customer since 2019.".into(),
            },
            &bob,
        ),
        (
            "transfer",
            Command::TransferChannel {
                channel: Lookup::Found(wa),
            },
            &bob,
        ),
        ("takeover", Command::Takeover, &carol),
        ("unsnooze", Command::Unsnooze, &carol),
        (
            "labels again",
            Command::Labels {
                add: vec![],
                remove: vec!["vip".into()],
            },
            &carol,
        ),
    ];
    let mut t = 1;
    for (step, cmd, actor) in steps {
        let outcome = ws.decide(&conv, cmd, actor, secs(t));
        conv = apply(store, &ws, &outcome, &mut exp, step).await;
        t += 1;
    }
    assert!(conv.auto_close.is_some(), "the human reply armed the timer");
    assert_eq!(conv.labels, vec!["billing".to_string()]);

    // A no-op decides no write.
    let noop = ws.decide(
        &conv,
        Command::Assign {
            target: Lookup::Found(member("carol", "Carol Diaz")),
        },
        &carol,
        secs(t),
    );
    assert!(noop.is_noop());

    // Close with a note, reopen, close, then a reply that starts a new conversation.
    let recent = store
        .latest_messages(w, &id, 100)
        .await
        .expect("latest_messages");
    assert_eq!(
        recent, exp.messages,
        "latest_messages(100) returns every message"
    );
    let close = ws.decide(
        &conv,
        Command::SetStatus {
            status: Status::Closed,
            closing_note: Some(ClosingNoteInput {
                category: None,
                summary: Some("Invoice corrected.".into()),
            }),
            recent_messages: recent,
        },
        &carol,
        secs(t),
    );
    conv = apply(store, &ws, &close, &mut exp, "close").await;
    assert!(conv.closing.is_some() && conv.auto_close.is_none());
    let reopen = ws.decide(
        &conv,
        Command::SetStatus {
            status: Status::Open,
            closing_note: None,
            recent_messages: vec![],
        },
        &carol,
        secs(t + 1),
    );
    conv = apply(store, &ws, &reopen, &mut exp, "reopen").await;
    let close = ws.decide(
        &conv,
        Command::SetStatus {
            status: Status::Closed,
            closing_note: None,
            recent_messages: vec![],
        },
        &carol,
        secs(t + 2),
    );
    conv = apply(store, &ws, &close, &mut exp, "close again").await;
    let reply_new = ws.decide(
        &conv,
        Command::PostMessage {
            body: "One more thing.".into(),
            on_closed: Some(OnClosed::NewConversation),
            sender: None,
        },
        &carol,
        secs(t + 3),
    );
    let second_id = reply_new.conversation.id.clone();
    assert_ne!(second_id, id);
    let mut exp_second = Expected::default();
    apply(
        store,
        &ws,
        &reply_new,
        &mut exp_second,
        "reply in a new conversation",
    )
    .await;
    assert_eq!(
        load(store, w, &id).await,
        conv,
        "the closed conversation is untouched"
    );
    let of_contact = store
        .conversations_of_contact(w, &ws.contact.id, 10)
        .await
        .expect("conversations_of_contact");
    let ids: Vec<&str> = of_contact.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        vec![second_id.as_str(), id.as_str()],
        "newest created first"
    );

    // Reopen by reply, block the contact (with its snapshot refresh), unblock.
    let reopen_reply = ws.decide(
        &conv,
        Command::PostMessage {
            body: "Reopening to add a detail.".into(),
            on_closed: Some(OnClosed::Reopen),
            sender: None,
        },
        &bob,
        secs(t + 4),
    );
    conv = apply(store, &ws, &reopen_reply, &mut exp, "reply reopen").await;
    let mut blocked = ws.contact.clone();
    blocked.blocked = true;
    let block = ws.decide(
        &conv,
        Command::ContactChanged {
            contact: blocked.clone(),
        },
        &bob,
        secs(t + 5),
    );
    store
        .update_contact(w, &blocked, commit_of(&block))
        .await
        .expect("update_contact");
    assert_eq!(load(store, w, &id).await, block.conversation);
    exp.record(&block, &id);
    conv = block.conversation.clone();
    assert_eq!(
        store
            .get_contact(w, &blocked.id)
            .await
            .expect("get_contact"),
        Some(blocked.clone())
    );
    let unblock = ws.decide(
        &conv,
        Command::ContactChanged {
            contact: ws.contact.clone(),
        },
        &bob,
        secs(t + 6),
    );
    store
        .update_contact(w, &ws.contact, commit_of(&unblock))
        .await
        .expect("update_contact");
    exp.record(&unblock, &id);
    conv = unblock.conversation.clone();

    // Integration message, directory clean-ups, agent removal, session end.
    let integration = Actor::Caller(inbox_domain::Caller::new(
        "crm",
        inbox_domain::Role::Integration,
        None,
    ));
    let t = t + 7;
    let more: Vec<(&str, Command, &Actor)> = vec![
        (
            "broadcast",
            Command::PostMessage {
                body: "Our office is closed on Friday.".into(),
                on_closed: None,
                sender: Some(SenderKind::Broadcast),
            },
            &integration,
        ),
        (
            "member removed",
            Command::MemberRemoved {
                member_id: "carol".into(),
            },
            &Actor::System,
        ),
        (
            "team removed",
            Command::TeamRemoved {
                team_id: "support".into(),
            },
            &Actor::System,
        ),
        (
            "hand to agent again",
            Command::HandToAgent {
                agent: Lookup::Found(inbox_domain::AiAgent {
                    id: "max".into(),
                    name: "Max".into(),
                }),
                send_initial_message: false,
            },
            &carol,
        ),
        ("end session", Command::EndAgentSession, &carol),
        ("unassign agent", Command::UnassignAgent, &carol),
        (
            "assign carol",
            Command::Assign {
                target: Lookup::Found(member("carol", "Carol Diaz")),
            },
            &carol,
        ),
        ("unassign", Command::Unassign, &carol),
        (
            "team again",
            Command::SetTeam {
                team: Some(Lookup::Found(inbox_domain::Team {
                    id: "support".into(),
                    name: "Support".into(),
                    member_ids: vec![],
                })),
            },
            &carol,
        ),
        ("team cleared", Command::SetTeam { team: None }, &carol),
        (
            "reply to arm the timer",
            Command::PostMessage {
                body: "Anything else?".into(),
                on_closed: None,
                sender: None,
            },
            &carol,
        ),
    ];
    for (i, (step, cmd, actor)) in more.into_iter().enumerate() {
        let at = secs(t + i64::try_from(i).unwrap_or(0));
        let outcome = ws.decide(&conv, cmd, actor, at);
        conv = apply(store, &ws, &outcome, &mut exp, step).await;
    }
    let due = conv.auto_close_at().expect("armed");
    let fire = ws.decide(
        &conv,
        Command::FireAutoClose {
            generation: conv.timer_generation,
            recent_messages: vec![],
        },
        &Actor::System,
        due,
    );
    conv = apply(store, &ws, &fire, &mut exp, "auto-close").await;
    assert_eq!(conv.status, Status::Closed);

    // Everything the decisions produced, in commit order, through small pages.
    for limit in [1, 3, 200] {
        assert_eq!(
            timeline_of(store, w, &id, limit).await,
            exp.timeline,
            "timeline (limit {limit})"
        );
        assert_eq!(
            messages_of(store, w, &id, limit).await,
            exp.messages,
            "messages (limit {limit})"
        );
    }
    assert_eq!(
        timeline_of(store, w, &second_id, 2).await,
        exp_second.timeline
    );
    assert_eq!(
        messages_of(store, w, &second_id, 2).await,
        exp_second.messages
    );
    let types: Vec<&str> = exp.timeline.iter().map(|e| e.kind.type_name()).collect();
    for wanted in [
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
        "contact_unblocked",
    ] {
        assert!(types.contains(&wanted), "the round trip covers {wanted}");
    }
}

/// Timeline events and messages list in commit order (version of the write,
/// then position in it) through pages of every size, per conversation;
/// `latest_messages` returns the latest n oldest first.
pub async fn check_timeline_and_messages<S: Store + ?Sized>(store: &S, _cfg: &SuiteConfig) {
    let ws = Ws::new(store, "order").await;
    let w = ws.id.as_str();
    let bob = agent_actor("bob");
    let mut exp_a = Expected::default();
    let mut exp_b = Expected::default();
    let a = ws.create(Some("sms-main"), T0);
    let b = ws.create(Some("sms-main"), T0);
    let mut conv_a = apply(store, &ws, &a, &mut exp_a, "create a").await;
    let mut conv_b = apply(store, &ws, &b, &mut exp_b, "create b").await;
    let contact = Actor::Contact {
        id: ws.contact.id.clone(),
    };
    // Interleaved writes; some with several events and a message each.
    for i in 0..12_i64 {
        let at = secs(i);
        let cmd = |n: i64| match n % 3 {
            0 => (
                Command::ContactMessage {
                    body: format!("contact message {n}"),
                    channel_message_id: None,
                },
                &contact,
            ),
            1 => (
                Command::PostMessage {
                    body: format!("reply {n}"),
                    on_closed: None,
                    sender: None,
                },
                &bob,
            ),
            _ => (
                Command::AddNote {
                    body: format!("note {n}"),
                },
                &bob,
            ),
        };
        let (c, actor) = cmd(i);
        let out = ws.decide(&conv_a, c, actor, at);
        conv_a = apply(store, &ws, &out, &mut exp_a, "a").await;
        let (c, actor) = cmd(i + 1);
        let out = ws.decide(&conv_b, c, actor, at);
        conv_b = apply(store, &ws, &out, &mut exp_b, "b").await;
        if i == 5 {
            // Several events in one write: the session ends, the assignee is cleared, the agent starts.
            let assign = ws.decide(
                &conv_a,
                Command::Assign {
                    target: Lookup::Found(member("bob", "Bob Ray")),
                },
                &bob,
                at,
            );
            conv_a = apply(store, &ws, &assign, &mut exp_a, "assign").await;
            let hand = ws.decide(
                &conv_a,
                Command::HandToAgent {
                    agent: Lookup::Found(inbox_domain::AiAgent {
                        id: "max".into(),
                        name: "Max".into(),
                    }),
                    send_initial_message: false,
                },
                &bob,
                at,
            );
            assert!(hand.writes[0].timeline.len() >= 2);
            conv_a = apply(store, &ws, &hand, &mut exp_a, "hand").await;
            let replace = ws.decide(
                &conv_a,
                Command::HandToAgent {
                    agent: Lookup::Found(inbox_domain::AiAgent {
                        id: "max".into(),
                        name: "Max".into(),
                    }),
                    send_initial_message: true,
                },
                &bob,
                at,
            );
            conv_a = apply(store, &ws, &replace, &mut exp_a, "replace session").await;
        }
    }
    for limit in [1, 2, 3, 5, 200] {
        assert_eq!(
            timeline_of(store, w, &conv_a.id, limit).await,
            exp_a.timeline,
            "timeline a, limit {limit}"
        );
        assert_eq!(
            timeline_of(store, w, &conv_b.id, limit).await,
            exp_b.timeline,
            "timeline b, limit {limit}"
        );
        assert_eq!(
            messages_of(store, w, &conv_a.id, limit).await,
            exp_a.messages,
            "messages a, limit {limit}"
        );
        assert_eq!(
            messages_of(store, w, &conv_b.id, limit).await,
            exp_b.messages,
            "messages b, limit {limit}"
        );
    }
    for n in [0, 1, 5, 100] {
        let latest = store
            .latest_messages(w, &conv_a.id, n)
            .await
            .expect("latest_messages");
        let from = exp_a.messages.len().saturating_sub(n);
        assert_eq!(
            latest,
            exp_a.messages[from..].to_vec(),
            "latest_messages({n})"
        );
    }
    let none = store
        .list_timeline(w, "conv_missing", &crate::port::PageRequest::first(10))
        .await
        .expect("timeline of a missing conversation");
    assert!(none.items.is_empty() && none.next_cursor.is_none());
}

/// A stale `expected_version`, or a create of an existing conversation, is
/// `Conflict` and writes nothing of the commit: no state, timeline, message,
/// dedupe key or provisioned member, in any of its writes.
pub async fn check_conflicts<S: Store + ?Sized>(store: &S, _cfg: &SuiteConfig) {
    let ws = Ws::new(store, "conflict").await;
    let w = ws.id.as_str();
    let bob = agent_actor("bob");
    let mut exp = Expected::default();
    let created = ws.create(Some("sms-main"), T0);
    let v1 = apply(store, &ws, &created, &mut exp, "create").await;

    // Creating it again conflicts.
    assert!(
        matches!(
            store.commit(commit_of(&created)).await,
            Err(StoreError::Conflict)
        ),
        "creating an existing conversation is a conflict"
    );

    let first = ws.decide(
        &v1,
        Command::PostMessage {
            body: "first".into(),
            on_closed: None,
            sender: None,
        },
        &bob,
        secs(1),
    );
    let v2 = apply(store, &ws, &first, &mut exp, "first").await;
    let stale = ws.decide(
        &v1,
        Command::PostMessage {
            body: "stale".into(),
            on_closed: None,
            sender: None,
        },
        &bob,
        secs(2),
    );
    let mut commit = commit_of(&stale);
    commit.dedupe = Some(DedupeKey {
        workspace_id: w.into(),
        channel_id: "sms-main".into(),
        message_id: "conflict-1".into(),
        expires_at: secs(86_400),
    });
    commit.provision = Some(member("newbie", "New Bie"));
    assert!(
        matches!(store.commit(commit).await, Err(StoreError::Conflict)),
        "a stale version is a conflict"
    );
    assert_eq!(
        load(store, w, &v1.id).await,
        v2,
        "nothing of the stale commit is written"
    );
    assert_eq!(timeline_of(store, w, &v1.id, 50).await, exp.timeline);
    assert_eq!(messages_of(store, w, &v1.id, 50).await, exp.messages);
    assert_eq!(
        store.get_person(w, "newbie").await.expect("get_person"),
        None,
        "the member of a failed commit is not provisioned"
    );

    // A commit of two writes where the second is stale writes neither.
    let other = ws.create(None, secs(3));
    let mut exp_other = Expected::default();
    let o1 = apply(store, &ws, &other, &mut exp_other, "create other").await;
    let good = ws.decide(
        &v2,
        Command::AddNote {
            body: "good".into(),
        },
        &bob,
        secs(4),
    );
    let bad = ws.decide(
        &o1,
        Command::AddNote {
            body: "will be stale".into(),
        },
        &bob,
        secs(4),
    );
    let moved = ws.decide(
        &o1,
        Command::AddNote {
            body: "moves other".into(),
        },
        &bob,
        secs(4),
    );
    let o2 = apply(store, &ws, &moved, &mut exp_other, "move other").await;
    let mut both = commit_of(&good);
    both.writes.extend(bad.writes.clone());
    assert!(matches!(
        store.commit(both).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        load(store, w, &v1.id).await,
        v2,
        "the first write of a failed commit is not written"
    );
    assert_eq!(load(store, w, &o1.id).await, o2);
    assert_eq!(timeline_of(store, w, &v1.id, 50).await, exp.timeline);
    assert_eq!(timeline_of(store, w, &o1.id, 50).await, exp_other.timeline);

    // The dedupe key of the failed commit was not kept: the same key now succeeds.
    let retry = ws.decide(
        &v2,
        Command::PostMessage {
            body: "retried".into(),
            on_closed: None,
            sender: None,
        },
        &bob,
        secs(5),
    );
    let mut commit = commit_of(&retry);
    commit.dedupe = Some(DedupeKey {
        workspace_id: w.into(),
        channel_id: "sms-main".into(),
        message_id: "conflict-1".into(),
        expires_at: secs(86_400),
    });
    commit.provision = Some(member("newbie", "New Bie"));
    store
        .commit(commit)
        .await
        .expect("retry with the same dedupe key");
    exp.record(&retry, &v1.id);
    let v3 = load(store, w, &v1.id).await;
    assert_eq!(v3, retry.conversation);
    assert_eq!(
        store.get_person(w, "newbie").await.expect("get_person"),
        Some(DirectoryEntry::Member(member("newbie", "New Bie"))),
        "a provisioned member is created with the commit"
    );

    // Provisioning an id that exists conflicts, and writes nothing.
    let again = ws.decide(
        &v3,
        Command::AddNote {
            body: "provision again".into(),
        },
        &bob,
        secs(6),
    );
    let mut commit = commit_of(&again);
    commit.provision = Some(member("newbie", "Someone Else"));
    assert!(matches!(
        store.commit(commit).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(load(store, w, &v1.id).await, v3);
    let mut commit = commit_of(&again);
    commit.provision = Some(member("max", "Not An Agent"));
    assert!(
        matches!(store.commit(commit).await, Err(StoreError::Conflict)),
        "provisioning an AI agent's id conflicts"
    );
    assert_eq!(timeline_of(store, w, &v1.id, 50).await, exp.timeline);
    assert_eq!(messages_of(store, w, &v1.id, 50).await, exp.messages);
}

/// A reused dedupe key is `Duplicate` and writes nothing; the key is scoped
/// by workspace and channel.
pub async fn check_duplicates<S: Store + ?Sized>(store: &S, _cfg: &SuiteConfig) {
    let ws = Ws::new(store, "dedupe").await;
    let other = Ws::new(store, "dedupe").await;
    let w = ws.id.as_str();
    let key = |ws: &str, channel: &str, id: &str| DedupeKey {
        workspace_id: ws.into(),
        channel_id: channel.into(),
        message_id: id.into(),
        expires_at: secs(86_400),
    };
    let deliver = |latest: Option<&Conversation>, ws: &Ws, channel: &str, body: &str, at| {
        let mut ids = ws.ids.clone();
        let actor = Actor::Contact {
            id: ws.contact.id.clone(),
        };
        let mut ctx = inbox_domain::Ctx {
            now: at,
            actor: &actor,
            settings: &ws.settings,
            ids: &mut ids,
            notes: &inbox_domain::ExtractiveNotes,
        };
        receive_contact_message(
            latest,
            &ws.id,
            &ws.contact,
            Some(channel.to_string()),
            body,
            None,
            &mut ctx,
        )
        .expect("receive_contact_message")
    };

    // The first delivery creates the conversation.
    let first = deliver(None, &ws, "sms-main", "hello", secs(0));
    let mut commit = commit_of(&first);
    commit.dedupe = Some(key(w, "sms-main", "m-1"));
    store.commit(commit).await.expect("first delivery");
    let conv = load(store, w, &first.conversation.id).await;

    // The same delivery again, decided as a new conversation: duplicate, nothing created.
    let again_new = deliver(None, &ws, "sms-main", "hello", secs(1));
    let mut commit = commit_of(&again_new);
    commit.dedupe = Some(key(w, "sms-main", "m-1"));
    assert!(matches!(
        store.commit(commit).await,
        Err(StoreError::Duplicate)
    ));
    assert!(
        store
            .load_context(w, Some(&again_new.conversation.id), &[])
            .await
            .expect("load_context")
            .conversation
            .is_none(),
        "a duplicate creates nothing"
    );
    // …and decided on the current state: duplicate, nothing written.
    let again = deliver(Some(&conv), &ws, "sms-main", "hello", secs(1));
    let mut commit = commit_of(&again);
    commit.dedupe = Some(key(w, "sms-main", "m-1"));
    assert!(matches!(
        store.commit(commit).await,
        Err(StoreError::Duplicate)
    ));
    assert_eq!(load(store, w, &conv.id).await, conv);
    assert_eq!(messages_of(store, w, &conv.id, 10).await.len(), 1);
    let of_contact = store
        .conversations_of_contact(w, &ws.contact.id, 10)
        .await
        .expect("conversations_of_contact");
    assert_eq!(of_contact.len(), 1);

    // The same provider id on another channel, or in another workspace, is a new delivery.
    let other_channel = deliver(Some(&conv), &ws, "wa-main", "hello again", secs(2));
    let mut commit = commit_of(&other_channel);
    commit.dedupe = Some(key(w, "wa-main", "m-1"));
    store.commit(commit).await.expect("same id, other channel");
    let elsewhere = deliver(None, &other, "sms-main", "hello", secs(2));
    let mut commit = commit_of(&elsewhere);
    commit.dedupe = Some(key(&other.id, "sms-main", "m-1"));
    store
        .commit(commit)
        .await
        .expect("same key, other workspace");
    assert_eq!(messages_of(store, w, &conv.id, 10).await.len(), 2);
}

/// `concurrency` tasks commit notes decided on the same version: exactly one
/// wins. Then each retries (re-read, re-decide) until it lands: every note
/// lands once, and the version grows by exactly one per note.
pub async fn check_concurrent_commits<S: Store + ?Sized>(store: &S, cfg: &SuiteConfig) {
    let ws = Ws::new(store, "race").await;
    let w = ws.id.as_str();
    let n = cfg.concurrency.max(2);
    let created = ws.create(Some("sms-main"), T0);
    store.commit(commit_of(&created)).await.expect("create");
    let id = created.conversation.id.clone();
    let bob = agent_actor("bob");

    // All read the same version, then all commit: exactly one wins.
    let reads = join_all((0..n).map(|_| load(store, w, &id))).await;
    let decisions: Vec<Outcome> = reads
        .iter()
        .enumerate()
        .map(|(i, conv)| {
            ws.decide(
                conv,
                Command::AddNote {
                    body: format!("racer {i}"),
                },
                &bob,
                secs(1),
            )
        })
        .collect();
    let results = join_all(decisions.iter().map(|d| store.commit(commit_of(d)))).await;
    let wins = results.iter().filter(|r| r.is_ok()).count();
    let conflicts = results
        .iter()
        .filter(|r| matches!(r, Err(StoreError::Conflict)))
        .count();
    assert_eq!(
        wins, 1,
        "exactly one of the commits on one version wins: {results:?}"
    );
    assert_eq!(conflicts, n - 1, "the others conflict: {results:?}");
    let after_race = load(store, w, &id).await;
    assert_eq!(after_race.version, created.conversation.version + 1);
    let notes_after_race = timeline_of(store, w, &id, 200)
        .await
        .into_iter()
        .filter(|e| matches!(e.kind, EventKind::NoteAdded { .. }))
        .count();
    assert_eq!(
        notes_after_race, wins,
        "exactly the winners' notes are stored"
    );

    // Re-decide on conflict until every note lands.
    let workers = (0..n).map(|i| {
        let (ws, bob, id) = (&ws, &bob, &id);
        async move {
            for attempt in 0..(n * 10) {
                let conv = load(store, &ws.id, id).await;
                let out = ws.decide(
                    &conv,
                    Command::AddNote {
                        body: format!("worker {i}"),
                    },
                    bob,
                    secs(2),
                );
                match store.commit(commit_of(&out)).await {
                    Ok(()) => return attempt,
                    Err(StoreError::Conflict) => tokio::task::yield_now().await,
                    Err(e) => panic!("worker {i}: {e}"),
                }
            }
            panic!("worker {i} never landed its note");
        }
    });
    join_all(workers).await;
    let last = load(store, w, &id).await;
    assert_eq!(
        last.version,
        after_race.version + u64::try_from(n).unwrap_or(0),
        "the version grows by one per landed note"
    );
    let timeline = timeline_of(store, w, &id, 200).await;
    let mut bodies: Vec<String> = timeline
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::NoteAdded { body, .. } if body.starts_with("worker ") => Some(body.clone()),
            _ => None,
        })
        .collect();
    bodies.sort();
    let mut wanted: Vec<String> = (0..n).map(|i| format!("worker {i}")).collect();
    wanted.sort();
    assert_eq!(bodies, wanted, "every worker's note is stored exactly once");
    let mut ids: Vec<&str> = timeline.iter().map(|e| e.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(
        ids.len(),
        timeline.len(),
        "no timeline event is stored twice"
    );
}

/// The outbox holds the outgoing events of successful commits only, oldest
/// first, until acknowledged. Drains every pending event first.
pub async fn check_outbox<S: Store + Outbox + ?Sized>(store: &S, _cfg: &SuiteConfig) {
    loop {
        let pending = store.pending_events(200).await.expect("pending_events");
        if pending.is_empty() {
            break;
        }
        let keys: Vec<String> = pending.into_iter().map(|(k, _)| k).collect();
        store.ack_events(&keys).await.expect("ack_events");
    }
    let ws = Ws::new(store, "outbox").await;
    let bob = agent_actor("bob");
    let mut exp = Expected::default();
    let created = ws.create(Some("sms-main"), T0);
    let v1 = apply(store, &ws, &created, &mut exp, "create").await;
    let hand = ws.decide(
        &v1,
        Command::HandToAgent {
            agent: Lookup::Found(inbox_domain::AiAgent {
                id: "max".into(),
                name: "Max".into(),
            }),
            send_initial_message: true,
        },
        &bob,
        secs(1),
    );
    let v2 = apply(store, &ws, &hand, &mut exp, "hand").await;
    let reply = ws.decide(
        &v2,
        Command::PostMessage {
            body: "hello".into(),
            on_closed: None,
            sender: None,
        },
        &bob,
        secs(2),
    );
    let stale = ws.decide(
        &v1,
        Command::PostMessage {
            body: "stale".into(),
            on_closed: None,
            sender: None,
        },
        &bob,
        secs(2),
    );
    apply(store, &ws, &reply, &mut exp, "reply").await;
    assert!(matches!(
        store.commit(commit_of(&stale)).await,
        Err(StoreError::Conflict)
    ));
    assert!(exp.events.len() >= 2);
    let pending = store.pending_events(200).await.expect("pending_events");
    let events: Vec<DomainEvent> = pending.iter().map(|(_, e)| e.clone()).collect();
    assert_eq!(
        events, exp.events,
        "the outbox holds exactly the committed events, in order"
    );
    let first = store.pending_events(1).await.expect("pending_events");
    assert_eq!(first.len(), 1);
    assert_eq!(first[0], pending[0]);
    store
        .ack_events(&[pending[0].0.clone()])
        .await
        .expect("ack_events");
    let rest = store.pending_events(200).await.expect("pending_events");
    assert_eq!(rest, pending[1..].to_vec());
    let keys: Vec<String> = rest.into_iter().map(|(k, _)| k).collect();
    store.ack_events(&keys).await.expect("ack_events");
    assert!(
        store
            .pending_events(200)
            .await
            .expect("pending_events")
            .is_empty()
    );
}
