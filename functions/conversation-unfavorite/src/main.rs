//! `DELETE /conversations/{id}/favorite`: remove the caller's favorite.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::ConversationUnfavorite).await
}
