//! `DELETE /conversations/{id}/agent`: remove the AI agent.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::ConversationAgentUnassign).await
}
