//! The outbox: the outgoing events of successful commits, oldest first, until acknowledged.

use super::SuiteConfig;
use super::commands::{Expected, apply, secs};
use super::fixtures::{T0, Ws, agent_actor, commit_of};
use crate::port::{Outbox, Store, StoreError};
use inbox_domain::Command;
use inbox_domain::model::{DomainEvent, Lookup};

/// The outbox holds the outgoing events of successful commits only, oldest
/// first, until acknowledged. Drains every pending event first.
pub async fn check_outbox<S: Store + Outbox + ?Sized>(store: &S, _cfg: &SuiteConfig) {
    loop {
        let pending = store.pending_events(200).await.expect("pending_events");
        if pending.is_empty() {
            break;
        }
        let keys: Vec<String> = pending.into_iter().map(|(k, _)| k).collect();
        store.ack_events(&keys).await.expect("ack_events");
    }
    let ws = Ws::new(store, "outbox").await;
    let bob = agent_actor("bob");
    let mut exp = Expected::default();
    let created = ws.create(Some("sms-main"), T0);
    let v1 = apply(store, &ws, &created, &mut exp, "create").await;
    let hand = ws.decide(
        &v1,
        Command::HandToAgent {
            agent: Lookup::Found(inbox_domain::AiAgent::external("max", "Max")),
            send_initial_message: true,
        },
        &bob,
        secs(1),
    );
    let v2 = apply(store, &ws, &hand, &mut exp, "hand").await;
    let reply = ws.decide(
        &v2,
        Command::PostMessage {
            body: "hello".into(),
            on_closed: None,
            sender: None,
        },
        &bob,
        secs(2),
    );
    let stale = ws.decide(
        &v1,
        Command::PostMessage {
            body: "stale".into(),
            on_closed: None,
            sender: None,
        },
        &bob,
        secs(2),
    );
    apply(store, &ws, &reply, &mut exp, "reply").await;
    assert!(matches!(
        store.commit(commit_of(&stale)).await,
        Err(StoreError::Conflict)
    ));
    assert!(exp.events.len() >= 2);
    let pending = store.pending_events(200).await.expect("pending_events");
    let events: Vec<DomainEvent> = pending.iter().map(|(_, e)| e.clone()).collect();
    assert_eq!(
        events, exp.events,
        "the outbox holds exactly the committed events, in order"
    );
    let first = store.pending_events(1).await.expect("pending_events");
    assert_eq!(first.len(), 1);
    assert_eq!(first[0], pending[0]);
    store
        .ack_events(&[pending[0].0.clone()])
        .await
        .expect("ack_events");
    let rest = store.pending_events(200).await.expect("pending_events");
    assert_eq!(rest, pending[1..].to_vec());
    let keys: Vec<String> = rest.into_iter().map(|(k, _)| k).collect();
    store.ack_events(&keys).await.expect("ack_events");
    assert!(
        store
            .pending_events(200)
            .await
            .expect("pending_events")
            .is_empty()
    );
}
