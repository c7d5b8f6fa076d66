//! `GET /contacts/{id}/notes`: the contact's notes, oldest first.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::ContactNotesList).await
}
