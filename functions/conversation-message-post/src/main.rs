//! `POST /conversations/{id}/messages`: a human reply, AI reply or integration message.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::ConversationMessagePost).await
}
