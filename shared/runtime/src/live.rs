//! Live updates in AWS: an API Gateway WebSocket API. `live-authorizer`
//! verifies `$connect`'s `?token=` with the HTTP authorizer's code; `live`
//! records the connection in its workspace's partition on `$connect`,
//! forgets it on `$disconnect`, and relays `typing` on `$default`; the
//! change feed's consumer (`webhook-dispatch`) fans each change out with
//! one `Query` of the workspace's connections per batch and one
//! `PostToConnection` per connection, forgetting those API Gateway says are
//! gone and closing those whose credential expired.

use async_trait::async_trait;
use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerRequestTypeRequest,
    ApiGatewayCustomAuthorizerResponse, ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest,
};
use aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use futures::StreamExt;
use inbox_app::App;
use inbox_domain::Timestamp;
use inbox_domain::live::{LiveConnection, LiveMessage, Typist, WorkspaceMessage, relay};
use inbox_http::live::{credential_expiry, open_session};
use inbox_http::verify::{Refusal, TokenVerifier, verify_bearer};
use inbox_http::{Claims, Identity};
use inbox_store::{ApiKeyStore, LiveConnectionStore, Store, StoreError};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Posts made at once for one message (each is one HTTPS call).
const POSTS_AT_ONCE: usize = 32;
/// The authorizer context key of the credential's expiry (epoch ms).
pub const EXPIRES_AT_KEY: &str = "expires_at_ms";

/// Why a post to a connection did not arrive.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostError {
    /// API Gateway no longer has the connection (`GoneException`).
    #[error("the connection is gone")]
    Gone,
    /// Anything else: the post is lost for this connection, which stays.
    #[error("the connection could not be reached: {0}")]
    Unavailable(String),
}

/// The way to the open WebSockets (API Gateway's management API).
#[async_trait]
pub trait ConnectionPoster: Send + Sync {
    /// Sends one text frame.
    async fn post(&self, connection_id: &str, text: &str) -> Result<(), PostError>;
    /// Closes the connection.
    async fn close(&self, connection_id: &str) -> Result<(), PostError>;
}

/// [`ConnectionPoster`] on `aws-sdk-apigatewaymanagement`, whose endpoint is
/// the WebSocket API's stage URL (`https://{api}.execute-api.{region}.amazonaws.com/{stage}`).
#[derive(Debug, Clone)]
pub struct ApiGatewayPoster {
    client: aws_sdk_apigatewaymanagement::Client,
}

impl ApiGatewayPoster {
    /// A poster for the stage at `endpoint`, with the function's credentials.
    pub fn new(sdk: &aws_config::SdkConfig, endpoint: &str) -> Self {
        let config = aws_sdk_apigatewaymanagement::config::Builder::from(sdk)
            .endpoint_url(endpoint)
            .build();
        ApiGatewayPoster {
            client: aws_sdk_apigatewaymanagement::Client::from_conf(config),
        }
    }
}

fn post_error<E, R>(e: aws_sdk_apigatewaymanagement::error::SdkError<E, R>) -> PostError
where
    E: aws_sdk_apigatewaymanagement::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    if e.as_service_error()
        .and_then(aws_sdk_apigatewaymanagement::error::ProvideErrorMetadata::code)
        == Some("GoneException")
    {
        return PostError::Gone;
    }
    PostError::Unavailable(aws_sdk_apigatewaymanagement::error::DisplayErrorContext(e).to_string())
}

#[async_trait]
impl ConnectionPoster for ApiGatewayPoster {
    async fn post(&self, connection_id: &str, text: &str) -> Result<(), PostError> {
        self.client
            .post_to_connection()
            .connection_id(connection_id)
            .data(aws_smithy_types::Blob::new(text.as_bytes()))
            .send()
            .await
            .map(|_| ())
            .map_err(post_error)
    }

    async fn close(&self, connection_id: &str) -> Result<(), PostError> {
        self.client
            .delete_connection()
            .connection_id(connection_id)
            .send()
            .await
            .map(|_| ())
            .map_err(post_error)
    }
}

/// What a fan-out did, for the log and the cost figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FanOutReport {
    /// Live messages sent.
    pub messages: usize,
    /// `Query` requests for connections.
    pub queries: usize,
    /// Posts that arrived.
    pub posted: usize,
    /// Connections forgotten because API Gateway said they were gone.
    pub gone: usize,
    /// Connections closed and forgotten because they had ended.
    pub expired: usize,
    /// Posts that failed otherwise (lost for that connection only).
    pub failed: usize,
}

/// Sends `messages` to every open connection of their workspaces, in order:
/// all of one message's posts are made before the next message's, so each
/// connection receives them in feed order. A workspace's connections are
/// read once per call; a connection that is gone or has ended is forgotten.
/// Live updates are not retried: a client that missed one refetches on
/// reconnect (`docs/api.md`, "Live updates").
pub async fn fan_out<S, P>(
    store: &S,
    poster: &P,
    messages: &[WorkspaceMessage],
    now: Timestamp,
) -> FanOutReport
where
    S: LiveConnectionStore + ?Sized,
    P: ConnectionPoster + ?Sized,
{
    let mut report = FanOutReport::default();
    let mut connections: HashMap<String, Vec<LiveConnection>> = HashMap::new();
    for m in messages {
        if !connections.contains_key(&m.workspace_id) {
            report.queries += 1;
            let found = match store.live_connections(&m.workspace_id).await {
                Ok(found) => found,
                Err(e) => {
                    tracing::warn!(workspace = %m.workspace_id, error = %e, "live connections not read; this change is not sent live");
                    report.failed += 1;
                    continue;
                }
            };
            let (ended, open): (Vec<_>, Vec<_>) =
                found.into_iter().partition(|c| c.has_expired(now));
            for c in &ended {
                close_ended(store, poster, c).await;
                report.expired += 1;
            }
            connections.insert(m.workspace_id.clone(), open);
        }
        let Some(open) = connections.get_mut(&m.workspace_id) else {
            continue;
        };
        let text = m.message.to_text();
        let outcomes: Vec<(String, Result<(), PostError>)> =
            futures::stream::iter(open.iter().map(|c| {
                let text = &text;
                async move {
                    let id = c.connection_id.clone();
                    let outcome = poster.post(&id, text).await;
                    (id, outcome)
                }
            }))
            .buffer_unordered(POSTS_AT_ONCE)
            .collect()
            .await;
        report.messages += 1;
        for (id, outcome) in outcomes {
            match outcome {
                Ok(()) => report.posted += 1,
                Err(PostError::Gone) => {
                    report.gone += 1;
                    open.retain(|c| c.connection_id != id);
                    forget(store, &m.workspace_id, &id).await;
                }
                Err(PostError::Unavailable(e)) => {
                    report.failed += 1;
                    tracing::warn!(connection = %id, error = %e, "live post failed");
                }
            }
        }
    }
    report
}

async fn forget<S: LiveConnectionStore + ?Sized>(store: &S, workspace_id: &str, id: &str) {
    if let Err(e) = store.forget_live_connection(workspace_id, id).await {
        tracing::warn!(connection = %id, error = %e, "a gone connection was not forgotten; its TTL will");
    }
}

/// A connection whose credential expired (or that reached API Gateway's
/// two hours): closed, then forgotten.
async fn close_ended<S, P>(store: &S, poster: &P, c: &LiveConnection)
where
    S: LiveConnectionStore + ?Sized,
    P: ConnectionPoster + ?Sized,
{
    match poster.close(&c.connection_id).await {
        Ok(()) | Err(PostError::Gone) => {}
        Err(PostError::Unavailable(e)) => {
            tracing::warn!(connection = %c.connection_id, error = %e, "an ended connection was not closed");
        }
    }
    forget(store, &c.workspace_id, &c.connection_id).await;
}

/// A route's answer to API Gateway (the body is not sent to the client).
fn status(code: i64) -> ApiGatewayProxyResponse {
    ApiGatewayProxyResponse {
        status_code: code,
        ..ApiGatewayProxyResponse::default()
    }
}

/// The claims the authorizer handed to every route of the connection.
fn claims_of(req: &ApiGatewayWebsocketProxyRequest) -> Option<Claims> {
    match Identity::from_authorizer(Some(&req.request_context.authorizer.fields)) {
        Identity::Verified(claims) => Some(claims),
        Identity::Unauthenticated => None,
    }
}

fn expiry_of(req: &ApiGatewayWebsocketProxyRequest) -> Option<Timestamp> {
    let v = req.request_context.authorizer.fields.get(EXPIRES_AT_KEY)?;
    // API Gateway hands context values on as they were, or as strings.
    let ms = v.as_i64().or_else(|| v.as_str()?.parse().ok())?;
    Some(Timestamp::from_millis(ms))
}

/// The `live` function: `$connect`, `$disconnect` and `$default`.
pub async fn handle_socket<S, P>(
    app: &App<S>,
    poster: &P,
    req: &ApiGatewayWebsocketProxyRequest,
    now: Timestamp,
) -> ApiGatewayProxyResponse
where
    S: Store + LiveConnectionStore,
    P: ConnectionPoster + ?Sized,
{
    let ctx = &req.request_context;
    let (Some(route), Some(connection_id)) =
        (ctx.route_key.as_deref(), ctx.connection_id.as_deref())
    else {
        return status(400);
    };
    // Only `$connect` is authorized; every route after it carries its context.
    let Some(claims) = claims_of(req) else {
        return status(401);
    };
    let outcome = match route {
        "$connect" => connect(app, &claims, connection_id, expiry_of(req), now).await,
        "$disconnect" => app
            .store()
            .forget_live_connection(&claims.workspace_id, connection_id)
            .await
            .map(|()| 200),
        _ => {
            let body = req.body.as_deref().unwrap_or_default();
            relay_typing(app.store(), poster, &claims, connection_id, body, now).await
        }
    };
    match outcome {
        Ok(code) => status(code),
        Err(e) => {
            tracing::error!(route, connection = connection_id, error = %e, "live route failed");
            status(500)
        }
    }
}

/// `$connect`: the caller's session (403 for a role the contract does not
/// know), recorded until it ends.
async fn connect<S: Store + LiveConnectionStore>(
    app: &App<S>,
    claims: &Claims,
    connection_id: &str,
    credential_expires_at: Option<Timestamp>,
    now: Timestamp,
) -> Result<i64, StoreError> {
    let session = match open_session(app, claims, credential_expires_at).await {
        Ok(s) => s,
        Err(e) if e.status() == 403 => return Ok(403),
        Err(e) => return Err(StoreError::Unavailable(e.to_string())),
    };
    let connection = LiveConnection::opened(
        &session.workspace_id,
        connection_id,
        session.typist,
        now,
        session.expires_at,
    );
    app.store().put_live_connection(&connection).await?;
    Ok(200)
}

/// `$default`: a `typing` frame, relayed to the workspace's other open
/// connections; anything else is answered on the sender's own connection
/// with an `error` message. A sender whose connection has ended is closed
/// instead.
pub async fn relay_typing<S, P>(
    store: &S,
    poster: &P,
    claims: &Claims,
    connection_id: &str,
    body: &str,
    now: Timestamp,
) -> Result<i64, StoreError>
where
    S: LiveConnectionStore + ?Sized,
    P: ConnectionPoster + ?Sized,
{
    let all = store.live_connections(&claims.workspace_id).await?;
    let own = all.iter().find(|c| c.connection_id == connection_id);
    // A connection past its end is closed, whatever it sent.
    if let Some(own) = own.filter(|c| c.has_expired(now)) {
        close_ended(store, poster, own).await;
        return Ok(200);
    }
    let typist = own.map_or_else(
        || Typist {
            id: claims.sub.clone(),
            name: claims.name.clone().unwrap_or_else(|| claims.sub.clone()),
        },
        |c| c.typist.clone(),
    );
    match relay(&typist, body) {
        Ok(message) => {
            let others: Vec<LiveConnection> = all
                .into_iter()
                .filter(|c| c.connection_id != connection_id)
                .collect();
            let only_others = OnlyThese {
                connections: others,
            };
            fan_out(
                &only_others,
                poster,
                &[WorkspaceMessage {
                    workspace_id: claims.workspace_id.clone(),
                    message,
                }],
                now,
            )
            .await;
        }
        Err(e) => {
            if let Err(e) = poster
                .post(connection_id, &LiveMessage::refused(&e).to_text())
                .await
            {
                tracing::info!(connection = connection_id, error = %e, "a refused frame's answer did not arrive");
            }
        }
    }
    Ok(200)
}

/// The connections already read, as a store: relaying reuses the fan-out
/// without reading them again (forgetting is not needed for a relay).
struct OnlyThese {
    connections: Vec<LiveConnection>,
}

#[async_trait]
impl LiveConnectionStore for OnlyThese {
    async fn put_live_connection(&self, _: &LiveConnection) -> Result<(), StoreError> {
        Ok(())
    }
    async fn live_connections(&self, _: &str) -> Result<Vec<LiveConnection>, StoreError> {
        Ok(self.connections.clone())
    }
    async fn forget_live_connection(&self, _: &str, _: &str) -> Result<(), StoreError> {
        Ok(())
    }
}

/// The credential could not be checked (not the caller's fault): the
/// invocation fails, and API Gateway answers 500.
#[derive(Debug, thiserror::Error)]
pub enum LiveAuthorizerError {
    /// No valid credential: API Gateway answers 401 for exactly this error.
    #[error("Unauthorized")]
    Unauthorized,
    /// The table or the identity provider's keys are unreachable.
    #[error("the credential cannot be checked now: {0}")]
    Unavailable(String),
}

/// `live-authorizer`: the `$connect` request's `?token=` verified as the
/// HTTP API's authorizer verifies a bearer credential; allowed with the
/// same claims (and the credential's expiry) as context, else refused with
/// `Unauthorized`, which API Gateway answers 401.
pub async fn authorize_connect<K, T>(
    req: &ApiGatewayCustomAuthorizerRequestTypeRequest,
    keys: &K,
    tokens: &T,
    now: Timestamp,
) -> Result<ApiGatewayCustomAuthorizerResponse, LiveAuthorizerError>
where
    K: ApiKeyStore + ?Sized,
    T: TokenVerifier + ?Sized,
{
    let credential = req
        .query_string_parameters
        .first("token")
        .filter(|t| !t.is_empty())
        .ok_or(LiveAuthorizerError::Unauthorized)?;
    let claims = match verify_bearer(credential, keys, tokens, now).await {
        Ok(claims) => claims,
        Err(Refusal::Unavailable(e)) => return Err(LiveAuthorizerError::Unavailable(e)),
        Err(e) => {
            tracing::info!(reason = e.reason(), "live credential refused");
            return Err(LiveAuthorizerError::Unauthorized);
        }
    };
    let mut context: Map<String, Value> = claims.authorizer_context();
    if let Some(at) = credential_expiry(credential) {
        context.insert(EXPIRES_AT_KEY.into(), Value::from(at.as_millis()));
    }
    Ok(ApiGatewayCustomAuthorizerResponse {
        principal_id: Some(claims.sub.clone()),
        policy_document: ApiGatewayCustomAuthorizerPolicy {
            version: Some("2012-10-17".into()),
            statement: vec![IamPolicyStatement {
                action: vec!["execute-api:Invoke".into()],
                effect: IamPolicyEffect::Allow,
                resource: vec![req.method_arn.clone().unwrap_or_default()],
                condition: None,
            }],
        },
        context: Value::Object(context),
        usage_identifier_key: None,
    })
}
