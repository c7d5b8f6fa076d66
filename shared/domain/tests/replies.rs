//! Human replies, integration messages and internal notes.

mod common;
use common::*;
use inbox_domain::commands::{MAX_BODY_CHARS, OnClosed};
use inbox_domain::*;
use serde_json::json;

#[test]
fn a_reply_needs_no_assignment_and_sets_the_last_responder() {
    let conv = conversation().build();
    let o = ok(&conv, &who(&bob()), reply("  Hi Ann!  "));
    assert_one_step(&o, &conv);
    assert!(types(&o).is_empty());
    let m = o.message.clone().expect("message");
    assert_eq!(m.body, "Hi Ann!");
    assert_eq!(
        m.sender,
        Sender {
            kind: SenderKind::Member,
            id: Some("bob".into()),
            name: Some("Bob Ray".into())
        }
    );
    assert_eq!(m.conversation_id, "conv_1");
    assert!(m.id.starts_with("msg_"));
    assert_eq!(the_write(&o).messages, vec![m.clone()]);
    let after = &o.conversation;
    assert_eq!(after.assignee, None);
    assert_eq!(
        after.last_responder,
        Some(Responder {
            kind: ResponderKind::Human,
            id: "bob".into()
        })
    );
    assert_eq!(after.last_message_sender, Some(SenderKind::Member));
    let outbound: Vec<_> = out_events(&o)
        .into_iter()
        .map(|e| e.detail_type())
        .collect();
    assert_eq!(outbound, ["message.outbound"]);
}

#[test]
fn blank_bodies_and_nameless_members_are_refused() {
    let conv = conversation().build();
    for body in ["", "   ", "\n\t"] {
        let e = err(&conv, &who(&bob()), reply(body));
        assert_eq!((e.code(), e.status()), ("empty_body", 422));
    }
    let e = err(&conv, &who(&nameless()), reply("hello"));
    assert_eq!((e.code(), e.status()), ("profile_incomplete", 422));
    let blank_name = Caller::new("sam", Role::Agent, Some("   "));
    assert_eq!(
        err(&conv, &who(&blank_name), reply("hello")),
        DomainError::ProfileIncomplete
    );
    let long = "x".repeat(MAX_BODY_CHARS + 1);
    assert_eq!(err(&conv, &who(&bob()), reply(&long)).code(), "bad_request");
    assert!(
        run(
            &conv,
            &who(&bob()),
            &Settings::default(),
            reply(&"x".repeat(MAX_BODY_CHARS))
        )
        .is_ok()
    );
}

#[test]
fn a_blocked_contact_gets_no_reply_of_any_kind() {
    let conv = conversation().blocked().agent("max", "Max", true).build();
    for (c, cmd) in [
        (bob(), reply("hi")),
        (bob(), reply_on_closed("hi", OnClosed::Reopen)),
        (max_ai(), reply("hi")),
        (zap(), integration_post("Sale!", SenderKind::Broadcast)),
    ] {
        let e = err(&conv, &who(&c), cmd);
        assert_eq!((e.code(), e.status()), ("contact_blocked", 409), "{c:?}");
    }
    // Closed and blocked: blocked wins.
    let closed = conversation().blocked().closed().build();
    assert_eq!(
        err(&closed, &who(&bob()), reply("hi")),
        DomainError::ContactBlocked
    );
}

#[test]
fn replying_to_a_closed_conversation_asks_how_to_proceed() {
    let conv = conversation().closed().build();
    let e = err(&conv, &who(&bob()), reply("Following up"));
    assert_eq!((e.code(), e.status()), ("conversation_closed", 409));
    assert_eq!(
        e.extra().get("options"),
        Some(&json!(["reopen", "new_conversation"]))
    );
}

#[test]
fn reply_with_reopen_reopens_and_posts() {
    let conv = conversation().closed().build();
    let o = ok(
        &conv,
        &who(&bob()),
        reply_on_closed("Following up", OnClosed::Reopen),
    );
    assert_one_step(&o, &conv);
    assert_eq!(types(&o), ["status_changed"]);
    assert_eq!(
        data(&o, "status_changed"),
        json!({"from": "closed", "to": "open", "source": "reply_reopen"})
    );
    assert_eq!(o.conversation.status, Status::Open);
    assert_eq!(o.conversation.closing, None);
    assert_eq!(
        o.message.as_ref().map(|m| m.conversation_id.as_str()),
        Some("conv_1")
    );
}

#[test]
fn reply_with_new_conversation_leaves_the_old_one_untouched() {
    let s = settings().auto_close(600).build();
    let conv = conversation()
        .closed()
        .assigned("carol", "Carol Diaz")
        .labels(&["vip"])
        .build();
    let o = ok_with(
        &conv,
        &who(&bob()),
        &s,
        reply_on_closed("New topic", OnClosed::NewConversation),
    );
    let w = the_write(&o);
    assert_eq!(w.expected_version, None, "a creation");
    let fresh = &o.conversation;
    assert_ne!(fresh.id, conv.id);
    assert!(fresh.id.starts_with("conv_"));
    assert_eq!(fresh.contact, conv.contact);
    assert_eq!(fresh.channel_id, conv.channel_id);
    assert_eq!(fresh.status, Status::Open);
    assert_eq!(fresh.version, 1);
    assert_eq!((fresh.created_at, fresh.last_activity_at), (now(), now()));
    assert_eq!(fresh.assignee, None);
    assert!(fresh.labels.is_empty());
    assert_eq!(fresh.auto_close_at(), Some(at(600)));
    assert_eq!(
        o.message.as_ref().map(|m| m.conversation_id.as_str()),
        Some(fresh.id.as_str())
    );
    assert_eq!(types(&o), ["conversation_created"]);
    assert_eq!(
        data(&o, "conversation_created"),
        json!({"channel_id": "sms-main", "contact_id": ANN})
    );
    assert!(w.timeline.iter().all(|e| e.conversation_id == fresh.id));
    assert!(o.writes.iter().all(|w| w.conversation.id != conv.id));
}

#[test]
fn on_closed_is_ignored_while_the_conversation_is_not_closed() {
    let conv = conversation().build();
    let o = ok(
        &conv,
        &who(&bob()),
        reply_on_closed("hello", OnClosed::NewConversation),
    );
    assert_eq!(o.conversation.id, conv.id);
    assert!(types(&o).is_empty());
}

#[test]
fn a_pending_handoff_goes_to_the_replier() {
    let s = settings().ai(true, false).build();
    let conv = conversation().handoff().agent("max", "Max", false).build();
    let o = ok_with(&conv, &who(&bob()), &s, reply("I'm here"));
    assert_eq!(types(&o), ["assigned"]);
    assert_eq!(
        data(&o, "assigned"),
        json!({"from": null, "to": "bob", "reason": "replied"})
    );
    assert!(!o.conversation.human_handoff);
}

#[test]
fn integrations_post_broadcasts_and_workflow_messages() {
    let s = settings().auto_close(600).build();
    let conv = conversation().timer(at(300), 600, 2).build();
    for kind in [SenderKind::Broadcast, SenderKind::Workflow] {
        let o = ok_with(
            &conv,
            &who(&zap()),
            &s,
            integration_post("Our hours changed", kind),
        );
        let m = o.message.clone().expect("message");
        assert_eq!(m.sender.kind, kind);
        assert_eq!(m.sender.id.as_deref(), Some("zap"));
        // Never touches the timer nor the last responder.
        assert_eq!(o.conversation.auto_close, conv.auto_close);
        assert_eq!(o.conversation.timer_generation, 2);
        assert_eq!(o.conversation.last_responder, None);
        assert!(types(&o).is_empty());
    }
    // Without a valid sender kind, or with on_closed: bad request.
    for cmd in [
        reply("hello"),
        integration_post("hello", SenderKind::Member),
        Command::PostMessage {
            body: "x".into(),
            on_closed: Some(OnClosed::Reopen),
            sender: Some(SenderKind::Broadcast),
        },
    ] {
        assert_eq!(err(&conv, &who(&zap()), cmd).code(), "bad_request");
    }
    // Members and AI agents may not pick a sender kind.
    assert_eq!(
        err(
            &conv,
            &who(&bob()),
            integration_post("x", SenderKind::Broadcast)
        )
        .code(),
        "validation_failed"
    );
    // Viewers post nothing.
    assert_eq!(
        err(&conv, &who(&vic_viewer()), reply("x")),
        DomainError::Forbidden
    );
}

#[test]
fn an_internal_note_is_a_timeline_event_only() {
    let s = settings().auto_close(600).build();
    let conv = conversation().timer(at(300), 600, 2).build();
    let o = ok_with(
        &conv,
        &who(&bob()),
        &s,
        Command::AddNote {
            body: " Customer is a VIP ".into(),
        },
    );
    assert_one_step(&o, &conv);
    assert_eq!(types(&o), ["note_added"]);
    let d = data(&o, "note_added");
    assert_eq!(d["body"], "Customer is a VIP");
    assert!(
        d["note_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("note_"))
    );
    assert!(the_write(&o).messages.is_empty());
    assert!(out_events(&o).is_empty());
    assert_eq!(o.conversation.auto_close, conv.auto_close);
    assert_eq!(
        err(&conv, &who(&bob()), Command::AddNote { body: " ".into() }),
        DomainError::EmptyBody
    );
    assert_eq!(
        err(
            &conv,
            &who(&vic_viewer()),
            Command::AddNote { body: "x".into() }
        ),
        DomainError::Forbidden
    );
}

#[test]
fn labels_are_added_and_removed_as_a_net_change() {
    let conv = conversation().labels(&["billing", "vip"]).build();
    let o = ok(
        &conv,
        &who(&bob()),
        Command::Labels {
            add: vec![" urgent ".into(), "billing".into(), "urgent".into()],
            remove: vec!["vip".into(), "absent".into()],
        },
    );
    assert_one_step(&o, &conv);
    assert_eq!(types(&o), ["labels_changed"]);
    assert_eq!(
        data(&o, "labels_changed"),
        json!({"added": ["urgent"], "removed": ["vip"]})
    );
    assert_eq!(o.conversation.labels, ["billing", "urgent"]);

    // Adding what is there, removing what is not, or both at once: nothing changes.
    for (add, remove) in [
        (vec!["billing"], vec![]),
        (vec![], vec!["absent"]),
        (vec!["vip"], vec!["vip"]),
    ] {
        let o = ok(
            &conv,
            &who(&bob()),
            Command::Labels {
                add: add.into_iter().map(String::from).collect(),
                remove: remove.into_iter().map(String::from).collect(),
            },
        );
        assert_noop(&o, &conv);
    }
}

#[test]
fn label_limits() {
    let conv = conversation().build();
    for bad in ["", "  ", &"x".repeat(65), "a\u{7}b"] {
        let e = err(
            &conv,
            &who(&bob()),
            Command::Labels {
                add: vec![bad.to_string()],
                remove: vec![],
            },
        );
        assert_eq!((e.code(), e.status()), ("validation_failed", 422));
    }
    let fifty: Vec<String> = (0..50).map(|i| format!("l{i}")).collect();
    let full = ok(
        &conv,
        &who(&bob()),
        Command::Labels {
            add: fifty,
            remove: vec![],
        },
    )
    .conversation;
    assert_eq!(full.labels.len(), 50);
    let e = err(
        &full,
        &who(&bob()),
        Command::Labels {
            add: vec!["one-more".into()],
            remove: vec![],
        },
    );
    assert_eq!(e.code(), "validation_failed");
    // Swapping one for another stays within the limit.
    assert!(
        run(
            &full,
            &who(&bob()),
            &Settings::default(),
            Command::Labels {
                add: vec!["one-more".into()],
                remove: vec!["l0".into()],
            }
        )
        .is_ok()
    );
}

#[test]
fn channel_transfer() {
    let conv = conversation().build();
    let o = ok(
        &conv,
        &who(&bob()),
        Command::TransferChannel {
            channel: Lookup::Found(channel("wa-main")),
        },
    );
    assert_eq!(types(&o), ["channel_transferred"]);
    assert_eq!(
        data(&o, "channel_transferred"),
        json!({"from": "sms-main", "to": "wa-main"})
    );
    assert_eq!(o.conversation.channel_id.as_deref(), Some("wa-main"));
    let same = ok(
        &conv,
        &who(&bob()),
        Command::TransferChannel {
            channel: Lookup::Found(channel("sms-main")),
        },
    );
    assert_noop(&same, &conv);
    let e = err(
        &conv,
        &who(&bob()),
        Command::TransferChannel {
            channel: Lookup::Unknown("nope".into()),
        },
    );
    assert_eq!((e.code(), e.status()), ("unknown_channel", 422));
    let none = conversation().channel(None).build();
    let o = ok(
        &none,
        &who(&bob()),
        Command::TransferChannel {
            channel: Lookup::Found(channel("wa-main")),
        },
    );
    assert_eq!(
        data(&o, "channel_transferred"),
        json!({"from": null, "to": "wa-main"})
    );
}

#[test]
fn read_unread_and_favorite_are_the_callers_own() {
    use inbox_domain::commands::FlagChange;
    let mut conv = conversation().contact_wrote(at(-10)).build();
    let b = bob();
    assert!(conv.is_unread_for("bob"), "a contact message nobody read");
    let read = change_flags(&conv, &b, FlagChange::Read, now()).expect("flags");
    conv.member_flags.insert("bob".into(), read);
    assert!(!conv.is_unread_for("bob"));
    assert!(conv.is_unread_for("carol"), "flags are per member");

    // A later contact message makes it unread again.
    let mut later = conv.clone();
    later.last_contact_message_at = Some(at(10));
    assert!(later.is_unread_for("bob"));

    // Marking unread holds until the member reads again.
    let unread = change_flags(&conv, &b, FlagChange::Unread, now()).expect("flags");
    conv.member_flags.insert("bob".into(), unread);
    assert!(conv.is_unread_for("bob"));
    let read = change_flags(&conv, &b, FlagChange::Read, at(1)).expect("flags");
    conv.member_flags.insert("bob".into(), read);
    assert!(!conv.is_unread_for("bob"));

    // Favorite on and off.
    let fav = change_flags(&conv, &b, FlagChange::Favorite, now()).expect("flags");
    assert!(fav.favorite);
    conv.member_flags.insert("bob".into(), fav);
    assert!(conv.is_favorite_for("bob") && !conv.is_favorite_for("carol"));
    let unfav = change_flags(&conv, &b, FlagChange::Unfavorite, now()).expect("flags");
    assert!(!unfav.favorite);

    // No contact message yet: not unread.
    assert!(!conversation().build().is_unread_for("bob"));
    assert_eq!(
        change_flags(&conv, &vic_viewer(), FlagChange::Read, now()),
        Err(DomainError::Forbidden)
    );
}

/// The viewer's abilities are the commands' own checks: whatever the viewer
/// offers, the command accepts, and the other way round.
#[test]
fn the_viewer_offers_a_reply_exactly_when_the_reply_is_accepted() {
    use inbox_domain::render;
    let with_max = conversation().agent("max", "Max", true).build();
    let blocked = conversation().agent("max", "Max", true).blocked().build();
    let closed = conversation().agent("max", "Max", true).closed().build();
    for conv in [&with_max, &blocked, &closed] {
        for caller in [bob(), vic_viewer(), max_ai(), eve_ai(), zap()] {
            // On a closed conversation a member's reply says what to do (the composer asks).
            let cmd = match caller.role {
                inbox_domain::Role::Integration => integration_post("hi", SenderKind::Broadcast),
                inbox_domain::Role::AiAgent => reply("hi"),
                _ if conv.is_closed() => reply_on_closed("hi", OnClosed::Reopen),
                _ => reply("hi"),
            };
            let accepted = run(conv, &who(&caller), &Settings::default(), cmd).is_ok();
            assert_eq!(
                render(conv, &caller, now()).viewer.can_reply,
                accepted,
                "{} on {:?} (blocked {}, status {:?})",
                caller.id,
                conv.agent.as_ref().map(|a| &a.id),
                conv.contact.blocked,
                conv.status
            );
        }
    }
    // An AI agent holding the session may reply; one that does not may not.
    assert!(render(&with_max, &max_ai(), now()).viewer.can_reply);
    assert!(!render(&with_max, &eve_ai(), now()).viewer.can_reply);
}

#[test]
fn the_viewer_offers_a_takeover_exactly_when_the_takeover_is_accepted() {
    use inbox_domain::{Command, render};
    let assigned = conversation().assigned("carol", "Carol").build();
    let unassigned = conversation().build();
    for conv in [&assigned, &unassigned] {
        for caller in [bob(), carol(), vic_viewer(), max_ai()] {
            let accepted =
                run(conv, &who(&caller), &Settings::default(), Command::Takeover).is_ok();
            assert_eq!(
                render(conv, &caller, now()).viewer.can_takeover,
                accepted,
                "{} on {:?}",
                caller.id,
                conv.assignee
            );
        }
    }
}

// ---- delivery state and WhatsApp's reply window ---------------------------

fn integration_says(body: &str) -> Command {
    Command::PostMessage {
        body: body.into(),
        on_closed: None,
        sender: Some(SenderKind::Broadcast),
    }
}

#[test]
fn outgoing_messages_on_a_channel_are_stored_pending() {
    let conv = conversation().build();
    for (actor, cmd) in [
        (who(&bob()), reply("Hi")),
        (who(&zap()), integration_says("Sale!")),
    ] {
        let m = ok(&conv, &actor, cmd).message.expect("message");
        assert_eq!(
            m.delivery,
            Some(Delivery {
                status: DeliveryStatus::Pending,
                attempts: 0,
                error: None,
                updated_at: now(),
            })
        );
    }
    let ai = conversation().agent("max", "Max", true).build();
    let m = ok(&ai, &who(&max_ai()), reply("Hello from AI"))
        .message
        .unwrap();
    assert_eq!(m.delivery.map(|d| d.status), Some(DeliveryStatus::Pending));

    // Without a channel nothing is delivered; the contact's own messages are not outgoing.
    let web = conversation().channel(None).build();
    assert_eq!(
        ok(&web, &who(&bob()), reply("Hi"))
            .message
            .unwrap()
            .delivery,
        None
    );
    let inbound = ok(
        &conv,
        &ann_actor(),
        Command::ContactMessage {
            body: "Hello".into(),
            channel_message_id: Some("SM1".into()),
            first_agent: None,
        },
    );
    assert_eq!(inbound.message.unwrap().delivery, None);
}

#[test]
fn whatsapp_refuses_a_free_text_reply_24_hours_after_the_contacts_last_message() {
    let day = 24 * 60 * 60;
    let wrote = |secs_ago: i64| {
        conversation()
            .channel_kind(ChannelKind::Whatsapp)
            .contact_wrote(at(-secs_ago))
            .build()
    };
    // Exactly 24 hours: still open.
    assert!(ok(&wrote(day), &who(&bob()), reply("Hi")).message.is_some());
    let closed = wrote(day + 1);
    for actor in [who(&bob()), who(&zap())] {
        let cmd = if actor == who(&zap()) {
            integration_says("Sale!")
        } else {
            reply("Hi")
        };
        assert_eq!(err(&closed, &actor, cmd), DomainError::ReplyWindowClosed);
    }
    assert_eq!(DomainError::ReplyWindowClosed.code(), "reply_window_closed");
    assert_eq!(DomainError::ReplyWindowClosed.status(), 422);
    let viewer = render(&closed, &bob(), now()).viewer;
    assert!(!viewer.can_reply);
    assert_eq!(viewer.reply_blocked_reason, Some("reply_window_closed"));
    // Before the contact ever wrote, WhatsApp takes only templates.
    let never = conversation().channel_kind(ChannelKind::Whatsapp).build();
    assert_eq!(
        err(&never, &who(&bob()), reply("Hi")),
        DomainError::ReplyWindowClosed
    );
    // Other channels have no window.
    let sms = conversation()
        .channel_kind(ChannelKind::Twilio)
        .contact_wrote(at(-10 * day))
        .build();
    assert!(ok(&sms, &who(&bob()), reply("Hi")).message.is_some());
    let viewer = render(&sms, &bob(), now()).viewer;
    assert_eq!(
        (viewer.can_reply, viewer.reply_blocked_reason),
        (true, None)
    );
}

#[test]
fn the_viewer_says_why_a_reply_would_be_refused() {
    let blocked = conversation().blocked().build();
    assert_eq!(
        render(&blocked, &bob(), now()).viewer.reply_blocked_reason,
        Some("contact_blocked")
    );
    assert_eq!(
        render(&conversation().build(), &vic_viewer(), now())
            .viewer
            .reply_blocked_reason,
        Some("forbidden")
    );
    assert_eq!(
        render(&conversation().build(), &max_ai(), now())
            .viewer
            .reply_blocked_reason,
        Some("ai_paused")
    );
}

#[test]
fn an_outgoing_messages_event_says_where_the_message_is_stored() {
    let conv = conversation().version(4).build();
    let o = ok(&conv, &who(&bob()), reply("Hi"));
    let w = the_write(&o);
    let at = out_events(&o).into_iter().find_map(|e| match e {
        DomainEvent::OutboundMessage { at, message, .. } => Some((*at, message.id.clone())),
        _ => None,
    });
    assert_eq!(
        at,
        Some((
            Some(MessageAt {
                version: 5,
                position: 0
            }),
            w.messages[0].id.clone()
        ))
    );
    assert_eq!(w.conversation.version, 5);
}

#[test]
fn a_folded_write_names_the_message_where_the_fold_stores_it() {
    // A stale contact snapshot is refreshed first and folded into the reply's write.
    let conv = conversation().version(2).build();
    let renamed = Contact {
        name: Some("Ann Lee".into()),
        ..ann()
    };
    let refresh = ok(
        &conv,
        &who(&bob()),
        Command::ContactChanged { contact: renamed },
    );
    let reply = ok(&refresh.conversation, &who(&bob()), reply("Hi")).after(&refresh);
    let w = the_write(&reply);
    assert_eq!(w.expected_version, Some(2));
    let at = out_events(&reply).into_iter().find_map(|e| match e {
        DomainEvent::OutboundMessage { at, .. } => *at,
        _ => None,
    });
    assert_eq!(
        at,
        Some(MessageAt {
            version: w.conversation.version,
            position: 0
        })
    );
}
