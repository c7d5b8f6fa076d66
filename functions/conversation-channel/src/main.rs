//! `POST /conversations/{id}/channel`: move to another channel.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::ConversationChannel).await
}
