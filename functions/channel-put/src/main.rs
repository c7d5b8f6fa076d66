//! `PUT /channels/{id}`: create or replace a channel (admin and owner).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    inbox_runtime::run_channel_put().await
}
