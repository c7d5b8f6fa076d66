//! Outgoing webhook endpoints: `PUT` (the secret shown when made), list,
//! delete, rotate the secret, and the latest deliveries.

use crate::app::{App, Request};
use crate::conventions::require_fields;
use crate::problem::ApiError;
use crate::response::ApiResponse;
use crate::wire::{Latest, ListPage, WebhookDeliveryOut, WebhookEndpointIn, WebhookEndpointOut};
use http::StatusCode;
use inbox_store::Store;

/// `PUT /outgoing-webhooks/{id}`: 200 with the endpoint, and its secret when this made it.
pub(crate) async fn put<S: Store>(app: &App<S>, cx: Request) -> Result<ApiResponse, ApiError> {
    let body: WebhookEndpointIn = cx.json()?;
    require_fields(&[
        ("url", body.url.is_some()),
        ("events", body.events.is_some()),
    ])?;
    app.provision(cx.who.ws(), &cx.who.token).await?;
    let put = app
        .put_webhook_endpoint(
            cx.who.ws(),
            cx.id(),
            body.url.as_deref().unwrap_or_default(),
            body.events.as_deref().unwrap_or_default(),
            body.enabled,
        )
        .await?;
    Ok(ApiResponse::json(
        StatusCode::OK,
        &WebhookEndpointOut::of(&put.endpoint, put.created),
    ))
}

/// `GET /outgoing-webhooks`: every endpoint, by id, without secrets.
pub(crate) async fn list<S: Store>(app: &App<S>, cx: Request) -> Result<ApiResponse, ApiError> {
    let items: Vec<WebhookEndpointOut> = app
        .webhook_endpoints(cx.who.ws())
        .await?
        .iter()
        .map(|e| WebhookEndpointOut::of(e, false))
        .collect();
    Ok(ApiResponse::json(
        StatusCode::OK,
        &ListPage {
            items,
            next_cursor: None,
        },
    ))
}

/// `DELETE /outgoing-webhooks/{id}`: 204.
pub(crate) async fn delete<S: Store>(app: &App<S>, cx: Request) -> Result<ApiResponse, ApiError> {
    app.provision(cx.who.ws(), &cx.who.token).await?;
    app.delete_webhook_endpoint(cx.who.ws(), cx.id()).await?;
    Ok(ApiResponse::no_content())
}

/// `POST /outgoing-webhooks/{id}/rotate-secret`: 200 with the endpoint and its new secret.
pub(crate) async fn rotate_secret<S: Store>(
    app: &App<S>,
    cx: Request,
) -> Result<ApiResponse, ApiError> {
    app.provision(cx.who.ws(), &cx.who.token).await?;
    let endpoint = app.rotate_webhook_secret(cx.who.ws(), cx.id()).await?;
    Ok(ApiResponse::json(
        StatusCode::OK,
        &WebhookEndpointOut::of(&endpoint, true),
    ))
}

/// `GET /outgoing-webhooks/{id}/deliveries?limit=`: the latest, newest first.
pub(crate) async fn deliveries<S: Store>(
    app: &App<S>,
    cx: Request,
) -> Result<ApiResponse, ApiError> {
    let limit = cx.query.page()?.limit;
    let items: Vec<WebhookDeliveryOut> = app
        .webhook_deliveries(cx.who.ws(), cx.id(), limit)
        .await?
        .iter()
        .map(WebhookDeliveryOut::from)
        .collect();
    Ok(ApiResponse::json(StatusCode::OK, &Latest { items }))
}
