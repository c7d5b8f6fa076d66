//! The reports figure: what a year's report costs over a million
//! conversations, on an SQLite file and on DynamoDB (moto, or any endpoint):
//!
//! ```sh
//! cargo run --release -p inbox-dev --example bench_reports                 # 1,000,000 conversations, SQLite
//! cargo run --release -p inbox-dev --example bench_reports -- --dynamodb   # also on INBOX_TEST_AWS_ENDPOINT
//! ```
//!
//! Synthesises `--conversations` conversations over `--days` days (created,
//! a contact message, most assigned and answered, closed by hand with a
//! category or by auto-close, one in ten reopened and closed again), folds
//! each one's stored changes through the aggregator's rules
//! (`ReportFacts::fold`), stores the resulting counters, then times the
//! 365-day report by every grouping and counts the store requests it made;
//! the same again for `--small` conversations, to show the report's
//! requests do not grow with conversations.

use clap::Parser;
use inbox_app::App;
use inbox_domain::Timestamp;
use inbox_domain::model::{
    ActorRef, EventKind, Message, Sender, SenderKind, Status, StatusSource, TimelineEvent,
};
use inbox_domain::reports::{Counter, Day, GroupBy, ReportFacts, ReportQuery, merge_deltas};
use inbox_domain::webhooks::{StoredChange, StoredRecord};
use inbox_store::dynamo::{DynamoStore, OperationCounter};
use inbox_store::sqlite::SqliteStore;
use inbox_store::{ReportStore, Store};
use std::collections::BTreeMap;
use std::time::Instant;

type Error = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Parser)]
struct Args {
    /// Conversations in the big run.
    #[arg(long, default_value_t = 1_000_000)]
    conversations: usize,
    /// Conversations in the comparison run.
    #[arg(long, default_value_t = 1_000)]
    small: usize,
    /// Days they are spread over (ending 2026-11-30).
    #[arg(long, default_value_t = 365)]
    days: i64,
    /// Members they are assigned to.
    #[arg(long, default_value_t = 20)]
    members: u64,
    /// Also on DynamoDB at INBOX_TEST_AWS_ENDPOINT (or AWS_ENDPOINT_URL).
    #[arg(long)]
    dynamodb: bool,
}

/// 2025-12-01T00:00:00Z.
const FIRST_DAY: i64 = 1_764_547_200;
const DAY: i64 = 86_400;

/// A small deterministic generator (xorshift64*): the same data every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % below.max(1)
    }
}

/// One synthetic conversation's stored changes, in commit order.
fn conversation(c: usize, days: i64, members: u64, rng: &mut Rng) -> Vec<StoredChange> {
    let conv = format!("conv_{c}");
    let mut version = 0;
    let mut out = Vec::new();
    let mut push = |version: u64, record: StoredRecord| {
        out.push(StoredChange {
            workspace_id: "bench".into(),
            conversation_id: conv.clone(),
            version,
            record,
        })
    };
    let event = |n: u64, kind: EventKind, at: i64| {
        StoredRecord::TimelineAdded(TimelineEvent {
            id: format!("evt_{c}_{n}"),
            conversation_id: String::new(),
            kind,
            at: Timestamp::from_unix_seconds(at),
            actor: ActorRef::system(),
        })
    };
    let message = |n: u64, kind: SenderKind, at: i64| {
        StoredRecord::MessageAdded(Message {
            id: format!("msg_{c}_{n}"),
            conversation_id: String::new(),
            sender: Sender {
                kind,
                id: None,
                name: None,
            },
            body: String::new(),
            created_at: Timestamp::from_unix_seconds(at),
            channel_message_id: None,
            delivery: None,
        })
    };
    let mut t = FIRST_DAY + (c as i64 % days) * DAY + rng.next(70_000) as i64;
    version += 1;
    let channel = format!("ch{}", rng.next(4));
    push(
        version,
        event(
            0,
            EventKind::ConversationCreated {
                channel_id: Some(channel),
                contact_id: "ct".into(),
            },
            t,
        ),
    );
    push(version, message(1, SenderKind::Contact, t));
    let closes = if rng.next(10) == 0 { 2 } else { 1 };
    for round in 0..closes {
        let n = 10 * (round + 1);
        if rng.next(100) < 85 {
            t += rng.next(600) as i64;
            version += 1;
            push(
                version,
                event(
                    n,
                    EventKind::Assigned {
                        from: None,
                        to: format!("m{}", rng.next(members)),
                        reason: None,
                    },
                    t,
                ),
            );
        }
        if rng.next(100) < 80 {
            t += rng.next(7_200) as i64;
            version += 1;
            push(version, message(n + 1, SenderKind::Member, t));
        }
        t += 600 + rng.next(20_000) as i64;
        version += 1;
        let auto = rng.next(100) < 30;
        let source = if auto {
            StatusSource::AutoClose
        } else {
            StatusSource::Manual
        };
        push(
            version,
            event(
                n + 2,
                EventKind::StatusChanged {
                    from: Status::Open,
                    to: Status::Closed,
                    source,
                },
                t,
            ),
        );
        if !auto && rng.next(100) < 70 {
            let category = Some(format!("cat{}", rng.next(6)));
            push(
                version,
                event(
                    n + 3,
                    EventKind::ClosingNoteAdded {
                        category,
                        summary: None,
                        generated: false,
                        generator: None,
                    },
                    t,
                ),
            );
        }
        if round + 1 < closes {
            t += DAY * (1 + rng.next(3) as i64);
            version += 1;
            push(
                version,
                event(
                    n + 4,
                    EventKind::StatusChanged {
                        from: Status::Closed,
                        to: Status::Open,
                        source: StatusSource::ContactMessage,
                    },
                    t,
                ),
            );
            push(version, message(n + 5, SenderKind::Contact, t));
        }
    }
    out
}

/// Every conversation folded; the counters, by item (day, dimension, key).
fn fold_all(n: usize, args: &Args) -> BTreeMap<(Day, String), BTreeMap<String, i64>> {
    let started = Instant::now();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut items: BTreeMap<(Day, String), BTreeMap<String, i64>> = BTreeMap::new();
    let mut records = 0;
    for c in 0..n {
        let mut facts = ReportFacts::default();
        let changes = conversation(c, args.days, args.members, &mut rng);
        records += changes.len();
        let deltas: Vec<_> = changes.iter().flat_map(|ch| facts.fold(ch)).collect();
        for (day, counters) in merge_deltas(deltas) {
            for (name, v) in counters {
                let Some(counter) = Counter::parse(&name) else {
                    continue;
                };
                let item = (
                    day,
                    format!("{}#{}", counter.dimension_code(), counter.key()),
                );
                *items.entry(item).or_default().entry(name).or_insert(0) += v;
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "  folded {n} conversations ({records} stored changes) in {secs:.1} s: {:.2} µs a change",
        secs * 1e6 / records as f64
    );
    items
}

/// Stores the counters, at most 150 to a save (the aggregator's own limit is near it).
async fn load<S: ReportStore>(
    store: &S,
    ws: &str,
    items: &BTreeMap<(Day, String), BTreeMap<String, i64>>,
) -> Result<(), Error> {
    let started = Instant::now();
    let mut saves = 0usize;
    let largest = items.values().map(BTreeMap::len).max().unwrap_or(0);
    for ((day, _), counters) in items {
        let all: Vec<(&String, &i64)> = counters.iter().collect();
        for chunk in all.chunks(150) {
            saves += 1;
            let facts = ReportFacts {
                rev: 1,
                ..ReportFacts::default()
            };
            let day_counters = BTreeMap::from([(
                *day,
                chunk.iter().map(|(n, v)| ((*n).clone(), **v)).collect(),
            )]);
            store
                .save_report(ws, &format!("load-{saves}"), &facts, &day_counters)
                .await?;
        }
    }
    println!(
        "  stored {} counter groups (the most counters in one: {largest}) in {saves} saves, {:.1} s",
        items.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The 365-day report by every grouping: time and, on DynamoDB, requests.
async fn report<S: Store>(
    app: &App<S>,
    ws: &str,
    counter: Option<&OperationCounter>,
) -> Result<(), Error> {
    for g in GroupBy::ALL {
        let q = ReportQuery {
            from: Day::parse("2025-12-01").ok_or("day")?,
            to: Day::parse("2026-11-30").ok_or("day")?,
            group_by: g,
        };
        let before = counter.map(OperationCounter::snapshot);
        let started = Instant::now();
        let r = app.conversation_report(ws, &q).await?;
        let ms = started.elapsed().as_secs_f64() * 1e3;
        let requests = match (counter, before) {
            (Some(c), Some(b)) => {
                let after = c.snapshot();
                let made: Vec<String> = after
                    .iter()
                    .filter_map(|(op, n)| {
                        let d = n - b.get(op).copied().unwrap_or(0);
                        (d > 0).then(|| format!("{d} {op}"))
                    })
                    .collect();
                format!(", requests: {}", made.join(", "))
            }
            _ => String::new(),
        };
        println!(
            "  by {:<14} {:>4} rows, {:>9} closed, p50 first response {:>5} s, p50 resolution {:>6} s: {ms:>8.1} ms{requests}",
            g.as_str(),
            r.items.len(),
            r.totals.closed,
            r.totals.first_response_seconds.p50.unwrap_or(0),
            r.totals.resolution_seconds.p50.unwrap_or(0),
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    for n in [args.conversations, args.small] {
        println!("{n} conversations over {} days:", args.days);
        let items = fold_all(n, &args);
        let ws = format!("bench-{n}");
        let dir = std::env::temp_dir().join(format!("inbox-bench-reports-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let sqlite = SqliteStore::open(dir.join(format!("{n}.db")))?;
        println!(" SQLite file:");
        load(&sqlite, &ws, &items).await?;
        report(&App::new(sqlite), &ws, None).await?;
        if args.dynamodb {
            let endpoint = std::env::var("INBOX_TEST_AWS_ENDPOINT")
                .or_else(|_| std::env::var("AWS_ENDPOINT_URL"))
                .map_err(|_| "--dynamodb needs INBOX_TEST_AWS_ENDPOINT")?;
            let counter = OperationCounter::new();
            let client = inbox_store::dynamo::connect(Some(&endpoint), Some(counter.clone())).await;
            let table = format!("bench-reports-{}-{n}", std::process::id());
            inbox_store::dynamo::table::create_table_if_missing(&client, &table).await?;
            let store = DynamoStore::new(client, table);
            println!(" DynamoDB at {endpoint}:");
            load(&store, &ws, &items).await?;
            report(&App::new(store), &ws, Some(&counter)).await?;
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}
