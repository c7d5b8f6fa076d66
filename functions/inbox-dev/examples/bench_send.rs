//! The sender's figure on the dev server, loopback only:
//!
//! ```sh
//! cargo run --release -p inbox-dev --example bench_send            # 10,000 replies
//! cargo run --release -p inbox-dev --example bench_send -- --replies 2000 --sqlite
//! ```
//!
//! Starts the fake providers in this process and `inbox-dev` (in-memory, or
//! an SQLite file with `--sqlite`) from the same target folder, points a
//! Twilio channel at the fakes, and posts `--replies` member replies over
//! `--conversations` conversations, `--connections` at a time. It then waits
//! until every reply is `sent` and prints sends per second (first reply
//! committed to last one sent), the time from commit (the message's
//! `created_at`) to `sent` (its `delivery.updated_at`) at p50/p99/max, and
//! provider calls per message, which must be 1.00 when nothing fails.

mod support;

use clap::Parser;
use reqwest::{Client, Method};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::{Bench, Error, call};

#[derive(Debug, Parser)]
struct Args {
    /// Replies to send.
    #[arg(long, default_value_t = 10_000)]
    replies: usize,
    /// Conversations they are spread over.
    #[arg(long, default_value_t = 100)]
    conversations: usize,
    /// Replies posted at once.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Use an embedded database file instead of memory.
    #[arg(long)]
    sqlite: bool,
}

const SECRET: &str = "bench-send-secret";
const WS: &str = "bench";

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    let fakes = fake_providers::start().await?;
    let bench = Bench::start("send", WS, SECRET, args.sqlite, args.connections).await?;
    let (client, base, bob) = (&bench.client, bench.base.as_str(), bench.bob.as_str());
    call(
        client,
        Method::PUT,
        &format!("{base}/channels/sms"),
        &bench.admin,
        Some(
            json!({"kind": "twilio", "name": "SMS", "secret": "bench-token",
                    "account_sid": "AC0123456789abcdef0123456789abcdef",
                    "from": "+15550001000", "api_base_url": fakes}),
        ),
    )
    .await?;
    let mut convs = Vec::new();
    for i in 0..args.conversations.max(1) {
        let c = call(
            client,
            Method::POST,
            &format!("{base}/contacts"),
            bob,
            Some(json!({"name": format!("Contact {i}"), "phone": format!("+1555{:07}", i)})),
        )
        .await?;
        let conv = call(
            client,
            Method::POST,
            &format!("{base}/conversations"),
            bob,
            Some(json!({"contact_id": c["id"], "channel_id": "sms"})),
        )
        .await?;
        convs.push(conv["id"].as_str().ok_or("no conversation id")?.to_string());
    }

    eprintln!("posting {} replies …", args.replies);
    let started = Instant::now();
    bench
        .post_messages(&convs, args.replies, args.connections, 0)
        .await?;
    let posted_in = started.elapsed();
    eprintln!(
        "posted in {:.1} s; waiting for every reply to be sent …",
        posted_in.as_secs_f64()
    );

    let deadline = Instant::now() + Duration::from_secs(600);
    let messages = loop {
        let all = all_messages(client, base, bob, &convs).await?;
        let pending = all
            .iter()
            .filter(|m| m["delivery"]["status"] != "sent")
            .count();
        if pending == 0 {
            break all;
        }
        if Instant::now() > deadline {
            return Err(format!("{pending} replies still not sent after 10 minutes").into());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let millis = |m: &Value, field: &str| -> Result<i64, Error> {
        let text = m
            .pointer(field)
            .and_then(Value::as_str)
            .ok_or("a timestamp")?;
        Ok(inbox_domain::Timestamp::parse(text)?.as_millis())
    };
    let mut latencies = Vec::with_capacity(messages.len());
    let (mut first, mut last) = (i64::MAX, i64::MIN);
    let mut attempts = 0u64;
    for m in &messages {
        let (created, sent) = (
            millis(m, "/created_at")?,
            millis(m, "/delivery/updated_at")?,
        );
        latencies.push(sent - created);
        first = first.min(created);
        last = last.max(sent);
        attempts += m["delivery"]["attempts"].as_u64().unwrap_or(0);
    }
    latencies.sort_unstable();
    let pct = |p: f64| {
        latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1]
    };
    let calls = fake_providers::Control::new(&fakes)
        .requests(Some("twilio"))
        .await?
        .len();
    let span = (last - first).max(1) as f64 / 1000.0;
    println!();
    println!(
        "storage: {}; {} replies over {} conversations, {} at a time; the dev server's sender runs {} attempts at once",
        if args.sqlite {
            "SQLite file (WAL)"
        } else {
            "in-memory SQLite"
        },
        messages.len(),
        convs.len(),
        args.connections,
        inbox_dev::sending::SEND_CONCURRENCY
    );
    println!(
        "| replies | sends/s | commit → sent p50 ms | p99 ms | max ms | provider calls per message | attempts per message |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    println!(
        "| {} | {:.0} | {} | {} | {} | {:.2} | {:.2} |",
        messages.len(),
        messages.len() as f64 / span,
        pct(0.50),
        pct(0.99),
        latencies.last().copied().unwrap_or(0),
        calls as f64 / messages.len() as f64,
        attempts as f64 / messages.len() as f64,
    );
    Ok(())
}

/// Every reply on the conversations (the contact never wrote: all are Bob's).
async fn all_messages(
    client: &Client,
    base: &str,
    token: &str,
    convs: &[String],
) -> Result<Vec<Value>, Error> {
    let mut out = Vec::new();
    for conv in convs {
        let mut cursor: Option<String> = None;
        loop {
            let mut url = format!("{base}/conversations/{conv}/messages?limit=200");
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            let page = call(client, Method::GET, &url, token, None).await?;
            out.extend(page["items"].as_array().cloned().unwrap_or_default());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
    }
    Ok(out)
}
