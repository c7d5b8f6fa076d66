//! Handing conversations to AI agents, sessions, handoff to a human.

mod common;
use common::*;
use inbox_domain::*;
use serde_json::json;

#[test]
fn handing_to_an_agent_without_an_initial_message_waits_for_the_contact() {
    let conv = conversation()
        .assigned("bob", "Bob Ray")
        .handoff()
        .timer(at(3600), 3600, 4)
        .build();
    let o = ok(&conv, &who(&bob()), hand_to(agent("max", "Max"), false));
    assert_one_step(&o, &conv);
    assert_eq!(types(&o), ["unassigned", "agent_assigned"]);
    assert_eq!(
        data(&o, "unassigned"),
        json!({"from": "bob", "reason": "handed_to_ai"})
    );
    let session_id = o.conversation.active_session().map(|s| s.id.clone());
    assert_eq!(
        data(&o, "agent_assigned"),
        json!({"from": null, "to": "max", "session_id": session_id, "send_initial_message": false})
    );
    assert!(reply_requests(&o).is_empty());
    let after = &o.conversation;
    assert!(session_id.is_some_and(|id| id.starts_with("as_")));
    assert_eq!(after.active_session().map(|s| s.started_at), Some(now()));
    assert_eq!(after.assignee, None);
    assert!(!after.human_handoff);
    // The timer is disarmed with a new generation, so a queued fire is stale.
    assert_eq!(after.auto_close, None);
    assert_eq!(after.timer_generation, 5);
}

#[test]
fn handing_to_an_agent_with_an_initial_message_asks_it_to_write() {
    let conv = conversation().build();
    let o = ok(&conv, &who(&bob()), hand_to(agent("max", "Max"), true));
    let session = o.conversation.active_session().cloned();
    assert_eq!(
        reply_requests(&o),
        [json!({
            "workspace_id": "acme", "conversation_id": "conv_1", "agent_id": "max",
            "session_id": session.map(|s| s.id), "trigger": "initial_message", "message_id": null
        })]
    );
    assert_eq!(data(&o, "agent_assigned")["send_initial_message"], true);
}

#[test]
fn handing_to_an_agent_keeps_the_assignee_when_the_workspace_says_so() {
    let s = settings().ai(false, true).build();
    let conv = conversation().assigned("bob", "Bob Ray").build();
    let o = ok_with(&conv, &who(&bob()), &s, hand_to(agent("max", "Max"), false));
    assert_eq!(types(&o), ["agent_assigned"]);
    assert_eq!(o.conversation.assignee_id(), Some("bob"));
    assert!(o.conversation.has_active_session());
}

#[test]
fn a_new_agent_session_replaces_the_previous_one() {
    let conv = conversation().agent("max", "Max", true).build();
    let o = ok(&conv, &who(&bob()), hand_to(agent("eve", "Eve"), false));
    assert_eq!(types(&o), ["agent_session_ended", "agent_assigned"]);
    assert_eq!(
        data(&o, "agent_session_ended"),
        json!({"agent_id": "max", "session_id": "as_1", "reason": "agent_replaced"})
    );
    assert_eq!(data(&o, "agent_assigned")["from"], "max");
    assert_eq!(
        o.conversation.agent.as_ref().map(|a| a.id.as_str()),
        Some("eve")
    );
    // The old agent may no longer post; the new one may.
    let after = o.conversation;
    assert_eq!(
        err(&after, &who(&max_ai()), reply("still here")),
        DomainError::AiPaused
    );
    assert!(run(&after, &who(&eve_ai()), &Settings::default(), reply("hi")).is_ok());
}

#[test]
fn handing_to_an_unknown_agent_or_a_member_is_refused() {
    let conv = conversation().build();
    for lookup in [
        Lookup::Unknown("ghost".into()),
        Lookup::Member(member("bob", "Bob Ray")),
    ] {
        let e = err(
            &conv,
            &who(&bob()),
            Command::HandToAgent {
                agent: lookup,
                send_initial_message: false,
            },
        );
        assert_eq!((e.code(), e.status()), ("unknown_agent", 422));
    }
}

#[test]
fn removing_the_agent_ends_its_session() {
    let conv = conversation().agent("max", "Max", true).build();
    let o = ok(&conv, &who(&bob()), Command::UnassignAgent);
    assert_eq!(types(&o), ["agent_unassigned", "agent_session_ended"]);
    assert_eq!(data(&o, "agent_unassigned"), json!({"from": "max"}));
    assert_eq!(
        data(&o, "agent_session_ended")["reason"],
        "agent_unassigned"
    );
    assert_eq!(o.conversation.agent, None);

    // No agent: nothing to do.
    let none = conversation().build();
    assert_noop(&ok(&none, &who(&bob()), Command::UnassignAgent), &none);
    // An agent whose session already ended: removed without a session event.
    let idle = conversation().agent("max", "Max", false).build();
    assert_eq!(
        types(&ok(&idle, &who(&bob()), Command::UnassignAgent)),
        ["agent_unassigned"]
    );
}

#[test]
fn ending_the_session_keeps_the_agent() {
    let conv = conversation().agent("max", "Max", true).build();
    let o = ok(&conv, &who(&bob()), Command::EndAgentSession);
    assert_eq!(types(&o), ["agent_session_ended"]);
    assert_eq!(data(&o, "agent_session_ended")["reason"], "ended_by_member");
    let after = o.conversation;
    assert_eq!(after.agent.as_ref().map(|a| a.id.as_str()), Some("max"));
    assert!(!after.has_active_session());

    let e = err(&after, &who(&bob()), Command::EndAgentSession);
    assert_eq!((e.code(), e.status()), ("no_active_session", 409));
    assert_eq!(
        err(
            &conversation().build(),
            &who(&bob()),
            Command::EndAgentSession
        ),
        DomainError::NoActiveSession
    );
}

#[test]
fn an_ai_reply_needs_the_active_session_on_a_conversation_that_is_not_closed() {
    let active = conversation().agent("max", "Max", true).build();
    let o = ok(&active, &who(&max_ai()), reply("Your order ships today."));
    assert_one_step(&o, &active);
    let m = o.message.clone().expect("a message");
    assert_eq!(m.sender.kind, SenderKind::AiAgent);
    assert_eq!(m.sender.id.as_deref(), Some("max"));
    assert_eq!(
        o.conversation.last_responder,
        Some(Responder {
            kind: ResponderKind::Ai,
            id: "max".into()
        })
    );
    assert!(types(&o).is_empty());
    let outbound: Vec<_> = out_events(&o)
        .into_iter()
        .map(|e| e.detail_type())
        .collect();
    assert_eq!(outbound, ["message.outbound"]);

    let ended = conversation().agent("max", "Max", false).build();
    let closed = conversation().agent("max", "Max", true).closed().build();
    let other_agent = conversation().agent("eve", "Eve", true).build();
    let no_agent = conversation().build();
    for conv in [ended, closed, other_agent, no_agent] {
        let e = err(&conv, &who(&max_ai()), reply("hello"));
        assert_eq!((e.code(), e.status()), ("ai_paused", 409));
    }
}

#[test]
fn an_ai_reply_never_touches_the_timer_or_the_handoff_flag() {
    let s = settings().auto_close(3600).build();
    let conv = conversation()
        .agent("max", "Max", true)
        .timer(at(100), 3600, 2)
        .build();
    let o = ok_with(&conv, &who(&max_ai()), &s, reply("On it."));
    assert_eq!(o.conversation.auto_close, conv.auto_close);
    assert_eq!(o.conversation.timer_generation, 2);
}

#[test]
fn the_ai_asks_for_a_human() {
    let conv = conversation().agent("max", "Max", true).build();
    let o = ok(
        &conv,
        &who(&max_ai()),
        Command::Handoff {
            reason: Some("  wants a refund ".into()),
        },
    );
    assert_one_step(&o, &conv);
    assert_eq!(types(&o), ["agent_session_ended", "handoff_requested"]);
    assert_eq!(data(&o, "agent_session_ended")["reason"], "handoff");
    assert_eq!(
        data(&o, "handoff_requested"),
        json!({"reason": "wants a refund"})
    );
    let after = o.conversation;
    assert!(after.human_handoff && !after.has_active_session());
    assert!(views::View::PendingHuman.matches(&after, "bob"));
    assert!(views::View::Unassigned.matches(&after, "bob"));

    // A member's reply now takes the conversation and clears the handoff.
    let o = ok(&after, &who(&bob()), reply("Hi Ann, Bob here."));
    assert_eq!(types(&o), ["assigned"]);
    assert_eq!(
        data(&o, "assigned"),
        json!({"from": null, "to": "bob", "reason": "replied"})
    );
    let taken = o.conversation;
    assert_eq!(
        taken.assignee,
        Some(NamedRef {
            id: "bob".into(),
            name: "Bob Ray".into()
        })
    );
    assert!(!taken.human_handoff);
    assert!(!views::View::PendingHuman.matches(&taken, "bob"));
    assert!(views::View::Mine.matches(&taken, "bob"));
}

#[test]
fn a_handoff_on_an_assigned_conversation_keeps_the_assignee_and_leaves_unassigned_view() {
    let conv = conversation()
        .assigned("carol", "Carol Diaz")
        .agent("max", "Max", true)
        .build();
    let s = settings().ai(false, true).build();
    let o = ok_with(&conv, &who(&zap()), &s, Command::Handoff { reason: None });
    let after = o.conversation;
    assert!(after.human_handoff);
    assert!(views::View::PendingHuman.matches(&after, "bob"));
    assert!(!views::View::Unassigned.matches(&after, "bob"));
    // The reply of someone else does not steal an existing assignment.
    let o = ok_with(&after, &who(&bob()), &s, reply("Looking into it"));
    assert_eq!(o.conversation.assignee_id(), Some("carol"));
    assert!(!o.conversation.human_handoff);
}

#[test]
fn handoff_rules_for_each_requester() {
    let conv = conversation().agent("max", "Max", true).build();
    // An agent without the session may not ask.
    assert_eq!(
        err(&conv, &who(&eve_ai()), Command::Handoff { reason: None }),
        DomainError::AiPaused
    );
    // Viewers, contacts and the system may not.
    assert_eq!(
        err(
            &conv,
            &who(&vic_viewer()),
            Command::Handoff { reason: None }
        ),
        DomainError::Forbidden
    );
    assert_eq!(
        err(&conv, &ann_actor(), Command::Handoff { reason: None }),
        DomainError::Forbidden
    );
    // A member and an integration may.
    assert!(
        run(
            &conv,
            &who(&bob()),
            &Settings::default(),
            Command::Handoff { reason: None }
        )
        .is_ok()
    );
    let o = ok(&conv, &who(&zap()), Command::Handoff { reason: None });
    assert_eq!(data(&o, "handoff_requested"), json!({"reason": null}));
    // Already waiting, with no session: asking again changes nothing.
    let pending = o.conversation;
    assert_noop(
        &ok(
            &pending,
            &who(&bob()),
            Command::Handoff {
                reason: Some("again".into()),
            },
        ),
        &pending,
    );
}

#[test]
fn a_human_reply_stops_the_ai_and_takes_the_conversation() {
    let conv = conversation().agent("max", "Max", true).build();
    let o = ok(&conv, &who(&bob()), reply("Let me help."));
    assert_eq!(types(&o), ["agent_session_ended", "assigned"]);
    assert_eq!(data(&o, "agent_session_ended")["reason"], "human_replied");
    assert_eq!(data(&o, "assigned")["reason"], "replied");
    assert_eq!(o.conversation.assignee_id(), Some("bob"));

    // Someone already assigned keeps the conversation.
    let carols = conversation()
        .assigned("carol", "Carol Diaz")
        .agent("max", "Max", true)
        .build();
    let s = settings().ai(false, true).build();
    let o = ok_with(&carols, &who(&bob()), &s, reply("Let me help."));
    assert_eq!(types(&o), ["agent_session_ended"]);
    assert_eq!(o.conversation.assignee_id(), Some("carol"));
}

#[test]
fn a_human_reply_leaves_the_ai_running_without_stop_on_human_reply() {
    let s = settings().ai(true, false).build();
    let conv = conversation().agent("max", "Max", true).build();
    let o = ok_with(&conv, &who(&bob()), &s, reply("Adding a note for you."));
    assert!(types(&o).is_empty());
    assert!(o.conversation.has_active_session());
    assert_eq!(o.conversation.assignee, None);
    assert_eq!(
        o.conversation.last_responder,
        Some(Responder {
            kind: ResponderKind::Human,
            id: "bob".into()
        })
    );
    // The AI may still answer.
    assert!(run(&o.conversation, &who(&max_ai()), &s, reply("Thanks, Bob")).is_ok());
}

#[test]
fn a_contact_message_asks_the_active_agent_to_reply() {
    let conv = conversation().agent("max", "Max", true).build();
    let o = ok(&conv, &ann_actor(), contact_says("Where is my parcel?"));
    let m = o.message.clone().expect("message");
    assert_eq!(
        reply_requests(&o),
        [json!({
            "workspace_id": "acme", "conversation_id": "conv_1", "agent_id": "max",
            "session_id": "as_1", "trigger": "contact_message", "message_id": m.id
        })]
    );
    // An ended session is not asked.
    let idle = conversation().agent("max", "Max", false).build();
    assert!(reply_requests(&ok(&idle, &ann_actor(), contact_says("hello?"))).is_empty());
}

#[test]
fn deleting_an_agent_takes_it_off_its_conversations_and_stops_it() {
    let conv = conversation().agent("max", "Max", true).build();
    let o = ok(
        &conv,
        &who(&alice_admin()),
        Command::AgentRemoved {
            agent_id: "max".into(),
        },
    );
    assert_eq!(types(&o), ["agent_unassigned", "agent_session_ended"]);
    assert_eq!(data(&o, "agent_session_ended")["reason"], "agent_removed");
    assert_eq!(o.conversation.agent, None);
    // The deleted agent's token can no longer post here.
    let after = o.conversation.clone();
    let err = Desk::new(Settings::default())
        .decide(&after, &who(&max_ai()), reply("Still here?"))
        .unwrap_err();
    assert_eq!(err.code(), "ai_paused");

    // Another agent's conversation is untouched; only admins may do this.
    let other = conversation().agent("eve", "Eve", true).build();
    assert_noop(
        &ok(
            &other,
            &who(&alice_admin()),
            Command::AgentRemoved {
                agent_id: "max".into(),
            },
        ),
        &other,
    );
    let denied = Desk::new(Settings::default())
        .decide(
            &conv,
            &who(&bob()),
            Command::AgentRemoved {
                agent_id: "max".into(),
            },
        )
        .unwrap_err();
    assert_eq!(denied.code(), "forbidden");
}

fn answer(session_id: &str, a: agents::AgentAnswer) -> Command {
    Command::AgentAnswer {
        session_id: session_id.into(),
        answer: a,
    }
}

#[test]
fn an_agents_answer_counts_only_in_the_session_it_was_asked_in() {
    let conv = conversation().agent("max", "Max", true).build();
    let reply = agents::AgentAnswer::Reply("Your order ships today.".into());
    let o = ok(&conv, &who(&max_ai()), answer("as_1", reply.clone()));
    let m = o.message.as_ref().expect("the reply is posted");
    assert_eq!(
        (m.body.as_str(), m.sender.kind),
        ("Your order ships today.", SenderKind::AiAgent)
    );
    assert_eq!(
        o.conversation
            .last_responder
            .as_ref()
            .map(|r| r.id.as_str()),
        Some("max")
    );

    // A person was assigned while the model was thinking: the answer is late.
    let taken = ok(&conv, &who(&bob()), assign(member("bob", "Bob Ray"))).conversation;
    assert!(!taken.has_active_session());
    assert_eq!(
        err(&taken, &who(&max_ai()), answer("as_1", reply.clone())),
        DomainError::AiPaused
    );
    // Handed back to the AI: a new session; the old request's answer is still late.
    let again = ok(&taken, &who(&bob()), hand_to(agent("max", "Max"), false)).conversation;
    assert!(again.has_active_session());
    assert_eq!(
        err(&again, &who(&max_ai()), answer("as_1", reply.clone())),
        DomainError::AiPaused
    );
    // Another agent cannot answer for it, nor can a person.
    assert_eq!(
        err(&conv, &who(&eve_ai()), answer("as_1", reply.clone())),
        DomainError::AiPaused
    );
    assert_eq!(
        err(&conv, &who(&bob()), answer("as_1", reply)),
        DomainError::Forbidden
    );
}

#[test]
fn an_agents_handoff_answer_asks_for_a_person() {
    let conv = conversation().agent("max", "Max", true).build();
    let o = ok(
        &conv,
        &who(&max_ai()),
        answer(
            "as_1",
            agents::AgentAnswer::Handoff(Some("wants a person".into())),
        ),
    );
    assert_eq!(types(&o), ["agent_session_ended", "handoff_requested"]);
    assert_eq!(
        data(&o, "handoff_requested"),
        json!({"reason": "wants a person"})
    );
    assert!(o.conversation.human_handoff);
}

#[test]
fn a_dead_ai_hands_the_conversation_to_people() {
    let conv = conversation().agent("max", "Max", true).build();
    let cmd = || Command::AiUnavailable {
        session_id: "as_1".into(),
    };
    let o = ok(&conv, &Actor::System, cmd());
    assert_eq!(types(&o), ["agent_session_ended", "handoff_requested"]);
    assert_eq!(
        data(&o, "agent_session_ended"),
        json!({"agent_id": "max", "session_id": "as_1", "reason": "ai_unavailable"})
    );
    assert_eq!(
        data(&o, "handoff_requested"),
        json!({"reason": "ai_unavailable"})
    );
    assert!(o.conversation.human_handoff && !o.conversation.has_active_session());
    // A session that ended meanwhile (a person stepped in) changes nothing.
    assert_noop(&ok(&o.conversation, &Actor::System, cmd()), &o.conversation);
    assert_eq!(err(&conv, &who(&max_ai()), cmd()), DomainError::Forbidden);
}

#[test]
fn a_channels_default_agent_answers_first_in_a_conversation_a_contact_starts() {
    let settings = Settings::default();
    let mut ids = SequentialIds::default();
    let actor = ann_actor();
    let max = agent("max", "Max");
    let mut c = ctx(&actor, &settings, &mut ids, now());
    let o = receive_contact_message(
        None,
        "acme",
        &ann(),
        Some(ChannelRef::new("wa", ChannelKind::Whatsapp)),
        Some(&max),
        "Where is my order?",
        Some("wamid.1".into()),
        &mut c,
    )
    .expect("accepted");
    assert_eq!(types(&o), ["conversation_created", "agent_assigned"]);
    let session = o.conversation.active_session().cloned().expect("a session");
    assert_eq!(
        data(&o, "agent_assigned"),
        json!({"from": null, "to": "max", "session_id": session.id, "send_initial_message": false})
    );
    let asked = reply_requests(&o);
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0]["trigger"], "contact_message");
    assert_eq!(
        asked[0]["message_id"],
        json!(o.message.as_ref().map(|m| m.id.clone()))
    );

    // An existing conversation keeps what it has: no new session.
    let existing = conversation().build();
    let mut c = ctx(&actor, &settings, &mut ids, now());
    let o = receive_contact_message(
        Some(&existing),
        "acme",
        &ann(),
        Some(ChannelRef::new("wa", ChannelKind::Whatsapp)),
        Some(&max),
        "Again",
        None,
        &mut c,
    )
    .expect("accepted");
    assert!(!o.conversation.has_active_session());
    assert!(reply_requests(&o).is_empty());

    // A blocked contact's message starts nothing.
    let mut blocked = ann();
    blocked.blocked = true;
    let mut c = ctx(&actor, &settings, &mut ids, now());
    let o = receive_contact_message(
        None,
        "acme",
        &blocked,
        Some(ChannelRef::new("wa", ChannelKind::Whatsapp)),
        Some(&max),
        "Hello",
        None,
        &mut c,
    )
    .expect("accepted");
    assert!(o.conversation.agent.is_none());
}
