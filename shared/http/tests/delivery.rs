//! Outgoing messages' delivery state and WhatsApp's reply window, through HTTP.

mod common;

use common::*;
use hmac::{Hmac, Mac};
use http::{Method, StatusCode, header};
use inbox_http::{ApiRequest, Identity};
use serde_json::{Value, json};
use sha2::Sha256;

const APP_SECRET: &str = "wa-app-secret";

/// A WhatsApp channel `wa` (with sending credentials) and a contact's message
/// on it, delivered through the signed webhook; returns the conversation id.
async fn whatsapp_conversation(h: &Harness) -> String {
    let r = h
        .put(
            &admin(),
            "/channels/wa",
            json!({"kind": "whatsapp", "name": "WhatsApp", "secret": APP_SECRET,
                   "phone_number_id": "106540352242922", "access_token": "EAAG-test"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json_body());
    assert_eq!(r.json_body()["can_send"], true);
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages",
        "value": {"messaging_product": "whatsapp",
                  "metadata": {"display_phone_number": "15550001111", "phone_number_id": "106540352242922"},
                  "contacts": [{"profile": {"name": "Ann"}, "wa_id": "447700900123"}],
                  "messages": [{"from": "447700900123", "id": "wamid.ann-1",
                                "timestamp": "1795255200", "type": "text", "text": {"body": "Hello?"}}]}}]}]});
    let raw = serde_json::to_vec(&body).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(APP_SECRET.as_bytes()).unwrap();
    mac.update(&raw);
    let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    let mut req = ApiRequest::new(
        Method::POST,
        "/webhooks/whatsapp/acme/wa",
        Identity::Unauthenticated,
    )
    .with_header(header::CONTENT_TYPE, "application/json")
    .with_header(
        header::HeaderName::from_static("x-hub-signature-256"),
        &signature,
    );
    req.body = raw.into();
    let r = h.send(req).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json_body());
    let r = h.get(&bob(), "/conversations?view=all").await;
    r.json_body()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn messages(h: &Harness, conv: &str) -> Vec<Value> {
    let r = h
        .get(&bob(), &format!("/conversations/{conv}/messages"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    r.json_body()["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_reply_on_a_channel_is_stored_pending_and_one_without_has_no_delivery() {
    let h = Harness::new();
    h.directory().await;
    let conv = whatsapp_conversation(&h).await;
    let r = h
        .post(
            &bob(),
            &format!("/conversations/{conv}/messages"),
            json!({"body": "Hi Ann"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json_body());
    assert_eq!(
        r.json_body()["message"]["delivery"],
        json!({"status": "pending", "attempts": 0, "error": null,
               "updated_at": "2026-11-21T10:00:00.000Z"})
    );
    let listed = messages(&h, &conv).await;
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["sender"]["kind"], "contact");
    assert_eq!(
        listed[0]["delivery"],
        Value::Null,
        "a contact's message is not delivered"
    );
    assert_eq!(listed[1]["delivery"]["status"], "pending");

    let web = h.conversation("Ben").await;
    let r = h
        .post(
            &bob(),
            &format!("/conversations/{web}/messages"),
            json!({"body": "Hi Ben"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(
        r.json_body()["message"]["delivery"],
        Value::Null,
        "no channel, nothing to deliver"
    );
}

#[tokio::test]
async fn whatsapp_refuses_a_reply_24_hours_and_a_second_after_the_contacts_last_message() {
    let h = Harness::new();
    h.directory().await;
    let conv = whatsapp_conversation(&h).await;
    let path = format!("/conversations/{conv}/messages");

    h.clock.advance_ms(24 * 60 * 60 * 1000);
    let r = h.get(&bob(), &format!("/conversations/{conv}")).await;
    assert_eq!(r.json_body()["viewer"]["can_reply"], true);
    let r = h.post(&bob(), &path, json!({"body": "Just in time"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json_body());

    h.clock.advance_ms(1000);
    let before = h.get(&bob(), &format!("/conversations/{conv}")).await;
    assert_eq!(
        (
            before.json_body()["viewer"]["can_reply"].clone(),
            before.json_body()["viewer"]["reply_blocked_reason"].clone()
        ),
        (json!(false), json!("reply_window_closed"))
    );
    let r = h.post(&bob(), &path, json!({"body": "Too late"})).await;
    assert_problem(&r, 422, "reply_window_closed");
    assert_eq!(messages(&h, &conv).await.len(), 2, "nothing stored");
    let after = h.get(&bob(), &format!("/conversations/{conv}")).await;
    assert_eq!(after.json_body()["version"], before.json_body()["version"]);
}
