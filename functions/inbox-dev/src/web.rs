//! The web inbox on the dev server: the built page (`web/dist`, see
//! `web/README.md`) at `/`, its `config.json` (the API and live updates on
//! this same origin, dev sign-in), and the dev sign-in's list of demo
//! identities. None of this is part of the contract: in AWS the page is a
//! static site and its `config.json` is written at deploy time.

use crate::demo::SignInIdentity;
use axum::Json;
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower_http::services::{ServeDir, ServeFile};

/// What the page's routes need.
#[derive(Debug, Clone, Default)]
pub struct WebPage {
    /// The built page's folder (`index.html` and `assets/`).
    pub dir: PathBuf,
    /// The identities the dev sign-in lists (the demo's, with `--demo`).
    pub identities: Vec<SignInIdentity>,
}

impl WebPage {
    fn is_built(&self) -> bool {
        self.dir.join("index.html").is_file()
    }
}

/// `/`, `/assets/…`, `/config.json` and `/dev/identities`, merged into the
/// server's router before its API fallback.
pub fn routes<St: Clone + Send + Sync + 'static>(page: Arc<WebPage>) -> Router<St> {
    let config =
        get(|| async { Json(json!({"api_url": "", "live_url": "", "auth": {"kind": "dev"}})) });
    let listed = Arc::clone(&page);
    let identities = get(move || {
        let page = Arc::clone(&listed);
        async move { Json(json!({"items": page.identities})) }
    });
    let router = Router::new()
        .route("/config.json", config)
        .route("/dev/identities", identities);
    if page.is_built() {
        router
            .route_service("/", ServeFile::new(page.dir.join("index.html")))
            .nest_service("/assets", ServeDir::new(page.dir.join("assets")))
    } else {
        let dir = page.dir.clone();
        router.route("/", get(move || not_built(dir.clone())))
    }
}

/// `/` before the page is built: what to run, rather than an empty page.
async fn not_built(dir: PathBuf) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!(
            "The web inbox is not built ({} has no index.html).\n\
             Run scripts/dev.sh, or build it: npm --prefix web ci && npm --prefix web run build\n",
            display(&dir)
        ),
    )
        .into_response()
}

fn display(p: &Path) -> String {
    p.display().to_string()
}
