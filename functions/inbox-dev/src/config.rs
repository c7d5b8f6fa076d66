//! Command-line flags and environment variables of `inbox-dev`.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The default HS256 secret of dev tokens (printed at start-up).
pub const DEFAULT_JWT_SECRET: &str = "dev-secret";
/// The file name of the embedded database inside the data folder.
pub const DATABASE_FILE: &str = "inbox.sqlite3";

/// The inbox dev server: the whole HTTP API and its background workers in one process.
#[derive(Debug, Parser)]
#[command(name = "inbox-dev", version, about)]
pub struct Cli {
    /// What to do instead of serving.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The server's settings.
    #[command(flatten)]
    pub serve: ServeArgs,
    /// HS256 secret that dev tokens are signed and verified with.
    #[arg(long, env = "INBOX_DEV_JWT_SECRET", default_value = DEFAULT_JWT_SECRET, global = true, hide_env_values = true)]
    pub jwt_secret: String,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print a signed token for the dev server.
    Token(TokenArgs),
}

/// `inbox-dev token …`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The workspace (`workspace_id` claim).
    #[arg(long)]
    pub workspace: String,
    /// The caller's id (`sub` claim): a member's id, or an AI agent's for `ai_agent`.
    #[arg(long)]
    pub sub: String,
    /// viewer | agent | admin | owner | ai_agent | integration.
    #[arg(long)]
    pub role: String,
    /// Display name (`name` claim).
    #[arg(long)]
    pub name: Option<String>,
    /// How long the token is valid, in seconds.
    #[arg(long, default_value_t = 86_400)]
    pub ttl_seconds: u64,
}

/// How the server runs.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the chosen address is printed).
    #[arg(long, env = "INBOX_DEV_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,
    /// Folder of the embedded database (`inbox.sqlite3` inside it).
    #[arg(long, env = "INBOX_DEV_DATA_DIR", default_value = ".data")]
    pub data_dir: PathBuf,
    /// The built web inbox served at `/` (`npm --prefix web run build` makes it).
    #[arg(long, env = "INBOX_DEV_WEB_DIR", default_value = "web/dist")]
    pub web_dir: PathBuf,
    /// Keep everything in memory: nothing is written to disk, everything is gone at exit.
    #[arg(long)]
    pub memory: bool,
    /// Use the DynamoDB, SQS and EventBridge adapters (implied by `AWS_ENDPOINT_URL`).
    #[arg(long)]
    pub aws: bool,
    /// AWS endpoint (moto, DynamoDB Local, LocalStack); the AWS SDK reads it too.
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    pub aws_endpoint_url: Option<String>,
    /// The DynamoDB table (AWS mode).
    #[arg(long, env = "INBOX_TABLE_NAME")]
    pub table_name: Option<String>,
    /// Create the table with its indexes when it does not exist (AWS mode).
    #[arg(long)]
    pub create_table: bool,
    /// Do not follow the table's stream (AWS mode): no outgoing webhooks or
    /// live updates from this server. For a table a deployed stack's
    /// stream consumer already follows, which would send them twice.
    #[arg(long, env = "INBOX_DEV_NO_TABLE_STREAM")]
    pub no_table_stream: bool,
    /// SQS queue URL for auto-close timers (AWS mode; in process otherwise).
    #[arg(long, env = "INBOX_AUTOCLOSE_QUEUE_URL")]
    pub autoclose_queue_url: Option<String>,
    /// EventBridge bus for domain events (AWS mode; logged otherwise).
    #[arg(long, env = "INBOX_EVENT_BUS_NAME")]
    pub event_bus_name: Option<String>,
    /// The URL providers call, which Twilio signs (default: `http://<addr>`).
    #[arg(long, env = "INBOX_PUBLIC_BASE_URL")]
    pub public_base_url: Option<String>,
    /// Milliseconds between auto-close sweeps.
    #[arg(long, env = "INBOX_SWEEP_INTERVAL_MS", default_value_t = 1000)]
    pub sweep_interval_ms: u64,
    /// Milliseconds between outbox drains when no write wakes the publisher sooner.
    #[arg(long, env = "INBOX_OUTBOX_INTERVAL_MS", default_value_t = 200)]
    pub outbox_interval_ms: u64,
    /// Seed a demo workspace (once per database) and print a token for each demo member.
    #[arg(long)]
    pub demo: bool,
    /// Start the fake providers (Twilio, WhatsApp Cloud, Telegram, webhook
    /// receivers) on a free loopback port and, with `--demo`, point the demo
    /// channels at them.
    #[arg(long)]
    pub fake_providers: bool,
    /// Divide the waits between send attempts by this (tests and demos of
    /// retries; the attempts and their order are unchanged).
    #[arg(long, env = "INBOX_DEV_SEND_RETRY_SPEEDUP", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub send_retry_speedup: u32,
    /// Divide the waits between outgoing webhook attempts by this (tests
    /// and demos of retries; the attempts and their order are unchanged).
    #[arg(long, env = "INBOX_DEV_WEBHOOK_RETRY_SPEEDUP", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub webhook_retry_speedup: u32,
    /// Log as JSON lines instead of text.
    #[arg(long, env = "INBOX_DEV_LOG_JSON")]
    pub log_json: bool,
    /// Shut down when standard input closes (for supervisors and tests that
    /// must not leave the server behind when they die).
    #[arg(long)]
    pub stop_on_stdin_close: bool,
}

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageChoice {
    /// An in-memory embedded database.
    Memory,
    /// The embedded database file at this path.
    File(PathBuf),
    /// DynamoDB (and SQS/EventBridge when configured).
    Aws(AwsChoice),
}

/// The AWS adapters' configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsChoice {
    /// Endpoint override (none: the SDK's default resolution).
    pub endpoint: Option<String>,
    /// Table name.
    pub table: String,
    /// Create the table if missing.
    pub create_table: bool,
    /// SQS queue for timers.
    pub queue_url: Option<String>,
    /// EventBridge bus.
    pub bus_name: Option<String>,
    /// Where the table stream's checkpoint is kept, when the stream is
    /// followed (outgoing webhooks and live updates); `None` with
    /// `--no-table-stream`.
    pub stream_checkpoint: Option<PathBuf>,
}

/// A configuration that cannot run.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// AWS mode without a table.
    #[error("AWS mode needs a table: set INBOX_TABLE_NAME or --table-name")]
    MissingTable,
    /// `--memory` together with AWS mode.
    #[error("--memory and AWS mode exclude each other")]
    MemoryAndAws,
}

impl ServeArgs {
    /// Where export jobs' files are kept: the data folder's `exports/` (a
    /// temporary folder with `--memory`).
    pub fn exports_dir(&self) -> PathBuf {
        if self.memory {
            std::env::temp_dir().join(format!("inbox-dev-exports-{}", std::process::id()))
        } else {
            self.data_dir.join("exports")
        }
    }

    /// Which storage the flags and environment select.
    pub fn storage(&self) -> Result<StorageChoice, ConfigError> {
        let endpoint = self
            .aws_endpoint_url
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty());
        if self.aws || endpoint.is_some() {
            if self.memory {
                return Err(ConfigError::MemoryAndAws);
            }
            let non_empty = |v: &Option<String>| {
                v.as_deref()
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
            };
            let table = non_empty(&self.table_name).ok_or(ConfigError::MissingTable)?;
            let stream_checkpoint = (!self.no_table_stream)
                .then(|| self.data_dir.join(format!("table-stream-{table}.json")));
            return Ok(StorageChoice::Aws(AwsChoice {
                endpoint: endpoint.map(str::to_string),
                table,
                create_table: self.create_table,
                queue_url: non_empty(&self.autoclose_queue_url),
                bus_name: non_empty(&self.event_bus_name),
                stream_checkpoint,
            }));
        }
        if self.memory {
            return Ok(StorageChoice::Memory);
        }
        Ok(StorageChoice::File(self.data_dir.join(DATABASE_FILE)))
    }

    /// The auto-close sweep interval (at least 10 ms).
    pub fn sweep_interval(&self) -> Duration {
        Duration::from_millis(self.sweep_interval_ms.max(10))
    }

    /// The outbox drain interval (at least 10 ms).
    pub fn outbox_interval(&self) -> Duration {
        Duration::from_millis(self.outbox_interval_ms.max(10))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        let mut all = vec!["inbox-dev"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).unwrap()
    }

    #[test]
    fn defaults_to_the_data_folder() {
        // SAFETY of the assertion: the env vars below are not set in the test environment.
        if std::env::var_os("AWS_ENDPOINT_URL").is_some()
            || std::env::var_os("INBOX_DEV_DATA_DIR").is_some()
        {
            return;
        }
        let cli = parse(&[]);
        assert_eq!(
            cli.serve.storage().unwrap(),
            StorageChoice::File(PathBuf::from(".data/inbox.sqlite3"))
        );
        assert_eq!(cli.serve.addr.to_string(), "127.0.0.1:3000");
    }

    #[test]
    fn aws_mode_needs_a_table() {
        let cli = parse(&["--aws", "--table-name", " "]);
        assert!(matches!(
            cli.serve.storage(),
            Err(ConfigError::MissingTable)
        ));
        let cli = parse(&["--aws", "--table-name", "t1", "--create-table"]);
        let StorageChoice::Aws(aws) = cli.serve.storage().unwrap() else {
            panic!("not AWS mode");
        };
        assert_eq!((aws.table.as_str(), aws.create_table), ("t1", true));
    }

    #[test]
    fn token_subcommand() {
        let cli = parse(&[
            "token",
            "--workspace",
            "w",
            "--sub",
            "bob",
            "--role",
            "agent",
        ]);
        let Some(Command::Token(t)) = cli.command else {
            panic!("no token command");
        };
        assert_eq!(
            (t.workspace.as_str(), t.sub.as_str(), t.role.as_str()),
            ("w", "bob", "agent")
        );
    }
}
