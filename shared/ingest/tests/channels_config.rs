//! `PUT /channels/{id}` and `GET /channels` cores.

use inbox_domain::{ChannelKind, Role};
use inbox_ingest::{ConfigError, list_channels, put_channel};
use inbox_store::DirectoryStore;
use inbox_store::sqlite::SqliteStore;
use serde_json::{Value, json};

const WS: &str = "acme";

async fn put(store: &SqliteStore, role: Role, id: &str, body: Value) -> Result<Value, ConfigError> {
    put_channel(store, role, WS, id, body.to_string().as_bytes())
        .await
        .map(|view| serde_json::to_value(view).unwrap())
}

#[tokio::test]
async fn admins_and_owners_configure_channels_and_secrets_never_come_back() {
    let store = SqliteStore::in_memory().unwrap();
    let view = put(
        &store,
        Role::Admin,
        "wa-main",
        json!({"kind": "whatsapp", "name": " WhatsApp ", "secret": "app-secret-1", "verify_token": "vt-9"}),
    )
    .await
    .unwrap();
    assert_eq!(
        view,
        json!({"id": "wa-main", "kind": "whatsapp", "name": "WhatsApp",
               "webhook_path": "/webhooks/whatsapp/acme/wa-main", "has_verify_token": true,
               "can_send": false, "api_base_url": null, "default_agent_id": null})
    );
    put(
        &store,
        Role::Owner,
        "sms",
        json!({"kind": "twilio", "name": "SMS", "secret": "auth-token"}),
    )
    .await
    .unwrap();
    // Stored with the secret, for verification.
    let stored = store.get_channel(WS, "wa-main").await.unwrap().unwrap();
    assert_eq!(stored.secret, "app-secret-1");
    assert_eq!(stored.verify_token.as_deref(), Some("vt-9"));

    for role in [Role::Viewer, Role::Agent, Role::Admin, Role::Owner] {
        let list = list_channels(&store, role, WS).await.unwrap();
        let text = serde_json::to_string(&list).unwrap();
        assert!(!text.contains("app-secret-1") && !text.contains("auth-token"));
        assert!(!text.contains("vt-9") && !text.contains("\"secret\""));
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["next_cursor"], Value::Null);
        let ids: Vec<_> = list.items.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["sms", "wa-main"]);
        assert_eq!(list.items[0].kind, ChannelKind::Twilio);
    }
    assert!(
        list_channels(&store, Role::Viewer, "other")
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

#[tokio::test]
async fn put_replaces() {
    let store = SqliteStore::in_memory().unwrap();
    let body = json!({"kind": "generic", "name": "Web", "secret": "one"});
    put(&store, Role::Admin, "web", body).await.unwrap();
    let body = json!({"kind": "generic", "name": "Web form", "secret": "two"});
    put(&store, Role::Admin, "web", body).await.unwrap();
    let stored = store.get_channel(WS, "web").await.unwrap().unwrap();
    assert_eq!(
        (stored.name.as_str(), stored.secret.as_str()),
        ("Web form", "two")
    );
}

fn status_and_code(err: &ConfigError) -> (u16, &'static str) {
    (err.status(), err.code())
}

#[tokio::test]
async fn only_admins_and_owners_may_write() {
    let store = SqliteStore::in_memory().unwrap();
    let body = json!({"kind": "generic", "name": "Web", "secret": "s"});
    for role in [Role::Viewer, Role::Agent, Role::AiAgent, Role::Integration] {
        let err = put(&store, role, "web", body.clone()).await.unwrap_err();
        assert_eq!(status_and_code(&err), (403, "forbidden"), "{role:?}");
    }
    for role in [Role::AiAgent, Role::Integration] {
        let err = list_channels(&store, role, WS).await.unwrap_err();
        assert_eq!(status_and_code(&err), (403, "forbidden"), "{role:?}");
    }
    assert!(store.list_channels(WS).await.unwrap().is_empty());
}

#[tokio::test]
async fn malformed_requests_are_400() {
    let store = SqliteStore::in_memory().unwrap();
    let ok = json!({"kind": "generic", "name": "Web", "secret": "s"});
    for id in ["Web", "-web", "", "a b", &"a".repeat(65)] {
        let err = put(&store, Role::Admin, id, ok.clone()).await.unwrap_err();
        assert_eq!(status_and_code(&err), (400, "bad_request"), "{id:?}");
    }
    for body in [
        json!({"kind": "generic", "name": "Web", "secret": "s", "colour": "red"}),
        json!({"kind": "fax", "name": "Web", "secret": "s"}),
        json!({"kind": "generic", "name": 7, "secret": "s"}),
        json!([]),
        json!([{"kind": "generic", "name": "Web", "secret": "s"}]),
        json!(null),
    ] {
        let err = put(&store, Role::Admin, "web", body.clone())
            .await
            .unwrap_err();
        assert_eq!(status_and_code(&err), (400, "bad_request"), "{body}");
    }
    // A PUT replaces the whole channel: each missing required field is named in one 422.
    let err = put(&store, Role::Admin, "web", json!({"name": "Web"}))
        .await
        .unwrap_err();
    assert_eq!(status_and_code(&err), (422, "validation_failed"));
    let fields: Vec<String> = err.extra()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(fields, ["kind", "secret"]);
    let err = put_channel(&store, Role::Admin, WS, "web", b"{nope")
        .await
        .unwrap_err();
    assert_eq!(status_and_code(&err), (400, "bad_request"));
    let big = vec![b' '; 300 * 1024];
    let err = put_channel(&store, Role::Admin, WS, "web", &big)
        .await
        .unwrap_err();
    assert_eq!(status_and_code(&err), (413, "payload_too_large"));
    assert!(store.list_channels(WS).await.unwrap().is_empty());
}

#[tokio::test]
async fn invalid_values_are_422_with_the_fields() {
    let store = SqliteStore::in_memory().unwrap();
    for (body, field) in [
        (
            json!({"kind": "generic", "name": "Web", "secret": ""}),
            "secret",
        ),
        (
            json!({"kind": "generic", "name": "Web", "secret": "   "}),
            "secret",
        ),
        (
            json!({"kind": "generic", "name": "", "secret": "s"}),
            "name",
        ),
        (
            json!({"kind": "telegram", "name": "Bot", "secret": "has space"}),
            "secret",
        ),
        (
            json!({"kind": "twilio", "name": "SMS", "secret": "s", "verify_token": "t"}),
            "verify_token",
        ),
        (
            json!({"kind": "whatsapp", "name": "WA", "secret": "s", "verify_token": ""}),
            "verify_token",
        ),
    ] {
        let err = put(&store, Role::Admin, "ch", body.clone())
            .await
            .unwrap_err();
        assert_eq!(status_and_code(&err), (422, "validation_failed"), "{body}");
        let extra = err.extra();
        assert_eq!(extra["errors"][0]["field"], field, "{body}");
    }
    assert!(store.list_channels(WS).await.unwrap().is_empty());
}

#[tokio::test]
async fn sending_credentials_are_stored_and_never_shown() {
    let store = SqliteStore::in_memory().unwrap();
    let view = put(
        &store,
        Role::Admin,
        "wa",
        json!({"kind": "whatsapp", "name": "WhatsApp", "secret": "app-secret",
               "phone_number_id": "106540352242922", "access_token": "EAAG-token-1",
               "api_base_url": "http://127.0.0.1:9911/"}),
    )
    .await
    .unwrap();
    assert_eq!(view["can_send"], true);
    assert_eq!(view["api_base_url"], "http://127.0.0.1:9911");
    let stored = store.get_channel(WS, "wa").await.unwrap().unwrap();
    assert_eq!(
        stored.sending,
        Some(inbox_domain::Sending::Whatsapp {
            phone_number_id: "106540352242922".into(),
            access_token: "EAAG-token-1".into()
        })
    );
    let list =
        serde_json::to_string(&list_channels(&store, Role::Owner, WS).await.unwrap()).unwrap();
    assert!(!list.contains("EAAG-token-1") && !list.contains("106540352242922"));

    // Replacing without credentials makes it receive-only again.
    let view = put(
        &store,
        Role::Admin,
        "wa",
        json!({"kind": "whatsapp", "name": "WhatsApp", "secret": "s"}),
    )
    .await
    .unwrap();
    assert_eq!(view["can_send"], false);
}

#[tokio::test]
async fn bad_sending_credentials_are_422_by_field_and_write_nothing() {
    let store = SqliteStore::in_memory().unwrap();
    let cases = [
        (
            json!({"kind": "twilio", "name": "SMS", "secret": "t", "account_sid": "AC1"}),
            vec!["from", "account_sid"],
        ),
        (
            json!({"kind": "twilio", "name": "SMS", "secret": "t", "account_sid": "AC0123456789abcdef0123456789abcdef", "from": "+15550001111", "bot_token": "1:a"}),
            vec!["bot_token"],
        ),
        (
            json!({"kind": "telegram", "name": "Bot", "secret": "s", "bot_token": "nope"}),
            vec!["bot_token"],
        ),
        (
            json!({"kind": "generic", "name": "Web", "secret": "s", "outbound_url": "http://hooks.example.com/x"}),
            vec!["outbound_url"],
        ),
        (
            json!({"kind": "generic", "name": "Web", "secret": "s", "api_base_url": "ftp://x"}),
            vec!["api_base_url"],
        ),
    ];
    for (body, fields) in cases {
        let err = put(&store, Role::Admin, "c", body.clone())
            .await
            .unwrap_err();
        assert_eq!(status_and_code(&err), (422, "validation_failed"), "{body}");
        let errors = err.extra()["errors"].clone();
        let named: Vec<_> = errors
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(named, fields, "{body}");
        assert!(store.get_channel(WS, "c").await.unwrap().is_none());
    }
}

#[tokio::test]
async fn a_channels_default_agent_must_be_an_ai_agent_of_the_workspace() {
    let store = SqliteStore::in_memory().unwrap();
    let body = |agent: &str| json!({"kind": "whatsapp", "name": "WhatsApp", "secret": "s", "default_agent_id": agent});
    let unknown = put(&store, Role::Admin, "wa", body("max"))
        .await
        .unwrap_err();
    assert_eq!((unknown.status(), unknown.code()), (422, "unknown_agent"));
    store
        .put_agent(WS, &inbox_domain::AiAgent::external("max", "Max"))
        .await
        .unwrap();
    let bad = put(&store, Role::Admin, "wa", body("Max!"))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), "validation_failed");
    assert!(
        store.get_channel(WS, "wa").await.unwrap().is_none(),
        "nothing written"
    );
    let view = put(&store, Role::Admin, "wa", body("max")).await.unwrap();
    assert_eq!(view["default_agent_id"], "max");
    let stored = store.get_channel(WS, "wa").await.unwrap().unwrap();
    assert_eq!(stored.default_agent_id.as_deref(), Some("max"));
    // Null clears it.
    let mut cleared = body("max");
    cleared["default_agent_id"] = Value::Null;
    let view = put(&store, Role::Admin, "wa", cleared).await.unwrap();
    assert_eq!(view["default_agent_id"], Value::Null);
}
