//! Outgoing webhooks over HTTPS: Standard Webhooks signing (with the
//! `standardwebhooks` crate, so any of that specification's libraries
//! verifies what we send), one POST per attempt, and a guard that never
//! connects to a non-public address where the policy forbids it: names are
//! resolved by our own resolver, which drops such addresses, so the
//! connection goes only to an address that was checked (no DNS rebinding
//! between a check and the connect).

use async_trait::async_trait;
use inbox_app::{CallAnswer, MAX_ANSWER_BYTES, WebhookPost, WebhookTransport};
use inbox_domain::webhooks::{
    AttemptOutcome, RESPONSE_TIMEOUT_SECONDS, UrlPolicy, WebhookUrl, is_forbidden_address,
};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// The three Standard Webhooks headers of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// `webhook-id`: the event's id.
    pub id: String,
    /// `webhook-timestamp`: Unix seconds.
    pub timestamp: String,
    /// `webhook-signature`: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
    pub signature: String,
}

/// The secret is not `whsec_` + base64, or the body is not UTF-8.
#[derive(Debug, thiserror::Error)]
#[error("cannot sign: {0}")]
pub struct SignError(String);

/// Signs `body` for `event_id` at `unix_seconds` with a `whsec_…` secret.
pub fn sign(
    secret: &str,
    event_id: &str,
    unix_seconds: i64,
    body: &str,
) -> Result<SignedHeaders, SignError> {
    let hook = standardwebhooks::Webhook::new(secret).map_err(|e| SignError(e.to_string()))?;
    let signature = hook
        .sign(event_id, unix_seconds, body.as_bytes())
        .map_err(|e| SignError(e.to_string()))?;
    Ok(SignedHeaders {
        id: event_id.to_string(),
        timestamp: unix_seconds.to_string(),
        signature,
    })
}

/// Resolves names with the system resolver and keeps only the addresses
/// the policy allows; a name with none left fails to resolve.
pub(crate) struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_string();
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)?
                .collect();
            let allowed: Vec<SocketAddr> = all
                .into_iter()
                .filter(|a| !is_forbidden_address(a.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(format!("{host} resolves only to non-public addresses").into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// Posts signed events with one pooled client.
#[derive(Debug, Clone)]
pub struct HttpWebhooks {
    client: reqwest::Client,
    policy: UrlPolicy,
}

impl HttpWebhooks {
    /// A transport under `policy`: with [`UrlPolicy::PublicOnly`] (AWS)
    /// every name is resolved through the guard and redirects are not
    /// followed (a redirect could point anywhere).
    pub fn new(policy: UrlPolicy) -> Result<Self, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(RESPONSE_TIMEOUT_SECONDS))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("inbox-webhooks/1");
        if policy == UrlPolicy::PublicOnly {
            builder = builder.dns_resolver(Arc::new(GuardedResolver));
        }
        Ok(HttpWebhooks {
            client: builder.build()?,
            policy,
        })
    }
}

#[async_trait]
impl WebhookTransport for HttpWebhooks {
    fn policy(&self) -> UrlPolicy {
        self.policy
    }

    async fn post(&self, post: &WebhookPost<'_>) -> AttemptOutcome {
        match self.send(post).await {
            Some(resp) if resp.status().is_success() => {
                AttemptOutcome::Accepted(resp.status().as_u16())
            }
            Some(resp) => AttemptOutcome::Refused(resp.status().as_u16()),
            None => AttemptOutcome::NoAnswer,
        }
    }

    async fn call(&self, post: &WebhookPost<'_>) -> CallAnswer {
        let Some(mut resp) = self.send(post).await else {
            return CallAnswer::NoAnswer;
        };
        let status = resp.status().as_u16();
        let mut body: Vec<u8> = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    let room = MAX_ANSWER_BYTES.saturating_sub(body.len());
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    if body.len() >= MAX_ANSWER_BYTES {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    // The answer was cut off (a timeout mid-body): no answer.
                    tracing::info!(error = %e, "webhook answer not read");
                    return CallAnswer::NoAnswer;
                }
            }
        }
        CallAnswer::Answered {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }
}

impl HttpWebhooks {
    /// One signed POST; `None` when it got no answer.
    async fn send(&self, post: &WebhookPost<'_>) -> Option<reqwest::Response> {
        // The URL was checked when it was saved; check it again (a policy
        // stricter than the one it was saved under, a literal address).
        if WebhookUrl::parse(post.url, self.policy).is_err() {
            tracing::warn!(url = post.url, "webhook URL refused by the address guard");
            return None;
        }
        let headers = match sign(post.secret, post.event_id, post.unix_now, post.body) {
            Ok(h) => h,
            Err(e) => {
                tracing::error!(error = %e, "webhook not signed");
                return None;
            }
        };
        let sent = self
            .client
            .post(post.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", headers.id)
            .header("webhook-timestamp", headers.timestamp)
            .header("webhook-signature", headers.signature)
            .body(post.body.to_string())
            .send()
            .await;
        match sent {
            Ok(resp) => Some(resp),
            Err(e) => {
                tracing::info!(error = %e, "webhook attempt got no answer");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_like_the_specifications_published_vector() {
        let h = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            r#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(
            h.signature,
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        assert_eq!(h.timestamp, "1614265330");
        assert!(sign("whsec_not base64!", "m", 1, "{}").is_err());
    }

    #[tokio::test]
    async fn the_guard_never_connects_to_a_private_address() {
        let aws = HttpWebhooks::new(UrlPolicy::PublicOnly).unwrap();
        for url in [
            "http://169.254.169.254/latest/meta-data",
            "https://169.254.169.254/",
            "https://127.0.0.1:9/",
            "https://localhost:9/",
        ] {
            let out = aws
                .post(&WebhookPost {
                    url,
                    secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                    event_id: "evt_1",
                    body: "{}",
                    unix_now: 1,
                })
                .await;
            assert_eq!(out, AttemptOutcome::NoAnswer, "{url}");
        }
        // A name that resolves to loopback only is refused by the resolver.
        let resolved = GuardedResolver.resolve("localhost".parse().unwrap()).await;
        assert!(resolved.is_err());
    }
}
