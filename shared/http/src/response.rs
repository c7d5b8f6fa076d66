//! The framework-neutral request and response that every adapter converts to and from.

use crate::auth::Identity;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde::Serialize;

/// One HTTP request, already stripped of framework types.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    /// The method.
    pub method: Method,
    /// The path, without the query string (not percent-decoded).
    pub path: String,
    /// The raw query string, without the `?` (empty when none).
    pub query: String,
    /// The headers.
    pub headers: HeaderMap,
    /// The raw body.
    pub body: Bytes,
    /// Who is calling, as the adapter verified it.
    pub identity: Identity,
}

impl ApiRequest {
    /// A request with no headers, query or body.
    pub fn new(method: Method, path: impl Into<String>, identity: Identity) -> Self {
        let path = path.into();
        let (path, query) = match path.split_once('?') {
            Some((p, q)) => (p.to_string(), q.to_string()),
            None => (path, String::new()),
        };
        ApiRequest {
            method,
            path,
            query,
            headers: HeaderMap::new(),
            body: Bytes::new(),
            identity,
        }
    }

    /// With a JSON body (and its content type).
    pub fn with_json(mut self, value: &serde_json::Value) -> Self {
        self.body = Bytes::from(serde_json::to_vec(value).unwrap_or_default());
        self.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        self
    }

    /// With a header (ignored when the value is not a valid header value).
    pub fn with_header(mut self, name: header::HeaderName, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.insert(name, v);
        }
        self
    }
}

/// A response body: whole bytes or nothing.
///
/// Kept as an enum so a streaming form can be added without changing adapters
/// that match on it; today every body, the CSV export included, is built whole.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Body {
    /// No body (204).
    #[default]
    Empty,
    /// The whole body.
    Full(Bytes),
}

impl Body {
    /// The bytes (empty for `Empty`).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Body::Empty => &[],
            Body::Full(b) => b,
        }
    }

    /// The bytes, owned.
    pub fn into_bytes(self) -> Bytes {
        match self {
            Body::Empty => Bytes::new(),
            Body::Full(b) => b,
        }
    }
}

/// One HTTP response.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Body,
}

impl ApiResponse {
    /// A response with `body` and no headers.
    pub fn new(status: StatusCode, body: Bytes) -> Self {
        ApiResponse {
            status,
            headers: HeaderMap::new(),
            body: if body.is_empty() {
                Body::Empty
            } else {
                Body::Full(body)
            },
        }
    }

    /// A JSON response.
    pub fn json<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Self {
        let bytes = serde_json::to_vec(value).unwrap_or_default();
        let mut r = ApiResponse::new(status, bytes.into());
        r.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        r
    }

    /// 204 No Content.
    pub fn no_content() -> Self {
        ApiResponse::new(StatusCode::NO_CONTENT, Bytes::new())
    }

    /// A text response with `content_type`.
    pub fn text(status: StatusCode, content_type: &'static str, body: Bytes) -> Self {
        let mut r = ApiResponse::new(status, body);
        r.headers
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        r
    }

    /// Sets `ETag: "<version>"`.
    pub fn with_etag(mut self, version: u64) -> Self {
        if let Ok(v) = HeaderValue::from_str(&format!("\"{version}\"")) {
            self.headers.insert(header::ETAG, v);
        }
        self
    }

    /// Sets `Location`.
    pub fn with_location(mut self, location: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(location) {
            self.headers.insert(header::LOCATION, v);
        }
        self
    }

    /// The body parsed as JSON (`Null` when it is not JSON): for tests and adapters' logs.
    pub fn json_body(&self) -> serde_json::Value {
        serde_json::from_slice(self.body.as_bytes()).unwrap_or(serde_json::Value::Null)
    }
}
