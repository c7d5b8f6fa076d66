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
