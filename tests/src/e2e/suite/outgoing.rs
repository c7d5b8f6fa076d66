//! Outgoing webhooks, end to end: endpoints made over HTTP, deliveries to a
//! loopback receiver that verifies them with the PyPI `standardwebhooks`
//! library, retries with the same `webhook-id`, per-conversation order to a
//! slow receiver, a receiver that is down for a while, and the URL rules.
//! The dev server runs with `--webhook-retry-speedup 1000`.

use super::*;
use crate::e2e::receiver::Receiver;

/// Waits until `check` holds for what the receiver has, or panics with it.
async fn until<F>(what: &str, receiver: &Receiver, within: Duration, check: F) -> Value
where
    F: Fn(&Value) -> bool,
{
    let start = Instant::now();
    loop {
        let log = receiver.log().await;
        if check(&log) {
            return log;
        }
        assert!(start.elapsed() < within, "{what}: the receiver has {log:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Makes endpoint `id` posting `events` to the receiver, which trusts its secret.
async fn subscribe(ws: &Ws, receiver: &Receiver, id: &str, events: Value) -> Value {
    let made = ws
        .put(
            ADA,
            &format!("/outgoing-webhooks/{id}"),
            json!({"url": receiver.url(id), "events": events}),
        )
        .await
        .expect(200);
    let secret = made["secret"].as_str().expect("a secret when made");
    assert!(secret.starts_with("whsec_"), "{made}");
    receiver.trust(secret).await;
    made
}

fn events_of<'a>(log: &'a Value, conv: &str) -> Vec<&'a Value> {
    log["events"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|e| e["data"]["conversation_id"] == conv)
                .collect()
        })
        .unwrap_or_default()
}

/// A receiver answering 500 twice then 200 gets the same `webhook-id` three
/// times, every attempt verifies, and the event is in its log once; the
/// delivery record says so.
pub async fn webhook_retries_keep_their_id(base: &str) {
    let ws = ready(base, "webhook_retries").await;
    let receiver = Receiver::start();
    subscribe(&ws, &receiver, "crm", json!(["conversation.assigned"])).await;
    receiver
        .control(json!({"fail": 2, "fail_status": 500}))
        .await;
    let conv = ws.conversation("Ann").await;
    ws.act(BOB, &conv, "assign", json!({"member_id": "bob"}))
        .await
        .expect(200);
    let log = until(
        "three attempts, the last answered 200",
        &receiver,
        Duration::from_secs(20),
        |l| l["events"].as_array().is_some_and(|e| !e.is_empty()),
    )
    .await;
    let attempts = log["attempts"].as_array().expect("attempts");
    let statuses: Vec<i64> = attempts
        .iter()
        .map(|a| a["status"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, [500, 500, 200], "{log:#}");
    assert!(attempts.iter().all(|a| a["verified"] == true), "{log:#}");
    let ids: Vec<&Value> = attempts.iter().map(|a| &a["webhook_id"]).collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "one webhook-id on every attempt: {ids:?}"
    );
    let events = log["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "once after dedupe: {log:#}");
    let event = &events[0];
    assert_eq!(event["type"], "conversation.assigned");
    assert_eq!(event["data"]["workspace_id"], ws.id.as_str());
    assert_eq!(event["data"]["conversation_id"], conv.as_str());
    assert_eq!(event["data"]["data"]["to"], "bob");
    let timeline = ws.timeline(&conv).await;
    assert_eq!(
        *ids[0],
        last(&timeline, "assigned")["id"],
        "webhook-id is the event's id"
    );

    let deliveries = ws
        .get(ADA, "/outgoing-webhooks/crm/deliveries")
        .await
        .expect(200);
    let d = &deliveries["items"][0];
    assert_eq!(d["event_id"], *ids[0]);
    assert_eq!(d["type"], "conversation.assigned");
    assert_eq!(d["status"], "succeeded");
    assert_eq!(d["attempts"], 3);
    assert_eq!(d["last_response_status"], 200);
    assert_eq!(d["next_attempt_at"], Value::Null);
}

/// Twenty changes to one conversation reach a slow receiver in commit
/// order, each once, alongside a second conversation's.
pub async fn webhook_order_per_conversation(base: &str) {
    let ws = ready(base, "webhook_order").await;
    let receiver = Receiver::start();
    subscribe(
        &ws,
        &receiver,
        "audit",
        json!(["conversation.*", "message.created"]),
    )
    .await;
    receiver.control(json!({"delay_ms": 60})).await;
    let conv = ws.conversation("Ann").await;
    let other = ws.conversation("Ben").await;
    for i in 0..20 {
        let target = if i % 5 == 4 { &other } else { &conv };
        match i % 4 {
            0 => ws
                .act(BOB, target, "labels", json!({"add": [format!("l{i}")]}))
                .await
                .expect(200),
            1 => ws
                .act(
                    BOB,
                    target,
                    "messages",
                    json!({"body": format!("reply {i}")}),
                )
                .await
                .expect(201),
            2 => ws
                .act(BOB, target, "notes", json!({"body": format!("note {i}")}))
                .await
                .expect(200),
            _ => ws
                .act(
                    BOB,
                    target,
                    "assign",
                    json!({"member_id": if i % 8 == 3 { "bob" } else { "carol" }}),
                )
                .await
                .expect(200),
        };
    }
    // What the conversation committed, in commit order: its timeline events and messages.
    let mut committed: Vec<(String, String)> = Vec::new();
    for e in ws.timeline(&conv).await {
        committed.push((
            e["at"].as_str().unwrap().into(),
            e["id"].as_str().unwrap().into(),
        ));
    }
    for m in ws
        .all_pages(&format!("/conversations/{conv}/messages"))
        .await
    {
        committed.push((
            m["created_at"].as_str().unwrap().into(),
            m["id"].as_str().unwrap().into(),
        ));
    }
    committed.sort();
    let expected = committed.len();
    let log = until(
        "every change of the conversation",
        &receiver,
        Duration::from_secs(30),
        |l| events_of(l, &conv).len() >= expected,
    )
    .await;
    let got: Vec<String> = events_of(&log, &conv)
        .iter()
        .map(|e| {
            e["data"]["id"]
                .as_str()
                .or(e["data"]["message"]["id"].as_str())
                .unwrap()
                .to_string()
        })
        .collect();
    let want: Vec<String> = committed.into_iter().map(|(_, id)| id).collect();
    assert_eq!(got, want, "commit order to one endpoint");
    assert!(events_of(&log, &other).len() >= 4, "{log:#}");
    assert!(
        log["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["verified"] == true)
    );
}

/// An event committed while the receiver is down is delivered once it is
/// back, with the attempts it failed counted; nothing is lost.
pub async fn webhook_survives_a_receiver_outage(base: &str) {
    let ws = ready(base, "webhook_outage").await;
    let mut receiver = Receiver::start();
    subscribe(&ws, &receiver, "crm", json!(["conversation.assigned"])).await;
    let secret_holder = ws.get(ADA, "/outgoing-webhooks").await.expect(200);
    assert!(
        secret_holder["items"][0].get("secret").is_none(),
        "a listed endpoint shows no secret: {secret_holder}"
    );
    let port = receiver.port;
    let conv = ws.conversation("Ann").await;
    receiver.stop();
    ws.act(BOB, &conv, "assign", json!({"member_id": "carol"}))
        .await
        .expect(200);
    // Sped up 1000×: attempts at 0, 5 ms, 305 ms, 2.1 s; the next at 9.3 s.
    let start = Instant::now();
    loop {
        let d = ws
            .get(ADA, "/outgoing-webhooks/crm/deliveries")
            .await
            .expect(200);
        let item = &d["items"][0];
        if item["attempts"].as_u64().unwrap_or(0) >= 4 {
            assert_eq!(item["status"], "retrying", "{d}");
            assert_eq!(
                item["last_response_status"],
                Value::Null,
                "no answer while down: {d}"
            );
            assert!(item["next_attempt_at"].is_string(), "{d}");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "four failed attempts: {d}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let receiver = Receiver::start_on(port);
    let secret = ws
        .post(ADA, "/outgoing-webhooks/crm/rotate-secret", json!({}))
        .await
        .expect(200);
    receiver
        .trust(secret["secret"].as_str().expect("a new secret"))
        .await;
    let log = until(
        "the event, once the receiver is back",
        &receiver,
        Duration::from_secs(30),
        |l| !events_of(l, &conv).is_empty(),
    )
    .await;
    assert_eq!(events_of(&log, &conv)[0]["type"], "conversation.assigned");
    assert!(
        log["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["verified"] == true),
        "signed with the rotated secret: {log:#}"
    );
    let d = ws
        .get(ADA, "/outgoing-webhooks/crm/deliveries")
        .await
        .expect(200);
    assert_eq!(d["items"][0]["status"], "succeeded", "{d}");
    assert!(d["items"][0]["attempts"].as_u64().unwrap() >= 5, "{d}");
}

/// Endpoint rules over HTTP: admins only; https, or http to loopback on the
/// dev server (in AWS never a private, loopback, link-local or metadata
/// address: the Lambda handler's test, `inbox-runtime`); known event
/// types; the secret shown when made and on rotation only; a filter
/// delivers only what it names; delete.
pub async fn webhook_endpoints_are_admins_and_checked(base: &str) {
    let ws = ready(base, "webhook_endpoints").await;
    let receiver = Receiver::start();
    let body = json!({"url": receiver.url("x"), "events": ["*"]});
    for who in [BOB, VIC, MAX, ZAP] {
        ws.put(who, "/outgoing-webhooks/x", body.clone())
            .await
            .problem(403, "forbidden");
    }
    ws.get(BOB, "/outgoing-webhooks")
        .await
        .problem(403, "forbidden");
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.8/hook",
        "http://[fd00::1]/hook",
        "http://example.com/hook",
        "https://user:pw@example.com/hook",
        "ftp://127.0.0.1/hook",
        "not a url",
    ] {
        ws.put(
            ADA,
            "/outgoing-webhooks/x",
            json!({"url": url, "events": ["*"]}),
        )
        .await
        .problem(422, "invalid_url");
    }
    ws.put(
        ADA,
        "/outgoing-webhooks/x",
        json!({"url": receiver.url("x"), "events": ["message.nope"]}),
    )
    .await
    .problem(422, "validation_failed");
    ws.put(
        ADA,
        "/outgoing-webhooks/x",
        json!({"url": receiver.url("x")}),
    )
    .await
    .problem(422, "validation_failed");
    ws.put(ADA, "/outgoing-webhooks/Bad%20Id", body.clone())
        .await
        .expect(422);
    assert_eq!(
        ws.get(ADA, "/outgoing-webhooks").await.expect(200)["items"],
        json!([]),
        "nothing refused was written"
    );

    let made = subscribe(&ws, &receiver, "msgs", json!(["message.created"])).await;
    assert_eq!(made["enabled"], true);
    assert_eq!(made["disabled_reason"], Value::Null);
    let changed = ws
        .put(
            ADA,
            "/outgoing-webhooks/msgs",
            json!({"url": receiver.url("msgs"), "events": ["message.*"], "enabled": true}),
        )
        .await
        .expect(200);
    assert!(
        changed.get("secret").is_none(),
        "a change shows no secret: {changed}"
    );
    assert_eq!(changed["events"], json!(["message.*"]));

    let conv = ws.conversation("Ann").await;
    ws.act(BOB, &conv, "assign", json!({"member_id": "bob"}))
        .await
        .expect(200);
    let posted = ws
        .act(BOB, &conv, "messages", json!({"body": "Hello Ann"}))
        .await
        .expect(201);
    until("the message", &receiver, Duration::from_secs(20), |l| {
        !events_of(l, &conv).is_empty()
    })
    .await;
    // Time for anything the filter should have kept out to arrive too.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let log = receiver.log().await;
    let got = events_of(&log, &conv);
    assert_eq!(got.len(), 1, "only what the filter names: {log:#}");
    assert_eq!(got[0]["type"], "message.created");
    assert_eq!(got[0]["data"]["message"]["id"], posted["message"]["id"]);
    assert_eq!(got[0]["data"]["message"]["body"], "Hello Ann");

    ws.delete(ADA, "/outgoing-webhooks/msgs").await.expect(204);
    ws.delete(ADA, "/outgoing-webhooks/msgs")
        .await
        .problem(404, "not_found");
    ws.get(ADA, "/outgoing-webhooks/msgs/deliveries")
        .await
        .problem(404, "not_found");
    ws.post(ADA, "/outgoing-webhooks/msgs/rotate-secret", json!({}))
        .await
        .problem(404, "not_found");
}

/// A reply on a channel is `message.created`, then `message.delivery_updated`
/// once the provider took it (`sent`), in that order; the claim's
/// intermediate rewrite (still `pending`) is not an event.
pub async fn webhook_delivery_updates_follow_the_message(base: &str) {
    let ws = ready(base, "webhook_delivery_updates").await;
    let receiver = Receiver::start();
    subscribe(&ws, &receiver, "msgs", json!(["message.*"])).await;
    let fakes = fake_providers::start().await.expect("the fakes start");
    ws.put(
        ADA,
        "/channels/sms",
        json!({"kind": "twilio", "name": "SMS", "secret": "e2e-twilio-auth-token",
               "account_sid": "AC0123456789abcdef0123456789abcdef", "from": "+15550001000",
               "api_base_url": fakes}),
    )
    .await
    .expect(200);
    let contact = ws
        .post(
            BOB,
            "/contacts",
            json!({"name": "Pat", "phone": "+15550100777"}),
        )
        .await
        .expect(201);
    let conv = ws
        .post(
            BOB,
            "/conversations",
            json!({"contact_id": contact["id"], "channel_id": "sms"}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .expect("an id")
        .to_string();
    let posted = ws
        .act(BOB, &conv, "messages", json!({"body": "On its way"}))
        .await
        .expect(201);
    let id = posted["message"]["id"].as_str().expect("an id").to_string();
    until(
        "created, then sent",
        &receiver,
        Duration::from_secs(20),
        |l| events_of(l, &conv).len() >= 2,
    )
    .await;
    // Time for anything out of place (a pending rewrite) to arrive too.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = receiver.log().await;
    let got = events_of(&log, &conv);
    let kinds: Vec<&str> = got.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["message.created", "message.delivery_updated"],
        "{log:#}"
    );
    assert_eq!(got[0]["data"]["message"]["id"], id.as_str());
    assert_eq!(got[0]["data"]["message"]["delivery"]["status"], "pending");
    assert_eq!(got[1]["data"]["message_id"], id.as_str());
    assert_eq!(got[1]["data"]["delivery"]["status"], "sent");
    assert_eq!(got[1]["data"]["delivery"]["attempts"], 1);
    let ids: Vec<&str> = log["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["webhook_id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&format!("{id}.1.sent").as_str()), "{ids:?}");
}
