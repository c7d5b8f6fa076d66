//! `POST /conversations/{id}/labels`: add and remove labels.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::ConversationLabels).await
}
