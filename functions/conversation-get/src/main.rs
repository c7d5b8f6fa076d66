//! `GET /conversations/{id}`: one conversation.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::ConversationGet).await
}
