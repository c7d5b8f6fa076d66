//! The engine against SQS on moto: partial batch failures, the dead-letter
//! queue, and retried `SendMessageBatch` failures.

mod common;

use common::{AFTER_SECONDS, FlakyQueue, World, auto_close_on, sqs_depth, sqs_queue};
use inbox_autoclose::{
    LocalTickLimits, MAX_BATCH, SweepLimits, TimerMessage, TimerReceiver, drain_once,
    run_local_tick, sweep, worker,
};
use inbox_domain::model::Status;
use std::collections::HashSet;
use std::time::{Duration, Instant};

#[tokio::test]
async fn the_workers_partial_batch_failure_names_exactly_the_failing_message() {
    let w = World::new(auto_close_on()).await;
    let convs = [
        w.armed_conversation(1).await,
        w.armed_conversation(2).await,
        w.armed_conversation(3).await,
    ];
    w.advance_secs(AFTER_SECONDS as i64);
    let (q, _) = sqs_queue(1, None).await;
    let report = sweep(&w.store, &q, w.now(), &SweepLimits::default())
        .await
        .expect("sweep");
    assert_eq!(report.sent, 3);

    let mut event = q.receive(MAX_BATCH).await.expect("receive");
    while event.records.len() < 3 {
        event
            .records
            .extend(q.receive(MAX_BATCH).await.expect("receive").records);
    }
    w.store.fail(Some(&convs[1].id));
    let failing_id = event
        .records
        .iter()
        .find(|r| {
            TimerMessage::from_body(r.body.as_deref())
                .expect("body")
                .conversation_id
                == convs[1].id
        })
        .and_then(|r| r.message_id.clone())
        .expect("the failing record");
    let resp = worker(&w.app(), event.clone()).await;
    let failed: Vec<_> = resp
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failed, vec![failing_id.clone()]);
    q.settle(&event, &resp).await.expect("settle");
    assert_eq!(w.get(&convs[0].id).await.status, Status::Closed);
    assert_eq!(w.get(&convs[2].id).await.status, Status::Closed);

    // Only the failed message comes back; once the store recovers it closes.
    w.store.fail(None);
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let again = q.receive(MAX_BATCH).await.expect("receive");
    assert_eq!(again.records.len(), 1);
    assert_eq!(
        again.records[0].message_id.as_deref(),
        Some(failing_id.as_str())
    );
    let resp = worker(&w.app(), again.clone()).await;
    assert!(resp.batch_item_failures.is_empty());
    q.settle(&again, &resp).await.expect("settle");
    assert_eq!(w.get(&convs[1].id).await.status, Status::Closed);
    assert_eq!(sqs_depth(q.queue_url()).await, 0);
}

#[tokio::test]
async fn a_poison_message_reaches_the_dead_letter_queue_after_the_receive_count() {
    const MAX_RECEIVES: usize = 3;
    let w = World::new(auto_close_on()).await;
    let poison = w.armed_conversation(1).await;
    w.advance_secs(AFTER_SECONDS as i64);
    let (q, dlq) = sqs_queue(0, Some(MAX_RECEIVES as u32)).await;
    let dlq = dlq.expect("dlq");
    sweep(&w.store, &q, w.now(), &SweepLimits::default())
        .await
        .expect("sweep");
    w.store.fail(Some(&poison.id));

    let mut failures = 0;
    let start = Instant::now();
    while sqs_depth(&dlq).await == 0 && start.elapsed() < Duration::from_secs(10) {
        if let Some(r) = drain_once(&w.app(), &q).await.expect("drain") {
            failures += r.failed;
        }
    }
    assert_eq!(
        failures, MAX_RECEIVES,
        "handled exactly maxReceiveCount times"
    );
    assert_eq!(sqs_depth(&dlq).await, 1);
    assert_eq!(sqs_depth(q.queue_url()).await, 0);
    assert_eq!(w.get(&poison.id).await.status, Status::Open);
}

#[tokio::test]
async fn the_sweep_retries_entries_send_message_batch_refused() {
    let w = World::new(auto_close_on()).await;
    for n in 0..25 {
        w.armed_conversation(n).await;
    }
    w.advance_secs(AFTER_SECONDS as i64);
    let (sqs, _) = sqs_queue(30, None).await;
    let flaky = FlakyQueue::new(sqs, vec![1, 3]);
    let limits = SweepLimits {
        backoff: Duration::from_millis(5),
        ..SweepLimits::default()
    };
    let report = sweep(&w.store, &flaky, w.now(), &limits)
        .await
        .expect("sweep");
    assert_eq!(
        (report.due, report.sent, report.retried, report.failed),
        (25, 25, 2, 0)
    );
    assert_eq!(report.send_calls, 4, "three batches and one retry");

    let mut seen = HashSet::new();
    let start = Instant::now();
    while seen.len() < 25 && start.elapsed() < Duration::from_secs(10) {
        for r in flaky
            .inner
            .receive(MAX_BATCH)
            .await
            .expect("receive")
            .records
        {
            let m = TimerMessage::from_body(r.body.as_deref()).expect("body");
            assert!(seen.insert(m.conversation_id), "each timer sent once");
        }
    }
    assert_eq!(seen.len(), 25);
}

#[tokio::test]
async fn the_local_tick_on_sqs_closes_due_conversations() {
    let w = World::new(auto_close_on()).await;
    let convs: Vec<_> = futures::future::join_all((0..12).map(|n| w.armed_conversation(n))).await;
    w.advance_secs(AFTER_SECONDS as i64);
    let (q, _) = sqs_queue(30, Some(3)).await;
    let tick = run_local_tick(&w.app(), &q, &LocalTickLimits::default())
        .await
        .expect("tick");
    assert_eq!(
        (tick.sweep.sent, tick.worker.closed, tick.worker.failed),
        (12, 12, 0)
    );
    for c in &convs {
        assert_eq!(w.get(&c.id).await.status, Status::Closed);
    }
    assert_eq!(sqs_depth(q.queue_url()).await, 0);
}
