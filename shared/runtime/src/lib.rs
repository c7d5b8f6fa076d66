//! Lambda glue shared by every function: configuration from the environment,
//! AWS clients built once per cold start, JSON logs, and the conversion
//! between API Gateway's events and the framework-neutral handlers.

pub mod apigw;
pub mod config;

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

/// Runs the function that serves one API action: builds its dependencies once,
/// then answers every invocation through the shared handler.
pub async fn run_action(action: Action) -> Result<(), Error> {
    let (_, _, store) = start().await?;
    let app = App::new(store);
    let app = &app;
    lambda_http::run(service_fn(move |req: Request| async move {
        Ok::<Response<Body>, Error>(serve(app, action, req).await)
    }))
    .await
}

/// Answers one API Gateway request for `action` (the route must be the action's own).
pub async fn serve<S: inbox_store::Store>(
    app: &App<S>,
    action: Action,
    req: Request,
) -> Response<Body> {
    let api = apigw::to_api_request(req);
    let started = std::time::Instant::now();
    let (method, path) = (api.method.clone(), api.path.clone());
    let resp = match Action::resolve(&api.method, &api.path) {
        Ok((routed, params)) if routed == action => {
            inbox_http::handle_action(app, action, params, api).await
        }
        // API Gateway sent a route this function does not serve: a deployment mistake.
        _ => {
            tracing::error!(%method, %path, expected = action.function_name(), "route does not belong to this function");
            inbox_http::ApiError::NotFound(format!("no route for {path}")).to_response()
        }
    };
    tracing::info!(%method, %path, status = resp.status.as_u16(), ms = started.elapsed().as_millis() as u64, "request");
    apigw::to_lambda_response(resp)
}

/// Runs the table-stream publisher: outbox items inserted by commits go to the
/// EventBridge bus; refused ones are reported as batch item failures.
pub async fn run_event_publisher() -> Result<(), Error> {
    use aws_lambda_events::event::dynamodb::Event as StreamEvent;
    use lambda_runtime::LambdaEvent;
    init_tracing();
    let cfg = Config::from_env()?;
    let sdk = aws_config().await;
    let bus = inbox_events::EventBridgeBus::new(
        aws_sdk_eventbridge::Client::new(&sdk),
        cfg.require_bus()?,
    );
    let bus = &bus;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |ev: LambdaEvent<StreamEvent>| async move {
            Ok::<_, Error>(inbox_events::stream::publish_stream_batch(ev.payload, bus).await)
        },
    ))
    .await
}

/// Runs `GET /channels` (identity from the JWT authorizer, like every API function).
pub async fn run_channels_list() -> Result<(), Error> {
    let (_, _, store) = start().await?;
    let store = &store;
    lambda_http::run(service_fn(move |req: Request| async move {
        let api = apigw::to_api_request(req);
        let resp = inbox_http::channels::channels_list(store, &api.identity).await;
        Ok::<Response<Body>, Error>(apigw::to_lambda_response(resp))
    }))
    .await
}

/// Runs `PUT /channels/{id}`.
pub async fn run_channel_put() -> Result<(), Error> {
    let (_, _, store) = start().await?;
    let store = &store;
    lambda_http::run(service_fn(move |req: Request| async move {
        let api = apigw::to_api_request(req);
        let resp = match api
            .path
            .strip_prefix("/channels/")
            .filter(|id| !id.contains('/'))
        {
            Some(id) => {
                inbox_http::channels::channel_put(store, &api.identity, id, &api.body).await
            }
            None => {
                inbox_http::ApiError::NotFound(format!("no route for {}", api.path)).to_response()
            }
        };
        Ok::<Response<Body>, Error>(apigw::to_lambda_response(resp))
    }))
    .await
}

/// The `(workspace_id, channel_id)` of `/webhooks/{kind}/{workspace_id}/{channel_id}`.
pub fn webhook_target(path: &str, kind: inbox_domain::ChannelKind) -> Option<(String, String)> {
    let rest = path.strip_prefix("/webhooks/")?;
    let mut parts = rest.split('/');
    let (k, ws, ch) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || inbox_ingest::kind_from_path(k) != Some(kind)
        || ws.is_empty()
        || ch.is_empty()
    {
        return None;
    }
    Some((ws.to_string(), ch.to_string()))
}

/// Runs one channel kind's webhook: deliveries verified by the channel's own
/// scheme (no JWT), and WhatsApp's subscription handshake on GET.
pub async fn run_webhook(kind: inbox_domain::ChannelKind) -> Result<(), Error> {
    let (cfg, _, store) = start().await?;
    let (store, cfg) = (&store, &cfg);
    lambda_http::run(service_fn(move |req: Request| async move {
        let api = apigw::to_api_request(req);
        Ok::<Response<Body>, Error>(apigw::to_lambda_response(
            webhook(store, cfg, kind, api).await,
        ))
    }))
    .await
}

/// Answers one webhook request.
pub async fn webhook<S: inbox_store::Store>(
    store: &S,
    cfg: &Config,
    kind: inbox_domain::ChannelKind,
    api: inbox_http::ApiRequest,
) -> inbox_http::ApiResponse {
    let Some((ws, channel)) = webhook_target(&api.path, kind) else {
        return inbox_http::ApiError::NotFound(format!("no route for {}", api.path)).to_response();
    };
    let reply = if api.method == http::Method::GET && kind == inbox_domain::ChannelKind::Whatsapp {
        inbox_ingest::handshake(store, &ws, &channel, &api.query).await
    } else if api.method == http::Method::POST {
        // The URL the provider signed: the configured public base, else the
        // host API Gateway was called on.
        let base = cfg.public_base_url.clone().unwrap_or_else(|| {
            let host = api
                .headers
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or_default();
            format!("https://{host}")
        });
        let query = (!api.query.is_empty()).then_some(api.query.as_str());
        let url = inbox_ingest::public_url(&base, kind, &ws, &channel, query);
        inbox_ingest::ingest(
            store,
            &inbox_store::SystemClock,
            kind,
            &ws,
            &channel,
            &api.headers,
            &api.body,
            &url,
        )
        .await
    } else {
        return inbox_http::ApiError::MethodNotAllowed(vec![http::Method::POST]).to_response();
    };
    inbox_http::channels::webhook_response(reply)
}

/// Runs the auto-close sweep (EventBridge schedule): queues every due timer.
pub async fn run_autoclose_sweep() -> Result<(), Error> {
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

/// Runs the auto-close worker (SQS): fires each timer, reporting partial batch failures.
pub async fn run_autoclose_worker() -> Result<(), Error> {
    use aws_lambda_events::event::sqs::SqsEvent;
    use lambda_runtime::LambdaEvent;
    let (_, _, store) = start().await?;
    let store = &store;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |ev: LambdaEvent<SqsEvent>| async move {
            let (resp, report) = inbox_autoclose::worker_with_report(
                store,
                &inbox_store::SystemClock,
                &inbox_domain::ExtractiveNotes,
                &ev.payload,
            )
            .await;
            tracing::info!(?report, "worker batch done");
            Ok::<_, Error>(resp)
        },
    ))
    .await
}
