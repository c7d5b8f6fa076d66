//! The webhook functions' handler on the embedded store: a signed delivery is
//! stored, a bad one writes nothing, WhatsApp's handshake answers, and each
//! function serves only its own routes.

use http::{HeaderValue, Method};
use inbox_http::{ApiRequest, ApiResponse, App, Identity};
use inbox_runtime::serve_api;
use inbox_store::sqlite::SqliteStore;
use inbox_store::{ConversationStore, DirectoryStore};
use serde_json::json;

async fn store_with_channels() -> App<SqliteStore> {
    let app = App::new(SqliteStore::in_memory().unwrap());
    let admin = Identity::Verified(inbox_http::Claims {
        sub: "ann".to_string(),
        workspace_id: "acme".to_string(),
        role: "admin".to_string(),
        name: None,
    });
    for (id, body) in [
        (
            "web",
            json!({"kind": "generic", "name": "Widget", "secret": "s3cret"}),
        ),
        (
            "wa",
            json!({"kind": "whatsapp", "name": "WhatsApp", "secret": "app-secret", "verify_token": "tok"}),
        ),
    ] {
        let mut put = ApiRequest::new(Method::PUT, format!("/channels/{id}"), admin.clone());
        put.headers
            .insert("content-type", HeaderValue::from_static("application/json"));
        put.body = body.to_string().into();
        let r = serve_api(&app, "channel-put", put).await;
        assert_eq!(r.status, 200, "{:?}", r.json_body());
    }
    app
}

fn generic_delivery(secret: &str) -> ApiRequest {
    let body = json!({"message_id": "m-1", "from": {"id": "u-1", "name": "Ann"}, "text": "Hello"})
        .to_string();
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let sig = inbox_channels::verify::generic_signature(secret, ts, body.as_bytes());
    let mut req = ApiRequest::new(
        Method::POST,
        "/webhooks/generic/acme/web",
        Identity::Unauthenticated,
    );
    req.headers
        .insert("content-type", HeaderValue::from_static("application/json"));
    req.headers.insert(
        "x-inbox-timestamp",
        HeaderValue::from_str(&ts.to_string()).unwrap(),
    );
    req.headers
        .insert("x-inbox-signature", HeaderValue::from_str(&sig).unwrap());
    req.body = body.into();
    req
}

async fn conversation_count(app: &App<SqliteStore>) -> usize {
    let q = inbox_domain::ListQuery::parse([("view", "all")]).unwrap();
    app.store()
        .list_conversations("acme", &q, "ann", &inbox_store::PageRequest::first(50))
        .await
        .unwrap()
        .items
        .len()
}

#[tokio::test]
async fn a_signed_delivery_is_stored_and_a_forged_one_is_not() {
    let app = store_with_channels().await;
    let forged: ApiResponse = serve_api(&app, "webhook-generic", generic_delivery("wrong")).await;
    assert_eq!(forged.status, 401);
    assert_eq!(forged.json_body()["code"], "invalid_signature");
    assert_eq!(conversation_count(&app).await, 0);

    let ok = serve_api(&app, "webhook-generic", generic_delivery("s3cret")).await;
    assert_eq!(ok.status, 200, "{:?}", ok.json_body());
    assert_eq!(conversation_count(&app).await, 1);
    // The same delivery again: accepted, nothing written twice.
    let again = serve_api(&app, "webhook-generic", generic_delivery("s3cret")).await;
    assert_eq!(again.status, 200);
    assert_eq!(conversation_count(&app).await, 1);
    assert!(
        app.store()
            .get_channel("acme", "web")
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn whatsapp_handshake_on_get() {
    let app = store_with_channels().await;
    let req = ApiRequest::new(
        Method::GET,
        "/webhooks/whatsapp/acme/wa?hub.mode=subscribe&hub.verify_token=tok&hub.challenge=12345",
        Identity::Unauthenticated,
    );
    let r = serve_api(&app, "webhook-whatsapp", req).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body.as_bytes(), b"12345");
    let bad = ApiRequest::new(
        Method::GET,
        "/webhooks/whatsapp/acme/wa?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1",
        Identity::Unauthenticated,
    );
    assert_eq!(serve_api(&app, "webhook-whatsapp", bad).await.status, 403);
}

#[tokio::test]
async fn a_webhook_function_serves_only_its_own_kind() {
    let app = store_with_channels().await;
    // A generic delivery sent to the Twilio function: a deployment mistake, 404.
    let r = serve_api(&app, "webhook-twilio", generic_delivery("s3cret")).await;
    assert_eq!(r.status, 404);
    assert_eq!(conversation_count(&app).await, 0);
    // Unknown kinds and short paths are not webhooks at all.
    for path in ["/webhooks/sms/acme/web", "/webhooks/generic/acme"] {
        let req = ApiRequest::new(Method::POST, path, Identity::Unauthenticated);
        assert_eq!(inbox_http::handle(&app, req).await.status, 404, "{path}");
    }
}
