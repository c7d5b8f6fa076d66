//! API Gateway's WebSocket management API (`@connections`), as the
//! `aws-sdk-apigatewaymanagement` client calls it once pointed here: a post
//! to an open connection is taken (200), to one that is not open answers
//! 410 `GoneException` as API Gateway does, and a delete closes it. Tests
//! open connections with `POST /_fake/connections/{id}` (API Gateway opens
//! them on `$connect`); every call is recorded as provider `connections`.

use crate::Shared;
use crate::state::{Provider, Recorded, header_map};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::json;

/// The error API Gateway answers for a connection that is not open.
fn gone(id: &str) -> Response {
    let mut resp = (
        StatusCode::GONE,
        axum::Json(json!({"message": format!("connection {id} is gone")})),
    )
        .into_response();
    resp.headers_mut().insert(
        "x-amzn-errortype",
        HeaderValue::from_static("GoneException"),
    );
    resp
}

fn record(state: &Shared, method: &str, id: &str, headers: &HeaderMap, body: &Bytes, status: u16) {
    state.record(Recorded {
        provider: Provider::Connections,
        path: format!("{method} /@connections/{id}"),
        headers: header_map(headers),
        body: String::from_utf8_lossy(body).into_owned(),
        status,
        provider_id: Some(id.to_string()),
    });
}

/// `POST [/{stage}]/@connections/{id}`: `PostToConnection`.
pub(crate) async fn post_to_connection(
    State(state): State<Shared>,
    Path(params): Path<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let id = connection_id(&params);
    if let Some(f) = state.take_failure(Provider::Connections) {
        record(&state, "POST", &id, &headers, &body, f.status);
        let status = StatusCode::from_u16(f.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = (
            status,
            axum::Json(json!({"message": f.message_or("internal failure")})),
        )
            .into_response();
        resp.headers_mut().insert(
            "x-amzn-errortype",
            HeaderValue::from_static("InternalServerErrorException"),
        );
        return resp;
    }
    if !state.connection_is_open(&id) {
        record(&state, "POST", &id, &headers, &body, 410);
        return gone(&id);
    }
    record(&state, "POST", &id, &headers, &body, 200);
    StatusCode::OK.into_response()
}

/// `DELETE [/{stage}]/@connections/{id}`: `DeleteConnection`.
pub(crate) async fn delete_connection(
    State(state): State<Shared>,
    Path(params): Path<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let id = connection_id(&params);
    let was_open = state.close_connection(&id);
    let status = if was_open { 204 } else { 410 };
    record(&state, "DELETE", &id, &headers, &Bytes::new(), status);
    if was_open {
        StatusCode::NO_CONTENT.into_response()
    } else {
        gone(&id)
    }
}

/// `POST /_fake/connections/{id}`: a client connected (API Gateway's `$connect`).
pub(crate) async fn open(State(state): State<Shared>, Path(id): Path<String>) -> StatusCode {
    state.open_connection(&id);
    StatusCode::NO_CONTENT
}

fn connection_id(params: &[(String, String)]) -> String {
    params
        .iter()
        .find(|(k, _)| k == "id")
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}
