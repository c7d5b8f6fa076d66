//! Channels and the auto-close timer, through the webhooks and the dev server's own sweep.

use super::*;

pub(super) const CHANNEL_SECRET: &str = "e2e-channel-secret";

/// Settings with auto-close after `after_seconds` and the given reopen rule.
pub(super) async fn auto_close_settings(ws: &Ws, after_seconds: u64, reopen: bool) {
    ws.put(
        ADA,
        "/settings",
        json!({
            "auto_close": {"enabled": true, "after_seconds": after_seconds},
            "closing_notes": {"mode": "optional", "categories": [], "auto_generate": false},
            "ai": {"end_session_on_human_assignment": true, "stop_on_human_reply": true},
            "reopen_on_contact_message": reopen
        }),
    )
    .await
    .expect(200);
}

/// A generic channel `web` for the workspace.
async fn generic_channel(ws: &Ws) {
    let view = ws
        .put(
            ADA,
            "/channels/web",
            json!({"kind": "generic", "name": "Widget", "secret": CHANNEL_SECRET}),
        )
        .await
        .expect(200);
    assert!(view.get("secret").is_none(), "{view}");
    let list = ws.get(VIC, "/channels").await.expect(200);
    assert!(!list.to_string().contains(CHANNEL_SECRET), "{list}");
}

/// One signed delivery to the generic webhook, from contact `from` (signed with `secret`).
pub(super) async fn deliver(
    ws: &Ws,
    message_id: &str,
    from: &str,
    text: &str,
    secret: &str,
) -> crate::e2e::client::Resp {
    let body = json!({"message_id": message_id, "from": {"id": from, "name": "Gus", "phone": "+15550100"}, "text": text})
        .to_string();
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let sig = inbox_channels::verify::generic_signature(secret, ts, body.as_bytes());
    let ts = ts.to_string();
    ws.raw(
        None,
        Method::POST,
        &format!("/webhooks/generic/{}/web", ws.id),
        &[
            ("content-type", "application/json"),
            ("x-inbox-timestamp", &ts),
            ("x-inbox-signature", &sig),
        ],
        Some(body.into_bytes()),
    )
    .await
}

/// Every conversation of the workspace, newest first.
async fn all_conversations(ws: &Ws) -> Vec<Value> {
    ws.all_pages("/conversations?view=all").await
}

/// Webhook deliveries through HTTP: verified, stored once, and applied to
/// the contact's latest conversation (create, reopen or start anew, blocked).
pub async fn webhook_ingestion(base: &str) {
    let ws = ready(base, "webhooks").await;
    auto_close_settings(&ws, 3600, true).await;
    generic_channel(&ws).await;

    // A forged delivery: 401, nothing written.
    deliver(&ws, "m-0", "u-1", "Hello", "not-the-secret")
        .await
        .problem(401, "invalid_signature");
    assert!(all_conversations(&ws).await.is_empty());

    // The first message creates the contact and an open, unread conversation.
    deliver(&ws, "m-1", "u-1", "Hello, my order is late", CHANNEL_SECRET)
        .await
        .expect(200);
    let convs = all_conversations(&ws).await;
    assert_eq!(convs.len(), 1);
    let conv = convs[0]["id"].as_str().unwrap_or_default().to_string();
    let c = ws.conv(BOB, &conv).await;
    assert_eq!(c["status"], "open");
    assert_eq!(c["channel_id"], "web");
    assert_eq!(c["unread"], true);
    assert_eq!(c["contact"]["has_lead"], true);

    // The same delivery again (and again): 200, stored once.
    for _ in 0..3 {
        deliver(&ws, "m-1", "u-1", "Hello, my order is late", CHANNEL_SECRET)
            .await
            .expect(200);
    }
    let msgs = ws
        .all_pages(&format!("/conversations/{conv}/messages"))
        .await;
    assert_eq!(msgs.len(), 1);
    assert_eq!(all_conversations(&ws).await.len(), 1);

    // A human reply arms the timer; the contact's next message cancels it.
    let r = ws
        .act(BOB, &conv, "messages", json!({"body": "Checking now."}))
        .await
        .expect(201);
    assert!(r["conversation"]["auto_close_at"].is_string());
    deliver(&ws, "m-2", "u-1", "Thanks", CHANNEL_SECRET)
        .await
        .expect(200);
    let c = ws.conv(BOB, &conv).await;
    assert_eq!(c["auto_close_at"], Value::Null);
    assert_eq!(c["status"], "open");

    // A message after close reopens the conversation.
    ws.act(BOB, &conv, "status", json!({"status": "closed"}))
        .await
        .expect(200);
    deliver(&ws, "m-3", "u-1", "One more thing", CHANNEL_SECRET)
        .await
        .expect(200);
    assert_eq!(ws.conv(BOB, &conv).await["status"], "open");
    let timeline = ws.timeline(&conv).await;
    assert_eq!(
        last(&timeline, "status_changed")["data"]["source"],
        "contact_message"
    );

    // With reopening off, a message after close starts a new conversation.
    auto_close_settings(&ws, 3600, false).await;
    ws.act(BOB, &conv, "status", json!({"status": "closed"}))
        .await
        .expect(200);
    deliver(&ws, "m-4", "u-1", "Back again", CHANNEL_SECRET)
        .await
        .expect(200);
    let convs = all_conversations(&ws).await;
    assert_eq!(convs.len(), 2);
    assert_eq!(ws.conv(BOB, &conv).await["status"], "closed");
    let fresh = convs
        .iter()
        .find(|c| c["id"] != conv.as_str())
        .and_then(|c| c["id"].as_str())
        .unwrap_or_default()
        .to_string();
    assert_eq!(ws.conv(BOB, &fresh).await["status"], "open");

    // A blocked contact's message is stored and changes nothing else.
    ws.post(BOB, &format!("/conversations/{fresh}/read"), json!({}))
        .await
        .expect(200);
    let contact = ws.conv(BOB, &fresh).await["contact"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    ws.post(BOB, &format!("/contacts/{contact}/block"), json!({}))
        .await
        .expect(200);
    let before = ws.conv(BOB, &fresh).await;
    let events_before = ws.timeline(&fresh).await.len();
    deliver(&ws, "m-5", "u-1", "Let me in", CHANNEL_SECRET)
        .await
        .expect(200);
    let after = ws.conv(BOB, &fresh).await;
    for field in [
        "status",
        "assignee",
        "unread",
        "auto_close_at",
        "snoozed_until",
        "human_handoff",
    ] {
        assert_eq!(after[field], before[field], "{field} changed");
    }
    assert_eq!(ws.timeline(&fresh).await.len(), events_before);
    let msgs = ws
        .all_pages(&format!("/conversations/{fresh}/messages"))
        .await;
    assert_eq!(
        msgs.last().map(|m| m["body"].clone()),
        Some(json!("Let me in"))
    );
    assert_eq!(all_conversations(&ws).await.len(), 2);
}

fn at(v: &Value) -> inbox_domain::Timestamp {
    inbox_domain::Timestamp::parse(v.as_str().unwrap_or_default())
        .unwrap_or_else(|_| panic!("not a timestamp: {v}"))
}

/// The auto-close timer's rules through HTTP, with `after_seconds: 2`.
pub async fn auto_close_timer_rules(base: &str) {
    let ws = ready(base, "timer_rules").await;
    auto_close_settings(&ws, 2, true).await;
    generic_channel(&ws).await;
    deliver(&ws, "t-1", "u-7", "Hi there", CHANNEL_SECRET)
        .await
        .expect(200);
    let conv = all_conversations(&ws).await[0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    // A human reply arms it at now + 2 s; a second reply moves it later.
    let r = ws
        .act(BOB, &conv, "messages", json!({"body": "Hello!"}))
        .await
        .expect(201);
    let first = at(&r["conversation"]["auto_close_at"]);
    let sent = at(&r["message"]["created_at"]);
    assert_eq!(first, sent.plus_seconds(2));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = ws
        .act(BOB, &conv, "messages", json!({"body": "Still there?"}))
        .await
        .expect(201);
    assert!(at(&r["conversation"]["auto_close_at"]) > first);

    // The contact's message clears it.
    deliver(&ws, "t-2", "u-7", "Yes", CHANNEL_SECRET)
        .await
        .expect(200);
    assert_eq!(ws.conv(BOB, &conv).await["auto_close_at"], Value::Null);

    // AI, broadcast and workflow messages and notes never set it.
    ws.act(BOB, &conv, "agent", json!({"agent_id": "max"}))
        .await
        .expect(200);
    ws.act(MAX, &conv, "messages", json!({"body": "I can help."}))
        .await
        .expect(201);
    for sender in ["broadcast", "workflow"] {
        ws.act(
            ZAP,
            &conv,
            "messages",
            json!({"body": "News", "sender": sender}),
        )
        .await
        .expect(201);
    }
    ws.act(BOB, &conv, "notes", json!({"body": "VIP"}))
        .await
        .expect(200);
    assert_eq!(ws.conv(BOB, &conv).await["auto_close_at"], Value::Null);

    // Snoozing while it runs moves it to snoozed_until + 2 s.
    ws.act(BOB, &conv, "messages", json!({"body": "Back to me."}))
        .await
        .expect(201);
    let until = inbox_domain::Timestamp::parse(
        ws.conv(BOB, &conv).await["auto_close_at"]
            .as_str()
            .unwrap_or_default(),
    )
    .map(|t| t.plus_seconds(60))
    .unwrap_or_default();
    let c = ws
        .act(BOB, &conv, "snooze", json!({"until": until.to_rfc3339()}))
        .await
        .expect(200);
    assert_eq!(at(&c["auto_close_at"]), until.plus_seconds(2));

    // Unsnoozed and answered again, then left alone: it closes within a few seconds of due.
    ws.act(BOB, &conv, "unsnooze", json!({})).await.expect(200);
    let r = ws
        .act(BOB, &conv, "messages", json!({"body": "Anything else?"}))
        .await
        .expect(201);
    let due = at(&r["conversation"]["auto_close_at"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let c = ws.conv(BOB, &conv).await;
        if c["status"] == "closed" {
            assert_eq!(c["closing"]["source"], "auto_close");
            assert!(at(&c["closing"]["at"]) >= due, "closed before due: {c}");
            break;
        }
        assert!(Instant::now() < deadline, "not auto-closed: {c}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let timeline = ws.timeline(&conv).await;
    assert_eq!(
        timeline
            .iter()
            .filter(|e| e["type"] == "status_changed" && e["data"]["source"] == "auto_close")
            .count(),
        1
    );

    // A contact message afterwards reopens it.
    deliver(&ws, "t-3", "u-7", "Wait, one more question", CHANNEL_SECRET)
        .await
        .expect(200);
    assert_eq!(ws.conv(BOB, &conv).await["status"], "open");
    let timeline = ws.timeline(&conv).await;
    assert_eq!(
        last(&timeline, "status_changed")["data"]["source"],
        "contact_message"
    );
}

/// Auto-close: a human reply arms the timer and the dev server's own sweep closes it.
pub async fn auto_close_fires(base: &str) {
    let ws = ready(base, "auto_close").await;
    ws.put(
        ADA,
        "/settings",
        json!({
            "auto_close": {"enabled": true, "after_seconds": 1},
            "closing_notes": {"mode": "optional", "categories": [], "auto_generate": false},
            "ai": {"end_session_on_human_assignment": true, "stop_on_human_reply": true},
            "reopen_on_contact_message": true
        }),
    )
    .await
    .expect(200);
    let conv = ws.conversation("Ann").await;
    let r = ws
        .act(BOB, &conv, "messages", json!({"body": "Anything else?"}))
        .await
        .expect(201);
    assert!(r["conversation"]["auto_close_at"].is_string());
    // The sweep runs every 100 ms in these servers; allow a slow machine plenty of time.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let c = ws.conv(BOB, &conv).await;
        if c["status"] == "closed" {
            assert_eq!(c["closing"]["source"], "auto_close");
            assert_eq!(c["closing"]["by"], json!({"kind": "system", "id": null}));
            assert_eq!(c["auto_close_at"], Value::Null);
            break;
        }
        assert!(Instant::now() < deadline, "not auto-closed: {c}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let timeline = ws.timeline(&conv).await;
    assert_eq!(
        last(&timeline, "status_changed")["data"]["source"],
        "auto_close"
    );
}
