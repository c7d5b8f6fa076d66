//! The engine on the DynamoDB adapter (moto): the same races as on SQLite,
//! through the conditional `TransactWriteItems` and the sparse timer index.

mod common;

use common::{AFTER_SECONDS, RecordingQueue, World, auto_close_on, sqs_depth, sqs_queue};
use inbox_autoclose::{FireOutcome, LocalTickLimits, SweepLimits, fire, run_local_tick, sweep};
use inbox_domain::Settings;
use inbox_domain::model::{EventKind, Status};
use inbox_store::dynamo::DynamoStore;

async fn world(settings: Settings) -> World<DynamoStore> {
    let (store, _) = inbox_store::dynamo::testing::fresh_store("autoclose")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    World::with_store(store, settings).await
}

#[tokio::test]
async fn races_on_dynamodb_close_once_and_let_the_contact_win() {
    let w = world(auto_close_on()).await;
    let closes = w.armed_conversation(1).await;
    let answered = w.armed_conversation(2).await;
    w.advance_secs(AFTER_SECONDS as i64);
    let q = RecordingQueue::default();
    sweep(&w.store, &q, w.now(), &SweepLimits::default())
        .await
        .expect("sweep");
    let sent = q.0.into_inner().unwrap();
    assert_eq!(sent.len(), 2);
    let msg = |id: &str| {
        sent.iter()
            .find(|m| m.conversation_id == id)
            .unwrap()
            .clone()
    };

    // The contact answers between the sweep and the worker.
    w.contact_says(&answered.id, "one more thing").await;
    let m = msg(&answered.id);
    assert_eq!(fire(&w.app(), &m).await.expect("fire"), FireOutcome::Stale);
    assert_eq!(w.get(&answered.id).await.status, Status::Open);

    // Two workers at once on the same message: one close.
    let m = msg(&closes.id);
    let (app_a, app_b) = (w.app(), w.app());
    let (a, b) = tokio::join!(fire(&app_a, &m), fire(&app_b, &m));
    let mut outcomes = vec![a.expect("a"), b.expect("b")];
    outcomes.sort_by_key(|o| format!("{o:?}"));
    assert_eq!(
        outcomes,
        vec![
            FireOutcome::Closed {
                note_generated: false
            },
            FireOutcome::Stale
        ]
    );
    let closes_events = w
        .timeline(&closes.id)
        .await
        .into_iter()
        .filter(|e| matches!(e.kind, EventKind::StatusChanged { .. }))
        .count();
    assert_eq!(closes_events, 1);
    let q = RecordingQueue::default();
    sweep(&w.store, &q, w.now(), &SweepLimits::default())
        .await
        .expect("sweep");
    assert!(q.0.into_inner().unwrap().is_empty(), "no timer left armed");
}

#[tokio::test]
async fn dynamodb_and_sqs_close_due_conversations_end_to_end() {
    let w = world(auto_close_on()).await;
    let mut convs = Vec::new();
    for n in 0..12 {
        convs.push(w.armed_conversation(n).await);
    }
    w.advance_secs(AFTER_SECONDS as i64);
    let (q, _) = sqs_queue(30, Some(3)).await;
    let tick = run_local_tick(&w.app(), &q, &LocalTickLimits::default())
        .await
        .expect("tick");
    assert_eq!((tick.sweep.sent, tick.worker.closed), (12, 12));
    for c in &convs {
        assert_eq!(w.get(&c.id).await.status, Status::Closed);
    }
    assert_eq!(sqs_depth(q.queue_url()).await, 0);
}
