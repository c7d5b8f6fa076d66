//! API keys: an admin makes one for an AI agent or an integration, the key
//! acts exactly like a token of that role, and a revoked key is refused on
//! the next request.

use super::*;

/// A JSON request authenticated with an API key's secret.
async fn with_key(
    ws: &Ws,
    secret: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> crate::e2e::client::Resp {
    let bytes = body.map(|b| serde_json::to_vec(&b).expect("JSON"));
    let headers: &[(&str, &str)] = if bytes.is_some() {
        &[("content-type", "application/json")]
    } else {
        &[]
    };
    ws.raw(Some(secret), method, path, headers, bytes).await
}

/// Keys for AI agent Max and for an integration post an AI reply, a handoff
/// and a broadcast; the list shows no secret and when each was last used;
/// a revoked or altered key is 401.
pub async fn api_keys_act_as_agents_and_integrations(base: &str) {
    let ws = ready(base, "api_keys").await;
    let conv = ws.conversation("Ann").await;

    let max = ws
        .post(
            ADA,
            "/api-keys",
            json!({"name": "Max production", "role": "ai_agent", "subject": "max"}),
        )
        .await
        .expect(201);
    let max_secret = max["secret"].as_str().expect("a secret").to_string();
    assert!(max_secret.starts_with("ibx_"), "{max}");
    assert!(max["id"].as_str().is_some_and(|id| id.starts_with("key_")));
    assert_eq!(max["last_used_at"], Value::Null);
    let crm = ws
        .post(
            ADA,
            "/api-keys",
            json!({"name": "CRM sync", "role": "integration", "subject": "crm-sync"}),
        )
        .await
        .expect(201);
    let crm_secret = crm["secret"].as_str().expect("a secret").to_string();

    // Refusals write nothing.
    ws.post(
        ADA,
        "/api-keys",
        json!({"name": "Ghost", "role": "ai_agent", "subject": "nobody"}),
    )
    .await
    .problem(422, "unknown_agent");
    ws.post(
        ADA,
        "/api-keys",
        json!({"name": "Root", "role": "admin", "subject": "root"}),
    )
    .await
    .problem(422, "validation_failed");
    ws.post(ADA, "/api-keys", json!({"name": "CRM"}))
        .await
        .problem(422, "validation_failed");
    ws.post(
        BOB,
        "/api-keys",
        json!({"name": "Mine", "role": "integration", "subject": "bob-bot"}),
    )
    .await
    .problem(403, "forbidden");
    ws.get(BOB, "/api-keys").await.problem(403, "forbidden");

    // The AI agent's key answers once Max holds the session, and hands off.
    ws.act(BOB, &conv, "agent", json!({"agent_id": "max"}))
        .await
        .expect(200);
    let path = format!("/conversations/{conv}");
    let posted = with_key(
        &ws,
        &max_secret,
        Method::POST,
        &format!("{path}/messages"),
        Some(json!({"body": "Hi, Max here."})),
    )
    .await
    .expect(201);
    assert_eq!(posted["message"]["sender"]["kind"], "ai_agent");
    assert_eq!(posted["message"]["sender"]["id"], "max");
    let handed = with_key(
        &ws,
        &max_secret,
        Method::POST,
        &format!("{path}/handoff"),
        Some(json!({"reason": "refund"})),
    )
    .await
    .expect(200);
    assert_eq!(handed["human_handoff"], true);
    // An AI agent's key reads nothing, as its token would not.
    with_key(&ws, &max_secret, Method::GET, &path, None)
        .await
        .problem(403, "forbidden");

    // The integration's key posts a broadcast.
    let sale = with_key(
        &ws,
        &crm_secret,
        Method::POST,
        &format!("{path}/messages"),
        Some(json!({"body": "Sale!", "sender": "broadcast"})),
    )
    .await
    .expect(201);
    assert_eq!(sale["message"]["sender"]["kind"], "broadcast");

    // Listed without secrets, with the minute each was last used in.
    let list = ws.get(ADA, "/api-keys").await.expect(200);
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "{list}");
    for k in items {
        assert!(
            k.get("secret").is_none() && k.get("secret_hash").is_none(),
            "{k}"
        );
        let used = k["last_used_at"].as_str().expect("used");
        assert!(used.ends_with(":00.000Z"), "kept to the minute: {used}");
    }

    // Revoked: the next request is 401; revoking again is 404.
    let id = max["id"].as_str().expect("id");
    let r = ws.delete(ADA, &format!("/api-keys/{id}")).await;
    assert_eq!(r.status, 204, "{}", r.text);
    with_key(
        &ws,
        &max_secret,
        Method::POST,
        &format!("{path}/messages"),
        Some(json!({"body": "Still here?"})),
    )
    .await
    .problem(401, "unauthenticated");
    ws.delete(ADA, &format!("/api-keys/{id}"))
        .await
        .problem(404, "not_found");
    let left = ws.get(ADA, "/api-keys").await.expect(200);
    assert_eq!(left["items"][0]["subject"], "crm-sync");

    // An altered secret, or one naming no key, is 401.
    let mut altered = crm_secret.clone();
    let last = altered
        .pop()
        .map_or('A', |c| if c == 'A' { 'B' } else { 'A' });
    altered.push(last);
    for bad in [altered.as_str(), "ibx_key_nothing.abc", "ibx_"] {
        with_key(&ws, bad, Method::GET, "/api-keys", None)
            .await
            .problem(401, "unauthenticated");
    }
}
