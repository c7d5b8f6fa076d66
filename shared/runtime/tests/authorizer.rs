//! The HTTP API's authorizer, driven by the sample event in
//! `events/authorizer/`: identity-provider JWTs verified against a JWKS
//! (fixture keys in `tests/fixtures/`, made for these tests only), API keys
//! on the embedded store, and what a function does with the context handed on.

use async_trait::async_trait;
use aws_lambda_events::apigw::ApiGatewayV2CustomAuthorizerV2Request;
use inbox_domain::{ApiKey, Timestamp};
use inbox_http::App;
use inbox_http::verify::{IssuerPolicy, JwksSource, OidcTokens};
use inbox_runtime::authorizer::{AuthorizerResponse, HttpsJwks, authorize};
use inbox_store::sqlite::SqliteStore;
use inbox_store::{ApiKeyStore, StoreError};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_example";
const CLIENT: &str = "inbox-web-client";
const KID: &str = "test-key-1";

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn jwks() -> JwkSet {
    serde_json::from_str(&fixture("jwks.json")).unwrap()
}

/// The JWKS fixture, counting fetches; `rotated` publishes the second key too.
#[derive(Clone, Default)]
struct FixtureJwks(Arc<AtomicUsize>, Arc<std::sync::atomic::AtomicBool>);

impl FixtureJwks {
    fn fetches(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
    fn rotate(&self) {
        self.1.store(true, Ordering::SeqCst);
    }
}

#[async_trait]
impl JwksSource for FixtureJwks {
    async fn fetch(&self) -> Result<JwkSet, String> {
        self.0.fetch_add(1, Ordering::SeqCst);
        if self.1.load(Ordering::SeqCst) {
            Ok(serde_json::from_str(&fixture("jwks-rotated.json")).unwrap())
        } else {
            Ok(jwks())
        }
    }
}

fn tokens(source: FixtureJwks) -> OidcTokens<FixtureJwks> {
    OidcTokens::new(
        IssuerPolicy {
            issuer: ISSUER.into(),
            audiences: vec![CLIENT.into()],
        },
        source,
    )
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Claims of a Cognito ID token for Ann, admin of acme.
fn id_token_claims() -> Value {
    json!({
        "sub": "ann", "custom:workspace_id": "acme", "custom:role": "admin", "name": "Ann Lee",
        "iss": ISSUER, "aud": CLIENT, "token_use": "id",
        "iat": unix_now(), "exp": unix_now() + 3600,
    })
}

fn rs256(claims: &Value, pem: &str, kid: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.into());
    let key = EncodingKey::from_rsa_pem(fixture(pem).as_bytes()).unwrap();
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

fn event(bearer: &str) -> ApiGatewayV2CustomAuthorizerV2Request {
    let text = std::fs::read_to_string(format!(
        "{}/../../events/authorizer/request.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
    .replace("REPLACED-BY-TESTS", bearer);
    serde_json::from_str(&text).unwrap()
}

fn now() -> Timestamp {
    inbox_store::Clock::now(&inbox_store::SystemClock)
}

fn context(resp: &AuthorizerResponse) -> &serde_json::Map<String, Value> {
    assert!(
        resp.is_authorized,
        "the authorizer never denies: the function answers 401"
    );
    resp.context.as_object().unwrap()
}

async fn refused_reason(bearer: &str, store: &SqliteStore, t: &OidcTokens<FixtureJwks>) -> String {
    let resp = authorize(&event(bearer), store, t, now()).await.unwrap();
    let ctx = context(&resp);
    assert!(ctx.get("sub").is_none(), "no claims for {bearer}: {ctx:?}");
    ctx["refused"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn an_id_token_of_the_pool_hands_on_its_claims() {
    let store = SqliteStore::in_memory().unwrap();
    let source = FixtureJwks::default();
    let t = tokens(source.clone());
    let token = rs256(&id_token_claims(), "issuer-key.pem", KID);
    let resp = authorize(&event(&token), &store, &t, now()).await.unwrap();
    assert_eq!(
        Value::Object(context(&resp).clone()),
        json!({"sub": "ann", "workspace_id": "acme", "role": "admin", "name": "Ann Lee"})
    );
    // An access token names its client in `client_id` instead of `aud`.
    let mut access = id_token_claims();
    access.as_object_mut().unwrap().remove("aud");
    access["client_id"] = json!(CLIENT);
    let resp = authorize(
        &event(&rs256(&access, "issuer-key.pem", KID)),
        &store,
        &t,
        now(),
    )
    .await
    .unwrap();
    assert_eq!(context(&resp)["sub"], "ann");
    assert_eq!(source.fetches(), 1, "keys fetched once");
}

#[tokio::test]
async fn forged_expired_and_foreign_tokens_carry_no_claims() {
    let store = SqliteStore::in_memory().unwrap();
    let source = FixtureJwks::default();
    let t = tokens(source.clone());
    t.refresh().await.unwrap();

    // Signed by a key that is not in the JWKS, under a kid that is not either.
    let stranger = rs256(&id_token_claims(), "stranger-key.pem", "test-key-2");
    assert_eq!(refused_reason(&stranger, &store, &t).await, "invalid_token");
    // ... or under the pool's kid: the signature does not verify.
    let impostor = rs256(&id_token_claims(), "stranger-key.pem", KID);
    assert_eq!(refused_reason(&impostor, &store, &t).await, "invalid_token");

    // HS256 with the pool's public key as the HMAC secret (algorithm confusion).
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(KID.into());
    let public = serde_json::to_string(&jwks().keys[0]).unwrap();
    let confused = jsonwebtoken::encode(
        &header,
        &id_token_claims(),
        &EncodingKey::from_secret(public.as_bytes()),
    )
    .unwrap();
    assert_eq!(refused_reason(&confused, &store, &t).await, "invalid_token");

    let mut expired = id_token_claims();
    expired["exp"] = json!(unix_now() - 5);
    let expired = rs256(&expired, "issuer-key.pem", KID);
    assert_eq!(refused_reason(&expired, &store, &t).await, "invalid_token");

    let mut other_client = id_token_claims();
    other_client["aud"] = json!("someone-elses-client");
    let other_client = rs256(&other_client, "issuer-key.pem", KID);
    assert_eq!(
        refused_reason(&other_client, &store, &t).await,
        "invalid_token"
    );

    let mut other_issuer = id_token_claims();
    other_issuer["iss"] = json!("https://issuer.example");
    let other_issuer = rs256(&other_issuer, "issuer-key.pem", KID);
    assert_eq!(
        refused_reason(&other_issuer, &store, &t).await,
        "invalid_token"
    );

    for garbage in ["", "abc", "a.b.c", "ibx_", "ibx_key_nope.secret"] {
        let reason = refused_reason(garbage, &store, &t).await;
        assert!(
            reason == "invalid_token" || reason == "invalid_key" || reason == "no_bearer",
            "{garbage:?}: {reason}"
        );
    }

    // Unknown kids right after a fetch cause no other: forged tokens cannot
    // make every request fetch the JWKS.
    assert_eq!(source.fetches(), 1);
}

#[tokio::test]
async fn an_unknown_kid_refetches_the_keys_so_a_rotation_is_picked_up() {
    let store = SqliteStore::in_memory().unwrap();
    let source = FixtureJwks::default();
    let t = tokens(source.clone()).with_min_refresh(std::time::Duration::ZERO);
    t.refresh().await.unwrap();
    let new_key = rs256(&id_token_claims(), "stranger-key.pem", "test-key-2");
    assert_eq!(refused_reason(&new_key, &store, &t).await, "invalid_token");
    assert_eq!(source.fetches(), 2, "the unknown kid refetched");
    source.rotate();
    let resp = authorize(&event(&new_key), &store, &t, now())
        .await
        .unwrap();
    assert_eq!(context(&resp)["sub"], "ann", "the rotated key is accepted");
    assert_eq!(source.fetches(), 3);
    // A known kid fetches nothing.
    let resp = authorize(&event(&new_key), &store, &t, now())
        .await
        .unwrap();
    assert_eq!(context(&resp)["sub"], "ann");
    assert_eq!(source.fetches(), 3);
}

#[tokio::test]
async fn a_key_acts_as_its_subject_until_it_is_revoked_then_the_function_answers_401() {
    let app = App::new(SqliteStore::in_memory().unwrap());
    let t = tokens(FixtureJwks::default());
    let created = app
        .create_api_key("acme", "Zapier", "integration", "zapier")
        .await
        .unwrap();
    let resp = authorize(&event(&created.secret), app.store(), &t, now())
        .await
        .unwrap();
    assert_eq!(
        Value::Object(context(&resp).clone()),
        json!({"sub": "zapier", "workspace_id": "acme", "role": "integration"})
    );
    let used = app
        .store()
        .get_api_key(&created.key.id)
        .await
        .unwrap()
        .unwrap();
    assert!(used.last_used_at.is_some(), "the use is recorded");

    // A wrong secret for the same key id is refused.
    let wrong = format!("{}x", created.secret);
    assert_eq!(refused_reason(&wrong, app.store(), &t).await, "invalid_key");

    app.revoke_api_key("acme", &created.key.id).await.unwrap();
    let resp = authorize(&event(&created.secret), app.store(), &t, now())
        .await
        .unwrap();
    assert_eq!(context(&resp)["refused"], "invalid_key");

    // What API Gateway hands the function for that request: the function answers 401.
    let mut request: Value = serde_json::from_str(
        &std::fs::read_to_string(format!(
            "{}/../../events/apigw/members-list.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
    )
    .unwrap();
    request["requestContext"]["authorizer"] = json!({"lambda": resp.context});
    let req = lambda_http::request::from_str(&request.to_string()).unwrap();
    let out = inbox_runtime::serve(&app, "members-list", req).await;
    assert_eq!(out.status(), 401);
    match out.body() {
        lambda_http::Body::Text(s) => {
            assert_eq!(
                serde_json::from_str::<Value>(s).unwrap()["code"],
                "unauthenticated"
            )
        }
        other => panic!("{other:?}"),
    }
}

/// A key store that cannot be reached.
struct DownKeys;

#[async_trait]
impl ApiKeyStore for DownKeys {
    async fn create_api_key(&self, _: &ApiKey) -> Result<(), StoreError> {
        Err(StoreError::Unavailable("down".into()))
    }
    async fn get_api_key(&self, _: &str) -> Result<Option<ApiKey>, StoreError> {
        Err(StoreError::Unavailable("down".into()))
    }
    async fn list_api_keys(&self, _: &str) -> Result<Vec<ApiKey>, StoreError> {
        Err(StoreError::Unavailable("down".into()))
    }
    async fn delete_api_key(&self, _: &str, _: &str) -> Result<bool, StoreError> {
        Err(StoreError::Unavailable("down".into()))
    }
    async fn record_api_key_use(&self, _: &str, _: Timestamp) -> Result<(), StoreError> {
        Err(StoreError::Unavailable("down".into()))
    }
}

/// A JWKS endpoint that cannot be reached.
struct DownJwks;

#[async_trait]
impl JwksSource for DownJwks {
    async fn fetch(&self) -> Result<JwkSet, String> {
        Err("connection refused".into())
    }
}

#[tokio::test]
async fn what_cannot_be_checked_fails_the_invocation_instead_of_refusing() {
    let t = tokens(FixtureJwks::default());
    let err = authorize(
        &event("ibx_key_01jd0000000000000000000000.abc"),
        &DownKeys,
        &t,
        now(),
    )
    .await;
    assert!(err.is_err(), "a 500 is not cached; a refusal would be");
    let down = OidcTokens::new(
        IssuerPolicy {
            issuer: ISSUER.into(),
            audiences: vec![CLIENT.into()],
        },
        DownJwks,
    );
    let token = rs256(&id_token_claims(), "issuer-key.pem", KID);
    let store = SqliteStore::in_memory().unwrap();
    assert!(
        authorize(&event(&token), &store, &down, now())
            .await
            .is_err()
    );
}

/// Serves `/.well-known/openid-configuration` and `/keys` on loopback, as an
/// identity provider does, and answers how many requests it served.
async fn discovery_server() -> (String, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let served = Arc::new(AtomicUsize::new(0));
    let (base2, served2) = (base.clone(), served.clone());
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let mut buf = vec![0u8; 4096];
            let n = sock.read(&mut buf).await.unwrap_or(0);
            let request = String::from_utf8_lossy(&buf[..n]).to_string();
            served2.fetch_add(1, Ordering::SeqCst);
            let body = if request.starts_with("GET /.well-known/openid-configuration ") {
                json!({"issuer": base2, "jwks_uri": format!("{base2}/keys")}).to_string()
            } else if request.starts_with("GET /keys ") {
                fixture("jwks.json")
            } else {
                String::new()
            };
            let status = if body.is_empty() {
                "404 Not Found"
            } else {
                "200 OK"
            };
            let resp = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(resp.as_bytes()).await;
        }
    });
    (base, served)
}

#[tokio::test]
async fn keys_are_found_through_the_issuers_discovery_document() {
    let (issuer, served) = discovery_server().await;
    let t = OidcTokens::new(
        IssuerPolicy {
            issuer: issuer.clone(),
            audiences: vec![CLIENT.into()],
        },
        HttpsJwks::new(&issuer, None).unwrap(),
    );
    let mut claims = id_token_claims();
    claims["iss"] = json!(issuer);
    let store = SqliteStore::in_memory().unwrap();
    let token = rs256(&claims, "issuer-key.pem", KID);
    let resp = authorize(&event(&token), &store, &t, now()).await.unwrap();
    assert_eq!(context(&resp)["sub"], "ann");
    assert_eq!(served.load(Ordering::SeqCst), 2, "discovery, then the keys");

    // A JWKS URL set by hand skips discovery.
    let direct = HttpsJwks::new(&issuer, Some(format!("{issuer}/keys"))).unwrap();
    assert_eq!(direct.fetch().await.unwrap().keys.len(), 1);
    assert_eq!(served.load(Ordering::SeqCst), 3);
}

/// The WebSocket API's `$connect` authorizer event of `events/live/`, with `?token=`.
fn connect_event(
    token: &str,
) -> aws_lambda_events::apigw::ApiGatewayCustomAuthorizerRequestTypeRequest {
    let text = std::fs::read_to_string(format!(
        "{}/../../events/live/connect-authorizer.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
    .replace("REPLACED-BY-TESTS", token);
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn the_live_connect_is_authorized_by_its_query_token_as_any_request() {
    use inbox_runtime::live::{EXPIRES_AT_KEY, LiveAuthorizerError, authorize_connect};
    let app = App::new(SqliteStore::in_memory().unwrap());
    let t = tokens(FixtureJwks::default());
    let claims = id_token_claims();
    let token = rs256(&claims, "issuer-key.pem", KID);
    let event = connect_event(&token);
    let resp = authorize_connect(&event, app.store(), &t, now())
        .await
        .unwrap();
    // An IAM policy (WebSocket APIs take no simple response) on this connect only.
    let policy = serde_json::to_value(&resp.policy_document).unwrap();
    assert_eq!(
        policy["Statement"],
        json!([{"Action": ["execute-api:Invoke"], "Effect": "Allow",
                "Resource": ["arn:aws:execute-api:us-east-1:123456789012:abcdef123/live/$connect"]}])
    );
    assert_eq!(
        resp.context,
        json!({"sub": "ann", "workspace_id": "acme", "role": "admin", "name": "Ann Lee",
               EXPIRES_AT_KEY: claims["exp"].as_i64().unwrap() * 1000})
    );

    // An API key connects as its subject, with no expiry of its own.
    let created = app
        .create_api_key("acme", "Zapier", "integration", "zapier")
        .await
        .unwrap();
    let resp = authorize_connect(&connect_event(&created.secret), app.store(), &t, now())
        .await
        .unwrap();
    assert_eq!(
        resp.context,
        json!({"sub": "zapier", "workspace_id": "acme", "role": "integration"})
    );

    // No token, a forged one, a revoked key: `Unauthorized`, which API Gateway answers 401.
    let stranger = rs256(&claims, "stranger-key.pem", KID);
    app.revoke_api_key("acme", &created.key.id).await.unwrap();
    for refused in ["", "abc", stranger.as_str(), created.secret.as_str()] {
        let err = authorize_connect(&connect_event(refused), app.store(), &t, now())
            .await
            .unwrap_err();
        assert!(
            matches!(err, LiveAuthorizerError::Unauthorized),
            "{refused:?}: {err}"
        );
        assert_eq!(err.to_string(), "Unauthorized");
    }
    // What cannot be checked fails otherwise (a 500, not cached).
    let err = authorize_connect(
        &connect_event("ibx_key_01jd0000000000000000000000.abc"),
        &DownKeys,
        &t,
        now(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, LiveAuthorizerError::Unavailable(_)), "{err}");
}
