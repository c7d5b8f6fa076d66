//! Work that touches many conversations, on DynamoDB (moto) or SQLite:
//! blocking a contact with 1,000 open conversations and removing a member
//! assigned to 10,000. Prints, for the request's own part and for the job
//! that finishes it: wall time, store requests, transactions and the largest
//! transaction's items.
//!
//! ```text
//! INBOX_TEST_AWS_ENDPOINT=http://127.0.0.1:5055 AWS_ACCESS_KEY_ID=testing \
//!   AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 \
//!   cargo run --release -p inbox-app --example bench_fanout [contact] [member] [sqlite]
//! ```
//! Without an endpoint (or with `sqlite`) it runs on SQLite; the arguments
//! `contact` / `member` run one of the two; `INBOX_BENCH_CONVERSATIONS`
//! scales the member case down (default 10000).
//!
//! The export job, on a SQLite file, in two processes so that the second's
//! peak memory is the export's alone:
//! ```text
//! cargo run --release -p inbox-app --example bench_fanout -- export-seed /tmp/x.db 50000
//! /usr/bin/time -v target/release/examples/bench_fanout export /tmp/x.db
//! ```

use async_trait::async_trait;
use inbox_app::{App, AppError, FanOutFigures, JobMessage, JobQueue, StepOutcome, Token};
use inbox_domain::model::{Contact, Member, NamedRef};
use inbox_domain::{Actor, Caller, Ctx, ExtractiveNotes, JobKind, Role, Settings, Timestamp};
use inbox_store::dynamo::OperationCounter;
use inbox_store::sqlite::SqliteStore;
use inbox_store::{Commit, ContactStore, Store, UlidIds};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WS: &str = "ws_bench";
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Steps queued by the request, run here one after the other as the job worker would.
#[derive(Default)]
struct Steps(Mutex<Vec<JobMessage>>);

#[async_trait]
impl JobQueue for Steps {
    async fn enqueue(&self, message: &JobMessage) -> Result<(), AppError> {
        if let Ok(mut q) = self.0.lock() {
            q.push(message.clone());
        }
        Ok(())
    }
}

impl Steps {
    fn pop(&self) -> Option<JobMessage> {
        self.0.lock().ok().and_then(|mut q| q.pop())
    }
}

/// What one part (request or job) cost.
struct Part {
    wall: Duration,
    requests: u64,
    transactions: u64,
    largest: usize,
    changed: u64,
}

impl Part {
    fn print(&self, case: &str, part: &str, store: &str) {
        println!(
            "| {store} | {case} | {part} | {} | {:.2} s | {} | {} | {} |",
            self.changed,
            self.wall.as_secs_f64(),
            if self.requests == 0 {
                "n/a".to_string()
            } else {
                self.requests.to_string()
            },
            self.transactions,
            self.largest
        );
    }
}

/// Creates `n` open conversations of `contact`, assigned to `assignee` when
/// given, written straight through the store in transactions of 25.
async fn seed<S: Store>(
    store: &S,
    contact: &Contact,
    n: usize,
    assignee: Option<&Member>,
) -> Result<(), BoxError> {
    let settings = Settings::default();
    let actor = Actor::Caller(Caller::new("olivia", Role::Owner, Some("Olivia")));
    let notes = ExtractiveNotes;
    let mut ids = UlidIds::default();
    let mut pending = Vec::new();
    let now = Timestamp::from_millis(1_800_000_000_000);
    for i in 0..n {
        let mut ctx = Ctx {
            now: now.plus_millis(i as i64),
            actor: &actor,
            settings: &settings,
            ids: &mut ids,
            notes: &notes,
        };
        let mut out = inbox_domain::create_conversation(WS, contact, None, &mut ctx)?;
        for w in &mut out.writes {
            if let Some(m) = assignee {
                w.conversation.assignee = Some(NamedRef {
                    id: m.id.clone(),
                    name: m.name.clone(),
                });
            }
        }
        pending.extend(out.writes);
        if pending.len() == 25 {
            store
                .commit(Commit::new(WS).with_writes(std::mem::take(&mut pending)))
                .await?;
        }
    }
    if !pending.is_empty() {
        store.commit(Commit::new(WS).with_writes(pending)).await?;
    }
    Ok(())
}

fn contact(id: &str) -> Contact {
    Contact {
        id: id.into(),
        name: Some("Ann".into()),
        email: Some("ann@example.com".into()),
        phone: None,
        blocked: false,
        created_at: Timestamp::from_millis(1_700_000_000_000),
    }
}

fn owner() -> Token {
    Token {
        sub: "olivia".into(),
        role: Role::Owner,
        name: Some("Olivia".into()),
    }
}

/// Runs the queued steps to the end, as the job worker would.
async fn finish<S: Store>(
    app: &App<S>,
    steps: &Steps,
    counter: Option<&OperationCounter>,
) -> Result<Part, BoxError> {
    if let Some(c) = counter {
        c.reset();
    }
    let started = Instant::now();
    let mut figures = FanOutFigures::default();
    while let Some(m) = steps.pop() {
        let report = app.run_job(&m.workspace_id, &m.job_id).await?;
        figures.add(report.figures);
        if report.outcome == StepOutcome::Finished {
            break;
        }
    }
    Ok(part(started, figures, counter))
}

fn part(started: Instant, f: FanOutFigures, counter: Option<&OperationCounter>) -> Part {
    Part {
        wall: started.elapsed(),
        requests: counter.map(OperationCounter::total).unwrap_or(0),
        transactions: f.transactions,
        largest: f.largest_transaction,
        changed: f.changed,
    }
}

async fn block_contact<S: Store>(
    app: &App<S>,
    steps: &Steps,
    counter: Option<&OperationCounter>,
    label: &str,
) -> Result<(), BoxError> {
    let ann = contact("ct_bench_block");
    app.store().create_contact(WS, &ann).await?;
    seed(app.store(), &ann, 1_000, None).await?;
    if let Some(c) = counter {
        c.reset();
    }
    let started = Instant::now();
    let change = app
        .change_contact(WS, &owner(), &ann.id, |c| c.blocked = true)
        .await?;
    let request = part(started, change.figures, counter);
    let job = finish(app, steps, counter).await?;
    request.print(
        "block a contact with 1,000 open conversations",
        "request",
        label,
    );
    job.print(
        "block a contact with 1,000 open conversations",
        "job",
        label,
    );
    Ok(())
}

async fn remove_member<S: Store>(
    app: &App<S>,
    steps: &Steps,
    counter: Option<&OperationCounter>,
    label: &str,
    n: usize,
) -> Result<(), BoxError> {
    let mia = Member {
        id: "mia".into(),
        name: "Mia".into(),
        email: None,
        role: Role::Agent,
    };
    app.store().put_member(WS, &mia).await?;
    let ben = contact("ct_bench_member");
    app.store().create_contact(WS, &ben).await?;
    let seeded = Instant::now();
    seed(app.store(), &ben, n, Some(&mia)).await?;
    eprintln!(
        "{label}: seeded {n} conversations in {:.1?}",
        seeded.elapsed()
    );
    if let Some(c) = counter {
        c.reset();
    }
    let started = Instant::now();
    app.change_member(WS, &Caller::new("olivia", Role::Owner, None), "mia", None)
        .await?;
    let fan = app
        .fan_out(WS, &owner(), JobKind::MemberRemoval, "mia")
        .await?;
    let request = part(started, fan.figures, counter);
    let job = finish(app, steps, counter).await?;
    let case = format!("remove a member assigned to {n}");
    request.print(&case, "request", label);
    job.print(&case, "job", label);
    Ok(())
}

async fn run<S: Store>(
    store: S,
    counter: Option<OperationCounter>,
    label: &str,
    which: &[String],
) -> Result<(), BoxError> {
    let steps = Arc::new(Steps::default());
    let app = App::new(store).with_job_queue(steps.clone());
    app.store()
        .put_member(
            WS,
            &Member {
                id: "olivia".into(),
                name: "Olivia".into(),
                email: None,
                role: Role::Owner,
            },
        )
        .await?;
    let n: usize = std::env::var("INBOX_BENCH_CONVERSATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let all = which.is_empty();
    if all || which.iter().any(|w| w == "contact") {
        block_contact(&app, &steps, counter.as_ref(), label).await?;
    }
    if all || which.iter().any(|w| w == "member") {
        remove_member(&app, &steps, counter.as_ref(), label, n).await?;
    }
    Ok(())
}

/// Export files copied to a temporary folder.
struct TempFiles(std::path::PathBuf);

#[async_trait]
impl inbox_app::ExportFiles for TempFiles {
    async fn store(&self, ws: &str, id: &str, path: &std::path::Path) -> Result<(), AppError> {
        let to = self.0.join(format!("{ws}-{id}.csv"));
        std::fs::copy(path, to)
            .map_err(|e| AppError::Store(inbox_store::StoreError::Unavailable(e.to_string())))?;
        Ok(())
    }
    async fn link(&self, ws: &str, id: &str) -> Result<String, AppError> {
        Ok(self.0.join(format!("{ws}-{id}.csv")).display().to_string())
    }
}

/// `export-seed <db> <n>`: `n` conversations of one contact in a SQLite file.
async fn export_seed(path: &str, n: usize) -> Result<(), BoxError> {
    let store = SqliteStore::open(std::path::Path::new(path))?;
    let ann = contact("ct_bench_export");
    store.create_contact(WS, &ann).await?;
    seed(&store, &ann, n, None).await?;
    println!("seeded {n} conversations in {path}");
    Ok(())
}

/// `export <db>`: one export job of view `all`, timed.
async fn export_run(path: &str) -> Result<(), BoxError> {
    let dir = std::env::temp_dir().join(format!("inbox-bench-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let app = App::new(SqliteStore::open(std::path::Path::new(path))?)
        .with_export_files(Arc::new(TempFiles(dir.clone())));
    let started = Instant::now();
    let job = app
        .start_export(WS, &owner(), vec![("view".into(), "all".into())])
        .await?;
    let status = app.export_status(WS, &job.id, "olivia").await?;
    let wall = started.elapsed();
    let file = status.url.unwrap_or_default();
    let bytes = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    println!(
        "export job: {} rows, {:?}, {:.2} s, file {:.1} MB",
        status.job.done,
        status.job.status,
        wall.as_secs_f64(),
        bytes as f64 / 1e6
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("export-seed") => {
            let n = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(50_000);
            return export_seed(args.get(1).map_or("/tmp/inbox-bench-export.db", |s| s), n).await;
        }
        Some("export") => {
            return export_run(args.get(1).map_or("/tmp/inbox-bench-export.db", |s| s)).await;
        }
        _ => {}
    }
    let sqlite = args.iter().any(|a| a == "sqlite")
        || inbox_store::dynamo::testing::test_endpoint().is_err();
    let which: Vec<String> = args.into_iter().filter(|a| a != "sqlite").collect();
    println!(
        "| store | case | part | conversations changed | wall | store requests | transactions | largest transaction (items) |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    if sqlite {
        run(SqliteStore::in_memory()?, None, "SQLite (memory)", &which).await
    } else {
        let (store, counter) =
            inbox_store::dynamo::testing::fresh_store_without_stream("bench-fanout").await?;
        run(store, Some(counter), "DynamoDB (moto)", &which).await
    }
}
