//! What the tests on moto share: an authorizer's identity, calls through
//! the contract's handler, and a queue's or the table stream's records as
//! the Lambda service would hand them over.

#![allow(dead_code)]

use aws_lambda_events::event::dynamodb::{Event as StreamEvent, EventRecord};
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use aws_sdk_dynamodb::types::AttributeValue;
use http::{HeaderValue, Method};
use inbox_http::{ApiRequest, App, Identity, handle};
use inbox_store::Store;
use inbox_store::dynamo::DynamoStore;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A caller in workspace `acme`, as the authorizer passes it on.
pub fn who(sub: &str, role: &str) -> Identity {
    Identity::Verified(inbox_http::Claims {
        sub: sub.to_string(),
        workspace_id: "acme".to_string(),
        role: role.to_string(),
        name: None,
    })
}

/// A webhook queue where nothing may be queued: no endpoint is subscribed.
pub struct NothingQueued;

#[async_trait::async_trait]
impl inbox_app::WebhookQueue for NothingQueued {
    async fn enqueue(&self, tasks: &[inbox_app::WebhookTask]) -> Result<(), inbox_app::AppError> {
        assert!(tasks.is_empty(), "no endpoint, no task: {tasks:?}");
        Ok(())
    }
}

/// A bus, a queue and the template's rule from one to the other for
/// events of `detail_type`, made fresh on moto for one test.
pub struct RuleToQueue {
    /// EventBridge.
    pub eb: aws_sdk_eventbridge::Client,
    /// SQS.
    pub sqs: aws_sdk_sqs::Client,
    /// The bus's name.
    pub bus_name: String,
    /// The queue's URL.
    pub url: String,
}

impl RuleToQueue {
    /// Makes them, named after `stem`.
    pub async fn new(stem: &str, detail_type: &str) -> RuleToQueue {
        let cfg = inbox_store::dynamo::testing::sdk_config().await;
        let (eb, sqs) = (
            aws_sdk_eventbridge::Client::new(&cfg),
            aws_sdk_sqs::Client::new(&cfg),
        );
        let suffix = format!(
            "{}-{}",
            std::process::id(),
            inbox_store::dynamo::testing::unique_table_name("r")
        );
        let bus_name = format!("inbox-{stem}-{suffix}");
        eb.create_event_bus()
            .name(&bus_name)
            .send()
            .await
            .expect("bus");
        let url = sqs
            .create_queue()
            .queue_name(format!("inbox-{stem}-{}", std::process::id()))
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
        eb.put_rule()
            .name(stem)
            .event_bus_name(&bus_name)
            .event_pattern(json!({"source": ["inbox"], "detail-type": [detail_type]}).to_string())
            .send()
            .await
            .expect("rule");
        eb.put_targets()
            .rule(stem)
            .event_bus_name(&bus_name)
            .targets(
                aws_sdk_eventbridge::types::Target::builder()
                    .id(format!("{stem}-queue"))
                    .arn(arn)
                    .build()
                    .expect("target"),
            )
            .send()
            .await
            .expect("target");
        RuleToQueue {
            eb,
            sqs,
            bus_name,
            url,
        }
    }

    /// The bus as the publisher writes to it.
    pub fn bus(&self) -> inbox_events::EventBridgeBus {
        inbox_events::EventBridgeBus::new(self.eb.clone(), &self.bus_name)
    }
}

/// What the queue holds now (waiting up to `patience` for the first record).
pub async fn receive(sqs: &aws_sdk_sqs::Client, url: &str, patience: Duration) -> SqsEvent {
    let deadline = Instant::now() + patience;
    loop {
        let out = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
            .send()
            .await
            .expect("receive");
        if !out.messages().is_empty() || Instant::now() > deadline {
            return SqsEvent {
                records: out
                    .messages()
                    .iter()
                    .map(|m| SqsMessage {
                        message_id: m.message_id().map(str::to_string),
                        receipt_handle: m.receipt_handle().map(str::to_string),
                        body: m.body().map(str::to_string),
                        // As Lambda hands them over: `MessageGroupId` on FIFO queues.
                        attributes: m
                            .attributes()
                            .map(|a| {
                                a.iter()
                                    .map(|(k, v)| (k.as_str().to_string(), v.clone()))
                                    .collect()
                            })
                            .unwrap_or_default(),
                        ..Default::default()
                    })
                    .collect(),
            };
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// One request through the contract's handler as `by`: status and body text.
pub async fn call_text<S: Store>(
    app: &App<S>,
    by: &Identity,
    method: Method,
    path: &str,
    body: Value,
) -> (u16, String) {
    let mut req = ApiRequest::new(method, path, by.clone());
    if !body.is_null() {
        req.headers
            .insert("content-type", HeaderValue::from_static("application/json"));
        req.body = body.to_string().into();
    }
    let resp = handle(app, req).await;
    let text = String::from_utf8_lossy(resp.body.as_bytes()).into_owned();
    (resp.status.as_u16(), text)
}

/// One request through the contract's handler as `by`: status and JSON body.
pub async fn call<S: Store>(
    app: &App<S>,
    by: &Identity,
    method: Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let (status, text) = call_text(app, by, method, path, body).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// [`call`], asserting a 2xx; the body.
pub async fn ok<S: Store>(
    app: &App<S>,
    by: &Identity,
    method: Method,
    path: &str,
    body: Value,
) -> Value {
    let (status, body) = call(app, by, method, path, body).await;
    assert!((200..300).contains(&status), "{path}: {status} {body}");
    body
}

/// The stream records the conversation's items make, in commit order, as
/// the table stream carries them (`INSERT` of every timeline event and message).
pub async fn stream_of(store: &DynamoStore, ws: &str, conv: &str) -> StreamEvent {
    let out = store
        .client()
        .query()
        .table_name(store.table_name())
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(format!("WS#{ws}#CONV#{conv}")))
        .send()
        .await
        .expect("the conversation's items");
    let mut items: Vec<HashMap<String, AttributeValue>> = out.items().to_vec();
    // Commit order: by version, then position (timeline events before messages of a write).
    let order = |i: &HashMap<String, AttributeValue>| -> (String, u8) {
        let sk = i["sk"].as_s().cloned().unwrap_or_default();
        let (prefix, rest) = sk.split_at(4.min(sk.len()));
        (rest.to_string(), if prefix == "EVT#" { 0 } else { 1 })
    };
    items.retain(|i| {
        i.get("entity")
            .and_then(|e| e.as_s().ok())
            .is_some_and(|e| e == "timeline" || e == "message")
    });
    items.sort_by_key(order);
    StreamEvent {
        records: items
            .into_iter()
            .enumerate()
            .map(|(n, item)| record("INSERT", n, item))
            .collect(),
    }
}

/// One table-stream record of `item`, the `n`th of its batch.
pub fn record(name: &str, n: usize, item: HashMap<String, AttributeValue>) -> EventRecord {
    let image = serde_json::to_value(serde_dynamo::Item::from(item)).expect("an image");
    serde_json::from_value(json!({
        "eventID": format!("e{n}"),
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1_764_000_000,
            "Keys": {},
            "NewImage": image,
            "SequenceNumber": format!("{:021}", n + 1),
            "SizeBytes": 100,
            "StreamViewType": "NEW_IMAGE"
        }
    }))
    .expect("a stream record")
}
