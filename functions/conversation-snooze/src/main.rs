//! `POST /conversations/{id}/snooze`: snooze until a future time.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::ConversationSnooze).await
}
