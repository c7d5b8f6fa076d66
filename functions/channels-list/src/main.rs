//! `GET /channels`: every channel of the workspace, without secrets.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_channels_list().await
}
