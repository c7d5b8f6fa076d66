//! A load figure for the dev server, loopback only:
//!
//! ```sh
//! cargo run --release -p inbox-dev --example load
//! ```
//!
//! Starts `inbox-dev --memory` (or `--sqlite` for a database file in a temporary
//! folder) from the same target folder, building it first, seeds a workspace
//! through the API, then measures requests per second and latency percentiles
//! for `GET /conversations?view=mine` and `POST /conversations/{id}/assign`
//! (each connection alternates the assignee of its own conversation), and for
//! a trivial axum handler in a separate process of this same program as the
//! baseline. Each phase runs `--seconds` after a one-second warm-up, with
//! `--connections` concurrent keep-alive connections.

mod support;

use axum::Router;
use axum::routing::get;
use clap::Parser;
use reqwest::{Client, Method};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
struct Args {
    /// Seconds measured per phase.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent connections.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Conversations assigned to the caller (the `mine` view lists the first 50).
    #[arg(long, default_value_t = 200)]
    conversations: usize,
    /// Use an embedded database file instead of memory.
    #[arg(long)]
    sqlite: bool,
    /// Internal: serve the trivial baseline handler and print its address.
    #[arg(long, hide = true)]
    trivial_server: bool,
}

const SECRET: &str = "load-secret";
const WS: &str = "load";

use support::{Error, Guard, call, dev_binary, spawn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    if args.trivial_server {
        return trivial_server().await;
    }
    let data = std::env::temp_dir().join(format!("inbox-load-{}", std::process::id()));
    let mut server_args = vec!["--addr".to_string(), "127.0.0.1:0".to_string()];
    if args.sqlite {
        server_args.extend(["--data-dir".to_string(), data.display().to_string()]);
    } else {
        server_args.push("--memory".to_string());
    }
    let (inbox, inbox_url) = spawn(&dev_binary()?, &server_args, SECRET)?;
    let _inbox = Guard(inbox);
    let (trivial, trivial_url) = spawn(
        &std::env::current_exe()?,
        &["--trivial-server".to_string()],
        SECRET,
    )?;
    let _trivial = Guard(trivial);

    let client = Client::builder()
        .pool_max_idle_per_host(args.connections)
        .timeout(Duration::from_secs(30))
        .build()?;
    let tokens = Tokens::new()?;
    let convs = seed(&client, &inbox_url, &tokens, &args).await?;

    let duration = Duration::from_secs(args.seconds);
    let mine = format!("{inbox_url}/conversations?view=mine");
    let baseline = measure(
        "trivial axum handler (GET /)",
        &client,
        args.connections,
        duration,
        {
            let url = format!("{trivial_url}/");
            move |_, _| (Method::GET, url.clone(), None, None)
        },
    )
    .await;
    let list = measure(
        "GET /conversations?view=mine",
        &client,
        args.connections,
        duration,
        {
            let t = tokens.bob.clone();
            move |_, _| (Method::GET, mine.clone(), Some(t.clone()), None)
        },
    )
    .await;
    let assign = measure(
        "POST /conversations/{id}/assign",
        &client,
        args.connections,
        duration,
        {
            let t = tokens.bob.clone();
            let base = inbox_url.clone();
            let convs = Arc::new(convs);
            move |worker, n| {
                let conv = &convs[worker % convs.len()];
                let to = if n % 2 == 0 { "carol" } else { "bob" };
                (
                    Method::POST,
                    format!("{base}/conversations/{conv}/assign"),
                    Some(t.clone()),
                    Some(json!({ "member_id": to })),
                )
            }
        },
    )
    .await;

    println!();
    println!(
        "storage: {}; {} connections; {} s per phase; logs at warn",
        if args.sqlite {
            "SQLite file (WAL)"
        } else {
            "in-memory SQLite"
        },
        args.connections,
        args.seconds
    );
    println!("| endpoint | requests | errors | req/s | p50 ms | p99 ms | req/s vs trivial |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for r in [&baseline, &list, &assign] {
        println!(
            "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.1}% |",
            r.name,
            r.requests,
            r.errors,
            r.rps,
            r.p50_ms,
            r.p99_ms,
            100.0 * r.rps / baseline.rps.max(1.0)
        );
    }
    let _ = std::fs::remove_dir_all(&data);
    Ok(())
}

/// The baseline: an axum handler that does nothing.
async fn trivial_server() -> Result<(), Error> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("inbox-dev: listening on http://{}", listener.local_addr()?);
    axum::serve(listener, Router::new().route("/", get(|| async { "ok" }))).await?;
    Ok(())
}

struct Tokens {
    admin: String,
    bob: String,
}

impl Tokens {
    fn new() -> Result<Self, Error> {
        let mint = |sub: &str, role: &str, name: &str| {
            inbox_http::mint_dev_token(
                SECRET.as_bytes(),
                WS,
                sub,
                role,
                Some(name),
                Duration::from_secs(3600),
            )
        };
        Ok(Tokens {
            admin: mint("ada", "admin", "Ada Admin")?,
            bob: mint("bob", "agent", "Bob Ray")?,
        })
    }
}

/// Members, then `conversations` conversations assigned to Bob; returns
/// one conversation per connection for the assign phase.
async fn seed(client: &Client, base: &str, t: &Tokens, args: &Args) -> Result<Vec<String>, Error> {
    for (id, name) in [("bob", "Bob Ray"), ("carol", "Carol Lee")] {
        call(
            client,
            Method::PUT,
            &format!("{base}/members/{id}"),
            &t.admin,
            Some(json!({"name": name, "role": "agent"})),
        )
        .await?;
    }
    let mut ids = Vec::new();
    for i in 0..args.conversations.max(args.connections) {
        let c = call(
            client,
            Method::POST,
            &format!("{base}/contacts"),
            &t.bob,
            Some(json!({"name": format!("Contact {i}")})),
        )
        .await?;
        let conv = call(
            client,
            Method::POST,
            &format!("{base}/conversations"),
            &t.bob,
            Some(json!({"contact_id": c["id"]})),
        )
        .await?;
        let id = conv["id"].as_str().ok_or("no conversation id")?.to_string();
        call(
            client,
            Method::POST,
            &format!("{base}/conversations/{id}/assign"),
            &t.bob,
            Some(json!({"member_id": "bob"})),
        )
        .await?;
        ids.push(id);
    }
    Ok(ids.into_iter().take(args.connections).collect())
}

struct Report {
    name: &'static str,
    requests: usize,
    errors: usize,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
}

type Plan = (Method, String, Option<String>, Option<Value>);

/// Runs `connections` workers for a warm-up second, then for `duration`,
/// each sending `make(worker, n)` back to back; latency of every measured request.
async fn measure<F>(
    name: &'static str,
    client: &Client,
    connections: usize,
    duration: Duration,
    make: F,
) -> Report
where
    F: Fn(usize, usize) -> Plan + Send + Sync + Clone + 'static,
{
    eprintln!("measuring {name} …");
    let warmup = Duration::from_secs(1);
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + duration;
    let mut tasks = Vec::new();
    for worker in 0..connections {
        let client = client.clone();
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0usize;
            let mut n = 0usize;
            while Instant::now() < end {
                let (method, url, token, body) = make(worker, n);
                n += 1;
                let mut req = client.request(method, &url);
                if let Some(t) = token {
                    req = req.bearer_auth(t);
                }
                if let Some(b) = body {
                    req = req.json(&b);
                }
                let t0 = Instant::now();
                let ok = match req.send().await {
                    Ok(resp) => {
                        let good = resp.status().is_success();
                        good && resp.bytes().await.is_ok()
                    }
                    Err(_) => false,
                };
                let done = Instant::now();
                if t0 >= measure_from && done <= end {
                    lat.push(done.duration_since(t0).as_micros() as u64);
                    if !ok {
                        errors += 1;
                    }
                }
            }
            (lat, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        if let Ok((lat, e)) = t.await {
            all.extend(lat);
            errors += e;
        }
    }
    all.sort_unstable();
    let pct = |p: f64| {
        if all.is_empty() {
            return 0.0;
        }
        let i = ((all.len() as f64 * p).ceil() as usize).clamp(1, all.len()) - 1;
        all[i] as f64 / 1000.0
    };
    Report {
        name,
        requests: all.len(),
        errors,
        rps: all.len() as f64 / duration.as_secs_f64(),
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
    }
}
