//! AI agents on the AWS path, on moto: a conversation handed to an LLM agent
//! with an initial message publishes `ai.reply_requested` from the outbox to
//! EventBridge, the template's rule puts it on the agents' queue, and the
//! `ai-agent` handler answers from the SQS record through the fake model;
//! the same records delivered again post nothing more.

mod common;

use common::{ok as call, receive, who};
use http::Method;
use inbox_domain::webhooks::UrlPolicy;
use inbox_http::App;
use inbox_runtime::agents::agent_worker;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_request_goes_through_the_rule_and_the_agents_queue_and_is_answered_once() {
    // The template's rule (infra/template.yaml, ReplyRequestsRule).
    let aws = common::RuleToQueue::new("agents", "ai.reply_requested").await;
    let (sqs, url) = (aws.sqs.clone(), aws.url.clone());

    let fakes = fake_providers::start().await.expect("fakes");
    let control = fake_providers::Control::new(&fakes);
    let (store, _counter) = inbox_store::dynamo::testing::fresh_store("agents")
        .await
        .expect("a table");
    // Loopback allowed: the fake model is on this machine (in AWS ai-agent
    // and the API refuse such URLs).
    let app = App::new(store)
        .with_webhooks(
            Arc::new(
                inbox_delivery::webhooks::HttpWebhooks::new(UrlPolicy::AllowLoopback)
                    .expect("a client"),
            ),
            inbox_domain::webhooks::RetrySchedule::CONTRACT,
        )
        .with_chat_model(Arc::new(
            inbox_delivery::model::OpenAiChat::new(UrlPolicy::AllowLoopback).expect("a client"),
        ));
    let bus = aws.bus();
    let (ada, bob) = (who("ada", "admin"), who("bob", "agent"));
    call(
        &app,
        &ada,
        Method::PUT,
        "/agents/max",
        json!({"name": "Max", "kind": "llm", "llm": {"base_url": format!("{fakes}/v1"),
               "model": "fake", "api_key": "sk-moto", "instructions": "You are Max."}}),
    )
    .await;
    let contact = call(
        &app,
        &bob,
        Method::POST,
        "/contacts",
        json!({"name": "Pat"}),
    )
    .await;
    let conv = call(
        &app,
        &bob,
        Method::POST,
        "/conversations",
        json!({"contact_id": contact["id"]}),
    )
    .await;
    let conv = conv["id"].as_str().expect("an id").to_string();
    call(
        &app,
        &bob,
        Method::POST,
        &format!("/conversations/{conv}/agent"),
        json!({"agent_id": "max", "send_initial_message": true}),
    )
    .await;
    inbox_events::drain_outbox(app.store(), &bus, 100)
        .await
        .expect("published");
    let event = receive(&sqs, &url, Duration::from_secs(10)).await;
    assert_eq!(event.records.len(), 1, "the rule queued the one request");

    assert!(
        agent_worker(&app, &event)
            .await
            .batch_item_failures
            .is_empty()
    );
    let ai = |messages: &Value| -> Vec<String> {
        messages["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["sender"]["kind"] == "ai_agent")
            .map(|m| m["body"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let path = format!("/conversations/{conv}/messages");
    let messages = call(&app, &bob, Method::GET, &path, Value::Null).await;
    assert_eq!(ai(&messages), ["Hello! How can I help?"]);
    let asked = control.requests(Some("model")).await.expect("requests");
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0]["headers"]["authorization"], "Bearer sk-moto");

    // The queue delivers the same record again: nothing more is posted.
    assert!(
        agent_worker(&app, &event)
            .await
            .batch_item_failures
            .is_empty()
    );
    let messages = call(&app, &bob, Method::GET, &path, Value::Null).await;
    assert_eq!(ai(&messages).len(), 1, "answered once");
}
