//! `POST /conversations/{id}/favorite`: favorite for the caller.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::ConversationFavorite).await
}
