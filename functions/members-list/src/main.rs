//! `GET /members`: the "Search members…" list (members and AI agents).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::MembersList).await
}
