//! `GET /conversations/{id}/timeline`: timeline events in commit order.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::ConversationTimeline).await
}
