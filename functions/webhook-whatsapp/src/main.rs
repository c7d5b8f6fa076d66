//! `GET and POST /webhooks/whatsapp/{workspace_id}/{channel_id}`: the subscription handshake and deliveries, verified by X-Hub-Signature-256.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_webhook(inbox_domain::ChannelKind::Whatsapp).await
}
