//! `GET /conversations`: a view with filters, newest activity first.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::ConversationsList).await
}
