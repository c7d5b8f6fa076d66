//! Assignment and takeover: who is assigned, whose inbox it is in, and the AI stopping.

use super::*;

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
