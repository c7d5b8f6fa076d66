//! `PATCH /contacts/{id}`: change name, email or phone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_action(inbox_http::Action::ContactPatch).await
}
