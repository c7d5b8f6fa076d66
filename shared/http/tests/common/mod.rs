//! A harness that drives `handle()` over the embedded SQLite store.

#![allow(dead_code)]

use http::{Method, StatusCode, header};
use inbox_domain::Timestamp;
use inbox_http::{ApiRequest, ApiResponse, App, Claims, Identity, handle};
use inbox_store::ManualClock;
use inbox_store::sqlite::SqliteStore;
use serde_json::{Value, json};

/// The app under test and its clock.
pub struct Harness {
    pub app: App<SqliteStore>,
    pub clock: ManualClock,
}

/// A verified identity.
pub fn who(ws: &str, sub: &str, role: &str, name: Option<&str>) -> Identity {
    Identity::Verified(Claims {
        sub: sub.into(),
        workspace_id: ws.into(),
        role: role.into(),
        name: name.map(str::to_string),
    })
}

/// The usual cast of workspace `acme`.
pub fn admin() -> Identity {
    who("acme", "ada", "admin", Some("Ada Admin"))
}
pub fn bob() -> Identity {
    who("acme", "bob", "agent", Some("Bob Ray"))
}
pub fn carol() -> Identity {
    who("acme", "carol", "agent", Some("Carol Lee"))
}
pub fn viewer() -> Identity {
    who("acme", "vic", "viewer", Some("Vic"))
}

impl Harness {
    pub fn new() -> Self {
        let clock = ManualClock::new(Timestamp::parse("2026-11-21T10:00:00.000Z").unwrap());
        let store = SqliteStore::in_memory().unwrap();
        Harness {
            app: App::new(store).with_clock(clock.clone()),
            clock,
        }
    }

    /// This harness, sending replies through `sender` and queueing later attempts on `queue`.
    pub fn with_sender(
        self,
        sender: std::sync::Arc<dyn inbox_app::ChannelSender>,
        queue: std::sync::Arc<dyn inbox_app::SendQueue>,
    ) -> Self {
        Harness {
            app: self.app.with_sender(sender, queue),
            clock: self.clock,
        }
    }

    pub async fn send(&self, req: ApiRequest) -> ApiResponse {
        handle(&self.app, req).await
    }

    pub async fn call(
        &self,
        id: &Identity,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> ApiResponse {
        let mut req = ApiRequest::new(method, path, id.clone());
        if let Some(b) = body {
            req = req.with_json(&b);
        }
        self.send(req).await
    }

    pub async fn get(&self, id: &Identity, path: &str) -> ApiResponse {
        self.call(id, Method::GET, path, None).await
    }

    pub async fn post(&self, id: &Identity, path: &str, body: Value) -> ApiResponse {
        self.call(id, Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, id: &Identity, path: &str, body: Value) -> ApiResponse {
        self.call(id, Method::PUT, path, Some(body)).await
    }

    /// Members bob and carol, AI agent max, team support.
    pub async fn directory(&self) {
        for (id, name) in [("bob", "Bob Ray"), ("carol", "Carol Lee")] {
            let r = self
                .put(
                    &admin(),
                    &format!("/members/{id}"),
                    json!({"name": name, "email": format!("{id}@x.io"), "role": "agent"}),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{:?}", r.json_body());
        }
        let r = self
            .put(&admin(), "/agents/max", json!({"name": "Max"}))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        let r = self
            .put(
                &admin(),
                "/teams/support",
                json!({"name": "Support", "member_ids": ["bob"]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
    }

    /// A new contact and an open conversation with it; returns the conversation id.
    pub async fn conversation(&self, name: &str) -> String {
        let r = self
            .post(
                &bob(),
                "/contacts",
                json!({"name": name, "email": "ann@y.io"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json_body());
        let contact = r.json_body()["id"].as_str().unwrap().to_string();
        let r = self
            .post(&bob(), "/conversations", json!({"contact_id": contact}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json_body());
        r.json_body()["id"].as_str().unwrap().to_string()
    }

    /// The `type`s of a conversation's timeline.
    pub async fn timeline_types(&self, conv: &str) -> Vec<String> {
        let r = self
            .get(
                &admin(),
                &format!("/conversations/{conv}/timeline?limit=200"),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        r.json_body()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].as_str().unwrap().to_string())
            .collect()
    }
}

/// Asserts a problem response with `status` and `code`.
pub fn assert_problem(r: &ApiResponse, status: u16, code: &str) {
    let b = r.json_body();
    assert_eq!(r.status.as_u16(), status, "{b}");
    assert_eq!(b["code"], code, "{b}");
    assert_eq!(b["status"], status);
    assert_eq!(r.headers[header::CONTENT_TYPE], "application/problem+json");
}

/// The ETag's version.
pub fn etag(r: &ApiResponse) -> String {
    r.headers[header::ETAG].to_str().unwrap().to_string()
}

/// A job queue that keeps what was queued, for a test to deliver by hand.
#[derive(Default)]
pub struct Recorded(pub std::sync::Mutex<Vec<inbox_app::JobMessage>>);

#[async_trait::async_trait]
impl inbox_app::JobQueue for Recorded {
    async fn enqueue(&self, message: &inbox_app::JobMessage) -> Result<(), inbox_app::AppError> {
        self.0.lock().unwrap().push(message.clone());
        Ok(())
    }
}

impl Recorded {
    /// Everything queued so far, emptying the queue.
    pub fn take(&self) -> Vec<inbox_app::JobMessage> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}
