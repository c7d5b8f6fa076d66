//! Roles are the directory's: a listed member acts with the directory's
//! role, owners are changed only by owners and the last one stays; and the
//! contract's strictness for `PUT` bodies and query strings.

use super::*;

/// The member `id` as the directory lists it (`Null` when absent).
async fn member(ws: &Ws, id: &str) -> Value {
    // Search matches names and emails; every id here starts with the first name.
    let q = id.split('-').next().unwrap_or(id);
    let r = ws.get(VIC, &format!("/members?q={q}")).await.expect(200);
    r["items"]
        .as_array()
        .and_then(|items| items.iter().find(|m| m["id"] == id).cloned())
        .unwrap_or(Value::Null)
}

/// A role change in the directory takes effect on the member's next
/// request, whatever their token says, for commands and admin routes alike.
pub async fn roles_are_the_directory_s(base: &str) {
    let ws = ready(base, "directory_roles").await;
    let conv = ws.conversation("Ann").await;
    // Vic's token says viewer; the directory makes Vic an agent.
    ws.act(VIC, &conv, "assign", json!({"member_id": "vic"}))
        .await
        .problem(403, "forbidden");
    ws.put(
        ADA,
        "/members/vic",
        json!({"name": "Vic Viewer", "role": "agent"}),
    )
    .await
    .expect(200);
    let c = ws
        .act(VIC, &conv, "assign", json!({"member_id": "vic"}))
        .await
        .expect(200);
    assert_eq!(c["assignee"]["id"], "vic");
    // Bob's token says agent; the directory makes Bob a viewer.
    ws.put(
        ADA,
        "/members/bob",
        json!({"name": "Bob Ray", "role": "viewer"}),
    )
    .await
    .expect(200);
    let before = ws.snapshot(&conv).await;
    ws.act(BOB, &conv, "takeover", json!({}))
        .await
        .problem(403, "forbidden");
    ws.act(BOB, &conv, "labels", json!({"add": ["vip"]}))
        .await
        .problem(403, "forbidden");
    ws.unchanged(&conv, &before).await;
    ws.post(BOB, "/contacts", json!({"name": "Zed"}))
        .await
        .problem(403, "forbidden");
    ws.get(BOB, "/conversations/export.csv")
        .await
        .problem(403, "forbidden");
    // Reading stays open to every member role.
    ws.get(BOB, &format!("/conversations/{conv}"))
        .await
        .expect(200);
    // Ada's token says admin; demoted to agent, the admin routes close.
    ws.put(
        ADA,
        "/members/carol",
        json!({"name": "Carol Lee", "role": "admin"}),
    )
    .await
    .expect(200);
    ws.put(
        CAROL,
        "/members/ada",
        json!({"name": "Ada Admin", "role": "agent"}),
    )
    .await
    .expect(200);
    ws.put(ADA, "/agents/nova", json!({"name": "Nova"}))
        .await
        .problem(403, "forbidden");
    ws.put(ADA, "/settings", json!({}))
        .await
        .problem(403, "forbidden");
    // Carol's token says agent, the directory admin: the admin routes open.
    ws.put(CAROL, "/agents/nova", json!({"name": "Nova"}))
        .await
        .expect(200);
}

/// Only an owner creates, changes or removes an owner; the last owner can
/// be neither removed nor demoted, and a refused change writes nothing.
pub async fn only_owners_touch_owners(base: &str) {
    let ws = ready(base, "owners").await;
    // An admin cannot make an owner, not even of themselves.
    ws.put(
        ADA,
        "/members/olivia",
        json!({"name": "Olivia Owner", "role": "owner"}),
    )
    .await
    .problem(403, "forbidden");
    assert_eq!(member(&ws, "olivia").await, Value::Null);
    ws.put(
        ADA,
        "/members/ada",
        json!({"name": "Ada Admin", "role": "owner"}),
    )
    .await
    .problem(403, "forbidden");
    assert_eq!(member(&ws, "ada").await["role"], "admin");
    // Olivia's owner token lists her, and the admin cannot touch her.
    ws.put(
        OLIVIA,
        "/members/olivia",
        json!({"name": "Olivia Owner", "role": "owner"}),
    )
    .await
    .expect(200);
    ws.put(
        ADA,
        "/members/olivia",
        json!({"name": "Olivia", "role": "agent"}),
    )
    .await
    .problem(403, "forbidden");
    ws.delete(ADA, "/members/olivia")
        .await
        .problem(403, "forbidden");
    assert_eq!(member(&ws, "olivia").await["role"], "owner");
    assert_eq!(member(&ws, "olivia").await["name"], "Olivia Owner");
    // The last owner stays.
    ws.put(
        OLIVIA,
        "/members/olivia",
        json!({"name": "Olivia Owner", "role": "admin"}),
    )
    .await
    .problem(409, "last_owner");
    ws.delete(OLIVIA, "/members/olivia")
        .await
        .problem(409, "last_owner");
    assert_eq!(member(&ws, "olivia").await["role"], "owner");
    // With a second owner, either may step down; then that one is the last.
    ws.put(
        OLIVIA,
        "/members/ada",
        json!({"name": "Ada Admin", "role": "owner"}),
    )
    .await
    .expect(200);
    // Ada's token still says admin: the directory's owner role decides.
    ws.put(
        ADA,
        "/members/olivia",
        json!({"name": "Olivia Owner", "role": "agent"}),
    )
    .await
    .expect(200);
    ws.delete(ADA, "/members/ada")
        .await
        .problem(409, "last_owner");
    ws.put(
        ADA,
        "/members/ada",
        json!({"name": "Ada Admin", "role": "viewer"}),
    )
    .await
    .problem(409, "last_owner");
    assert_eq!(member(&ws, "ada").await["role"], "owner");
    // Olivia, an agent now, cannot manage members at all.
    ws.put(
        OLIVIA,
        "/members/zoe",
        json!({"name": "Zoe", "role": "agent"}),
    )
    .await
    .problem(403, "forbidden");
}

/// A `PUT` replaces the whole resource: missing required fields are one 422
/// naming each and nothing is written; query strings take only the route's
/// parameters, each once and never empty.
pub async fn strict_puts_and_queries(base: &str) {
    let ws = ready(base, "strict").await;
    let fields = |p: &Value| -> Vec<String> {
        p["errors"]
            .as_array()
            .map(|e| {
                e.iter()
                    .filter_map(|f| f["field"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let p = ws
        .put(ADA, "/members/bob", json!({}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(fields(&p), ["name", "role"]);
    let p = ws
        .put(ADA, "/members/bob", json!({"name": "Bob"}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(fields(&p), ["role"]);
    let bob = member(&ws, "bob").await;
    assert_eq!(
        (bob["name"].as_str(), bob["role"].as_str()),
        (Some("Bob Ray"), Some("agent"))
    );
    let p = ws
        .put(ADA, "/teams/support", json!({"member_ids": []}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(fields(&p), ["name"]);
    let teams = ws.get(VIC, "/teams").await.expect(200);
    assert_eq!(teams["items"][0]["member_ids"], json!(["bob", "carol"]));
    let p = ws
        .put(ADA, "/agents/max", json!({}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(fields(&p), ["name"]);
    let p = ws
        .put(ADA, "/channels/web", json!({"name": "Web"}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(fields(&p), ["kind", "secret"]);
    ws.put(ADA, "/channels/web", json!([{"kind": "generic"}]))
        .await
        .problem(400, "bad_request");
    let channels = ws.get(ADA, "/channels").await.expect(200);
    assert_eq!(channels["items"], json!([]));

    let conv = ws.conversation("Ann").await;
    for path in [
        "/conversations?team=".to_string(),
        "/conversations?view=all&colour=red".to_string(),
        "/conversations?view=all&view=mine".to_string(),
        "/conversations/export.csv?limit=5".to_string(),
        "/members?q=".to_string(),
        "/teams?cursor=".to_string(),
        "/settings?x=1".to_string(),
        format!("/conversations/{conv}?verbose=1"),
        format!("/conversations/{conv}/timeline?limit="),
    ] {
        ws.get(ADA, &path).await.problem(400, "bad_request");
    }
    let before = ws.snapshot(&conv).await;
    ws.post(
        ADA,
        &format!("/conversations/{conv}/labels?dry_run=1"),
        json!({"add": ["x"]}),
    )
    .await
    .problem(400, "bad_request");
    ws.unchanged(&conv, &before).await;
    ws.get(ADA, "/conversations?view=all&team=support&limit=5")
        .await
        .expect(200);

    // If-Match is exactly "<version>" or *: every other form is 400 and writes nothing.
    let labels = format!("/conversations/{conv}/labels");
    for form in ["1", "W/\"1\"", "\"1\", \"2\"", "\"one\"", ""] {
        ws.call_with(
            ADA,
            Method::POST,
            &labels,
            Some(json!({"add": ["x"]})),
            &[("if-match", form)],
        )
        .await
        .problem(400, "bad_request");
    }
    ws.unchanged(&conv, &before).await;
    ws.call_with(
        ADA,
        Method::POST,
        &labels,
        Some(json!({"add": ["x"]})),
        &[("if-match", "*")],
    )
    .await
    .expect(200);
}

/// `POST /members/invite` lists the member (locally under an id made from
/// the email) and answers `invited: true`; the invited member's first
/// request acts with the invited role; an admin cannot invite an owner.
pub async fn invite_a_member(base: &str) {
    let ws = ready(base, "invite").await;
    let m = ws
        .post(
            ADA,
            "/members/invite",
            json!({"email": "Zoe.Quinn@example.com", "name": "Zoe Quinn", "role": "viewer"}),
        )
        .await
        .expect(201);
    assert_eq!(m["invited"], true);
    assert_eq!(m["id"], "zoe-quinn");
    assert_eq!(member(&ws, "zoe-quinn").await["role"], "viewer");
    ws.post(
        ADA,
        "/members/invite",
        json!({"email": "zoe.quinn@example.com", "name": "Zoe", "role": "agent"}),
    )
    .await
    .problem(409, "id_taken");
    ws.post(
        ADA,
        "/members/invite",
        json!({"email": "olga@example.com", "name": "Olga", "role": "owner"}),
    )
    .await
    .problem(403, "forbidden");
    assert_eq!(member(&ws, "olga").await, Value::Null);
    let p = ws
        .post(ADA, "/members/invite", json!({"email": "x@example.com"}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(p["errors"].as_array().map(Vec::len), Some(2));
    ws.post(
        VIC,
        "/members/invite",
        json!({"email": "y@example.com", "name": "Y", "role": "agent"}),
    )
    .await
    .problem(403, "forbidden");
}
