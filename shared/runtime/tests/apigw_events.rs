//! The Lambda adapter driven by sample API Gateway (HTTP API 2.0) events from
//! `events/apigw/`, on the embedded store.

use inbox_http::App;
use inbox_runtime::serve;
use inbox_store::sqlite::SqliteStore;
use lambda_http::{Body, Response};
use serde_json::Value;

fn sample(name: &str) -> lambda_http::Request {
    let path = format!(
        "{}/../../events/apigw/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn json(resp: &Response<Body>) -> Value {
    match resp.body() {
        Body::Text(s) => serde_json::from_str(s).unwrap(),
        other => panic!("expected a text body, got {other:?}"),
    }
}

fn app() -> App<SqliteStore> {
    App::new(SqliteStore::in_memory().unwrap())
}

#[tokio::test]
async fn an_admin_puts_a_member_and_a_viewer_finds_it() {
    let app = app();
    let put = serve(&app, "member-put", sample("member-put")).await;
    assert_eq!(put.status(), 200, "{:?}", put.body());
    let member = json(&put);
    assert_eq!(member["id"], "bob");
    assert_eq!(member["initials"], "BR");

    let list = serve(&app, "members-list", sample("members-list")).await;
    assert_eq!(list.status(), 200);
    let ids: Vec<_> = json(&list)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, vec!["bob"]);
}

#[tokio::test]
async fn a_view_lists_from_the_query_string() {
    let resp = serve(&app(), "conversations-list", sample("conversations-list")).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        json(&resp),
        serde_json::json!({"items": [], "next_cursor": null})
    );
}

#[tokio::test]
async fn identity_never_comes_from_a_header() {
    // A bearer token in the headers but no authorizer claims: 401.
    let resp = serve(
        &app(),
        "settings-get",
        sample("settings-get-unauthenticated"),
    )
    .await;
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    assert_eq!(json(&resp)["code"], "unauthenticated");
}

#[tokio::test]
async fn roles_are_enforced_and_nothing_is_written() {
    let app = app();
    let resp = serve(&app, "settings-put", sample("settings-put-viewer")).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(json(&resp)["code"], "forbidden");
    let settings = inbox_store::DirectoryStore::get_settings(app.store(), "acme")
        .await
        .unwrap();
    assert_eq!(settings, inbox_domain::Settings::default());
}

#[tokio::test]
async fn a_function_serves_only_its_own_route() {
    let resp = serve(&app(), "conversation-takeover", sample("members-list")).await;
    assert_eq!(resp.status(), 404);
}
