//! An OpenAI-compatible Chat Completions endpoint
//! (`POST /v1/chat/completions`, non-streaming), the one wire format that
//! OpenAI, Azure OpenAI, Bedrock's OpenAI-compatible endpoint, vLLM, Ollama
//! and llama.cpp servers all speak. Its answers are deterministic, from the
//! conversation's last `user` message:
//!
//! - a message that mentions a human ("human", "person", "agent") while the
//!   request offers a `handoff` tool: a `tool_calls` answer calling it with
//!   `{"reason": "The contact asked for a human."}`;
//! - otherwise the text `Max here. You said: <the message>`;
//! - no `user` message: `Hello! How can I help?`.
//!
//! A request without `Authorization: Bearer …` is 401 as OpenAI answers it;
//! one that is not a chat completion request is 400. `POST /_fake/fail`
//! with `provider: "model"` makes the next answers fail with that status
//! (OpenAI's error body; `retry_after` as a `Retry-After` header), or, with
//! `code: "malformed"`, answer 200 with a body that is no completion.
//! `POST /_fake/delay` with `provider: "model"` holds the next answers back.

use crate::Shared;
use crate::providers::{Call, answer, unix_now};
use crate::state::Provider;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use http::HeaderMap;
use serde_json::{Value, json};

/// The words that make the fake ask for a human.
const HUMAN_WORDS: [&str; 3] = ["human", "person", "agent"];

fn error(kind: &str, code: Option<&str>, message: &str) -> Value {
    json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
}

/// `POST /v1/chat/completions`.
pub(crate) async fn chat_completions(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = Call {
        state: &state,
        provider: Provider::Model,
        path: "/v1/chat/completions".into(),
        headers: &headers,
        body: &body,
    };
    state.hold(Provider::Model).await;
    let bearer = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|k| !k.trim().is_empty());
    if !bearer {
        let e = error(
            "invalid_request_error",
            Some("invalid_api_key"),
            "You didn't provide an API key.",
        );
        return call.done(401, None, answer(401, e, None));
    }
    if let Some(f) = state.take_failure(Provider::Model) {
        if f.code.as_deref() == Some("malformed") {
            return call.done(
                200,
                None,
                answer(
                    200,
                    json!({"object": "chat.completion", "choices": []}),
                    None,
                ),
            );
        }
        let kind = if f.status == 429 {
            "rate_limit_exceeded"
        } else {
            "server_error"
        };
        let e = error(
            kind,
            f.code.as_deref(),
            f.message_or("The server had an error while processing your request."),
        );
        return call.done(f.status, None, answer(f.status, e, f.retry_after));
    }
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => {
            let e = error(
                "invalid_request_error",
                None,
                "We could not parse the JSON body of your request.",
            );
            return call.done(400, None, answer(400, e, None));
        }
    };
    let (Some(model), Some(messages)) = (request["model"].as_str(), request["messages"].as_array())
    else {
        let e = error(
            "invalid_request_error",
            None,
            "you must provide a model parameter and messages",
        );
        return call.done(400, None, answer(400, e, None));
    };
    let last_user = messages
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .and_then(|m| m["content"].as_str());
    let offers_handoff = request["tools"]
        .as_array()
        .is_some_and(|tools| tools.iter().any(|t| t["function"]["name"] == "handoff"));
    let wants_human = last_user.is_some_and(|text| {
        let text = text.to_lowercase();
        HUMAN_WORDS.iter().any(|w| text.contains(w))
    });
    let n = state.next();
    let (message, finish) = if wants_human && offers_handoff {
        (
            json!({"role": "assistant", "content": null, "tool_calls": [{
                "id": format!("call_{n}"), "type": "function",
                "function": {"name": "handoff", "arguments": json!({"reason": "The contact asked for a human."}).to_string()}
            }]}),
            "tool_calls",
        )
    } else {
        let text = match last_user {
            Some(t) => format!("Max here. You said: {t}"),
            None => "Hello! How can I help?".to_string(),
        };
        (json!({"role": "assistant", "content": text}), "stop")
    };
    let words = |v: &Value| v.to_string().split_whitespace().count();
    let (prompt, completion) = (words(&request["messages"]), words(&message));
    let out = json!({
        "id": format!("chatcmpl-{n}"),
        "object": "chat.completion",
        "created": unix_now(),
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    });
    call.done(200, Some(format!("chatcmpl-{n}")), answer(200, out, None))
}
