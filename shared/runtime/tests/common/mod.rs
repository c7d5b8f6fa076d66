//! What the SQS tests on moto share: an authorizer's identity, and a queue's
//! records as the Lambda service would hand them over.

#![allow(dead_code)]

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use inbox_http::Identity;
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
