//! Assignment, takeover, unassign and teams.

mod common;
use common::*;
use inbox_domain::*;
use serde_json::json;

#[test]
fn assigning_yourself_stops_the_ai_and_its_next_reply_is_paused() {
    let conv = conversation().agent("max", "Max", true).build();
    let o = ok(&conv, &who(&bob()), assign(member("bob", "Bob Ray")));
    assert_one_step(&o, &conv);
    assert_eq!(types(&o), ["assigned", "agent_session_ended"]);
    assert_eq!(data(&o, "assigned"), json!({"from": null, "to": "bob"}));
    assert_eq!(
        data(&o, "agent_session_ended"),
        json!({"agent_id": "max", "session_id": "as_1", "reason": "human_assigned"})
    );
    let after = o.conversation;
    assert_eq!(after.assignee_id(), Some("bob"));
    assert!(!after.has_active_session());
    // The agent stays on the conversation, only its session ended.
    assert_eq!(after.agent.as_ref().map(|a| a.id.as_str()), Some("max"));

    let e = err(&after, &who(&max_ai()), reply("I can help with that!"));
    assert_eq!((e.code(), e.status()), ("ai_paused", 409));
}

#[test]
fn assignment_keeps_the_session_when_the_workspace_says_so() {
    let s = settings().ai(false, true).build();
    let conv = conversation().agent("max", "Max", true).build();
    let o = ok_with(&conv, &who(&bob()), &s, assign(member("bob", "Bob Ray")));
    assert_eq!(types(&o), ["assigned"]);
    assert!(o.conversation.has_active_session());
}

#[test]
fn assigning_replaces_the_assignee_and_clears_the_handoff() {
    let conv = conversation()
        .assigned("carol", "Carol Diaz")
        .handoff()
        .build();
    let o = ok(&conv, &who(&bob()), assign(member("dan", "Dan Wu")));
    assert_eq!(types(&o), ["assigned"]);
    assert_eq!(data(&o, "assigned"), json!({"from": "carol", "to": "dan"}));
    let after = &o.conversation;
    assert_eq!(
        after.assignee,
        Some(NamedRef {
            id: "dan".into(),
            name: "Dan Wu".into()
        })
    );
    assert!(!after.human_handoff);
    assert_eq!(after.last_activity_at, now());
}

#[test]
fn assigning_an_ai_agent_is_refused() {
    let conv = conversation().build();
    let e = err(
        &conv,
        &who(&bob()),
        Command::Assign {
            target: Lookup::AiAgent(agent("max", "Max")),
        },
    );
    assert_eq!(e, DomainError::CannotAssignAiAgent);
    assert_eq!((e.code(), e.status()), ("cannot_assign_ai_agent", 422));
    assert!(e.to_string().contains("pick a team member"));
}

#[test]
fn assigning_an_unknown_id_is_refused() {
    let conv = conversation().build();
    let e = err(
        &conv,
        &who(&bob()),
        Command::Assign {
            target: Lookup::Unknown("ghost".into()),
        },
    );
    assert_eq!(e, DomainError::UnknownMember("ghost".into()));
    assert_eq!((e.code(), e.status()), ("unknown_member", 422));
}

#[test]
fn assigning_the_current_assignee_again_changes_nothing() {
    let conv = conversation()
        .assigned("bob", "Bob Ray")
        .agent("max", "Max", false)
        .handoff()
        .build();
    let o = ok(&conv, &who(&carol()), assign(member("bob", "Bob Ray")));
    assert_noop(&o, &conv);
}

#[test]
fn only_members_who_may_edit_chats_assign() {
    let conv = conversation().build();
    for c in [vic_viewer(), max_ai(), zap()] {
        let e = err(&conv, &who(&c), assign(member("bob", "Bob Ray")));
        assert_eq!((e.code(), e.status()), ("forbidden", 403), "{c:?}");
    }
}

#[test]
fn takeover_from_a_teammate_moves_the_assignment_to_the_caller() {
    let conv = conversation()
        .assigned("carol", "Carol Diaz")
        .agent("max", "Max", true)
        .handoff()
        .build();
    let o = ok(&conv, &who(&bob()), Command::Takeover);
    assert_one_step(&o, &conv);
    assert_eq!(types(&o), ["taken_over", "agent_session_ended"]);
    assert_eq!(
        data(&o, "taken_over"),
        json!({"from": "carol", "to": "bob"})
    );
    assert_eq!(data(&o, "agent_session_ended")["reason"], "human_assigned");
    let after = &o.conversation;
    assert_eq!(
        after.assignee,
        Some(NamedRef {
            id: "bob".into(),
            name: "Bob Ray".into()
        })
    );
    assert!(!after.human_handoff && !after.has_active_session());
    let w = the_write(&o);
    assert_eq!(
        w.timeline[0].actor,
        ActorRef {
            kind: ActorKind::Member,
            id: Some("bob".into())
        }
    );
}

#[test]
fn takeover_needs_someone_else_assigned() {
    let nobody = conversation().build();
    let me = conversation().assigned("bob", "Bob Ray").build();
    for conv in [nobody, me] {
        let e = err(&conv, &who(&bob()), Command::Takeover);
        assert_eq!(e, DomainError::TakeoverNotApplicable);
        assert_eq!((e.code(), e.status()), ("takeover_not_applicable", 409));
    }
}

#[test]
fn takeover_is_for_members_who_may_assign() {
    let conv = conversation().assigned("carol", "Carol Diaz").build();
    assert_eq!(
        err(&conv, &who(&vic_viewer()), Command::Takeover),
        DomainError::Forbidden
    );
    assert_eq!(
        err(&conv, &ann_actor(), Command::Takeover),
        DomainError::Forbidden
    );
}

#[test]
fn unassign_clears_the_assignee_once() {
    let conv = conversation().assigned("carol", "Carol Diaz").build();
    let o = ok(&conv, &who(&bob()), Command::Unassign);
    assert_one_step(&o, &conv);
    assert_eq!(types(&o), ["unassigned"]);
    assert_eq!(data(&o, "unassigned"), json!({"from": "carol"}));
    assert_eq!(o.conversation.assignee, None);

    let again = ok(&o.conversation, &who(&bob()), Command::Unassign);
    assert_noop(&again, &o.conversation);
}

#[test]
fn team_set_change_clear_and_unknown() {
    let conv = conversation().build();
    let set = |t: Team| Command::SetTeam {
        team: Some(Lookup::Found(t)),
    };
    let o = ok(&conv, &who(&bob()), set(team("support", "Support")));
    assert_eq!(types(&o), ["team_assigned"]);
    assert_eq!(
        data(&o, "team_assigned"),
        json!({"from": null, "to": "support"})
    );
    let with_team = o.conversation;
    assert_eq!(
        with_team.team,
        Some(NamedRef {
            id: "support".into(),
            name: "Support".into()
        })
    );

    assert_noop(
        &ok(&with_team, &who(&bob()), set(team("support", "Support"))),
        &with_team,
    );

    let o = ok(&with_team, &who(&bob()), set(team("billing", "Billing")));
    assert_eq!(
        data(&o, "team_assigned"),
        json!({"from": "support", "to": "billing"})
    );

    let o = ok(&with_team, &who(&bob()), Command::SetTeam { team: None });
    assert_eq!(types(&o), ["team_unassigned"]);
    assert_eq!(data(&o, "team_unassigned"), json!({"from": "support"}));
    assert_eq!(o.conversation.team, None);
    assert_noop(
        &ok(
            &o.conversation,
            &who(&bob()),
            Command::SetTeam { team: None },
        ),
        &o.conversation,
    );

    let e = err(
        &conv,
        &who(&bob()),
        Command::SetTeam {
            team: Some(Lookup::Unknown("nope".into())),
        },
    );
    assert_eq!((e.code(), e.status()), ("unknown_team", 422));
    let e = err(
        &conv,
        &who(&bob()),
        Command::SetTeam {
            team: Some(Lookup::Member(member("bob", "Bob Ray"))),
        },
    );
    assert_eq!(e.code(), "unknown_team");
}

#[test]
fn names_on_a_conversation_are_snapshots_taken_when_set() {
    let conv = conversation().assigned("bob", "Old Name").build();
    // The directory's new name does not rewrite the stored assignee, and
    // re-assigning the same member is still a no-op.
    let o = ok(&conv, &who(&carol()), assign(member("bob", "New Name")));
    assert_noop(&o, &conv);
}

#[test]
fn removing_a_member_unassigns_their_conversations() {
    let conv = conversation().assigned("carol", "Carol Diaz").build();
    let removed = Command::MemberRemoved {
        member_id: "carol".into(),
    };
    let o = ok(&conv, &Actor::System, removed.clone());
    assert_one_step(&o, &conv);
    assert_eq!(
        data(&o, "unassigned"),
        json!({"from": "carol", "reason": "member_removed"})
    );
    assert_eq!(the_write(&o).timeline[0].actor, ActorRef::system());

    // Someone else's conversation is untouched.
    let bobs = conversation().assigned("bob", "Bob Ray").build();
    assert_noop(&ok(&bobs, &Actor::System, removed.clone()), &bobs);
    // Only admins remove members.
    assert_eq!(err(&conv, &who(&bob()), removed), DomainError::Forbidden);
}

#[test]
fn removing_a_team_clears_it_from_conversations() {
    let conv = conversation().team("support", "Support").build();
    let removed = Command::TeamRemoved {
        team_id: "support".into(),
    };
    let o = ok(&conv, &who(&alice_admin()), removed.clone());
    assert_eq!(
        data(&o, "team_unassigned"),
        json!({"from": "support", "reason": "team_removed"})
    );
    assert_eq!(o.conversation.team, None);
    let other = conversation().team("billing", "Billing").build();
    assert_noop(&ok(&other, &Actor::System, removed.clone()), &other);
    assert_eq!(err(&conv, &who(&bob()), removed), DomainError::Forbidden);
}
