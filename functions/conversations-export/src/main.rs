//! `GET /conversations/export.csv`: the same list as CSV, every page.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::ConversationsExport).await
}
