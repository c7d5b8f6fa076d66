//! Work that touches many conversations. A request changes the first part
//! itself ([`FIRST_PART`] conversations, in transactions within the store's
//! limits); the rest continues as a [`Job`] whose steps arrive through a
//! [`JobQueue`]. Every step re-reads the job, and each transaction that
//! changes conversations also moves the job's version and count, so a crash
//! or a duplicate delivery repeats nothing and skips nothing.

use crate::app::App;
use crate::error::AppError;
use crate::execute::Token;
use async_trait::async_trait;
use inbox_domain::jobs::{FIRST_PART, Walk};
use inbox_domain::model::{Contact, Conversation};
use inbox_domain::views::{Filters, ListQuery, View};
use inbox_domain::{Actor, Caller, Command, IdKind, Job, JobKind, JobStarter, Write};
use inbox_store::{CommandContext, Commit, JobWrite, PageRequest, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Conversations read per batch (one page of the store).
const BATCH: usize = 100;
/// Conversations one queue delivery changes before it hands on to the next.
pub const STEP_CHANGES: u64 = 1_000;
/// Conversations one request or step reads at most (a cursor walk reads many
/// it does not change), so that each stays well inside its time limit.
const READ_BUDGET: usize = 5_000;

/// A queue message: continue job `job_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobMessage {
    /// Workspace.
    pub workspace_id: String,
    /// The job.
    pub job_id: String,
}

/// Where job steps go to run later (SQS in AWS, a task in the dev server).
#[async_trait]
pub trait JobQueue: Send + Sync {
    /// Queues one step; an error means it was not queued.
    async fn enqueue(&self, message: &JobMessage) -> Result<(), AppError>;
}

/// What a request's first part did.
#[derive(Debug, Clone, PartialEq)]
pub struct FanOut {
    /// The request's own writes.
    pub figures: FanOutFigures,
    /// The job that continues the rest, if anything was left.
    pub job: Option<Job>,
}

/// What one queue delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepReport {
    /// Whether more is queued.
    pub outcome: StepOutcome,
    /// The step's writes.
    pub figures: FanOutFigures,
}

/// Whether a job goes on after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepOutcome {
    /// The job is done or failed (or was already): nothing more is queued.
    Finished,
    /// Part of it is done; the next step is queued.
    Continued,
}

/// Figures of the work done, for benchmarks and logs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FanOutFigures {
    /// Conversations changed.
    pub changed: u64,
    /// Transactions committed.
    pub transactions: u64,
    /// Items in the largest one.
    pub largest_transaction: usize,
}

impl FanOutFigures {
    /// Both counted together.
    pub fn add(&mut self, other: FanOutFigures) {
        self.changed += other.changed;
        self.transactions += other.transactions;
        self.largest_transaction = self.largest_transaction.max(other.largest_transaction);
    }
}

/// One batch: what it changed and where the walk goes on.
struct Batch {
    figures: FanOutFigures,
    /// The cursor after this batch (cursor walks).
    cursor: Option<String>,
    /// Nothing is left after it.
    exhausted: bool,
    /// Conversations read.
    read: usize,
}

impl<S> App<S> {
    /// Continues fan-out work through `queue` instead of inside the request.
    pub fn with_job_queue(mut self, queue: Arc<dyn JobQueue>) -> Self {
        self.set_job_queue(queue);
        self
    }
}

impl<S: Store> App<S> {
    /// The request's part of `kind` on `subject`, as `token`: changes up to
    /// [`FIRST_PART`] conversations and, when more are left, starts a job and
    /// queues its first step (with no queue, runs the job to its end here).
    pub async fn fan_out(
        &self,
        workspace_id: &str,
        token: &Token,
        kind: JobKind,
        subject: &str,
    ) -> Result<FanOut, AppError> {
        let caller = self.directory_caller(workspace_id, token).await?;
        self.fan_out_as(workspace_id, &caller, kind, subject).await
    }

    /// [`App::fan_out`] for a caller already resolved from the directory.
    pub(crate) async fn fan_out_as(
        &self,
        workspace_id: &str,
        caller: &Caller,
        kind: JobKind,
        subject: &str,
    ) -> Result<FanOut, AppError> {
        let mut cursor = None;
        let mut figures = FanOutFigures::default();
        let mut read = 0;
        loop {
            let batch = self
                .batch(workspace_id, caller, kind, subject, cursor.clone(), None)
                .await?;
            figures.add(batch.figures);
            read += batch.read;
            cursor = batch.cursor;
            if batch.exhausted {
                return Ok(FanOut { figures, job: None });
            }
            if figures.changed >= FIRST_PART as u64 || read >= READ_BUDGET {
                break;
            }
        }
        let starter = JobStarter {
            id: caller.id.clone(),
            role: caller.role,
            name: caller.name.clone(),
        };
        let id = self.new_ids().new_id(IdKind::Job);
        let now = self.clock().now();
        let job = Job::start(id, kind, subject, starter, figures.changed, cursor, now);
        let mut commit = Commit::new(workspace_id);
        commit.job = Some(JobWrite {
            job: job.clone(),
            expected_version: None,
        });
        self.commit(commit).await?;
        match self.job_queue() {
            Some(queue) => {
                queue
                    .enqueue(&JobMessage {
                        workspace_id: workspace_id.to_string(),
                        job_id: job.id.clone(),
                    })
                    .await?;
            }
            None => {
                while self.run_job(workspace_id, &job.id).await?.outcome == StepOutcome::Continued {
                }
            }
        }
        Ok(FanOut {
            figures,
            job: Some(job),
        })
    }

    /// One queue delivery of job `job_id`: changes up to [`STEP_CHANGES`]
    /// conversations, then queues the next step or marks the job done. A job
    /// already finished does nothing; one whose work is refused is marked failed.
    pub async fn run_job(&self, workspace_id: &str, job_id: &str) -> Result<StepReport, AppError> {
        let policy = *self.retry();
        let mut attempt = 0;
        let mut figures = FanOutFigures::default();
        let mut step_read = 0;
        let finished = |figures| StepReport {
            outcome: StepOutcome::Finished,
            figures,
        };
        loop {
            let job = self.job(workspace_id, job_id).await?;
            if job.is_finished() {
                return Ok(finished(figures));
            }
            if job.kind == JobKind::ConversationExport {
                return self.export_step(workspace_id, &job).await;
            }
            let caller = Caller {
                id: job.started_by.id.clone(),
                role: job.started_by.role,
                name: job.started_by.name.clone(),
            };
            let batch = match self
                .batch(
                    workspace_id,
                    &caller,
                    job.kind,
                    &job.subject,
                    job.cursor.clone(),
                    Some(&job),
                )
                .await
            {
                Ok(b) => b,
                // The job moved meanwhile (a duplicate delivery): read it again.
                Err(AppError::Store(StoreError::Conflict)) if attempt + 1 < policy.max_attempts => {
                    policy.pause(attempt).await;
                    attempt += 1;
                    continue;
                }
                Err(e) if e.is_transient() => return Err(e),
                Err(e) => {
                    tracing::error!(job_id, error = %e, "job failed");
                    let failed = job.failed(&e.to_string(), self.clock().now());
                    self.save_job(workspace_id, failed, job.version).await?;
                    return Ok(finished(figures));
                }
            };
            figures.add(batch.figures);
            step_read += batch.read;
            if batch.exhausted {
                let now_job = self.job(workspace_id, job_id).await?;
                if !now_job.is_finished() {
                    let done = now_job.finished(self.clock().now());
                    match self.save_job(workspace_id, done, now_job.version).await {
                        Ok(()) | Err(AppError::Store(StoreError::Conflict)) => {}
                        Err(e) => return Err(e),
                    }
                }
                return Ok(finished(figures));
            }
            if figures.changed >= STEP_CHANGES || step_read >= READ_BUDGET {
                if let Some(queue) = self.job_queue() {
                    queue
                        .enqueue(&JobMessage {
                            workspace_id: workspace_id.to_string(),
                            job_id: job_id.to_string(),
                        })
                        .await?;
                }
                return Ok(StepReport {
                    outcome: StepOutcome::Continued,
                    figures,
                });
            }
        }
    }

    /// Job `id`, or `not_found`.
    pub async fn job(&self, workspace_id: &str, id: &str) -> Result<Job, AppError> {
        self.store()
            .get_job(workspace_id, id)
            .await?
            .ok_or(AppError::NotFound("job"))
    }

    /// Writes `job` if it is still at `expected`.
    async fn save_job(&self, workspace_id: &str, job: Job, expected: u64) -> Result<(), AppError> {
        let mut commit = Commit::new(workspace_id);
        commit.job = Some(JobWrite {
            job,
            expected_version: Some(expected),
        });
        Ok(self.commit(commit).await?)
    }

    /// Reads one page of what is left, decides each conversation that still
    /// needs it and commits them packed. With a job, every transaction also
    /// moves the job (its count, and at the last its cursor), guarded by its
    /// version; without one (the request's part), a lost race re-decides the
    /// batch. A conflict with a job is returned: the caller reads the job again.
    async fn batch(
        &self,
        workspace_id: &str,
        caller: &Caller,
        kind: JobKind,
        subject: &str,
        cursor: Option<String>,
        job: Option<&Job>,
    ) -> Result<Batch, AppError> {
        let policy = *self.retry();
        let mut figures = FanOutFigures::default();
        for attempt in 0..policy.max_attempts {
            policy.pause(attempt).await;
            let page = self
                .candidates(workspace_id, caller, kind, subject, cursor.clone())
                .await?;
            let contact = match kind {
                JobKind::ContactRefresh => Some(
                    self.store()
                        .get_contact(workspace_id, subject)
                        .await?
                        .ok_or(AppError::NotFound("contact"))?,
                ),
                _ => None,
            };
            let read = page.items.len();
            let writes = self
                .decide_all(
                    workspace_id,
                    caller,
                    kind,
                    subject,
                    &page.items,
                    contact.as_ref(),
                )
                .await?;
            let next_cursor = match kind.walk() {
                Walk::Drain => None,
                Walk::Cursor => page.next_cursor.clone(),
            };
            let exhausted = match kind.walk() {
                Walk::Drain => page.items.is_empty(),
                Walk::Cursor => page.next_cursor.is_none(),
            };
            if kind.walk() == Walk::Drain && writes.is_empty() && !page.items.is_empty() {
                // Every listed conversation still needs the change, so this
                // would read the same page for ever.
                return Err(AppError::Store(StoreError::Corrupt(format!(
                    "{} made no progress on {read} listed conversations",
                    kind.as_str()
                ))));
            }
            match self
                .commit_batch(workspace_id, writes, job, next_cursor.clone(), &mut figures)
                .await
            {
                Ok(()) => {
                    return Ok(Batch {
                        figures,
                        cursor: next_cursor,
                        exhausted,
                        read,
                    });
                }
                Err(StoreError::Conflict) if job.is_none() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Contended(policy.max_attempts))
    }

    /// The next page of conversations `kind` may still have to change.
    async fn candidates(
        &self,
        workspace_id: &str,
        caller: &Caller,
        kind: JobKind,
        subject: &str,
        cursor: Option<String>,
    ) -> Result<inbox_store::Page<Conversation>, AppError> {
        let page = PageRequest {
            limit: BATCH,
            cursor,
        };
        let store = self.store();
        let found = match kind {
            JobKind::MemberRemoval => {
                let query = ListQuery {
                    view: View::AssignedToMe,
                    filters: Filters::default(),
                };
                store
                    .list_conversations(workspace_id, &query, subject, &PageRequest::first(BATCH))
                    .await?
            }
            JobKind::TeamRemoval => {
                let query = ListQuery {
                    view: View::All,
                    filters: Filters {
                        team: Some(subject.to_string()),
                        ..Filters::default()
                    },
                };
                store
                    .list_conversations(
                        workspace_id,
                        &query,
                        &caller.id,
                        &PageRequest::first(BATCH),
                    )
                    .await?
            }
            JobKind::AgentRemoval => {
                let query = ListQuery {
                    view: View::All,
                    filters: Filters::default(),
                };
                store
                    .list_conversations(workspace_id, &query, &caller.id, &page)
                    .await?
            }
            JobKind::ContactRefresh => {
                store
                    .conversations_of_contact(workspace_id, subject, &page)
                    .await?
            }
            // Changes no conversation (its step is `export_step`).
            JobKind::ConversationExport => inbox_store::Page {
                items: Vec::new(),
                next_cursor: None,
            },
        };
        Ok(found)
    }

    /// The writes of `kind` on each conversation that still needs it.
    async fn decide_all(
        &self,
        workspace_id: &str,
        caller: &Caller,
        kind: JobKind,
        subject: &str,
        conversations: &[Conversation],
        contact: Option<&Contact>,
    ) -> Result<Vec<Write>, AppError> {
        // Collected before the await: a lazy iterator's closure held across
        // it makes the future not `Send` for every lifetime.
        let commands: Vec<(&Conversation, Command)> = conversations
            .iter()
            .filter_map(|c| kind.command_for(subject, c, contact).map(|cmd| (c, cmd)))
            .collect();
        if commands.is_empty() {
            return Ok(Vec::new());
        }
        let context = CommandContext {
            settings: self.store().get_settings(workspace_id).await?,
            ..Default::default()
        };
        let actor = Actor::Caller(caller.clone());
        let mut writes = Vec::new();
        for (conv, cmd) in commands {
            writes.extend(self.decide_command(conv, cmd, &context, &actor)?.writes);
        }
        Ok(writes)
    }

    /// Commits `writes` in transactions within the store's limits, counting
    /// into `figures` what landed (also when a later one fails). With a job,
    /// each carries the job's next version and count; the last also its
    /// `cursor` (even with no writes, so that a walk moves on).
    async fn commit_batch(
        &self,
        workspace_id: &str,
        writes: Vec<Write>,
        job: Option<&Job>,
        cursor: Option<String>,
        figures: &mut FanOutFigures,
    ) -> Result<(), StoreError> {
        let reserved = usize::from(job.is_some());
        let commits = Commit::packed(workspace_id, writes, reserved);
        let last = commits.len().saturating_sub(1);
        let mut job = job.cloned();
        for (i, mut commit) in commits.into_iter().enumerate() {
            let changed = commit.writes.len() as u64;
            if let Some(current) = job.take() {
                let next_cursor = if i == last {
                    cursor.clone()
                } else {
                    current.cursor.clone()
                };
                let next = current.advanced(changed, next_cursor, self.clock().now());
                commit.job = Some(JobWrite {
                    job: next.clone(),
                    expected_version: Some(current.version),
                });
                job = Some(next);
            }
            if commit.is_empty() {
                continue;
            }
            let items: usize = commit.writes.iter().map(Commit::items_of).sum::<usize>()
                + usize::from(commit.job.is_some());
            self.commit(commit).await?;
            figures.changed += changed;
            figures.transactions += 1;
            figures.largest_transaction = figures.largest_transaction.max(items);
        }
        Ok(())
    }
}
