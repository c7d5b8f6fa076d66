//! Jobs on SQS, on moto: removing a member assigned to more conversations
//! than a request changes queues one step on the jobs queue; the job worker
//! runs it from the message SQS delivers (twice, as SQS may), finishing the
//! job once; a malformed or orphaned message is acknowledged, not retried.

mod common;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use common::{receive, who};
use http::{HeaderValue, Method};
use inbox_http::{ApiRequest, App, Identity};
use inbox_runtime::jobs::{SqsJobQueue, job_worker};
use inbox_runtime::serve_api;
use inbox_store::sqlite::SqliteStore;
use serde_json::{Value, json};
use std::sync::Arc;

async fn call(
    app: &App<SqliteStore>,
    by: &Identity,
    method: Method,
    function: &str,
    path: &str,
    body: Option<Value>,
) -> inbox_http::ApiResponse {
    let mut req = ApiRequest::new(method, path, by.clone());
    if let Some(b) = body {
        req.headers
            .insert("content-type", HeaderValue::from_static("application/json"));
        req.body = b.to_string().into();
    }
    serve_api(app, function, req).await
}

#[tokio::test]
async fn a_job_step_runs_from_the_jobs_queue_once_however_often_it_is_delivered() {
    let sqs = aws_sdk_sqs::Client::new(&inbox_store::dynamo::testing::sdk_config().await);
    let url = sqs
        .create_queue()
        .queue_name(format!("inbox-jobs-{}", std::process::id()))
        .send()
        .await
        .expect("create_queue")
        .queue_url()
        .expect("a queue url")
        .to_string();
    let app = App::new(SqliteStore::in_memory().unwrap())
        .with_job_queue(Arc::new(SqsJobQueue::new(sqs.clone(), &url)));
    let (ada, bob) = (who("ada", "admin"), who("bob", "agent"));
    let r = call(
        &app,
        &ada,
        Method::PUT,
        "member-put",
        "/members/bob",
        Some(json!({"name": "Bob", "role": "agent"})),
    )
    .await;
    assert_eq!(r.status, 200);
    let r = call(
        &app,
        &bob,
        Method::POST,
        "contact-create",
        "/contacts",
        Some(json!({"name": "Ann"})),
    )
    .await;
    let contact = r.json_body()["id"].clone();
    for _ in 0..120 {
        let r = call(
            &app,
            &bob,
            Method::POST,
            "conversation-create",
            "/conversations",
            Some(json!({"contact_id": contact})),
        )
        .await;
        let id = r.json_body()["id"].as_str().unwrap().to_string();
        let r = call(
            &app,
            &bob,
            Method::POST,
            "conversation-assign",
            &format!("/conversations/{id}/assign"),
            Some(json!({"member_id": "bob"})),
        )
        .await;
        assert_eq!(r.status, 200);
    }
    let r = call(
        &app,
        &ada,
        Method::DELETE,
        "member-delete",
        "/members/bob",
        None,
    )
    .await;
    assert_eq!(r.status, 204);
    let job = r.headers["location"].to_str().unwrap().to_string();

    let event = receive(&sqs, &url, std::time::Duration::ZERO).await;
    assert_eq!(event.records.len(), 1, "one step queued");
    let body: Value = serde_json::from_str(event.records[0].body.as_deref().unwrap()).unwrap();
    assert_eq!(body["workspace_id"], "acme");
    assert_eq!(format!("/jobs/{}", body["job_id"].as_str().unwrap()), job);
    // Delivered twice (SQS is at-least-once): both succeed, the work is done once.
    for _ in 0..2 {
        let resp = job_worker(&app, &event).await;
        assert!(resp.batch_item_failures.is_empty());
    }
    let r = call(&app, &ada, Method::GET, "job-get", &job, None).await;
    let status = r.json_body();
    assert_eq!(
        (&status["status"], &status["done"]),
        (&json!("done"), &json!(120))
    );

    // Neither a malformed body nor a job that does not exist is retried.
    let junk = SqsMessage {
        message_id: Some("m-junk".into()),
        body: Some("{not json".into()),
        ..Default::default()
    };
    let orphan = SqsMessage {
        message_id: Some("m-orphan".into()),
        body: Some(json!({"workspace_id": "acme", "job_id": "job_gone"}).to_string()),
        ..Default::default()
    };
    let resp = job_worker(
        &app,
        &SqsEvent {
            records: vec![junk, orphan],
        },
    )
    .await;
    assert!(resp.batch_item_failures.is_empty());
}
