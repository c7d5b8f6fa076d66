//! `POST /conversations/{id}/agent-session/end`: end the active AI session.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::ConversationAgentSessionEnd).await
}
