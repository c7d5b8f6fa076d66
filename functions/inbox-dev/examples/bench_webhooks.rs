//! The outgoing-webhook figure on the dev server, loopback only:
//!
//! ```sh
//! cargo run --release -p inbox-dev --example bench_webhooks            # 10,000 events
//! cargo run --release -p inbox-dev --example bench_webhooks -- --events 2000 --sqlite
//! ```
//!
//! Starts a fast receiver in this process (it answers 204 at once and
//! records when each delivery arrived) and `inbox-dev` (in-memory, or an
//! SQLite file with `--sqlite`) from the same target folder, subscribes an
//! endpoint to `message.created`, and posts `--events` member messages on
//! conversations without a channel (each is one event, and no send) over
//! `--conversations` conversations,
//! `--connections` at a time. It waits until every event arrived, then
//! prints deliveries per second (first commit to last arrival), commit
//! (the event's `timestamp`) to arrival at p50/p99/max, deliveries per
//! event (1.00 when nothing fails) and whether each conversation's events
//! arrived in commit order.

mod support;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use clap::Parser;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{Bench, Error};

#[derive(Debug, Parser)]
struct Args {
    /// Events (messages) to deliver.
    #[arg(long, default_value_t = 10_000)]
    events: usize,
    /// Conversations they are spread over.
    #[arg(long, default_value_t = 100)]
    conversations: usize,
    /// Messages posted at once.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Use an embedded database file instead of memory.
    #[arg(long)]
    sqlite: bool,
    /// Post at most this many messages a second (0: as fast as they go),
    /// to see the latency of a load the sender keeps up with.
    #[arg(long, default_value_t = 0)]
    rate: u32,
}

const SECRET: &str = "bench-webhooks-secret";
const WS: &str = "bench";

/// One delivery as the receiver saw it.
struct Arrival {
    webhook_id: String,
    conversation_id: String,
    committed_ms: i64,
    arrived_ms: i64,
}

type Arrivals = Arc<Mutex<Vec<Arrival>>>;

async fn receive(State(log): State<Arrivals>, headers: HeaderMap, body: String) -> StatusCode {
    let arrived_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let parsed: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let committed_ms = parsed["timestamp"]
        .as_str()
        .and_then(|t| inbox_domain::Timestamp::parse(t).ok())
        .map_or(0, |t| t.as_millis());
    let arrival = Arrival {
        webhook_id: headers
            .get("webhook-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string(),
        conversation_id: parsed["data"]["conversation_id"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        committed_ms,
        arrived_ms,
    };
    if let Ok(mut g) = log.lock() {
        g.push(arrival);
    }
    StatusCode::NO_CONTENT
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    let arrivals: Arrivals = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let receiver = format!("http://{}/hook", listener.local_addr()?);
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(Arc::clone(&arrivals));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let bench = Bench::start("hooks", WS, SECRET, args.sqlite, args.connections).await?;
    let convs = bench.conversations(args.conversations.max(1)).await?;
    // Subscribed after the set-up: only the measured messages are delivered.
    bench
        .call(
            Method::PUT,
            "/outgoing-webhooks/bench",
            &bench.admin,
            Some(json!({"url": receiver, "events": ["message.created"]})),
        )
        .await?;

    eprintln!("posting {} messages …", args.events);
    bench
        .post_messages(&convs, args.events, args.connections, args.rate)
        .await?;
    eprintln!("posted; waiting for every delivery …");
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let got = arrivals.lock().map(|g| g.len()).unwrap_or(0);
        if got >= args.events {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("{got} of {} delivered after 10 minutes", args.events).into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Time for a duplicate to show up, if there were one.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let arrivals = arrivals.lock().map_err(|_| "poisoned")?;
    let mut latencies: Vec<i64> = arrivals
        .iter()
        .map(|a| a.arrived_ms - a.committed_ms)
        .collect();
    latencies.sort_unstable();
    let pct = |p: f64| {
        latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1]
    };
    let first = arrivals.iter().map(|a| a.committed_ms).min().unwrap_or(0);
    let last = arrivals.iter().map(|a| a.arrived_ms).max().unwrap_or(0);
    let distinct: std::collections::HashSet<&str> =
        arrivals.iter().map(|a| a.webhook_id.as_str()).collect();
    // Commit order per conversation: the events' timestamps never go back.
    let mut newest: HashMap<&str, i64> = HashMap::new();
    let mut out_of_order = 0;
    for a in arrivals.iter() {
        let seen = newest.entry(a.conversation_id.as_str()).or_insert(i64::MIN);
        if a.committed_ms < *seen {
            out_of_order += 1;
        }
        *seen = (*seen).max(a.committed_ms);
    }
    let span = (last - first).max(1) as f64 / 1000.0;
    println!();
    println!(
        "storage: {}; {} events over {} conversations, {} posted at a time{}; one endpoint; {} attempts at once",
        if args.sqlite {
            "SQLite file (WAL)"
        } else {
            "in-memory SQLite"
        },
        distinct.len(),
        convs.len(),
        args.connections,
        if args.rate > 0 {
            format!(", at most {}/s", args.rate)
        } else {
            String::new()
        },
        inbox_dev::outgoing::WEBHOOK_CONCURRENCY
    );
    println!(
        "| events | deliveries/s | commit → delivery p50 ms | p99 ms | max ms | deliveries per event | out of commit order |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    println!(
        "| {} | {:.0} | {} | {} | {} | {:.2} | {} |",
        distinct.len(),
        arrivals.len() as f64 / span,
        pct(0.50),
        pct(0.99),
        latencies.last().copied().unwrap_or(0),
        arrivals.len() as f64 / distinct.len().max(1) as f64,
        out_of_order,
    );
    Ok(())
}
