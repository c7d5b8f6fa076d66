//! `POST /conversations/{id}/status`: open, close (with a closing note) or unset.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::ConversationStatus).await
}
