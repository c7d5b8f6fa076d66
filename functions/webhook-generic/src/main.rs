//! `POST /webhooks/generic/{workspace_id}/{channel_id}`: generic deliveries, verified by X-Inbox-Signature and its timestamp.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_webhook(inbox_domain::ChannelKind::Generic).await
}
