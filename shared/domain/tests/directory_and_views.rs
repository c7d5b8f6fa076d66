//! The wire shapes of the contract, every error code, views, filters and the
//! caller's view of a conversation.

mod common;
use common::*;
use inbox_domain::error::FieldError;
use inbox_domain::views::{Filters, ListQuery, View};
use inbox_domain::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn every_error_has_the_contracts_code_and_status() {
    let table: Vec<(DomainError, &str, u16)> = vec![
        (DomainError::BadRequest("x".into()), "bad_request", 400),
        (DomainError::Forbidden, "forbidden", 403),
        (DomainError::NotFound("conversation"), "not_found", 404),
        (
            DomainError::CannotAssignAiAgent,
            "cannot_assign_ai_agent",
            422,
        ),
        (
            DomainError::UnknownMember("x".into()),
            "unknown_member",
            422,
        ),
        (DomainError::UnknownTeam("x".into()), "unknown_team", 422),
        (DomainError::UnknownAgent("x".into()), "unknown_agent", 422),
        (
            DomainError::UnknownChannel("x".into()),
            "unknown_channel",
            422,
        ),
        (
            DomainError::TakeoverNotApplicable,
            "takeover_not_applicable",
            409,
        ),
        (DomainError::NoActiveSession, "no_active_session", 409),
        (DomainError::ContactBlocked, "contact_blocked", 409),
        (
            DomainError::ClosingNotesDisabled,
            "closing_notes_disabled",
            422,
        ),
        (
            DomainError::ClosingNoteRequired {
                missing: vec!["category"],
            },
            "closing_note_required",
            422,
        ),
        (
            DomainError::UnknownCategory("x".into()),
            "unknown_category",
            422,
        ),
        (
            DomainError::InvalidSnooze("x".into()),
            "invalid_snooze",
            422,
        ),
        (DomainError::EmptyBody, "empty_body", 422),
        (DomainError::ProfileIncomplete, "profile_incomplete", 422),
        (DomainError::ConversationClosed, "conversation_closed", 409),
        (DomainError::AiPaused, "ai_paused", 409),
        (
            DomainError::InvalidSettings {
                errors: vec![FieldError::new("ai", "must be an object")],
            },
            "invalid_settings",
            422,
        ),
        (DomainError::IdTaken("x".into()), "id_taken", 409),
        (
            DomainError::Validation {
                message: "x".into(),
                errors: vec![],
            },
            "validation_failed",
            422,
        ),
    ];
    for (e, code, status) in &table {
        assert_eq!((e.code(), e.status()), (*code, *status), "{e:?}");
        assert!(!e.to_string().is_empty());
    }
    let codes: BTreeSet<&str> = table.iter().map(|(e, _, _)| e.code()).collect();
    assert_eq!(codes.len(), table.len(), "codes are distinct");

    // Extra problem fields the contract names.
    assert_eq!(
        Value::Object(table[12].0.extra()),
        json!({"missing": ["category"]})
    );
    assert_eq!(
        Value::Object(DomainError::ConversationClosed.extra()),
        json!({"options": ["reopen", "new_conversation"]})
    );
    assert_eq!(
        Value::Object(table[19].0.extra()),
        json!({"errors": [{"field": "ai", "message": "must be an object"}]})
    );
    assert!(DomainError::Forbidden.extra().is_empty());
}

fn busy_conversation() -> Conversation {
    let mut c = conversation()
        .assigned("bob", "Bob Ray")
        .team("support", "Support")
        .agent("max", "Max", false)
        .labels(&["billing"])
        .closed()
        .contact_wrote(at(-120))
        .version(7)
        .build();
    c.last_responder = Some(Responder {
        kind: ResponderKind::Human,
        id: "bob".into(),
    });
    if let Some(closing) = c.closing.as_mut() {
        closing.note = Some(ClosingNote {
            category: Some("Billing".into()),
            summary: None,
            generated: false,
            generator: None,
        });
    }
    c
}

#[test]
fn a_rendered_conversation_has_exactly_the_contracts_fields() {
    let v = serde_json::to_value(render(&busy_conversation(), &carol(), now())).expect("json");
    assert_eq!(
        keys(&v),
        set(&[
            "id",
            "channel_id",
            "contact",
            "status",
            "assignee",
            "team",
            "agent",
            "human_handoff",
            "last_responder",
            "auto_close_at",
            "snoozed_until",
            "labels",
            "closing",
            "unread",
            "favorite",
            "viewer",
            "created_at",
            "last_activity_at",
            "version",
        ])
    );
    assert_eq!(
        v["contact"],
        json!({"id": ANN, "name": "Ann", "blocked": false, "has_lead": true})
    );
    assert_eq!(v["status"], "closed");
    assert_eq!(v["assignee"], json!({"id": "bob", "name": "Bob Ray"}));
    assert_eq!(v["team"], json!({"id": "support", "name": "Support"}));
    assert_eq!(
        v["agent"],
        json!({"id": "max", "name": "Max",
               "session": {"id": "as_1", "active": false, "started_at": at(-600).to_rfc3339()}})
    );
    assert_eq!(v["last_responder"], json!({"kind": "human", "id": "bob"}));
    assert_eq!(
        v["closing"],
        json!({"at": at(-60).to_rfc3339(), "source": "manual",
               "by": {"kind": "member", "id": "bob"},
               "note": {"category": "Billing", "summary": null, "generated": false}})
    );
    assert_eq!(
        v["viewer"],
        json!({"can_reply": true, "reply_blocked_reason": null, "can_assign": true, "can_takeover": true})
    );
    assert_eq!(v["unread"], true);
    assert_eq!(v["favorite"], false);
    assert_eq!(v["version"], 7);
    assert_eq!(v["auto_close_at"], Value::Null);
    // Timestamps are RFC 3339 UTC with milliseconds.
    assert_eq!(v["created_at"], "2026-11-21T09:00:00.000Z");

    // The sparse shape: nulls where nothing is set.
    let v = serde_json::to_value(render(&conversation().channel(None).build(), &bob(), now()))
        .expect("json");
    for k in [
        "channel_id",
        "assignee",
        "team",
        "agent",
        "last_responder",
        "auto_close_at",
        "snoozed_until",
        "closing",
    ] {
        assert_eq!(v[k], Value::Null, "{k}");
    }
    assert_eq!(v["labels"], json!([]));
    assert_eq!(v["human_handoff"], false);
}

#[test]
fn viewer_abilities_follow_role_block_and_assignment() {
    let conv = conversation().assigned("bob", "Bob Ray").build();
    let v = |c: &Conversation, who: &Caller| render(c, who, now()).viewer;
    assert!(!v(&conv, &bob()).can_takeover, "already mine");
    assert!(v(&conv, &carol()).can_takeover);
    let viewer = v(&conv, &vic_viewer());
    assert!(!viewer.can_reply && !viewer.can_assign && !viewer.can_takeover);
    let blocked = conversation().blocked().build();
    let b = v(&blocked, &bob());
    assert!(!b.can_reply && b.can_assign && !b.can_takeover);
}

#[test]
fn timeline_events_have_the_contracts_wire_shape() {
    let cases: Vec<(EventKind, &str, Value)> = vec![
        (
            EventKind::ConversationCreated {
                channel_id: None,
                contact_id: ANN.into(),
            },
            "conversation_created",
            json!({"channel_id": null, "contact_id": ANN}),
        ),
        (
            EventKind::Assigned {
                from: Some("carol".into()),
                to: "bob".into(),
                reason: None,
            },
            "assigned",
            json!({"from": "carol", "to": "bob"}),
        ),
        (
            EventKind::Assigned {
                from: None,
                to: "bob".into(),
                reason: Some(AssignReason::Replied),
            },
            "assigned",
            json!({"from": null, "to": "bob", "reason": "replied"}),
        ),
        (
            EventKind::Unassigned {
                from: "bob".into(),
                reason: Some(UnassignReason::MemberRemoved),
            },
            "unassigned",
            json!({"from": "bob", "reason": "member_removed"}),
        ),
        (
            EventKind::TakenOver {
                from: "carol".into(),
                to: "bob".into(),
            },
            "taken_over",
            json!({"from": "carol", "to": "bob"}),
        ),
        (
            EventKind::TeamAssigned {
                from: None,
                to: "support".into(),
            },
            "team_assigned",
            json!({"from": null, "to": "support"}),
        ),
        (
            EventKind::TeamUnassigned {
                from: "support".into(),
                reason: Some(TeamUnassignReason::TeamRemoved),
            },
            "team_unassigned",
            json!({"from": "support", "reason": "team_removed"}),
        ),
        (
            EventKind::AgentAssigned {
                from: None,
                to: "max".into(),
                session_id: "as_1".into(),
                send_initial_message: true,
            },
            "agent_assigned",
            json!({"from": null, "to": "max", "session_id": "as_1", "send_initial_message": true}),
        ),
        (
            EventKind::AgentUnassigned { from: "max".into() },
            "agent_unassigned",
            json!({"from": "max"}),
        ),
        (
            EventKind::AgentSessionEnded {
                agent_id: "max".into(),
                session_id: "as_1".into(),
                reason: SessionEndReason::Handoff,
            },
            "agent_session_ended",
            json!({"agent_id": "max", "session_id": "as_1", "reason": "handoff"}),
        ),
        (
            EventKind::HandoffRequested {
                reason: Some("refund".into()),
            },
            "handoff_requested",
            json!({"reason": "refund"}),
        ),
        (
            EventKind::StatusChanged {
                from: Status::Closed,
                to: Status::Open,
                source: StatusSource::ReplyReopen,
            },
            "status_changed",
            json!({"from": "closed", "to": "open", "source": "reply_reopen"}),
        ),
        (
            EventKind::ClosingNoteAdded {
                category: None,
                summary: Some("s".into()),
                generated: true,
                generator: None,
            },
            "closing_note_added",
            json!({"category": null, "summary": "s", "generated": true}),
        ),
        (
            EventKind::Snoozed { until: at(60) },
            "snoozed",
            json!({"until": at(60).to_rfc3339()}),
        ),
        (
            EventKind::Unsnoozed {
                reason: Some(UnsnoozeReason::ContactMessage),
            },
            "unsnoozed",
            json!({"reason": "contact_message"}),
        ),
        (
            EventKind::LabelsChanged {
                added: vec!["a".into()],
                removed: vec![],
            },
            "labels_changed",
            json!({"added": ["a"], "removed": []}),
        ),
        (
            EventKind::NoteAdded {
                note_id: "note_1".into(),
                body: "b".into(),
            },
            "note_added",
            json!({"note_id": "note_1", "body": "b"}),
        ),
        (
            EventKind::ChannelTransferred {
                from: Some("a".into()),
                to: "b".into(),
            },
            "channel_transferred",
            json!({"from": "a", "to": "b"}),
        ),
        (
            EventKind::ContactBlocked {
                contact_id: ANN.into(),
            },
            "contact_blocked",
            json!({"contact_id": ANN}),
        ),
        (
            EventKind::ContactUnblocked {
                contact_id: ANN.into(),
            },
            "contact_unblocked",
            json!({"contact_id": ANN}),
        ),
    ];
    let mut seen = BTreeSet::new();
    for (kind, ty, data) in cases {
        let e = TimelineEvent {
            id: "evt_1".into(),
            conversation_id: "conv_1".into(),
            kind,
            at: now(),
            actor: ActorRef::system(),
        };
        let v = serde_json::to_value(&e).expect("json");
        assert_eq!(keys(&v), set(&["id", "type", "at", "actor", "data"]));
        assert_eq!(v["type"], ty);
        assert_eq!(e.kind.type_name(), ty);
        assert_eq!(v["data"], data, "{ty}");
        assert_eq!(v["actor"], json!({"kind": "system", "id": null}));
        assert_eq!(v["at"], "2026-11-21T10:00:00.000Z");
        let back: TimelineEvent = serde_json::from_value(v).expect("round trip");
        assert_eq!(back.kind, e.kind);
        seen.insert(ty);
    }
    // Every type the contract lists has a shape.
    assert_eq!(seen.len(), 19);
}

#[test]
fn views_are_the_contracts_predicates() {
    let open_mine = conversation().assigned("bob", "Bob Ray").build();
    let closed_mine = conversation().assigned("bob", "Bob Ray").closed().build();
    let pending = conversation().handoff().build();
    let pending_closed = conversation().handoff().closed().build();
    let mut no_lead = conversation().build();
    no_lead.contact.has_lead = false;
    let cases: Vec<(&Conversation, View, bool)> = vec![
        (&open_mine, View::Mine, true),
        (&closed_mine, View::Mine, false),
        (&closed_mine, View::AssignedToMe, true),
        (&open_mine, View::Unassigned, false),
        (&pending, View::Unassigned, true),
        (&pending, View::PendingHuman, true),
        (&pending_closed, View::PendingHuman, false),
        (&pending_closed, View::Unassigned, false),
        (&pending_closed, View::Resolved, true),
        (&pending, View::Unresolved, true),
        (&closed_mine, View::Unresolved, false),
        (&closed_mine, View::All, true),
        (&open_mine, View::HasLead, true),
        (&no_lead, View::HasLead, false),
    ];
    for (conv, view, expected) in cases {
        assert_eq!(view.matches(conv, "bob"), expected, "{view:?}");
    }
    assert!(!View::Mine.matches(&open_mine, "carol"));
    for v in View::ALL {
        assert_eq!(View::parse(v.as_str()), Some(v));
    }
}

#[test]
fn filters_combine_with_any_view() {
    let mut conv = busy_conversation();
    conv.status = Status::Open;
    let q = ListQuery::parse([
        ("view", "mine"),
        ("team", "support"),
        ("label", "billing"),
        ("channel_id", "sms-main"),
        ("agent_type", "human"),
        ("responded_by", "bob"),
        ("status", "open"),
    ])
    .expect("valid");
    assert!(q.matches(&conv, "bob"));
    assert!(!q.matches(&conv, "carol"));
    let miss = |f: Filters| !f.matches(&conv);
    assert!(miss(Filters {
        team: Some("billing".into()),
        ..Filters::default()
    }));
    assert!(miss(Filters {
        agent_type: Some(ResponderKind::Ai),
        ..Filters::default()
    }));
    assert!(miss(Filters {
        status: Some(Status::Unset),
        ..Filters::default()
    }));
    assert!(ListQuery::parse([("view", "inbox")]).map_err(|e| e.code()) == Err("bad_request"));
}

#[test]
fn list_order_is_newest_activity_first() {
    let mut a = conversation().build();
    let mut b = conversation().build();
    a.id = "conv_a".into();
    b.id = "conv_b".into();
    b.last_activity_at = at(1);
    let mut list = [a.clone(), b.clone()];
    list.sort_by(views::list_order);
    assert_eq!(list[0].id, "conv_b");
    b.last_activity_at = a.last_activity_at;
    let mut list = [a, b];
    list.sort_by(views::list_order);
    assert_eq!(list[0].id, "conv_b", "ties: id descending");
}

#[test]
fn outgoing_events_have_a_detail_type_and_detail() {
    let conv = conversation().build();
    let o = ok(&conv, &who(&bob()), hand_to(agent("max", "Max"), true));
    let v = serde_json::to_value(out_events(&o)[0]).expect("json");
    assert_eq!(v["detail_type"], "ai.reply_requested");
    assert_eq!(
        keys(&v["detail"]),
        set(&[
            "workspace_id",
            "conversation_id",
            "agent_id",
            "session_id",
            "trigger",
            "message_id"
        ])
    );
}

#[test]
fn directory_rules() {
    use inbox_domain::directory::*;
    assert_eq!(member("bob", "Bob Ray").initials(), "BR");
    assert!(check_id_free_for_agent("bob", Some(&member("bob", "Bob Ray"))).is_err());
    assert_eq!(
        check_id_free_for_member("max", Some(&agent("max", "Max")))
            .map_err(|e| (e.code(), e.status())),
        Err(("id_taken", 409))
    );
    assert!(check_id_free_for_member("bob", None).is_ok());
    assert_eq!(
        check_external_id("Bob").map_err(|e| e.code()),
        Err("bad_request")
    );
    let jit = provision(&bob(), None).expect("provisioned");
    assert_eq!((jit.id.as_str(), jit.name.as_str()), ("bob", "Bob Ray"));
}
