//! The main flows of the contract through `handle()` over the embedded store.

mod common;

use bytes::Bytes;
use common::*;
use http::{Method, StatusCode, header};
use inbox_http::{ApiRequest, Identity, MAX_BODY_BYTES};
use serde_json::json;

#[tokio::test]
async fn assign_takeover_and_ai_session() {
    let h = Harness::new();
    h.directory().await;
    let conv = h.conversation("Ann").await;
    let path = |s: &str| format!("/conversations/{conv}/{s}");

    let r = h
        .post(&bob(), &path("agent"), json!({"agent_id": "max"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json_body());
    assert_eq!(r.json_body()["agent"]["session"]["active"], true);

    // An AI agent's id is not a member.
    let r = h
        .post(&bob(), &path("assign"), json!({"member_id": "max"}))
        .await;
    assert_problem(&r, 422, "cannot_assign_ai_agent");
    let r = h
        .post(&bob(), &path("assign"), json!({"member_id": "nobody"}))
        .await;
    assert_problem(&r, 422, "unknown_member");

    let r = h
        .post(&bob(), &path("assign"), json!({"member_id": "bob"}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let b = r.json_body();
    assert_eq!(b["assignee"], json!({"id": "bob", "name": "Bob Ray"}));
    assert_eq!(b["agent"]["session"]["active"], false);
    assert_eq!(etag(&r), format!("\"{}\"", b["version"]));
    assert_eq!(b["viewer"]["can_takeover"], false);

    // Assigning the current assignee again changes nothing.
    let again = h
        .post(&bob(), &path("assign"), json!({"member_id": "bob"}))
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json_body()["version"], b["version"]);

    // Carol sees she may take over, and does.
    let r = h.get(&carol(), &format!("/conversations/{conv}")).await;
    assert_eq!(r.json_body()["viewer"]["can_takeover"], true);
    let r = h
        .call(&carol(), Method::POST, &path("takeover"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json_body());
    let b = r.json_body();
    assert_eq!(
        b["notice"],
        "You have taken over this conversation. AI will stop responding."
    );
    assert_eq!(b["conversation"]["assignee"]["id"], "carol");
    assert!(r.headers.contains_key(header::ETAG));
    let r = h
        .call(&carol(), Method::POST, &path("takeover"), None)
        .await;
    assert_problem(&r, 409, "takeover_not_applicable");

    let r = h.post(&carol(), &path("unassign"), json!({})).await;
    assert_eq!(r.json_body()["assignee"], json!(null));

    let types = h.timeline_types(&conv).await;
    assert_eq!(
        types,
        [
            "conversation_created",
            "agent_assigned",
            "assigned",
            "agent_session_ended",
            "taken_over",
            "unassigned"
        ]
    );
    let r = h.post(&bob(), &path("agent-session/end"), json!({})).await;
    assert_problem(&r, 409, "no_active_session");
}

#[tokio::test]
async fn status_closing_notes_and_replies_to_closed() {
    let h = Harness::new();
    h.directory().await;
    let conv = h.conversation("Ann").await;
    let path = |s: &str| format!("/conversations/{conv}/{s}");

    let settings = json!({
        "auto_close": {"enabled": false, "after_seconds": 86400},
        "closing_notes": {"mode": "category_required", "categories": ["billing"], "auto_generate": false},
        "ai": {"end_session_on_human_assignment": true, "stop_on_human_reply": true,
               "summarizer": {"kind": "builtin"}},
        "reopen_on_contact_message": true
    });
    let r = h.put(&admin(), "/settings", settings.clone()).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json_body(), settings);

    let r = h
        .post(&bob(), &path("status"), json!({"status": "closed"}))
        .await;
    assert_problem(&r, 422, "closing_note_required");
    assert_eq!(r.json_body()["missing"], json!(["category"]));
    let r = h
        .post(
            &bob(),
            &path("status"),
            json!({"status": "closed", "closing_note": {"category": "refunds"}}),
        )
        .await;
    assert_problem(&r, 422, "unknown_category");
    let r = h
        .post(
            &bob(),
            &path("status"),
            json!({"status": "closed", "closing_note": {"category": "billing", "summary": "Refunded."}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json_body());
    let b = r.json_body();
    assert_eq!(b["status"], "closed");
    assert_eq!(b["closing"]["source"], "manual");
    assert_eq!(b["closing"]["by"], json!({"kind": "member", "id": "bob"}));
    assert_eq!(b["closing"]["note"]["category"], "billing");

    let r = h
        .post(&bob(), &path("messages"), json!({"body": "one more thing"}))
        .await;
    assert_problem(&r, 409, "conversation_closed");
    assert_eq!(
        r.json_body()["options"],
        json!(["reopen", "new_conversation"])
    );

    let r = h
        .post(
            &bob(),
            &path("messages"),
            json!({"body": "one more thing", "on_closed": "reopen"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json_body());
    let b = r.json_body();
    assert_eq!(b["message"]["body"], "one more thing");
    assert_eq!(b["conversation"]["id"], conv.as_str());
    assert_eq!(b["conversation"]["status"], "open");
    assert_eq!(b["conversation"]["last_responder"]["kind"], "human");
    assert_eq!(etag(&r), format!("\"{}\"", b["conversation"]["version"]));

    // Close again and reply into a new conversation.
    let r = h
        .post(
            &bob(),
            &path("status"),
            json!({"status": "closed", "closing_note": {"category": "billing"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = h
        .post(
            &bob(),
            &path("messages"),
            json!({"body": "new thread", "on_closed": "new_conversation"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let other = r.json_body()["conversation"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(other, conv);

    let r = h
        .get(&viewer(), &format!("/conversations/{conv}/transcript"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers[header::CONTENT_TYPE], "text/plain; charset=utf-8");
    let text = String::from_utf8(r.body.as_bytes().to_vec()).unwrap();
    assert_eq!(text, "[2026-11-21T10:00:00.000Z] Bob Ray: one more thing\n");

    let r = h.post(&bob(), &path("summary"), json!({})).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json_body()["message_count"], 1);
    let r = h.post(&bob(), &path("closing-note/draft"), json!({})).await;
    assert_eq!(r.status, StatusCode::OK);
    let d = r.json_body();
    assert!(d.get("category").is_some() && d.get("summary").is_some());
    let r = h
        .post(&bob(), &path("status"), json!({"status": "open"}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json_body()["closing"], json!(null));
}

#[tokio::test]
async fn if_match_precondition() {
    let h = Harness::new();
    h.directory().await;
    let conv = h.conversation("Ann").await;
    let url = format!("/conversations/{conv}");
    let r = h.get(&bob(), &url).await;
    let tag = etag(&r);
    assert_eq!(tag, "\"1\"");

    let assign = |tag: &str| {
        ApiRequest::new(Method::POST, format!("{url}/assign"), bob())
            .with_json(&json!({"member_id": "bob"}))
            .with_header(header::IF_MATCH, tag)
    };
    let r = h.send(assign(&tag)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(etag(&r), "\"2\"");

    // Stale: 412 and nothing written.
    let r = h
        .send(
            ApiRequest::new(Method::POST, format!("{url}/labels"), bob())
                .with_json(&json!({"add": ["vip"]}))
                .with_header(header::IF_MATCH, &tag),
        )
        .await;
    assert_problem(&r, 412, "precondition_failed");
    let r = h.get(&bob(), &url).await;
    assert_eq!(r.json_body()["labels"], json!([]));
    assert_eq!(etag(&r), "\"2\"");

    let r = h
        .send(
            ApiRequest::new(Method::POST, format!("{url}/labels"), bob())
                .with_json(&json!({"add": ["vip"]}))
                .with_header(header::IF_MATCH, "\"2\""),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json_body()["labels"], json!(["vip"]));
    let r = h.send(assign("not-a-tag")).await;
    assert_problem(&r, 400, "bad_request");
}

#[tokio::test]
async fn roles_workspaces_and_request_errors() {
    let h = Harness::new();
    h.directory().await;
    let conv = h.conversation("Ann").await;
    let url = format!("/conversations/{conv}");

    let r = h
        .post(
            &viewer(),
            &format!("{url}/assign"),
            json!({"member_id": "bob"}),
        )
        .await;
    assert_problem(&r, 403, "forbidden");
    let r = h.get(&viewer(), &url).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = h.put(&bob(), "/members/zed", json!({"name": "Zed"})).await;
    assert_problem(&r, 403, "forbidden");
    let r = h.get(&who("acme", "x", "superuser", None), &url).await;
    assert_problem(&r, 403, "forbidden");

    // Another workspace's conversation does not exist for the caller.
    let other = who("globex", "bob", "admin", Some("Bob"));
    let r = h.get(&other, &url).await;
    assert_problem(&r, 404, "not_found");
    let r = h
        .post(
            &other,
            &format!("{url}/assign"),
            json!({"member_id": "bob"}),
        )
        .await;
    assert_problem(&r, 404, "not_found");

    let r = h.get(&Identity::Unauthenticated, &url).await;
    assert_problem(&r, 401, "unauthenticated");

    let r = h
        .post(
            &bob(),
            &format!("{url}/assign"),
            json!({"member_id": "bob", "colour": "red"}),
        )
        .await;
    assert_problem(&r, 400, "bad_request");
    let r = h
        .send(
            ApiRequest::new(Method::POST, format!("{url}/notes"), bob())
                .with_header(header::CONTENT_TYPE, "application/json")
                .tap_body(Bytes::from_static(b"{\"body\": ")),
        )
        .await;
    assert_problem(&r, 400, "bad_request");
    let r = h
        .send(
            ApiRequest::new(Method::POST, format!("{url}/notes"), bob())
                .with_header(header::CONTENT_TYPE, "text/plain")
                .tap_body(Bytes::from_static(b"hello")),
        )
        .await;
    assert_problem(&r, 415, "unsupported_media_type");

    let big = "x".repeat(MAX_BODY_BYTES);
    let r = h
        .post(&bob(), &format!("{url}/notes"), json!({"body": big}))
        .await;
    assert_problem(&r, 413, "payload_too_large");

    let r = h.get(&bob(), "/nothing/here").await;
    assert_problem(&r, 404, "not_found");
    let r = h.call(&bob(), Method::PATCH, &url, None).await;
    assert_problem(&r, 405, "method_not_allowed");
    assert_eq!(r.headers[header::ALLOW], "GET");

    let r = h.get(&bob(), "/conversations?view=everything").await;
    assert_problem(&r, 400, "bad_request");
    let r = h.get(&bob(), "/conversations?limit=500").await;
    assert_problem(&r, 400, "bad_request");
    let r = h.get(&bob(), "/conversations?cursor=garbage").await;
    assert_problem(&r, 400, "bad_request");

    // Nothing of the failed requests was written.
    assert_eq!(h.timeline_types(&conv).await, ["conversation_created"]);
}

#[tokio::test]
async fn directory_ids_settings_and_provisioning() {
    let h = Harness::new();
    h.directory().await;

    let r = h
        .put(
            &admin(),
            "/members/max",
            json!({"name": "Max", "role": "agent"}),
        )
        .await;
    assert_problem(&r, 409, "id_taken");
    let r = h
        .put(&admin(), "/agents/bob", json!({"name": "Bobbot"}))
        .await;
    assert_problem(&r, 409, "id_taken");
    let r = h
        .put(&admin(), "/members/Not%20Valid", json!({"name": "X"}))
        .await;
    assert_problem(&r, 400, "bad_request");

    let r = h.get(&viewer(), "/members?q=bo").await;
    assert_eq!(r.status, StatusCode::OK);
    let b = r.json_body();
    assert_eq!(
        b["items"],
        json!([{"id": "bob", "name": "Bob Ray", "email": "bob@x.io", "role": "agent", "initials": "BR"}])
    );
    assert_eq!(b["agents"], json!([]));
    let r = h.get(&viewer(), "/members?q=MA").await;
    assert_eq!(
        r.json_body()["agents"],
        json!([{"id": "max", "name": "Max", "kind": "ai"}])
    );

    let r = h.get(&viewer(), "/settings").await;
    assert_eq!(r.json_body()["auto_close"]["after_seconds"], 86400);
    let mut bad = r.json_body();
    bad["auto_close"]["after_seconds"] = json!(0);
    bad["closing_notes"]["mode"] = json!("sometimes");
    let r = h.put(&admin(), "/settings", bad).await;
    assert_problem(&r, 422, "invalid_settings");
    assert_eq!(r.json_body()["errors"].as_array().unwrap().len(), 2);

    // A member-role token joins the directory on its first write, not on reads.
    let dave = who("acme", "dave", "agent", Some("Dave Doe"));
    let conv = h.conversation("Ann").await;
    h.get(&dave, &format!("/conversations/{conv}")).await;
    let r = h.get(&viewer(), "/members?q=dave").await;
    assert_eq!(r.json_body()["items"], json!([]));
    let r = h
        .post(
            &dave,
            &format!("/conversations/{conv}/notes"),
            json!({"body": "internal"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json_body());
    let r = h.get(&viewer(), "/members?q=dave").await;
    assert_eq!(r.json_body()["items"][0]["name"], "Dave Doe");
    // …and can then be assigned.
    let r = h
        .post(
            &bob(),
            &format!("/conversations/{conv}/assign"),
            json!({"member_id": "dave"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);

    // Removing a member unassigns their conversations.
    let r = h
        .call(&admin(), Method::DELETE, "/members/dave", None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(r.body.as_bytes().is_empty());
    let r = h.get(&bob(), &format!("/conversations/{conv}")).await;
    assert_eq!(r.json_body()["assignee"], json!(null));
    let r = h
        .get(&admin(), &format!("/conversations/{conv}/timeline"))
        .await;
    let last = r.json_body()["items"]
        .as_array()
        .unwrap()
        .last()
        .cloned()
        .unwrap();
    assert_eq!(last["type"], "unassigned");
    assert_eq!(last["data"]["reason"], "member_removed");

    // Removing a team clears it from its conversations.
    let r = h
        .post(
            &bob(),
            &format!("/conversations/{conv}/team"),
            json!({"team_id": "support"}),
        )
        .await;
    assert_eq!(r.json_body()["team"]["id"], "support");
    let r = h
        .post(
            &bob(),
            &format!("/conversations/{conv}/team"),
            json!({"team_id": "nope"}),
        )
        .await;
    assert_problem(&r, 422, "unknown_team");
    let r = h
        .call(&admin(), Method::DELETE, "/teams/support", None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = h.get(&bob(), &format!("/conversations/{conv}")).await;
    assert_eq!(r.json_body()["team"], json!(null));
    let r = h.get(&bob(), "/teams").await;
    assert_eq!(r.json_body(), json!({"items": [], "next_cursor": null}));
}

#[tokio::test]
async fn contacts_blocking_flags_and_lists() {
    let h = Harness::new();
    h.directory().await;
    let conv = h.conversation("Ann").await;
    let url = format!("/conversations/{conv}");
    let contact = h.get(&bob(), &url).await.json_body()["contact"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let r = h
        .call(
            &bob(),
            Method::PATCH,
            &format!("/contacts/{contact}"),
            Some(json!({"name": "Ann Lee", "email": null})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json_body());
    assert_eq!(
        r.json_body(),
        json!({"id": contact, "name": "Ann Lee", "email": null, "phone": null, "blocked": false, "has_lead": false})
    );
    let r = h.get(&bob(), &url).await;
    assert_eq!(r.json_body()["contact"]["name"], "Ann Lee");
    assert_eq!(r.json_body()["contact"]["has_lead"], false);

    let r = h
        .post(&bob(), &format!("/contacts/{contact}/block"), json!({}))
        .await;
    assert_eq!(r.json_body()["blocked"], true);
    let r = h
        .post(
            &bob(),
            &format!("{url}/status"),
            json!({"status": "closed"}),
        )
        .await;
    assert_problem(&r, 409, "contact_blocked");
    let r = h
        .post(&bob(), &format!("{url}/messages"), json!({"body": "hi"}))
        .await;
    assert_problem(&r, 409, "contact_blocked");
    assert_eq!(
        h.get(&bob(), &url).await.json_body()["viewer"]["can_reply"],
        false
    );
    let r = h
        .post(&bob(), &format!("/contacts/{contact}/unblock"), json!({}))
        .await;
    assert_eq!(r.json_body()["blocked"], false);
    let types = h.timeline_types(&conv).await;
    assert!(types.ends_with(&["contact_blocked".into(), "contact_unblocked".into()]));

    let r = h
        .post(
            &bob(),
            &format!("/contacts/{contact}/notes"),
            json!({"body": "VIP customer"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = h
        .get(&viewer(), &format!("/contacts/{contact}/notes"))
        .await;
    assert_eq!(r.json_body()["items"][0]["body"], "VIP customer");
    let r = h.get(&viewer(), "/contacts/ct_missing").await;
    assert_problem(&r, 404, "not_found");

    // The caller's own flags: version untouched, other members unaffected.
    let r = h.post(&bob(), &format!("{url}/favorite"), json!({})).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json_body()["favorite"], true);
    let r = h.post(&bob(), &format!("{url}/unread"), json!({})).await;
    assert_eq!(r.json_body()["unread"], true);
    let r = h.get(&carol(), &url).await;
    assert_eq!(
        (
            r.json_body()["favorite"].clone(),
            r.json_body()["unread"].clone()
        ),
        (json!(false), json!(false))
    );
    let r = h.post(&bob(), &format!("{url}/read"), json!({})).await;
    assert_eq!(r.json_body()["unread"], false);
    let r = h
        .call(&bob(), Method::DELETE, &format!("{url}/favorite"), None)
        .await;
    assert_eq!(r.json_body()["favorite"], false);

    // Lists: views and paging.
    let r = h
        .get(&bob(), "/conversations?view=unassigned&limit=1")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json_body()["items"][0]["id"], conv.as_str());
    let r = h.get(&bob(), "/conversations?view=mine").await;
    assert_eq!(r.json_body(), json!({"items": [], "next_cursor": null}));
    let r = h.get(&bob(), &format!("{url}/messages")).await;
    assert_eq!(r.json_body(), json!({"items": [], "next_cursor": null}));
}

#[tokio::test]
async fn export_csv_writes_no_live_formula() {
    let h = Harness::new();
    h.directory().await;
    let evil = r#"=HYPERLINK("http://evil.example","x")"#;
    let r = h.post(&bob(), "/contacts", json!({"name": evil})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json_body());
    let contact = r.json_body()["id"].as_str().unwrap().to_string();
    let r = h
        .post(&bob(), "/conversations", json!({"contact_id": contact}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = h.get(&bob(), "/conversations/export.csv").await;
    let text = String::from_utf8(r.body.as_bytes().to_vec()).unwrap();
    let row = text.split("\r\n").nth(1).unwrap();
    // The cell is quoted for its commas and quotes, and opens as text.
    assert!(
        row.contains(r#","'=HYPERLINK(""http://evil.example"",""x"")","#),
        "{row}"
    );
    // The contact itself keeps its name as given.
    assert_eq!(
        h.get(&bob(), &format!("/contacts/{contact}"))
            .await
            .json_body()["name"],
        evil
    );
}

#[tokio::test]
async fn export_csv_covers_every_page() {
    let h = Harness::new();
    h.directory().await;
    let r = h
        .post(
            &bob(),
            "/contacts",
            json!({"name": "Doe, \"Jo\"", "phone": "+1555"}),
        )
        .await;
    let contact = r.json_body()["id"].as_str().unwrap().to_string();
    let n = 205;
    let mut first = String::new();
    for i in 0..n {
        h.clock.advance_ms(1);
        let r = h
            .post(&bob(), "/conversations", json!({"contact_id": contact}))
            .await;
        if i == 0 {
            first = r.json_body()["id"].as_str().unwrap().to_string();
        }
    }
    h.clock.advance_ms(1);
    let r = h
        .post(
            &bob(),
            &format!("/conversations/{first}/labels"),
            json!({"add": ["billing", "vip"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);

    let r = h.get(&bob(), "/conversations/export.csv").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json_body());
    assert_eq!(r.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    let text = String::from_utf8(r.body.as_bytes().to_vec()).unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines[0],
        "id,contact_name,contact_email,contact_phone,channel_id,status,assignee,team,agent,labels,created_at,last_activity_at,closed_at,closing_source,closing_category,closing_summary"
    );
    assert_eq!(lines.len(), n + 1);
    // Newest activity first: the labelled one moved to the top.
    // The phone starts with `+`: it opens as text, not a formula.
    let want = format!("{first},\"Doe, \"\"Jo\"\"\",,'+1555,,open,,,,billing;vip,");
    assert!(lines[1].starts_with(&want), "{}", lines[1]);

    let r = h.get(&viewer(), "/conversations/export.csv").await;
    assert_problem(&r, 403, "forbidden");
    let r = h.get(&bob(), "/conversations/export.csv?view=nope").await;
    assert_problem(&r, 400, "bad_request");

    // Paging the JSON list visits every conversation once.
    let mut seen = std::collections::HashSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("/conversations?limit=200&cursor={c}"),
            None => "/conversations?limit=200".to_string(),
        };
        let b = h.get(&bob(), &url).await.json_body();
        for item in b["items"].as_array().unwrap() {
            assert!(seen.insert(item["id"].as_str().unwrap().to_string()));
        }
        match b["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), n);
}

/// A small extension for building raw bodies in tests.
trait TapBody {
    fn tap_body(self, body: Bytes) -> Self;
}

impl TapBody for ApiRequest {
    fn tap_body(mut self, body: Bytes) -> Self {
        self.body = body;
        self
    }
}

#[tokio::test]
async fn ai_agents_integrations_and_handoff() {
    let h = Harness::new();
    h.directory().await;
    let conv = h.conversation("Ann").await;
    let url = format!("/conversations/{conv}");
    let max = who("acme", "max", "ai_agent", None);
    let integration = who("acme", "crm", "integration", Some("CRM"));

    // Without the active session the AI is paused; nothing is written.
    let r = h
        .post(&max, &format!("{url}/messages"), json!({"body": "Hello!"}))
        .await;
    assert_problem(&r, 409, "ai_paused");
    h.post(&bob(), &format!("{url}/agent"), json!({"agent_id": "max"}))
        .await;
    let r = h
        .post(&max, &format!("{url}/messages"), json!({"body": "Hello!"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json_body());
    let b = r.json_body();
    assert_eq!(b["message"]["sender"]["kind"], "ai_agent");
    assert_eq!(
        b["conversation"]["last_responder"],
        json!({"kind": "ai", "id": "max"})
    );
    // AI agents post and hand off, but do not read.
    assert_problem(&h.get(&max, &url).await, 403, "forbidden");

    let r = h
        .post(&max, &format!("{url}/handoff"), json!({"reason": "refund"}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json_body()["human_handoff"], true);
    let r = h.get(&bob(), "/conversations?view=pending_human").await;
    assert_eq!(r.json_body()["items"][0]["id"], conv.as_str());

    let r = h
        .post(
            &integration,
            &format!("{url}/messages"),
            json!({"body": "Sale!", "sender": "broadcast"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json_body());
    assert_eq!(r.json_body()["message"]["sender"]["kind"], "broadcast");
    let r = h
        .post(
            &integration,
            &format!("{url}/messages"),
            json!({"body": "x"}),
        )
        .await;
    assert_problem(&r, 400, "bad_request");

    // A member's reply to a conversation pending a human assigns the replier.
    let r = h
        .post(
            &carol(),
            &format!("{url}/messages"),
            json!({"body": "I'm here"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let c = &r.json_body()["conversation"];
    assert_eq!(c["assignee"]["id"], "carol");
    assert_eq!(c["human_handoff"], false);

    // A member with no name may read but not reply.
    let nameless = who("acme", "nemo", "agent", None);
    let r = h
        .post(&nameless, &format!("{url}/messages"), json!({"body": "hi"}))
        .await;
    assert_problem(&r, 422, "profile_incomplete");
    let r = h
        .post(&bob(), &format!("{url}/messages"), json!({"body": "  "}))
        .await;
    assert_problem(&r, 422, "empty_body");

    let r = h
        .post(
            &bob(),
            &format!("{url}/snooze"),
            json!({"until": "2026-11-21T09:00:00Z"}),
        )
        .await;
    assert_problem(&r, 422, "invalid_snooze");
    let r = h
        .post(
            &bob(),
            &format!("{url}/snooze"),
            json!({"until": "2026-11-22T09:00:00Z"}),
        )
        .await;
    assert_eq!(r.json_body()["snoozed_until"], "2026-11-22T09:00:00.000Z");
    let r = h.post(&bob(), &format!("{url}/unsnooze"), json!({})).await;
    assert_eq!(r.json_body()["snoozed_until"], json!(null));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_without_if_match_are_serialised() {
    let h = std::sync::Arc::new(Harness::new());
    h.directory().await;
    let conv = h.conversation("Ann").await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let h = h.clone();
        let url = format!("/conversations/{conv}/labels");
        tasks.push(tokio::spawn(async move {
            h.post(&bob(), &url, json!({"add": [format!("l{i}")]}))
                .await
                .status
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::OK);
    }
    let r = h.get(&bob(), &format!("/conversations/{conv}")).await;
    let labels = r.json_body()["labels"].as_array().unwrap().len();
    assert_eq!(labels, 8);
    assert_eq!(r.json_body()["version"], 9);
}

#[tokio::test]
async fn auto_generated_closing_note_uses_recent_messages() {
    let h = Harness::new();
    h.directory().await;
    let conv = h.conversation("Ann").await;
    let url = format!("/conversations/{conv}");
    let settings = json!({
        "auto_close": {"enabled": true, "after_seconds": 3600},
        "closing_notes": {"mode": "summary_required", "categories": ["billing"], "auto_generate": true},
        "ai": {"end_session_on_human_assignment": true, "stop_on_human_reply": true},
        "reopen_on_contact_message": true
    });
    assert_eq!(
        h.put(&admin(), "/settings", settings).await.status,
        StatusCode::OK
    );
    let r = h
        .post(
            &bob(),
            &format!("{url}/messages"),
            json!({"body": "Your billing refund was issued today."}),
        )
        .await;
    assert_eq!(
        r.json_body()["conversation"]["auto_close_at"],
        "2026-11-21T11:00:00.000Z"
    );
    let r = h
        .post(
            &bob(),
            &format!("{url}/status"),
            json!({"status": "closed"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json_body());
    let note = &r.json_body()["closing"]["note"];
    assert_eq!(note["generated"], true);
    assert!(
        note["summary"]
            .as_str()
            .is_some_and(|s| s.contains("refund"))
    );
    assert_eq!(r.json_body()["auto_close_at"], json!(null));
}

#[tokio::test]
async fn deleting_an_ai_agent_stops_it_everywhere() {
    let h = Harness::new();
    h.directory().await;
    let max = who("acme", "max", "ai_agent", None);
    // More conversations than one sweep page, every other one handed to max.
    let mut convs = Vec::new();
    for i in 0..130 {
        let conv = h.conversation(&format!("Contact {i}")).await;
        if i % 2 == 0 {
            let r = h
                .post(
                    &bob(),
                    &format!("/conversations/{conv}/agent"),
                    json!({"agent_id": "max"}),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{:?}", r.json_body());
        }
        convs.push(conv);
    }
    let r = h.call(&admin(), Method::DELETE, "/agents/max", None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    for (i, conv) in convs.iter().enumerate() {
        let r = h.get(&bob(), &format!("/conversations/{conv}")).await;
        assert_eq!(r.json_body()["agent"], json!(null), "conversation {i}");
        if i % 2 == 0 {
            let types = h.timeline_types(conv).await;
            assert_eq!(
                types[types.len() - 2..],
                ["agent_unassigned", "agent_session_ended"]
            );
            // The deleted agent's token can no longer post.
            let r = h
                .post(
                    &max,
                    &format!("/conversations/{conv}/messages"),
                    json!({"body": "hello?"}),
                )
                .await;
            assert_problem(&r, 409, "ai_paused");
        }
    }
}

#[tokio::test]
async fn a_new_member_token_is_added_to_the_directory_on_its_first_write() {
    // Each path that writes no conversation: a no-op command, a flag, a directory write.
    for (sub, path, method) in [
        ("dana", "unassign", Method::POST),
        ("erin", "read", Method::POST),
        ("finn", "favorite", Method::POST),
    ] {
        let h = Harness::new();
        let conv = h.conversation("Ann").await;
        let token = who("acme", sub, "agent", Some("New Person"));
        let r = h
            .call(
                &token,
                method,
                &format!("/conversations/{conv}/{path}"),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {:?}", r.json_body());
        let members = h.get(&bob(), "/members").await.json_body();
        let ids: Vec<_> = members["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].clone())
            .collect();
        assert!(
            ids.contains(&json!(sub)),
            "{path}: {sub} not provisioned: {ids:?}"
        );
    }
    // A directory write by a new admin token provisions the admin too.
    let h = Harness::new();
    let gina = who("acme", "gina", "admin", Some("Gina"));
    let r = h
        .put(
            &gina,
            "/teams/vip",
            json!({"name": "VIP", "member_ids": []}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let members = h.get(&bob(), "/members").await.json_body();
    assert!(
        members["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == "gina")
    );
}

/// A route that takes a body takes a JSON object: no body, `null`, an array
/// or a scalar is 400 and writes nothing (serde alone would read a contact
/// from `[null, null]`). A body-less command still takes nothing or `{}`.
#[tokio::test]
async fn bodies_are_json_objects() {
    let h = Harness::new();
    h.directory().await;
    let r = h.post(&bob(), "/contacts", json!({"name": "Ann"})).await;
    let contact = r.json_body()["id"].as_str().unwrap().to_string();
    for body in [json!([null, null]), json!(null), json!("Ann"), json!(7)] {
        let r = h.post(&bob(), "/contacts", body.clone()).await;
        assert_problem(&r, 400, "bad_request");
        let r = h
            .call(
                &bob(),
                Method::PATCH,
                &format!("/contacts/{contact}"),
                Some(body.clone()),
            )
            .await;
        assert_problem(&r, 400, "bad_request");
        let r = h
            .call(&admin(), Method::PUT, "/members/carol", Some(body))
            .await;
        assert_problem(&r, 400, "bad_request");
    }
    let r = h.call(&bob(), Method::POST, "/contacts", None).await;
    assert_problem(&r, 400, "bad_request");
    let r = h
        .call(&bob(), Method::PATCH, &format!("/contacts/{contact}"), None)
        .await;
    assert_problem(&r, 400, "bad_request");
    let r = h.call(&admin(), Method::PUT, "/members/carol", None).await;
    assert_problem(&r, 400, "bad_request");
    // Nothing was written: the one contact, unchanged; Carol as she was.
    assert_eq!(
        h.get(&bob(), &format!("/contacts/{contact}"))
            .await
            .json_body()["name"],
        "Ann"
    );
    let members = h.get(&bob(), "/members?q=carol").await.json_body();
    assert_eq!(members["items"][0]["role"], "agent", "{members}");
    // A body-less command: nothing, or `{}`.
    let conv = h.conversation("Ann").await;
    let r = h
        .call(
            &bob(),
            Method::POST,
            &format!("/conversations/{conv}/read"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = h
        .post(&bob(), &format!("/conversations/{conv}/read"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn a_bad_message_body_is_refused_as_such_even_with_a_stale_if_match() {
    let h = Harness::new();
    h.directory().await;
    let conv = h.conversation("Ann").await;
    let post = |path: &str, body: serde_json::Value| {
        ApiRequest::new(Method::POST, path.to_string(), bob())
            .with_json(&body)
            .with_header(header::IF_MATCH, "\"99\"")
    };
    let messages = format!("/conversations/{conv}/messages");
    let notes = format!("/conversations/{conv}/notes");
    let long = "x".repeat(20_001);
    assert_problem(
        &h.send(post(&messages, json!({"body": long}))).await,
        400,
        "bad_request",
    );
    assert_problem(
        &h.send(post(&messages, json!({"body": "  "}))).await,
        422,
        "empty_body",
    );
    assert_problem(
        &h.send(post(&notes, json!({"body": long}))).await,
        400,
        "bad_request",
    );
    // A good body with the stale version is the precondition's to refuse.
    assert_problem(
        &h.send(post(&messages, json!({"body": "Hi"}))).await,
        412,
        "precondition_failed",
    );
}
