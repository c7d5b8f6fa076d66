//! Channel configuration (`PUT /channels/{id}`, `GET /channels`) and webhook
//! replies, served beside the route table (see `RESERVED_PREFIXES`): the same
//! code for the Lambda functions and the dev server.

use crate::auth::Identity;
use crate::problem::{ApiError, problem_response};
use crate::response::ApiResponse;
use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use inbox_domain::{DomainError, Role};
use inbox_ingest::{ConfigError, WebhookReply};
use inbox_store::DirectoryStore;

/// The caller's workspace and role (401 / 403 as problems).
fn caller(identity: &Identity) -> Result<(String, Role), ApiError> {
    let Identity::Verified(claims) = identity else {
        return Err(ApiError::Unauthenticated);
    };
    match claims.parsed_role() {
        Some(role) => Ok((claims.workspace_id.clone(), role)),
        None => Err(ApiError::Domain(DomainError::Forbidden)),
    }
}

/// A channel-configuration error as a problem; server errors hide their cause.
fn config_problem(e: &ConfigError) -> ApiResponse {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let detail = if status.is_server_error() {
        tracing::error!(error = %e, "channel request failed");
        "something went wrong on our side; try again later".to_string()
    } else {
        e.to_string()
    };
    problem_response(status, e.code(), &detail, e.extra())
}

/// `GET /channels`: every channel of the caller's workspace, never with secrets.
pub async fn channels_list<S: DirectoryStore + ?Sized>(
    store: &S,
    identity: &Identity,
) -> ApiResponse {
    let (ws, role) = match caller(identity) {
        Ok(c) => c,
        Err(e) => return e.to_response(),
    };
    match inbox_ingest::list_channels(store, role, &ws).await {
        Ok(list) => ApiResponse::json(StatusCode::OK, &list),
        Err(e) => config_problem(&e),
    }
}

/// `PUT /channels/{id}` (admin and owner): create or replace a channel.
pub async fn channel_put<S: DirectoryStore + ?Sized>(
    store: &S,
    identity: &Identity,
    id: &str,
    body: &[u8],
) -> ApiResponse {
    let (ws, role) = match caller(identity) {
        Ok(c) => c,
        Err(e) => return e.to_response(),
    };
    match inbox_ingest::put_channel(store, role, &ws, id, body).await {
        Ok(view) => ApiResponse::json(StatusCode::OK, &view),
        Err(e) => config_problem(&e),
    }
}

/// A webhook's reply as a response.
pub fn webhook_response(reply: WebhookReply) -> ApiResponse {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = ApiResponse::new(status, Bytes::from(reply.body));
    resp.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(reply.content_type),
    );
    resp
}
