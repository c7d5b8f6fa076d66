//! Live updates over `GET /live`: every committed change of a workspace
//! reaches each of its connections within a second, in commit order, and
//! never another workspace's; typing is relayed to the others only.

use super::channels::{CHANNEL_SECRET, auto_close_settings, deliver};
use super::*;
use crate::e2e::live::{LiveClient, Received, live_url};
use std::time::{SystemTime, UNIX_EPOCH};

/// How long after its commit a message may arrive (the contract's second).
const WITHIN: Duration = Duration::from_secs(1);
/// How long a flow waits for something that should come (slow machines).
const PATIENCE: Duration = Duration::from_secs(20);

fn millis(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn ts_millis(v: &Value) -> i64 {
    inbox_domain::Timestamp::parse(v.as_str().unwrap_or_default())
        .unwrap_or_else(|_| panic!("not a timestamp: {v}"))
        .as_millis()
}

/// When the change a message reports was committed: its latest event's `at`,
/// or the delivery's `updated_at`.
fn committed_at(m: &Value) -> Option<i64> {
    match m["type"].as_str() {
        Some("conversation.changed") => m["events"]
            .as_array()
            .and_then(|es| es.iter().map(|e| ts_millis(&e["at"])).max()),
        Some("message.delivery_updated") => Some(ts_millis(&m["delivery"]["updated_at"])),
        _ => None,
    }
}

/// Asserts every change message arrived within [`WITHIN`] of its commit.
#[track_caller]
fn all_within_a_second(who: &str, received: &[Received]) {
    for r in received {
        if let Some(at) = committed_at(&r.message) {
            let late = millis(r.at) - at;
            assert!(
                late <= WITHIN.as_millis() as i64,
                "{who} got {} {late} ms after its commit",
                r.message
            );
        }
    }
}

/// The messages about one conversation, typing left out.
fn about<'a>(messages: &'a [Value], conv: &str) -> Vec<&'a Value> {
    messages
        .iter()
        .filter(|m| m["conversation_id"] == conv && m["type"] != "typing")
        .collect()
}

/// The events of every `conversation.changed`, in the order received.
fn events_received(messages: &[&Value]) -> Vec<Value> {
    messages
        .iter()
        .filter(|m| m["type"] == "conversation.changed")
        .flat_map(|m| m["events"].as_array().cloned().unwrap_or_default())
        .collect()
}

/// Asserts the `conversation.changed` versions only go up.
#[track_caller]
fn versions_increase(who: &str, messages: &[&Value]) {
    let versions: Vec<u64> = messages
        .iter()
        .filter(|m| m["type"] == "conversation.changed")
        .map(|m| m["version"].as_u64().expect("a version"))
        .collect();
    assert!(
        versions.windows(2).all(|w| w[0] < w[1]),
        "{who}: versions out of order: {versions:?}"
    );
}

fn changed_with<'a>(messages: &'a [Value], conv: &str, event: &str) -> Option<&'a Value> {
    messages.iter().find(|m| {
        m["type"] == "conversation.changed"
            && m["conversation_id"] == conv
            && m["events"]
                .as_array()
                .is_some_and(|es| es.iter().any(|e| e["type"] == event))
    })
}

/// Waits until both clients have a `conversation.changed` of `conv` with `event`.
async fn both_see(a: &LiveClient, b: &LiveClient, conv: &str, event: &str) {
    for c in [a, b] {
        c.until(event, PATIENCE, |got| {
            changed_with(got, conv, event).is_some()
        })
        .await;
    }
}

/// An assignment, a takeover, a contact message through the webhook, an AI
/// reply, a delivery status and an auto-close fired by the sweep each reach
/// both of workspace A's connections within a second, with the events the
/// timeline holds in its order; workspace B's connection hears none of it.
pub async fn live_updates_reach_the_workspace(base: &str) {
    let ws = ready(base, "live").await;
    let elsewhere = ready(base, "live_elsewhere").await;
    let fakes = fake_providers::start().await.expect("the fakes start");
    ws.put(
        ADA,
        "/channels/web",
        json!({"kind": "generic", "name": "Widget", "secret": CHANNEL_SECRET,
               "outbound_url": format!("{fakes}/receiver/{}", ws.id)}),
    )
    .await
    .expect(200);
    let bob = LiveClient::connect(base, &ws.token(BOB)).await;
    let carol = LiveClient::connect(base, &ws.token(CAROL)).await;
    let outsider = LiveClient::connect(base, &elsewhere.token(BOB)).await;

    // A contact writes through the signed webhook: the conversation appears.
    deliver(&ws, "m-1", "u-1", "Hello, my order is late", CHANNEL_SECRET)
        .await
        .expect(200);
    bob.until("the contact's message", PATIENCE, |got| {
        got.iter().any(|m| m["type"] == "conversation.changed")
    })
    .await;
    let first = bob.messages()[0].clone();
    let conv = first["conversation_id"]
        .as_str()
        .expect("a conversation id")
        .to_string();
    assert_eq!(
        first["message"]["body"], "Hello, my order is late",
        "{first}"
    );
    assert_eq!(first["message"]["sender"]["kind"], "contact", "{first}");

    // The AI takes it and answers.
    ws.act(BOB, &conv, "agent", json!({"agent_id": "max"}))
        .await
        .expect(200);
    both_see(&bob, &carol, &conv, "agent_assigned").await;
    let reply = ws
        .act(
            MAX,
            &conv,
            "messages",
            json!({"body": "Max here, looking."}),
        )
        .await
        .expect(201);
    let ai_message = reply["message"]["id"].as_str().expect("an id").to_string();
    for c in [&bob, &carol] {
        c.until("the AI's reply", PATIENCE, |got| {
            about(got, &conv)
                .iter()
                .any(|m| m["message"]["id"] == ai_message.as_str())
        })
        .await;
    }

    // Bob assigns himself (the AI stops), Carol takes over.
    ws.act(BOB, &conv, "assign", json!({"member_id": "bob"}))
        .await
        .expect(200);
    both_see(&bob, &carol, &conv, "assigned").await;
    ws.act(CAROL, &conv, "takeover", json!({}))
        .await
        .expect(200);
    both_see(&bob, &carol, &conv, "taken_over").await;

    // Carol's reply goes out through the fake receiver (a delivery status)
    // and arms a one-second auto-close, which the sweep fires.
    auto_close_settings(&ws, 1, true).await;
    let posted = ws
        .act(
            CAROL,
            &conv,
            "messages",
            json!({"body": "Carol here: it ships today."}),
        )
        .await
        .expect(201);
    let carol_message = posted["message"]["id"].as_str().expect("an id").to_string();
    for c in [&bob, &carol] {
        c.until("the delivery status", PATIENCE, |got| {
            got.iter().any(|m| {
                m["type"] == "message.delivery_updated"
                    && m["message_id"] == carol_message.as_str()
                    && m["delivery"]["status"] == "sent"
            })
        })
        .await;
    }
    both_see(&bob, &carol, &conv, "status_changed").await;
    let closed = changed_with(&bob.messages(), &conv, "status_changed")
        .cloned()
        .expect("the close");
    let close_event = closed["events"]
        .as_array()
        .and_then(|es| es.iter().find(|e| e["type"] == "status_changed"))
        .cloned()
        .expect("a status change");
    assert_eq!(close_event["data"]["source"], "auto_close", "{closed}");
    assert_eq!(close_event["data"]["to"], "closed", "{closed}");

    // Something else happens in workspace B meanwhile; nobody in A hears it.
    let theirs = elsewhere.conversation("Zed").await;
    outsider
        .until("their own change", PATIENCE, |got| {
            got.iter().any(|m| m["conversation_id"] == theirs.as_str())
        })
        .await;
    // Time for anything late or out of place to arrive too.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let timeline = ws.timeline(&conv).await;
    for (who, c) in [("bob", &bob), ("carol", &carol)] {
        let received = c.received();
        all_within_a_second(who, &received);
        let messages = c.messages();
        assert!(
            messages
                .iter()
                .all(|m| m["conversation_id"] == conv.as_str()),
            "{who} heard another workspace: {messages:#?}"
        );
        let mine = about(&messages, &conv);
        versions_increase(who, &mine);
        assert_eq!(
            events_received(&mine),
            timeline,
            "{who}: the live events are the timeline, in its order"
        );
    }
    assert_eq!(
        bob.messages(),
        carol.messages(),
        "both connections hear the same"
    );
    let theirs_only = outsider.messages();
    assert!(
        theirs_only
            .iter()
            .all(|m| m["conversation_id"] == theirs.as_str()),
        "workspace B heard A: {theirs_only:#?}"
    );
    all_within_a_second("outsider", &outsider.received());
}

/// Twenty replies to one conversation made at once arrive on every
/// connection in version order, one message per commit.
pub async fn live_updates_keep_commit_order(base: &str) {
    let ws = ready(base, "live_order").await;
    let clients = [
        LiveClient::connect(base, &ws.token(BOB)).await,
        LiveClient::connect(base, &ws.token(CAROL)).await,
        LiveClient::connect(base, &ws.token(VIC)).await,
    ];
    let conv = ws.conversation("Ann").await;
    let posts = (0..20).map(|i| {
        let ws = ws.clone();
        let conv = conv.clone();
        async move {
            // Twenty writers of one conversation at once may contend past
            // the server's own retries; the client retries, as a real one
            // would.
            for _ in 0..50 {
                let r = ws
                    .act(BOB, &conv, "messages", json!({"body": format!("note {i}")}))
                    .await;
                match r.status {
                    201 => return r.json()["conversation"]["version"].as_u64(),
                    // Contention past the server's own retries: try again.
                    409 | 503 => tokio::time::sleep(Duration::from_millis(20)).await,
                    s => panic!("note {i}: {s} {}", r.text),
                }
            }
            panic!("note {i} never committed")
        }
    });
    let committed: Vec<Option<u64>> = futures::future::join_all(posts).await;
    assert!(committed.iter().all(Option::is_some), "{committed:?}");
    let timeline = ws.timeline(&conv).await;
    let stored: Vec<Value> = ws
        .all_pages(&format!("/conversations/{conv}/messages"))
        .await
        .iter()
        .map(|m| m["id"].clone())
        .collect();
    assert_eq!(stored.len(), 20);
    for (i, c) in clients.iter().enumerate() {
        c.until("twenty notes", PATIENCE, |got| {
            about(got, &conv)
                .iter()
                .filter(|m| {
                    m["message"]["body"]
                        .as_str()
                        .is_some_and(|b| b.starts_with("note "))
                })
                .count()
                == 20
        })
        .await;
        let messages = c.messages();
        let mine = about(&messages, &conv);
        versions_increase(&format!("client {i}"), &mine);
        assert_eq!(events_received(&mine), timeline, "client {i}");
        let heard: Vec<Value> = mine
            .iter()
            .filter(|m| !m["message"].is_null())
            .map(|m| m["message"]["id"].clone())
            .collect();
        assert_eq!(
            heard, stored,
            "client {i}: the messages in the order stored"
        );
    }
}

/// What a connection got besides changes (the conversation's creation may
/// arrive after it opened): typing and errors.
fn relayed(c: &LiveClient) -> Vec<Value> {
    c.messages()
        .into_iter()
        .filter(|m| m["type"] == "typing" || m["type"] == "error")
        .collect()
}

/// The endpoint's refusals, typing relayed to the others only, a refused
/// frame answered with an error, and a token's expiry closing its connection.
pub async fn live_connections_and_typing(base: &str) {
    let ws = ready(base, "live_typing").await;
    let elsewhere = ready(base, "live_typing_elsewhere").await;
    let conv = ws.conversation("Ann").await;

    // Not a credential, no credential, not an upgrade: refused before any socket.
    for url in [
        live_url(base, "not-a-token"),
        format!("{}/live", base.replacen("http://", "ws://", 1)),
    ] {
        match tokio_tungstenite::connect_async(&url).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                assert_eq!(resp.status().as_u16(), 401, "{url}");
            }
            other => panic!("{url}: expected 401, got {other:?}"),
        }
    }
    ws.raw(
        None,
        Method::GET,
        &format!("/live?token={}", enc(&ws.token(BOB))),
        &[],
        None,
    )
    .await
    .problem(400, "bad_request");

    let bob = LiveClient::connect(base, &ws.token(BOB)).await;
    let carol = LiveClient::connect(base, &ws.token(CAROL)).await;
    let outsider = LiveClient::connect(base, &elsewhere.token(CAROL)).await;
    bob.send(&json!({"type": "typing", "conversation_id": conv}).to_string());
    carol
        .until("Bob typing", PATIENCE, |got| {
            got.iter().any(|m| m["type"] == "typing")
        })
        .await;
    assert_eq!(
        relayed(&carol),
        [
            json!({"type": "typing", "conversation_id": conv, "member": {"id": "bob", "name": "Bob Ray"}})
        ]
    );

    // A frame that is not a client message: an error to the sender only.
    bob.send("{\"type\": \"shout\"}");
    bob.until("an error", PATIENCE, |got| {
        got.iter().any(|m| m["type"] == "error")
    })
    .await;
    let error = relayed(&bob)[0].clone();
    assert_eq!(error["code"], "bad_request", "{error}");
    assert!(error["detail"].is_string(), "{error}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(relayed(&bob).len(), 1, "Bob never hears his own typing");
    assert_eq!(relayed(&carol).len(), 1, "Carol hears no error of Bob's");
    assert!(outsider.messages().is_empty(), "{:?}", outsider.messages());

    // A token that expires closes its connection then, with 4001.
    let short = inbox_http::mint_dev_token(
        crate::e2e::server::E2E_SECRET.as_bytes(),
        &ws.id,
        BOB.sub,
        BOB.role,
        Some(BOB.name),
        Duration::from_secs(2),
    )
    .expect("a token");
    let expiring = LiveClient::connect(base, &short).await;
    let deadline = Instant::now() + PATIENCE;
    while expiring.closed().is_none() {
        assert!(
            Instant::now() < deadline,
            "the connection outlived its token"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let closed = expiring.closed().expect("closed");
    assert_eq!(closed.code, 4001, "{closed:?}");
    assert_eq!(closed.reason, "token expired");
    assert!(bob.closed().is_none(), "a long-lived token stays connected");
}
