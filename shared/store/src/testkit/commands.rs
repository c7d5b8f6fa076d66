//! Commits: every command round-trips; the helpers the other commit checks share.

use super::SuiteConfig;
use super::fixtures::{T0, Ws, agent_actor, ai_actor, collect, commit_of, load, member};
use crate::port::{DirectoryEntry, LookupKey, Store};
use inbox_domain::model::{
    Conversation, DomainEvent, EventKind, Lookup, Message, Status, TimelineEvent,
};
use inbox_domain::{Actor, ClosingNoteInput, Command, OnClosed, Outcome, SenderKind, Timestamp};

/// Every timeline event, message and outgoing event a conversation received.
#[derive(Default)]
pub(super) struct Expected {
    pub(super) timeline: Vec<TimelineEvent>,
    pub(super) messages: Vec<Message>,
    pub(super) events: Vec<DomainEvent>,
}

impl Expected {
    pub(super) fn record(&mut self, outcome: &Outcome, conversation_id: &str) {
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
pub(super) async fn apply<S: Store + ?Sized>(
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

pub(super) async fn timeline_of<S: Store + ?Sized>(
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

pub(super) async fn messages_of<S: Store + ?Sized>(
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

pub(super) fn secs(n: i64) -> Timestamp {
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
                first_agent: None,
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
        .conversations_of_contact(w, &ws.contact.id, &crate::PageRequest::first(10))
        .await
        .expect("conversations_of_contact")
        .items;
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
                agent: Lookup::Found(inbox_domain::AiAgent::external("max", "Max")),
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
    // Every type but `delivery_failed`, which only the sender writes.
    for wanted in EventKind::TYPE_NAMES
        .into_iter()
        .filter(|t| *t != "delivery_failed")
    {
        assert!(types.contains(&wanted), "the round trip covers {wanted}");
    }
}
