//! The HTTP side: axum only converts requests and responses. Every route of
//! the contract (channel configuration and webhooks included) goes through
//! `inbox_http::handle`, which dispatches from the same route table as the
//! Lambda functions; the dev server adds only `GET /openapi.json`, the
//! live updates' `GET /live` (an API Gateway WebSocket API in AWS), and the
//! web inbox's page (a static site in AWS, see `web`).

use crate::exports::LocalExportFiles;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use inbox_http::{ApiError, ApiRequest, ApiResponse, App, Identity, MAX_BODY_BYTES};
use inbox_store::Store;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Notify;

/// The committed OpenAPI document of the whole contract, served at `GET /openapi.json`.
pub const OPENAPI_JSON: &str = include_str!("../../../docs/openapi.json");

/// Bodies are read up to this size so that the shared handler answers an
/// oversized one with its own 413 (after 401/403); anything larger is refused here.
const READ_LIMIT: usize = 4 * MAX_BODY_BYTES;

/// What every request handler shares.
pub struct Shared<S> {
    /// The application (store, clock, ids, notes), built once.
    pub app: Arc<App<S>>,
    /// The HS256 secret that tokens are verified with.
    pub jwt_secret: Vec<u8>,
    /// Wakes the outbox publisher after a successful write.
    pub wrote: Arc<Notify>,
    /// Export files, for `GET /exports/…` links.
    pub exports: LocalExportFiles,
    /// The live connections (`GET /live`).
    pub live: Arc<crate::live::LiveHub>,
    /// The web inbox's page and dev sign-in.
    pub web: Arc<crate::web::WebPage>,
}

impl<S: Store> Shared<S> {
    async fn identity(&self, headers: &HeaderMap) -> Identity {
        let now = self.app.clock().now();
        Identity::from_bearer_or_key(headers, &self.jwt_secret, self.app.store(), now).await
    }

    fn after(&self, method: &Method, status: StatusCode) {
        if method != Method::GET && status.is_success() {
            self.wrote.notify_one();
        }
    }
}

/// The router: the OpenAPI document, and every other path through the shared handler.
pub fn router<S: Store + 'static>(shared: Arc<Shared<S>>) -> Router {
    Router::new()
        .route(
            "/openapi.json",
            get(openapi).fallback(openapi_method_not_allowed),
        )
        .route("/exports/{workspace}/{file}", get(export_file::<S>))
        .route(
            "/live",
            get(crate::live::live::<S>).fallback(live_method_not_allowed),
        )
        .merge(crate::web::routes(Arc::clone(&shared.web)))
        .fallback(api::<S>)
        .layer(middleware::from_fn(log_request))
        .with_state(shared)
}

/// One log line per request: method, path, status, milliseconds.
async fn log_request(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let started = Instant::now();
    let resp = next.run(req).await;
    let ms = (started.elapsed().as_secs_f64() * 10_000.0).round() / 10.0;
    tracing::info!(%method, %path, status = resp.status().as_u16(), ms, "request");
    resp
}

/// Every contract action: axum request → `ApiRequest` → `handle` → response.
async fn api<S: Store + 'static>(State(shared): State<Arc<Shared<S>>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = match read_body(body).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let method = parts.method.clone();
    let request = ApiRequest {
        identity: shared.identity(&parts.headers).await,
        method: parts.method,
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or_default().to_string(),
        headers: parts.headers,
        body,
    };
    let resp = inbox_http::handle(&shared.app, request).await;
    shared.after(&method, resp.status);
    into_axum(resp)
}

/// A link's query: when it expires and its signature.
#[derive(serde::Deserialize)]
struct ExportLink {
    expires: u64,
    signature: String,
}

/// `GET /exports/{workspace}/{id}.csv?expires=…&signature=…`: an export
/// job's file, while its link is valid (the dev server's presigned link).
async fn export_file<S: Store + 'static>(
    State(shared): State<Arc<Shared<S>>>,
    Path((workspace, file)): Path<(String, String)>,
    Query(link): Query<ExportLink>,
) -> Response {
    let Some(path) = shared
        .exports
        .open(&workspace, &file, link.expires, &link.signature)
    else {
        // As S3 answers a presigned link that is altered or past its time.
        return into_axum(ApiError::Domain(inbox_domain::DomainError::Forbidden).to_response());
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"conversations.csv\"",
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(_) => into_axum(ApiError::not_found("export file").to_response()),
    }
}

/// `GET /openapi.json`.
async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON).into_response()
}

/// 405 for `/openapi.json` with another method, as the shared handler answers it.
async fn openapi_method_not_allowed() -> Response {
    into_axum(ApiError::MethodNotAllowed(vec![Method::GET]).to_response())
}

/// 405 for `/live` with another method.
async fn live_method_not_allowed() -> Response {
    into_axum(ApiError::MethodNotAllowed(vec![Method::GET]).to_response())
}

/// Reads the whole body, refusing (413 problem) one far over the contract's limit.
async fn read_body(body: Body) -> Result<Bytes, Response> {
    axum::body::to_bytes(body, READ_LIMIT).await.map_err(|_| {
        let mut resp = into_axum(ApiError::PayloadTooLarge(MAX_BODY_BYTES).to_response());
        // The rest of the body is left unread, so the connection cannot carry
        // another request: say so, or a client may reuse it and fail.
        resp.headers_mut().insert(
            header::CONNECTION,
            header::HeaderValue::from_static("close"),
        );
        resp
    })
}

/// The shared handler's response as an axum response.
pub fn into_axum(resp: ApiResponse) -> Response {
    let mut out = Response::new(Body::from(resp.body.into_bytes()));
    *out.status_mut() = resp.status;
    *out.headers_mut() = resp.headers;
    out
}
