//! Channel webhooks: no token, the channel's own signature instead. WhatsApp's
//! subscription handshake answers `GET`; deliveries are `POST`s.

use crate::channels::webhook_response;
use crate::response::{ApiRequest, ApiResponse};
use crate::routes::{Action, PathParams};
use inbox_app::App;
use inbox_domain::ChannelKind;
use inbox_store::Store;

/// Serves a routed webhook request for a channel of `kind`.
pub(crate) async fn serve<S: Store>(
    app: &App<S>,
    action: Action,
    kind: ChannelKind,
    params: &PathParams,
    req: ApiRequest,
) -> ApiResponse {
    let ws = params.get("workspace_id").unwrap_or_default();
    let channel = params.get("channel_id").unwrap_or_default();
    let reply = if action == Action::WebhookWhatsappHandshake {
        inbox_ingest::handshake(app.store(), ws, channel, &req.query).await
    } else {
        let url = inbox_ingest::public_url(
            &signed_base(app, &req),
            kind,
            ws,
            channel,
            Some(req.query.as_str()),
        );
        inbox_ingest::ingest(app, kind, ws, channel, &req.headers, &req.body, &url).await
    };
    webhook_response(reply)
}

/// The base of the URL the provider signed: the configured public base URL,
/// else the host the request was sent to (over HTTPS, as API Gateway serves it).
fn signed_base<S>(app: &App<S>, req: &ApiRequest) -> String {
    match app.public_base_url() {
        Some(base) => base.to_string(),
        None => {
            let host = req
                .headers
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or_default();
            format!("https://{host}")
        }
    }
}
