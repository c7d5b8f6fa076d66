//! `POST /conversations/{id}/assign`: assign a member.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::ConversationAssign).await
}
