//! `POST /contacts/{id}/notes`: an internal note on the contact.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::ContactNoteCreate).await
}
