//! API keys: create (the secret shown once), list, revoke.

use super::page_by_id;
use crate::app::{App, Request};
use crate::conventions::require_fields;
use crate::problem::ApiError;
use crate::response::ApiResponse;
use crate::wire::{ApiKeyCreatedOut, ApiKeyIn, ApiKeyOut, ListPage};
use http::StatusCode;
use inbox_store::Store;

/// `POST /api-keys`: 201 with the key and its secret.
pub(crate) async fn create<S: Store>(app: &App<S>, cx: Request) -> Result<ApiResponse, ApiError> {
    let body: ApiKeyIn = cx.json()?;
    require_fields(&[
        ("name", body.name.is_some()),
        ("role", body.role.is_some()),
        ("subject", body.subject.is_some()),
    ])?;
    app.provision(cx.who.ws(), &cx.who.token).await?;
    let created = app
        .create_api_key(
            cx.who.ws(),
            body.name.as_deref().unwrap_or_default(),
            body.role.as_deref().unwrap_or_default(),
            body.subject.as_deref().unwrap_or_default(),
        )
        .await?;
    Ok(ApiResponse::json(
        StatusCode::CREATED,
        &ApiKeyCreatedOut {
            key: ApiKeyOut::from(&created.key),
            secret: created.secret,
        },
    ))
}

/// `GET /api-keys`: keys by id, paged, without secrets.
pub(crate) async fn list<S: Store>(app: &App<S>, cx: Request) -> Result<ApiResponse, ApiError> {
    let page = cx.query.page()?;
    let keys: Vec<ApiKeyOut> = app
        .api_keys(cx.who.ws())
        .await?
        .iter()
        .map(ApiKeyOut::from)
        .collect();
    let (items, next_cursor) = page_by_id(keys, |k| &k.id, &page)?;
    Ok(ApiResponse::json(
        StatusCode::OK,
        &ListPage { items, next_cursor },
    ))
}

/// `DELETE /api-keys/{id}`: 204; the key is refused from the next request on.
pub(crate) async fn revoke<S: Store>(app: &App<S>, cx: Request) -> Result<ApiResponse, ApiError> {
    app.provision(cx.who.ws(), &cx.who.token).await?;
    app.revoke_api_key(cx.who.ws(), cx.id()).await?;
    Ok(ApiResponse::no_content())
}
