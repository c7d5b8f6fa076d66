//! `POST /conversations/{id}/unread`: mark unread for the caller.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::ConversationUnread).await
}
