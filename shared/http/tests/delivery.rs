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

// ---- The sender: one queue message is one attempt, claimed before the call.

use inbox_app::{Attempted, ChannelSender, Outgoing, SendQueue, SendTask};
use inbox_domain::delivery::{DeliveryError, SendOutcome};
use inbox_store::Outbox;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// A provider that answers from a script (then accepts), counting calls.
#[derive(Default)]
struct Scripted {
    answers: Mutex<VecDeque<SendOutcome>>,
    calls: Mutex<Vec<(String, String)>>,
    /// Holds each call this long, so that concurrent attempts overlap.
    hold_ms: u64,
}

impl Scripted {
    fn answering(answers: impl IntoIterator<Item = SendOutcome>) -> Arc<Self> {
        Arc::new(Scripted {
            answers: Mutex::new(answers.into_iter().collect()),
            ..Default::default()
        })
    }

    fn calls(&self) -> Vec<(String, String)> {
        self.calls.lock().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl ChannelSender for Scripted {
    async fn send(&self, m: &Outgoing<'_>) -> SendOutcome {
        let n = {
            let mut calls = self.calls.lock().unwrap();
            calls.push((m.to.to_string(), m.body.to_string()));
            calls.len()
        };
        if self.hold_ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(self.hold_ms)).await;
        }
        self.answers
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(SendOutcome::Accepted {
                provider_message_id: Some(format!("wamid.sent-{n}")),
            })
    }
}

/// Later attempts, kept for the test to deliver by hand with their delays.
#[derive(Default)]
struct Later(Mutex<Vec<(SendTask, i64)>>);

#[async_trait::async_trait]
impl SendQueue for Later {
    async fn enqueue(&self, task: &SendTask, delay_millis: i64) -> Result<(), inbox_app::AppError> {
        self.0.lock().unwrap().push((task.clone(), delay_millis));
        Ok(())
    }
}

impl Later {
    fn take(&self) -> Vec<(SendTask, i64)> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

fn transient(code: &str) -> SendOutcome {
    SendOutcome::Transient {
        error: DeliveryError {
            code: code.into(),
            message: "provider unavailable".into(),
        },
        retry_after_millis: None,
    }
}

/// A harness sending through `provider`, the WhatsApp conversation, and the
/// first attempts of what is in the outbox (what the bus would queue).
async fn sending(provider: Arc<Scripted>) -> (Harness, Arc<Later>, String) {
    let later = Arc::new(Later::default());
    let h = Harness::new().with_sender(provider, later.clone());
    h.directory().await;
    let conv = whatsapp_conversation(&h).await;
    first_attempts(&h).await;
    (h, later, conv)
}

/// The first attempts of the outbox's `message.outbound` events, acknowledged.
async fn first_attempts(h: &Harness) -> Vec<SendTask> {
    let pending = h.app.store().pending_events(100).await.unwrap();
    let keys: Vec<String> = pending.iter().map(|(k, _)| k.clone()).collect();
    h.app.store().ack_events(&keys).await.unwrap();
    pending
        .iter()
        .filter_map(|(_, e)| SendTask::first(e))
        .collect()
}

async fn reply(h: &Harness, conv: &str, body: &str) -> SendTask {
    let r = h
        .post(
            &bob(),
            &format!("/conversations/{conv}/messages"),
            json!({"body": body}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json_body());
    let mut tasks = first_attempts(h).await;
    assert_eq!(tasks.len(), 1, "one message.outbound per reply");
    tasks.remove(0)
}

async fn delivery_of(h: &Harness, conv: &str, message_id: &str) -> Value {
    messages(h, conv)
        .await
        .into_iter()
        .find(|m| m["id"] == message_id)
        .unwrap()
}

#[tokio::test]
async fn a_duplicate_delivery_and_a_second_worker_at_once_make_one_provider_call() {
    let provider = Arc::new(Scripted {
        hold_ms: 50,
        ..Default::default()
    });
    let (h, later, conv) = sending(provider.clone()).await;
    let task = reply(&h, &conv, "Hi Ann").await;
    assert_eq!(
        task.to.as_deref(),
        Some("447700900123"),
        "the wa_id it came from"
    );

    let (a, b) = tokio::join!(h.app.deliver(&task), h.app.deliver(&task));
    // The loser either lost the claim's write or saw the winner's claim.
    let outcomes = [a.unwrap(), b.unwrap()];
    assert_eq!(
        outcomes.iter().filter(|o| **o == Attempted::Sent).count(),
        1,
        "{outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, Attempted::Sent | Attempted::Skipped | Attempted::Busy)),
        "{outcomes:?}"
    );
    assert_eq!(h.app.deliver(&task).await.unwrap(), Attempted::Skipped);
    assert_eq!(
        provider.calls(),
        vec![("447700900123".to_string(), "Hi Ann".to_string())]
    );
    assert!(later.take().is_empty());
    let m = delivery_of(&h, &conv, &task.message_id).await;
    assert_eq!(m["delivery"]["status"], "sent");
    assert_eq!(m["delivery"]["attempts"], 1);
    assert_eq!(m["channel_message_id"], "wamid.sent-1");
}

#[tokio::test]
async fn transient_failures_are_retried_with_backoff_until_sent() {
    let provider = Scripted::answering([transient("503"), transient("503"), transient("timeout")]);
    let (h, later, conv) = sending(provider.clone()).await;
    let mut task = reply(&h, &conv, "Hi Ann").await;
    let mut waits = Vec::new();
    loop {
        match h.app.deliver(&task).await.unwrap() {
            Attempted::Retrying { in_millis } => {
                let mut queued = later.take();
                assert_eq!(queued.len(), 1);
                let (next, delay) = queued.remove(0);
                assert_eq!((next.attempt, delay), (task.attempt + 1, in_millis));
                let m = delivery_of(&h, &conv, &task.message_id).await;
                assert_eq!(m["delivery"]["status"], "pending");
                assert_eq!(m["delivery"]["attempts"], task.attempt);
                assert_eq!(
                    m["delivery"]["error"]["code"],
                    if task.attempt == 3 { "timeout" } else { "503" }
                );
                waits.push(delay);
                h.clock.advance_ms(delay);
                task = next;
            }
            Attempted::Sent => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(provider.calls().len(), 4, "one call per attempt");
    let m = delivery_of(&h, &conv, &task.message_id).await;
    assert_eq!(m["delivery"]["status"], "sent");
    assert_eq!(m["delivery"]["attempts"], 4);
    assert_eq!(m["delivery"]["error"], Value::Null);
    // About 5 s, then doubling (each within a fifth either way).
    for (wait, base) in waits.iter().zip([5_000, 10_000, 20_000]) {
        assert!((base * 8 / 10..=base * 12 / 10).contains(wait), "{waits:?}");
    }
}

#[tokio::test]
async fn the_eighth_transient_failure_fails_the_message() {
    let provider = Scripted::answering((0..8).map(|_| transient("503")));
    let (h, later, conv) = sending(provider.clone()).await;
    let mut task = reply(&h, &conv, "Hi Ann").await;
    for _ in 1..8 {
        assert!(matches!(
            h.app.deliver(&task).await.unwrap(),
            Attempted::Retrying { .. }
        ));
        task = later.take().remove(0).0;
    }
    assert_eq!(
        h.app.deliver(&task).await.unwrap(),
        Attempted::Failed { code: "503".into() }
    );
    assert_eq!(provider.calls().len(), 8);
    assert!(
        later.take().is_empty(),
        "nothing queued after the last attempt"
    );
    let m = delivery_of(&h, &conv, &task.message_id).await;
    assert_eq!(m["delivery"]["status"], "failed");
    assert_eq!(m["delivery"]["attempts"], 8);
}

#[tokio::test]
async fn a_permanent_refusal_fails_at_once_on_the_timeline_and_a_retry_sends_it_once() {
    let refusal = SendOutcome::Permanent {
        error: DeliveryError {
            code: "131026".into(),
            message: "Message undeliverable".into(),
        },
    };
    let provider = Scripted::answering([refusal]);
    let (h, later, conv) = sending(provider.clone()).await;
    let task = reply(&h, &conv, "Hi Ann").await;
    assert_eq!(
        h.app.deliver(&task).await.unwrap(),
        Attempted::Failed {
            code: "131026".into()
        }
    );
    assert!(later.take().is_empty());
    let m = delivery_of(&h, &conv, &task.message_id).await;
    assert_eq!(
        m["delivery"]["error"],
        json!({"code": "131026", "message": "Message undeliverable"})
    );
    assert_eq!(m["delivery"]["status"], "failed");
    let r = h
        .get(&bob(), &format!("/conversations/{conv}/timeline"))
        .await;
    let events = r.json_body()["items"].as_array().unwrap().clone();
    let failed = events.last().unwrap();
    assert_eq!(failed["type"], "delivery_failed");
    assert_eq!(
        failed["data"],
        json!({"message_id": task.message_id, "code": "131026"})
    );
    assert_eq!(failed["actor"]["kind"], "system");
    // A duplicate of the attempt changes nothing.
    assert_eq!(h.app.deliver(&task).await.unwrap(), Attempted::Skipped);

    let retry = format!("/conversations/{conv}/messages/{}/retry", task.message_id);
    let r = h.call(&viewer(), Method::POST, &retry, None).await;
    assert_problem(&r, 403, "forbidden");
    let r = h.call(&bob(), Method::POST, &retry, None).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.json_body());
    assert_eq!(r.json_body()["message"]["delivery"]["status"], "pending");
    assert_eq!(r.json_body()["message"]["delivery"]["attempts"], 0);
    let again = first_attempts(&h).await;
    assert_eq!(again.len(), 1, "queued again as message.outbound");
    assert_eq!(again[0].at, task.at, "the same stored message");
    assert_eq!(h.app.deliver(&again[0]).await.unwrap(), Attempted::Sent);
    assert_eq!(provider.calls().len(), 2, "the retry sent it once");
    assert_eq!(
        delivery_of(&h, &conv, &task.message_id).await["delivery"]["status"],
        "sent"
    );

    let r = h.call(&bob(), Method::POST, &retry, None).await;
    assert_problem(&r, 409, "not_retryable");
    let contact_message = messages(&h, &conv).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = h
        .call(
            &bob(),
            Method::POST,
            &format!("/conversations/{conv}/messages/{contact_message}/retry"),
            None,
        )
        .await;
    assert_problem(&r, 409, "not_retryable");
    let r = h
        .call(
            &bob(),
            Method::POST,
            &format!("/conversations/{conv}/messages/msg_nope/retry"),
            None,
        )
        .await;
    assert_problem(&r, 404, "not_found");
}

#[tokio::test]
async fn a_sender_that_stops_after_claiming_leaves_the_message_failed_outcome_unknown() {
    let provider = Arc::new(Scripted::default());
    let (h, _later, conv) = sending(provider.clone()).await;
    let task = reply(&h, &conv, "Hi Ann").await;
    // The first sender claimed attempt 1 and stopped before recording the
    // provider's answer (what `deliver` writes before the call).
    let stored = delivery_of(&h, &conv, &task.message_id).await;
    let read: inbox_domain::Delivery = serde_json::from_value(stored["delivery"].clone()).unwrap();
    let claimed = read.claim(1, inbox_store::Clock::now(&h.clock)).unwrap();
    let write = inbox_store::DeliveryWrite {
        message_id: task.message_id.clone(),
        expected: read,
        next: claimed,
        sent_as: None,
    };
    use inbox_store::ConversationStore;
    assert!(
        h.app
            .store()
            .put_delivery("acme", &conv, task.at, &write)
            .await
            .unwrap()
    );

    // Its queue message comes back: while the claim is fresh, it waits.
    h.clock.advance_ms(30_000);
    assert_eq!(h.app.deliver(&task).await.unwrap(), Attempted::Busy);
    // After the lease, nobody knows whether the provider has it: it is not sent again.
    h.clock.advance_ms(2 * 60 * 1000);
    assert_eq!(
        h.app.deliver(&task).await.unwrap(),
        Attempted::Failed {
            code: "outcome_unknown".into()
        }
    );
    assert!(provider.calls().is_empty(), "no second call");
    let m = delivery_of(&h, &conv, &task.message_id).await;
    assert_eq!(m["delivery"]["status"], "failed");
    assert_eq!(m["delivery"]["error"]["code"], "outcome_unknown");
    assert!(
        h.timeline_types(&conv)
            .await
            .contains(&"delivery_failed".to_string())
    );
}

#[tokio::test]
async fn notes_and_conversations_without_a_channel_send_nothing() {
    let provider = Arc::new(Scripted::default());
    let (h, _later, conv) = sending(provider.clone()).await;
    let r = h
        .post(
            &bob(),
            &format!("/conversations/{conv}/notes"),
            json!({"body": "internal"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json_body());
    let web = h.conversation("Ben").await;
    let r = h
        .post(
            &bob(),
            &format!("/conversations/{web}/messages"),
            json!({"body": "Hi Ben"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert!(first_attempts(&h).await.is_empty());
    assert!(provider.calls().is_empty());
}
