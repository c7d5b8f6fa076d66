//! The auto-close timer: arming, resetting, cancelling and firing.

mod common;
use common::*;
use inbox_domain::settings::ClosingNoteMode;
use inbox_domain::*;
use serde_json::json;

const HOUR: u64 = 3600;

#[test]
fn a_human_reply_arms_the_timer_and_another_resets_it() {
    let mut desk = Desk::new(settings().auto_close(HOUR).build());
    let conv = conversation().build();
    let armed = desk.apply(&conv, &who(&bob()), reply("Done, anything else?"));
    assert_eq!(armed.auto_close_at(), Some(at(3600)));
    assert_eq!(armed.timer_generation, 1);
    assert_eq!(
        armed.auto_close,
        Some(AutoCloseTimer {
            due_at: at(3600),
            after_seconds: HOUR
        })
    );

    desk.advance(1800);
    let reset = desk.apply(&armed, &who(&carol()), reply("Just checking in"));
    assert_eq!(reset.auto_close_at(), Some(at(1800 + 3600)));
    assert_eq!(reset.timer_generation, 2);

    // The old generation is stale even once its time has come.
    desk.advance(1800);
    let o = desk.decide(&reset, &Actor::System, fire(1)).expect("ok");
    assert_noop(&o, &reset);
}

#[test]
fn the_timer_starts_after_the_snooze() {
    let s = settings().auto_close(HOUR).build();
    let conv = conversation().snoozed(at(7200)).build();
    let o = ok_with(&conv, &who(&bob()), &s, reply("Talk tomorrow"));
    assert_eq!(o.conversation.auto_close_at(), Some(at(7200 + 3600)));
    assert_eq!(
        o.conversation.auto_close_at(),
        Some(due(now(), Some(at(7200)), HOUR))
    );
    // A snooze in the past does not count.
    let old = conversation().snoozed(at(-60)).build();
    let o = ok_with(&old, &who(&bob()), &s, reply("hi"));
    assert_eq!(o.conversation.auto_close_at(), Some(at(3600)));
}

#[test]
fn a_disabled_auto_close_arms_nothing() {
    let conv = conversation().build();
    let o = ok(&conv, &who(&bob()), reply("hi"));
    assert_eq!(o.conversation.auto_close, None);
    assert_eq!(o.conversation.timer_generation, 0);
}

#[test]
fn only_human_replies_touch_the_timer() {
    let s = settings().auto_close(HOUR).build();
    let conv = conversation()
        .agent("max", "Max", true)
        .timer(at(100), HOUR, 3)
        .build();
    let untouched = [
        (who(&max_ai()), reply("AI here")),
        (
            who(&zap()),
            integration_post("promo", SenderKind::Broadcast),
        ),
        (
            who(&zap()),
            integration_post("step 2", SenderKind::Workflow),
        ),
        (
            who(&bob()),
            Command::AddNote {
                body: "note".into(),
            },
        ),
        (who(&bob()), assign(member("carol", "Carol Diaz"))),
        (
            who(&bob()),
            Command::Labels {
                add: vec!["x".into()],
                remove: vec![],
            },
        ),
    ];
    for (actor, cmd) in untouched {
        let o = ok_with(&conv, &actor, &s, cmd.clone());
        assert_eq!(o.conversation.auto_close, conv.auto_close, "{cmd:?}");
        assert_eq!(o.conversation.timer_generation, 3, "{cmd:?}");
    }
}

#[test]
fn changing_after_seconds_affects_timers_started_afterwards() {
    let s = settings().auto_close(2 * HOUR).build();
    // Armed earlier with one hour; snoozing reuses the period it was armed with.
    let conv = conversation().timer(at(3600), HOUR, 1).build();
    let o = ok_with(&conv, &who(&bob()), &s, Command::Snooze { until: at(600) });
    assert_eq!(o.conversation.auto_close_at(), Some(at(600 + 3600)));
    // A new reply arms with the current period.
    let o = ok_with(&conv, &who(&bob()), &s, reply("hi"));
    assert_eq!(o.conversation.auto_close_at(), Some(at(7200)));
}

#[test]
fn a_due_timer_of_the_same_generation_closes_the_conversation() {
    let s = settings().auto_close(HOUR).build();
    let conv = conversation()
        .assigned("bob", "Bob Ray")
        .timer(now(), HOUR, 4)
        .build();
    let o = ok_with(&conv, &Actor::System, &s, fire(4));
    assert_one_step(&o, &conv);
    assert_eq!(types(&o), ["status_changed"]);
    assert_eq!(
        data(&o, "status_changed"),
        json!({"from": "open", "to": "closed", "source": "auto_close"})
    );
    let w = the_write(&o);
    assert_eq!(w.timeline[0].actor, ActorRef::system());
    let after = &o.conversation;
    assert_eq!(after.status, Status::Closed);
    let closing = after.closing.clone().expect("closing");
    assert_eq!(closing.source, ClosingSource::AutoClose);
    assert_eq!(closing.by, ActorRef::system());
    assert_eq!(closing.at, now());
    assert_eq!(closing.note, None);
    assert_eq!(after.auto_close, None);
    assert_eq!(after.timer_generation, 5);
    // The assignee stays.
    assert_eq!(after.assignee_id(), Some("bob"));
    // Firing again (a duplicate delivery) does nothing.
    assert_noop(&ok_with(after, &Actor::System, &s, fire(4)), after);
    assert_noop(&ok_with(after, &Actor::System, &s, fire(5)), after);
}

#[test]
fn a_timer_fires_only_when_due_armed_and_current() {
    let s = settings().auto_close(HOUR).build();
    let early = conversation().timer(at(1), HOUR, 2).build();
    assert_noop(&ok_with(&early, &Actor::System, &s, fire(2)), &early);
    let stale = conversation().timer(at(-1), HOUR, 3).build();
    assert_noop(&ok_with(&stale, &Actor::System, &s, fire(2)), &stale);
    let disarmed = conversation().build();
    assert_noop(&ok_with(&disarmed, &Actor::System, &s, fire(0)), &disarmed);
    // Only the system fires timers.
    assert_eq!(
        err_with(&stale, &who(&alice_admin()), &s, fire(3)),
        DomainError::Forbidden
    );
}

#[test]
fn a_contact_message_that_lands_first_wins() {
    let mut desk = Desk::new(settings().auto_close(HOUR).build());
    let conv = conversation().build();
    let armed = desk.apply(&conv, &who(&bob()), reply("Anything else?"));
    let seen = armed.timer_generation;
    desk.advance(3599);
    let answered = desk.apply(&armed, &ann_actor(), contact_says("Yes, one thing"));
    assert_eq!(answered.auto_close, None);
    assert_eq!(answered.status, Status::Open);
    desk.advance(10);
    let o = desk
        .decide(&answered, &Actor::System, fire(seen))
        .expect("ok");
    assert_noop(&o, &answered);
}

#[test]
fn a_snooze_moves_the_timer_and_the_old_fire_is_stale() {
    let mut desk = Desk::new(settings().auto_close(HOUR).build());
    let armed = desk.apply(&conversation().build(), &who(&bob()), reply("Talk soon"));
    let snoozed = desk.apply(&armed, &who(&bob()), Command::Snooze { until: at(7200) });
    assert_eq!(snoozed.auto_close_at(), Some(at(7200 + 3600)));
    desk.advance(3600);
    assert_noop(
        &desk
            .decide(&snoozed, &Actor::System, fire(armed.timer_generation))
            .expect("ok"),
        &snoozed,
    );
    desk.advance(7200);
    let closed = desk.apply(&snoozed, &Actor::System, fire(snoozed.timer_generation));
    assert_eq!(closed.status, Status::Closed);
}

#[test]
fn handing_to_ai_disarms_the_timer() {
    let mut desk = Desk::new(settings().auto_close(HOUR).build());
    let armed = desk.apply(
        &conversation().build(),
        &who(&bob()),
        reply("Handing you to Max"),
    );
    let handed = desk.apply(&armed, &who(&bob()), hand_to(agent("max", "Max"), true));
    assert_eq!(handed.auto_close, None);
    desk.advance(7200);
    assert_noop(
        &desk
            .decide(&handed, &Actor::System, fire(armed.timer_generation))
            .expect("ok"),
        &handed,
    );
}

#[test]
fn with_auto_close_off_a_due_timer_is_cleared_not_fired() {
    let off = Settings::default();
    let conv = conversation().timer(at(-5), HOUR, 6).build();
    let o = ok_with(&conv, &Actor::System, &off, fire(6));
    assert_one_step(&o, &conv);
    assert!(types(&o).is_empty());
    assert_eq!(o.conversation.status, Status::Open);
    assert_eq!(o.conversation.auto_close, None);
    assert_eq!(o.conversation.timer_generation, 7);
    assert_eq!(o.conversation.closing, None);
    // Nothing shows on the conversation, so it does not move up the inbox.
    assert_eq!(o.conversation.last_activity_at, conv.last_activity_at);
    // Not yet due: left alone.
    let later = conversation().timer(at(5), HOUR, 6).build();
    assert_noop(&ok_with(&later, &Actor::System, &off, fire(6)), &later);
}

#[test]
fn a_due_timer_on_a_blocked_contacts_conversation_is_cleared_not_fired() {
    let s = settings().auto_close(HOUR).build();
    let conv = conversation().blocked().timer(at(-5), HOUR, 2).build();
    let o = ok_with(&conv, &Actor::System, &s, fire(2));
    assert_eq!(o.conversation.status, Status::Open);
    assert_eq!(o.conversation.auto_close, None);
}

#[test]
fn auto_close_generates_a_note_when_asked() {
    let s = settings()
        .auto_close(HOUR)
        .closing(
            ClosingNoteMode::CategoryAndSummaryRequired,
            &["Billing and charges"],
        )
        .auto_generate()
        .build();
    let conv = conversation().timer(now(), HOUR, 1).build();
    let cmd = Command::FireAutoClose {
        generation: 1,
        recent_messages: billing_talk(),
    };
    assert!(cmd.wants_recent_messages(&s));
    let o = ok_with(&conv, &Actor::System, &s, cmd);
    assert_eq!(types(&o), ["status_changed", "closing_note_added"]);
    let note = o
        .conversation
        .closing
        .clone()
        .and_then(|c| c.note)
        .expect("note");
    assert_eq!(note.category.as_deref(), Some("Billing and charges"));
    assert!(note.summary.is_some() && note.generated);
    assert_eq!(data(&o, "closing_note_added")["generated"], true);

    // Requirements never stop a timer: with nothing to generate from it closes without a note.
    let o = ok_with(&conv, &Actor::System, &s, fire(1));
    assert_eq!(o.conversation.status, Status::Closed);
    assert_eq!(o.conversation.closing.and_then(|c| c.note), None);

    // Notes off: no note even with auto_generate.
    let off = settings()
        .auto_close(HOUR)
        .closing(ClosingNoteMode::Off, &[])
        .auto_generate()
        .build();
    let o = ok_with(
        &conv,
        &Actor::System,
        &off,
        Command::FireAutoClose {
            generation: 1,
            recent_messages: billing_talk(),
        },
    );
    assert_eq!(types(&o), ["status_changed"]);
}

#[test]
fn a_contact_message_after_auto_close_reopens() {
    let mut desk = Desk::new(settings().auto_close(HOUR).build());
    let armed = desk.apply(&conversation().build(), &who(&bob()), reply("Bye!"));
    desk.advance(3600);
    let closed = desk.apply(&armed, &Actor::System, fire(armed.timer_generation));
    assert_eq!(closed.status, Status::Closed);
    desk.advance(60);
    let o = desk
        .decide(&closed, &ann_actor(), contact_says("Wait, one more"))
        .expect("ok");
    assert_eq!(
        data(&o, "status_changed"),
        json!({"from": "closed", "to": "open", "source": "contact_message"})
    );
    assert_eq!(o.conversation.closing, None);
    assert_eq!(o.conversation.auto_close, None);
}

#[test]
fn reopening_by_reply_arms_a_fresh_timer() {
    let s = settings().auto_close(HOUR).build();
    let closed = conversation().closed().build();
    let o = ok_with(
        &closed,
        &who(&bob()),
        &s,
        reply_on_closed("Reopening", commands::OnClosed::Reopen),
    );
    assert_eq!(o.conversation.status, Status::Open);
    assert_eq!(o.conversation.auto_close_at(), Some(at(3600)));
}
