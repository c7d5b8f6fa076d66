//! `GET /settings`: the workspace's settings document.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::SettingsGet).await
}
