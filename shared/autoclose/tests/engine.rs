//! The engine on the SQLite store with a manual clock: the sweep and the
//! worker driven step by step through the races the spec names.

mod common;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use common::{AFTER_SECONDS, RecordingQueue, WS, World, auto_close_on, fast_in_process};
use inbox_autoclose::{
    FireOutcome, LocalTickLimits, SweepLimits, TimerMessage, drain_once, fire, run_local_tick,
    sweep, worker, worker_with_report,
};
use inbox_domain::model::{ClosingSource, EventKind, Status};
use inbox_domain::{Command, Settings};
use inbox_store::Commit;

fn record(id: &str, m: &TimerMessage) -> SqsMessage {
    SqsMessage {
        message_id: Some(id.into()),
        body: Some(m.to_body()),
        ..SqsMessage::default()
    }
}

fn event(records: Vec<SqsMessage>) -> SqsEvent {
    SqsEvent { records }
}

/// Sweeps into a recording queue and returns the messages it sent.
async fn sweep_now(w: &World) -> Vec<TimerMessage> {
    let q = RecordingQueue::default();
    sweep(&w.store, &q, w.now(), &SweepLimits::default())
        .await
        .expect("sweep");
    q.0.into_inner().unwrap()
}

async fn assert_auto_closed(w: &World, conv_id: &str) {
    let conv = w.get(conv_id).await;
    assert_eq!(conv.status, Status::Closed);
    let closing = conv.closing.expect("closing record");
    assert_eq!(closing.source, ClosingSource::AutoClose);
    assert_eq!(closing.by.id, None);
    assert!(conv.auto_close.is_none());
    let tl = w.timeline(conv_id).await;
    let closes: Vec<_> = tl
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                EventKind::StatusChanged {
                    to: Status::Closed,
                    ..
                }
            )
        })
        .collect();
    assert_eq!(closes.len(), 1, "exactly one close event");
}

#[tokio::test]
async fn a_due_timer_closes_the_conversation_once() {
    let w = World::new(auto_close_on()).await;
    let conv = w.armed_conversation(1).await;
    let other = w.armed_conversation(2).await;
    w.advance_secs(AFTER_SECONDS as i64 - 1);
    assert!(sweep_now(&w).await.is_empty(), "not due yet");
    w.advance_secs(1);
    let sent = sweep_now(&w).await;
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].generation, conv.timer_generation);
    let resp = worker(
        &w.app(),
        event(vec![record("m1", &sent[0]), record("m2", &sent[1])]),
    )
    .await;
    assert!(resp.batch_item_failures.is_empty());
    assert_auto_closed(&w, &conv.id).await;
    assert_auto_closed(&w, &other.id).await;
    // No generated note without auto_generate.
    assert!(w.get(&conv.id).await.closing.unwrap().note.is_none());
    assert!(
        sweep_now(&w).await.is_empty(),
        "a closed conversation's timer is gone"
    );
}

#[tokio::test]
async fn a_contact_message_between_sweep_and_worker_wins() {
    let w = World::new(auto_close_on()).await;
    let conv = w.armed_conversation(1).await;
    w.advance_secs(AFTER_SECONDS as i64 + 5);
    let sent = sweep_now(&w).await;
    assert_eq!(sent.len(), 1);
    w.contact_says(&conv.id, "wait, one more question").await;
    let out = fire(&w.app(), &sent[0]).await.expect("fire");
    assert_eq!(out, FireOutcome::Stale);
    let after = w.get(&conv.id).await;
    assert_eq!(after.status, Status::Open);
    assert!(after.auto_close.is_none());
    assert_eq!(w.status_changes(&conv.id).await, 0);
}

#[tokio::test]
async fn a_contact_message_between_the_workers_read_and_write_wins() {
    let w = World::new(auto_close_on()).await;
    let conv = w.armed_conversation(1).await;
    w.advance_secs(AFTER_SECONDS as i64);
    let sent = sweep_now(&w).await;
    // The contact's write lands after the worker read the conversation: its
    // commit conflicts, it re-reads, and the domain sees the cancelled timer.
    let contact = w
        .decide(
            &conv.id,
            &inbox_domain::Actor::Contact {
                id: conv.contact.id.clone(),
            },
            Command::ContactMessage {
                body: "still there?".into(),
                channel_message_id: None,
                first_agent: None,
            },
        )
        .await;
    w.store.sneak_in(
        Commit::new(contact.conversation.workspace_id.clone()).with_writes(contact.writes),
    );
    let out = fire(&w.app(), &sent[0]).await.expect("fire");
    assert_eq!(out, FireOutcome::Stale);
    assert_eq!(w.get(&conv.id).await.status, Status::Open);
    assert_eq!(w.status_changes(&conv.id).await, 0);
    let (loads, commits, _, _) = w.store.counts.split();
    assert_eq!(
        (loads, commits),
        (2, 1),
        "one conflicting commit, then a re-read"
    );
}

#[tokio::test]
async fn an_unrelated_change_between_read_and_write_is_re_decided_and_still_closes() {
    let w = World::new(auto_close_on()).await;
    let conv = w.armed_conversation(1).await;
    w.advance_secs(AFTER_SECONDS as i64);
    let sent = sweep_now(&w).await;
    let label = w
        .decide(
            &conv.id,
            &common::member(),
            Command::Labels {
                add: vec!["vip".into()],
                remove: vec![],
            },
        )
        .await;
    w.store
        .sneak_in(Commit::new(label.conversation.workspace_id.clone()).with_writes(label.writes));
    let out = fire(&w.app(), &sent[0]).await.expect("fire");
    assert_eq!(
        out,
        FireOutcome::Closed {
            note_generated: false
        }
    );
    assert_auto_closed(&w, &conv.id).await;
    assert_eq!(w.get(&conv.id).await.labels, vec!["vip".to_string()]);
}

#[tokio::test]
async fn a_timer_reset_between_sweep_and_worker_fires_only_at_the_new_due_time() {
    let w = World::new(auto_close_on()).await;
    let conv = w.armed_conversation(1).await;
    w.advance_secs(AFTER_SECONDS as i64 + 1);
    let sent = sweep_now(&w).await;
    assert_eq!(sent.len(), 1);
    // Another human reply resets the timer before the worker runs.
    let reset = w.reply(&conv.id, "Anything else I can do?").await;
    let new_due = reset.auto_close.as_ref().expect("re-armed").due_at;
    assert!(new_due > w.now());
    let resp = worker(&w.app(), event(vec![record("m1", &sent[0])])).await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(w.get(&conv.id).await.status, Status::Open);

    // A sweep just before the new due time sends nothing; even the new
    // generation delivered early closes nothing.
    w.clock.set(new_due.plus_millis(-1));
    assert!(sweep_now(&w).await.is_empty());
    let early = TimerMessage {
        generation: reset.timer_generation,
        ..sent[0].clone()
    };
    assert_eq!(
        fire(&w.app(), &early).await.expect("fire"),
        FireOutcome::Stale
    );
    assert_eq!(w.get(&conv.id).await.status, Status::Open);

    // At the new due time it closes.
    w.clock.set(new_due);
    let q = fast_in_process();
    let tick = run_local_tick(&w.app(), &q, &LocalTickLimits::default())
        .await
        .expect("tick");
    assert_eq!((tick.sweep.sent, tick.worker.closed), (1, 1));
    assert_auto_closed(&w, &conv.id).await;
    // The stale first message, delivered late, still changes nothing.
    assert_eq!(
        fire(&w.app(), &sent[0]).await.expect("fire"),
        FireOutcome::Stale
    );
    assert_eq!(w.status_changes(&conv.id).await, 1);
}

#[tokio::test]
async fn the_same_message_delivered_twice_closes_once() {
    let w = World::new(auto_close_on()).await;
    let conv = w.armed_conversation(1).await;
    w.advance_secs(AFTER_SECONDS as i64);
    let sent = sweep_now(&w).await;
    // Twice in one batch (handled concurrently)…
    let (resp, report) = worker_with_report(
        &w.app(),
        &event(vec![record("a", &sent[0]), record("b", &sent[0])]),
    )
    .await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!((report.closed, report.stale), (1, 1));
    // …and once more in a later batch.
    let resp = worker(&w.app(), event(vec![record("c", &sent[0])])).await;
    assert!(resp.batch_item_failures.is_empty());
    assert_auto_closed(&w, &conv.id).await;
}

#[tokio::test]
async fn two_workers_at_once_close_once() {
    let w = World::new(auto_close_on()).await;
    let conv = w.armed_conversation(1).await;
    w.advance_secs(AFTER_SECONDS as i64);
    let sent = sweep_now(&w).await;
    let (app_a, app_b) = (w.app(), w.app());
    let (a, b) = tokio::join!(fire(&app_a, &sent[0]), fire(&app_b, &sent[0]),);
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
    assert_auto_closed(&w, &conv.id).await;
}

#[tokio::test]
async fn a_sweep_run_twice_still_closes_once() {
    let w = World::new(auto_close_on()).await;
    let convs = [w.armed_conversation(1).await, w.armed_conversation(2).await];
    w.advance_secs(AFTER_SECONDS as i64);
    let q = RecordingQueue::default();
    let limits = SweepLimits::default();
    let (a, b) = tokio::join!(
        sweep(&w.store, &q, w.now(), &limits),
        sweep(&w.store, &q, w.now(), &limits)
    );
    assert_eq!((a.expect("a").sent, b.expect("b").sent), (2, 2));
    let sent = q.0.into_inner().unwrap();
    assert_eq!(sent.len(), 4);
    let records = sent
        .iter()
        .enumerate()
        .map(|(i, m)| record(&format!("m{i}"), m))
        .collect();
    let (resp, report) = worker_with_report(&w.app(), &event(records)).await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!((report.closed, report.stale), (2, 2));
    for c in &convs {
        assert_auto_closed(&w, &c.id).await;
    }
}

#[tokio::test]
async fn auto_close_turned_off_clears_the_due_timer_and_closes_nothing() {
    let w = World::new(auto_close_on()).await;
    let conv = w.armed_conversation(1).await;
    let mut off = w.settings().await;
    off.auto_close.enabled = false;
    w.set_settings(&off).await;
    w.advance_secs(AFTER_SECONDS as i64);
    let sent = sweep_now(&w).await;
    assert_eq!(
        sent.len(),
        1,
        "turning auto-close off disarms nothing stored"
    );
    let out = fire(&w.app(), &sent[0]).await.expect("fire");
    assert_eq!(out, FireOutcome::Cleared);
    let after = w.get(&conv.id).await;
    assert_eq!(after.status, Status::Open);
    assert!(after.auto_close.is_none());
    assert!(after.timer_generation > conv.timer_generation);
    assert_eq!(w.status_changes(&conv.id).await, 0);
    assert!(
        sweep_now(&w).await.is_empty(),
        "cleared: the sweep no longer sees it"
    );
}

#[tokio::test]
async fn auto_generate_adds_a_generated_closing_note() {
    let mut s: Settings = auto_close_on();
    s.closing_notes.auto_generate = true;
    s.closing_notes.categories = vec!["billing".into(), "shipping".into()];
    let w = World::new(s).await;
    let conv = w.armed_conversation(1).await;
    w.advance_secs(AFTER_SECONDS as i64);
    let q = fast_in_process();
    let tick = run_local_tick(&w.app(), &q, &LocalTickLimits::default())
        .await
        .expect("tick");
    assert_eq!(tick.worker.closed, 1);
    assert_auto_closed(&w, &conv.id).await;
    let note = w
        .get(&conv.id)
        .await
        .closing
        .unwrap()
        .note
        .expect("a generated note");
    assert!(note.generated);
    assert_eq!(note.category.as_deref(), Some("billing"));
    assert!(note.summary.is_some());
    let tl = w.timeline(&conv.id).await;
    assert!(tl.iter().any(|e| matches!(
        &e.kind,
        EventKind::ClosingNoteAdded {
            generated: true,
            generator: Some(inbox_domain::notes::Generator::Builtin),
            ..
        }
    )));
    let (_, _, latest, _) = w.store.counts.split();
    assert_eq!(latest, 1, "messages are read only for the close");
}

#[tokio::test]
async fn a_missing_conversation_or_a_malformed_body_is_acknowledged() {
    let w = World::new(auto_close_on()).await;
    let ghost = TimerMessage {
        workspace_id: WS.into(),
        conversation_id: "conv_gone".into(),
        due_at: w.now(),
        generation: 1,
    };
    assert_eq!(
        fire(&w.app(), &ghost).await.expect("fire"),
        FireOutcome::Missing
    );
    let bad = SqsMessage {
        message_id: Some("bad".into()),
        body: Some("{\"nope\":1}".into()),
        ..SqsMessage::default()
    };
    let empty = SqsMessage {
        message_id: Some("empty".into()),
        ..SqsMessage::default()
    };
    let (resp, report) =
        worker_with_report(&w.app(), &event(vec![bad, empty, record("ghost", &ghost)])).await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!((report.malformed, report.missing), (2, 1));
}

#[tokio::test]
async fn the_worker_names_exactly_the_failing_message() {
    let w = World::new(auto_close_on()).await;
    let convs = [
        w.armed_conversation(1).await,
        w.armed_conversation(2).await,
        w.armed_conversation(3).await,
    ];
    w.advance_secs(AFTER_SECONDS as i64);
    let sent = sweep_now(&w).await;
    w.store.fail(Some(&convs[1].id));
    let records = sent
        .iter()
        .map(|m| record(&format!("id-{}", m.conversation_id), m))
        .collect();
    let resp = worker(&w.app(), event(records)).await;
    let failed: Vec<_> = resp
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failed, vec![format!("id-{}", convs[1].id)]);
    assert_eq!(w.get(&convs[0].id).await.status, Status::Closed);
    assert_eq!(w.get(&convs[1].id).await.status, Status::Open);
    assert_eq!(w.get(&convs[2].id).await.status, Status::Closed);
}

#[tokio::test]
async fn the_local_tick_retries_a_failure_and_dead_letters_a_poison_message() {
    let w = World::new(auto_close_on()).await;
    let ok = w.armed_conversation(1).await;
    let poison = w.armed_conversation(2).await;
    w.advance_secs(AFTER_SECONDS as i64);
    w.store.fail(Some(&poison.id));
    let q = fast_in_process(); // re-delivers at once, dead-letters after 3 receives
    let mut ticks = Vec::new();
    for _ in 0..3 {
        ticks.push(
            run_local_tick(
                &w.app(),
                &q,
                &LocalTickLimits {
                    max_batches: 1,
                    ..LocalTickLimits::default()
                },
            )
            .await
            .expect("tick"),
        );
    }
    assert_eq!(ticks[0].worker.closed, 1);
    assert_eq!(w.get(&ok.id).await.status, Status::Closed);
    assert_eq!(ticks.iter().map(|t| t.worker.failed).sum::<usize>(), 3);
    let dead = q.dead_letters();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].message.conversation_id, poison.id);
    // Once the store recovers, the next sweep queues the still-armed timer again.
    w.store.fail(None);
    let tick = run_local_tick(&w.app(), &q, &LocalTickLimits::default())
        .await
        .expect("tick");
    assert_eq!(tick.worker.closed, 1);
    assert_auto_closed(&w, &poison.id).await;
    assert!(drain_once(&w.app(), &q).await.expect("drain").is_none());
}

#[tokio::test]
async fn the_sweep_cost_follows_due_timers_not_conversations() {
    let w = World::new(auto_close_on()).await;
    for n in 0..30 {
        let c = w.armed_conversation(n).await;
        if n >= 5 {
            // Most conversations have no armed timer.
            w.contact_says(&c.id, "thanks, bye").await;
        }
    }
    w.advance_secs(AFTER_SECONDS as i64);
    let before = w.store.counts.split().3;
    let q = RecordingQueue::default();
    let limits = SweepLimits {
        page_size: 2,
        ..SweepLimits::default()
    };
    let report = sweep(&w.store, &q, w.now(), &limits).await.expect("sweep");
    assert_eq!((report.due, report.sent, report.failed), (5, 5, 0));
    assert_eq!(report.pages, w.store.counts.split().3 - before);
    assert_eq!(report.pages, 3, "five due timers at two per page");
    let capped = sweep(
        &w.store,
        &q,
        w.now(),
        &SweepLimits {
            max_timers: 3,
            ..limits
        },
    )
    .await
    .expect("sweep");
    assert!(capped.truncated);
    assert_eq!(capped.sent, 3);
}
