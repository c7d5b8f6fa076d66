//! How channel configuration errors and webhook replies become responses.

use crate::problem::problem_response;
use crate::response::ApiResponse;
use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use inbox_ingest::{ConfigError, WebhookReply};

/// A channel-configuration error as a problem; server errors hide their cause.
pub(crate) fn config_problem(e: &ConfigError) -> ApiResponse {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let detail = if status.is_server_error() {
        tracing::error!(error = %e, "channel request failed");
        "something went wrong on our side; try again later".to_string()
    } else {
        e.to_string()
    };
    problem_response(status, e.code(), &detail, e.extra())
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
