//! The auto-close worker: fires each queued timer; failed records are retried, then dead-lettered.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    inbox_runtime::run_autoclose_worker().await
}
