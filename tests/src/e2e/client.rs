//! A small HTTP client for the suite: one workspace per flow, tokens per persona.

use super::server::E2E_SECRET;
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A caller: id, role, display name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Who {
    /// `sub`.
    pub sub: &'static str,
    /// `role`.
    pub role: &'static str,
    /// `name`.
    pub name: &'static str,
}

/// The admin who sets the workspace up.
pub const ADA: Who = Who {
    sub: "ada",
    role: "admin",
    name: "Ada Admin",
};
/// The workspace's owner (set up by flows that need one).
pub const OLIVIA: Who = Who {
    sub: "olivia",
    role: "owner",
    name: "Olivia Owner",
};
/// An agent.
pub const BOB: Who = Who {
    sub: "bob",
    role: "agent",
    name: "Bob Ray",
};
/// Another agent.
pub const CAROL: Who = Who {
    sub: "carol",
    role: "agent",
    name: "Carol Lee",
};
/// A viewer.
pub const VIC: Who = Who {
    sub: "vic",
    role: "viewer",
    name: "Vic Viewer",
};
/// The AI agent.
pub const MAX: Who = Who {
    sub: "max",
    role: "ai_agent",
    name: "Max",
};
/// An integration.
pub const ZAP: Who = Who {
    sub: "zap",
    role: "integration",
    name: "Zap",
};

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct Resp {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// Body text.
    pub text: String,
}

impl Resp {
    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(&self, status: u16) -> Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        self.json()
    }

    /// Asserts a problem+json response with this status and code; returns the problem.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        let ct = self.header("content-type").unwrap_or_default();
        assert!(
            ct.starts_with("application/problem+json"),
            "content type {ct}; body {}",
            self.text
        );
        let p = self.json();
        assert_eq!(p["code"], code, "problem: {p}");
        assert_eq!(p["status"], status, "problem: {p}");
        assert!(
            p["title"].is_string() && p["detail"].is_string() && p["type"].is_string(),
            "problem: {p}"
        );
        p
    }
}

/// Everything that can change about a conversation, as one caller reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// `GET /conversations/{id}`.
    pub conversation: Value,
    /// Every timeline event.
    pub timeline: Value,
    /// Every message.
    pub messages: Value,
}

/// A fresh workspace on a running server.
#[derive(Debug, Clone)]
pub struct Ws {
    /// The server's base URL.
    pub base: String,
    /// The workspace id.
    pub id: String,
    http: reqwest::Client,
}

impl Ws {
    /// A new, empty workspace named after `flow` (unique per call).
    pub fn new(base: &str, flow: &str) -> Ws {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        Ws {
            base: base.trim_end_matches('/').to_string(),
            id: format!("{}-{}-{n}", flow.replace('_', "-"), t % 100_000_000),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("an HTTP client"),
        }
    }

    /// A valid token for `who` in this workspace.
    pub fn token(&self, who: Who) -> String {
        inbox_http::mint_dev_token(
            E2E_SECRET.as_bytes(),
            &self.id,
            who.sub,
            who.role,
            Some(who.name),
            Duration::from_secs(3600),
        )
        .expect("a token")
    }

    /// A request with a raw body, extra headers and an optional bearer token.
    pub async fn raw(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Resp {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        let resp = req.send().await.unwrap_or_else(|e| panic!("{path}: {e}"));
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        Resp {
            status,
            headers,
            text,
        }
    }

    /// A JSON request as `who`.
    pub async fn call(&self, who: Who, method: Method, path: &str, body: Option<Value>) -> Resp {
        self.call_with(who, method, path, body, &[]).await
    }

    /// A JSON request as `who` with extra headers.
    pub async fn call_with(
        &self,
        who: Who,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut all = headers.to_vec();
        let bytes = body.map(|b| {
            all.push(("content-type", "application/json"));
            serde_json::to_vec(&b).expect("JSON")
        });
        self.raw(Some(&self.token(who)), method, path, &all, bytes)
            .await
    }

    /// `GET` as `who`.
    pub async fn get(&self, who: Who, path: &str) -> Resp {
        self.call(who, Method::GET, path, None).await
    }

    /// `POST` with a JSON body as `who`.
    pub async fn post(&self, who: Who, path: &str, body: Value) -> Resp {
        self.call(who, Method::POST, path, Some(body)).await
    }

    /// `PUT` with a JSON body as `who`.
    pub async fn put(&self, who: Who, path: &str, body: Value) -> Resp {
        self.call(who, Method::PUT, path, Some(body)).await
    }

    /// `DELETE` as `who`.
    pub async fn delete(&self, who: Who, path: &str) -> Resp {
        self.call(who, Method::DELETE, path, None).await
    }

    /// `POST /conversations/{id}/{action}` as `who`.
    pub async fn act(&self, who: Who, conv: &str, action: &str, body: Value) -> Resp {
        self.post(who, &format!("/conversations/{conv}/{action}"), body)
            .await
    }

    /// The directory every flow starts from: Ada (admin), Bob and Carol
    /// (agents), Vic (viewer), the AI agent Max and the Support team.
    pub async fn setup(&self) {
        for (who, role) in [
            (ADA, "admin"),
            (BOB, "agent"),
            (CAROL, "agent"),
            (VIC, "viewer"),
        ] {
            let email = format!("{}@example.com", who.sub);
            self.put(
                ADA,
                &format!("/members/{}", who.sub),
                json!({"name": who.name, "email": email, "role": role}),
            )
            .await
            .expect(200);
        }
        self.put(ADA, "/agents/max", json!({"name": "Max"}))
            .await
            .expect(200);
        self.put(
            ADA,
            "/teams/support",
            json!({"name": "Support", "member_ids": ["bob", "carol"]}),
        )
        .await
        .expect(200);
    }

    /// A new contact and an open conversation with it; the conversation's id.
    pub async fn conversation(&self, contact_name: &str) -> String {
        let c = self
            .post(BOB, "/contacts", json!({"name": contact_name, "email": format!("{}@example.org", contact_name.to_lowercase())}))
            .await
            .expect(201);
        let conv = self
            .post(BOB, "/conversations", json!({"contact_id": c["id"]}))
            .await
            .expect(201);
        conv["id"].as_str().expect("an id").to_string()
    }

    /// The conversation as `who` sees it.
    pub async fn conv(&self, who: Who, conv: &str) -> Value {
        self.get(who, &format!("/conversations/{conv}"))
            .await
            .expect(200)
    }

    /// Every timeline event of a conversation.
    pub async fn timeline(&self, conv: &str) -> Vec<Value> {
        self.all_pages(&format!("/conversations/{conv}/timeline"))
            .await
    }

    /// The timeline's event types, in order.
    pub async fn timeline_types(&self, conv: &str) -> Vec<String> {
        self.timeline(conv)
            .await
            .iter()
            .map(|e| e["type"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// Every item of a list route, following cursors (as Ada).
    pub async fn all_pages(&self, path: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let sep = if path.contains('?') { '&' } else { '?' };
            let url = match &cursor {
                Some(c) => format!("{path}{sep}limit=200&cursor={c}"),
                None => format!("{path}{sep}limit=200"),
            };
            let page = self.get(ADA, &url).await.expect(200);
            items.extend(page["items"].as_array().cloned().unwrap_or_default());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return items,
            }
        }
    }

    /// The ids of a view's conversations for `who`, in list order.
    pub async fn view_ids(&self, who: Who, query: &str) -> Vec<String> {
        let page = self
            .get(who, &format!("/conversations?{query}&limit=200"))
            .await
            .expect(200);
        page["items"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| c["id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Everything that can change about a conversation (read as Ada).
    pub async fn snapshot(&self, conv: &str) -> Snapshot {
        Snapshot {
            conversation: self.conv(ADA, conv).await,
            timeline: Value::Array(self.timeline(conv).await),
            messages: Value::Array(
                self.all_pages(&format!("/conversations/{conv}/messages"))
                    .await,
            ),
        }
    }

    /// Asserts that the conversation is exactly as `before` (nothing was written).
    #[track_caller]
    pub fn unchanged<'a>(
        &'a self,
        conv: &'a str,
        before: &'a Snapshot,
    ) -> impl std::future::Future<Output = ()> + 'a {
        let caller = std::panic::Location::caller();
        async move {
            let now = self.snapshot(conv).await;
            assert!(
                now == *before,
                "something was written ({caller}):\nbefore: {before:?}\nafter: {now:?}"
            );
        }
    }
}

/// Percent-encodes a query value (ids and simple words only need little).
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
