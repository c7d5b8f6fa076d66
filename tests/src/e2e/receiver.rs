//! A Standard Webhooks receiver on loopback for the outgoing-webhook flows:
//! `tests/receivers/standard_webhooks_receiver.py`, which verifies every
//! delivery with the `standardwebhooks` library from PyPI (installed into
//! the test environment by `scripts/test.sh`), never with the inbox's code.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The Python that runs the receiver (`python3` on `PATH`, the test
/// environment's when `scripts/test.sh` runs the tests).
pub const PYTHON_ENV: &str = "INBOX_TEST_PYTHON";

/// A running receiver.
pub struct Receiver {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// Its port (a restart listens on it again).
    pub port: u16,
    child: Child,
    http: reqwest::Client,
}

impl Receiver {
    /// A receiver on a free port.
    pub fn start() -> Receiver {
        Receiver::start_on(0)
    }

    /// A receiver on `port` (0: a free one).
    pub fn start_on(port: u16) -> Receiver {
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("receivers")
            .join("standard_webhooks_receiver.py");
        let python = std::env::var(PYTHON_ENV).unwrap_or_else(|_| "python3".into());
        let mut child = Command::new(&python)
            .arg(&script)
            .arg(port.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {python} {}: {e}", script.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = line.strip_prefix("receiver: listening on ") {
                    let _ = tx.send(url.trim().to_string());
                }
            }
        });
        let Ok(base) = rx.recv_timeout(Duration::from_secs(20)) else {
            let _ = child.kill();
            let out = child.wait_with_output().ok();
            let err = out
                .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
                .unwrap_or_default();
            panic!(
                "the receiver did not start (is `standardwebhooks` installed for {python}? \
                 scripts/test.sh installs it): {err}"
            );
        };
        let port = base
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("a port");
        Receiver {
            base,
            port,
            child,
            http: reqwest::Client::new(),
        }
    }

    /// The URL an endpoint posts to.
    pub fn url(&self, name: &str) -> String {
        format!("{}/hook/{name}", self.base)
    }

    /// Sets any of `secret`, `fail`, `fail_status`, `delay_ms`, `answer` (the 200 body).
    pub async fn control(&self, settings: Value) {
        let resp = self
            .http
            .post(format!("{}/_control", self.base))
            .json(&settings)
            .send()
            .await
            .expect("the receiver answers");
        assert_eq!(resp.status().as_u16(), 204);
    }

    /// The signing secret deliveries are verified with.
    pub async fn trust(&self, secret: &str) {
        self.control(json!({ "secret": secret })).await;
    }

    /// `{"attempts": [...], "events": [...]}`.
    pub async fn log(&self) -> Value {
        self.http
            .get(format!("{}/_log", self.base))
            .send()
            .await
            .expect("the receiver answers")
            .json()
            .await
            .expect("its log")
    }

    /// Every attempt so far.
    pub async fn attempts(&self) -> Vec<Value> {
        self.log().await["attempts"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The events received (verified, 2xx, deduplicated by `webhook-id`).
    pub async fn events(&self) -> Vec<Value> {
        self.log().await["events"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Stops it (connections are refused until one starts on its port again).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop();
    }
}
