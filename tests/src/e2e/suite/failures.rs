//! Failures: each asserts that nothing was written.

use super::*;

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
        &jsonwebtoken::EncodingKey::from_secret(crate::e2e::server::E2E_SECRET.as_bytes()),
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
