//! `POST /webhooks/twilio/{workspace_id}/{channel_id}`: Twilio deliveries, verified by X-Twilio-Signature.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_webhook(inbox_domain::ChannelKind::Twilio).await
}
