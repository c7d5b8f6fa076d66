//! The status menu, closing notes, snooze.

mod common;
use common::*;
use inbox_domain::settings::ClosingNoteMode;
use inbox_domain::*;
use serde_json::json;

#[test]
fn closing_records_who_and_clears_the_timer_and_snooze() {
    let conv = conversation()
        .timer(at(3600), 3600, 3)
        .snoozed(at(600))
        .build();
    let o = ok(&conv, &who(&bob()), set_status(Status::Closed));
    assert_one_step(&o, &conv);
    assert_eq!(types(&o), ["status_changed"]);
    assert_eq!(
        data(&o, "status_changed"),
        json!({"from": "open", "to": "closed", "source": "manual"})
    );
    let after = &o.conversation;
    assert_eq!(after.status, Status::Closed);
    assert_eq!(
        after.closing,
        Some(Closing {
            at: now(),
            source: ClosingSource::Manual,
            by: ActorRef {
                kind: ActorKind::Member,
                id: Some("bob".into())
            },
            note: None,
        })
    );
    assert_eq!(after.auto_close, None);
    assert_eq!(after.timer_generation, 4);
    assert_eq!(after.snoozed_until, None);
}

#[test]
fn every_status_move_is_one_event_and_the_same_status_is_a_noop() {
    let all = [Status::Unset, Status::Open, Status::Closed];
    for from in all {
        for to in all {
            let conv = conversation().status(from).build();
            let o = ok(&conv, &who(&bob()), set_status(to));
            if from == to {
                assert_noop(&o, &conv);
                continue;
            }
            assert_one_step(&o, &conv);
            assert_eq!(types(&o), ["status_changed"], "{from:?} -> {to:?}");
            assert_eq!(
                data(&o, "status_changed"),
                json!({"from": from.as_str(), "to": to.as_str(), "source": "manual"})
            );
            assert_eq!(o.conversation.closing.is_some(), to == Status::Closed);
        }
    }
}

#[test]
fn reopening_keeps_the_assignee_and_clears_the_closing() {
    let conv = conversation().assigned("bob", "Bob Ray").closed().build();
    let o = ok(&conv, &who(&carol()), set_status(Status::Open));
    assert_eq!(o.conversation.assignee_id(), Some("bob"));
    assert_eq!(o.conversation.closing, None);
}

#[test]
fn a_blocked_contacts_conversation_can_be_neither_opened_nor_closed() {
    // Checked first: even an invalid note or the same status is contact_blocked.
    let conv = conversation().blocked().build();
    for cmd in [
        set_status(Status::Closed),
        set_status(Status::Open),
        set_status(Status::Unset),
        close_with(Some("nope"), None, vec![]),
    ] {
        let e = err(&conv, &who(&bob()), cmd);
        assert_eq!((e.code(), e.status()), ("contact_blocked", 409));
    }
}

#[test]
fn a_closing_note_on_a_non_closing_status_is_refused() {
    let conv = conversation().closed().build();
    let e = err(
        &conv,
        &who(&bob()),
        Command::SetStatus {
            status: Status::Open,
            closing_note: Some(ClosingNoteInput {
                category: None,
                summary: Some("x".into()),
            }),
            recent_messages: vec![],
        },
    );
    // Well-formed, but a rule the schema cannot say: 422 naming the field.
    assert_eq!((e.code(), e.status()), ("validation_failed", 422));
}

#[test]
fn closing_notes_off_refuses_a_note_and_never_generates() {
    let s = settings()
        .closing(ClosingNoteMode::Off, &["Billing"])
        .auto_generate()
        .build();
    let conv = conversation().build();
    let e = err_with(
        &conv,
        &who(&bob()),
        &s,
        close_with(None, Some("Refunded"), vec![]),
    );
    assert_eq!((e.code(), e.status()), ("closing_notes_disabled", 422));
    let o = ok_with(&conv, &who(&bob()), &s, close_from(billing_talk()));
    assert_eq!(o.conversation.closing.clone().and_then(|c| c.note), None);
    assert_eq!(types(&o), ["status_changed"]);
}

#[test]
fn an_optional_note_is_recorded_with_its_event() {
    let s = settings()
        .closing(ClosingNoteMode::Optional, &["Billing", "Shipping"])
        .build();
    let conv = conversation().build();
    let o = ok_with(
        &conv,
        &who(&bob()),
        &s,
        close_with(Some("Billing"), Some("  Refunded the charge. "), vec![]),
    );
    assert_eq!(types(&o), ["status_changed", "closing_note_added"]);
    assert_eq!(
        data(&o, "closing_note_added"),
        json!({"category": "Billing", "summary": "Refunded the charge.", "generated": false})
    );
    // Without a note: no note event.
    let o = ok_with(&conv, &who(&bob()), &s, set_status(Status::Closed));
    assert_eq!(types(&o), ["status_changed"]);
}

#[test]
fn required_parts_are_named_when_missing() {
    let cases = [
        (ClosingNoteMode::CategoryRequired, vec!["category"]),
        (ClosingNoteMode::SummaryRequired, vec!["summary"]),
        (
            ClosingNoteMode::CategoryAndSummaryRequired,
            vec!["category", "summary"],
        ),
    ];
    let conv = conversation().build();
    for (mode, missing) in cases {
        let s = settings().closing(mode, &["Billing"]).build();
        let e = err_with(
            &conv,
            &who(&bob()),
            &s,
            close_with(None, Some("  "), vec![]),
        );
        assert_eq!((e.code(), e.status()), ("closing_note_required", 422));
        assert_eq!(e.extra().get("missing"), Some(&json!(missing)), "{mode:?}");
    }
    // Given in full, each mode accepts.
    let s = settings()
        .closing(ClosingNoteMode::CategoryAndSummaryRequired, &["Billing"])
        .build();
    assert!(
        run(
            &conv,
            &who(&bob()),
            &s,
            close_with(Some("Billing"), Some("Refunded"), vec![])
        )
        .is_ok()
    );
}

#[test]
fn a_category_not_in_the_list_is_refused() {
    let s = settings()
        .closing(ClosingNoteMode::Optional, &["Billing"])
        .build();
    let e = err_with(
        &conversation().build(),
        &who(&bob()),
        &s,
        close_with(Some("billing"), None, vec![]),
    );
    assert_eq!(e, DomainError::UnknownCategory("billing".into()));
    assert_eq!((e.code(), e.status()), ("unknown_category", 422));
}

#[test]
fn auto_generate_fills_the_missing_parts_before_the_checks() {
    let s = settings()
        .closing(
            ClosingNoteMode::CategoryAndSummaryRequired,
            &["Shipping", "Billing and charges"],
        )
        .auto_generate()
        .build();
    let conv = conversation().build();
    let o = ok_with(&conv, &who(&bob()), &s, close_from(billing_talk()));
    let note = o
        .conversation
        .closing
        .as_ref()
        .and_then(|c| c.note.clone())
        .expect("a note");
    assert_eq!(note.category.as_deref(), Some("Billing and charges"));
    assert!(
        note.summary
            .as_deref()
            .is_some_and(|s| s.contains("charge"))
    );
    assert!(note.generated);
    assert_eq!(data(&o, "closing_note_added")["generated"], true);

    // A given part is kept; only the missing one is generated.
    let o = ok_with(
        &conv,
        &who(&bob()),
        &s,
        close_with(None, Some("Customer was refunded"), billing_talk()),
    );
    let note = o.conversation.closing.and_then(|c| c.note).expect("note");
    assert_eq!(note.summary.as_deref(), Some("Customer was refunded"));
    assert_eq!(note.category.as_deref(), Some("Billing and charges"));
    assert!(note.generated);

    // Nothing to generate from: the requirement still applies.
    let e = err_with(&conv, &who(&bob()), &s, close_from(vec![]));
    assert_eq!(
        e,
        DomainError::ClosingNoteRequired {
            missing: vec!["category", "summary"]
        }
    );
    assert!(
        Command::SetStatus {
            status: Status::Closed,
            closing_note: None,
            recent_messages: vec![]
        }
        .wants_recent_messages(&s)
    );
    assert!(!set_status(Status::Open).wants_recent_messages(&s));
}

#[test]
fn snoozing_sets_until_and_moves_a_running_timer() {
    let s = settings().auto_close(3600).build();
    let conv = conversation().timer(at(3600), 3600, 7).build();
    let o = ok_with(&conv, &who(&bob()), &s, Command::Snooze { until: at(7200) });
    assert_one_step(&o, &conv);
    assert_eq!(types(&o), ["snoozed"]);
    assert_eq!(data(&o, "snoozed"), json!({"until": at(7200).to_rfc3339()}));
    let after = o.conversation;
    assert_eq!(after.snoozed_until, Some(at(7200)));
    assert_eq!(after.auto_close_at(), Some(at(7200 + 3600)));
    assert_eq!(after.timer_generation, 8);

    // Same time again: nothing changes.
    let again = ok_with(
        &after,
        &who(&bob()),
        &s,
        Command::Snooze { until: at(7200) },
    );
    assert_noop(&again, &after);

    // Unsnooze clears it; the timer stays where snoozing put it.
    let o = ok_with(&after, &who(&bob()), &s, Command::Unsnooze);
    assert_eq!(types(&o), ["unsnoozed"]);
    assert_eq!(data(&o, "unsnoozed"), json!({}));
    assert_eq!(o.conversation.snoozed_until, None);
    assert_eq!(o.conversation.auto_close_at(), Some(at(7200 + 3600)));
    let idle = o.conversation;
    assert_noop(&ok_with(&idle, &who(&bob()), &s, Command::Unsnooze), &idle);
}

#[test]
fn snoozing_into_the_past_or_a_closed_conversation_is_invalid() {
    let open = conversation().build();
    for until in [now(), at(-1)] {
        let e = err(&open, &who(&bob()), Command::Snooze { until });
        assert_eq!((e.code(), e.status()), ("invalid_snooze", 422));
    }
    let closed = conversation().closed().build();
    assert_eq!(
        err(&closed, &who(&bob()), Command::Snooze { until: at(60) }).code(),
        "invalid_snooze"
    );
}

#[test]
fn viewers_change_no_status() {
    let conv = conversation().build();
    assert_eq!(
        err(&conv, &who(&vic_viewer()), set_status(Status::Closed)),
        DomainError::Forbidden
    );
    assert_eq!(
        err(&conv, &who(&max_ai()), Command::Snooze { until: at(60) }),
        DomainError::Forbidden
    );
}
