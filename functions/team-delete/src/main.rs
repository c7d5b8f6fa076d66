//! `DELETE /teams/{id}`: remove a team and clear it from its conversations.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::TeamDelete).await
}
