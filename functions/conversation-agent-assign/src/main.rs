//! `POST /conversations/{id}/agent`: hand the conversation to an AI agent.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::ConversationAgentAssign).await
}
