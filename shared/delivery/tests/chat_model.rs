//! The Chat Completions client against the fake OpenAI-compatible server:
//! the prompt and the handoff tool go out as the API expects, a text answer
//! is a reply, a `handoff` call a request for a human, and every failure
//! (a refusal, an outage, a rate limit, a malformed answer, slowness, no
//! server at all) is a typed failure that says whether to try again.

use inbox_app::ChatModel;
use inbox_delivery::model::OpenAiChat;
use inbox_domain::llm::{ModelAnswer, ModelEndpoint, ModelFailure, Role, Turn};
use inbox_domain::webhooks::UrlPolicy;
use serde_json::{Value, json};

fn endpoint(base: &str, timeout_seconds: u64) -> ModelEndpoint {
    ModelEndpoint {
        base_url: format!("{base}/v1"),
        model: "gpt-4o-mini".into(),
        api_key: "sk-test".into(),
        timeout_seconds,
    }
}

fn turns(last: &str) -> Vec<Turn> {
    vec![
        Turn {
            role: Role::System,
            content: "You are Max, the assistant of Acme.".into(),
        },
        Turn {
            role: Role::User,
            content: "Hi".into(),
        },
        Turn {
            role: Role::Assistant,
            content: "Hello! How can I help?".into(),
        },
        Turn {
            role: Role::User,
            content: last.into(),
        },
    ]
}

async fn fail(base: &str, failure: Value) {
    fake_providers::Control::new(base)
        .fail(&failure)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_text_answer_is_a_reply_and_the_request_is_the_apis() {
    let base = fake_providers::start().await.unwrap();
    let model = OpenAiChat::new(UrlPolicy::AllowLoopback).unwrap();
    let answer = model
        .complete(&endpoint(&base, 20), &turns("Where is my order?"))
        .await;
    assert_eq!(
        answer,
        Ok(ModelAnswer::Reply(
            "Max here. You said: Where is my order?".into()
        ))
    );
    let seen = fake_providers::Control::new(&base)
        .requests(Some("model"))
        .await
        .unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["path"], "/v1/chat/completions");
    assert_eq!(seen[0]["headers"]["authorization"], "Bearer sk-test");
    let sent: Value = serde_json::from_str(seen[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(sent["model"], "gpt-4o-mini");
    assert_eq!(
        sent["messages"],
        json!([
            {"role": "system", "content": "You are Max, the assistant of Acme."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello! How can I help?"},
            {"role": "user", "content": "Where is my order?"}
        ])
    );
    assert_eq!(sent["tools"][0]["function"]["name"], "handoff");
    assert_eq!(
        sent["tools"][0]["function"]["parameters"]["required"],
        json!(["reason"])
    );
}

#[tokio::test]
async fn a_handoff_call_is_a_request_for_a_human_with_its_reason() {
    let base = fake_providers::start().await.unwrap();
    let model = OpenAiChat::new(UrlPolicy::AllowLoopback).unwrap();
    let answer = model
        .complete(&endpoint(&base, 20), &turns("Can I talk to a human?"))
        .await;
    assert_eq!(
        answer,
        Ok(ModelAnswer::Handoff {
            reason: Some("The contact asked for a human.".into())
        })
    );
}

#[tokio::test]
async fn failures_are_typed_and_say_whether_to_try_again() {
    let base = fake_providers::start().await.unwrap();
    let model = OpenAiChat::new(UrlPolicy::AllowLoopback).unwrap();
    let ep = endpoint(&base, 20);

    let no_key = ModelEndpoint {
        api_key: String::new(),
        ..ep.clone()
    };
    let refused = model.complete(&no_key, &turns("Hi")).await.unwrap_err();
    assert!(
        matches!(&refused, ModelFailure::Status { status: 401, message, .. } if message.contains("API key")),
        "{refused:?}"
    );
    assert!(!refused.is_retryable(), "a wrong key stays wrong");

    fail(
        &base,
        json!({"provider": "model", "status": 503, "times": 1}),
    )
    .await;
    let down = model.complete(&ep, &turns("Hi")).await.unwrap_err();
    assert!(
        matches!(down, ModelFailure::Status { status: 503, .. }) && down.is_retryable(),
        "{down:?}"
    );

    fail(
        &base,
        json!({"provider": "model", "status": 429, "times": 1, "retry_after": 7}),
    )
    .await;
    let limited = model.complete(&ep, &turns("Hi")).await.unwrap_err();
    assert!(
        matches!(
            limited,
            ModelFailure::Status {
                status: 429,
                retry_after: Some(7),
                ..
            }
        ),
        "{limited:?}"
    );
    assert!(limited.is_retryable());

    fail(
        &base,
        json!({"provider": "model", "status": 200, "times": 1, "code": "malformed"}),
    )
    .await;
    let odd = model.complete(&ep, &turns("Hi")).await.unwrap_err();
    assert!(
        matches!(odd, ModelFailure::Malformed(_)) && odd.is_retryable(),
        "{odd:?}"
    );

    reqwest::Client::new()
        .post(format!("{base}/_fake/delay"))
        .json(&json!({"provider": "model", "ms": 2_500, "times": 1}))
        .send()
        .await
        .unwrap();
    let slow = model
        .complete(&endpoint(&base, 1), &turns("Hi"))
        .await
        .unwrap_err();
    assert_eq!(slow, ModelFailure::Timeout);

    // Nothing listens there.
    let gone = ModelEndpoint {
        base_url: "http://127.0.0.1:9/v1".into(),
        ..ep.clone()
    };
    let unreachable = model.complete(&gone, &turns("Hi")).await.unwrap_err();
    assert!(
        matches!(unreachable, ModelFailure::Unreachable(_)) && unreachable.is_retryable(),
        "{unreachable:?}"
    );

    assert!(
        model.complete(&ep, &turns("Hi")).await.is_ok(),
        "and then it answers again"
    );
}

#[test]
fn tool_arguments_are_read_as_a_string_or_an_object() {
    use inbox_delivery::model::read_body;
    let with = |args: Value| {
        json!({"choices": [{"message": {"role": "assistant", "content": null,
        "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "handoff", "arguments": args}}]}}]})
    };
    let reason = Some("billing".to_string());
    assert_eq!(
        read_body(&with(json!("{\"reason\": \"billing\"}"))),
        Ok(ModelAnswer::Handoff {
            reason: reason.clone()
        })
    );
    assert_eq!(
        read_body(&with(json!({"reason": "billing"}))),
        Ok(ModelAnswer::Handoff { reason })
    );
    assert_eq!(
        read_body(&with(json!("not json"))),
        Ok(ModelAnswer::Handoff { reason: None })
    );
    assert!(matches!(
        read_body(&json!({"choices": []})),
        Err(ModelFailure::Malformed(_))
    ));
}
