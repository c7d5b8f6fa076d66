//! The demo workspace, seeded through the same handlers as every request, so
//! everything in it is valid by construction.

use http::{Method, StatusCode};
use inbox_http::{ApiRequest, App, Claims, Identity, mint_dev_token};
use inbox_store::Store;
use serde_json::{Value, json};
use std::time::Duration;

/// The demo workspace's id.
pub const WORKSPACE: &str = "demo";
/// How long the printed demo tokens are valid.
pub const TOKEN_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// One demo identity: id, role, display name.
#[derive(Debug, Clone, Copy)]
pub struct DemoUser {
    /// `sub`.
    pub id: &'static str,
    /// `role`.
    pub role: &'static str,
    /// `name`.
    pub name: &'static str,
}

/// Everyone the demo prints a token for: a member of each role, the AI agent and an integration.
pub const USERS: [DemoUser; 7] = [
    DemoUser {
        id: "olivia",
        role: "owner",
        name: "Olivia Park",
    },
    DemoUser {
        id: "adam",
        role: "admin",
        name: "Adam Lee",
    },
    DemoUser {
        id: "bob",
        role: "agent",
        name: "Bob Ray",
    },
    DemoUser {
        id: "carol",
        role: "agent",
        name: "Carol Diaz",
    },
    DemoUser {
        id: "vera",
        role: "viewer",
        name: "Vera Stone",
    },
    DemoUser {
        id: "max",
        role: "ai_agent",
        name: "Max",
    },
    DemoUser {
        id: "zapier",
        role: "integration",
        name: "Zapier",
    },
];

/// A seeding step the handlers refused.
#[derive(Debug, thiserror::Error)]
#[error("demo seed: {method} {path} answered {status}: {body}")]
pub struct SeedError {
    method: Method,
    path: String,
    status: StatusCode,
    body: String,
}

struct Seeder<'a, S> {
    app: &'a App<S>,
}

impl<S: Store> Seeder<'_, S> {
    async fn call(
        &self,
        who: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, SeedError> {
        let user = USERS
            .iter()
            .find(|u| u.id == who)
            .copied()
            .unwrap_or(USERS[0]);
        let identity = Identity::Verified(Claims {
            sub: user.id.to_string(),
            workspace_id: WORKSPACE.to_string(),
            role: user.role.to_string(),
            name: Some(user.name.to_string()),
        });
        let mut req = ApiRequest::new(method.clone(), path, identity);
        if let Some(b) = &body {
            req = req.with_json(b);
        }
        let resp = inbox_http::handle(self.app, req).await;
        if !resp.status.is_success() {
            return Err(SeedError {
                method,
                path: path.to_string(),
                status: resp.status,
                body: String::from_utf8_lossy(resp.body.as_bytes()).into_owned(),
            });
        }
        Ok(resp.json_body())
    }

    async fn post(&self, who: &str, path: &str, body: Value) -> Result<Value, SeedError> {
        self.call(who, Method::POST, path, Some(body)).await
    }

    async fn put(&self, who: &str, path: &str, body: Value) -> Result<Value, SeedError> {
        self.call(who, Method::PUT, path, Some(body)).await
    }

    /// A contact and a conversation with it on the web channel; the conversation's id.
    async fn conversation(
        &self,
        name: &str,
        email: Option<&str>,
        phone: Option<&str>,
    ) -> Result<String, SeedError> {
        let contact = self
            .post(
                "zapier",
                "/contacts",
                json!({"name": name, "email": email, "phone": phone}),
            )
            .await?;
        let conv = self
            .post(
                "zapier",
                "/conversations",
                json!({"contact_id": contact["id"], "channel_id": "web"}),
            )
            .await?;
        Ok(conv["id"].as_str().unwrap_or_default().to_string())
    }
}

/// Seeds the demo workspace unless it already has members; returns whether it seeded.
pub async fn seed<S: Store>(
    app: &App<S>,
) -> Result<bool, Box<dyn std::error::Error + Send + Sync>> {
    let s = Seeder { app };
    let members = s.call("olivia", Method::GET, "/members", None).await?;
    if members["items"].as_array().is_some_and(|m| !m.is_empty()) {
        return Ok(false);
    }
    s.put(
        "olivia",
        "/settings",
        json!({
            "auto_close": {"enabled": true, "after_seconds": 86400},
            "closing_notes": {"mode": "optional", "categories": ["billing", "bug", "question"], "auto_generate": false},
            "ai": {"end_session_on_human_assignment": true, "stop_on_human_reply": true},
            "reopen_on_contact_message": true
        }),
    )
    .await?;
    for u in USERS
        .iter()
        .filter(|u| !matches!(u.role, "ai_agent" | "integration"))
    {
        let email = format!("{}@demo.example", u.id);
        s.put(
            "olivia",
            &format!("/members/{}", u.id),
            json!({"name": u.name, "email": email, "role": u.role}),
        )
        .await?;
    }
    s.put(
        "olivia",
        "/teams/support",
        json!({"name": "Support", "member_ids": ["bob", "carol"]}),
    )
    .await?;
    s.put("olivia", "/agents/max", json!({"name": "Max"}))
        .await?;
    // The channel goes through the same core as `PUT /channels/{id}`.
    inbox_ingest::put_channel(
        app.store(),
        inbox_domain::Role::Owner,
        WORKSPACE,
        "web",
        br#"{"kind": "generic", "name": "Website chat", "secret": "demo-web-secret"}"#,
    )
    .await?;

    // Open, assigned to Bob, on the Support team, labelled, with Bob's reply (the auto-close timer runs).
    let ann = s
        .conversation("Ann Fox", Some("ann@example.com"), None)
        .await?;
    s.post(
        "bob",
        &format!("/conversations/{ann}/assign"),
        json!({"member_id": "bob"}),
    )
    .await?;
    s.post(
        "bob",
        &format!("/conversations/{ann}/team"),
        json!({"team_id": "support"}),
    )
    .await?;
    s.post(
        "bob",
        &format!("/conversations/{ann}/labels"),
        json!({"add": ["billing"]}),
    )
    .await?;
    s.post(
        "bob",
        &format!("/conversations/{ann}/messages"),
        json!({"body": "Hi Ann, I am looking at your invoice now."}),
    )
    .await?;

    // No status decided yet ("Unassigned" in the status menu), nobody assigned.
    let ben = s.conversation("Ben Ode", None, Some("+15550100")).await?;
    s.post(
        "bob",
        &format!("/conversations/{ben}/status"),
        json!({"status": "unset"}),
    )
    .await?;

    // Closed with a closing note.
    let cleo = s
        .conversation("Cleo Hart", Some("cleo@example.com"), None)
        .await?;
    s.post(
        "carol",
        &format!("/conversations/{cleo}/messages"),
        json!({"body": "Your password reset link is on its way."}),
    )
    .await?;
    s.post(
        "carol",
        &format!("/conversations/{cleo}/status"),
        json!({"status": "closed", "closing_note": {"category": "question", "summary": "Sent a password reset link."}}),
    )
    .await?;

    // The AI agent holds an active session and has replied.
    let dan = s.conversation("Dan Wu", None, None).await?;
    s.post(
        "bob",
        &format!("/conversations/{dan}/agent"),
        json!({"agent_id": "max"}),
    )
    .await?;
    s.post(
        "max",
        &format!("/conversations/{dan}/messages"),
        json!({"body": "Hi Dan, I am Max. How can I help?"}),
    )
    .await?;

    // The AI asked for a human: pending human, unassigned.
    let eve = s
        .conversation("Eve Moss", Some("eve@example.com"), None)
        .await?;
    s.post(
        "bob",
        &format!("/conversations/{eve}/agent"),
        json!({"agent_id": "max"}),
    )
    .await?;
    s.post(
        "max",
        &format!("/conversations/{eve}/messages"),
        json!({"body": "Let me find someone who can refund that."}),
    )
    .await?;
    s.post(
        "max",
        &format!("/conversations/{eve}/handoff"),
        json!({"reason": "refund request"}),
    )
    .await?;

    // Assigned to Carol and snoozed for two days, with an internal note.
    let finn = s.conversation("Finn Gray", None, Some("+15550101")).await?;
    s.post(
        "carol",
        &format!("/conversations/{finn}/assign"),
        json!({"member_id": "carol"}),
    )
    .await?;
    s.post(
        "carol",
        &format!("/conversations/{finn}/notes"),
        json!({"body": "Waiting for the courier's answer."}),
    )
    .await?;
    let until = app.clock().now().plus_seconds(2 * 24 * 3600).to_rfc3339();
    s.post(
        "carol",
        &format!("/conversations/{finn}/snooze"),
        json!({"until": until}),
    )
    .await?;
    s.post(
        "carol",
        &format!("/conversations/{finn}/labels"),
        json!({"add": ["shipping", "vip"]}),
    )
    .await?;

    // Assigned to Carol while the AI is still on it (Bob can take it over).
    let gus = s
        .conversation("Gus Hill", Some("gus@example.com"), None)
        .await?;
    s.post(
        "carol",
        &format!("/conversations/{gus}/agent"),
        json!({"agent_id": "max"}),
    )
    .await?;
    s.post(
        "max",
        &format!("/conversations/{gus}/messages"),
        json!({"body": "Hello Gus! Checking your order."}),
    )
    .await?;
    s.post(
        "carol",
        &format!("/conversations/{gus}/assign"),
        json!({"member_id": "carol"}),
    )
    .await?;

    // A blocked contact.
    let hal = s.conversation("Hal Spam", None, Some("+15550199")).await?;
    let conv = s
        .call("bob", Method::GET, &format!("/conversations/{hal}"), None)
        .await?;
    let hal_contact = conv["contact"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    s.post("bob", &format!("/contacts/{hal_contact}/block"), json!({}))
        .await?;
    Ok(true)
}

/// A token for each demo identity, as `export NAME_TOKEN=…` lines.
pub fn token_lines(secret: &[u8]) -> Result<Vec<String>, inbox_http::AuthError> {
    Ok(identities(secret)?
        .into_iter()
        .map(|i| {
            format!(
                "export {}_TOKEN={}   # {} ({})",
                i.id.to_uppercase(),
                i.token,
                i.name,
                i.role
            )
        })
        .collect())
}

/// A demo identity with a token of its own, as the web inbox's dev sign-in lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SignInIdentity {
    /// `sub`.
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Role.
    pub role: &'static str,
    /// A dev token, valid [`TOKEN_TTL`].
    pub token: String,
}

/// Every demo identity with a fresh token.
pub fn identities(secret: &[u8]) -> Result<Vec<SignInIdentity>, inbox_http::AuthError> {
    USERS
        .iter()
        .map(|u| {
            Ok(SignInIdentity {
                id: u.id,
                name: u.name,
                role: u.role,
                token: mint_dev_token(secret, WORKSPACE, u.id, u.role, Some(u.name), TOKEN_TTL)?,
            })
        })
        .collect()
}

/// With `--fake-providers`: points the demo's channels at the fakes at
/// `fakes` (every start, since their port changes), so that replies move
/// through `pending` → `sent` for a newcomer to see, and adds an SMS
/// conversation the first time. Twilio's status callbacks come from the
/// fakes' control routes (`docs/fake-providers.md`).
pub async fn point_channels_at_fakes<S: Store>(
    app: &App<S>,
    fakes: &str,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let s = Seeder { app };
    let before = s.call("olivia", Method::GET, "/channels", None).await?;
    let had_sms = before["items"]
        .as_array()
        .is_some_and(|c| c.iter().any(|c| c["id"] == "sms"));
    // Max really answers: an LLM agent on the fakes' OpenAI-compatible model.
    s.call(
        "olivia",
        Method::PUT,
        "/agents/max",
        Some(json!({"name": "Max", "kind": "llm", "llm": {
            "base_url": format!("{fakes}/v1"), "model": "demo-model", "api_key": "demo-model-key",
            "instructions": "You are Max, the assistant of the demo team. Answer briefly; hand the conversation to a person when asked."}})),
    )
    .await?;
    let channels = [
        (
            "web",
            json!({"kind": "generic", "name": "Website chat", "secret": "demo-web-secret",
                   "outbound_url": format!("{fakes}/receiver/demo-web"), "default_agent_id": "max"}),
        ),
        (
            "sms",
            json!({"kind": "twilio", "name": "SMS", "secret": "demo-twilio-auth-token",
                   "account_sid": "AC00000000000000000000000000000001", "from": "+15550001000",
                   "api_base_url": fakes}),
        ),
        (
            "whatsapp",
            json!({"kind": "whatsapp", "name": "WhatsApp", "secret": "demo-whatsapp-app-secret",
                   "phone_number_id": "100000000000001", "access_token": "demo-access-token",
                   "verify_token": "demo-verify", "api_base_url": fakes, "default_agent_id": "max"}),
        ),
        (
            "telegram",
            json!({"kind": "telegram", "name": "Telegram", "secret": "demo-telegram-secret",
                   "bot_token": "100001:demo-bot-token", "api_base_url": fakes, "default_agent_id": "max"}),
        ),
    ];
    for (id, body) in channels {
        let body = serde_json::to_vec(&body)?;
        inbox_ingest::put_channel(app.store(), inbox_domain::Role::Owner, WORKSPACE, id, &body)
            .await?;
    }
    if !had_sms {
        let contact = s
            .post(
                "zapier",
                "/contacts",
                json!({"name": "Sam Rivera", "phone": "+15550100123"}),
            )
            .await?;
        s.post(
            "zapier",
            "/conversations",
            json!({"contact_id": contact["id"], "channel_id": "sms"}),
        )
        .await?;
    }
    Ok(())
}
