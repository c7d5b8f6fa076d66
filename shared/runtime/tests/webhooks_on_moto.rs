//! Outgoing webhooks on the AWS path, on moto: what a commit stored reaches
//! `webhook-dispatch` as table-stream records (made here from the items the
//! DynamoDB adapter wrote, as the stream would carry them), which queues
//! tasks on an SQS FIFO queue, one message group per endpoint and
//! conversation; `webhook-sender`'s handler posts them. A receiver that is
//! down makes a record wait on the queue across invocations and nothing is
//! lost; one conversation's changes arrive in commit order; in AWS a URL to
//! the metadata address is refused.

mod common;

use common::{call, ok, receive, stream_of, who};
use http::Method;
use inbox_app::WebhookTask;
use inbox_domain::webhooks::{RetrySchedule, UrlPolicy};
use inbox_http::App;
use inbox_runtime::webhooks::{
    SqsHoldBack, SqsWebhookQueue, changes_of, dispatch_stream_batch, send_webhooks,
};
use inbox_store::dynamo::DynamoStore;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A FIFO queue on moto, as the template's WebhookQueue.
async fn fifo_queue(sqs: &aws_sdk_sqs::Client, name: &str) -> String {
    sqs.create_queue()
        .queue_name(format!("{name}-{}.fifo", std::process::id()))
        .attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true")
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout,
            "360",
        )
        .send()
        .await
        .expect("a FIFO queue")
        .queue_url()
        .expect("a url")
        .to_string()
}

struct Setup {
    app: App<DynamoStore>,
    sqs: aws_sdk_sqs::Client,
    url: String,
    fakes: String,
    control: fake_providers::Control,
}

async fn setup(name: &str) -> Setup {
    let cfg = inbox_store::dynamo::testing::sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&cfg);
    let url = fifo_queue(&sqs, name).await;
    let fakes = fake_providers::start().await.expect("fakes");
    let control = fake_providers::Control::new(&fakes);
    let (store, _) = inbox_store::dynamo::testing::fresh_store(name)
        .await
        .expect("a table");
    // The fake receiver is on loopback: this transport may post there.
    let app = App::new(store).with_webhooks(
        Arc::new(
            inbox_delivery::webhooks::HttpWebhooks::new(UrlPolicy::AllowLoopback)
                .expect("a client"),
        ),
        RetrySchedule::CONTRACT,
    );
    let ada = who("ada", "admin");
    ok(
        &app,
        &ada,
        Method::PUT,
        "/members/bob",
        json!({"name": "Bob", "email": "bob@x.io", "role": "agent"}),
    )
    .await;
    Setup {
        app,
        sqs,
        url,
        fakes,
        control,
    }
}

async fn conversation(app: &App<DynamoStore>) -> String {
    let bob = who("bob", "agent");
    let c = ok(app, &bob, Method::POST, "/contacts", json!({"name": "Pat"})).await;
    let conv = ok(
        app,
        &bob,
        Method::POST,
        "/conversations",
        json!({"contact_id": c["id"]}),
    )
    .await;
    conv["id"].as_str().expect("an id").to_string()
}

/// Endpoint `id`, made by Ada, posting `events` to the fake receiver at `fakes`.
async fn subscribe(app: &App<DynamoStore>, fakes: &str, id: &str, events: Value) {
    ok(
        app,
        &who("ada", "admin"),
        Method::PUT,
        &format!("/outgoing-webhooks/{id}"),
        json!({"url": format!("{fakes}/receiver/{id}"), "events": events}),
    )
    .await;
}

/// What the fake receiver got, as parsed bodies, oldest first.
async fn received(control: &fake_providers::Control) -> Vec<Value> {
    control
        .requests(Some("receiver"))
        .await
        .expect("the receiver's requests")
        .iter()
        .map(|r| serde_json::from_str(r["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_down_for_longer_than_a_run_loses_nothing() {
    let s = setup("hookdown").await;
    let ada = who("ada", "admin");
    subscribe(&s.app, &s.fakes, "crm", json!(["conversation.assigned"])).await;
    let conv = conversation(&s.app).await;
    ok(
        &s.app,
        &who("bob", "agent"),
        Method::POST,
        &format!("/conversations/{conv}/assign"),
        json!({"member_id": "bob"}),
    )
    .await;

    let stream = stream_of(s.app.store(), "acme", &conv).await;
    assert!(
        changes_of(&stream).len() >= 2,
        "the creation and the assignment"
    );
    let queue = SqsWebhookQueue::new(s.sqs.clone(), &s.url);
    let dispatched = dispatch_stream_batch(&s.app, &stream, &queue, None).await;
    assert!(dispatched.batch_item_failures.is_empty());
    // The stream hands the same records over again (a retry): nothing more is queued.
    assert!(
        dispatch_stream_batch(&s.app, &stream, &queue, None)
            .await
            .batch_item_failures
            .is_empty()
    );

    // The receiver is down: the first run's attempt fails and the record is
    // held back on the queue for the first retry's wait (5 s).
    s.control
        .fail(&json!({"provider": "receiver", "status": 503, "times": 1}))
        .await
        .expect("a failure");
    let first = receive(&s.sqs, &s.url, Duration::from_secs(10)).await;
    assert_eq!(
        first.records.len(),
        1,
        "one task: only the assignment is subscribed to"
    );
    let task: WebhookTask =
        serde_json::from_str(first.records[0].body.as_deref().unwrap()).unwrap();
    assert_eq!(task.event_type, "conversation.assigned");
    let hold = SqsHoldBack::new(s.sqs.clone(), &s.url);
    let run = send_webhooks(&s.app, &first, &hold).await;
    assert_eq!(run.batch_item_failures.len(), 1, "the record comes back");
    let d = ok(
        &s.app,
        &ada,
        Method::GET,
        "/outgoing-webhooks/crm/deliveries",
        Value::Null,
    )
    .await;
    assert_eq!(d["items"][0]["status"], "retrying");
    assert_eq!(d["items"][0]["attempts"], 1);
    assert_eq!(d["items"][0]["last_response_status"], 503);
    // Held back: not visible again before its wait is over.
    let early = receive(&s.sqs, &s.url, Duration::from_millis(1500)).await;
    assert!(early.records.is_empty(), "held back for the retry's wait");

    // A later run, once the wait is over, delivers it.
    let started = Instant::now();
    let again = receive(&s.sqs, &s.url, Duration::from_secs(15)).await;
    assert_eq!(
        again.records.len(),
        1,
        "the same task, after {:?}",
        started.elapsed()
    );
    assert_eq!(
        again.records[0].body, first.records[0].body,
        "the same task"
    );
    let run = send_webhooks(&s.app, &again, &hold).await;
    assert!(run.batch_item_failures.is_empty());
    let d = ok(
        &s.app,
        &ada,
        Method::GET,
        "/outgoing-webhooks/crm/deliveries",
        Value::Null,
    )
    .await;
    assert_eq!(d["items"][0]["status"], "succeeded");
    assert_eq!(d["items"][0]["attempts"], 2);
    let got = received(&s.control).await;
    assert_eq!(got.len(), 2, "the failed attempt and the delivery: {got:?}");
    assert!(got.iter().all(|b| b["type"] == "conversation.assigned"));
    let calls = s.control.requests(Some("receiver")).await.unwrap();
    assert_eq!(
        calls[0]["headers"]["webhook-id"], calls[1]["headers"]["webhook-id"],
        "one webhook-id on every attempt"
    );
    assert!(
        calls[1]["headers"]["webhook-signature"]
            .as_str()
            .unwrap()
            .starts_with("v1,")
    );
    // The same records handed over again (a duplicate delivery) post nothing.
    assert!(
        send_webhooks(&s.app, &again, &hold)
            .await
            .batch_item_failures
            .is_empty()
    );
    assert_eq!(received(&s.control).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_conversation_s_changes_arrive_in_commit_order_through_the_fifo_queue() {
    let s = setup("hookorder").await;
    let bob = who("bob", "agent");
    subscribe(&s.app, &s.fakes, "audit", json!(["*"])).await;
    let conv = conversation(&s.app).await;
    for i in 0..20 {
        let (path, body) = match i % 3 {
            0 => ("labels", json!({"add": [format!("l{i}")]})),
            1 => ("messages", json!({"body": format!("reply {i}")})),
            _ => ("notes", json!({"body": format!("note {i}")})),
        };
        ok(
            &s.app,
            &bob,
            Method::POST,
            &format!("/conversations/{conv}/{path}"),
            body,
        )
        .await;
    }
    let stream = stream_of(s.app.store(), "acme", &conv).await;
    let want: Vec<String> = changes_of(&stream)
        .iter()
        .filter_map(|(_, c)| inbox_domain::webhooks::WebhookEvent::of_stored(c))
        .map(|e| e.id)
        .collect();
    assert!(want.len() >= 21, "{want:?}");
    let queue = SqsWebhookQueue::new(s.sqs.clone(), &s.url);
    assert!(
        dispatch_stream_batch(&s.app, &stream, &queue, None)
            .await
            .batch_item_failures
            .is_empty()
    );
    let hold = SqsHoldBack::new(s.sqs.clone(), &s.url);
    let deadline = Instant::now() + Duration::from_secs(60);
    while received(&s.control).await.len() < want.len() {
        assert!(Instant::now() < deadline, "every event");
        let batch = receive(&s.sqs, &s.url, Duration::from_secs(5)).await;
        assert!(
            send_webhooks(&s.app, &batch, &hold)
                .await
                .batch_item_failures
                .is_empty()
        );
        for r in &batch.records {
            s.sqs
                .delete_message()
                .queue_url(&s.url)
                .receipt_handle(r.receipt_handle.clone().unwrap_or_default())
                .send()
                .await
                .expect("delete");
        }
    }
    let calls = s.control.requests(Some("receiver")).await.unwrap();
    let got: Vec<String> = calls
        .iter()
        .map(|c| c["headers"]["webhook-id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, want, "commit order, each once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatch_that_cannot_queue_reports_the_first_record_of_its_run() {
    let s = setup("hookfail").await;
    subscribe(&s.app, &s.fakes, "crm", json!(["*"])).await;
    let conv = conversation(&s.app).await;
    let stream = stream_of(s.app.store(), "acme", &conv).await;
    let gone = SqsWebhookQueue::new(s.sqs.clone(), format!("{}-gone", s.url));
    let failed = dispatch_stream_batch(&s.app, &stream, &gone, None).await;
    assert_eq!(failed.batch_item_failures.len(), 1);
    assert_eq!(
        failed.batch_item_failures[0].item_identifier, stream.records[0].change.sequence_number,
        "the stream retries from the first record, in order"
    );
    // Handed over again once the queue is there: the tasks are queued.
    let queue = SqsWebhookQueue::new(s.sqs.clone(), &s.url);
    assert!(
        dispatch_stream_batch(&s.app, &stream, &queue, None)
            .await
            .batch_item_failures
            .is_empty()
    );
    assert!(
        !receive(&s.sqs, &s.url, Duration::from_secs(5))
            .await
            .records
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_aws_an_endpoint_may_not_point_inside_the_vpc() {
    let (store, _) = inbox_store::dynamo::testing::fresh_store("hookurl")
        .await
        .expect("a table");
    // The HTTP functions' app: no transport, so the AWS policy (public only).
    let app = App::new(store);
    let ada = who("ada", "admin");
    for url in [
        "http://169.254.169.254/",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.8/hook",
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://[::1]/hook",
        "https://[fd00::1]/hook",
        "https://[::ffff:169.254.169.254]/hook",
        "http://127.0.0.1:8080/hook",
    ] {
        let (status, body) = call(
            &app,
            &ada,
            Method::PUT,
            "/outgoing-webhooks/x",
            json!({"url": url, "events": ["*"]}),
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some("invalid_url")),
            "{url}: {body}"
        );
    }
    let (status, body) = call(&app, &ada, Method::GET, "/outgoing-webhooks", Value::Null).await;
    assert_eq!(
        (status, &body["items"]),
        (200, &json!([])),
        "nothing refused was written"
    );
    let (status, _) = call(
        &app,
        &ada,
        Method::PUT,
        "/outgoing-webhooks/x",
        json!({"url": "https://hooks.example.com/inbox", "events": ["*"]}),
    )
    .await;
    assert_eq!(status, 200);
}

/// Records what the sender holds back (moto does not hand a FIFO group's
/// records out again in order after their visibility changed; SQS does).
#[derive(Default)]
struct Recorded(std::sync::Mutex<Vec<(String, i32)>>);

#[async_trait::async_trait]
impl inbox_runtime::webhooks::HoldBack for Recorded {
    async fn hold_back(
        &self,
        receipt_handle: &str,
        seconds: i32,
    ) -> Result<(), inbox_app::AppError> {
        self.0
            .lock()
            .unwrap()
            .push((receipt_handle.to_string(), seconds));
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_holds_its_whole_lane_back_for_its_wait() {
    let s = setup("hooklane").await;
    let bob = who("bob", "agent");
    // Two endpoints, so two lanes for one conversation; only the first
    // endpoint's receiver fails (each endpoint has fakes of its own).
    let healthy = fake_providers::start().await.expect("fakes");
    let healthy_log = fake_providers::Control::new(&healthy);
    for (id, base) in [("flaky", &s.fakes), ("steady", &healthy)] {
        subscribe(&s.app, base, id, json!(["conversation.*"])).await;
    }
    let conv = conversation(&s.app).await;
    for i in 0..3 {
        ok(
            &s.app,
            &bob,
            Method::POST,
            &format!("/conversations/{conv}/labels"),
            json!({"add": [format!("l{i}")]}),
        )
        .await;
    }
    let queue = SqsWebhookQueue::new(s.sqs.clone(), &s.url);
    let stream = stream_of(s.app.store(), "acme", &conv).await;
    assert!(
        dispatch_stream_batch(&s.app, &stream, &queue, None)
            .await
            .batch_item_failures
            .is_empty()
    );
    let mut batch = receive(&s.sqs, &s.url, Duration::from_secs(10)).await;
    while batch.records.len() < 8 {
        let more = receive(&s.sqs, &s.url, Duration::from_secs(5)).await;
        assert!(!more.records.is_empty(), "four tasks in each of two lanes");
        batch.records.extend(more.records);
    }
    s.control
        .fail(&json!({"provider": "receiver", "status": 500, "times": 1}))
        .await
        .expect("a failure");
    let endpoint_of = |r: &aws_lambda_events::event::sqs::SqsMessage| {
        serde_json::from_str::<WebhookTask>(r.body.as_deref().unwrap())
            .unwrap()
            .endpoint_id
    };
    let hold = Recorded::default();
    let run = send_webhooks(&s.app, &batch, &hold).await;
    let flaky: Vec<&aws_lambda_events::event::sqs::SqsMessage> = batch
        .records
        .iter()
        .filter(|r| endpoint_of(r) == "flaky")
        .collect();
    assert_eq!(flaky.len(), 4, "creation and three label changes");
    let reported: Vec<Option<String>> = run
        .batch_item_failures
        .iter()
        .map(|f| Some(f.item_identifier.clone()))
        .collect();
    assert_eq!(
        reported,
        flaky
            .iter()
            .map(|r| r.message_id.clone())
            .collect::<Vec<_>>(),
        "the failed record and its lane behind it come back; the other lane is done"
    );
    let held = hold.0.lock().unwrap().clone();
    assert_eq!(
        held,
        flaky
            .iter()
            .map(|r| (r.receipt_handle.clone().unwrap(), 5))
            .collect::<Vec<_>>(),
        "the whole lane is held back for the retry's 5 s, so it comes back together, in order"
    );
    assert_eq!(
        received(&s.control).await.len(),
        1,
        "only the failed attempt on the flaky lane"
    );
    assert_eq!(
        received(&healthy_log).await.len(),
        4,
        "the steady lane, all of it"
    );
}
