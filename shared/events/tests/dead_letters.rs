//! The dead-letter port's contract, run against the in-memory queue and
//! the SQS adapter on moto: letters are kept whole (more than one SQS batch
//! at a time), received at most ten at a time, hidden once received, gone
//! once deleted; and a replay over the queue publishes each once.

mod common;
use common::event;

use inbox_events::{
    DeadLetter, DeadLetters, MemoryBus, MemoryDeadLetters, SqsDeadLetters, replay_dead_letters,
};
use std::collections::HashSet;

fn refused(n: usize) -> DeadLetter {
    DeadLetter::Refused {
        event: Box::new(event(n)),
        reason: "throttled".into(),
    }
}

async fn contract(letters: &(impl DeadLetters + ?Sized)) {
    let kept: Vec<DeadLetter> = (0..12).map(refused).collect();
    letters.keep(&kept).await.expect("keep");
    let mut received = Vec::new();
    let mut ids = HashSet::new();
    for _ in 0..5 {
        let batch = letters.receive().await.expect("receive");
        assert!(batch.len() <= 10);
        for m in batch {
            assert!(ids.insert(m.id.clone()), "received twice while hidden");
            received.push(m);
        }
        if received.len() == 12 {
            break;
        }
    }
    let mut bodies: Vec<DeadLetter> = received
        .iter()
        .map(|m| serde_json::from_str(&m.body).expect("a letter"))
        .collect();
    bodies.sort_by_key(|l| format!("{l:?}"));
    let mut expected = kept.clone();
    expected.sort_by_key(|l| format!("{l:?}"));
    assert_eq!(bodies, expected, "kept whole");
    for m in &received {
        letters.delete(&m.receipt).await.expect("delete");
    }
    assert!(letters.receive().await.expect("receive").is_empty());

    // A replay publishes what the queue holds, each once, and empties it.
    letters
        .keep(&[refused(20), refused(21)])
        .await
        .expect("keep");
    let bus = MemoryBus::default();
    let report = replay_dead_letters(letters, &bus).await.expect("replay");
    assert_eq!((report.replayed, report.left), (2, 0));
    let mut published = bus.published();
    published.sort_by_key(|e| format!("{e:?}"));
    assert_eq!(published, vec![event(20), event(21)]);
    assert!(letters.receive().await.expect("receive").is_empty());
}

#[tokio::test]
async fn memory_dead_letters() {
    contract(&MemoryDeadLetters::default()).await;
}

#[tokio::test]
async fn sqs_dead_letters_on_moto() {
    let cfg = inbox_store::dynamo::testing::sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&cfg);
    let queue = sqs
        .create_queue()
        .queue_name(format!("inbox-events-dlq-{}", std::process::id()))
        .send()
        .await
        .expect("create_queue");
    let url = queue.queue_url().expect("a queue url").to_string();
    contract(&SqsDeadLetters::new(sqs, url)).await;
}
