//! `POST /conversations/{id}/takeover`: move the assignment to the caller.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::ConversationTakeover).await
}
