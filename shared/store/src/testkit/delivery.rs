//! Delivery statuses: a provider's report reaches the outgoing message it names.

use super::SuiteConfig;
use super::fixtures::{T0, Ws, agent_actor, channel, collect, commit_of, load};
use crate::port::{DeliveryReport, DeliveryWrite, ReportOutcome, SentAs, Store};
use inbox_domain::model::{
    Conversation, Delivery, DeliveryError, DeliveryStatus, DomainEvent, Lookup, Message, MessageAt,
};
use inbox_domain::{Actor, Command, Outcome, Timestamp};

fn secs(n: i64) -> Timestamp {
    T0.plus_seconds(n)
}

/// Commits `outcome`, its one message carrying `provider_id` (as the outbound
/// sender records it, or as a channel delivers it); returns the reloaded
/// conversation and the message id.
async fn commit_with_provider_id<S: Store + ?Sized>(
    store: &S,
    ws: &Ws,
    mut outcome: Outcome,
    provider_id: &str,
) -> (Conversation, String) {
    let messages = &mut outcome.writes[0].messages;
    assert_eq!(messages.len(), 1, "the suite's command adds one message");
    messages[0].channel_message_id = Some(provider_id.to_string());
    let id = messages[0].id.clone();
    store
        .commit(commit_of(&outcome))
        .await
        .unwrap_or_else(|e| panic!("commit of the message {provider_id}: {e}"));
    (load(store, &ws.id, &outcome.conversation.id).await, id)
}

async fn messages_of<S: Store + ?Sized>(store: &S, ws: &str, conv: &str) -> Vec<Message> {
    collect("messages", 7, |p| async move {
        store.list_messages(ws, conv, &p).await
    })
    .await
}

/// The stored delivery status of message `id`.
async fn status_of<S: Store + ?Sized>(
    store: &S,
    ws: &str,
    conv: &str,
    id: &str,
) -> Option<DeliveryStatus> {
    messages_of(store, ws, conv)
        .await
        .into_iter()
        .find(|m| m.id == id)
        .unwrap_or_else(|| panic!("message {id} is missing from {conv}"))
        .delivery
        .map(|d| d.status)
}

async fn record<S: Store + ?Sized>(
    store: &S,
    ws: &str,
    channel: &str,
    provider_id: &str,
    status: DeliveryStatus,
) -> bool {
    report(store, ws, channel, provider_id, status).await == ReportOutcome::Moved
}

async fn report<S: Store + ?Sized>(
    store: &S,
    ws: &str,
    channel: &str,
    provider_id: &str,
    status: DeliveryStatus,
) -> ReportOutcome {
    let report = DeliveryReport {
        provider_message_id: provider_id.to_string(),
        status,
        error: (status == DeliveryStatus::Failed).then(|| DeliveryError {
            code: "30006".into(),
            message: "Landline or unreachable carrier".into(),
        }),
        at: secs(9),
    };
    store
        .record_delivery_status(ws, channel, &report)
        .await
        .unwrap_or_else(|e| panic!("record_delivery_status({ws}, {channel}, {provider_id}): {e}"))
}

fn transfer(ws: &Ws, conv: &Conversation, to: &str, at: Timestamp) -> Outcome {
    ws.decide(
        conv,
        Command::TransferChannel {
            channel: Lookup::Found(channel(to)),
        },
        &agent_actor("bob"),
        at,
    )
}

pub(super) fn reply(ws: &Ws, conv: &Conversation, body: &str, at: Timestamp) -> Outcome {
    ws.decide(
        conv,
        Command::PostMessage {
            body: body.into(),
            on_closed: None,
            sender: None,
        },
        &agent_actor("bob"),
        at,
    )
}

/// `record_delivery_status` moves the status of the outgoing message sent with
/// that provider id, in a conversation currently on that channel, without a
/// version bump, forward only: a late or repeated report is `NotMoved` and
/// writes nothing; `failed` keeps the provider's error and nothing follows
/// it. Nothing matches (`NoMessage`, nothing written) for an unknown id,
/// another channel, another workspace, a contact's message with that id, or
/// a conversation moved to another channel since.
pub async fn check_delivery_status<S: Store + ?Sized>(store: &S, _cfg: &SuiteConfig) {
    let ws = Ws::new(store, "status").await;
    let other = Ws::new(store, "status").await;
    let w = ws.id.as_str();
    let created = ws.create(Some("sms-main"), T0);
    store.commit(commit_of(&created)).await.expect("create");
    let conv = load(store, w, &created.conversation.id).await;
    let id = conv.id.clone();

    let (conv, sent) =
        commit_with_provider_id(store, &ws, reply(&ws, &conv, "On its way", secs(1)), "pm-1").await;
    let inbound = ws.decide(
        &conv,
        Command::ContactMessage {
            body: "Thanks".into(),
            channel_message_id: None,
            first_agent: None,
        },
        &Actor::Contact {
            id: ws.contact.id.clone(),
        },
        secs(2),
    );
    let (conv, received) = commit_with_provider_id(store, &ws, inbound, "in-1").await;
    assert_eq!(
        status_of(store, w, &id, &sent).await,
        Some(DeliveryStatus::Pending),
        "a reply on a channel is stored pending"
    );

    assert!(
        record(store, w, "sms-main", "pm-1", DeliveryStatus::Delivered).await,
        "a status for the stored outgoing message is recorded"
    );
    assert_eq!(
        status_of(store, w, &id, &sent).await,
        Some(DeliveryStatus::Delivered)
    );
    assert!(record(store, w, "sms-main", "pm-1", DeliveryStatus::Read).await);
    assert_eq!(
        status_of(store, w, &id, &sent).await,
        Some(DeliveryStatus::Read),
        "a later status moves it on"
    );
    for late in [
        DeliveryStatus::Delivered,
        DeliveryStatus::Sent,
        DeliveryStatus::Read,
    ] {
        assert_eq!(
            report(store, w, "sms-main", "pm-1", late).await,
            ReportOutcome::NotMoved,
            "a late or repeated {late:?} never moves it back"
        );
    }
    assert_eq!(
        status_of(store, w, &id, &sent).await,
        Some(DeliveryStatus::Read)
    );
    assert_eq!(
        load(store, w, &id).await,
        conv,
        "a status changes neither the conversation nor its version"
    );

    // Nothing else matches, and nothing is written.
    let misses = [
        (w, "sms-main", "pm-unknown", "an unknown provider id"),
        (
            w,
            "wa-main",
            "pm-1",
            "the same provider id on another channel",
        ),
        (
            other.id.as_str(),
            "sms-main",
            "pm-1",
            "the same provider id in another workspace",
        ),
        (w, "sms-main", "in-1", "a contact's message"),
    ];
    for (ws_id, channel_id, provider_id, what) in misses {
        assert_eq!(
            report(
                store,
                ws_id,
                channel_id,
                provider_id,
                DeliveryStatus::Failed
            )
            .await,
            ReportOutcome::NoMessage,
            "{what}: no outgoing message matches"
        );
    }
    let stored = messages_of(store, w, &id).await;
    let status = |m: &str| {
        stored
            .iter()
            .find(|x| x.id == m)
            .and_then(|x| x.delivery.as_ref().map(|d| d.status))
    };
    assert_eq!(status(&sent), Some(DeliveryStatus::Read));
    assert_eq!(status(&received), None, "a contact's message has no status");

    // Moved to another channel: the old channel's reports no longer match; its
    // new messages' do; moved back, the first message's match again.
    let moved = transfer(&ws, &conv, "wa-main", secs(3));
    store.commit(commit_of(&moved)).await.expect("transfer");
    let conv = load(store, w, &id).await;
    assert_eq!(
        report(store, w, "sms-main", "pm-1", DeliveryStatus::Failed).await,
        ReportOutcome::NoMessage,
        "a conversation moved off the channel takes none of its statuses"
    );
    assert_eq!(
        status_of(store, w, &id, &sent).await,
        Some(DeliveryStatus::Read)
    );
    let (conv, sent_on_wa) =
        commit_with_provider_id(store, &ws, reply(&ws, &conv, "Sent", secs(4)), "pm-2").await;
    assert!(record(store, w, "wa-main", "pm-2", DeliveryStatus::Sent).await);
    assert_eq!(
        status_of(store, w, &id, &sent_on_wa).await,
        Some(DeliveryStatus::Sent)
    );
    let back = transfer(&ws, &conv, "sms-main", secs(5));
    store.commit(commit_of(&back)).await.expect("transfer back");
    assert!(record(store, w, "sms-main", "pm-1", DeliveryStatus::Failed).await);
    let failed = messages_of(store, w, &id)
        .await
        .into_iter()
        .find(|m| m.id == sent)
        .and_then(|m| m.delivery)
        .expect("the sent message has a delivery");
    assert_eq!(failed.status, DeliveryStatus::Failed);
    assert_eq!(
        failed.error.map(|e| e.code).as_deref(),
        Some("30006"),
        "failed keeps the provider's code"
    );
    assert_eq!(failed.updated_at, secs(9));
    assert_eq!(
        report(store, w, "sms-main", "pm-1", DeliveryStatus::Read).await,
        ReportOutcome::NotMoved,
        "nothing follows failed"
    );

    // The same provider id in another workspace is that workspace's message only.
    let elsewhere = other.create(Some("sms-main"), T0);
    store
        .commit(commit_of(&elsewhere))
        .await
        .expect("create elsewhere");
    let theirs = load(store, &other.id, &elsewhere.conversation.id).await;
    let (_, their_sent) = commit_with_provider_id(
        store,
        &other,
        reply(&other, &theirs, "Hello", secs(1)),
        "pm-1",
    )
    .await;
    assert!(
        record(
            store,
            &other.id,
            "sms-main",
            "pm-1",
            DeliveryStatus::Delivered
        )
        .await
    );
    assert_eq!(
        status_of(store, &other.id, &theirs.id, &their_sent).await,
        Some(DeliveryStatus::Delivered)
    );
    assert_eq!(
        status_of(store, w, &id, &sent).await,
        Some(DeliveryStatus::Failed),
        "another workspace's report never reaches this one"
    );
}

/// Where the outcome's outgoing message is stored, as its event says.
pub(super) fn stored_at(outcome: &Outcome) -> (MessageAt, Message) {
    outcome
        .writes
        .iter()
        .flat_map(|w| &w.events)
        .find_map(|e| match e {
            DomainEvent::OutboundMessage {
                at: Some(at),
                message,
                ..
            } => Some((*at, message.clone())),
            _ => None,
        })
        .expect("a reply on a channel names where its message is stored")
}

pub(super) fn step(
    message: &Message,
    expected: &Delivery,
    next: Delivery,
    sent_as: Option<SentAs>,
) -> DeliveryWrite {
    DeliveryWrite {
        message_id: message.id.clone(),
        expected: expected.clone(),
        next,
        sent_as,
    }
}

/// `get_message` finds a message where its `message.outbound` event says;
/// `put_delivery` moves its delivery only from the state it was decided on
/// (one of many concurrent claims of an attempt wins; a stale or foreign
/// step writes nothing), never bumps the conversation's version, and, with
/// the provider's id, makes the message the one status reports name.
pub async fn check_put_delivery<S: Store + ?Sized>(store: &S, _cfg: &SuiteConfig) {
    let ws = Ws::new(store, "send").await;
    let other = Ws::new(store, "send").await;
    let w = ws.id.as_str();
    let created = ws.create(Some("sms-main"), T0);
    store.commit(commit_of(&created)).await.expect("create");
    let conv = load(store, w, &created.conversation.id).await;
    let replied = reply(&ws, &conv, "On its way", secs(1));
    store.commit(commit_of(&replied)).await.expect("reply");
    let conv = load(store, w, &conv.id).await;
    let (at, message) = stored_at(&replied);
    let stored = store
        .get_message(w, &conv.id, at)
        .await
        .expect("get_message")
        .expect("the message is where its event says");
    assert_eq!(stored, message);
    let pending = stored.delivery.clone().expect("stored pending");
    let elsewhere = MessageAt {
        version: at.version,
        position: at.position + 1,
    };
    assert_eq!(
        store
            .get_message(w, &conv.id, elsewhere)
            .await
            .expect("get"),
        None
    );
    assert_eq!(
        store
            .get_message(&other.id, &conv.id, at)
            .await
            .expect("get"),
        None,
        "another workspace's conversation of that id has no such message"
    );

    // Ten workers claim attempt 1 at once: one wins.
    let claimed = pending.claim(1, secs(2)).expect("attempt 1");
    let claim = step(&stored, &pending, claimed.clone(), None);
    let wins =
        futures::future::join_all((0..10).map(|_| store.put_delivery(w, &conv.id, at, &claim)))
            .await
            .into_iter()
            .map(|r| r.expect("put_delivery"))
            .filter(|won| *won)
            .count();
    assert_eq!(wins, 1, "one claim of an attempt wins");
    assert!(
        !store
            .put_delivery(w, &conv.id, at, &claim)
            .await
            .expect("put"),
        "a duplicate claim writes nothing"
    );
    let wrong = DeliveryWrite {
        message_id: "msg_other".into(),
        ..claim.clone()
    };
    assert!(
        !store
            .put_delivery(w, &conv.id, at, &wrong)
            .await
            .expect("put")
    );
    assert!(
        !store
            .put_delivery(&other.id, &conv.id, at, &claim)
            .await
            .expect("put"),
        "another workspace writes nothing here"
    );

    // A transient answer and a claimed attempt differ only by the error.
    let transient = Delivery {
        error: Some(DeliveryError {
            code: "503".into(),
            message: "down".into(),
        }),
        ..claimed.clone()
    };
    assert!(
        store
            .put_delivery(
                w,
                &conv.id,
                at,
                &step(&stored, &claimed, transient.clone(), None)
            )
            .await
            .expect("put")
    );
    assert!(
        !store
            .put_delivery(
                w,
                &conv.id,
                at,
                &step(&stored, &claimed, claimed.clone(), None)
            )
            .await
            .expect("put"),
        "a step decided on the claimed state no longer applies once answered"
    );

    // Accepted: the provider's id is recorded and status reports find the message.
    let second = transient.claim(2, secs(3)).expect("attempt 2");
    assert!(
        store
            .put_delivery(
                w,
                &conv.id,
                at,
                &step(&stored, &transient, second.clone(), None)
            )
            .await
            .expect("put")
    );
    let sent = Delivery {
        status: DeliveryStatus::Sent,
        error: None,
        updated_at: secs(4),
        ..second.clone()
    };
    let sent_as = SentAs {
        channel_id: "sms-main".into(),
        provider_message_id: "SM-sent-1".into(),
    };
    assert!(
        store
            .put_delivery(
                w,
                &conv.id,
                at,
                &step(&stored, &second, sent.clone(), Some(sent_as))
            )
            .await
            .expect("put")
    );
    let now = store
        .get_message(w, &conv.id, at)
        .await
        .expect("get")
        .expect("message");
    assert_eq!(now.delivery, Some(sent));
    assert_eq!(now.channel_message_id.as_deref(), Some("SM-sent-1"));
    assert_eq!(
        report(store, w, "sms-main", "SM-sent-1", DeliveryStatus::Delivered).await,
        ReportOutcome::Moved,
        "a report names the message by the provider's id"
    );
    assert_eq!(
        load(store, w, &conv.id).await,
        conv,
        "delivery steps change neither the conversation nor its version"
    );
}

/// A commit whose write moves a message's delivery (the sender giving up:
/// `failed`, with its timeline event) lands whole when the delivery is still
/// as decided on, and writes nothing at all, `DeliveryMoved`, when another
/// step moved it first, even when the conversation's version still matches.
pub async fn check_commit_delivery_change<S: Store + ?Sized>(store: &S, _cfg: &SuiteConfig) {
    let ws = Ws::new(store, "give-up").await;
    let w = ws.id.as_str();
    let created = ws.create(Some("sms-main"), T0);
    store.commit(commit_of(&created)).await.expect("create");
    let conv = load(store, w, &created.conversation.id).await;
    let replied = reply(&ws, &conv, "On its way", secs(1));
    store.commit(commit_of(&replied)).await.expect("reply");
    let conv = load(store, w, &conv.id).await;
    let (at, message) = stored_at(&replied);
    let pending = message.delivery.clone().expect("pending");
    let claimed = pending.claim(1, secs(2)).expect("claim");
    let refused = Delivery {
        status: DeliveryStatus::Failed,
        attempts: 1,
        error: Some(DeliveryError {
            code: "21610".into(),
            message: "unsubscribed recipient".into(),
        }),
        updated_at: secs(3),
    };
    let give_up = |expected: &Delivery| {
        ws.decide(
            &conv,
            Command::DeliveryFailed {
                change: inbox_domain::DeliveryChange {
                    message_id: message.id.clone(),
                    at,
                    expected: expected.clone(),
                    next: refused.clone(),
                },
            },
            &Actor::System,
            secs(3),
        )
    };

    // Decided on the pending state, but a sender claimed it meanwhile.
    assert!(
        store
            .put_delivery(
                w,
                &conv.id,
                at,
                &step(&message, &pending, claimed.clone(), None)
            )
            .await
            .expect("claim")
    );
    let stale = give_up(&pending);
    match store.commit(commit_of(&stale)).await {
        Err(crate::port::StoreError::DeliveryMoved) => {}
        other => panic!("a moved delivery must refuse the commit, got {other:?}"),
    }
    let unchanged = load(store, w, &conv.id).await;
    assert_eq!(unchanged.version, conv.version, "nothing written");
    assert!(unchanged.failed_deliveries.is_empty());
    let timeline = super::commands::timeline_of(store, w, &conv.id, 50).await;
    assert!(
        !timeline
            .iter()
            .any(|e| e.kind.type_name() == "delivery_failed"),
        "no timeline event"
    );

    let failed = give_up(&claimed);
    store.commit(commit_of(&failed)).await.expect("give up");
    let after = load(store, w, &conv.id).await;
    assert_eq!(after.version, conv.version + 1);
    assert_eq!(after.failed_deliveries.len(), 1);
    assert_eq!(after.failed_deliveries[0].message_id, message.id);
    let stored = store
        .get_message(w, &conv.id, at)
        .await
        .expect("get_message")
        .expect("there");
    assert_eq!(stored.delivery, Some(refused));
    let timeline = super::commands::timeline_of(store, w, &conv.id, 50).await;
    assert_eq!(
        timeline.last().map(|e| e.kind.type_name()),
        Some("delivery_failed")
    );

    // A retry empties the list as stored (an emptied field is written, not
    // left with its old value), and the message is pending again.
    let retried = ws.decide(
        &after,
        Command::RetryDelivery {
            message: stored.clone(),
            at,
        },
        &agent_actor("bob"),
        secs(4),
    );
    store.commit(commit_of(&retried)).await.expect("retry");
    let reloaded = load(store, w, &conv.id).await;
    assert!(reloaded.failed_deliveries.is_empty(), "{reloaded:?}");
    let again = store
        .get_message(w, &conv.id, at)
        .await
        .expect("get_message")
        .expect("there");
    assert_eq!(
        again.delivery.map(|d| (d.status, d.attempts)),
        Some((DeliveryStatus::Pending, 0))
    );
}
