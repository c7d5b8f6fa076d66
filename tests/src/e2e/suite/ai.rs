//! AI agents: handing back to the AI, ending sessions, and handoff to a human.

use super::*;

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
