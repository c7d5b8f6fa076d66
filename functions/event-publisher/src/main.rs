//! The table stream's consumer: outbox events to the EventBridge bus.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    inbox_runtime::run_event_publisher().await
}
