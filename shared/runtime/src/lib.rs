//! The Lambda side of the product: one binary for every function. It reads
//! which function it is from `INBOX_FUNCTION` and runs that entry of the
//! [`catalogue`]: configuration from the environment, AWS clients built once
//! per cold start, JSON logs, and the conversion between API Gateway's events
//! and the framework-neutral handlers.

pub mod agents;
pub mod apigw;
pub mod authorizer;
pub mod catalogue;
pub mod cognito;
pub mod config;
pub mod exports;
pub mod jobs;
pub mod live;
pub mod sender;
pub mod sqs;
pub mod webhooks;

pub use catalogue::{FUNCTION_ENV, Function};
pub use config::{Config, ConfigError};

use inbox_http::{Action, App};
use inbox_store::dynamo::{DynamoStore, OutboxMode};
use lambda_http::{Body, Error, Request, Response, service_fn};

/// JSON logs in Lambda (one object per line, for CloudWatch Logs Insights);
/// `RUST_LOG` sets the filter (default `info`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .without_time() // Lambda stamps every line already.
        .try_init();
}

/// The AWS configuration from the environment (region, credentials, and
/// `AWS_ENDPOINT_URL` when set), loaded once.
pub async fn aws_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// The DynamoDB store for a Lambda function: outbox items are published by
/// the table stream, so nothing drains them here.
pub async fn lambda_store(sdk: &aws_config::SdkConfig, cfg: &Config) -> DynamoStore {
    DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), cfg.table_name.clone())
        .with_outbox_mode(OutboxMode::StreamOnly)
}

/// A cold start's common work, done once: JSON logs, the configuration, the
/// AWS configuration and the table's store.
pub async fn start() -> Result<(Config, aws_config::SdkConfig, DynamoStore), Error> {
    init_tracing();
    let cfg = Config::from_env()?;
    let sdk = aws_config().await;
    let store = lambda_store(&sdk, &cfg).await;
    Ok((cfg, sdk, store))
}

/// Runs the function named by `INBOX_FUNCTION`: the one entry point of the
/// Lambda binary. An unknown name fails the cold start, loudly.
pub async fn run_from_env() -> Result<(), Error> {
    let name = std::env::var(FUNCTION_ENV).map_err(|_| ConfigError(FUNCTION_ENV))?;
    let function = Function::from_name(&name).ok_or(UnknownFunction(name))?;
    run(function).await
}

/// The function name is not in the catalogue.
#[derive(Debug, thiserror::Error)]
#[error("{FUNCTION_ENV}={0} names no function of the catalogue")]
pub struct UnknownFunction(pub String);

/// Runs `function`: builds its dependencies once, then answers every invocation.
pub async fn run(function: Function) -> Result<(), Error> {
    match function {
        Function::Http(name) => run_http(name).await,
        Function::AutocloseSweep => run_autoclose_sweep().await,
        Function::AutocloseWorker => run_autoclose_worker().await,
        Function::EventPublisher => run_event_publisher().await,
        Function::EventReplay => run_event_replay().await,
        Function::JobWorker => run_job_worker().await,
        Function::Sender => run_sender().await,
        Function::AiAgent => run_ai_agent().await,
        Function::Authorizer => run_authorizer().await,
        Function::WebhookDispatch => run_webhook_dispatch().await,
        Function::WebhookSender => run_webhook_sender().await,
        Function::Live => run_live().await,
        Function::LiveAuthorizer => run_live_authorizer().await,
    }
}

/// Runs an HTTP function: the routes of the table that `name` serves.
async fn run_http(name: &'static str) -> Result<(), Error> {
    let (cfg, sdk, store) = start().await?;
    let mut app = with_jobs(
        App::new(store).with_public_base_url(cfg.public_base_url.clone()),
        &cfg,
        &sdk,
    );
    if let Some(pool) = &cfg.user_pool_id {
        app = app.with_invitations(cognito::CognitoInvitations::new(
            aws_sdk_cognitoidentityprovider::Client::new(&sdk),
            pool,
        ));
    }
    let app = &app;
    lambda_http::run(service_fn(move |req: Request| async move {
        Ok::<Response<Body>, Error>(serve(app, name, req).await)
    }))
    .await
}

/// Answers one API Gateway request for the HTTP function `name`.
pub async fn serve<S: inbox_store::Store>(
    app: &App<S>,
    name: &str,
    req: Request,
) -> Response<Body> {
    apigw::to_lambda_response(serve_api(app, name, apigw::to_api_request(req)).await)
}

/// Answers one request, already converted, for the HTTP function `name`: the
/// route must be one the function serves.
pub async fn serve_api<S: inbox_store::Store>(
    app: &App<S>,
    name: &str,
    api: inbox_http::ApiRequest,
) -> inbox_http::ApiResponse {
    let started = std::time::Instant::now();
    let (method, path) = (api.method.clone(), api.path.clone());
    let resp = match Action::resolve(&api.method, &api.path) {
        Ok((action, params)) if action.function_name() == name => {
            inbox_http::handle_action(app, action, params, api).await
        }
        // API Gateway sent a route this function does not serve: a deployment mistake.
        _ => {
            tracing::error!(%method, %path, function = name, "route does not belong to this function");
            inbox_http::ApiError::NotFound(format!("no route for {path}")).to_response()
        }
    };
    tracing::info!(%method, %path, status = resp.status.as_u16(), ms = started.elapsed().as_millis() as u64, "request");
    resp
}

/// Runs the table-stream publisher: outbox items inserted by commits go to the
/// EventBridge bus; refused ones are reported as batch item failures.
async fn run_event_publisher() -> Result<(), Error> {
    use aws_lambda_events::event::dynamodb::Event as StreamEvent;
    use lambda_runtime::LambdaEvent;
    let (bus, dead_letters) = event_clients().await?;
    let (bus, dead_letters) = (&bus, &dead_letters);
    lambda_runtime::run(lambda_runtime::service_fn(
        move |ev: LambdaEvent<StreamEvent>| async move {
            Ok::<_, Error>(
                inbox_events::stream::publish_stream_batch(ev.payload, bus, dead_letters).await,
            )
        },
    ))
    .await
}

/// The event bus and the events dead-letter queue, built once (publisher and replay).
async fn event_clients()
-> Result<(inbox_events::EventBridgeBus, inbox_events::SqsDeadLetters), Error> {
    init_tracing();
    let cfg = Config::from_env()?;
    let sdk = aws_config().await;
    let bus = inbox_events::EventBridgeBus::new(
        aws_sdk_eventbridge::Client::new(&sdk),
        cfg.require_bus()?,
    );
    let dead_letters = inbox_events::SqsDeadLetters::new(
        aws_sdk_sqs::Client::new(&sdk),
        cfg.require_events_dlq()?,
    );
    Ok((bus, dead_letters))
}

/// Runs the replay (invoked by hand, any payload): re-publishes every event
/// in the events dead-letter queue and answers what it did.
async fn run_event_replay() -> Result<(), Error> {
    use lambda_runtime::LambdaEvent;
    let (bus, dead_letters) = event_clients().await?;
    let (bus, dead_letters) = (&bus, &dead_letters);
    lambda_runtime::run(lambda_runtime::service_fn(
        move |_: LambdaEvent<serde_json::Value>| async move {
            let report = inbox_events::replay_dead_letters(dead_letters, bus).await?;
            tracing::info!(
                replayed = report.replayed,
                left = report.left,
                "replay done"
            );
            Ok::<_, Error>(report)
        },
    ))
    .await
}

/// Runs the auto-close sweep (EventBridge schedule): queues every due timer.
async fn run_autoclose_sweep() -> Result<(), Error> {
    use lambda_runtime::LambdaEvent;
    let (cfg, sdk, store) = start().await?;
    let queue =
        inbox_autoclose::SqsTimerQueue::new(aws_sdk_sqs::Client::new(&sdk), cfg.require_queue()?);
    let (store, queue) = (&store, &queue);
    lambda_runtime::run(lambda_runtime::service_fn(
        move |_: LambdaEvent<serde_json::Value>| async move {
            let now = inbox_store::Clock::now(&inbox_store::SystemClock);
            match inbox_autoclose::sweep(
                store,
                queue,
                now,
                &inbox_autoclose::SweepLimits::default(),
            )
            .await
            {
                Ok(report) => {
                    tracing::info!(?report, "sweep done");
                    Ok::<_, Error>(serde_json::json!({"due": report.due}))
                }
                // Failing the invocation lets the next schedule (a minute later) pick up what is left.
                Err(e) => {
                    tracing::error!(error = %e.source, report = ?e.report, "sweep failed");
                    Err(Box::new(e.source) as Error)
                }
            }
        },
    ))
    .await
}

/// `app` queueing job steps on the jobs queue, when the function has one
/// (without, fan-out work runs to its end inside the request), and keeping
/// export files in the exports bucket, when it has one.
fn with_jobs<S>(app: App<S>, cfg: &Config, sdk: &aws_config::SdkConfig) -> App<S> {
    let app = match &cfg.jobs_queue_url {
        Some(url) => app.with_job_queue(std::sync::Arc::new(jobs::SqsJobQueue::new(
            aws_sdk_sqs::Client::new(sdk),
            url,
        ))),
        None => app,
    };
    match &cfg.exports_bucket {
        Some(bucket) => app.with_export_files(std::sync::Arc::new(exports::S3ExportFiles::new(
            aws_sdk_s3::Client::new(sdk),
            bucket,
        ))),
        None => app,
    }
}

/// Runs the job worker (SQS): one step of a job per message, partial batch failures.
async fn run_job_worker() -> Result<(), Error> {
    use aws_lambda_events::event::sqs::SqsEvent;
    use lambda_runtime::LambdaEvent;
    let (cfg, sdk, store) = start().await?;
    cfg.require_jobs_queue()?;
    let app = with_jobs(App::new(store), &cfg, &sdk);
    let app = &app;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |ev: LambdaEvent<SqsEvent>| async move {
            Ok::<_, Error>(jobs::job_worker(app, &ev.payload).await)
        },
    ))
    .await
}

/// Runs the sender (SQS): one attempt per record, partial batch failures.
async fn run_sender() -> Result<(), Error> {
    use aws_lambda_events::event::sqs::SqsEvent;
    use lambda_runtime::LambdaEvent;
    let (cfg, sdk, store) = start().await?;
    let queue =
        sender::SqsSendQueue::new(aws_sdk_sqs::Client::new(&sdk), cfg.require_send_queue()?);
    let app = App::new(store)
        .with_public_base_url(cfg.public_base_url.clone())
        .with_sender(
            std::sync::Arc::new(inbox_delivery::HttpSender::new()?),
            std::sync::Arc::new(queue),
        );
    let app = &app;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |ev: LambdaEvent<SqsEvent>| async move {
            Ok::<_, Error>(sender::send_worker(app, &ev.payload).await)
        },
    ))
    .await
}

/// Runs ai-agent (the agents' queue): one answer per record, partial batch
/// failures. Models and webhook agents are called under the public-only
/// address guard.
async fn run_ai_agent() -> Result<(), Error> {
    use aws_lambda_events::event::sqs::SqsEvent;
    use inbox_domain::webhooks::{RetrySchedule, UrlPolicy};
    use lambda_runtime::LambdaEvent;
    let (_cfg, _sdk, store) = start().await?;
    let app = App::new(store)
        .with_webhooks(
            std::sync::Arc::new(inbox_delivery::webhooks::HttpWebhooks::new(
                UrlPolicy::PublicOnly,
            )?),
            RetrySchedule::CONTRACT,
        )
        .with_chat_model(std::sync::Arc::new(inbox_delivery::model::OpenAiChat::new(
            UrlPolicy::PublicOnly,
        )?));
    let app = &app;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |ev: LambdaEvent<SqsEvent>| async move {
            Ok::<_, Error>(agents::agent_worker(app, &ev.payload).await)
        },
    ))
    .await
}

/// Runs webhook-dispatch (the table stream): queues each change's webhook
/// tasks in lanes, reporting the first record of a run it could not queue.
async fn run_webhook_dispatch() -> Result<(), Error> {
    use aws_lambda_events::event::dynamodb::Event as StreamEvent;
    use lambda_runtime::LambdaEvent;
    let (cfg, sdk, store) = start().await?;
    let queue = webhooks::SqsWebhookQueue::new(
        aws_sdk_sqs::Client::new(&sdk),
        cfg.require_webhook_queue()?,
    );
    // Without the WebSocket API's endpoint, changes go to webhooks only.
    let poster = cfg
        .live_endpoint
        .as_deref()
        .map(|endpoint| live::ApiGatewayPoster::new(&sdk, endpoint));
    let app = App::new(store);
    let (app, queue, poster) = (&app, &queue, poster.as_ref());
    lambda_runtime::run(lambda_runtime::service_fn(
        move |ev: LambdaEvent<StreamEvent>| async move {
            let live = poster.map(|p| p as &dyn live::ConnectionPoster);
            Ok::<_, Error>(webhooks::dispatch_stream_batch(app, &ev.payload, queue, live).await)
        },
    ))
    .await
}

/// Runs `live`, the WebSocket API's routes: connections recorded and
/// forgotten, `typing` relayed through the management API.
async fn run_live() -> Result<(), Error> {
    use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
    use lambda_runtime::LambdaEvent;
    let (cfg, sdk, store) = start().await?;
    let poster = live::ApiGatewayPoster::new(&sdk, cfg.require_live_endpoint()?);
    let app = App::new(store);
    let (app, poster) = (&app, &poster);
    lambda_runtime::run(lambda_runtime::service_fn(
        move |ev: LambdaEvent<ApiGatewayWebsocketProxyRequest>| async move {
            let now = inbox_store::Clock::now(&inbox_store::SystemClock);
            Ok::<_, Error>(live::handle_socket(app, poster, &ev.payload, now).await)
        },
    ))
    .await
}

/// Runs `live-authorizer`, the WebSocket API's `$connect` authorizer, with
/// the HTTP authorizer's verification of API keys and the provider's JWTs.
async fn run_live_authorizer() -> Result<(), Error> {
    use aws_lambda_events::apigw::ApiGatewayCustomAuthorizerRequestTypeRequest;
    use lambda_runtime::LambdaEvent;
    let (cfg, _, store) = start().await?;
    let tokens = oidc_tokens(&cfg).await?;
    let (store, tokens) = (&store, &tokens);
    lambda_runtime::run(lambda_runtime::service_fn(
        move |ev: LambdaEvent<ApiGatewayCustomAuthorizerRequestTypeRequest>| async move {
            let now = inbox_store::Clock::now(&inbox_store::SystemClock);
            live::authorize_connect(&ev.payload, store, tokens, now)
                .await
                .map_err(|e| {
                    if let live::LiveAuthorizerError::Unavailable(_) = e {
                        tracing::error!(error = %e, "live authorizer failed");
                    }
                    // "Unauthorized" is the one error API Gateway answers 401.
                    Box::new(e) as Error
                })
        },
    ))
    .await
}

/// Runs webhook-sender (the webhook FIFO queue): each lane's records in
/// order, retries held back on the queue for their wait.
async fn run_webhook_sender() -> Result<(), Error> {
    use aws_lambda_events::event::sqs::SqsEvent;
    use inbox_domain::webhooks::{RetrySchedule, UrlPolicy};
    use lambda_runtime::LambdaEvent;
    let (cfg, sdk, store) = start().await?;
    let hold =
        webhooks::SqsHoldBack::new(aws_sdk_sqs::Client::new(&sdk), cfg.require_webhook_queue()?);
    let app = App::new(store).with_webhooks(
        std::sync::Arc::new(inbox_delivery::webhooks::HttpWebhooks::new(
            UrlPolicy::PublicOnly,
        )?),
        RetrySchedule::CONTRACT,
    );
    let (app, hold) = (&app, &hold);
    lambda_runtime::run(lambda_runtime::service_fn(
        move |ev: LambdaEvent<SqsEvent>| async move {
            Ok::<_, Error>(webhooks::send_webhooks(app, &ev.payload, hold).await)
        },
    ))
    .await
}

/// Runs the HTTP API's authorizer: the identity provider's keys are fetched
/// at cold start (a failure is logged; the first token then fetches them).
async fn run_authorizer() -> Result<(), Error> {
    use aws_lambda_events::apigw::ApiGatewayV2CustomAuthorizerV2Request;
    use lambda_runtime::LambdaEvent;
    let (cfg, _, store) = start().await?;
    let tokens = oidc_tokens(&cfg).await?;
    let (store, tokens) = (&store, &tokens);
    lambda_runtime::run(lambda_runtime::service_fn(
        move |ev: LambdaEvent<ApiGatewayV2CustomAuthorizerV2Request>| async move {
            let now = inbox_store::Clock::now(&inbox_store::SystemClock);
            authorizer::authorize(&ev.payload, store, tokens, now)
                .await
                .map_err(|e| {
                    tracing::error!(error = %e, "authorizer failed");
                    Box::new(e) as Error
                })
        },
    ))
    .await
}

/// The identity provider's token verifier both authorizers use, its keys
/// fetched at cold start (a failure is logged; the first token fetches them).
async fn oidc_tokens(
    cfg: &Config,
) -> Result<inbox_http::verify::OidcTokens<authorizer::HttpsJwks>, Error> {
    use inbox_http::verify::{IssuerPolicy, OidcTokens};
    let issuer = cfg.require_jwt_issuer()?;
    let tokens = OidcTokens::new(
        IssuerPolicy {
            issuer: issuer.to_string(),
            audiences: cfg.jwt_audiences.clone(),
        },
        authorizer::HttpsJwks::new(issuer, cfg.jwks_url.clone())?,
    );
    if let Err(e) = tokens.refresh().await {
        tracing::warn!(error = %e, "signing keys not fetched at cold start");
    }
    Ok(tokens)
}

/// Runs the auto-close worker (SQS): fires each timer, reporting partial batch failures.
async fn run_autoclose_worker() -> Result<(), Error> {
    use aws_lambda_events::event::sqs::SqsEvent;
    use lambda_runtime::LambdaEvent;
    let (_, _, store) = start().await?;
    let app = App::new(store);
    let app = &app;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |ev: LambdaEvent<SqsEvent>| async move {
            let (resp, report) = inbox_autoclose::worker_with_report(app, &ev.payload).await;
            tracing::info!(?report, "worker batch done");
            Ok::<_, Error>(resp)
        },
    ))
    .await
}
