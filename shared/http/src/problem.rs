//! Errors as RFC 9457 problem details (`application/problem+json`).
//!
//! Every error carries the contract's stable `code`; its `type` is
//! `urn:inbox:problem:<code>` (a stable identifier, not a page to fetch) and its
//! `title` is fixed per code. Store failures never show their internals.

use crate::response::ApiResponse;
use http::{HeaderValue, Method, StatusCode, header};
use inbox_domain::DomainError;
use inbox_store::StoreError;
use serde_json::{Map, Value};

/// The problem `type` URI prefix; the code follows it.
pub const PROBLEM_TYPE_PREFIX: &str = "urn:inbox:problem:";

/// Why a request failed; each maps to one problem response.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A rule of the domain refused the request.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// No valid identity: missing, malformed, expired or wrongly signed token.
    #[error("a valid bearer token is required")]
    Unauthenticated,
    /// The route or the thing it names does not exist (in the caller's workspace).
    #[error("{0}")]
    NotFound(String),
    /// The path exists but not with this method.
    #[error("this path does not accept this method")]
    MethodNotAllowed(Vec<Method>),
    /// Malformed request: JSON, unknown fields, query parameters, headers.
    #[error("{0}")]
    BadRequest(String),
    /// The body is larger than the limit.
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// The body is not JSON.
    #[error("the request body must be application/json")]
    UnsupportedMediaType,
    /// `If-Match` named a version that is no longer current.
    #[error("the conversation changed since that version: reload it and try again")]
    PreconditionFailed,
    /// Concurrent writes kept winning for every retry.
    #[error("the conversation is changing too fast: try again")]
    Contended,
    /// The store failed; the message is logged, never shown.
    #[error("the service is temporarily unavailable")]
    Store(#[from] StoreError),
    /// This deployment does not offer the feature.
    #[error("this deployment does not offer {0}")]
    NotImplemented(&'static str),
}

impl From<inbox_app::AppError> for ApiError {
    fn from(e: inbox_app::AppError) -> Self {
        use inbox_app::AppError;
        match e {
            AppError::NotFound(what) => ApiError::not_found(what),
            AppError::PreconditionFailed => ApiError::PreconditionFailed,
            AppError::Contended(_) => ApiError::Contended,
            AppError::Domain(d) => ApiError::Domain(d),
            // Another retry, or the sender, moved it first.
            AppError::DeliveryMoved => ApiError::Domain(inbox_domain::DomainError::NotRetryable),
            AppError::Store(s) => ApiError::Store(s),
            // No HTTP action carries a dedupe key; a webhook answers it itself.
            AppError::Duplicate => ApiError::Store(StoreError::Duplicate),
            AppError::Unsupported(what) => ApiError::NotImplemented(what),
        }
    }
}

impl ApiError {
    /// The contract's stable code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Domain(e) => e.code(),
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::PreconditionFailed => "precondition_failed",
            ApiError::Contended => "service_unavailable",
            ApiError::Store(e) => store_code(e).1,
            ApiError::NotImplemented(_) => "not_implemented",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Domain(e) => {
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY)
            }
            ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::Contended => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Store(e) => store_code(e).0,
            ApiError::NotImplemented(_) => StatusCode::NOT_IMPLEMENTED,
        }
    }

    /// The human sentence shown as `detail` (never a store's internals).
    pub fn detail(&self) -> String {
        match self {
            ApiError::Store(StoreError::InvalidCursor) => {
                "the cursor is not valid for this list".to_string()
            }
            ApiError::Store(e) if store_code(e).0.is_server_error() => {
                "something went wrong on our side; try again later".to_string()
            }
            other => other.to_string(),
        }
    }

    /// A 404 for a thing of `kind` (`"conversation"`, `"contact"`…).
    pub fn not_found(kind: &str) -> ApiError {
        ApiError::NotFound(format!("{kind} not found"))
    }

    /// The problem response.
    pub fn to_response(&self) -> ApiResponse {
        let status = self.status();
        if status.is_server_error() {
            // The internals go to the log only.
            tracing::error!(error = %self, debug = ?self, "request failed");
        }
        let extra = match self {
            ApiError::Domain(e) => e.extra(),
            _ => Map::new(),
        };
        let mut resp = problem_response(status, self.code(), &self.detail(), extra);
        match self {
            ApiError::MethodNotAllowed(allowed) => {
                let allow = allowed
                    .iter()
                    .map(Method::as_str)
                    .collect::<Vec<_>>()
                    .join(", ");
                if let Ok(v) = HeaderValue::from_str(&allow) {
                    resp.headers.insert(header::ALLOW, v);
                }
            }
            ApiError::Contended | ApiError::Store(StoreError::Unavailable(_)) => {
                resp.headers
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        resp
    }
}

/// The status and code of a store failure that reached the client.
fn store_code(e: &StoreError) -> (StatusCode, &'static str) {
    match e {
        StoreError::InvalidCursor => (StatusCode::BAD_REQUEST, "bad_request"),
        // A conflict that escaped the retry loop is contention: transient.
        StoreError::Unavailable(_) | StoreError::Conflict => {
            (StatusCode::SERVICE_UNAVAILABLE, "service_unavailable")
        }
        StoreError::Corrupt(_)
        | StoreError::InvalidCommit(_)
        | StoreError::Duplicate
        | StoreError::DeliveryMoved
        | StoreError::TooLarge(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
    }
}

/// The fixed `title` of a code: the code as a sentence ("contact_blocked" → "Contact blocked").
pub fn title_for(code: &str) -> String {
    let mut s = code.replace('_', " ");
    if let Some(first) = s.get(0..1) {
        let upper = first.to_ascii_uppercase();
        s.replace_range(0..1, &upper);
    }
    s
}

/// A problem-details response with `extra` fields beside the standard ones.
pub fn problem_response(
    status: StatusCode,
    code: &str,
    detail: &str,
    extra: Map<String, Value>,
) -> ApiResponse {
    let mut body = Map::new();
    body.insert(
        "type".into(),
        Value::String(format!("{PROBLEM_TYPE_PREFIX}{code}")),
    );
    body.insert("title".into(), Value::String(title_for(code)));
    body.insert("status".into(), Value::from(status.as_u16()));
    body.insert("detail".into(), Value::String(detail.to_string()));
    body.insert("code".into(), Value::String(code.to_string()));
    for (k, v) in extra {
        // The standard members keep their meaning.
        body.entry(k).or_insert(v);
    }
    let bytes = serde_json::to_vec(&Value::Object(body)).unwrap_or_default();
    let mut resp = ApiResponse::new(status, bytes.into());
    resp.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(resp: &ApiResponse) -> Value {
        serde_json::from_slice(resp.body.as_bytes()).unwrap()
    }

    #[test]
    fn domain_errors_render_with_code_status_and_extra_fields() {
        let resp = ApiError::from(DomainError::ConversationClosed).to_response();
        assert_eq!(resp.status, StatusCode::CONFLICT);
        assert_eq!(
            resp.headers[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let b = body(&resp);
        assert_eq!(b["type"], "urn:inbox:problem:conversation_closed");
        assert_eq!(b["title"], "Conversation closed");
        assert_eq!(b["status"], 409);
        assert_eq!(b["code"], "conversation_closed");
        assert_eq!(b["options"], json!(["reopen", "new_conversation"]));
        assert!(b["detail"].as_str().is_some_and(|d| !d.is_empty()));

        let b = body(
            &ApiError::from(DomainError::ClosingNoteRequired {
                missing: vec!["category"],
            })
            .to_response(),
        );
        assert_eq!(
            (b["status"].clone(), b["missing"].clone()),
            (json!(422), json!(["category"]))
        );
    }

    #[test]
    fn store_errors_hide_internals() {
        let resp = ApiError::from(StoreError::Unavailable(
            "dynamodb: secret host 10.0.0.1".into(),
        ))
        .to_response();
        assert_eq!(resp.status, StatusCode::SERVICE_UNAVAILABLE);
        let text = String::from_utf8_lossy(resp.body.as_bytes()).to_string();
        assert!(!text.contains("10.0.0.1") && !text.contains("dynamodb"));
        assert_eq!(body(&resp)["code"], "service_unavailable");
        let resp = ApiError::from(StoreError::Corrupt("row 7: bad json".into())).to_response();
        assert_eq!(resp.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!String::from_utf8_lossy(resp.body.as_bytes()).contains("row 7"));
        assert_eq!(
            ApiError::from(StoreError::InvalidCursor)
                .to_response()
                .status,
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn method_not_allowed_sets_allow() {
        let resp = ApiError::MethodNotAllowed(vec![Method::DELETE, Method::PUT]).to_response();
        assert_eq!(resp.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(resp.headers[header::ALLOW], "DELETE, PUT");
        assert_eq!(body(&resp)["code"], "method_not_allowed");
    }

    #[test]
    fn standard_members_win_over_extra() {
        let mut extra = Map::new();
        extra.insert("status".into(), json!("x"));
        extra.insert("errors".into(), json!([]));
        let b = body(&problem_response(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "d",
            extra,
        ));
        assert_eq!(b["status"], 400);
        assert_eq!(b["errors"], json!([]));
        assert_eq!(title_for("unauthenticated"), "Unauthenticated");
    }
}
