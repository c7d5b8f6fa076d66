//! API Gateway (HTTP API, payload 2.0) ↔ the framework-neutral request and response.

use bytes::Bytes;
use inbox_http::{ApiRequest, ApiResponse, Identity};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};

/// The identity is taken ONLY from the Lambda authorizer's context in the
/// request context (`requestContext.authorizer.lambda`: the authorizer
/// verified the JWT or API key); headers are never trusted for it.
pub fn identity_of(req: &Request) -> Identity {
    let context = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.authorizer.as_ref().map(|a| &a.fields),
        _ => None,
    };
    Identity::from_authorizer(context)
}

/// Converts a Lambda HTTP request into an [`ApiRequest`].
pub fn to_api_request(req: Request) -> ApiRequest {
    let identity = identity_of(&req);
    let path = req.raw_http_path().to_string();
    let path = if path.is_empty() {
        req.uri().path().to_string()
    } else {
        path
    };
    let query = req.uri().query().unwrap_or_default().to_string();
    let (parts, body) = req.into_parts();
    let body = match body {
        Body::Empty => Bytes::new(),
        Body::Text(s) => Bytes::from(s),
        Body::Binary(b) => Bytes::from(b),
    };
    ApiRequest {
        method: parts.method,
        path,
        query,
        headers: parts.headers,
        body,
        identity,
    }
}

/// Converts an [`ApiResponse`] into a Lambda HTTP response. Text bodies go as
/// text (JSON, CSV, problem details), anything else as binary.
pub fn to_lambda_response(resp: ApiResponse) -> Response<Body> {
    let bytes = resp.body.into_bytes();
    let body = if bytes.is_empty() {
        Body::Empty
    } else {
        match String::from_utf8(bytes.to_vec()) {
            Ok(s) => Body::Text(s),
            Err(_) => Body::Binary(bytes.to_vec()),
        }
    };
    let mut out = Response::new(body);
    *out.status_mut() = resp.status;
    *out.headers_mut() = resp.headers;
    out
}
