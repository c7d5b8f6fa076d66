//! `POST /conversations/{id}/closing-note/draft`: what auto-generation would write now.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::ConversationClosingNoteDraft).await
}
