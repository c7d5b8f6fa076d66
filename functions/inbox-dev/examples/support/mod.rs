//! What the dev server's benchmarks share: starting `inbox-dev` from the
//! same target folder, stopping it, and calling its API.

#![allow(dead_code)]

use reqwest::{Client, Method};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// Any failure of a benchmark run.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Kills a child process when dropped.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `inbox-dev` from this example's target folder, built first (same profile).
pub fn dev_binary() -> Result<PathBuf, Error> {
    let exe = std::env::current_exe()?;
    // target/<profile>/examples/load
    let dir = exe
        .parent()
        .and_then(|p| p.parent())
        .ok_or("the example is not in a target folder")?
        .to_path_buf();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut build = Command::new(cargo);
    build.args(["build", "--quiet", "-p", "inbox-dev", "--bin", "inbox-dev"]);
    if dir.file_name().is_some_and(|n| n == "release") {
        build.arg("--release");
    }
    if !build.status()?.success() {
        return Err("cargo build -p inbox-dev failed".into());
    }
    Ok(dir.join(format!("inbox-dev{}", std::env::consts::EXE_SUFFIX)))
}

/// Starts a server process and reads the address it prints.
pub fn spawn(bin: &PathBuf, args: &[String], secret: &str) -> Result<(Child, String), Error> {
    let mut child = Command::new(bin)
        .args(args)
        .env("INBOX_DEV_JWT_SECRET", secret)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        if let Some(url) = line?.strip_prefix("inbox-dev: listening on ") {
            let url = url.trim().to_string();
            // Keep draining so the child never blocks on a full pipe.
            std::thread::spawn(move || lines.for_each(drop));
            return Ok((child, url));
        }
    }
    Err(format!("{} exited before listening", bin.display()).into())
}

/// One API call as `token`; the JSON answer, or the status and text as an error.
pub async fn call(
    client: &Client,
    method: Method,
    url: &str,
    token: &str,
    body: Option<Value>,
) -> Result<Value, Error> {
    let mut req = client.request(method, url).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await?;
    let status = resp.status();
    let text = resp.text().await?;
    if !status.is_success() {
        return Err(format!("{url}: {status}: {text}").into());
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A benchmark's server: `inbox-dev` in memory, or on an SQLite file in a
/// temporary folder (removed on drop), with an HTTP client of
/// `connections` idle connections and tokens for Ada (admin) and Bob (agent)
/// of workspace `ws`.
pub struct Bench {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// Pooled for the posting side.
    pub client: Client,
    /// Ada's token (admin).
    pub admin: String,
    /// Bob's token (agent, a member of the workspace once [`Bench::start`] returns).
    pub bob: String,
    data: PathBuf,
    _server: Guard,
}

impl Bench {
    /// Starts the server and makes Bob a member.
    pub async fn start(
        name: &str,
        ws: &str,
        secret: &str,
        sqlite: bool,
        connections: usize,
    ) -> Result<Bench, Error> {
        let data = std::env::temp_dir().join(format!("inbox-bench-{name}-{}", std::process::id()));
        let mut args = vec!["--addr".to_string(), "127.0.0.1:0".to_string()];
        if sqlite {
            args.extend(["--data-dir".to_string(), data.display().to_string()]);
        } else {
            args.push("--memory".to_string());
        }
        let (server, base) = spawn(&dev_binary()?, &args, secret)?;
        let client = Client::builder()
            .pool_max_idle_per_host(connections)
            .timeout(std::time::Duration::from_secs(30))
            .build()?;
        let mint = |sub: &str, role: &str, name: &str| {
            inbox_http::mint_dev_token(
                secret.as_bytes(),
                ws,
                sub,
                role,
                Some(name),
                std::time::Duration::from_secs(3600),
            )
        };
        let bench = Bench {
            base,
            client,
            admin: mint("ada", "admin", "Ada Admin")?,
            bob: mint("bob", "agent", "Bob Ray")?,
            data,
            _server: Guard(server),
        };
        bench
            .call(
                Method::PUT,
                "/members/bob",
                &bench.admin,
                Some(serde_json::json!({"name": "Bob Ray", "role": "agent"})),
            )
            .await?;
        Ok(bench)
    }

    /// The server's process id (for its CPU time and memory).
    pub fn server_pid(&self) -> u32 {
        self._server.0.id()
    }

    /// One call to `path` as `token`.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Result<Value, Error> {
        call(
            &self.client,
            method,
            &format!("{}{path}", self.base),
            token,
            body,
        )
        .await
    }

    /// `n` contacts, each with a conversation Bob started; the conversations' ids.
    pub async fn conversations(&self, n: usize) -> Result<Vec<String>, Error> {
        let mut convs = Vec::with_capacity(n);
        for i in 0..n {
            let c = self
                .call(
                    Method::POST,
                    "/contacts",
                    &self.bob,
                    Some(serde_json::json!({"name": format!("Contact {i}")})),
                )
                .await?;
            let conv = self
                .call(
                    Method::POST,
                    "/conversations",
                    &self.bob,
                    Some(serde_json::json!({"contact_id": c["id"]})),
                )
                .await?;
            convs.push(conv["id"].as_str().ok_or("no conversation id")?.to_string());
        }
        Ok(convs)
    }

    /// Bob posts `total` messages round-robin over `convs`, `connections`
    /// at a time, at most `rate` a second when it is not 0.
    pub async fn post_messages(
        &self,
        convs: &[String],
        total: usize,
        connections: usize,
        rate: u32,
    ) -> Result<(), Error> {
        let started = std::time::Instant::now();
        let convs = std::sync::Arc::new(convs.to_vec());
        let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut workers = Vec::new();
        for _ in 0..connections.max(1) {
            let (client, base, bob, convs, next) = (
                self.client.clone(),
                self.base.clone(),
                self.bob.clone(),
                std::sync::Arc::clone(&convs),
                std::sync::Arc::clone(&next),
            );
            workers.push(tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if n >= total {
                        return Ok::<_, String>(());
                    }
                    if rate > 0 {
                        let due = started
                            + std::time::Duration::from_secs_f64(n as f64 / f64::from(rate));
                        tokio::time::sleep_until(due.into()).await;
                    }
                    let conv = &convs[n % convs.len()];
                    call(
                        &client,
                        Method::POST,
                        &format!("{base}/conversations/{conv}/messages"),
                        &bob,
                        Some(serde_json::json!({"body": format!("Message {n}")})),
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                }
            }));
        }
        for w in workers {
            w.await??;
        }
        Ok(())
    }
}

impl Drop for Bench {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data);
    }
}
