//! AI agents on the AWS path, on moto: a conversation handed to an LLM agent
//! with an initial message publishes `ai.reply_requested` from the outbox to
//! EventBridge, the template's rule puts it on the agents' queue, and the
//! `ai-agent` handler answers from the SQS record through the fake model;
//! the same records delivered again post nothing more.

mod common;

use aws_sdk_eventbridge::types::Target;
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
    let cfg = inbox_store::dynamo::testing::sdk_config().await;
    let (eb, sqs) = (
        aws_sdk_eventbridge::Client::new(&cfg),
        aws_sdk_sqs::Client::new(&cfg),
    );
    let suffix = format!(
        "{}-{}",
        std::process::id(),
        inbox_store::dynamo::testing::unique_table_name("a")
    );
    let bus_name = format!("inbox-agents-{suffix}");
    eb.create_event_bus()
        .name(&bus_name)
        .send()
        .await
        .expect("bus");
    let url = sqs
        .create_queue()
        .queue_name(format!("inbox-agents-{}", std::process::id()))
        .send()
        .await
        .expect("queue")
        .queue_url()
        .expect("a url")
        .to_string();
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("attributes")
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
        .cloned()
        .expect("an arn");
    // The template's rule (infra/template.yaml, ReplyRequestsRule).
    eb.put_rule()
        .name("reply-requests")
        .event_bus_name(&bus_name)
        .event_pattern(r#"{"source": ["inbox"], "detail-type": ["ai.reply_requested"]}"#)
        .send()
        .await
        .expect("rule");
    eb.put_targets()
        .rule("reply-requests")
        .event_bus_name(&bus_name)
        .targets(
            Target::builder()
                .id("agent-queue")
                .arn(arn)
                .build()
                .expect("target"),
        )
        .send()
        .await
        .expect("target");

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
    let bus = inbox_events::EventBridgeBus::new(eb.clone(), &bus_name);
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
