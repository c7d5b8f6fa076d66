//! `GET /conversations/{id}/messages`: messages, oldest first.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::ConversationMessagesList).await
}
