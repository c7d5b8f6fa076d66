//! `POST /conversations/{id}/notes`: an internal note on the timeline.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::ConversationNoteCreate).await
}
