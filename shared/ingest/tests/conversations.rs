//! What a contact message does to the contact's conversations, through the webhook.

mod common;

use common::{Harness, WS, generic_body};
use inbox_domain::model::{
    AiAgent, Contact, DomainEvent, EventKind, ReplyTrigger, Status, StatusSource,
};
use inbox_domain::{ChannelKind, Command, Lookup, Settings};
use inbox_store::{Commit, ContactStore, Outbox};

async fn say(h: &Harness, id: &str, text: &str) {
    let reply = h
        .deliver(ChannelKind::Generic, &generic_body(id, "cust-1", text))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

async fn close(h: &Harness, conversation_id: &str) {
    h.act(
        conversation_id,
        Harness::member("bob"),
        Command::SetStatus {
            status: Status::Closed,
            closing_note: None,
            recent_messages: Vec::new(),
        },
    )
    .await;
}

#[tokio::test]
async fn the_first_message_creates_contact_and_open_unread_conversation() {
    let h = Harness::new().await;
    say(&h, "m1", "Hello").await;
    let conv = h.conversations().await.remove(0);
    assert_eq!(conv.status, Status::Open);
    assert_eq!(conv.channel_id.as_deref(), Some("web"));
    assert!(conv.is_unread_for("bob") && conv.is_unread_for("carol"));
    assert_eq!(conv.contact.name.as_deref(), Some("Grace"));
    assert!(conv.last_contact_message_at.is_some());
    // The next message goes to the same conversation.
    say(&h, "m2", "Anyone there?").await;
    let convs = h.conversations().await;
    assert_eq!(convs.len(), 1);
    assert_eq!(h.messages(&conv.id).await.len(), 2);
}

#[tokio::test]
async fn a_message_after_close_reopens() {
    let h = Harness::new().await;
    say(&h, "m1", "Hello").await;
    let conv = h.conversations().await.remove(0);
    close(&h, &conv.id).await;
    say(&h, "m2", "Actually, one more thing").await;
    let convs = h.conversations().await;
    assert_eq!(convs.len(), 1);
    assert_eq!(convs[0].status, Status::Open);
    assert!(convs[0].closing.is_none());
    let reopened = h.timeline(&conv.id).await.into_iter().any(|e| {
        matches!(
            e.kind,
            EventKind::StatusChanged {
                from: Status::Closed,
                to: Status::Open,
                source: StatusSource::ContactMessage
            }
        )
    });
    assert!(reopened, "status_changed with source contact_message");
}

#[tokio::test]
async fn without_reopen_a_message_after_close_starts_a_new_conversation() {
    let h = Harness::new().await;
    h.set_settings(&Settings {
        reopen_on_contact_message: false,
        ..Settings::default()
    })
    .await;
    say(&h, "m1", "Hello").await;
    let first = h.conversations().await.remove(0);
    close(&h, &first.id).await;
    say(&h, "m2", "New question").await;
    let convs = h.conversations().await;
    assert_eq!(convs.len(), 2);
    let old = h.conversation(&first.id).await;
    assert_eq!(old.status, Status::Closed);
    let new = convs.iter().find(|c| c.id != first.id).unwrap();
    assert_eq!(new.status, Status::Open);
    assert_eq!(new.contact.id, first.contact.id);
    assert_eq!(new.channel_id.as_deref(), Some("web"));
    assert_eq!(h.messages(&new.id).await.len(), 1);
    // And the one after lands in the new conversation.
    say(&h, "m3", "Follow-up").await;
    assert_eq!(h.conversations().await.len(), 2);
    assert_eq!(h.messages(&new.id).await.len(), 2);
}

#[tokio::test]
async fn a_blocked_contacts_message_is_stored_and_changes_nothing_else() {
    let h = Harness::new().await;
    say(&h, "m1", "Hello").await;
    let conv = h.conversations().await.remove(0);
    close(&h, &conv.id).await;
    // Block the contact, refreshing the conversation's snapshot in the same write.
    let contact: Contact = h
        .store
        .get_contact(WS, &conv.contact.id)
        .await
        .unwrap()
        .unwrap();
    let blocked = Contact {
        blocked: true,
        ..contact
    };
    let refreshed = {
        let context =
            inbox_store::ConversationStore::load_context(&h.store, WS, Some(&conv.id), &[])
                .await
                .unwrap();
        let mut ids = inbox_store::UlidIds::default();
        let actor = Harness::member("bob");
        let mut ctx = inbox_domain::Ctx {
            now: h.now(),
            actor: &actor,
            settings: &context.settings,
            ids: &mut ids,
            notes: &inbox_domain::ExtractiveNotes,
        };
        inbox_domain::decide(
            context.conversation.as_ref().unwrap(),
            Command::ContactChanged {
                contact: blocked.clone(),
            },
            &mut ctx,
        )
        .unwrap()
    };
    h.store
        .update_contact(
            WS,
            &blocked,
            Commit::new(refreshed.conversation.workspace_id.clone()).with_writes(refreshed.writes),
        )
        .await
        .unwrap();
    let before = h.conversation(&conv.id).await;
    let timeline_before = h.timeline(&conv.id).await.len();

    say(&h, "m2", "Let me in").await;
    let after = h.conversation(&conv.id).await;
    assert_eq!(h.conversations().await.len(), 1);
    assert_eq!(after.status, Status::Closed, "not reopened");
    assert_eq!(
        after.last_contact_message_at,
        before.last_contact_message_at
    );
    assert_eq!(h.timeline(&conv.id).await.len(), timeline_before);
    let msgs = h.messages(&conv.id).await;
    assert_eq!(msgs.len(), 2, "stored");
    assert_eq!(msgs[1].body, "Let me in");
}

#[tokio::test]
async fn a_contact_message_cancels_an_armed_auto_close_timer() {
    let h = Harness::new().await;
    let mut settings = Settings::default();
    settings.auto_close.enabled = true;
    settings.auto_close.after_seconds = 3600;
    h.set_settings(&settings).await;
    say(&h, "m1", "Hello").await;
    let conv = h.conversations().await.remove(0);
    let armed = h
        .act(
            &conv.id,
            Harness::member("bob"),
            Command::PostMessage {
                body: "How can I help?".into(),
                on_closed: None,
                sender: None,
            },
        )
        .await;
    assert!(
        armed.auto_close_at().is_some(),
        "a member reply arms the timer"
    );
    h.clock.advance_ms(60_000);
    say(&h, "m2", "My parcel is late").await;
    let after = h.conversation(&conv.id).await;
    assert_eq!(after.auto_close_at(), None, "cancelled");
    assert_eq!(after.status, Status::Open);
    assert!(after.timer_generation > armed.timer_generation);
}

#[tokio::test]
async fn an_active_ai_session_is_asked_to_reply() {
    let h = Harness::new().await;
    say(&h, "m1", "Hello").await;
    let conv = h.conversations().await.remove(0);
    h.act(
        &conv.id,
        Harness::member("bob"),
        Command::HandToAgent {
            agent: Lookup::Found(AiAgent::external("max", "Max")),
            send_initial_message: false,
        },
    )
    .await;
    // Drain what came before.
    let earlier = h.store.pending_events(100).await.unwrap();
    let keys: Vec<String> = earlier.iter().map(|(k, _)| k.clone()).collect();
    h.store.ack_events(&keys).await.unwrap();

    say(&h, "m2", "Is anyone there?").await;
    let events = h.store.pending_events(100).await.unwrap();
    let msgs = h.messages(&conv.id).await;
    let requested: Vec<_> = events
        .iter()
        .filter_map(|(_, e)| match e {
            DomainEvent::AiReplyRequested {
                conversation_id,
                agent_id,
                trigger,
                message_id,
                ..
            } => Some((conversation_id, agent_id, *trigger, message_id.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(requested.len(), 1, "{events:?}");
    let (conversation_id, agent_id, trigger, message_id) = &requested[0];
    assert_eq!(*conversation_id, &conv.id);
    assert_eq!(agent_id.as_str(), "max");
    assert_eq!(*trigger, ReplyTrigger::ContactMessage);
    assert_eq!(message_id.as_deref(), Some(msgs[1].id.as_str()));
}

#[tokio::test]
async fn contacts_are_per_channel_sender() {
    let h = Harness::new().await;
    say(&h, "m1", "Hello").await;
    let other = generic_body("m2", "cust-2", "Me too");
    assert_eq!(h.deliver(ChannelKind::Generic, &other).await.status, 200);
    let convs = h.conversations().await;
    assert_eq!(convs.len(), 2);
    assert_ne!(convs[0].contact.id, convs[1].contact.id);
}
