//! `PUT /channels/{id}` and `GET /channels`: channel configuration, whose
//! rules live in `inbox-ingest` beside the webhooks that use it.

use crate::app::{App, Request};
use crate::channels::config_problem;
use crate::problem::ApiError;
use crate::response::ApiResponse;
use http::StatusCode;
use inbox_store::Store;

/// `GET /channels`: every channel of the caller's workspace, never with secrets.
pub(crate) async fn list<S: Store>(app: &App<S>, cx: Request) -> Result<ApiResponse, ApiError> {
    Ok(
        match inbox_ingest::list_channels(app.store(), cx.who.token.role, cx.who.ws()).await {
            Ok(list) => ApiResponse::json(StatusCode::OK, &list),
            Err(e) => config_problem(&e),
        },
    )
}

/// `PUT /channels/{id}` (admin and owner): create or replace a channel.
pub(crate) async fn put<S: Store>(app: &App<S>, cx: Request) -> Result<ApiResponse, ApiError> {
    let resp = match inbox_ingest::put_channel(
        app.store(),
        cx.who.token.role,
        cx.who.ws(),
        cx.id(),
        &cx.body,
    )
    .await
    {
        Ok(view) => ApiResponse::json(StatusCode::OK, &view),
        Err(e) => config_problem(&e),
    };
    Ok(resp)
}
