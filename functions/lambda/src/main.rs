//! Every Lambda function of the product is this binary: `INBOX_FUNCTION`
//! (set by the template) names the catalogue entry an instance runs.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    inbox_runtime::run_from_env().await
}
