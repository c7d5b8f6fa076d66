//! Messages from the contact, contact changes, conversation creation.

mod common;
use common::*;
use inbox_domain::*;
use serde_json::json;

#[test]
fn a_contact_message_cancels_the_timer_and_unsnoozes() {
    let s = settings().auto_close(600).build();
    let conv = conversation()
        .timer(at(7800), 600, 5)
        .snoozed(at(7200))
        .build();
    let o = ok_with(&conv, &ann_actor(), &s, contact_says("Still broken"));
    assert_one_step(&o, &conv);
    assert_eq!(types(&o), ["unsnoozed"]);
    assert_eq!(data(&o, "unsnoozed"), json!({"reason": "contact_message"}));
    let after = &o.conversation;
    assert_eq!(after.auto_close, None);
    assert_eq!(after.timer_generation, 6);
    assert_eq!(after.snoozed_until, None);
    assert_eq!(after.status, Status::Open);
    assert_eq!(after.last_contact_message_at, Some(now()));
    assert_eq!(after.last_message_sender, Some(SenderKind::Contact));
    let m = o.message.clone().expect("message");
    assert_eq!(m.sender.kind, SenderKind::Contact);
    assert_eq!(m.sender.id.as_deref(), Some(ANN));
    assert_eq!(m.channel_message_id.as_deref(), Some("SM1"));
    assert_eq!(
        the_write(&o).timeline[0].actor,
        ActorRef {
            kind: ActorKind::Contact,
            id: Some(ANN.into())
        }
    );
    // Without a timer or snooze there is no timeline event, just the message.
    let plain = conversation().build();
    let o = ok_with(&plain, &ann_actor(), &s, contact_says("hi"));
    assert!(types(&o).is_empty());
    assert_eq!(o.conversation.timer_generation, 0);
}

#[test]
fn a_contact_message_reopens_a_closed_conversation() {
    let conv = conversation().closed().assigned("bob", "Bob Ray").build();
    let o = ok(&conv, &ann_actor(), contact_says("One more thing"));
    assert_one_step(&o, &conv);
    assert_eq!(types(&o), ["status_changed"]);
    assert_eq!(
        data(&o, "status_changed"),
        json!({"from": "closed", "to": "open", "source": "contact_message"})
    );
    assert_eq!(o.conversation.closing, None);
    assert_eq!(o.conversation.assignee_id(), Some("bob"));
}

#[test]
fn without_reopen_a_contact_message_starts_a_new_conversation() {
    let s = settings().reopen_on_contact_message(false).build();
    let conv = conversation().closed().build();
    let o = ok_with(&conv, &ann_actor(), &s, contact_says("New question"));
    let w = the_write(&o);
    assert_eq!(w.expected_version, None);
    assert_ne!(o.conversation.id, conv.id);
    assert_eq!(o.conversation.status, Status::Open);
    assert_eq!(o.conversation.contact, conv.contact);
    assert_eq!(o.conversation.channel_id, conv.channel_id);
    assert_eq!(types(&o), ["conversation_created"]);
    assert_eq!(
        o.message.as_ref().map(|m| m.conversation_id.clone()),
        Some(o.conversation.id.clone())
    );
    // An open conversation simply takes the message.
    let open = conversation().build();
    let o = ok_with(&open, &ann_actor(), &s, contact_says("hi"));
    assert_eq!(o.conversation.id, open.id);
}

#[test]
fn a_blocked_contacts_message_is_stored_and_changes_nothing_else() {
    let s = settings().reopen_on_contact_message(false).build();
    for conv in [
        conversation()
            .blocked()
            .agent("max", "Max", true)
            .snoozed(at(600))
            .build(),
        conversation().blocked().closed().build(),
    ] {
        let o = ok_with(&conv, &ann_actor(), &s, contact_says("let me in"));
        let w = the_write(&o);
        assert_eq!(w.conversation.id, conv.id, "no new conversation");
        assert_eq!(w.messages.len(), 1);
        assert!(w.timeline.is_empty() && w.events.is_empty());
        let after = &o.conversation;
        assert_eq!(after.status, conv.status);
        assert_eq!(after.snoozed_until, conv.snoozed_until);
        assert_eq!(after.agent, conv.agent);
        assert_eq!(after.last_contact_message_at, None, "no unread");
    }
}

#[test]
fn only_the_contact_or_the_system_delivers_contact_messages() {
    let conv = conversation().build();
    assert_eq!(
        err(&conv, &who(&bob()), contact_says("spoof")),
        DomainError::Forbidden
    );
    assert!(
        run(
            &conv,
            &Actor::System,
            &Settings::default(),
            contact_says("relayed")
        )
        .is_ok()
    );
    assert_eq!(
        err(&conv, &ann_actor(), contact_says("  ")),
        DomainError::EmptyBody
    );
}

#[test]
fn the_first_message_of_a_contact_starts_an_open_conversation() {
    let settings = Settings::default();
    let mut ids = SequentialIds::default();
    let actor = ann_actor();
    let mut c = ctx(&actor, &settings, &mut ids, now());
    let o = receive_contact_message(
        None,
        "acme",
        &ann(),
        Some(inbox_domain::ChannelRef::new(
            "sms-main",
            inbox_domain::ChannelKind::Twilio,
        )),
        None,
        "Hello?",
        Some("SM9".into()),
        &mut c,
    )
    .expect("accepted");
    let conv = &o.conversation;
    assert_eq!(conv.status, Status::Open);
    assert_eq!(conv.workspace_id, "acme");
    assert_eq!(conv.contact, ann().snapshot());
    assert_eq!(conv.version, 1);
    assert_eq!(types(&o), ["conversation_created"]);
    assert_eq!(conv.last_contact_message_at, Some(now()));

    // With a latest conversation, the message goes there.
    let existing = conversation().build();
    let mut c = ctx(&actor, &settings, &mut ids, now());
    let o = receive_contact_message(
        Some(&existing),
        "acme",
        &ann(),
        Some(inbox_domain::ChannelRef::new(
            "sms-main",
            inbox_domain::ChannelKind::Twilio,
        )),
        None,
        "Again",
        None,
        &mut c,
    )
    .expect("accepted");
    assert_eq!(o.conversation.id, existing.id);
}

#[test]
fn creating_a_conversation() {
    let settings = Settings::default();
    let mut ids = SequentialIds::default();
    for caller in [bob(), zap()] {
        let actor = who(&caller);
        let mut c = ctx(&actor, &settings, &mut ids, now());
        let o = create_conversation("acme", &ann(), None, &mut c).expect("created");
        let w = the_write(&o);
        assert_eq!(w.expected_version, None);
        assert_eq!(o.conversation.status, Status::Open);
        assert_eq!(o.conversation.version, 1);
        assert_eq!(
            data(&o, "conversation_created"),
            json!({"channel_id": null, "contact_id": ANN})
        );
    }
    for caller in [vic_viewer(), max_ai()] {
        let actor = who(&caller);
        let mut c = ctx(&actor, &settings, &mut ids, now());
        assert_eq!(
            create_conversation("acme", &ann(), None, &mut c).map(|_| ()),
            Err(DomainError::Forbidden)
        );
    }
}

#[test]
fn blocking_and_unblocking_show_on_conversations_that_are_not_closed() {
    let s = settings().auto_close(600).build();
    let conv = conversation().timer(at(600), 600, 1).build();
    let blocked = Contact {
        blocked: true,
        ..ann()
    };
    let o = ok_with(
        &conv,
        &who(&bob()),
        &s,
        Command::ContactChanged {
            contact: blocked.clone(),
        },
    );
    assert_one_step(&o, &conv);
    assert_eq!(types(&o), ["contact_blocked"]);
    assert_eq!(data(&o, "contact_blocked"), json!({"contact_id": ANN}));
    assert!(o.conversation.contact.blocked);
    // Blocking disarms the timer: the conversation may not be closed now.
    assert_eq!(o.conversation.auto_close, None);
    assert_eq!(o.conversation.timer_generation, 2);

    let o = ok_with(
        &o.conversation,
        &who(&bob()),
        &s,
        Command::ContactChanged { contact: ann() },
    );
    assert_eq!(types(&o), ["contact_unblocked"]);
    assert!(!o.conversation.contact.blocked);

    // A closed conversation takes the new snapshot silently.
    let closed = conversation().closed().build();
    let o = ok_with(
        &closed,
        &Actor::System,
        &s,
        Command::ContactChanged { contact: blocked },
    );
    assert!(types(&o).is_empty());
    assert!(o.conversation.contact.blocked);
}

#[test]
fn contact_details_refresh_the_snapshot() {
    let conv = conversation().build();
    let renamed = Contact {
        name: Some("Ann Lee".into()),
        email: None,
        ..ann()
    };
    let o = ok(
        &conv,
        &who(&bob()),
        Command::ContactChanged { contact: renamed },
    );
    assert_one_step(&o, &conv);
    assert!(types(&o).is_empty());
    assert_eq!(o.conversation.contact.name.as_deref(), Some("Ann Lee"));
    assert!(!o.conversation.contact.has_lead);
    // Unchanged details: nothing to write.
    assert_noop(
        &ok(
            &conv,
            &who(&bob()),
            Command::ContactChanged { contact: ann() },
        ),
        &conv,
    );
    // Another contact's details never land here.
    let other = Contact {
        id: "ct_zed".into(),
        ..ann()
    };
    assert_eq!(
        err(
            &conv,
            &who(&bob()),
            Command::ContactChanged { contact: other }
        )
        .code(),
        "bad_request"
    );
    assert_eq!(
        err(
            &conv,
            &who(&vic_viewer()),
            Command::ContactChanged { contact: ann() }
        ),
        DomainError::Forbidden
    );
}
