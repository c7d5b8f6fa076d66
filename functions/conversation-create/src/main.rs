//! `POST /conversations`: start a conversation with a contact.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::ConversationCreate).await
}
