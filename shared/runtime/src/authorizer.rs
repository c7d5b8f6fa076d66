//! The HTTP API's Lambda authorizer: one function in front of every route but
//! the channel webhooks. It verifies the bearer credential with the same code
//! as the dev server ([`inbox_http::verify::verify_bearer`]): an API key by its
//! stored hash, or the identity provider's RS256 JWT against its JWKS. It hands
//! every function the same claims (`requestContext.authorizer.lambda`).
//!
//! It never answers `isAuthorized: false`: API Gateway would turn that into a
//! bare 403, where the contract says 401 `unauthenticated` with a problem
//! body. A refused credential is authorized with a context holding no claims
//! (only `refused`, for the access log), and the function answers the 401
//! itself, as it does for any request without verified claims. When the
//! credential cannot be checked (the table or the provider's keys are
//! unreachable) the invocation fails: API Gateway answers 500 and caches nothing.

use async_trait::async_trait;
use aws_lambda_events::apigw::{
    ApiGatewayV2CustomAuthorizerSimpleResponse, ApiGatewayV2CustomAuthorizerV2Request,
};
use inbox_domain::Timestamp;
use inbox_http::verify::{JwksSource, Refusal, TokenVerifier, verify_bearer};
use inbox_store::ApiKeyStore;
use jsonwebtoken::jwk::JwkSet;
use serde_json::{Map, Value};
use std::time::Duration;

/// The authorizer's answer: always authorized, with claims or without.
pub type AuthorizerResponse = ApiGatewayV2CustomAuthorizerSimpleResponse<Value>;

/// The credential could not be checked (not the caller's fault).
#[derive(Debug, thiserror::Error)]
#[error("the credential cannot be checked now: {0}")]
pub struct CheckUnavailable(pub String);

/// Answers one authorizer invocation.
pub async fn authorize<K, T>(
    req: &ApiGatewayV2CustomAuthorizerV2Request,
    keys: &K,
    tokens: &T,
    now: Timestamp,
) -> Result<AuthorizerResponse, CheckUnavailable>
where
    K: ApiKeyStore + ?Sized,
    T: TokenVerifier + ?Sized,
{
    let context = match inbox_http::bearer_token(&req.headers) {
        None => refused("no_bearer"),
        Some(credential) => match verify_bearer(credential, keys, tokens, now).await {
            Ok(claims) => claims.authorizer_context(),
            Err(Refusal::Unavailable(e)) => return Err(CheckUnavailable(e)),
            Err(e) => {
                tracing::info!(reason = e.reason(), "credential refused");
                refused(e.reason())
            }
        },
    };
    Ok(ApiGatewayV2CustomAuthorizerSimpleResponse {
        is_authorized: true,
        context: Value::Object(context),
    })
}

fn refused(reason: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("refused".into(), Value::from(reason));
    m
}

/// How long a key fetch may take (the authorizer's own timeout is 10 s).
const JWKS_TIMEOUT: Duration = Duration::from_secs(4);

/// An identity provider's keys over HTTPS: from `jwks_url` when set, else from
/// the `jwks_uri` of `{issuer}/.well-known/openid-configuration`.
pub struct HttpsJwks {
    client: reqwest::Client,
    issuer: String,
    jwks_url: Option<String>,
}

impl HttpsJwks {
    /// A source for `issuer`'s keys, built once per cold start.
    pub fn new(issuer: &str, jwks_url: Option<String>) -> Result<Self, reqwest::Error> {
        Ok(HttpsJwks {
            client: reqwest::Client::builder().timeout(JWKS_TIMEOUT).build()?,
            issuer: issuer.trim_end_matches('/').to_string(),
            jwks_url,
        })
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, String> {
        let resp = self
            .client
            .get(url)
            .send()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!("GET {url}: {}", resp.status()));
        }
        resp.json::<T>()
            .await
            .map_err(|e| format!("GET {url}: {e}"))
    }
}

#[derive(serde::Deserialize)]
struct Discovery {
    jwks_uri: String,
}

#[async_trait]
impl JwksSource for HttpsJwks {
    async fn fetch(&self) -> Result<JwkSet, String> {
        let url = match &self.jwks_url {
            Some(u) => u.clone(),
            None => {
                let d: Discovery = self
                    .get_json(&format!("{}/.well-known/openid-configuration", self.issuer))
                    .await?;
                d.jwks_uri
            }
        };
        self.get_json(&url).await
    }
}
