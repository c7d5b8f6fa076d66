//! `POST /conversations/{id}/team`: set or clear the team.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::ConversationTeam).await
}
