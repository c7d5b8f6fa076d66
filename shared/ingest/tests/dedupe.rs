//! Redeliveries store nothing twice; concurrent first messages meet in one contact
//! and one conversation.

mod common;

use common::{Harness, WS, generic_body, sample};
use inbox_domain::ChannelKind;
use inbox_ingest::try_ingest;

#[tokio::test]
async fn the_same_delivery_ten_times_in_a_row() {
    let h = Harness::new().await;
    let body = sample("whatsapp-text-message.json");
    for _ in 0..10 {
        let reply = h.deliver(ChannelKind::Whatsapp, &body).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    let convs = h.conversations().await;
    assert_eq!(convs.len(), 1);
    assert_eq!(h.messages(&convs[0].id).await.len(), 1);
    assert_eq!(convs[0].version, 1, "the redeliveries changed nothing");
}

#[tokio::test]
async fn duplicates_are_reported_as_such() {
    let h = Harness::new().await;
    let body = generic_body("m1", "cust-1", "hello");
    let headers = h.signed(ChannelKind::Generic, &body);
    let app = h.app();
    let run = || try_ingest(&app, ChannelKind::Generic, WS, "web", &headers, &body, "");
    let first = run().await.unwrap();
    let second = run().await.unwrap();
    assert_eq!((first.stored, first.duplicates), (1, 0));
    assert_eq!((second.stored, second.duplicates), (0, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_delivery_ten_times_at_once() {
    for kind in [ChannelKind::Twilio, ChannelKind::Telegram] {
        let h = Harness::new().await;
        let body = match kind {
            ChannelKind::Twilio => sample("twilio-sms-mms.txt"),
            _ => sample("telegram-message-update.json"),
        };
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let (h, body) = (h.clone(), body.clone());
                tokio::spawn(async move { h.deliver(kind, &body).await })
            })
            .collect();
        for reply in futures::future::join_all(tasks).await {
            let reply = reply.unwrap();
            assert_eq!(reply.status, 200, "{}", reply.body);
        }
        let convs = h.conversations().await;
        assert_eq!(convs.len(), 1, "{kind:?}: one conversation");
        assert_eq!(
            h.messages(&convs[0].id).await.len(),
            1,
            "{kind:?}: one message"
        );
        // One contact: every message names the same one, and the sender maps to it.
        let probe_sender = match kind {
            ChannelKind::Twilio => "+15557654321",
            _ => "1111111",
        };
        assert!(h.has_contact(common::channel_of(kind), probe_sender).await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_first_messages_from_a_new_sender_at_once() {
    // Repeat: the race is between two tasks, so give it several chances to interleave.
    for round in 0..10 {
        let h = Harness::new().await;
        let a = generic_body(&format!("a{round}"), "new-sender", "first");
        let b = generic_body(&format!("b{round}"), "new-sender", "second");
        let (ra, rb) = tokio::join!(
            {
                let h = h.clone();
                tokio::spawn(async move { h.deliver(ChannelKind::Generic, &a).await })
            },
            {
                let h = h.clone();
                tokio::spawn(async move { h.deliver(ChannelKind::Generic, &b).await })
            }
        );
        assert_eq!(ra.unwrap().status, 200);
        assert_eq!(rb.unwrap().status, 200);
        let convs = h.conversations().await;
        assert_eq!(convs.len(), 1, "round {round}: one conversation");
        let msgs = h.messages(&convs[0].id).await;
        assert_eq!(msgs.len(), 2, "round {round}: both messages");
        assert!(
            msgs.iter().all(|m| m.sender.id == msgs[0].sender.id),
            "one contact"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_different_messages_at_once_all_land_in_one_conversation() {
    let h = Harness::new().await;
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let h = h.clone();
            tokio::spawn(async move {
                let body = generic_body(&format!("m{i}"), "busy-sender", &format!("message {i}"));
                h.deliver(ChannelKind::Generic, &body).await
            })
        })
        .collect();
    for reply in futures::future::join_all(tasks).await {
        let reply = reply.unwrap();
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    let convs = h.conversations().await;
    assert_eq!(convs.len(), 1);
    assert_eq!(h.messages(&convs[0].id).await.len(), 10);
}

#[tokio::test]
async fn the_same_message_id_on_another_channel_is_another_delivery() {
    let h = Harness::new().await;
    let body = generic_body("m1", "cust-1", "hello");
    assert_eq!(h.deliver(ChannelKind::Generic, &body).await.status, 200);
    // Same provider id, but via Twilio: a different channel, so stored too.
    let form = b"MessageSid=m1&From=%2B15550001111&To=%2B1&Body=hello";
    assert_eq!(h.deliver(ChannelKind::Twilio, form).await.status, 200);
    assert_eq!(h.all_messages().await.len(), 2);
}
