//! Times the DynamoDB adapter on moto: loads conversations into one
//! workspace, then prints the median time and request count of a first view
//! page and of the due-timer query.
//!
//! Start moto (`.venv/bin/python scripts/moto_server.py 127.0.0.1 5055`), then
//! `INBOX_TEST_AWS_ENDPOINT=http://127.0.0.1:5055 AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x AWS_REGION=us-east-1 \
//!  cargo run --release -p inbox-store --example bench_dynamo [-- <conversations>]`
//!
//! moto is an in-process Python emulator: the figures compare queries with
//! each other and show how they scale, not what DynamoDB itself would take.

use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use inbox_domain::model::{
    AutoCloseTimer, ContactSnapshot, Conversation, NamedRef, Responder, ResponderKind, Status,
};
use inbox_domain::{Filters, ListQuery, Timestamp, View};
use inbox_store::dynamo::testing::fresh_store;
use inbox_store::dynamo::{DynamoStore, OperationCounter, conversation_item};
use inbox_store::{ConversationStore, PageRequest, StoreError};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const WORKSPACE: &str = "bench";
/// 2026-01-01T00:00:00Z.
const NOW: Timestamp = Timestamp::from_millis(1_767_225_600_000);
/// Conversations per `BatchWriteItem` while loading (its maximum).
const BATCH: usize = 25;
/// Batches in flight while loading.
const PARALLEL: usize = 8;
/// Repetitions per measured query (the median is reported).
const RUNS: usize = 15;

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

async fn load(store: &DynamoStore, total: usize) -> Result<(), StoreError> {
    let mut rng = StdRng::seed_from_u64(7);
    let mut requests = Vec::new();
    for i in 0..total {
        let item = conversation_item(&conversation(&mut rng, i))?;
        let put = PutRequest::builder()
            .set_item(Some(item))
            .build()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        requests.push(WriteRequest::builder().put_request(put).build());
    }
    // Bulk load with BatchWriteItem: moto copies every table on each
    // transaction (for rollback), so loading through `commit` grows quadratically.
    let batches: Vec<Vec<WriteRequest>> = requests.chunks(BATCH).map(|c| c.to_vec()).collect();
    for group in batches.chunks(PARALLEL) {
        let sends = group.iter().map(|batch| async {
            let mut pending = batch.clone();
            while !pending.is_empty() {
                let out = store
                    .client()
                    .batch_write_item()
                    .request_items(store.table_name(), pending)
                    .send()
                    .await
                    .map_err(|e| StoreError::Unavailable(e.to_string()))?;
                pending = out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(store.table_name()))
                    .unwrap_or_default();
            }
            Ok::<(), StoreError>(())
        });
        for r in futures::future::join_all(sends).await {
            r?;
        }
    }
    Ok(())
}

/// The median time of `RUNS` runs of `f`, the item count of its last run and its requests.
async fn median<F, Fut>(
    counter: &OperationCounter,
    mut f: F,
) -> Result<(Duration, usize, u64), StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<usize, StoreError>>,
{
    let mut times = Vec::with_capacity(RUNS);
    let mut count = 0;
    let mut requests = 0;
    for _ in 0..RUNS {
        counter.reset();
        let start = Instant::now();
        count = f().await?;
        times.push(start.elapsed());
        requests = counter.total();
    }
    times.sort();
    Ok((times[RUNS / 2], count, requests))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let total: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(5_000);
    let (store, counter) = fresh_store("bench").await?;
    let start = Instant::now();
    load(&store, total).await?;
    println!(
        "loaded {total} conversations in {:.1}s ({} BatchWriteItem)",
        start.elapsed().as_secs_f64(),
        total.div_ceil(BATCH)
    );
    println!(
        "{:<40} {:>10} {:>6} {:>9}",
        "query", "median", "items", "requests"
    );
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
        let (t, n, r) = median(&counter, || async {
            let page = store
                .list_conversations(WORKSPACE, &query, "member7", &PageRequest::first(50))
                .await?;
            Ok(page.items.len())
        })
        .await?;
        println!(
            "{:<40} {:>8.1}ms {:>6} {:>9}",
            format!("{name}, first page of 50"),
            ms(t),
            n,
            r
        );
    }
    let (t, n, r) = median(&counter, || async {
        let page = store.due_timers(NOW, &PageRequest::first(100)).await?;
        Ok(page.items.len())
    })
    .await?;
    println!(
        "{:<40} {:>8.1}ms {:>6} {:>9}",
        "due_timers, first page of 100",
        ms(t),
        n,
        r
    );
    Ok(())
}
