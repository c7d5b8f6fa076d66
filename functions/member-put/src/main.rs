//! `PUT /members/{id}`: create or replace a member.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::MemberPut).await
}
