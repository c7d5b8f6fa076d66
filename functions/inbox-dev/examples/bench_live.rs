//! The live-updates figure on the dev server, loopback only:
//!
//! ```sh
//! cargo run --release -p inbox-dev --example bench_live                 # 1,000 connections, 100 changes/s, 10 s
//! cargo run --release -p inbox-dev --example bench_live -- --sqlite --connections 200
//! ```
//!
//! Starts `inbox-dev` (in-memory, or an SQLite file with `--sqlite`) from
//! the same target folder, opens `--connections` WebSockets on `GET /live`
//! in one workspace, then posts member replies at `--rate` a second for
//! `--seconds` over `--conversations` conversations (each reply is one
//! commit, so one `conversation.changed` on every connection). It waits
//! until every connection has every change, then prints delivery latency
//! from commit (the stored message's `created_at`, the server's clock) to
//! arrival at p50/p99/max over all deliveries, messages missed, whether any
//! connection saw a conversation's versions go back, and the server's CPU
//! time and peak memory (Linux `/proc`).

mod support;

use clap::Parser;
use futures::StreamExt;
use serde_json::Value;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use support::{Bench, Error};
use tokio_tungstenite::tungstenite::Message;

#[derive(Debug, Parser)]
struct Args {
    /// Live connections in the workspace.
    #[arg(long, default_value_t = 1000)]
    connections: usize,
    /// Changes (replies) per second.
    #[arg(long, default_value_t = 100)]
    rate: u32,
    /// How long the changes are made for.
    #[arg(long, default_value_t = 10)]
    seconds: u32,
    /// Conversations the changes are spread over.
    #[arg(long, default_value_t = 20)]
    conversations: usize,
    /// Use an embedded database file instead of memory.
    #[arg(long)]
    sqlite: bool,
}

const SECRET: &str = "bench-live-secret";
const WS: &str = "bench";

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// What one connection saw: latencies of the changes it got, and whether
/// a conversation's version ever went back.
#[derive(Default)]
struct Seen {
    latencies: Vec<i64>,
    out_of_order: usize,
}

/// The server's CPU seconds (user + system) and peak resident memory (kB).
fn process_usage(pid: u32) -> Option<(f64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let hwm = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    // Linux reports CPU in clock ticks of 1/100 s.
    Some((ticks / 100.0, hwm))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    let bench = Bench::start("live", WS, SECRET, args.sqlite, 32).await?;
    let convs = bench.conversations(args.conversations.max(1)).await?;
    let total = (args.rate * args.seconds) as usize;
    let url = format!(
        "{}/live?token={}",
        bench.base.replacen("http://", "ws://", 1),
        bench.bob
    );
    eprintln!("opening {} connections …", args.connections);
    let mut readers = Vec::new();
    for _ in 0..args.connections {
        let (socket, _) = tokio_tungstenite::connect_async(&url).await?;
        let (_, mut read) = socket.split();
        readers.push(tokio::spawn(async move {
            let mut seen = Seen::default();
            let mut versions: HashMap<String, u64> = HashMap::new();
            let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
            while seen.latencies.len() < total {
                let frame = match tokio::time::timeout_at(deadline, read.next()).await {
                    Ok(Some(Ok(frame))) => frame,
                    _ => break,
                };
                let Message::Text(text) = frame else { continue };
                let arrived = now_ms();
                let m: Value = serde_json::from_str(text.as_str()).unwrap_or(Value::Null);
                if m["type"] != "conversation.changed" || m["message"].is_null() {
                    continue;
                }
                let committed = m["message"]["created_at"]
                    .as_str()
                    .and_then(|t| inbox_domain::Timestamp::parse(t).ok())
                    .map_or(arrived, |t| t.as_millis());
                seen.latencies.push(arrived - committed);
                let conv = m["conversation_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let v = m["version"].as_u64().unwrap_or(0);
                let last = versions.entry(conv).or_insert(0);
                if v <= *last {
                    seen.out_of_order += 1;
                }
                *last = v;
            }
            seen
        }));
    }
    let before = process_usage(bench.server_pid());
    eprintln!("posting {total} replies at {}/s …", args.rate);
    let started = Instant::now();
    bench.post_messages(&convs, total, 32, args.rate).await?;
    let posting = started.elapsed();
    eprintln!(
        "posted in {:.1} s; waiting for every delivery …",
        posting.as_secs_f64()
    );
    let mut latencies = Vec::with_capacity(total * args.connections);
    let mut out_of_order = 0;
    for r in readers {
        let seen = r.await?;
        latencies.extend(seen.latencies);
        out_of_order += seen.out_of_order;
    }
    let wall = started.elapsed().as_secs_f64();
    let after = process_usage(bench.server_pid());
    latencies.sort_unstable();
    let expected = total * args.connections;
    let pct = |p: f64| {
        if latencies.is_empty() {
            return 0;
        }
        latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1]
    };
    let (cpu, rss) = match (before, after) {
        (Some((b, _)), Some((a, hwm))) => (
            format!(
                "{:.1} s ({:.0}% of one core)",
                a - b,
                (a - b) / wall * 100.0
            ),
            format!("{:.0} MB", hwm as f64 / 1024.0),
        ),
        _ => ("n/a".into(), "n/a".into()),
    };
    println!();
    println!(
        "storage: {}; {} connections in one workspace; {} changes at {}/s over {} conversations",
        if args.sqlite {
            "SQLite file (WAL)"
        } else {
            "in-memory SQLite"
        },
        args.connections,
        total,
        args.rate,
        convs.len()
    );
    println!(
        "| connections | changes | deliveries | missed | commit → arrival p50 ms | p99 ms | max ms | versions out of order | server CPU | server peak memory |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    println!(
        "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
        args.connections,
        total,
        latencies.len(),
        expected.saturating_sub(latencies.len()),
        pct(0.50),
        pct(0.99),
        latencies.last().copied().unwrap_or(0),
        out_of_order,
        cpu,
        rss,
    );
    Ok(())
}
