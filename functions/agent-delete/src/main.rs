//! `DELETE /agents/{id}`: remove an AI agent.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::AgentDelete).await
}
