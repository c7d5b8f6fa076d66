//! `POST /conversations/{id}/unsnooze`: clear the snooze.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::ConversationUnsnooze).await
}
