//! `POST /webhooks/telegram/{workspace_id}/{channel_id}`: Telegram updates, verified by the secret-token header.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_webhook(inbox_domain::ChannelKind::Telegram).await
}
