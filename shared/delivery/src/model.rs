//! The OpenAI-compatible Chat Completions client behind
//! [`inbox_app::ChatModel`]: `POST {base_url}/chat/completions`
//! (non-streaming) with the prompt and the `handoff` tool, the one wire
//! format OpenAI, Azure OpenAI, Amazon Bedrock's OpenAI-compatible
//! endpoint, vLLM, Ollama and llama.cpp servers all speak.

use crate::webhooks::GuardedResolver;
use async_trait::async_trait;
use inbox_app::ChatModel;
use inbox_domain::llm::{
    HANDOFF_TOOL, ModelAnswer, ModelEndpoint, ModelFailure, Turn, read_answer,
};
use inbox_domain::webhooks::{UrlPolicy, WebhookUrl};
use serde_json::{Value, json};
use std::time::Duration;

/// How long connecting to a model's API may take (the agent's timeout
/// bounds the whole request).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The most of an error body kept in a failure's message.
const MESSAGE_LIMIT: usize = 300;

/// Calls Chat Completions APIs with one pooled client.
#[derive(Debug, Clone)]
pub struct OpenAiChat {
    client: reqwest::Client,
    policy: UrlPolicy,
}

impl OpenAiChat {
    /// A client with its connect timeout (each request has the agent's own
    /// timeout). Under [`UrlPolicy::PublicOnly`] (AWS) names resolve only to
    /// public addresses and redirects are not followed, as for outgoing
    /// webhooks: a model's answer is posted to the contact, so a base URL
    /// must never reach into the VPC.
    pub fn new(policy: UrlPolicy) -> Result<Self, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("inbox-ai-agents/1");
        if policy == UrlPolicy::PublicOnly {
            builder = builder.dns_resolver(std::sync::Arc::new(GuardedResolver));
        }
        Ok(OpenAiChat {
            client: builder.build()?,
            policy,
        })
    }
}

/// The request body: the turns, the handoff tool, the model's choice of it.
pub fn request_body(model: &str, turns: &[Turn]) -> Value {
    let messages: Vec<Value> = turns
        .iter()
        .map(|t| json!({"role": t.role.as_str(), "content": t.content}))
        .collect();
    json!({
        "model": model,
        "messages": messages,
        "tools": [{
            "type": "function",
            "function": {
                "name": HANDOFF_TOOL,
                "description": "Hand the conversation to a person on the team: when the contact asks for a human, or when you cannot help.",
                "parameters": {
                    "type": "object",
                    "properties": {"reason": {"type": "string", "description": "Why, in a few words."}},
                    "required": ["reason"]
                }
            }
        }],
        "tool_choice": "auto"
    })
}

/// Reads a 2xx body: the first choice's text or tool calls. A tool call's
/// `arguments` is a JSON string by the spec; an object (as some servers
/// send) is read too.
pub fn read_body(body: &Value) -> Result<ModelAnswer, ModelFailure> {
    let message = body["choices"]
        .get(0)
        .map(|c| &c["message"])
        .filter(|m| m.is_object())
        .ok_or_else(|| ModelFailure::Malformed("no choices in the answer".into()))?;
    let calls: Vec<(String, Option<String>)> = message["tool_calls"]
        .as_array()
        .map(|calls| {
            calls
                .iter()
                .map(|c| {
                    let name = c["function"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    let args = match &c["function"]["arguments"] {
                        Value::String(s) => serde_json::from_str::<Value>(s).unwrap_or(Value::Null),
                        other => other.clone(),
                    };
                    (name, args["reason"].as_str().map(str::to_string))
                })
                .collect()
        })
        .unwrap_or_default();
    read_answer(message["content"].as_str(), &calls)
}

fn clipped(text: &str) -> String {
    text.chars().take(MESSAGE_LIMIT).collect()
}

#[async_trait]
impl ChatModel for OpenAiChat {
    async fn complete(
        &self,
        endpoint: &ModelEndpoint,
        turns: &[Turn],
    ) -> Result<ModelAnswer, ModelFailure> {
        let url = format!(
            "{}/chat/completions",
            endpoint.base_url.trim_end_matches('/')
        );
        // Checked when the agent was saved; again here (a literal address, a stricter policy).
        if WebhookUrl::parse(&url, self.policy).is_err() {
            return Err(ModelFailure::Status {
                status: 400,
                message: "the model's URL is not allowed here".into(),
                retry_after: None,
            });
        }
        let sent = self
            .client
            .post(url)
            .bearer_auth(&endpoint.api_key)
            .timeout(Duration::from_secs(endpoint.timeout_seconds.max(1)))
            .json(&request_body(&endpoint.model, turns))
            .send()
            .await;
        let resp = match sent {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return Err(ModelFailure::Timeout),
            Err(e) => return Err(ModelFailure::Unreachable(clipped(&e.to_string()))),
        };
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let text = match resp.text().await {
            Ok(t) => t,
            Err(e) if e.is_timeout() => return Err(ModelFailure::Timeout),
            Err(e) => return Err(ModelFailure::Unreachable(clipped(&e.to_string()))),
        };
        let body: Option<Value> = serde_json::from_str(&text).ok();
        if !(200..300).contains(&status) {
            let message = body
                .as_ref()
                .and_then(|b| b["error"]["message"].as_str())
                .map(clipped)
                .unwrap_or_else(|| clipped(&text));
            return Err(ModelFailure::Status {
                status,
                message,
                retry_after,
            });
        }
        let body = body.ok_or_else(|| ModelFailure::Malformed("the answer is not JSON".into()))?;
        read_body(&body)
    }
}
