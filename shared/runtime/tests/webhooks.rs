//! The webhook functions' handler on the embedded store: a signed delivery is
//! stored, a bad one writes nothing, WhatsApp's handshake answers.

use http::{HeaderValue, Method};
use inbox_domain::ChannelKind;
use inbox_http::{ApiRequest, ApiResponse, Identity};
use inbox_runtime::{Config, webhook, webhook_target};
use inbox_store::sqlite::SqliteStore;
use inbox_store::{ConversationStore, DirectoryStore};
use serde_json::json;

fn config() -> Config {
    Config::from_lookup(|k| (k == "INBOX_TABLE_NAME").then(|| "unused".to_string())).unwrap()
}

async fn store_with_channels() -> SqliteStore {
    let store = SqliteStore::in_memory().unwrap();
    let admin = Identity::from_authorizer(Some(&std::collections::HashMap::from([
        ("sub", "ann"),
        ("custom:workspace_id", "acme"),
        ("custom:role", "admin"),
    ])));
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
        let r = inbox_http::channels::channel_put(&store, &admin, id, body.to_string().as_bytes())
            .await;
        assert_eq!(r.status, 200, "{:?}", r.json_body());
    }
    store
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

async fn conversation_count(store: &SqliteStore) -> usize {
    let q = inbox_domain::ListQuery::parse([("view", "all")]).unwrap();
    store
        .list_conversations("acme", &q, "ann", &inbox_store::PageRequest::first(50))
        .await
        .unwrap()
        .items
        .len()
}

#[tokio::test]
async fn a_signed_delivery_is_stored_and_a_forged_one_is_not() {
    let store = store_with_channels().await;
    let forged: ApiResponse = webhook(
        &store,
        &config(),
        ChannelKind::Generic,
        generic_delivery("wrong"),
    )
    .await;
    assert_eq!(forged.status, 401);
    assert_eq!(forged.json_body()["code"], "invalid_signature");
    assert_eq!(conversation_count(&store).await, 0);

    let ok = webhook(
        &store,
        &config(),
        ChannelKind::Generic,
        generic_delivery("s3cret"),
    )
    .await;
    assert_eq!(ok.status, 200, "{:?}", ok.json_body());
    assert_eq!(conversation_count(&store).await, 1);
    // The same delivery again: accepted, nothing written twice.
    let again = webhook(
        &store,
        &config(),
        ChannelKind::Generic,
        generic_delivery("s3cret"),
    )
    .await;
    assert_eq!(again.status, 200);
    assert_eq!(conversation_count(&store).await, 1);
    assert!(store.get_channel("acme", "web").await.unwrap().is_some());
}

#[tokio::test]
async fn whatsapp_handshake_on_get() {
    let store = store_with_channels().await;
    let req = ApiRequest::new(
        Method::GET,
        "/webhooks/whatsapp/acme/wa?hub.mode=subscribe&hub.verify_token=tok&hub.challenge=12345",
        Identity::Unauthenticated,
    );
    let r = webhook(&store, &config(), ChannelKind::Whatsapp, req).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body.as_bytes(), b"12345");
    let bad = ApiRequest::new(
        Method::GET,
        "/webhooks/whatsapp/acme/wa?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1",
        Identity::Unauthenticated,
    );
    assert_eq!(
        webhook(&store, &config(), ChannelKind::Whatsapp, bad)
            .await
            .status,
        403
    );
}

#[test]
fn webhook_paths_name_their_kind_workspace_and_channel() {
    assert_eq!(
        webhook_target("/webhooks/twilio/acme/sms-main", ChannelKind::Twilio),
        Some(("acme".into(), "sms-main".into()))
    );
    assert_eq!(
        webhook_target("/webhooks/twilio/acme/sms-main", ChannelKind::Generic),
        None
    );
    assert_eq!(
        webhook_target("/webhooks/twilio/acme", ChannelKind::Twilio),
        None
    );
    assert_eq!(
        webhook_target("/webhooks/twilio/acme/x/y", ChannelKind::Twilio),
        None
    );
}
