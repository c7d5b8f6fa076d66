//! Reports: `GET /reports/conversations` and its CSV.

use crate::app::{App, Request};
use crate::problem::ApiError;
use crate::response::ApiResponse;
use bytes::Bytes;
use http::StatusCode;
use http::header::{self, HeaderValue};
use inbox_app::report_csv;
use inbox_domain::reports::ReportQuery;
use inbox_store::Store;

/// `GET /reports/conversations?from=&to=&group_by=`: rows and totals.
pub(crate) async fn conversations<S: Store>(
    app: &App<S>,
    cx: Request,
) -> Result<ApiResponse, ApiError> {
    let query = ReportQuery::parse(cx.query.pairs())?;
    let report = app.conversation_report(cx.who.ws(), &query).await?;
    Ok(ApiResponse::json(StatusCode::OK, &report))
}

/// `GET /reports/conversations.csv?…`: the same rows, a header naming the grouping.
pub(crate) async fn conversations_csv<S: Store>(
    app: &App<S>,
    cx: Request,
) -> Result<ApiResponse, ApiError> {
    let query = ReportQuery::parse(cx.query.pairs())?;
    let report = app.conversation_report(cx.who.ws(), &query).await?;
    let bytes = report_csv(&report, query.group_by)?;
    let mut resp = ApiResponse::text(
        StatusCode::OK,
        "text/csv; charset=utf-8",
        Bytes::from(bytes),
    );
    let name = format!(
        "attachment; filename=\"conversations-by-{}-{}-{}.csv\"",
        query.group_by.as_str(),
        query.from,
        query.to
    );
    if let Ok(v) = HeaderValue::from_str(&name) {
        resp.headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}
