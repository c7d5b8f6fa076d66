//! Replies on the AWS path, on moto: a committed reply's `message.outbound`
//! goes from the outbox to EventBridge, the rule puts it on the send queue,
//! and the sender function's handler makes the attempt from the SQS record;
//! a transient failure comes back through the queue with its delay; the same
//! records delivered again call the provider no more. Prints the DynamoDB
//! requests one delivered message costs.

mod common;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use common::{ok as call, receive, who};
use http::Method;
use inbox_http::App;
use inbox_runtime::sender::{SqsSendQueue, send_worker};
use inbox_store::dynamo::DynamoStore;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// The sender's handler on `event`, which must retry nothing, then the
/// records deleted as the Lambda service does after such an answer.
async fn handle_then_acknowledge(
    app: &App<DynamoStore>,
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    event: &SqsEvent,
) {
    assert!(send_worker(app, event).await.batch_item_failures.is_empty());
    acknowledge(sqs, url, event).await;
}

/// Deletes what the handler acknowledged, as the Lambda service does.
async fn acknowledge(sqs: &aws_sdk_sqs::Client, url: &str, event: &SqsEvent) {
    for r in &event.records {
        sqs.delete_message()
            .queue_url(url)
            .receipt_handle(r.receipt_handle.clone().unwrap_or_default())
            .send()
            .await
            .expect("delete");
    }
}

async fn message(app: &App<DynamoStore>, conv: &str, id: &str) -> Value {
    let page = call(
        app,
        &who("bob", "agent"),
        Method::GET,
        &format!("/conversations/{conv}/messages"),
        Value::Null,
    )
    .await;
    page["items"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["id"] == id))
        .cloned()
        .expect("the message")
}

/// Bob's reply on `conv`, published from the outbox (the stream publisher's
/// work in AWS), and what the rule then put on the send queue.
async fn reply_and_publish(
    app: &App<DynamoStore>,
    bus: &inbox_events::EventBridgeBus,
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    conv: &str,
    body: &str,
) -> (String, SqsEvent) {
    let posted = call(
        app,
        &who("bob", "agent"),
        Method::POST,
        &format!("/conversations/{conv}/messages"),
        json!({ "body": body }),
    )
    .await;
    let id = posted["message"]["id"].as_str().expect("an id").to_string();
    inbox_events::drain_outbox(app.store(), bus, 100)
        .await
        .expect("published");
    (id, receive(sqs, url, Duration::from_secs(10)).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_goes_from_the_outbox_through_the_rule_and_the_send_queue_to_the_provider_once() {
    // The template's rule (infra/template.yaml, OutboundMessagesRule).
    let aws = common::RuleToQueue::new("send", "message.outbound").await;
    let (sqs, url) = (aws.sqs.clone(), aws.url.clone());

    let fakes = fake_providers::start().await.expect("fakes");
    let control = fake_providers::Control::new(&fakes);
    let (store, counter) = inbox_store::dynamo::testing::fresh_store("send")
        .await
        .expect("a table");
    let app = App::new(store)
        .with_public_base_url(Some("https://inbox.example.com".into()))
        .with_sender(
            Arc::new(inbox_delivery::HttpSender::new().expect("a client")),
            Arc::new(SqsSendQueue::new(sqs.clone(), &url)),
        );
    let bus = aws.bus();
    let (ada, bob) = (who("ada", "admin"), who("bob", "agent"));
    call(
        &app,
        &ada,
        Method::PUT,
        "/members/bob",
        json!({"name": "Bob Ray", "email": "bob@x.io", "role": "agent"}),
    )
    .await;
    call(
        &app,
        &ada,
        Method::PUT,
        "/channels/sms",
        json!({"kind": "twilio", "name": "SMS",
        "secret": "twilio-token", "account_sid": "AC0123456789abcdef0123456789abcdef",
        "from": "+15550001000", "api_base_url": fakes}),
    )
    .await;
    let contact = call(
        &app,
        &bob,
        Method::POST,
        "/contacts",
        json!({"name": "Pat", "phone": "+15550100777"}),
    )
    .await;
    let conv = call(
        &app,
        &bob,
        Method::POST,
        "/conversations",
        json!({"contact_id": contact["id"], "channel_id": "sms"}),
    )
    .await;
    let conv = conv["id"].as_str().expect("an id").to_string();

    // A reply, published from the outbox (the stream publisher's work in AWS).
    let (id, event) = reply_and_publish(&app, &bus, &sqs, &url, &conv, "Shipped").await;
    assert_eq!(
        event.records.len(),
        1,
        "the rule queued the one outbound message"
    );

    counter.reset();
    let response = send_worker(&app, &event).await;
    let requests = counter.snapshot();
    assert!(response.batch_item_failures.is_empty());
    let sent = message(&app, &conv, &id).await;
    assert_eq!(sent["delivery"]["status"], "sent", "{sent}");
    let calls = control.requests(Some("twilio")).await.expect("requests");
    assert_eq!(calls.len(), 1);
    assert_eq!(sent["channel_message_id"], calls[0]["provider_id"]);
    println!(
        "sender on moto: {} DynamoDB requests for one delivered message: {requests:?}",
        requests.values().sum::<u64>()
    );
    // The record delivered again (SQS delivers at least once): no second call.
    handle_then_acknowledge(&app, &sqs, &url, &event).await;
    assert_eq!(
        control
            .requests(Some("twilio"))
            .await
            .expect("requests")
            .len(),
        1
    );

    // Down once: the next attempt comes back through the queue after its delay.
    control
        .fail(&json!({"provider": "twilio", "status": 503, "times": 1}))
        .await
        .expect("fail");
    let (id, first) = reply_and_publish(&app, &bus, &sqs, &url, &conv, "Again").await;
    handle_then_acknowledge(&app, &sqs, &url, &first).await;
    let waiting = message(&app, &conv, &id).await;
    assert_eq!(waiting["delivery"]["status"], "pending");
    assert_eq!(
        waiting["delivery"]["error"]["code"], "20500",
        "Twilio's own code for a 503"
    );
    let second = receive(&sqs, &url, Duration::from_secs(20)).await;
    assert_eq!(
        second.records.len(),
        1,
        "the second attempt, after its delay"
    );
    handle_then_acknowledge(&app, &sqs, &url, &second).await;
    let sent = message(&app, &conv, &id).await;
    assert_eq!(sent["delivery"]["status"], "sent");
    assert_eq!(sent["delivery"]["attempts"], 2);
    assert_eq!(
        control
            .requests(Some("twilio"))
            .await
            .expect("requests")
            .len(),
        3
    );

    // A record that is no attempt is acknowledged, not retried.
    let junk = SqsEvent {
        records: vec![SqsMessage {
            message_id: Some("junk".into()),
            body: Some("{\"hello\": 1}".into()),
            ..Default::default()
        }],
    };
    assert!(
        send_worker(&app, &junk)
            .await
            .batch_item_failures
            .is_empty()
    );
}
