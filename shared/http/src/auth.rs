//! Identity: verified claims, from the dev server's own check of the bearer
//! credential or from the AWS authorizer's context (see [`crate::verify`] for
//! both). Identity is never read from a plain header.

use http::{HeaderMap, header};
use inbox_domain::{ApiKey, Caller, Role};
use inbox_store::ApiKeyStore;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The longest identity value (`sub`, `workspace_id`) we accept.
pub const MAX_IDENTITY_LEN: usize = 128;
/// The longest `name` claim we keep.
pub const MAX_NAME_LEN: usize = 200;

/// The verified claims the API acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// The caller's id (`sub`).
    pub sub: String,
    /// The workspace (`workspace_id` or `custom:workspace_id`).
    pub workspace_id: String,
    /// The role claim as sent (`role` or `custom:role`); unknown roles are refused with 403.
    pub role: String,
    /// The optional display name (`name`).
    pub name: Option<String>,
}

impl Claims {
    /// The parsed role, if it is one the contract knows.
    pub fn parsed_role(&self) -> Option<Role> {
        Role::parse(&self.role)
    }

    /// The claims an API key acts with: its subject, workspace and machine role.
    pub fn of_api_key(key: &ApiKey) -> Claims {
        Claims {
            sub: key.subject.clone(),
            workspace_id: key.workspace_id.clone(),
            role: key.role.as_str().to_string(),
            name: None,
        }
    }

    /// What the AWS authorizer hands every function (`requestContext.authorizer.lambda`):
    /// the same four claims whether a JWT or an API key was presented.
    pub fn authorizer_context(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("sub".into(), Value::from(self.sub.as_str()));
        m.insert(
            "workspace_id".into(),
            Value::from(self.workspace_id.as_str()),
        );
        m.insert("role".into(), Value::from(self.role.as_str()));
        if let Some(n) = &self.name {
            m.insert("name".into(), Value::from(n.as_str()));
        }
        m
    }

    /// The caller for the domain, with the token's name (the directory's name is applied by handlers).
    pub fn caller(&self) -> Option<Caller> {
        Some(Caller::new(
            self.sub.clone(),
            self.parsed_role()?,
            self.name.as_deref(),
        ))
    }
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Identity {
    /// Claims of a verified token.
    Verified(Claims),
    /// No token, or one that failed verification: every action answers 401.
    #[default]
    Unauthenticated,
}

impl Identity {
    /// The dev server's identity: an API key (`Bearer ibx_…`, checked against
    /// its stored hash, so a revoked key fails at once) or an HS256 token,
    /// through the same [`verify_bearer`](crate::verify::verify_bearer) as the AWS authorizer.
    pub async fn from_bearer_or_key<K: ApiKeyStore + ?Sized>(
        headers: &HeaderMap,
        secret: &[u8],
        keys: &K,
        now: inbox_domain::Timestamp,
    ) -> Identity {
        match bearer_token(headers) {
            Some(credential) => Identity::from_credential(credential, secret, keys, now).await,
            None => Identity::Unauthenticated,
        }
    }

    /// The dev server's identity for a credential given some other way than
    /// a header (`GET /live?token=…`): the same checks as a bearer's.
    pub async fn from_credential<K: ApiKeyStore + ?Sized>(
        credential: &str,
        secret: &[u8],
        keys: &K,
        now: inbox_domain::Timestamp,
    ) -> Identity {
        match crate::verify::verify_bearer(credential, keys, &crate::verify::DevTokens(secret), now)
            .await
        {
            Ok(claims) => Identity::Verified(claims),
            Err(e) => {
                tracing::info!(reason = e.reason(), "bearer credential refused");
                Identity::Unauthenticated
            }
        }
    }

    /// API Gateway's identity: the claims the Lambda authorizer verified and
    /// put in the request context (`requestContext.authorizer.lambda`). An
    /// empty or partial context (a refused credential) is unauthenticated.
    pub fn from_authorizer(context: Option<&HashMap<String, Value>>) -> Identity {
        context
            .and_then(|c| claims_from_authorizer(c).ok())
            .map_or(Identity::Unauthenticated, Identity::Verified)
    }
}

/// Why claims were refused (all answer 401 `unauthenticated`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The token is malformed, wrongly signed, uses another algorithm, or is expired.
    #[error("invalid token: {0}")]
    InvalidToken(String),
    /// A required claim is missing or unusable.
    #[error("missing or invalid claim {0}")]
    BadClaim(&'static str),
    /// A token could not be made.
    #[error("cannot mint token: {0}")]
    Mint(String),
    /// The identity provider's signing keys could not be fetched.
    #[error("signing keys unavailable: {0}")]
    KeysUnavailable(String),
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = v.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Verifies an HS256 token signed with `secret` and returns its claims.
///
/// Only HS256 is accepted (`alg: none` and every other algorithm fail); `exp`
/// is required and checked with no leeway; `nbf` is checked when present;
/// `aud` and `iss` are not checked (the dev server mints its own tokens).
pub fn claims_from_jwt(token: &str, secret: &[u8]) -> Result<Claims, AuthError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.validate_nbf = true;
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp"]);
    let data = jsonwebtoken::decode::<Map<String, Value>>(
        token,
        &DecodingKey::from_secret(secret),
        &validation,
    )
    .map_err(|e| AuthError::InvalidToken(e.to_string()))?;
    claims_from_json(|k| data.claims.get(k))
}

/// Reads the claims the Lambda authorizer put in the request context
/// ([`Claims::authorizer_context`]); only string values count.
pub fn claims_from_authorizer(context: &HashMap<String, Value>) -> Result<Claims, AuthError> {
    claims_from_json(|k| context.get(k))
}

/// The claims of a JSON object (a token's payload, the authorizer's
/// context): only string values count.
pub(crate) fn claims_from_json<'a>(
    get: impl Fn(&str) -> Option<&'a Value>,
) -> Result<Claims, AuthError> {
    claims_from_map(|k| get(k).and_then(Value::as_str).map(str::to_string))
}

fn identity_value(v: Option<String>, claim: &'static str) -> Result<String, AuthError> {
    let v = v.map(|s| s.trim().to_string()).unwrap_or_default();
    // `#` separates key parts in the store and `/` path segments: neither belongs in an id.
    let ok = !v.is_empty()
        && v.chars().count() <= MAX_IDENTITY_LEN
        && !v.chars().any(|c| c.is_control() || c == '#' || c == '/');
    if ok {
        Ok(v)
    } else {
        Err(AuthError::BadClaim(claim))
    }
}

fn claims_from_map(get: impl Fn(&str) -> Option<String>) -> Result<Claims, AuthError> {
    let either = |a: &str, b: &str| get(a).or_else(|| get(b));
    let sub = identity_value(get("sub"), "sub")?;
    let workspace_id = identity_value(
        either("workspace_id", "custom:workspace_id"),
        "workspace_id",
    )?;
    // A missing role is kept empty: the token is authentic but grants nothing (403).
    let role = either("role", "custom:role")
        .map(|r| r.trim().to_string())
        .unwrap_or_default();
    let name = get("name")
        .map(|n| n.trim().chars().take(MAX_NAME_LEN).collect::<String>())
        .filter(|n| !n.is_empty());
    Ok(Claims {
        sub,
        workspace_id,
        role,
        name,
    })
}

/// Mints an HS256 token for the dev server (`inbox-dev token …`), valid for `ttl`.
pub fn mint_dev_token(
    secret: &[u8],
    workspace: &str,
    sub: &str,
    role: &str,
    name: Option<&str>,
    ttl: Duration,
) -> Result<String, AuthError> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| AuthError::Mint(e.to_string()))?
        .as_secs();
    let mut claims = Map::new();
    claims.insert("sub".into(), Value::from(sub));
    claims.insert("workspace_id".into(), Value::from(workspace));
    claims.insert("role".into(), Value::from(role));
    if let Some(n) = name {
        claims.insert("name".into(), Value::from(n));
    }
    claims.insert("iat".into(), Value::from(now));
    claims.insert("exp".into(), Value::from(now.saturating_add(ttl.as_secs())));
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )
    .map_err(|e| AuthError::Mint(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use http::HeaderValue;
    use serde_json::json;

    const SECRET: &[u8] = b"dev-secret";

    fn now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    fn encode(claims: &Value, secret: &[u8], alg: Algorithm) -> String {
        jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(secret)).unwrap()
    }

    #[tokio::test]
    async fn minted_token_round_trips() {
        let t = mint_dev_token(
            SECRET,
            "acme",
            "bob",
            "agent",
            Some("Bob Ray"),
            Duration::from_secs(3600),
        )
        .unwrap();
        let c = claims_from_jwt(&t, SECRET).unwrap();
        assert_eq!(
            c,
            Claims {
                sub: "bob".into(),
                workspace_id: "acme".into(),
                role: "agent".into(),
                name: Some("Bob Ray".into()),
            }
        );
        assert_eq!(c.parsed_role(), Some(Role::Agent));
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {t}")).unwrap(),
        );
        let keys = inbox_store::sqlite::SqliteStore::in_memory().unwrap();
        let now = inbox_domain::Timestamp::from_unix_seconds(now() as i64);
        assert!(matches!(
            Identity::from_bearer_or_key(&h, SECRET, &keys, now).await,
            Identity::Verified(_)
        ));
        assert_eq!(
            Identity::from_bearer_or_key(&h, b"other", &keys, now).await,
            Identity::Unauthenticated
        );
        assert_eq!(
            Identity::from_bearer_or_key(&HeaderMap::new(), SECRET, &keys, now).await,
            Identity::Unauthenticated
        );
    }

    #[test]
    fn custom_claim_names_are_accepted() {
        let t = encode(
            &json!({"sub": "u1", "custom:workspace_id": "w1", "custom:role": "admin", "exp": now() + 60}),
            SECRET,
            Algorithm::HS256,
        );
        let c = claims_from_jwt(&t, SECRET).unwrap();
        assert_eq!((c.workspace_id.as_str(), c.role.as_str()), ("w1", "admin"));
        assert_eq!(c.name, None);
    }

    #[test]
    fn expired_wrong_secret_and_other_algorithms_are_refused() {
        let expired = encode(
            &json!({"sub": "u", "workspace_id": "w", "role": "agent", "exp": now() - 5}),
            SECRET,
            Algorithm::HS256,
        );
        assert!(claims_from_jwt(&expired, SECRET).is_err());
        let good = json!({"sub": "u", "workspace_id": "w", "role": "agent", "exp": now() + 60});
        assert!(claims_from_jwt(&encode(&good, b"wrong", Algorithm::HS256), SECRET).is_err());
        assert!(claims_from_jwt(&encode(&good, SECRET, Algorithm::HS512), SECRET).is_err());
        let no_exp = json!({"sub": "u", "workspace_id": "w", "role": "agent"});
        assert!(claims_from_jwt(&encode(&no_exp, SECRET, Algorithm::HS256), SECRET).is_err());
        let not_yet = json!({"sub": "u", "workspace_id": "w", "role": "agent", "exp": now() + 600, "nbf": now() + 300});
        assert!(claims_from_jwt(&encode(&not_yet, SECRET, Algorithm::HS256), SECRET).is_err());
    }

    #[test]
    fn alg_none_is_refused() {
        let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
        let claims = json!({"sub": "u", "workspace_id": "w", "role": "owner", "exp": now() + 60});
        for alg in ["none", "None", "NONE"] {
            let header = json!({"alg": alg, "typ": "JWT"});
            for token in [
                format!("{}.{}.", b64(&header), b64(&claims)),
                format!("{}.{}", b64(&header), b64(&claims)),
            ] {
                assert!(claims_from_jwt(&token, SECRET).is_err(), "{token}");
            }
        }
    }

    #[test]
    fn malformed_tokens_and_missing_claims_are_refused() {
        for t in ["", "abc", "a.b.c", "Bearer x"] {
            assert!(claims_from_jwt(t, SECRET).is_err(), "{t}");
        }
        let no_ws = json!({"sub": "u", "role": "agent", "exp": now() + 60});
        assert_eq!(
            claims_from_jwt(&encode(&no_ws, SECRET, Algorithm::HS256), SECRET),
            Err(AuthError::BadClaim("workspace_id"))
        );
        let bad_ws = json!({"sub": "u", "workspace_id": "a#b", "role": "agent", "exp": now() + 60});
        assert!(claims_from_jwt(&encode(&bad_ws, SECRET, Algorithm::HS256), SECRET).is_err());
        // An unknown or missing role is authentic but grants nothing (403 later, not 401).
        let no_role = json!({"sub": "u", "workspace_id": "w", "exp": now() + 60});
        let c = claims_from_jwt(&encode(&no_role, SECRET, Algorithm::HS256), SECRET).unwrap();
        assert_eq!(c.parsed_role(), None);
    }

    #[test]
    fn authorizer_context_round_trips() {
        let claims = Claims {
            sub: "max".into(),
            workspace_id: "acme".into(),
            role: "ai_agent".into(),
            name: None,
        };
        let ctx: HashMap<String, Value> = claims.authorizer_context().into_iter().collect();
        assert_eq!(claims_from_authorizer(&ctx).unwrap(), claims);
        let mut m = ctx.clone();
        m.insert("custom:workspace_id".into(), json!("other"));
        assert_eq!(claims_from_authorizer(&m).unwrap().workspace_id, "acme");
        m.insert("sub".into(), json!(42));
        assert_eq!(claims_from_authorizer(&m), Err(AuthError::BadClaim("sub")));
        m.remove("sub");
        assert_eq!(claims_from_authorizer(&m), Err(AuthError::BadClaim("sub")));
        assert_eq!(Identity::from_authorizer(None), Identity::Unauthenticated);
        assert_eq!(
            Identity::from_authorizer(Some(&HashMap::new())),
            Identity::Unauthenticated
        );
    }

    #[test]
    fn bearer_header_parsing() {
        let mut h = HeaderMap::new();
        for (v, want) in [
            ("Bearer abc", Some("abc")),
            ("bearer  abc ", Some("abc")),
            ("Basic abc", None),
            ("Bearer", None),
            ("Bearer ", None),
        ] {
            h.insert(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
            assert_eq!(bearer_token(&h), want, "{v:?}");
        }
    }
}
