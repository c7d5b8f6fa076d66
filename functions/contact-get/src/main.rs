//! `GET /contacts/{id}`: one contact.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::ContactGet).await
}
