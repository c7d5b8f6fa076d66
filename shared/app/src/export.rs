//! The CSV export of a view: written page by page to any `io::Write` (a
//! response body up to `MAX_EXPORT_ROWS`, a file for an export job), every
//! cell neutralised against spreadsheet formulas.

use crate::app::App;
use crate::error::AppError;
use crate::execute::Token;
use crate::jobs::{JobMessage, StepOutcome, StepReport};
use async_trait::async_trait;
use inbox_domain::views::{MAX_EXPORT_JOB_ROWS, check_export_rows};
use inbox_domain::{Conversation, DomainError, IdKind, Job, JobKind, JobStarter, ListQuery};
use inbox_store::{Commit, JobWrite, PageRequest, Store, StoreError};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Where export files are kept and how they are handed out (S3 in AWS, the
/// dev server's data folder locally).
#[async_trait]
pub trait ExportFiles: Send + Sync {
    /// Keeps the finished file at `path` as export `id` of the workspace
    /// (again for the same id: replaced).
    async fn store(&self, workspace_id: &str, id: &str, path: &Path) -> Result<(), AppError>;
    /// A time-limited link to export `id`'s file.
    async fn link(&self, workspace_id: &str, id: &str) -> Result<String, AppError>;
}

/// An export job as its owner sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportStatus {
    /// The job (`done` is the rows written).
    pub job: Job,
    /// The file's time-limited link, once it is done.
    pub url: Option<String>,
}

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

pub(crate) fn csv_error(e: impl std::fmt::Display) -> AppError {
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

impl<S: Store> App<S> {
    /// Starts the export of the view and filters in `pairs` (as the list's
    /// query parameters, without paging) as a job: validated now, written to
    /// a file by a job step.
    pub async fn start_export(
        &self,
        workspace_id: &str,
        token: &Token,
        pairs: Vec<(String, String)>,
    ) -> Result<Job, AppError> {
        ListQuery::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
        if self.export_files().is_none() {
            return Err(AppError::Unsupported("export files"));
        }
        let caller = self.provisioned_caller(workspace_id, token).await?;
        let subject =
            serde_json::to_string(&pairs).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let job = Job::start(
            self.new_ids().new_id(IdKind::Export),
            JobKind::ConversationExport,
            &subject,
            JobStarter {
                id: caller.id,
                role: caller.role,
                name: caller.name,
            },
            0,
            None,
            self.clock().now(),
        );
        let mut commit = Commit::new(workspace_id);
        commit.job = Some(JobWrite {
            job: job.clone(),
            expected_version: None,
        });
        self.commit(commit).await?;
        let message = JobMessage {
            workspace_id: workspace_id.to_string(),
            job_id: job.id.clone(),
        };
        match self.job_queue() {
            Some(queue) => queue.enqueue(&message).await?,
            None => {
                self.run_job(workspace_id, &job.id).await?;
            }
        }
        Ok(job)
    }

    /// Export `id` as `caller_id` may read it, and once done its file's
    /// link; `not_found` for any other job, someone else's export, or one
    /// that is not there.
    pub async fn export_status(
        &self,
        workspace_id: &str,
        id: &str,
        caller_id: &str,
    ) -> Result<ExportStatus, AppError> {
        let job = match self.job(workspace_id, id).await {
            Ok(j) if j.export_readable_by(caller_id) => j,
            Ok(_) | Err(AppError::NotFound(_)) => return Err(AppError::NotFound("export")),
            Err(e) => return Err(e),
        };
        let url = match (job.status, self.export_files()) {
            (inbox_domain::JobStatus::Done, Some(files)) => {
                Some(files.link(workspace_id, id).await?)
            }
            _ => None,
        };
        Ok(ExportStatus { job, url })
    }

    /// The export job's one step: the whole file, written to a temporary
    /// file (bounded memory), then kept by [`ExportFiles`]. Run again after
    /// a crash it writes the same file again: nothing is counted twice.
    pub(crate) async fn export_step(
        &self,
        workspace_id: &str,
        job: &Job,
    ) -> Result<StepReport, AppError> {
        let finished = StepReport {
            outcome: StepOutcome::Finished,
            figures: Default::default(),
        };
        let Some(files) = self.export_files() else {
            return Err(AppError::Unsupported("export files"));
        };
        let pairs: Vec<(String, String)> =
            serde_json::from_str(&job.subject).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let query = ListQuery::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
        let path = temp_path(&job.id);
        let written = self
            .write_file(workspace_id, &job.started_by.id, &query, &path)
            .await;
        let outcome = match written {
            Ok(rows) => files
                .store(workspace_id, &job.id, &path)
                .await
                .map(|()| rows),
            Err(e) => Err(e),
        };
        let _ = std::fs::remove_file(&path);
        let now = self.clock().now();
        let next = match outcome {
            Ok(rows) => job.advanced(rows as u64, None, now).finished(now),
            Err(e @ AppError::Domain(DomainError::ExportTooLarge(_))) => {
                job.failed(&e.to_string(), now)
            }
            Err(e) => return Err(e),
        };
        let mut commit = Commit::new(workspace_id);
        commit.job = Some(JobWrite {
            job: next,
            expected_version: Some(job.version),
        });
        match self.commit(commit).await {
            // Another delivery finished it meanwhile.
            Ok(()) | Err(StoreError::Conflict) => Ok(finished),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes the export to a new file at `path`; the rows written.
    async fn write_file(
        &self,
        workspace_id: &str,
        caller_id: &str,
        query: &ListQuery,
        path: &Path,
    ) -> Result<usize, AppError> {
        let io = |e: std::io::Error| {
            AppError::Store(StoreError::Unavailable(format!("export file: {e}")))
        };
        let file = std::fs::File::create(path).map_err(io)?;
        let (out, rows) = self
            .write_export(
                workspace_id,
                caller_id,
                query,
                std::io::BufWriter::new(file),
                MAX_EXPORT_JOB_ROWS,
            )
            .await?;
        out.into_inner()
            .map_err(|e| io(e.into_error()))?
            .sync_all()
            .map_err(io)?;
        Ok(rows)
    }
}

/// Where an export is written before it is kept (Lambda: its `/tmp`).
fn temp_path(id: &str) -> PathBuf {
    std::env::temp_dir().join(format!("inbox-{id}.csv"))
}

#[cfg(test)]
mod tests {
    use super::neutralise_cell;

    #[test]
    fn formula_cells_open_as_text() {
        for (cell, want) in [
            (
                "=HYPERLINK(\"http://evil.example\",\"x\")",
                "'=HYPERLINK(\"http://evil.example\",\"x\")",
            ),
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
