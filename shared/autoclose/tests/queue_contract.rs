//! The timer queue contract, run against every adapter: the in-process queue
//! and SQS (on moto).

mod common;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use inbox_autoclose::{
    InProcessQueue, MAX_BATCH, QueueError, TimerMessage, TimerQueue, TimerReceiver,
};
use inbox_domain::Timestamp;
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// What the contract needs besides the port: a fresh queue and a look at its dead letters.
#[async_trait::async_trait]
trait Harness {
    type Q: TimerQueue + TimerReceiver + 'static;
    /// A fresh, empty queue that dead-letters after `max_receive_count` receives.
    async fn queue(&self, max_receive_count: u32) -> (Self::Q, DeadLetters);
}

enum DeadLetters {
    InProcess,
    Sqs(String),
}

impl DeadLetters {
    async fn count(&self, q: &dyn std::any::Any) -> usize {
        match self {
            DeadLetters::InProcess => q
                .downcast_ref::<InProcessQueue>()
                .map_or(0, |q| q.dead_letters().len()),
            DeadLetters::Sqs(url) => common::sqs_depth(url).await,
        }
    }
}

struct InProcessHarness;

#[async_trait::async_trait]
impl Harness for InProcessHarness {
    type Q = InProcessQueue;
    async fn queue(&self, max_receive_count: u32) -> (InProcessQueue, DeadLetters) {
        (
            InProcessQueue::new(max_receive_count, Duration::from_millis(300)),
            DeadLetters::InProcess,
        )
    }
}

struct SqsHarness;

#[async_trait::async_trait]
impl Harness for SqsHarness {
    type Q = inbox_autoclose::SqsTimerQueue;
    async fn queue(&self, max_receive_count: u32) -> (Self::Q, DeadLetters) {
        let (q, dlq) = common::sqs_queue(1, Some(max_receive_count)).await;
        (q, DeadLetters::Sqs(dlq.expect("dlq")))
    }
}

fn msg(n: u64) -> TimerMessage {
    TimerMessage {
        workspace_id: "ws_contract".into(),
        conversation_id: format!("conv_{n:04}"),
        due_at: Timestamp::from_millis(1_800_000_000_000 + n as i64),
        generation: n,
    }
}

/// Receives until `want` records arrived or `within` passed.
async fn receive_n<Q: TimerReceiver>(q: &Q, want: usize, within: Duration) -> SqsEvent {
    let start = Instant::now();
    let mut all = SqsEvent::default();
    while all.records.len() < want && start.elapsed() < within {
        let got = q.receive(MAX_BATCH).await.expect("receive");
        if got.records.is_empty() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        all.records.extend(got.records);
    }
    all
}

fn bodies(e: &SqsEvent) -> Vec<TimerMessage> {
    e.records
        .iter()
        .map(|r| TimerMessage::from_body(r.body.as_deref()).expect("a timer message"))
        .collect()
}

fn fail(ids: &[&str]) -> SqsBatchResponse {
    SqsBatchResponse {
        batch_item_failures: ids
            .iter()
            .map(|id| BatchItemFailure {
                item_identifier: id.to_string(),
            })
            .collect(),
    }
}

async fn contract<H: Harness>(h: H) {
    // Batch limits.
    let (q, _) = h.queue(3).await;
    assert_eq!(
        q.send_batch(&[]).await.expect("empty batch"),
        Vec::<usize>::new()
    );
    let eleven: Vec<_> = (0..11).map(msg).collect();
    assert!(matches!(
        q.send_batch(&eleven).await,
        Err(QueueError::BatchTooLarge(11))
    ));
    assert!(
        q.receive(MAX_BATCH)
            .await
            .expect("receive")
            .records
            .is_empty()
    );

    // Ten messages in one batch arrive, each once, with ids, handles and the same body.
    let ten: Vec<_> = (0..10).map(msg).collect();
    assert!(q.send_batch(&ten).await.expect("send").is_empty());
    let got = receive_n(&q, 10, Duration::from_secs(5)).await;
    assert_eq!(got.records.len(), 10);
    let ids: HashSet<_> = got
        .records
        .iter()
        .map(|r| r.message_id.clone().expect("id"))
        .collect();
    assert_eq!(ids.len(), 10);
    assert!(got.records.iter().all(|r| r.receipt_handle.is_some()));
    let mut received = bodies(&got);
    received.sort_by_key(|m| m.generation);
    assert_eq!(received, ten);

    // Settling deletes all but the named failure, which comes back after the visibility delay.
    let failed_id = got.records[3].message_id.clone().expect("id");
    q.settle(&got, &fail(&[&failed_id])).await.expect("settle");
    let again = receive_n(&q, 1, Duration::from_secs(5)).await;
    assert_eq!(again.records.len(), 1, "only the failed message comes back");
    assert_eq!(
        again.records[0].message_id.as_deref(),
        Some(failed_id.as_str())
    );
    assert_eq!(bodies(&again), bodies(&got)[3..4].to_vec());
    assert_eq!(
        again.records[0]
            .attributes
            .get("ApproximateReceiveCount")
            .map(String::as_str),
        Some("2")
    );
    q.settle(&again, &SqsBatchResponse::default())
        .await
        .expect("settle");
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert!(
        q.receive(MAX_BATCH)
            .await
            .expect("receive")
            .records
            .is_empty(),
        "all deleted"
    );

    // A message that fails every receive reaches the dead letters after the receive count.
    let (q, dead) = h.queue(2).await;
    assert!(q.send_batch(&[msg(42)]).await.expect("send").is_empty());
    for round in 1..=2 {
        let got = receive_n(&q, 1, Duration::from_secs(5)).await;
        assert_eq!(got.records.len(), 1, "receive {round}");
        let id = got.records[0].message_id.clone().expect("id");
        q.settle(&got, &fail(&[&id])).await.expect("settle");
    }
    let start = Instant::now();
    while dead.count(&q).await == 0 && start.elapsed() < Duration::from_secs(5) {
        // SQS moves it on the next receive after the last allowed one.
        let more = q.receive(MAX_BATCH).await.expect("receive");
        assert!(
            more.records.is_empty(),
            "no receive beyond the receive count"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(dead.count(&q).await, 1, "dead-lettered");
}

#[tokio::test]
async fn in_process_queue_keeps_the_contract() {
    contract(InProcessHarness).await;
}

#[tokio::test]
async fn sqs_queue_keeps_the_contract() {
    contract(SqsHarness).await;
}

#[tokio::test]
async fn in_process_queue_adds_a_timer_already_waiting_only_once() {
    let q = InProcessQueue::new(3, Duration::ZERO);
    assert!(
        q.send_batch(&[msg(1), msg(1), msg(2)])
            .await
            .expect("send")
            .is_empty()
    );
    assert!(q.send_batch(&[msg(1)]).await.expect("send").is_empty());
    assert_eq!(q.pending(), 2);
    let got = q.receive(MAX_BATCH).await.expect("receive");
    q.settle(&got, &SqsBatchResponse::default())
        .await
        .expect("settle");
    // Once handled, the same timer may be queued again (a later sweep).
    assert!(q.send_batch(&[msg(1)]).await.expect("send").is_empty());
    assert_eq!(q.pending(), 1);
}
