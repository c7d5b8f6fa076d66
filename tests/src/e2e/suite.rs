//! The end-to-end flows. Each takes the base URL of a running `inbox-dev`,
//! works in a workspace of its own, and goes through real HTTP only; the same
//! functions run against every storage backend (see [`crate::e2e_suite`]).

use super::client::{ADA, BOB, CAROL, MAX, VIC, Ws, ZAP, enc};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const TAKEOVER_NOTICE: &str = "You have taken over this conversation. AI will stop responding.";

async fn ready(base: &str, flow: &str) -> Ws {
    let ws = Ws::new(base, flow);
    ws.setup().await;
    ws
}

fn last<'a>(timeline: &'a [Value], kind: &str) -> &'a Value {
    timeline
        .iter()
        .rev()
        .find(|e| e["type"] == kind)
        .unwrap_or_else(|| panic!("no {kind} event in {timeline:?}"))
}

/// Assigning yourself ends the AI session: the AI's next reply is 409 `ai_paused`.
pub async fn assign_to_self_stops_the_ai(base: &str) {
    let ws = ready(base, "assign_self").await;
    let conv = ws.conversation("Ann").await;
    let c = ws
        .act(BOB, &conv, "agent", json!({"agent_id": "max"}))
        .await
        .expect(200);
    assert_eq!(c["agent"]["session"]["active"], true);
    let posted = ws
        .act(MAX, &conv, "messages", json!({"body": "Hi, I am Max."}))
        .await
        .expect(201);
    assert_eq!(
        posted["conversation"]["last_responder"],
        json!({"kind": "ai", "id": "max"})
    );

    let c = ws
        .act(BOB, &conv, "assign", json!({"member_id": "bob"}))
        .await
        .expect(200);
    assert_eq!(c["assignee"], json!({"id": "bob", "name": "Bob Ray"}));
    assert_eq!(c["agent"]["session"]["active"], false);
    let timeline = ws.timeline(&conv).await;
    assert_eq!(last(&timeline, "assigned")["data"]["to"], "bob");
    assert_eq!(
        last(&timeline, "agent_session_ended")["data"]["reason"],
        "human_assigned"
    );

    let before = ws.snapshot(&conv).await;
    ws.act(MAX, &conv, "messages", json!({"body": "Still here!"}))
        .await
        .problem(409, "ai_paused");
    ws.unchanged(&conv, &before).await;
}

/// Assigning someone else puts the conversation in their `mine`, not yours.
pub async fn assign_to_another_shows_in_their_inbox(base: &str) {
    let ws = ready(base, "assign_other").await;
    let conv = ws.conversation("Ann").await;
    let c = ws
        .act(BOB, &conv, "assign", json!({"member_id": "carol"}))
        .await
        .expect(200);
    assert_eq!(c["assignee"]["id"], "carol");
    assert!(ws.view_ids(CAROL, "view=mine").await.contains(&conv));
    assert!(!ws.view_ids(BOB, "view=mine").await.contains(&conv));
    assert!(!ws.view_ids(BOB, "view=unassigned").await.contains(&conv));
    let timeline = ws.timeline(&conv).await;
    assert_eq!(last(&timeline, "assigned")["data"]["from"], Value::Null);
    assert_eq!(last(&timeline, "assigned")["data"]["to"], "carol");

    // The same assignee again: 200, no event, same version.
    let before = ws.snapshot(&conv).await;
    let again = ws
        .act(BOB, &conv, "assign", json!({"member_id": "carol"}))
        .await
        .expect(200);
    assert_eq!(again["version"], c["version"]);
    ws.unchanged(&conv, &before).await;

    // Neither an AI agent nor a stranger can be assigned.
    ws.act(BOB, &conv, "assign", json!({"member_id": "max"}))
        .await
        .problem(422, "cannot_assign_ai_agent");
    ws.act(BOB, &conv, "assign", json!({"member_id": "nobody"}))
        .await
        .problem(422, "unknown_member");
    ws.unchanged(&conv, &before).await;
}

/// Takeover moves the assignment to the caller with its notice; 409 when not applicable.
pub async fn takeover_with_notice(base: &str) {
    let ws = ready(base, "takeover").await;
    let conv = ws.conversation("Ann").await;

    // Nobody assigned: nothing to take over.
    let before = ws.snapshot(&conv).await;
    ws.act(BOB, &conv, "takeover", json!({}))
        .await
        .problem(409, "takeover_not_applicable");
    ws.unchanged(&conv, &before).await;

    ws.act(BOB, &conv, "agent", json!({"agent_id": "max"}))
        .await
        .expect(200);
    ws.act(BOB, &conv, "assign", json!({"member_id": "carol"}))
        .await
        .expect(200);
    assert_eq!(ws.conv(BOB, &conv).await["viewer"]["can_takeover"], true);
    let r = ws.act(BOB, &conv, "takeover", json!({})).await;
    let body = r.expect(200);
    assert_eq!(body["notice"], TAKEOVER_NOTICE);
    assert_eq!(body["conversation"]["assignee"]["id"], "bob");
    assert_eq!(
        r.header("etag"),
        Some(format!("\"{}\"", body["conversation"]["version"]))
    );
    let timeline = ws.timeline(&conv).await;
    assert_eq!(
        last(&timeline, "taken_over")["data"],
        json!({"from": "carol", "to": "bob"})
    );

    // Already the caller's own.
    let before = ws.snapshot(&conv).await;
    ws.act(BOB, &conv, "takeover", json!({}))
        .await
        .problem(409, "takeover_not_applicable");
    ws.unchanged(&conv, &before).await;
    assert!(ws.view_ids(BOB, "view=mine").await.contains(&conv));
    assert!(!ws.view_ids(CAROL, "view=mine").await.contains(&conv));
}

/// Unassign clears the assignee; a second unassign is a no-op.
pub async fn unassign(base: &str) {
    let ws = ready(base, "unassign").await;
    let conv = ws.conversation("Ann").await;
    ws.act(BOB, &conv, "assign", json!({"member_id": "bob"}))
        .await
        .expect(200);
    let c = ws.act(BOB, &conv, "unassign", json!({})).await.expect(200);
    assert_eq!(c["assignee"], Value::Null);
    assert_eq!(
        ws.timeline_types(&conv).await.last().map(String::as_str),
        Some("unassigned")
    );
    assert!(ws.view_ids(BOB, "view=unassigned").await.contains(&conv));
    let before = ws.snapshot(&conv).await;
    ws.act(BOB, &conv, "unassign", json!({})).await.expect(200);
    ws.unchanged(&conv, &before).await;
}

/// The status menu: open, unset ("Unassigned"), closed, and back; same status is a no-op.
pub async fn status_menu(base: &str) {
    let ws = ready(base, "status").await;
    let conv = ws.conversation("Ann").await;
    assert_eq!(ws.conv(BOB, &conv).await["status"], "open");
    let c = ws
        .act(BOB, &conv, "status", json!({"status": "unset"}))
        .await
        .expect(200);
    assert_eq!(c["status"], "unset");
    let before = ws.snapshot(&conv).await;
    ws.act(BOB, &conv, "status", json!({"status": "unset"}))
        .await
        .expect(200);
    ws.unchanged(&conv, &before).await;

    let c = ws
        .act(BOB, &conv, "status", json!({"status": "closed"}))
        .await
        .expect(200);
    assert_eq!(c["status"], "closed");
    assert_eq!(c["closing"]["source"], "manual");
    assert_eq!(c["closing"]["by"], json!({"kind": "member", "id": "bob"}));
    assert!(ws.view_ids(BOB, "view=resolved").await.contains(&conv));
    assert!(!ws.view_ids(BOB, "view=unresolved").await.contains(&conv));
    assert!(
        ws.view_ids(BOB, "view=all&status=closed")
            .await
            .contains(&conv)
    );

    let c = ws
        .act(BOB, &conv, "status", json!({"status": "open"}))
        .await
        .expect(200);
    assert_eq!(c["status"], "open");
    assert_eq!(c["closing"], Value::Null);
    let changes: Vec<(Value, Value)> = ws
        .timeline(&conv)
        .await
        .iter()
        .filter(|e| e["type"] == "status_changed")
        .map(|e| (e["data"]["from"].clone(), e["data"]["to"].clone()))
        .collect();
    assert_eq!(
        changes,
        vec![
            (json!("open"), json!("unset")),
            (json!("unset"), json!("closed")),
            (json!("closed"), json!("open"))
        ]
    );
}

async fn settings_with_notes(ws: &Ws, mode: &str) {
    ws.put(
        ADA,
        "/settings",
        json!({
            "auto_close": {"enabled": false, "after_seconds": 86400},
            "closing_notes": {"mode": mode, "categories": ["billing", "bug"], "auto_generate": false},
            "ai": {"end_session_on_human_assignment": true, "stop_on_human_reply": true},
            "reopen_on_contact_message": true
        }),
    )
    .await
    .expect(200);
}

/// Closing-note modes: off refuses a note, required parts are enforced, categories are checked.
pub async fn closing_note_modes(base: &str) {
    let ws = ready(base, "closing_notes").await;
    let conv = ws.conversation("Ann").await;
    let close = |note: Value| json!({"status": "closed", "closing_note": note});

    settings_with_notes(&ws, "off").await;
    let before = ws.snapshot(&conv).await;
    ws.act(BOB, &conv, "status", close(json!({"summary": "done"})))
        .await
        .problem(422, "closing_notes_disabled");
    ws.unchanged(&conv, &before).await;

    settings_with_notes(&ws, "category_required").await;
    let p = ws
        .act(BOB, &conv, "status", close(json!({"summary": "done"})))
        .await
        .problem(422, "closing_note_required");
    assert_eq!(p["missing"], json!(["category"]));
    ws.act(BOB, &conv, "status", close(json!({"category": "shipping"})))
        .await
        .problem(422, "unknown_category");
    ws.unchanged(&conv, &before).await;

    settings_with_notes(&ws, "category_and_summary_required").await;
    let p = ws
        .act(BOB, &conv, "status", json!({"status": "closed"}))
        .await
        .problem(422, "closing_note_required");
    let mut missing: Vec<String> = serde_json::from_value(p["missing"].clone()).unwrap_or_default();
    missing.sort();
    assert_eq!(missing, ["category", "summary"]);
    ws.unchanged(&conv, &before).await;

    let c = ws
        .act(
            BOB,
            &conv,
            "status",
            close(json!({"category": "billing", "summary": "Refunded the invoice."})),
        )
        .await
        .expect(200);
    assert_eq!(
        c["closing"]["note"],
        json!({"category": "billing", "summary": "Refunded the invoice.", "generated": false})
    );
    let timeline = ws.timeline(&conv).await;
    assert_eq!(
        last(&timeline, "closing_note_added")["data"],
        json!({"category": "billing", "summary": "Refunded the invoice.", "generated": false})
    );
    assert_eq!(
        last(&timeline, "status_changed")["data"]["source"],
        "manual"
    );

    // Optional mode closes with no note at all.
    settings_with_notes(&ws, "optional").await;
    let other = ws.conversation("Ben").await;
    let c = ws
        .act(BOB, &other, "status", json!({"status": "closed"}))
        .await
        .expect(200);
    assert_eq!(c["closing"]["note"], Value::Null);
}

/// A reply to a closed conversation: 409 with options, then `reopen` or `new_conversation`.
pub async fn reply_to_closed(base: &str) {
    let ws = ready(base, "reply_closed").await;
    let conv = ws.conversation("Ann").await;
    ws.act(BOB, &conv, "status", json!({"status": "closed"}))
        .await
        .expect(200);

    let before = ws.snapshot(&conv).await;
    let p = ws
        .act(BOB, &conv, "messages", json!({"body": "One more thing"}))
        .await
        .problem(409, "conversation_closed");
    assert_eq!(p["options"], json!(["reopen", "new_conversation"]));
    ws.unchanged(&conv, &before).await;

    let r = ws
        .act(
            BOB,
            &conv,
            "messages",
            json!({"body": "Reopening", "on_closed": "reopen"}),
        )
        .await
        .expect(201);
    assert_eq!(r["conversation"]["id"], conv.as_str());
    assert_eq!(r["conversation"]["status"], "open");
    assert_eq!(r["message"]["body"], "Reopening");
    let timeline = ws.timeline(&conv).await;
    assert_eq!(
        last(&timeline, "status_changed")["data"]["source"],
        "reply_reopen"
    );

    ws.act(BOB, &conv, "status", json!({"status": "closed"}))
        .await
        .expect(200);
    let r = ws
        .act(
            BOB,
            &conv,
            "messages",
            json!({"body": "Fresh start", "on_closed": "new_conversation"}),
        )
        .await
        .expect(201);
    let new_id = r["conversation"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_ne!(new_id, conv);
    assert_eq!(
        r["conversation"]["contact"]["id"],
        before.conversation["contact"]["id"]
    );
    assert_eq!(r["conversation"]["status"], "open");
    assert_eq!(ws.conv(BOB, &conv).await["status"], "closed");
    let msgs = ws
        .all_pages(&format!("/conversations/{new_id}/messages"))
        .await;
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0]["body"], "Fresh start");
}

/// A blocked contact's conversation takes no reply and no status change.
pub async fn blocked_contact(base: &str) {
    let ws = ready(base, "blocked").await;
    let conv = ws.conversation("Ann").await;
    let contact = ws.conv(BOB, &conv).await["contact"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let c = ws
        .post(BOB, &format!("/contacts/{contact}/block"), json!({}))
        .await
        .expect(200);
    assert_eq!(c["blocked"], true);
    let seen = ws.conv(BOB, &conv).await;
    assert_eq!(seen["contact"]["blocked"], true);
    assert_eq!(seen["viewer"]["can_reply"], false);
    assert_eq!(
        ws.timeline_types(&conv).await.last().map(String::as_str),
        Some("contact_blocked")
    );

    let before = ws.snapshot(&conv).await;
    ws.act(BOB, &conv, "messages", json!({"body": "Hello?"}))
        .await
        .problem(409, "contact_blocked");
    ws.act(BOB, &conv, "status", json!({"status": "closed"}))
        .await
        .problem(409, "contact_blocked");
    ws.act(BOB, &conv, "status", json!({"status": "open"}))
        .await
        .problem(409, "contact_blocked");
    ws.unchanged(&conv, &before).await;

    ws.post(BOB, &format!("/contacts/{contact}/unblock"), json!({}))
        .await
        .expect(200);
    ws.act(BOB, &conv, "messages", json!({"body": "Hello again"}))
        .await
        .expect(201);
    assert!(
        ws.timeline_types(&conv)
            .await
            .contains(&"contact_unblocked".to_string())
    );
}

/// Handing a conversation back to the AI clears the human assignee and starts a session.
pub async fn hand_back_to_ai(base: &str) {
    let ws = ready(base, "hand_back").await;
    let conv = ws.conversation("Ann").await;
    ws.act(BOB, &conv, "assign", json!({"member_id": "bob"}))
        .await
        .expect(200);
    let c = ws
        .act(BOB, &conv, "agent", json!({"agent_id": "max"}))
        .await
        .expect(200);
    assert_eq!(c["assignee"], Value::Null);
    assert_eq!(c["agent"]["id"], "max");
    assert_eq!(c["agent"]["session"]["active"], true);
    let timeline = ws.timeline(&conv).await;
    assert_eq!(
        last(&timeline, "unassigned")["data"]["reason"],
        "handed_to_ai"
    );
    assert!(timeline.iter().any(|e| e["type"] == "agent_assigned"));
    ws.act(MAX, &conv, "messages", json!({"body": "Max here."}))
        .await
        .expect(201);
    // A member id is not an AI agent.
    ws.act(BOB, &conv, "agent", json!({"agent_id": "carol"}))
        .await
        .problem(422, "unknown_agent");
}

/// Ending the AI session keeps the agent; unassigning the agent removes it.
pub async fn end_session_versus_unassign_agent(base: &str) {
    let ws = ready(base, "end_session").await;
    let conv = ws.conversation("Ann").await;
    ws.act(BOB, &conv, "agent", json!({"agent_id": "max"}))
        .await
        .expect(200);
    let c = ws
        .act(BOB, &conv, "agent-session/end", json!({}))
        .await
        .expect(200);
    assert_eq!(c["agent"]["id"], "max");
    assert_eq!(c["agent"]["session"]["active"], false);
    let timeline = ws.timeline(&conv).await;
    assert_eq!(
        last(&timeline, "agent_session_ended")["data"]["reason"],
        "ended_by_member"
    );

    let before = ws.snapshot(&conv).await;
    ws.act(BOB, &conv, "agent-session/end", json!({}))
        .await
        .problem(409, "no_active_session");
    ws.act(MAX, &conv, "messages", json!({"body": "Hello?"}))
        .await
        .problem(409, "ai_paused");
    ws.unchanged(&conv, &before).await;

    // A new session, then the agent removed altogether.
    ws.act(BOB, &conv, "agent", json!({"agent_id": "max"}))
        .await
        .expect(200);
    let r = ws
        .call(
            BOB,
            Method::DELETE,
            &format!("/conversations/{conv}/agent"),
            None,
        )
        .await;
    let c = r.expect(200);
    assert_eq!(c["agent"], Value::Null);
    let timeline = ws.timeline(&conv).await;
    assert!(timeline.iter().any(|e| e["type"] == "agent_unassigned"));
    assert_eq!(
        last(&timeline, "agent_session_ended")["data"]["reason"],
        "agent_unassigned"
    );
}

/// Handoff makes the conversation pending a human; the first replier is assigned.
pub async fn handoff_then_replier_is_assigned(base: &str) {
    let ws = ready(base, "handoff").await;
    let conv = ws.conversation("Ann").await;
    ws.act(BOB, &conv, "agent", json!({"agent_id": "max"}))
        .await
        .expect(200);
    ws.act(
        MAX,
        &conv,
        "messages",
        json!({"body": "Let me get a human."}),
    )
    .await
    .expect(201);
    let c = ws
        .act(MAX, &conv, "handoff", json!({"reason": "refund"}))
        .await
        .expect(200);
    assert_eq!(c["human_handoff"], true);
    assert_eq!(c["agent"]["session"]["active"], false);
    assert!(
        ws.view_ids(CAROL, "view=pending_human")
            .await
            .contains(&conv)
    );
    assert!(ws.view_ids(CAROL, "view=unassigned").await.contains(&conv));
    let timeline = ws.timeline(&conv).await;
    assert!(timeline.iter().any(|e| e["type"] == "handoff_requested"));
    assert_eq!(
        last(&timeline, "agent_session_ended")["data"]["reason"],
        "handoff"
    );

    // The AI can no longer hand off or reply.
    ws.act(MAX, &conv, "messages", json!({"body": "Still me"}))
        .await
        .problem(409, "ai_paused");

    let r = ws
        .act(CAROL, &conv, "messages", json!({"body": "Hi, Carol here."}))
        .await
        .expect(201);
    let c = &r["conversation"];
    assert_eq!(c["assignee"]["id"], "carol");
    assert_eq!(c["human_handoff"], false);
    assert_eq!(c["last_responder"], json!({"kind": "human", "id": "carol"}));
    assert_eq!(
        last(&ws.timeline(&conv).await, "assigned")["data"]["to"],
        "carol"
    );
    assert!(
        !ws.view_ids(CAROL, "view=pending_human")
            .await
            .contains(&conv)
    );
    assert!(ws.view_ids(CAROL, "view=mine").await.contains(&conv));
}

/// The CSV export has the contract's header and one row per conversation of the view, in order.
pub async fn csv_export_matches_the_view(base: &str) {
    let ws = ready(base, "export").await;
    let mut convs = Vec::new();
    for name in ["Ann", "Ben", "Cleo", "Dan"] {
        convs.push(ws.conversation(name).await);
    }
    ws.act(BOB, &convs[0], "labels", json!({"add": ["billing", "vip"]}))
        .await
        .expect(200);
    ws.act(BOB, &convs[1], "assign", json!({"member_id": "carol"}))
        .await
        .expect(200);
    ws.act(BOB, &convs[2], "status", json!({"status": "closed"}))
        .await
        .expect(200);
    ws.act(BOB, &convs[3], "team", json!({"team_id": "support"}))
        .await
        .expect(200);

    for query in [
        "view=unresolved",
        "view=all",
        "view=resolved",
        "view=all&label=billing",
    ] {
        let r = ws
            .get(BOB, &format!("/conversations/export.csv?{query}"))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(
            r.header("content-type")
                .unwrap_or_default()
                .starts_with("text/csv")
        );
        let mut lines = r.text.lines();
        assert_eq!(
            lines.next(),
            Some(
                "id,contact_name,contact_email,contact_phone,channel_id,status,assignee,team,agent,labels,created_at,last_activity_at,closed_at,closing_source,closing_category,closing_summary"
            )
        );
        let rows: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
        let ids: Vec<String> = rows
            .iter()
            .map(|l| l.split(',').next().unwrap_or_default().to_string())
            .collect();
        assert_eq!(ids, ws.view_ids(BOB, query).await, "{query}");
        if query == "view=all&label=billing" {
            assert!(rows[0].contains("billing;vip"), "{}", rows[0]);
        }
    }
    // A viewer may not export.
    ws.get(VIC, "/conversations/export.csv?view=all")
        .await
        .problem(403, "forbidden");
}

/// Member search by name and email (AI agents beside), and removal unassigns.
pub async fn members_search_and_removal(base: &str) {
    let ws = ready(base, "members").await;
    let r = ws.get(VIC, "/members?q=bo").await.expect(200);
    let ids: Vec<&str> = r["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|m| m["id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(ids, ["bob"]);
    assert_eq!(r["items"][0]["initials"], "BR");
    assert_eq!(r["items"][0]["email"], "bob@example.com");
    let r = ws
        .get(VIC, &format!("/members?q={}", enc("CAROL@EXAMPLE")))
        .await
        .expect(200);
    assert_eq!(r["items"][0]["id"], "carol");
    let r = ws.get(VIC, "/members?q=ma").await.expect(200);
    assert_eq!(
        r["agents"],
        json!([{"id": "max", "name": "Max", "kind": "ai"}])
    );
    assert_eq!(r["items"], json!([]));

    let conv = ws.conversation("Ann").await;
    ws.act(BOB, &conv, "assign", json!({"member_id": "carol"}))
        .await
        .expect(200);
    // Only admins manage members.
    ws.delete(BOB, "/members/carol")
        .await
        .problem(403, "forbidden");
    let r = ws.delete(ADA, "/members/carol").await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(ws.conv(BOB, &conv).await["assignee"], Value::Null);
    let timeline = ws.timeline(&conv).await;
    assert_eq!(
        last(&timeline, "unassigned")["data"]["reason"],
        "member_removed"
    );
    let r = ws.get(VIC, "/members?q=carol").await.expect(200);
    assert_eq!(r["items"], json!([]));
    ws.act(BOB, &conv, "assign", json!({"member_id": "carol"}))
        .await
        .problem(422, "unknown_member");
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

// ---- failures: each asserts that nothing was written ----

/// 401 for no token, a bad signature, an expired token and `alg: none`.
pub async fn unauthenticated(base: &str) {
    let ws = ready(base, "unauth").await;
    let conv = ws.conversation("Ann").await;
    let before = ws.snapshot(&conv).await;
    let path = format!("/conversations/{conv}/assign");
    let body = serde_json::to_vec(&json!({"member_id": "bob"})).unwrap_or_default();
    let wrong_secret = inbox_http::mint_dev_token(
        b"not-the-secret",
        &ws.id,
        "bob",
        "agent",
        None,
        Duration::from_secs(3600),
    )
    .unwrap_or_default();
    let expired = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({"sub": "bob", "workspace_id": ws.id, "role": "agent", "exp": 1_000_000_000u64}),
        &jsonwebtoken::EncodingKey::from_secret(super::server::E2E_SECRET.as_bytes()),
    )
    .unwrap_or_default();
    let alg_none = format!(
        "{}.{}.",
        b64url(br#"{"alg":"none","typ":"JWT"}"#),
        b64url(
            format!(
                r#"{{"sub":"bob","workspace_id":"{}","role":"owner","exp":4102444800}}"#,
                ws.id
            )
            .as_bytes()
        )
    );
    let ct = [("content-type", "application/json")];
    for token in [
        None,
        Some(wrong_secret.as_str()),
        Some(expired.as_str()),
        Some(alg_none.as_str()),
        Some("garbage"),
    ] {
        ws.raw(token, Method::POST, &path, &ct, Some(body.clone()))
            .await
            .problem(401, "unauthenticated");
        ws.raw(
            token,
            Method::GET,
            &format!("/conversations/{conv}"),
            &[],
            None,
        )
        .await
        .problem(401, "unauthenticated");
    }
    ws.unchanged(&conv, &before).await;
    // The channel routes verify the same way.
    ws.raw(None, Method::GET, "/channels", &[], None)
        .await
        .problem(401, "unauthenticated");
}

/// 403 when the role may not do the action.
pub async fn forbidden_by_role(base: &str) {
    let ws = ready(base, "forbidden").await;
    let conv = ws.conversation("Ann").await;
    let before = ws.snapshot(&conv).await;
    ws.act(VIC, &conv, "assign", json!({"member_id": "bob"}))
        .await
        .problem(403, "forbidden");
    ws.act(VIC, &conv, "messages", json!({"body": "hi"}))
        .await
        .problem(403, "forbidden");
    ws.act(ZAP, &conv, "assign", json!({"member_id": "bob"}))
        .await
        .problem(403, "forbidden");
    ws.act(ZAP, &conv, "status", json!({"status": "closed"}))
        .await
        .problem(403, "forbidden");
    ws.act(MAX, &conv, "takeover", json!({}))
        .await
        .problem(403, "forbidden");
    ws.unchanged(&conv, &before).await;

    let settings = ws.get(BOB, "/settings").await.expect(200);
    let mut changed = settings.clone();
    changed["auto_close"]["enabled"] = json!(true);
    ws.put(BOB, "/settings", changed)
        .await
        .problem(403, "forbidden");
    ws.put(BOB, "/members/eve", json!({"name": "Eve"}))
        .await
        .problem(403, "forbidden");
    ws.put(MAX, "/agents/max", json!({"name": "Maxi"}))
        .await
        .problem(403, "forbidden");
    ws.put(
        BOB,
        "/channels/sms",
        json!({"kind": "generic", "name": "SMS", "secret": "s"}),
    )
    .await
    .problem(403, "forbidden");
    assert_eq!(ws.get(VIC, "/settings").await.expect(200), settings);
    let r = ws.get(VIC, "/members?q=eve").await.expect(200);
    assert_eq!(r["items"], json!([]));
    assert_eq!(
        ws.get(VIC, "/channels").await.expect(200)["items"],
        json!([])
    );
}

/// Another workspace's conversation is 404, never 403, and stays untouched.
pub async fn cross_workspace_is_not_found(base: &str) {
    let ws = ready(base, "cross_ws").await;
    let conv = ws.conversation("Ann").await;
    let before = ws.snapshot(&conv).await;
    let other = ready(base, "cross_ws_other").await;
    other
        .get(BOB, &format!("/conversations/{conv}"))
        .await
        .problem(404, "not_found");
    other
        .get(BOB, &format!("/conversations/{conv}/timeline"))
        .await
        .problem(404, "not_found");
    other
        .act(BOB, &conv, "assign", json!({"member_id": "bob"}))
        .await
        .problem(404, "not_found");
    other
        .act(ADA, &conv, "takeover", json!({}))
        .await
        .problem(404, "not_found");
    other
        .act(BOB, &conv, "messages", json!({"body": "hi"}))
        .await
        .problem(404, "not_found");
    let contact = before.conversation["contact"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    other
        .get(BOB, &format!("/contacts/{contact}"))
        .await
        .problem(404, "not_found");
    other
        .post(BOB, &format!("/contacts/{contact}/block"), json!({}))
        .await
        .problem(404, "not_found");
    assert!(!other.view_ids(BOB, "view=all").await.contains(&conv));
    ws.unchanged(&conv, &before).await;
}

/// Malformed JSON, unknown fields, bodies over 256 KiB, unknown views: 400/413, nothing written.
pub async fn malformed_requests(base: &str) {
    let ws = ready(base, "malformed").await;
    let conv = ws.conversation("Ann").await;
    let before = ws.snapshot(&conv).await;
    let token = ws.token(BOB);
    let ct = [("content-type", "application/json")];
    let send = |path: String, body: Vec<u8>| {
        let ws = ws.clone();
        let token = token.clone();
        async move {
            ws.raw(Some(&token), Method::POST, &path, &ct, Some(body))
                .await
        }
    };
    let assign = format!("/conversations/{conv}/assign");
    send(assign.clone(), b"{\"member_id\": ".to_vec())
        .await
        .problem(400, "bad_request");
    send(assign.clone(), b"not json".to_vec())
        .await
        .problem(400, "bad_request");
    send(
        assign.clone(),
        br#"{"member_id": "bob", "priority": "high"}"#.to_vec(),
    )
    .await
    .problem(400, "bad_request");
    send(
        format!("/conversations/{conv}/messages"),
        br#"{"body": "hi", "html": true}"#.to_vec(),
    )
    .await
    .problem(400, "bad_request");
    let huge = serde_json::to_vec(&json!({"body": "x".repeat(300 * 1024)})).unwrap_or_default();
    send(format!("/conversations/{conv}/messages"), huge)
        .await
        .problem(413, "payload_too_large");
    // Far over the limit: refused before it is read whole.
    let enormous = vec![b' '; 2 * 1024 * 1024];
    send(format!("/conversations/{conv}/notes"), enormous)
        .await
        .problem(413, "payload_too_large");
    ws.unchanged(&conv, &before).await;

    ws.get(BOB, "/conversations?view=everything")
        .await
        .problem(400, "bad_request");
    ws.get(BOB, "/conversations?view=all&agent_type=robot")
        .await
        .problem(400, "bad_request");
    ws.get(BOB, "/conversations?view=all&colour=red")
        .await
        .problem(400, "bad_request");
    ws.get(BOB, "/conversations/export.csv?view=nope")
        .await
        .problem(400, "bad_request");
    ws.get(BOB, "/nowhere").await.problem(404, "not_found");
    ws.call(
        BOB,
        Method::PUT,
        &format!("/conversations/{conv}/assign"),
        None,
    )
    .await
    .problem(405, "method_not_allowed");
    ws.unchanged(&conv, &before).await;
}

/// `If-Match` with a stale version: 412 and nothing written; the current version passes.
pub async fn if_match_precondition(base: &str) {
    let ws = ready(base, "if_match").await;
    let conv = ws.conversation("Ann").await;
    let r = ws.get(BOB, &format!("/conversations/{conv}")).await;
    let etag = r.header("etag").expect("an ETag");
    let v = r.json()["version"].clone();
    assert_eq!(etag, format!("\"{v}\""));
    ws.act(BOB, &conv, "labels", json!({"add": ["vip"]}))
        .await
        .expect(200);

    let before = ws.snapshot(&conv).await;
    let assign = format!("/conversations/{conv}/assign");
    ws.call_with(
        BOB,
        Method::POST,
        &assign,
        Some(json!({"member_id": "bob"})),
        &[("if-match", &etag)],
    )
    .await
    .problem(412, "precondition_failed");
    ws.call_with(
        BOB,
        Method::POST,
        &format!("/conversations/{conv}/takeover"),
        None,
        &[("if-match", &etag)],
    )
    .await
    .problem(412, "precondition_failed");
    ws.unchanged(&conv, &before).await;

    let current = ws
        .get(BOB, &format!("/conversations/{conv}"))
        .await
        .header("etag")
        .expect("an ETag");
    let r = ws
        .call_with(
            BOB,
            Method::POST,
            &assign,
            Some(json!({"member_id": "bob"})),
            &[("if-match", &current)],
        )
        .await;
    assert_eq!(r.expect(200)["assignee"]["id"], "bob");
}

/// Unpadded base64url, for hand-made tokens.
fn b64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

// ---- channels and the auto-close timer, through the webhooks ----

const CHANNEL_SECRET: &str = "e2e-channel-secret";

/// Settings with auto-close after `after_seconds` and the given reopen rule.
async fn auto_close_settings(ws: &Ws, after_seconds: u64, reopen: bool) {
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
async fn deliver(
    ws: &Ws,
    message_id: &str,
    from: &str,
    text: &str,
    secret: &str,
) -> super::client::Resp {
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
        &ws.conv(BOB, &conv).await["auto_close_at"]
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
