//! The CSV export of a view: written page by page to any `io::Write` (a
//! response body up to `MAX_EXPORT_ROWS`, a file for an export job), every
//! cell neutralised against spreadsheet formulas.

use crate::app::App;
use crate::error::AppError;
use inbox_domain::views::check_export_rows;
use inbox_domain::{Conversation, ListQuery};
use inbox_store::{PageRequest, Store, StoreError};
use std::collections::HashMap;

/// Conversations read per page.
const PAGE: usize = 200;

/// The CSV export's header row, exactly as the contract gives it.
pub const EXPORT_HEADER: [&str; 16] = [
    "id",
    "contact_name",
    "contact_email",
    "contact_phone",
    "channel_id",
    "status",
    "assignee",
    "team",
    "agent",
    "labels",
    "created_at",
    "last_activity_at",
    "closed_at",
    "closing_source",
    "closing_category",
    "closing_summary",
];

/// A cell a spreadsheet could take for a formula (`=`, `+`, `-`, `@`, tab or
/// carriage return first) gets a leading `'`, so it opens as text (OWASP's
/// CSV injection rule).
pub fn neutralise_cell(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

/// One CSV row of the export, every cell neutralised.
fn export_row(c: &Conversation, email: Option<&str>, phone: Option<&str>) -> [String; 16] {
    export_cells(c, email, phone).map(neutralise_cell)
}

/// The export's cells as stored.
fn export_cells(c: &Conversation, email: Option<&str>, phone: Option<&str>) -> [String; 16] {
    let opt = |s: Option<&str>| s.unwrap_or_default().to_string();
    let note = c.closing.as_ref().and_then(|cl| cl.note.as_ref());
    [
        c.id.clone(),
        opt(c.contact.name.as_deref()),
        opt(email),
        opt(phone),
        opt(c.channel_id.as_deref()),
        c.status.as_str().to_string(),
        opt(c.assignee.as_ref().map(|a| a.id.as_str())),
        opt(c.team.as_ref().map(|t| t.id.as_str())),
        opt(c.agent.as_ref().map(|a| a.id.as_str())),
        c.labels.join(";"),
        c.created_at.to_rfc3339(),
        c.last_activity_at.to_rfc3339(),
        c.closing
            .as_ref()
            .map(|cl| cl.at.to_rfc3339())
            .unwrap_or_default(),
        c.closing
            .as_ref()
            .map(|cl| match cl.source {
                inbox_domain::model::ClosingSource::Manual => "manual",
                inbox_domain::model::ClosingSource::AutoClose => "auto_close",
            })
            .unwrap_or_default()
            .to_string(),
        opt(note.and_then(|n| n.category.as_deref())),
        opt(note.and_then(|n| n.summary.as_deref())),
    ]
}

fn csv_error(e: impl std::fmt::Display) -> AppError {
    AppError::Store(StoreError::Corrupt(format!("csv: {e}")))
}

impl<S: Store> App<S> {
    /// Writes the CSV of `query` as `caller_id` sees it to `out` and returns
    /// `out` with the row count. Memory stays bounded: one page of
    /// conversations and its contacts (one batch read per page) at a time;
    /// past `max_rows` it stops with `export_too_large`.
    pub async fn write_export<W: std::io::Write>(
        &self,
        workspace_id: &str,
        caller_id: &str,
        query: &ListQuery,
        out: W,
        max_rows: usize,
    ) -> Result<(W, usize), AppError> {
        let mut csv = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(out);
        csv.write_record(EXPORT_HEADER).map_err(csv_error)?;
        let mut rows = 0usize;
        let mut page = PageRequest::first(PAGE);
        loop {
            let found = self
                .store()
                .list_conversations(workspace_id, query, caller_id, &page)
                .await?;
            rows += found.items.len();
            check_export_rows(rows, max_rows)?;
            let ids: Vec<String> = found.items.iter().map(|c| c.contact.id.clone()).collect();
            let contacts: HashMap<String, (Option<String>, Option<String>)> = self
                .store()
                .get_contacts(workspace_id, &ids)
                .await?
                .into_iter()
                .map(|ct| (ct.id, (ct.email, ct.phone)))
                .collect();
            for c in &found.items {
                let (email, phone) = contacts
                    .get(&c.contact.id)
                    .map(|(e, p)| (e.as_deref(), p.as_deref()))
                    .unwrap_or_default();
                csv.write_record(export_row(c, email, phone))
                    .map_err(csv_error)?;
            }
            match found.next_cursor {
                Some(next) => page.cursor = Some(next),
                None => break,
            }
        }
        let out = csv.into_inner().map_err(csv_error)?;
        Ok((out, rows))
    }
}

#[cfg(test)]
mod tests {
    use super::neutralise_cell;

    #[test]
    fn formula_cells_open_as_text() {
        for (cell, want) in [
            ("=HYPERLINK(\"http://evil.example\",\"x\")", "'=HYPERLINK(\"http://evil.example\",\"x\")"),
            ("+1", "'+1"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("Ann", "Ann"),
            ("", ""),
        ] {
            assert_eq!(neutralise_cell(cell.to_string()), want);
        }
    }
}
