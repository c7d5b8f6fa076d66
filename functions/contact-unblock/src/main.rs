//! `POST /contacts/{id}/unblock`: unblock the contact.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::ContactUnblock).await
}
