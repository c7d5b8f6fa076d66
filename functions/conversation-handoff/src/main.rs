//! `POST /conversations/{id}/handoff`: ask for a human.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::ConversationHandoff).await
}
