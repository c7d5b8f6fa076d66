//! `DELETE /members/{id}`: remove a member and unassign their conversations.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::MemberDelete).await
}
