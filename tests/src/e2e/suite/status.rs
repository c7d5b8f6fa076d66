//! The status menu, closing notes, replies to closed conversations and blocked contacts.

use super::*;

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

/// Blocking, renaming and unblocking a contact with 55 open conversations
/// refreshes every one of them: blocking writes each with a timeline event,
/// 111 items with the contact, more than one DynamoDB transaction holds.
pub async fn contact_with_many_open_conversations(base: &str) {
    let ws = ready(base, "many_open").await;
    let first = ws.conversation("Ann").await;
    let contact = ws.conv(BOB, &first).await["contact"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut convs = vec![first];
    for _ in 0..54 {
        let c = ws
            .post(BOB, "/conversations", json!({"contact_id": contact}))
            .await
            .expect(201);
        convs.push(c["id"].as_str().unwrap_or_default().to_string());
    }
    ws.post(BOB, &format!("/contacts/{contact}/block"), json!({}))
        .await
        .expect(200);
    ws.call(
        BOB,
        Method::PATCH,
        &format!("/contacts/{contact}"),
        Some(json!({"name": "Ann Lee"})),
    )
    .await
    .expect(200);
    for conv in &convs {
        let c = ws.conv(BOB, conv).await;
        assert_eq!(c["contact"]["blocked"], true, "{conv}");
        assert_eq!(c["contact"]["name"], "Ann Lee", "{conv}");
        assert!(
            ws.timeline_types(conv)
                .await
                .contains(&"contact_blocked".to_string()),
            "{conv}"
        );
    }
    ws.act(BOB, &convs[0], "messages", json!({"body": "hello?"}))
        .await
        .problem(409, "contact_blocked");
    ws.post(BOB, &format!("/contacts/{contact}/unblock"), json!({}))
        .await
        .expect(200);
    for conv in &convs {
        assert_eq!(
            ws.conv(BOB, conv).await["contact"]["blocked"],
            false,
            "{conv}"
        );
    }
}
