//! `POST /conversations/{id}/unassign`: clear the assignee.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::ConversationUnassign).await
}
