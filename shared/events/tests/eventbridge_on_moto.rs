//! The EventBridge adapter against moto: events reach a rule's SQS target.

mod common;
use common::event;

use aws_sdk_eventbridge::types::Target;
use inbox_domain::model::DomainEvent;
use inbox_events::{EventBridgeBus, EventBus};

async fn sdk_config() -> aws_config::SdkConfig {
    inbox_store::dynamo::testing::sdk_config().await
}

#[tokio::test]
async fn published_events_reach_a_rule_target() {
    let cfg = sdk_config().await;
    let eb = aws_sdk_eventbridge::Client::new(&cfg);
    let sqs = aws_sdk_sqs::Client::new(&cfg);
    let suffix = std::process::id();
    let bus_name = format!("inbox-test-{suffix}");
    eb.create_event_bus().name(&bus_name).send().await.unwrap();
    let queue = sqs
        .create_queue()
        .queue_name(format!("inbox-events-{suffix}"))
        .send()
        .await
        .unwrap();
    let queue_url = queue.queue_url().unwrap().to_string();
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap();
    let arn = attrs
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
        .unwrap()
        .clone();
    eb.put_rule()
        .name("all-inbox")
        .event_bus_name(&bus_name)
        .event_pattern(r#"{"source": ["inbox"]}"#)
        .send()
        .await
        .unwrap();
    eb.put_targets()
        .rule("all-inbox")
        .event_bus_name(&bus_name)
        .targets(Target::builder().id("q").arn(arn).build().unwrap())
        .send()
        .await
        .unwrap();

    let bus = EventBridgeBus::new(eb.clone(), &bus_name);
    // 12 events: more than one PutEvents call.
    let events: Vec<DomainEvent> = (0..12).map(event).collect();
    let failed = bus.publish(&events).await.unwrap();
    assert!(failed.is_empty());

    let mut bodies = Vec::new();
    for _ in 0..10 {
        let out = sqs
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        for m in out.messages() {
            bodies.push(serde_json::from_str::<serde_json::Value>(m.body().unwrap()).unwrap());
        }
        if bodies.len() >= 12 {
            break;
        }
    }
    assert_eq!(bodies.len(), 12);
    let first = &bodies[0];
    assert_eq!(first["source"], "inbox");
    assert_eq!(first["detail-type"], "ai.reply_requested");
    assert_eq!(first["detail"]["agent_id"], "max");
    assert_eq!(first["detail"]["trigger"], "contact_message");
}
