//! Times the SQLite adapter's view pages and due-timer query at 1,000 and at
//! 100,000 conversations in one workspace.
//!
//! `cargo run --release -p inbox-store --example bench_sqlite [-- <db path> [<conversations>]]`

use inbox_domain::model::{
    AutoCloseTimer, ContactSnapshot, Conversation, NamedRef, Responder, ResponderKind, Status,
};
use inbox_domain::{Filters, ListQuery, Timestamp, View, Write};
use inbox_store::sqlite::SqliteStore;
use inbox_store::{Commit, ConversationStore, PageRequest, StoreError};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const WORKSPACE: &str = "bench";
/// 2026-01-01T00:00:00Z.
const NOW: Timestamp = Timestamp::from_millis(1_767_225_600_000);
/// Conversations per commit while loading.
const BATCH: usize = 1_000;
/// Repetitions per measured query (the median is reported).
const RUNS: usize = 30;

fn conversation(rng: &mut StdRng, n: usize) -> Conversation {
    let status = [Status::Unset, Status::Open, Status::Open, Status::Closed][rng.gen_range(0..4)];
    let closed = status == Status::Closed;
    let pick = |rng: &mut StdRng, items: &[&str]| -> Option<String> {
        let i = rng.gen_range(0..=items.len());
        items.get(i).map(|s| s.to_string())
    };
    // One in five is unassigned; the rest spread over 50 members.
    let assignee = (!rng.gen_bool(0.2)).then(|| {
        let m = format!("member{}", rng.gen_range(0..50));
        NamedRef {
            id: m.clone(),
            name: m,
        }
    });
    // Activity over the last 90 days.
    let last_activity_at = NOW.plus_millis(-rng.gen_range(0..90 * 86_400_000_i64));
    // Timers on a third of the open ones, due within ±14 days: about 1% are due.
    let auto_close = (!closed && rng.gen_bool(0.33)).then(|| AutoCloseTimer {
        due_at: NOW.plus_millis(rng.gen_range(-86_400_000_i64 / 2..14 * 86_400_000)),
        after_seconds: 86_400,
    });
    let mut labels: Vec<String> = ["billing", "bug", "refund", "vip"]
        .iter()
        .filter(|_| rng.gen_bool(0.2))
        .map(|s| s.to_string())
        .collect();
    labels.sort();
    Conversation {
        workspace_id: WORKSPACE.into(),
        id: format!("conv_{n:026}"),
        channel_id: pick(rng, &["sms-main", "wa-main", "tg-main"]),
        channel_kind: None,
        contact: ContactSnapshot {
            id: format!("ct_{}", rng.gen_range(0..50_000)),
            name: Some("Contact".into()),
            blocked: false,
            has_lead: rng.gen_bool(0.5),
        },
        status,
        assignee,
        team: pick(rng, &["support", "sales"]).map(|t| NamedRef {
            id: t.clone(),
            name: t,
        }),
        agent: None,
        human_handoff: !closed && rng.gen_bool(0.05),
        last_responder: rng.gen_bool(0.7).then(|| Responder {
            kind: if rng.gen_bool(0.5) {
                ResponderKind::Human
            } else {
                ResponderKind::Ai
            },
            id: "member1".into(),
        }),
        auto_close,
        timer_generation: 1,
        snoozed_until: None,
        labels,
        closing: None,
        created_at: last_activity_at.plus_millis(-3_600_000),
        last_activity_at,
        last_contact_message_at: None,
        last_message_sender: None,
        member_flags: BTreeMap::new(),
        contact_address: None,
        failed_deliveries: Vec::new(),
        version: 1,
    }
}

async fn load(
    store: &SqliteStore,
    rng: &mut StdRng,
    from: usize,
    to: usize,
) -> Result<(), StoreError> {
    let mut n = from;
    while n < to {
        let end = (n + BATCH).min(to);
        let writes: Vec<Write> = (n..end)
            .map(|i| Write {
                conversation: conversation(rng, i),
                expected_version: None,
                timeline: vec![],
                messages: vec![],
                events: vec![],
                delivery: None,
            })
            .collect();
        store
            .commit(Commit::new(WORKSPACE).with_writes(writes))
            .await?;
        n = end;
    }
    Ok(())
}

/// The median time of `RUNS` runs of `f`, and the item count of its last run.
async fn median<F, Fut>(mut f: F) -> Result<(Duration, usize), StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<usize, StoreError>>,
{
    let mut times = Vec::with_capacity(RUNS);
    let mut count = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        count = f().await?;
        times.push(start.elapsed());
    }
    times.sort();
    Ok((times[RUNS / 2], count))
}

async fn report(store: &SqliteStore, total: usize) -> Result<(), StoreError> {
    println!("\n{total} conversations");
    println!("{:<38} {:>10} {:>7}", "query", "median", "items");
    let views: [(&str, View, Filters); 5] = [
        ("all", View::All, Filters::default()),
        ("unassigned", View::Unassigned, Filters::default()),
        ("mine", View::Mine, Filters::default()),
        ("pending_human", View::PendingHuman, Filters::default()),
        (
            "unresolved + label=vip + team=sales",
            View::Unresolved,
            Filters {
                label: Some("vip".into()),
                team: Some("sales".into()),
                ..Filters::default()
            },
        ),
    ];
    for (name, view, filters) in views {
        let query = ListQuery { view, filters };
        let (t, n) = median(|| async {
            let page = store
                .list_conversations(WORKSPACE, &query, "member7", &PageRequest::first(50))
                .await?;
            Ok(page.items.len())
        })
        .await?;
        println!(
            "{:<38} {:>8.3}ms {:>7}",
            format!("{name}, first page of 50"),
            ms(t),
            n
        );
    }
    let (t, n) = median(|| async {
        let page = store.due_timers(NOW, &PageRequest::first(100)).await?;
        Ok(page.items.len())
    })
    .await?;
    println!(
        "{:<38} {:>8.3}ms {:>7}",
        "due_timers, first page of 100",
        ms(t),
        n
    );
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("inbox-bench.db"));
    let total: usize = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(100_000);
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
    let store = SqliteStore::open(&path)?;
    let mut rng = StdRng::seed_from_u64(7);
    println!("database: {}", path.display());
    let first = total.min(1_000);
    load(&store, &mut rng, 0, first).await?;
    report(&store, first).await?;
    if total > first {
        let start = Instant::now();
        load(&store, &mut rng, first, total).await?;
        println!(
            "\nloaded {} more conversations in {:.1}s",
            total - first,
            start.elapsed().as_secs_f64()
        );
        report(&store, total).await?;
    }
    Ok(())
}
