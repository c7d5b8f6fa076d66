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

/// Runs the function that serves one API action: builds its dependencies once,
/// then answers every invocation through the shared handler.
pub async fn run_action(action: Action) -> Result<(), Error> {
    init_tracing();
    let cfg = Config::from_env()?;
    let sdk = aws_config().await;
    let app = App::new(lambda_store(&sdk, &cfg).await);
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
