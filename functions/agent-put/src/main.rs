//! `PUT /agents/{id}`: create or replace an AI agent.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::AgentPut).await
}
