//! Bearer verification, one code path for the dev server and the AWS
//! authorizer: an API key (`ibx_…`, checked against its stored hash) or a
//! token, verified by the deployment's [`TokenVerifier`]: the dev server's
//! HS256 secret ([`DevTokens`]) or an identity provider's RS256 keys
//! ([`OidcTokens`], its JWKS fetched at cold start and on an unknown `kid`).

use crate::auth::{AuthError, Claims, claims_from_json, claims_from_jwt};
use async_trait::async_trait;
use inbox_app::KeyRefused;
use inbox_domain::Timestamp;
use inbox_domain::api_keys::SECRET_PREFIX;
use inbox_store::ApiKeyStore;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// Verifies a bearer token that is not an API key.
#[async_trait]
pub trait TokenVerifier: Send + Sync {
    /// The token's claims, or why it is refused.
    async fn verify(&self, token: &str) -> Result<Claims, AuthError>;
}

/// The dev server's tokens: HS256 with its own secret ([`claims_from_jwt`]).
pub struct DevTokens<'a>(pub &'a [u8]);

#[async_trait]
impl TokenVerifier for DevTokens<'_> {
    async fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        claims_from_jwt(token, self.0)
    }
}

/// Why a bearer credential was refused.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The API key is malformed, unknown, revoked or wrong (401).
    #[error("API key refused")]
    Key,
    /// The token failed verification (401).
    #[error(transparent)]
    Token(AuthError),
    /// Verification could not be done: the key store or the identity
    /// provider's keys could not be read. Not the caller's fault: retry.
    #[error("credentials cannot be checked now: {0}")]
    Unavailable(String),
}

impl Refusal {
    /// A short, non-revealing reason for logs (`invalid_key`, `invalid_token`, `unavailable`).
    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::Key => "invalid_key",
            Refusal::Token(_) => "invalid_token",
            Refusal::Unavailable(_) => "unavailable",
        }
    }
}

/// The claims a bearer credential acts with: an API key by its hash, anything
/// else by `tokens`. A key's use is recorded at most once a minute.
pub async fn verify_bearer<K, T>(
    credential: &str,
    keys: &K,
    tokens: &T,
    now: Timestamp,
) -> Result<Claims, Refusal>
where
    K: ApiKeyStore + ?Sized,
    T: TokenVerifier + ?Sized,
{
    if credential.starts_with(SECRET_PREFIX) {
        return match inbox_app::authenticate_api_key(keys, credential, now).await {
            Ok(key) => Ok(Claims::of_api_key(&key)),
            Err(KeyRefused::Invalid) => Err(Refusal::Key),
            Err(KeyRefused::Unavailable(e)) => Err(Refusal::Unavailable(e)),
        };
    }
    tokens.verify(credential).await.map_err(|e| match e {
        AuthError::KeysUnavailable(e) => Refusal::Unavailable(e),
        e => Refusal::Token(e),
    })
}

/// Where an identity provider's signing keys come from (HTTPS in AWS, a fixture in tests).
#[async_trait]
pub trait JwksSource: Send + Sync {
    /// The current key set.
    async fn fetch(&self) -> Result<JwkSet, String>;
}

/// What an identity provider's tokens must say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerPolicy {
    /// The exact `iss`.
    pub issuer: String,
    /// Accepted audiences: the token's `aud` (or one of them) or `client_id`
    /// (Cognito access tokens) must be one of these.
    pub audiences: Vec<String>,
}

/// The least time between two key fetches caused by unknown `kid`s, so a
/// stream of forged tokens cannot make every request fetch the JWKS.
pub const MIN_JWKS_REFRESH: Duration = Duration::from_secs(30);

#[derive(Default)]
struct KeyCache {
    set: Option<JwkSet>,
    fetched_at: Option<Instant>,
}

/// RS256 tokens of one identity provider (Cognito or any OpenID provider):
/// signature by a key of its JWKS, `iss`, audience, `exp` (required, no
/// leeway) and `nbf`. Every other algorithm is refused, whatever the header says.
pub struct OidcTokens<J> {
    policy: IssuerPolicy,
    source: J,
    cache: RwLock<KeyCache>,
    min_refresh: Duration,
}

impl<J: JwksSource> OidcTokens<J> {
    /// A verifier that has fetched nothing yet.
    pub fn new(policy: IssuerPolicy, source: J) -> Self {
        OidcTokens {
            policy,
            source,
            cache: RwLock::new(KeyCache::default()),
            min_refresh: MIN_JWKS_REFRESH,
        }
    }

    /// The same, refetching on an unknown `kid` at most once per `interval`
    /// (tests shorten [`MIN_JWKS_REFRESH`]).
    pub fn with_min_refresh(mut self, interval: Duration) -> Self {
        self.min_refresh = interval;
        self
    }

    /// Fetches the keys now (a cold start does, so the first request does not wait).
    pub async fn refresh(&self) -> Result<(), AuthError> {
        let set = self
            .source
            .fetch()
            .await
            .map_err(AuthError::KeysUnavailable)?;
        if let Ok(mut cache) = self.cache.write() {
            cache.set = Some(set);
            cache.fetched_at = Some(Instant::now());
        }
        Ok(())
    }

    fn key_for(&self, kid: &str) -> Result<Option<DecodingKey>, AuthError> {
        let cache = self
            .cache
            .read()
            .map_err(|_| AuthError::KeysUnavailable("key cache poisoned".into()))?;
        match cache.set.as_ref().and_then(|s| s.find(kid)) {
            Some(jwk) => DecodingKey::from_jwk(jwk)
                .map(Some)
                .map_err(|e| AuthError::InvalidToken(format!("unusable key {kid}: {e}"))),
            None => Ok(None),
        }
    }

    fn may_refresh(&self) -> bool {
        self.cache
            .read()
            .map(|c| {
                c.fetched_at
                    .is_none_or(|at| at.elapsed() >= self.min_refresh)
            })
            .unwrap_or(false)
    }

    fn audience_ok(&self, claims: &Map<String, Value>) -> bool {
        let accepted = |v: &Value| {
            v.as_str()
                .is_some_and(|a| self.policy.audiences.iter().any(|x| x == a))
        };
        let aud = match claims.get("aud") {
            Some(Value::Array(list)) => list.iter().any(accepted),
            Some(v) => accepted(v),
            None => false,
        };
        aud || claims.get("client_id").is_some_and(accepted)
    }
}

#[async_trait]
impl<J: JwksSource> TokenVerifier for OidcTokens<J> {
    async fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| AuthError::InvalidToken(e.to_string()))?;
        if header.alg != Algorithm::RS256 {
            return Err(AuthError::InvalidToken(format!(
                "algorithm {:?} is not accepted",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| AuthError::InvalidToken("no kid".into()))?;
        let key = match self.key_for(&kid)? {
            Some(k) => k,
            // A key the cache does not know: the provider may have rotated.
            None if self.may_refresh() => {
                self.refresh().await?;
                self.key_for(&kid)?
                    .ok_or_else(|| AuthError::InvalidToken(format!("unknown kid {kid}")))?
            }
            None => return Err(AuthError::InvalidToken(format!("unknown kid {kid}"))),
        };
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = 0;
        validation.validate_nbf = true;
        validation.validate_aud = false; // `aud` or `client_id`: checked below.
        validation.set_issuer(&[self.policy.issuer.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss"]);
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|e| AuthError::InvalidToken(e.to_string()))?;
        if !self.audience_ok(&data.claims) {
            return Err(AuthError::InvalidToken("audience not accepted".into()));
        }
        claims_from_json(|k| data.claims.get(k))
    }
}
