//! The auto-close sweep: every minute, due timers go to the SQS queue.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    inbox_runtime::run_autoclose_sweep().await
}
