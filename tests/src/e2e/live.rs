//! A live-updates client for the end-to-end flows: a WebSocket on
//! `GET /live?token=…` that keeps every message it receives, with when.

use futures::{SinkExt, StreamExt};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// One received message and when it arrived (wall clock, as events' `at`).
#[derive(Debug, Clone)]
pub struct Received {
    /// The message.
    pub message: Value,
    /// When it arrived.
    pub at: SystemTime,
}

/// How a connection ended, once it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    /// The close frame's code (1006 when there was none).
    pub code: u16,
    /// Its reason.
    pub reason: String,
}

/// An open live connection.
pub struct LiveClient {
    received: Arc<Mutex<Vec<Received>>>,
    closed: Arc<Mutex<Option<Closed>>>,
    outgoing: mpsc::UnboundedSender<Message>,
}

/// The `ws://` URL of a server's live updates for `credential`.
pub fn live_url(base: &str, credential: &str) -> String {
    format!(
        "{}/live?token={}",
        base.replacen("http://", "ws://", 1),
        crate::e2e::client::enc(credential)
    )
}

impl LiveClient {
    /// Connects with `credential`; panics when the server refuses.
    pub async fn connect(base: &str, credential: &str) -> LiveClient {
        let (socket, _) = tokio_tungstenite::connect_async(live_url(base, credential))
            .await
            .unwrap_or_else(|e| panic!("GET /live: {e}"));
        let (mut write, mut read) = socket.split();
        let received = Arc::new(Mutex::new(Vec::new()));
        let closed = Arc::new(Mutex::new(None));
        let (outgoing, mut to_send) = mpsc::unbounded_channel::<Message>();
        tokio::spawn(async move {
            while let Some(m) = to_send.recv().await {
                if write.send(m).await.is_err() {
                    return;
                }
            }
        });
        let (r, c) = (Arc::clone(&received), Arc::clone(&closed));
        tokio::spawn(async move {
            let mut end = Closed {
                code: 1006,
                reason: String::new(),
            };
            while let Some(frame) = read.next().await {
                match frame {
                    Ok(Message::Text(t)) => {
                        let message = serde_json::from_str(t.as_str()).unwrap_or(Value::Null);
                        r.lock().unwrap().push(Received {
                            message,
                            at: SystemTime::now(),
                        });
                    }
                    Ok(Message::Close(frame)) => {
                        if let Some(f) = frame {
                            end = Closed {
                                code: f.code.into(),
                                reason: f.reason.to_string(),
                            };
                        }
                        break;
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            *c.lock().unwrap() = Some(end);
        });
        LiveClient {
            received,
            closed,
            outgoing,
        }
    }

    /// Sends a text frame.
    pub fn send(&self, text: &str) {
        let _ = self.outgoing.send(Message::Text(text.into()));
    }

    /// Every message received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Every message received so far, without when.
    pub fn messages(&self) -> Vec<Value> {
        self.received().into_iter().map(|r| r.message).collect()
    }

    /// Waits until `check` holds for the messages received, or panics with them.
    pub async fn until(&self, what: &str, within: Duration, check: impl Fn(&[Value]) -> bool) {
        let deadline = Instant::now() + within;
        loop {
            let got = self.messages();
            if check(&got) {
                return;
            }
            assert!(Instant::now() < deadline, "{what}: received {got:#?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// How the connection ended, if it has.
    pub fn closed(&self) -> Option<Closed> {
        self.closed.lock().unwrap().clone()
    }
}
