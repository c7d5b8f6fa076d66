//! The contract's request conventions: body size and type, strict JSON,
//! query parameters, paging and `If-Match`.

use crate::problem::ApiError;
use http::{HeaderMap, header};
use inbox_domain::views::parse_limit;
use inbox_domain::{DomainError, FieldError};
use inbox_store::PageRequest;
use serde::de::DeserializeOwned;

/// The largest request body accepted: 256 KiB.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Refuses bodies over [`MAX_BODY_BYTES`] with 413.
pub fn check_body_size(body: &[u8]) -> Result<(), ApiError> {
    if body.len() > MAX_BODY_BYTES {
        Err(ApiError::PayloadTooLarge(MAX_BODY_BYTES))
    } else {
        Ok(())
    }
}

/// Whether a `Content-Type` names JSON (`application/json` or `application/*+json`, any parameters).
fn is_json_content_type(value: &str) -> bool {
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|s| s.ends_with("+json"))
}

/// Checks the content type of a non-empty body: JSON or absent, else 415.
pub fn check_json_content_type(headers: &HeaderMap, body: &[u8]) -> Result<(), ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    match headers.get(header::CONTENT_TYPE) {
        // A missing type is read as JSON: the contract speaks JSON only.
        None => Ok(()),
        Some(v) => match v.to_str() {
            Ok(s) if is_json_content_type(s) => Ok(()),
            _ => Err(ApiError::UnsupportedMediaType),
        },
    }
}

/// Parses the JSON object body of a route that takes one into `T` (whose
/// struct denies unknown fields). An empty body, `null`, an array or a scalar
/// is 400: serde would otherwise read a struct from an array (`[null, null]`).
pub fn parse_json<T: DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T, ApiError> {
    check_json_content_type(headers, body)?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest(
            "this route takes a JSON object body".into(),
        ));
    }
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(json_error_detail(&e)))?;
    if !value.is_object() {
        return Err(ApiError::BadRequest(
            "the body must be a JSON object".into(),
        ));
    }
    serde_json::from_value(value).map_err(|e| ApiError::BadRequest(json_error_detail(&e)))
}

/// Checks that a `PUT` body, which replaces the whole resource, carries
/// each of its required fields (`(name, present)`): 422 `validation_failed`
/// naming every missing one, before anything is read or written.
pub fn require_fields(fields: &[(&str, bool)]) -> Result<(), ApiError> {
    let errors: Vec<FieldError> = fields
        .iter()
        .filter(|(_, present)| !present)
        .map(|(name, _)| FieldError::new(*name, "is required"))
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    Err(DomainError::Validation {
        message: format!("missing required field(s): {}", names.join(", ")),
        errors,
    }
    .into())
}

/// A body-less command accepts nothing, whitespace or `{}`.
pub fn expect_no_body(headers: &HeaderMap, body: &[u8]) -> Result<(), ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return check_json_content_type(headers, body);
    }
    parse_json::<Empty>(headers, body).map(|_| ())
}

/// An empty JSON object, and nothing else.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

/// A client-facing sentence for a JSON error (serde's message names the field, not our internals).
fn json_error_detail(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            format!(
                "the body is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            )
        }
        Category::Data => {
            let msg = e.to_string();
            // Drop serde's " at line x column y" suffix: the field is named already.
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
            format!("invalid request body: {msg}")
        }
    }
}

/// Decoded query parameters, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query(Vec<(String, String)>);

impl Query {
    /// Decodes a raw query string (`application/x-www-form-urlencoded`).
    pub fn parse(raw: &str) -> Result<Query, ApiError> {
        serde_urlencoded::from_str::<Vec<(String, String)>>(raw)
            .map(Query)
            .map_err(|_| ApiError::BadRequest("the query string is malformed".into()))
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every pair, as string slices.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Refuses any parameter not in `allowed`, any given twice, and any
    /// empty value (`?team=`): each is 400 `bad_request`.
    pub fn only(&self, allowed: &[&str]) -> Result<(), ApiError> {
        let mut seen = std::collections::HashSet::new();
        for (k, v) in self.pairs() {
            if !allowed.contains(&k) {
                return Err(ApiError::BadRequest(format!("unknown parameter {k:?}")));
            }
            if !seen.insert(k) {
                return Err(ApiError::BadRequest(format!(
                    "parameter {k} is given more than once"
                )));
            }
            if v.is_empty() {
                return Err(ApiError::BadRequest(format!("parameter {k} is empty")));
            }
        }
        Ok(())
    }

    /// `limit` (default 50, 1 to 200) and `cursor` as a page request.
    pub fn page(&self) -> Result<PageRequest, ApiError> {
        let limit = parse_limit(self.get("limit"))?;
        let cursor = match self.get("cursor") {
            None => None,
            Some("") => return Err(ApiError::BadRequest("cursor is empty".into())),
            Some(c) => Some(c.to_string()),
        };
        Ok(PageRequest { limit, cursor })
    }
}

pub use inbox_app::IfMatch;

/// Parses `If-Match`: exactly `"<version>"` (a quoted whole number) or `*`,
/// in one header; anything else (a list, a weak tag, a bare number, two
/// headers) is 400, as the contract says.
pub fn parse_if_match(headers: &HeaderMap) -> Result<IfMatch, ApiError> {
    let mut values = headers.get_all(header::IF_MATCH).iter();
    let Some(value) = values.next() else {
        return Ok(IfMatch::Absent);
    };
    let bad = || ApiError::BadRequest("If-Match must be \"<version>\" or *".into());
    if values.next().is_some() {
        return Err(bad());
    }
    let tag = value.to_str().map_err(|_| bad())?.trim();
    if tag == "*" {
        return Ok(IfMatch::Any);
    }
    let digits = tag
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(bad)?;
    // A version too large to be one can match nothing.
    Ok(IfMatch::Versions(
        digits.parse::<u64>().into_iter().collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn if_match_forms() {
        let p = |v: &str| parse_if_match(&headers(&[("if-match", v)]));
        assert_eq!(parse_if_match(&HeaderMap::new()).unwrap(), IfMatch::Absent);
        assert_eq!(p("\"7\"").unwrap(), IfMatch::Versions(vec![7]));
        assert_eq!(p(" \"7\" ").unwrap(), IfMatch::Versions(vec![7]));
        assert_eq!(p("*").unwrap(), IfMatch::Any);
        assert!(p("\"7\"").unwrap().matches(7) && !p("\"7\"").unwrap().matches(8));
        assert!(!p("\"99999999999999999999999\"").unwrap().matches(7));
        for bad in [
            "7",
            "seven",
            "\"7",
            "W/\"7\"",
            "W/7",
            "\"abc\"",
            "\"\"",
            "\"6\", \"7\"",
            "",
            "\"-1\"",
        ] {
            assert_eq!(p(bad).unwrap_err().code(), "bad_request", "{bad:?}");
        }
        let two = parse_if_match(&headers(&[("if-match", "\"1\""), ("if-match", "\"2\"")]));
        assert!(two.is_err());
        assert!(IfMatch::Absent.matches(3) && !IfMatch::Absent.is_present());
    }

    #[test]
    fn body_limit_is_256_kib() {
        assert!(check_body_size(&vec![b' '; MAX_BODY_BYTES]).is_ok());
        let err = check_body_size(&vec![b' '; MAX_BODY_BYTES + 1]).unwrap_err();
        assert_eq!(err.code(), "payload_too_large");
        assert_eq!(err.status(), http::StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        body: String,
        #[serde(default)]
        extra: Option<u8>,
    }

    #[test]
    fn strict_json_bodies() {
        let none = HeaderMap::new();
        let json = headers(&[("content-type", "application/json; charset=utf-8")]);
        assert!(parse_json::<Body>(&json, br#"{"body":"hi"}"#).is_ok());
        assert!(parse_json::<Body>(&none, br#"{"body":"hi"}"#).is_ok());
        let unknown = parse_json::<Body>(&json, br#"{"body":"hi","colour":1}"#).unwrap_err();
        assert_eq!(unknown.code(), "bad_request");
        assert!(unknown.detail().contains("colour"));
        assert_eq!(
            parse_json::<Body>(&json, b"{").unwrap_err().code(),
            "bad_request"
        );
        assert_eq!(
            parse_json::<Body>(&json, b"").unwrap_err().code(),
            "bad_request"
        );
        let form = headers(&[("content-type", "application/x-www-form-urlencoded")]);
        let e = parse_json::<Body>(&form, br#"{"body":"hi"}"#).unwrap_err();
        assert_eq!(e.status(), http::StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let problem = headers(&[("content-type", "application/merge-patch+json")]);
        assert!(parse_json::<Body>(&problem, br#"{"body":"hi"}"#).is_ok());
        assert!(expect_no_body(&json, b"").is_ok());
        assert!(expect_no_body(&json, b" {} ").is_ok());
        assert!(expect_no_body(&json, br#"{"x":1}"#).is_err());
    }

    #[test]
    fn query_parsing_and_paging() {
        let q = Query::parse("view=mine&limit=5&cursor=abc&label=a%20b").unwrap();
        assert_eq!(q.get("label"), Some("a b"));
        let page = q.page().unwrap();
        assert_eq!((page.limit, page.cursor.as_deref()), (5, Some("abc")));
        assert_eq!(Query::parse("").unwrap().page().unwrap().limit, 50);
        for bad in ["limit=0", "limit=201", "limit=x", "cursor="] {
            assert!(Query::parse(bad).unwrap().page().is_err(), "{bad}");
        }
        assert!(Query::parse("q=a").unwrap().only(&["q"]).is_ok());
        assert!(Query::parse("q=a&z=1").unwrap().only(&["q"]).is_err());
        assert!(Query::parse("q=a&q=b").unwrap().only(&["q"]).is_err());
        assert!(Query::parse("q=").unwrap().only(&["q"]).is_err());
    }
}
