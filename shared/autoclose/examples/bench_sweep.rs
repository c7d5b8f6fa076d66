//! Sweeps and closes due timers among many conversations and prints the time
//! and store requests it took: the sweep's cost must follow the due timers, not
//! the conversations.
//!
//! ```text
//! cargo run --release -p inbox-autoclose --example bench_sweep
//! INBOX_TEST_AWS_ENDPOINT=http://127.0.0.1:5066 AWS_ACCESS_KEY_ID=testing \
//!   AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 \
//!   cargo run --release -p inbox-autoclose --example bench_sweep
//! ```
//! Without `INBOX_TEST_AWS_ENDPOINT` only the SQLite figures are printed; the
//! argument `sqlite` or `dynamo` runs one of the two.

#[path = "../tests/common/instrumented.rs"]
#[allow(dead_code)]
mod instrumented;

use inbox_autoclose::{InProcessQueue, SweepLimits, drain_once};
use inbox_domain::model::Contact;
use inbox_domain::{
    Actor, Caller, Command, Ctx, ExtractiveNotes, Role, Settings, Timestamp, create_conversation,
    decide,
};
use inbox_store::dynamo::OperationCounter;
use inbox_store::sqlite::SqliteStore;
use inbox_store::{Commit, ContactStore, ConversationStore, DirectoryStore, ManualClock, UlidIds};
use instrumented::Instrumented;
use std::time::{Duration, Instant};

const WS: &str = "ws_bench";
const AFTER_SECONDS: u64 = 60;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn settings() -> Settings {
    let mut s = Settings::default();
    s.auto_close.enabled = true;
    s.auto_close.after_seconds = AFTER_SECONDS;
    s
}

/// Creates `total` conversations of which `due` get an armed timer (a member's
/// reply), through the store's `commit`, `batch` writes per commit.
async fn load<S: ConversationStore>(
    store: &S,
    total: usize,
    due: usize,
    batch: usize,
    now: Timestamp,
) -> Result<(), BoxError> {
    let s = settings();
    let member = Actor::Caller(Caller::new("mem_bench", Role::Agent, Some("Bench")));
    let notes = ExtractiveNotes;
    let mut ids = UlidIds::default();
    // Spread the armed ones through the whole set, so they are not the first rows.
    let every = (total / due.max(1)).max(1);
    let mut to_arm = Vec::new();
    let mut pending = Vec::new();
    for n in 0..total {
        let contact = Contact {
            id: format!("ct_{n:08}"),
            name: Some(format!("Contact {n}")),
            email: None,
            phone: None,
            blocked: false,
            created_at: now,
        };
        let mut ctx = Ctx {
            now,
            actor: &member,
            settings: &s,
            ids: &mut ids,
            notes: &notes,
        };
        let created = create_conversation(WS, &contact, None, &mut ctx)?;
        if n % every == 0 && to_arm.len() < due {
            to_arm.push(created.conversation.clone());
        }
        pending.extend(created.writes);
        if pending.len() >= batch {
            flush(store, &mut pending).await?;
        }
    }
    flush(store, &mut pending).await?;
    // The member's replies arm the timers, as the API would.
    for conv in to_arm {
        let mut ctx = Ctx {
            now,
            actor: &member,
            settings: &s,
            ids: &mut ids,
            notes: &notes,
        };
        let reply = Command::PostMessage {
            body: "Done, anything else?".into(),
            on_closed: None,
            sender: None,
        };
        pending.extend(decide(&conv, reply, &mut ctx)?.writes);
        if pending.len() >= batch {
            flush(store, &mut pending).await?;
        }
    }
    flush(store, &mut pending).await?;
    Ok(())
}

async fn flush<S: ConversationStore>(
    store: &S,
    pending: &mut Vec<inbox_domain::Write>,
) -> Result<(), BoxError> {
    if pending.is_empty() {
        return Ok(());
    }
    let writes = std::mem::take(pending);
    store
        .commit(Commit::new(writes[0].conversation.workspace_id.clone()).with_writes(writes))
        .await?;
    Ok(())
}

struct Figures {
    label: String,
    total: usize,
    due: usize,
    sweep: Duration,
    close: Duration,
    sweep_requests: usize,
    close_requests: usize,
    wire: String,
}

async fn measure<S: ConversationStore + ContactStore>(
    label: &str,
    store: Instrumented<S>,
    (total, due, batch): (usize, usize, usize),
    dynamo: Option<OperationCounter>,
) -> Result<Figures, BoxError> {
    let t0 = Timestamp::from_millis(1_800_000_000_000);
    let started = Instant::now();
    load(&store.inner, total, due, batch, t0).await?;
    eprintln!(
        "{label}: loaded {total} conversations in {:.1?}",
        started.elapsed()
    );
    let clock = ManualClock::new(t0.plus_seconds(AFTER_SECONDS as i64));
    let queue = InProcessQueue::default();
    let notes = ExtractiveNotes;
    if let Some(c) = &dynamo {
        c.reset();
    }

    // The sweep alone (what the scheduled function does).
    let started = Instant::now();
    let report =
        inbox_autoclose::sweep(&store, &queue, clock_now(&clock), &SweepLimits::default()).await?;
    let sweep = started.elapsed();
    eprintln!("{label}: swept {report:?} in {sweep:.1?}");
    let sweep_requests = store.counts.total();
    assert_eq!(report.sent, due, "every due timer queued");
    let wire_sweep = dynamo.as_ref().map(|c| c.snapshot());

    // The worker on everything queued (what the SQS-triggered function does).
    let started = Instant::now();
    let mut closed = 0;
    let app = inbox_app::App::new(&store)
        .with_clock(clock.clone())
        .with_notes(notes);
    while let Some(r) = drain_once(&app, &queue).await? {
        closed += r.closed;
    }
    let close = started.elapsed();
    assert_eq!(closed, due, "every due conversation closed");
    let close_requests = store.counts.total() - sweep_requests;
    let wire = match (&dynamo, wire_sweep) {
        (Some(c), Some(s)) => format!("DynamoDB sweep {s:?}; sweep+close {:?}", c.snapshot()),
        _ => String::new(),
    };
    Ok(Figures {
        label: label.into(),
        total,
        due,
        sweep,
        close,
        sweep_requests,
        close_requests,
        wire,
    })
}

fn clock_now(c: &ManualClock) -> Timestamp {
    inbox_store::Clock::now(c)
}

fn print(f: &Figures) {
    let per_sec = f.due as f64 / (f.sweep + f.close).as_secs_f64();
    println!(
        "{:<9} {:>7} conv {:>5} due | sweep {:>8.1?} {:>4} store req | close {:>8.1?} {:>5} store req | {:>7.0} closes/s",
        f.label, f.total, f.due, f.sweep, f.sweep_requests, f.close, f.close_requests, per_sec
    );
    if !f.wire.is_empty() {
        println!("          {}", f.wire);
    }
}

fn ratio(small: &Figures, big: &Figures) {
    println!(
        "{}: {}x the conversations -> sweep time x{:.2}, sweep requests x{:.2}, close time x{:.2}",
        big.label,
        big.total / small.total.max(1),
        big.sweep.as_secs_f64() / small.sweep.as_secs_f64(),
        big.sweep_requests as f64 / small.sweep_requests.max(1) as f64,
        big.close.as_secs_f64() / small.close.as_secs_f64(),
    );
}

async fn sqlite(total: usize, due: usize) -> Result<Figures, BoxError> {
    let store = SqliteStore::in_memory()?;
    store.put_settings(WS, &settings()).await?;
    measure(
        "sqlite",
        Instrumented::new(store),
        (total, due, 1_000),
        None,
    )
    .await
}

async fn dynamo(total: usize, due: usize) -> Result<Figures, BoxError> {
    let (store, counter) = inbox_store::dynamo::testing::fresh_store("bench-sweep").await?;
    store.put_settings(WS, &settings()).await?;
    // One conversation per transaction keeps every write far below DynamoDB's limits.
    measure(
        "dynamodb",
        Instrumented::new(store),
        (total, due, 1),
        Some(counter),
    )
    .await
}

/// DynamoDB on moto: due timers, and the larger table size (moto keeps everything
/// in memory); `BENCH_DYNAMO_SIZES=due,total` overrides.
const DYNAMO_SIZES: (usize, usize) = (50, 200);

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let which = std::env::args().nth(1).unwrap_or_else(|| "all".into());
    println!("sweep + close of due auto-close timers (page 100, batches of 10, in-process queue)");
    if which == "all" || which == "sqlite" {
        let small = sqlite(1_000, 1_000).await?;
        let big = sqlite(100_000, 1_000).await?;
        print(&small);
        print(&big);
        ratio(&small, &big);
    }
    if which == "all" || which == "dynamo" {
        if std::env::var("INBOX_TEST_AWS_ENDPOINT").is_err() {
            println!("(set INBOX_TEST_AWS_ENDPOINT to a moto server for the DynamoDB figures)");
            return Ok(());
        }
        let (due, big_total) = std::env::var("BENCH_DYNAMO_SIZES")
            .ok()
            .and_then(|v| {
                let (a, b) = v.split_once(',')?;
                Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
            })
            .unwrap_or(DYNAMO_SIZES);
        let small = dynamo(due, due).await?;
        let big = dynamo(big_total, due).await?;
        print(&small);
        print(&big);
        ratio(&small, &big);
    }
    Ok(())
}
