//! One attempt at a time of an outgoing webhook, on the embedded store, with
//! a transport that answers from a script: retries on the schedule with the
//! same `webhook-id`, a duplicate task does nothing, an endpoint turned off
//! drops its deliveries, and five days of failure turn an endpoint off.

use async_trait::async_trait;
use inbox_app::{App, WebhookAttempted, WebhookPost, WebhookTask, WebhookTransport};
use inbox_domain::webhooks::{
    AttemptOutcome, DISABLE_AFTER_FAILING_SECONDS, DeliveryState, DisabledReason, EndpointDraft,
    RetrySchedule, UrlPolicy, WebhookEvent,
};
use inbox_domain::{ActorRef, EventKind, TimelineEvent, Timestamp};
use inbox_store::sqlite::SqliteStore;
use inbox_store::{DeliveryRef, ManualClock, WebhookStore};
use std::sync::{Arc, Mutex};

/// Answers from `script` (then 200), keeping what it was sent.
#[derive(Default)]
struct Scripted {
    script: Mutex<Vec<AttemptOutcome>>,
    seen: Mutex<Vec<(String, String)>>,
}

#[async_trait]
impl WebhookTransport for Scripted {
    fn policy(&self) -> UrlPolicy {
        UrlPolicy::AllowLoopback
    }
    async fn post(&self, post: &WebhookPost<'_>) -> AttemptOutcome {
        self.seen
            .lock()
            .unwrap()
            .push((post.event_id.to_string(), post.body.to_string()));
        let mut s = self.script.lock().unwrap();
        if s.is_empty() {
            AttemptOutcome::Accepted(200)
        } else {
            s.remove(0)
        }
    }
    async fn call(&self, post: &WebhookPost<'_>) -> inbox_app::CallAnswer {
        match self.post(post).await {
            AttemptOutcome::Accepted(status) | AttemptOutcome::Refused(status) => {
                inbox_app::CallAnswer::Answered {
                    status,
                    body: String::new(),
                }
            }
            AttemptOutcome::NoAnswer => inbox_app::CallAnswer::NoAnswer,
        }
    }
}

const T0: i64 = 1_800_000_000;

async fn setup(script: Vec<AttemptOutcome>) -> (App<SqliteStore>, Arc<Scripted>, ManualClock) {
    let transport = Arc::new(Scripted {
        script: Mutex::new(script),
        ..Scripted::default()
    });
    let clock = ManualClock::new(Timestamp::from_unix_seconds(T0));
    let app = App::new(SqliteStore::in_memory().unwrap())
        .with_clock(clock.clone())
        .with_webhooks(transport.clone(), RetrySchedule::CONTRACT);
    let endpoint = EndpointDraft::parse(
        "crm",
        "http://127.0.0.1:9/hook",
        &["conversation.*".into()],
        None,
        UrlPolicy::AllowLoopback,
    )
    .unwrap()
    .apply(
        "acme",
        "crm",
        None,
        || "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
        Timestamp::from_unix_seconds(T0),
    );
    app.store().put_webhook_endpoint(&endpoint).await.unwrap();
    (app, transport, clock)
}

fn task(event: &str) -> WebhookTask {
    WebhookTask {
        workspace_id: "acme".into(),
        endpoint_id: "crm".into(),
        event_id: event.into(),
        event_type: "conversation.assigned".into(),
        conversation_id: "cnv_1".into(),
        created_at: Timestamp::from_unix_seconds(T0),
        body: format!(r#"{{"type":"conversation.assigned","id":"{event}"}}"#),
    }
}

async fn stored(
    app: &App<SqliteStore>,
    t: &WebhookTask,
) -> inbox_domain::webhooks::WebhookDelivery {
    app.store()
        .get_webhook_delivery(
            "acme",
            &DeliveryRef {
                endpoint_id: &t.endpoint_id,
                event_id: &t.event_id,
                created_at: t.created_at,
            },
        )
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn two_failures_then_success_post_the_same_event_three_times() {
    let (app, transport, clock) = setup(vec![
        AttemptOutcome::Refused(500),
        AttemptOutcome::Refused(500),
    ])
    .await;
    let t = task("evt_1");
    assert_eq!(
        app.attempt_webhook(&t).await.unwrap(),
        WebhookAttempted::RetryIn { millis: 5_000 }
    );
    clock.advance_ms(5_000);
    assert_eq!(
        app.attempt_webhook(&t).await.unwrap(),
        WebhookAttempted::RetryIn { millis: 300_000 }
    );
    let retrying = stored(&app, &t).await;
    assert_eq!(
        (
            retrying.status,
            retrying.attempts,
            retrying.last_response_status
        ),
        (DeliveryState::Retrying, 2, Some(500))
    );
    clock.advance_ms(300_000);
    assert_eq!(
        app.attempt_webhook(&t).await.unwrap(),
        WebhookAttempted::Succeeded
    );
    let seen = transport.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    assert!(
        seen.iter().all(|s| *s == seen[0]),
        "same id and body every time"
    );
    let done = stored(&app, &t).await;
    assert_eq!(
        (done.status, done.attempts, done.last_response_status),
        (DeliveryState::Succeeded, 3, Some(200))
    );
    // The streak of failures ended with the success.
    let e = app
        .store()
        .get_webhook_endpoint("acme", "crm")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(e.failing_since, None);
    // A duplicate of the task does nothing.
    assert_eq!(
        app.attempt_webhook(&t).await.unwrap(),
        WebhookAttempted::Skipped
    );
    assert_eq!(transport.seen.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn an_endpoint_turned_off_drops_what_is_left() {
    let (app, transport, _) = setup(vec![]).await;
    let mut e = app
        .store()
        .get_webhook_endpoint("acme", "crm")
        .await
        .unwrap()
        .unwrap();
    e.enabled = false;
    app.store().put_webhook_endpoint(&e).await.unwrap();
    let t = task("evt_2");
    assert_eq!(
        app.attempt_webhook(&t).await.unwrap(),
        WebhookAttempted::Failed
    );
    assert_eq!(stored(&app, &t).await.status, DeliveryState::Failed);
    assert!(transport.seen.lock().unwrap().is_empty(), "nothing posted");
}

#[tokio::test]
async fn five_days_of_failure_turn_the_endpoint_off() {
    let (app, _, clock) = setup(vec![AttemptOutcome::NoAnswer; 20]).await;
    let first = task("evt_a");
    assert!(matches!(
        app.attempt_webhook(&first).await.unwrap(),
        WebhookAttempted::RetryIn { .. }
    ));
    let e = app
        .store()
        .get_webhook_endpoint("acme", "crm")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(e.failing_since, Some(Timestamp::from_unix_seconds(T0)));
    // Later events keep failing; five days after the first failure the endpoint is off.
    clock.advance_ms(DISABLE_AFTER_FAILING_SECONDS * 1000);
    let mut late = task("evt_b");
    late.created_at = Timestamp::from_unix_seconds(T0 + DISABLE_AFTER_FAILING_SECONDS);
    assert_eq!(
        app.attempt_webhook(&late).await.unwrap(),
        WebhookAttempted::Failed
    );
    let off = app
        .store()
        .get_webhook_endpoint("acme", "crm")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (off.enabled, off.disabled_reason),
        (false, Some(DisabledReason::Failing))
    );
    // Its other deliveries are dropped without a call.
    assert_eq!(
        app.attempt_webhook(&first).await.unwrap(),
        WebhookAttempted::Failed
    );
}

fn assigned(id: &str) -> WebhookEvent {
    WebhookEvent::of_timeline(
        "acme",
        &TimelineEvent {
            id: id.into(),
            conversation_id: "cnv_1".into(),
            kind: EventKind::Assigned {
                from: None,
                to: "bob".into(),
                reason: None,
            },
            at: Timestamp::from_unix_seconds(T0),
            actor: ActorRef::system(),
        },
    )
}

#[tokio::test]
async fn events_become_tasks_for_the_endpoints_that_want_them_once() {
    let (app, transport, _) = setup(vec![AttemptOutcome::Refused(503)]).await;
    // A second endpoint that only wants messages, and one that is off.
    for (id, events, enabled) in [
        ("msgs", vec!["message.created".to_string()], true),
        ("off", vec!["*".to_string()], false),
    ] {
        let e = EndpointDraft::parse(
            id,
            "http://127.0.0.1:9/x",
            &events,
            Some(enabled),
            UrlPolicy::AllowLoopback,
        )
        .unwrap()
        .apply(
            "acme",
            id,
            None,
            || "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
            Timestamp::from_unix_seconds(T0),
        );
        app.store().put_webhook_endpoint(&e).await.unwrap();
    }
    let tasks = app
        .webhook_tasks("acme", &[assigned("evt_7")])
        .await
        .unwrap();
    let to: Vec<&str> = tasks.iter().map(|t| t.endpoint_id.as_str()).collect();
    assert_eq!(
        to,
        vec!["crm"],
        "only the endpoint subscribed to conversation.*"
    );
    let t = &tasks[0];
    assert_eq!(t.lane(), "acme#crm#cnv_1");
    assert_eq!(stored(&app, t).await.status, DeliveryState::Retrying);
    // Republished before any attempt: the task again (its message may be lost).
    assert_eq!(
        app.webhook_tasks("acme", &[assigned("evt_7")])
            .await
            .unwrap()
            .len(),
        1
    );
    // After an attempt, a republished event makes no new task ...
    assert!(matches!(
        app.attempt_webhook(t).await.unwrap(),
        WebhookAttempted::RetryIn { .. }
    ));
    assert!(
        app.webhook_tasks("acme", &[assigned("evt_7")])
            .await
            .unwrap()
            .is_empty()
    );
    // ... and a duplicate task before the retry is due posts nothing.
    assert_eq!(
        app.attempt_webhook(t).await.unwrap(),
        WebhookAttempted::RetryIn { millis: 5_000 }
    );
    assert_eq!(transport.seen.lock().unwrap().len(), 1);
}
