//! The dev server: the whole inbox in one process. Every contract route is
//! served by the shared `inbox_http::handle`, channel routes and webhooks by
//! `inbox-ingest`, and the background work Lambda does on schedules and
//! streams (outbox publishing, auto-close sweeps) runs on intervals, on the
//! embedded SQLite store or on the DynamoDB adapter.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod answering;
pub mod config;
pub mod demo;
pub mod exports;
pub mod invitations;
pub mod jobs;
pub mod live;
pub mod outgoing;
pub mod sending;
pub mod server;
pub mod table_stream;
pub mod web;
pub mod workers;

use config::{AwsChoice, Cli, Command, ServeArgs, StorageChoice, TokenArgs};
use inbox_autoclose::{InProcessQueue, SqsTimerQueue};
use inbox_delivery::webhooks::HttpWebhooks;
use inbox_domain::webhooks::{RetrySchedule, UrlPolicy};
use inbox_events::{EventBridgeBus, EventBus, LogBus};
use inbox_http::App;
use inbox_store::dynamo::{DynamoStore, connect, create_table_if_missing};
use inbox_store::sqlite::SqliteStore;
use inbox_store::{ChangeFeed, Outbox, Store};
use server::Shared;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use workers::LocalTimerQueue;

/// Any start-up failure (the server itself never stops on a request's error).
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Runs what the command line asks for.
pub async fn run(cli: Cli) -> Result<(), Error> {
    match cli.command {
        Some(Command::Token(t)) => {
            println!("{}", token(&cli.jwt_secret, &t)?);
            Ok(())
        }
        None => serve(cli.serve, cli.jwt_secret).await,
    }
}

/// `inbox-dev token …`.
pub fn token(secret: &str, t: &TokenArgs) -> Result<String, Error> {
    Ok(inbox_http::mint_dev_token(
        secret.as_bytes(),
        &t.workspace,
        &t.sub,
        &t.role,
        t.name.as_deref(),
        Duration::from_secs(t.ttl_seconds),
    )?)
}

/// The event bus, timer queue and change feed the background workers use.
pub struct Workers {
    /// Where published events go.
    pub bus: Arc<dyn EventBus>,
    /// Where due timers are queued for the worker.
    pub queue: Arc<dyn LocalTimerQueue>,
    /// The store's change feed, when it keeps one (outgoing webhooks).
    pub changes: Option<Arc<dyn ChangeFeed>>,
}

impl Workers {
    /// Events to the log, timers in memory, the embedded store's change feed.
    pub fn local(store: &SqliteStore) -> Self {
        Workers {
            bus: Arc::new(LogBus),
            queue: Arc::new(InProcessQueue::default()),
            changes: Some(Arc::new(store.clone())),
        }
    }
}

/// Builds the store the configuration selects and serves on it.
async fn serve(args: ServeArgs, secret: String) -> Result<(), Error> {
    match args.storage()? {
        StorageChoice::Memory => {
            tracing::info!("storage: in memory (nothing is kept at exit)");
            let store = SqliteStore::in_memory()?;
            let workers = Workers::local(&store);
            run_with(store, workers, args, secret).await
        }
        StorageChoice::File(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            tracing::info!(path = %path.display(), "storage: embedded SQLite");
            let store = SqliteStore::open(&path)?;
            let workers = Workers::local(&store);
            run_with(store, workers, args, secret).await
        }
        StorageChoice::Aws(aws) => {
            let (store, workers) = aws_backend(&aws).await?;
            run_with(store, workers, args, secret).await
        }
    }
}

/// The DynamoDB store, and SQS / EventBridge where configured.
async fn aws_backend(aws: &AwsChoice) -> Result<(DynamoStore, Workers), Error> {
    let client = connect(aws.endpoint.as_deref(), None).await;
    if aws.create_table && create_table_if_missing(&client, &aws.table).await? {
        tracing::info!(table = %aws.table, "created the DynamoDB table");
    }
    tracing::info!(table = %aws.table, endpoint = aws.endpoint.as_deref().unwrap_or("default"), "storage: DynamoDB");
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(url) = &aws.endpoint {
        loader = loader.endpoint_url(url);
    }
    let shared = loader.load().await;
    let mut workers = Workers {
        bus: Arc::new(LogBus),
        queue: Arc::new(InProcessQueue::default()),
        changes: None,
    };
    if let Some(bus) = &aws.bus_name {
        tracing::info!(bus = %bus, "events: EventBridge");
        workers.bus = Arc::new(EventBridgeBus::new(
            aws_sdk_eventbridge::Client::new(&shared),
            bus,
        ));
    }
    if let Some(url) = &aws.queue_url {
        tracing::info!(queue = %url, "auto-close timers: SQS");
        workers.queue = Arc::new(SqsTimerQueue::new(aws_sdk_sqs::Client::new(&shared), url));
    }
    if let Some(checkpoint) = &aws.stream_checkpoint {
        let described = client
            .describe_table()
            .table_name(&aws.table)
            .send()
            .await?;
        match described.table.and_then(|t| t.latest_stream_arn) {
            Some(arn) => {
                tracing::info!(stream = %arn, checkpoint = %checkpoint.display(), "change feed: the table stream");
                workers.changes = Some(Arc::new(table_stream::TableStream::new(
                    aws_sdk_dynamodbstreams::Client::new(&shared),
                    &arn,
                    checkpoint.clone(),
                )?));
            }
            None => {
                tracing::warn!(table = %aws.table, "the table has no stream: no outgoing webhooks or live updates")
            }
        }
    }
    Ok((DynamoStore::new(client, &aws.table), workers))
}

/// Seeds the demo if asked, spawns the workers, serves until a shutdown
/// signal, then stops the workers (publishing what is left in the outbox).
async fn run_with<S>(
    store: S,
    workers: Workers,
    args: ServeArgs,
    secret: String,
) -> Result<(), Error>
where
    S: Store + Outbox + 'static,
{
    let listener = TcpListener::bind(args.addr).await?;
    let addr = listener.local_addr()?;
    // Providers sign the URL they call (Twilio): the configured public URL, else ours.
    let public_base_url = args
        .public_base_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let (job_queue, job_steps) = jobs::local_job_queue();
    let (send_queue, send_tasks) = sending::local_send_queue(args.send_retry_speedup);
    let provider_client = inbox_delivery::HttpSender::new()?;
    let exports =
        exports::LocalExportFiles::new(args.exports_dir(), &public_base_url, secret.as_bytes());
    let app = Arc::new(
        App::new(store)
            .with_public_base_url(Some(public_base_url))
            .with_invitations(invitations::DevInvitations::new(secret.as_bytes()))
            .with_job_queue(Arc::new(job_queue.clone()))
            .with_export_files(Arc::new(exports.clone()))
            .with_sender(Arc::new(provider_client), Arc::new(send_queue.clone()))
            .with_webhooks(
                Arc::new(HttpWebhooks::new(UrlPolicy::AllowLoopback)?),
                RetrySchedule::sped_up(args.webhook_retry_speedup),
            )
            .with_chat_model(Arc::new(inbox_delivery::model::OpenAiChat::new(
                UrlPolicy::AllowLoopback,
            )?)),
    );
    println!("inbox-dev: JWT secret for dev tokens (INBOX_DEV_JWT_SECRET): {secret}");
    let mut page = web::WebPage {
        dir: args.web_dir.clone(),
        identities: Vec::new(),
    };
    if args.demo {
        // People sign in to the page; the AI agent and the integration use the API.
        page.identities = demo::identities(secret.as_bytes())?
            .into_iter()
            .filter(|i| matches!(i.role, "owner" | "admin" | "agent" | "viewer"))
            .collect();
        let seeded = demo::seed(&app).await?;
        println!(
            "inbox-dev: demo workspace \"{}\" {}; tokens (valid 7 days):",
            demo::WORKSPACE,
            if seeded { "seeded" } else { "already present" }
        );
        for line in demo::token_lines(secret.as_bytes())? {
            println!("{line}");
        }
    }
    if args.fake_providers {
        let fakes = fake_providers::start().await?;
        println!("inbox-dev: fake providers on {fakes} (requests: {fakes}/_fake/requests)");
        if args.demo {
            demo::point_channels_at_fakes(&app, &fakes).await?;
        }
    }
    let wrote = Arc::new(Notify::new());
    let live = Arc::new(live::LiveHub::default());
    let shared = Arc::new(Shared {
        web: Arc::new(page),
        live: Arc::clone(&live),
        exports,
        app: Arc::clone(&app),
        jwt_secret: secret.into_bytes(),
        wrote: Arc::clone(&wrote),
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let job_runner = tokio::spawn(jobs::run_jobs(
        Arc::clone(&app),
        job_queue,
        job_steps,
        Arc::clone(&wrote),
        stop_rx.clone(),
    ));
    let sender = tokio::spawn(sending::run_sends(
        Arc::clone(&app),
        send_queue.clone(),
        send_tasks,
        Arc::clone(&wrote),
        stop_rx.clone(),
    ));
    let (answer_queue, answer_requests) = tokio::sync::mpsc::unbounded_channel();
    let answerer = tokio::spawn(answering::run_answers(
        Arc::clone(&app),
        answer_requests,
        Arc::clone(&wrote),
        stop_rx.clone(),
    ));
    let bus: Arc<dyn inbox_events::EventBus> =
        Arc::new(sending::SendingBus::new(workers.bus, send_queue));
    let bus = Arc::new(answering::AnsweringBus::new(bus, answer_queue));
    let published = Arc::new(Notify::new());
    let dispatcher = match workers.changes {
        Some(changes) => Some(tokio::spawn(workers::dispatch_feed(
            Arc::clone(&app),
            workers::Feed {
                changes,
                lanes: outgoing::LocalLanes::new(Arc::clone(&app), stop_rx.clone()),
                live,
            },
            Arc::clone(&published),
            args.outbox_interval(),
            stop_rx.clone(),
        ))),
        None => {
            tracing::warn!(
                "no change feed: outgoing webhooks and live updates are off (in AWS the table stream feeds them)"
            );
            None
        }
    };
    let publisher = tokio::spawn(workers::publish_outbox(
        Arc::clone(&app),
        bus,
        wrote,
        published,
        args.outbox_interval(),
        stop_rx.clone(),
    ));
    let sweeper = tokio::spawn(workers::auto_close(
        Arc::clone(&app),
        workers.queue,
        args.sweep_interval(),
        stop_rx,
    ));
    if shared.web.dir.join("index.html").is_file() {
        println!("inbox-dev: open the web inbox at http://{addr}/");
    } else {
        println!(
            "inbox-dev: the web inbox is not built ({}): run scripts/dev.sh",
            shared.web.dir.display()
        );
    }
    // Tests and scripts read this line to learn the port.
    println!("inbox-dev: listening on http://{addr}");
    tracing::info!(%addr, "listening");
    axum::serve(listener, server::router(shared))
        .with_graceful_shutdown(shutdown_signal(args.stop_on_stdin_close))
        .await?;
    tracing::info!("shutting down");
    let _ = stop_tx.send(true);
    let _ = tokio::join!(publisher, sweeper, job_runner, sender, answerer);
    if let Some(d) = dispatcher {
        let _ = d.await;
    }
    Ok(())
}

/// Resolves on Ctrl-C, SIGTERM, or (when asked) standard input closing.
async fn shutdown_signal(stdin_close: bool) {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    let stdin = async {
        if !stdin_close {
            return std::future::pending::<()>().await;
        }
        let mut input = tokio::io::stdin();
        let mut buf = [0u8; 256];
        // Anything written is ignored; end of input (or an error) means the parent is gone.
        while let Ok(n) = input.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    };
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
        _ = stdin => {}
    }
}
