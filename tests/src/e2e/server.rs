//! Starting a real `inbox-dev` process for a test, and stopping it.
//!
//! The binary is found next to the test binary (`target/<profile>/inbox-dev`)
//! and built once per test process with `cargo build -p inbox-dev` (same
//! profile, same target directory), so `cargo test -p inbox-tests` works on
//! its own; `INBOX_DEV_BIN` names a prebuilt binary instead. Each server
//! listens on a free port (`--addr 127.0.0.1:0`, the chosen address is read
//! from its stdout), logs to `target/e2e-logs/<name>.log`, and stops when the
//! test drops it, or by itself when the test process dies (its stdin closes).

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The HS256 secret every e2e server verifies tokens with.
pub const E2E_SECRET: &str = "e2e-secret";
/// The environment variable naming the AWS endpoint (moto) for the DynamoDB run.
pub const AWS_ENDPOINT_ENV: &str = "INBOX_TEST_AWS_ENDPOINT";
/// The environment variable naming a prebuilt `inbox-dev` binary.
pub const BIN_ENV: &str = "INBOX_DEV_BIN";

/// How long a server may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running `inbox-dev`.
pub struct DevServer {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// Where its logs go.
    pub log: PathBuf,
    child: Child,
    // Held open: the server stops when it closes.
    stdin: Option<ChildStdin>,
}

impl DevServer {
    /// A server on the in-memory embedded store.
    pub fn memory(name: &str) -> DevServer {
        start(name, &["--memory"], &[])
    }

    /// A server on the DynamoDB adapter against the endpoint in
    /// `INBOX_TEST_AWS_ENDPOINT`, on a table of its own (created at start).
    /// Panics when the endpoint is not set: this run is never skipped.
    pub fn dynamodb(name: &str) -> DevServer {
        let endpoint = std::env::var(AWS_ENDPOINT_ENV)
            .ok()
            .filter(|v| !v.trim().is_empty());
        let Some(endpoint) = endpoint else {
            panic!(
                "{AWS_ENDPOINT_ENV} is not set: the DynamoDB end-to-end run needs moto. \
                 Run scripts/test.sh (it starts moto and sets it), or start moto_server \
                 and export {AWS_ENDPOINT_ENV}=http://127.0.0.1:<port>"
            );
        };
        let table = format!("e2e-{}-{}", name.replace('_', "-"), unique());
        // Export files go to the data folder in every mode: a temporary one,
        // not the checkout.
        let data_dir = std::env::temp_dir()
            .join(format!("inbox-{table}"))
            .display()
            .to_string();
        let env_or = |k: &str, v: &str| {
            (
                k.to_string(),
                std::env::var(k).unwrap_or_else(|_| v.to_string()),
            )
        };
        let env = [
            ("AWS_ENDPOINT_URL".to_string(), endpoint),
            ("INBOX_TABLE_NAME".to_string(), table),
            env_or("AWS_ACCESS_KEY_ID", "testing"),
            env_or("AWS_SECRET_ACCESS_KEY", "testing"),
            env_or("AWS_REGION", "us-east-1"),
        ];
        start(name, &["--create-table", "--data-dir", &data_dir], &env)
    }

    /// The server's log so far (for failure messages).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn unique() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{}-{}", std::process::id(), nanos % 1_000_000_000_000)
}

/// The `target/<profile>` directory the running test binary lives in.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/<test binary>
    exe.parent()
        .and_then(Path::parent)
        .expect("the test binary lives in target/<profile>/deps")
        .to_path_buf()
}

/// The `inbox-dev` binary, built once per test process.
pub fn dev_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os(BIN_ENV) {
            return PathBuf::from(bin);
        }
        let dir = profile_dir();
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "--quiet", "-p", "inbox-dev", "--bin", "inbox-dev"])
            .current_dir(&workspace);
        if dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("cargo runs");
        assert!(status.success(), "cargo build -p inbox-dev failed");
        let bin = dir.join(format!("inbox-dev{}", std::env::consts::EXE_SUFFIX));
        assert!(bin.exists(), "{} was not built", bin.display());
        bin
    })
}

fn start(name: &str, args: &[&str], env: &[(String, String)]) -> DevServer {
    let bin = dev_binary();
    let logs = profile_dir().join("..").join("e2e-logs");
    std::fs::create_dir_all(&logs).expect("the log folder");
    let log = logs.join(format!("{name}-{}.log", unique()));
    let stderr = File::create(&log).expect("the log file");
    let mut stdout_log = stderr.try_clone().expect("the log file");
    let mut child = Command::new(bin)
        .args([
            "--addr",
            "127.0.0.1:0",
            "--stop-on-stdin-close",
            "--sweep-interval-ms",
            "100",
            // Retries of a send wait milliseconds, not seconds (same attempts, same order).
            "--send-retry-speedup",
            "1000",
            // And so do an outgoing webhook's (5 ms, 300 ms, 1.8 s, 7.2 s, …).
            "--webhook-retry-speedup",
            "1000",
        ])
        .args(args)
        .env("INBOX_DEV_JWT_SECRET", E2E_SECRET)
        .env("RUST_LOG", "info,aws_config=warn,aws_smithy_runtime=warn")
        .env_remove("AWS_ENDPOINT_URL")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(stderr))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let stdin = child.stdin.take();
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    // Reads the start-up lines, then keeps draining stdout into the log.
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = writeln!(stdout_log, "{line}");
            if let Some(url) = line.strip_prefix("inbox-dev: listening on ") {
                let _ = tx.send(url.trim().to_string());
            }
        }
    });
    match rx.recv_timeout(START_TIMEOUT) {
        Ok(base) => DevServer {
            base,
            log,
            child,
            stdin,
        },
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "inbox-dev did not start; its log ({}):\n{}",
                log.display(),
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
    }
}
