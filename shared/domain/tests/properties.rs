//! Properties over random command sequences from random actors, with random
//! (but per-sequence fixed) settings and a clock that moves forward.

mod common;
use common::*;
use inbox_domain::commands::OnClosed;
use inbox_domain::settings::ClosingNoteMode;
use inbox_domain::*;
use proptest::prelude::*;

/// One random step: who acts, what they try, and how far the clock moves first.
#[derive(Debug, Clone)]
struct Step {
    actor: usize,
    kind: usize,
    arg: u8,
    flag: bool,
    advance: i64,
}

const ACTORS: usize = 9;
const KINDS: usize = 24;

fn actor(i: usize) -> Actor {
    match i {
        0 => who(&bob()),
        1 => who(&carol()),
        2 => who(&alice_admin()),
        3 => who(&vic_viewer()),
        4 => who(&nameless()),
        5 => who(&max_ai()),
        6 => who(&eve_ai()),
        7 => who(&zap()),
        _ => {
            // The contact and the system share a slot: both are "not a caller".
            Actor::System
        }
    }
}

fn step() -> impl Strategy<Value = Step> {
    (
        0..ACTORS + 1,
        0..KINDS,
        any::<u8>(),
        any::<bool>(),
        prop_oneof![Just(0i64), 1i64..120, 1i64..7200],
    )
        .prop_map(|(actor, kind, arg, flag, advance)| Step {
            actor,
            kind,
            arg,
            flag,
            advance,
        })
}

fn random_settings() -> impl Strategy<Value = Settings> {
    (
        any::<bool>(),
        prop_oneof![Just(1u64), Just(60), Just(3600)],
        0..5usize,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(enabled, after, mode, with_cats, auto_gen, end_on_assign, stop_on_reply, reopen)| {
                let mode = [
                    ClosingNoteMode::Off,
                    ClosingNoteMode::Optional,
                    ClosingNoteMode::CategoryRequired,
                    ClosingNoteMode::SummaryRequired,
                    ClosingNoteMode::CategoryAndSummaryRequired,
                ][mode];
                let cats: &[&str] = if with_cats {
                    &["Billing and charges", "Shipping"]
                } else {
                    &[]
                };
                let mut b = settings()
                    .closing(mode, cats)
                    .ai(end_on_assign, stop_on_reply)
                    .reopen_on_contact_message(reopen);
                if enabled {
                    b = b.auto_close(after);
                }
                if auto_gen {
                    b = b.auto_generate();
                }
                b.build()
            },
        )
}

/// The command a step tries, given the current state.
fn command(s: &Step, conv: &Conversation, now: Timestamp, recent: &[Message]) -> (Actor, Command) {
    let pick = |xs: &[&str]| xs[s.arg as usize % xs.len()].to_string();
    let member_lookup = || match s.arg % 5 {
        0 => Lookup::Found(member("bob", "Bob Ray")),
        1 => Lookup::Found(member("carol", "Carol Diaz")),
        2 => Lookup::Found(member("dan", "Dan Wu")),
        3 => Lookup::AiAgent(agent("max", "Max")),
        _ => Lookup::Unknown("ghost".into()),
    };
    let body = if s.arg.is_multiple_of(7) {
        "  "
    } else {
        "Hello there, about my order."
    };
    let mut who = actor(s.actor);
    let cmd = match s.kind {
        0 => Command::Assign {
            target: member_lookup(),
        },
        1 => Command::Takeover,
        2 => Command::Unassign,
        3 => Command::SetTeam {
            team: match s.arg % 4 {
                0 => None,
                1 => Some(Lookup::Found(team("support", "Support"))),
                2 => Some(Lookup::Found(team("billing", "Billing"))),
                _ => Some(Lookup::Unknown("nope".into())),
            },
        },
        4 => Command::HandToAgent {
            agent: match s.arg % 3 {
                0 => Lookup::Found(agent("max", "Max")),
                1 => Lookup::Found(agent("eve", "Eve")),
                _ => Lookup::Unknown("ghost".into()),
            },
            send_initial_message: s.flag,
        },
        5 => Command::UnassignAgent,
        6 => Command::EndAgentSession,
        7 => Command::Handoff {
            reason: s.flag.then(|| "needs a person".to_string()),
        },
        8 | 9 => {
            let status =
                [Status::Unset, Status::Open, Status::Closed, Status::Closed][s.arg as usize % 4];
            let closing_note = s.flag.then(|| ClosingNoteInput {
                category: s.arg.is_multiple_of(3).then(|| pick(&["Shipping", "Nope"])),
                summary: s.arg.is_multiple_of(2).then(|| "Sorted out.".to_string()),
            });
            Command::SetStatus {
                status,
                closing_note,
                recent_messages: recent.to_vec(),
            }
        }
        10..=12 => Command::PostMessage {
            body: body.into(),
            on_closed: match s.arg % 3 {
                0 => None,
                1 => Some(OnClosed::Reopen),
                _ => Some(OnClosed::NewConversation),
            },
            sender: None,
        },
        13 => Command::PostMessage {
            body: body.into(),
            on_closed: None,
            sender: Some(if s.flag {
                SenderKind::Broadcast
            } else {
                SenderKind::Workflow
            }),
        },
        14 | 15 => {
            if s.actor >= ACTORS {
                who = ann_actor();
            }
            Command::ContactMessage {
                body: body.into(),
                channel_message_id: None,
                first_agent: None,
            }
        }
        16 => Command::AddNote { body: body.into() },
        17 => Command::Snooze {
            until: now.plus_seconds(i64::from(s.arg) * 60 - 600),
        },
        18 => Command::Unsnooze,
        19 => Command::Labels {
            add: vec![pick(&["vip", "billing", "urgent"])],
            remove: if s.flag {
                vec![pick(&["vip", "urgent"])]
            } else {
                vec![]
            },
        },
        20 => Command::TransferChannel {
            channel: if s.flag {
                Lookup::Found(channel(&pick(&["sms-main", "wa-main"])))
            } else {
                Lookup::Unknown("nope".into())
            },
        },
        21 | 22 => Command::FireAutoClose {
            // Mostly the generation the sweep saw, sometimes a stale or future one.
            generation: match s.arg % 4 {
                0 => conv.timer_generation.saturating_sub(1),
                1 => conv.timer_generation + 1,
                _ => conv.timer_generation,
            },
            recent_messages: recent.to_vec(),
        },
        _ => match s.arg % 3 {
            0 => Command::MemberRemoved {
                member_id: pick(&["bob", "carol"]),
            },
            1 => Command::TeamRemoved {
                team_id: "support".into(),
            },
            _ => Command::ContactChanged {
                contact: Contact {
                    blocked: s.flag,
                    ..ann()
                },
            },
        },
    };
    (who, cmd)
}

fn count(w: &Write, names: &[&str]) -> usize {
    w.timeline
        .iter()
        .filter(|e| names.contains(&e.kind.type_name()))
        .count()
}

fn agent_key(c: &Conversation) -> Option<(String, Option<String>)> {
    c.agent
        .as_ref()
        .map(|a| (a.id.clone(), a.session.as_ref().map(|s| s.id.clone())))
}

/// Invariants of any stored conversation under fixed settings.
fn check_state(c: &Conversation, settings: &Settings) -> Result<(), TestCaseError> {
    // With end_session_on_human_assignment, a person and an active AI session
    // never share a conversation. This holds only while the setting stays the
    // same: the contract does not end sessions or clear assignees when the
    // setting is switched on later, and with the setting off the contract lets
    // both coexist (handing to AI keeps the assignee, assigning keeps the
    // session, a reply without stop_on_human_reply keeps the session). So the
    // property runs with settings fixed per sequence and applies only when on.
    if settings.ai.end_session_on_human_assignment {
        prop_assert!(
            !(c.assignee.is_some() && c.has_active_session()),
            "assignee beside an active session: {c:?}"
        );
    }
    // A pending handoff never has an active session: handoff ends it and only
    // handing to an AI starts one, which clears the handoff.
    prop_assert!(!(c.human_handoff && c.has_active_session()));
    if c.is_closed() {
        prop_assert!(c.auto_close.is_none(), "closed with a timer");
        prop_assert!(c.snoozed_until.is_none(), "closed and snoozed");
        prop_assert!(c.closing.is_some(), "closed without a closing record");
    } else {
        prop_assert!(c.closing.is_none(), "a closing record while not closed");
    }
    if c.last_message_sender == Some(SenderKind::Contact) {
        prop_assert!(c.auto_close.is_none(), "timer after the contact wrote");
    }
    if c.contact.blocked {
        prop_assert!(c.auto_close.is_none(), "timer on a blocked contact");
    }
    Ok(())
}

/// What a write on an existing conversation must say about its change.
fn check_change(
    before: &Conversation,
    w: &Write,
    now: Timestamp,
    cmd_was_fire: Option<u64>,
    settings: &Settings,
) -> Result<(), TestCaseError> {
    let after = &w.conversation;
    prop_assert_eq!(w.expected_version, Some(before.version));
    prop_assert_eq!(after.version, before.version + 1);
    // Only what shows on the conversation moves it up the inbox.
    if w.timeline.is_empty() && w.messages.is_empty() {
        prop_assert_eq!(after.last_activity_at, before.last_activity_at);
    } else {
        prop_assert_eq!(after.last_activity_at, now);
    }
    prop_assert!(
        w.timeline
            .iter()
            .all(|e| e.conversation_id == after.id && e.at == now)
    );

    let assignment = count(w, &["assigned", "unassigned", "taken_over"]);
    prop_assert_eq!(
        assignment,
        usize::from(before.assignee_id() != after.assignee_id()),
        "assignment events {:?}",
        w.timeline
    );
    prop_assert_eq!(
        count(w, &["status_changed"]),
        usize::from(before.status != after.status)
    );
    prop_assert_eq!(
        count(w, &["agent_assigned", "agent_unassigned"]),
        usize::from(agent_key(before) != agent_key(after))
    );
    let ended = before
        .active_session()
        .is_some_and(|s| after.active_session().map(|a| &a.id) != Some(&s.id));
    prop_assert_eq!(count(w, &["agent_session_ended"]), usize::from(ended));
    prop_assert_eq!(
        count(w, &["team_assigned", "team_unassigned"]),
        usize::from(before.team.as_ref().map(|t| &t.id) != after.team.as_ref().map(|t| &t.id))
    );
    prop_assert_eq!(
        count(w, &["labels_changed"]),
        usize::from(before.labels != after.labels)
    );

    // The timer: any change of it takes a new generation, so a fire that was
    // queued for the old one is stale.
    prop_assert!(after.timer_generation >= before.timer_generation);
    if before.auto_close != after.auto_close {
        prop_assert!(after.timer_generation > before.timer_generation);
    }
    // A timer closes only when current, due, enabled and not blocked.
    if let Some(generation) = cmd_was_fire
        && after.is_closed()
        && !before.is_closed()
    {
        prop_assert_eq!(generation, before.timer_generation);
        prop_assert!(before.auto_close_at().is_some_and(|d| d <= now));
        prop_assert!(settings.auto_close.enabled && !before.contact.blocked);
        prop_assert_eq!(
            after.closing.as_ref().map(|c| c.source),
            Some(ClosingSource::AutoClose)
        );
    }
    Ok(())
}

fn run_sequence(settings: Settings, steps: Vec<Step>) -> Result<(), TestCaseError> {
    let mut desk = Desk::new(settings.clone());
    let mut conv = conversation().version(1).build();
    let mut recent: Vec<Message> = Vec::new();
    for s in &steps {
        desk.advance(s.advance);
        let (who, cmd) = command(s, &conv, desk.now, &recent);
        let fire_gen = match &cmd {
            Command::FireAutoClose { generation, .. } => Some(*generation),
            _ => None,
        };
        let before = conv.clone();
        let Ok(outcome) = desk.decide(&before, &who, cmd) else {
            // An error carries no write: the state stays as it was.
            continue;
        };
        if outcome.is_noop() {
            prop_assert_eq!(&outcome.conversation, &before);
            prop_assert!(outcome.message.is_none());
            continue;
        }
        prop_assert!(outcome.writes.len() == 1);
        let w = &outcome.writes[0];
        check_state(&w.conversation, &settings)?;
        if w.conversation.id == before.id {
            check_change(&before, w, desk.now, fire_gen, &settings)?;
        } else {
            // A new conversation: created whole, the old one untouched.
            prop_assert_eq!(w.expected_version, None);
            prop_assert_eq!(w.conversation.version, 1);
            prop_assert_eq!(
                w.timeline.first().map(|e| e.kind.type_name()),
                Some("conversation_created")
            );
            prop_assert_eq!(w.conversation.status, Status::Open);
            prop_assert_eq!(&w.conversation.contact, &before.contact);
            prop_assert!(before.is_closed());
            recent.clear();
        }
        if let Some(m) = &outcome.message {
            prop_assert_eq!(&m.conversation_id, &w.conversation.id);
            prop_assert_eq!(&w.messages, &vec![m.clone()]);
            recent.push(m.clone());
        }
        prop_assert_eq!(&outcome.conversation, &w.conversation);
        conv = w.conversation.clone();
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn random_sequences_keep_the_rules(
        settings in random_settings(),
        steps in prop::collection::vec(step(), 1..60),
    ) {
        run_sequence(settings, steps)?;
    }
}
