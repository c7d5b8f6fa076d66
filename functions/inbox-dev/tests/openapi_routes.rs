//! The committed OpenAPI document (`docs/openapi.json`, which the server
//! serves) describes exactly the routes that exist: every action of the route
//! table (channel routes and webhooks included) and the document itself.

use inbox_dev::server::OPENAPI_JSON;
use inbox_http::Action;
use serde_json::Value;
use std::collections::BTreeSet;

/// Routes the dev server serves beside the route table, as (method, template).
const OTHER_ROUTES: [(&str, &str); 1] = [("GET", "/openapi.json")];

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "patch", "head", "options", "trace",
];

fn document() -> Value {
    serde_json::from_str(OPENAPI_JSON).expect("docs/openapi.json is JSON")
}

fn documented() -> BTreeSet<(String, String)> {
    let doc = document();
    let paths = doc["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect()
}

fn served() -> BTreeSet<(String, String)> {
    Action::ALL
        .iter()
        .map(|a| (a.method().to_string(), a.path().to_string()))
        .chain(
            OTHER_ROUTES
                .iter()
                .map(|(m, p)| (m.to_string(), p.to_string())),
        )
        .collect()
}

#[test]
fn every_route_is_documented_and_nothing_else() {
    let documented = documented();
    let served = served();
    let missing: Vec<_> = served.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&served).collect();
    assert!(
        missing.is_empty(),
        "routes missing from docs/openapi.json: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "docs/openapi.json documents routes that do not exist: {extra:?}"
    );
}

#[test]
fn operation_ids_are_the_function_names() {
    let doc = document();
    for &a in Action::ALL {
        let method = a.method().as_str().to_lowercase();
        let op = &doc["paths"][a.path()][method.as_str()];
        assert_eq!(
            op["operationId"],
            a.operation_id(),
            "{} {}",
            a.method(),
            a.path()
        );
        // The operation is named after its function, unless the function serves several.
        if Action::served_by(a.function_name()).len() == 1 {
            assert_eq!(a.operation_id(), a.function_name());
        }
        assert!(
            op["responses"].is_object(),
            "{} {} has no responses",
            a.method(),
            a.path()
        );
    }
}

#[test]
fn document_is_openapi_3_1_with_problem_responses_and_resolvable_refs() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let text = OPENAPI_JSON;
    // Every local reference points at something defined.
    for part in text.split("\"$ref\": \"#/").skip(1) {
        let pointer = part.split('"').next().unwrap_or_default();
        assert!(
            doc.pointer(&format!("/{pointer}")).is_some(),
            "dangling $ref #/{pointer}"
        );
    }
    // Every authenticated operation documents 401 as a problem.
    for &a in Action::ALL.iter().filter(|a| a.capability().is_some()) {
        let method = a.method().as_str().to_lowercase();
        let op = &doc["paths"][a.path()][method.as_str()];
        assert!(
            op["responses"].get("401").is_some(),
            "{} {} lacks 401",
            a.method(),
            a.path()
        );
        if a.is_conversation_command() {
            let params = op["parameters"].to_string();
            assert!(
                params.contains("IfMatch"),
                "{} {} lacks If-Match",
                a.method(),
                a.path()
            );
            assert!(
                op["responses"].get("412").is_some(),
                "{} {} lacks 412",
                a.method(),
                a.path()
            );
        }
    }
}

/// The query parameters an operation documents, in order (`$ref`s resolved).
fn documented_query(doc: &Value, op: &Value) -> Vec<(String, Value)> {
    op["parameters"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|p| match p["$ref"].as_str() {
            Some(r) => doc
                .pointer(r.trim_start_matches('#'))
                .cloned()
                .unwrap_or_default(),
            None => p.clone(),
        })
        .filter(|p| p["in"] == "query")
        .map(|p| (p["name"].as_str().unwrap_or_default().to_string(), p))
        .collect()
}

#[test]
fn query_parameters_are_exactly_the_served_ones_and_never_empty() {
    let doc = document();
    for &a in Action::ALL {
        let method = a.method().as_str().to_lowercase();
        let op = &doc["paths"][a.path()][method.as_str()];
        let documented = documented_query(&doc, op);
        let names: BTreeSet<&str> = documented.iter().map(|(n, _)| n.as_str()).collect();
        let served: BTreeSet<&str> = a.query_parameters().iter().copied().collect();
        assert_eq!(names, served, "{} {}", a.method(), a.path());
        // The server refuses an empty value: a free-text parameter says so
        // (a webhook answers its provider's way instead).
        for (name, p) in documented.iter().filter(|_| a.capability().is_some()) {
            let schema = &p["schema"];
            if schema["type"] == "string" && schema.get("enum").is_none() {
                assert_eq!(
                    schema["minLength"],
                    1,
                    "{} {} ?{name}= lacks minLength 1",
                    a.method(),
                    a.path()
                );
            }
        }
    }
}

/// The `code`s of the `code()` methods in a source file: the strings the
/// arms of `pub fn code(&self) -> &'static str { match self { … } }` answer.
fn codes_in(relative: &str) -> BTreeSet<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative);
    let source = std::fs::read_to_string(&path).expect("the source file");
    let start = source.find("pub fn code(&self)").expect("a code() method");
    let body = &source[start..];
    let end = body.find("\n    }\n").expect("its end");
    body[..end]
        .split("=> \"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_string)
        .collect()
}

#[test]
fn every_problem_code_the_server_answers_is_in_the_document() {
    let doc = document();
    let listed: BTreeSet<String> =
        doc["components"]["schemas"]["Problem"]["properties"]["code"]["enum"]
            .as_array()
            .expect("the Problem code enum")
            .iter()
            .filter_map(|c| c.as_str().map(str::to_string))
            .collect();
    let mut answered = codes_in("shared/domain/src/error.rs");
    answered.extend(codes_in("shared/http/src/problem.rs"));
    assert!(
        answered.len() > 20
            && answered.contains("invalid_url")
            && answered.contains("unauthenticated"),
        "read the codes: {answered:?}"
    );
    let missing: Vec<&String> = answered.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "problem codes answered but missing from docs/openapi.json: {missing:?}"
    );
}
