//! `GET /conversations/{id}/transcript`: the messages as plain text.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::ConversationTranscript).await
}
