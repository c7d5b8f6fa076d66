//! `POST /conversations/{id}/summary`: a summary of the latest messages.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::ConversationSummary).await
}
