//! Live updates on the dev server: `GET /live?token=…` upgrades to a
//! WebSocket. The change feed's dispatcher hands each workspace's messages
//! to this hub once, after commit (the table stream's part in AWS); every
//! connection of the workspace gets them from a broadcast channel, so no
//! connection ever reads the store.

use crate::server::{Shared, into_axum};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Request, State};
use axum::response::Response;
use inbox_domain::live::{LiveMessage, WorkspaceMessage, relay};
use inbox_http::live::{LiveSession, credential_expiry, open_session, query_token};
use inbox_http::{ApiError, Identity};
use inbox_store::Store;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;

/// Messages a connection may fall behind by before it is told to resync.
const CONNECTION_BACKLOG: usize = 1024;
/// The close code of a connection whose credential expired (private range).
pub const CLOSE_EXPIRED: u16 = 4001;

/// One message on its way to a workspace's connections.
#[derive(Clone)]
struct Frame {
    /// The connection it came from (`typing`), which does not get it back.
    from: Option<u64>,
    text: Utf8Bytes,
}

/// The workspaces' broadcast channels, made as connections open.
#[derive(Default)]
pub struct LiveHub {
    workspaces: Mutex<HashMap<String, broadcast::Sender<Frame>>>,
    next_connection: AtomicU64,
}

impl LiveHub {
    /// Sends each message to its workspace's open connections (none: nothing to do).
    pub fn publish(&self, messages: &[WorkspaceMessage]) {
        for m in messages {
            self.send(&m.workspace_id, &m.message, None);
        }
    }

    fn send(&self, workspace_id: &str, message: &LiveMessage, from: Option<u64>) {
        let Ok(mut workspaces) = self.workspaces.lock() else {
            return;
        };
        let Some(tx) = workspaces.get(workspace_id) else {
            return;
        };
        let frame = Frame {
            from,
            text: message.to_text().into(),
        };
        if tx.send(frame).is_err() {
            // Nobody listens any more: put the channel away.
            workspaces.remove(workspace_id);
        }
    }

    fn subscribe(&self, workspace_id: &str) -> Option<(u64, broadcast::Receiver<Frame>)> {
        let mut workspaces = self.workspaces.lock().ok()?;
        let rx = workspaces
            .entry(workspace_id.to_string())
            .or_insert_with(|| broadcast::channel(CONNECTION_BACKLOG).0)
            .subscribe();
        Some((self.next_connection.fetch_add(1, Ordering::Relaxed), rx))
    }

    /// Open connections, across workspaces.
    pub fn connections(&self) -> usize {
        self.workspaces
            .lock()
            .map(|w| w.values().map(broadcast::Sender::receiver_count).sum())
            .unwrap_or(0)
    }

    fn forget_if_unused(&self, workspace_id: &str) {
        if let Ok(mut workspaces) = self.workspaces.lock()
            && workspaces
                .get(workspace_id)
                .is_some_and(|tx| tx.receiver_count() == 0)
        {
            workspaces.remove(workspace_id);
        }
    }
}

/// `GET /live?token=…`: 401 without a valid credential, 403 for an unknown
/// role, 400 for a request that is not a WebSocket upgrade; else upgrades.
pub async fn live<S: Store + 'static>(
    State(shared): State<Arc<Shared<S>>>,
    req: Request,
) -> Response {
    let (mut parts, _) = req.into_parts();
    let now = shared.app.clock().now();
    let credential = query_token(parts.uri.query().unwrap_or_default());
    let identity = match &credential {
        Some(c) => Identity::from_credential(c, &shared.jwt_secret, shared.app.store(), now).await,
        None => Identity::Unauthenticated,
    };
    let Identity::Verified(claims) = identity else {
        return into_axum(ApiError::Unauthenticated.to_response());
    };
    let expires_at = credential.as_deref().and_then(credential_expiry);
    let session = match open_session(&shared.app, &claims, expires_at).await {
        Ok(s) => s,
        Err(e) => return into_axum(e.to_response()),
    };
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(u) => u,
        Err(_) => {
            return into_axum(
                ApiError::BadRequest("GET /live is a WebSocket: send an upgrade request".into())
                    .to_response(),
            );
        }
    };
    let hub = Arc::clone(&shared.live);
    let until_expiry = expires_at.map(|at| {
        Duration::from_millis(
            at.as_millis()
                .saturating_sub(now.as_millis())
                .max(0)
                .unsigned_abs(),
        )
    });
    upgrade.on_upgrade(move |socket| serve(socket, hub, session, until_expiry))
}

/// One connection: the workspace's messages out, its `typing` in, closed
/// when its credential expires.
async fn serve(
    mut socket: WebSocket,
    hub: Arc<LiveHub>,
    session: LiveSession,
    until_expiry: Option<Duration>,
) {
    let ws = session.workspace_id.clone();
    let Some((id, mut rx)) = hub.subscribe(&ws) else {
        return;
    };
    tracing::debug!(workspace = %ws, connection = id, "live connection opened");
    let expiry = async {
        match until_expiry {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(expiry);
    loop {
        tokio::select! {
            frame = rx.recv() => {
                let text = match frame {
                    Ok(f) if f.from == Some(id) => continue,
                    Ok(f) => f.text,
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::info!(connection = id, missed, "live connection fell behind; told to resync");
                        LiveMessage::Resync.to_text().into()
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                };
                if socket.send(Message::Text(text)).await.is_err() {
                    break;
                }
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => match relay(&session.typist, text.as_str()) {
                    Ok(message) => hub.send(&ws, &message, Some(id)),
                    Err(e) => {
                        let refused = LiveMessage::refused(&e).to_text();
                        if socket.send(Message::Text(refused.into())).await.is_err() {
                            break;
                        }
                    }
                },
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                // Pings are answered by the socket itself; binary frames mean nothing here.
                Some(Ok(_)) => {}
            },
            () = &mut expiry => {
                let _ = socket
                    .send(Message::Close(Some(CloseFrame {
                        code: CLOSE_EXPIRED,
                        reason: "token expired".into(),
                    })))
                    .await;
                break;
            }
        }
    }
    drop(rx);
    hub.forget_if_unused(&ws);
    tracing::debug!(workspace = %ws, connection = id, "live connection closed");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typing(ws: &str) -> WorkspaceMessage {
        WorkspaceMessage {
            workspace_id: ws.into(),
            message: LiveMessage::Resync,
        }
    }

    #[tokio::test]
    async fn a_workspace_hears_its_own_and_closed_connections_are_forgotten() {
        let hub = LiveHub::default();
        let (_, mut a1) = hub.subscribe("acme").expect("a connection");
        let (_, mut a2) = hub.subscribe("acme").expect("a connection");
        let (_, mut b) = hub.subscribe("globex").expect("a connection");
        assert_eq!(hub.connections(), 3);
        hub.publish(&[typing("acme")]);
        assert!(a1.try_recv().is_ok() && a2.try_recv().is_ok());
        assert!(b.try_recv().is_err(), "never another workspace's");

        // A closed connection leaves its channel; the last one takes the
        // workspace's channel with it.
        drop(a1);
        hub.forget_if_unused("acme");
        assert_eq!(hub.connections(), 2);
        drop(a2);
        hub.forget_if_unused("acme");
        assert_eq!(hub.connections(), 1);
        assert!(!hub.workspaces.lock().unwrap().contains_key("acme"));
        // Publishing to a workspace nobody watches is nothing.
        hub.publish(&[typing("acme")]);
        assert!(!hub.workspaces.lock().unwrap().contains_key("acme"));
        drop(b);
        hub.publish(&[typing("globex")]);
        assert_eq!(hub.connections(), 0);
        assert!(
            hub.workspaces.lock().unwrap().is_empty(),
            "a send nobody hears puts the channel away"
        );
    }

    #[tokio::test]
    async fn typing_does_not_come_back_to_its_sender() {
        let hub = LiveHub::default();
        let (me, mut mine) = hub.subscribe("acme").expect("a connection");
        let (_, mut theirs) = hub.subscribe("acme").expect("a connection");
        hub.send("acme", &LiveMessage::Resync, Some(me));
        let got = mine.try_recv().expect("the frame is on the channel");
        assert_eq!(got.from, Some(me), "serve() skips frames from itself");
        assert_eq!(theirs.try_recv().expect("theirs").from, Some(me));
    }
}
