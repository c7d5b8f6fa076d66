//! Work that touches many conversations: which conversations a job changes,
//! the command it runs on each, and how its progress moves. The request does
//! the first part; a job (run through a queue) does the rest.

use crate::access::Role;
use crate::commands::Command;
use crate::model::{Contact, Conversation};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// How many conversations a request changes itself before the rest becomes a job.
pub const FIRST_PART: usize = 100;

/// What a job does (a closed set: each names the subject it is about).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// A member was removed: unassign their conversations.
    MemberRemoval,
    /// A team was removed: clear it from its conversations.
    TeamRemoval,
    /// An AI agent was removed: take it off its conversations, ending sessions.
    AgentRemoval,
    /// A contact was renamed, blocked or unblocked: refresh their conversations' snapshot.
    ContactRefresh,
    /// The CSV export of a view, written to a file (it changes no conversation).
    ConversationExport,
}

impl JobKind {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            JobKind::MemberRemoval => "member_removal",
            JobKind::TeamRemoval => "team_removal",
            JobKind::AgentRemoval => "agent_removal",
            JobKind::ContactRefresh => "contact_refresh",
            JobKind::ConversationExport => "conversation_export",
        }
    }

    /// How it finds the conversations still to change.
    pub const fn walk(self) -> Walk {
        match self {
            // A changed conversation leaves the list, and one that is still
            // to do cannot leave it: reading the first page again until it is
            // empty skips nothing, whatever else changes meanwhile.
            JobKind::MemberRemoval | JobKind::TeamRemoval => Walk::Drain,
            // No list is keyed by agent, and contacts list by creation (a key
            // that never changes): a cursor walks them once.
            JobKind::AgentRemoval | JobKind::ContactRefresh | JobKind::ConversationExport => {
                Walk::Cursor
            }
        }
    }

    /// The command it runs on `conv`, or `None` when `conv` needs nothing
    /// (already changed: a repeated step writes nothing). `contact` is the
    /// contact as it is now, read at the start of each step (contact refresh only).
    pub fn command_for(
        self,
        subject: &str,
        conv: &Conversation,
        contact: Option<&Contact>,
    ) -> Option<Command> {
        match self {
            JobKind::MemberRemoval => conv
                .assignee
                .as_ref()
                .is_some_and(|a| a.id == subject)
                .then(|| Command::MemberRemoved {
                    member_id: subject.to_string(),
                }),
            JobKind::TeamRemoval => {
                conv.team
                    .as_ref()
                    .is_some_and(|t| t.id == subject)
                    .then(|| Command::TeamRemoved {
                        team_id: subject.to_string(),
                    })
            }
            JobKind::AgentRemoval => {
                conv.agent
                    .as_ref()
                    .is_some_and(|a| a.id == subject)
                    .then(|| Command::AgentRemoved {
                        agent_id: subject.to_string(),
                    })
            }
            JobKind::ContactRefresh => contact
                .filter(|c| c.id == conv.contact.id && conv.contact != c.snapshot())
                .map(|c| Command::ContactChanged { contact: c.clone() }),
            JobKind::ConversationExport => None,
        }
    }
}

/// How a job finds what is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Walk {
    /// Read the first page again until it is empty.
    Drain,
    /// Follow the cursor saved with the job.
    Cursor,
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Still changing conversations.
    Running,
    /// Every conversation is changed.
    Done,
    /// Stopped on an error that retrying does not cure.
    Failed,
}

impl JobStatus {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
        }
    }
}

/// Who started a job: it carries on with their authority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobStarter {
    /// The caller's id.
    pub id: String,
    /// Their role when they started it.
    pub role: Role,
    /// Their display name then.
    pub name: Option<String>,
}

/// A job: the rest of a request's work on many conversations, with its progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// `job_…`
    pub id: String,
    /// What it does.
    pub kind: JobKind,
    /// The member, team, AI agent or contact id it is about (an export: its
    /// view and filters, as a JSON object).
    pub subject: String,
    /// Where it is.
    pub status: JobStatus,
    /// Conversations changed so far, the request's first part included (an
    /// export: rows written).
    pub done: u64,
    /// Conversations it will change in all, when known.
    pub total: Option<u64>,
    /// Where a cursor walk continues (opaque, the store's).
    pub cursor: Option<String>,
    /// Bumped by every progress write: two workers never both count a step.
    pub version: u64,
    /// Who started it.
    pub started_by: JobStarter,
    /// Why it failed, in words for the user.
    pub error: Option<String>,
    /// When it started.
    pub created_at: Timestamp,
    /// When it last moved.
    pub updated_at: Timestamp,
}

impl Job {
    /// A running job that continues after a request changed `done`
    /// conversations and stopped at `cursor`.
    pub fn start(
        id: String,
        kind: JobKind,
        subject: &str,
        started_by: JobStarter,
        done: u64,
        cursor: Option<String>,
        now: Timestamp,
    ) -> Job {
        Job {
            id,
            kind,
            subject: subject.to_string(),
            status: JobStatus::Running,
            done,
            total: None,
            cursor,
            version: 1,
            started_by,
            error: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// Whether it has nothing left to do.
    pub fn is_finished(&self) -> bool {
        self.status != JobStatus::Running
    }

    /// Whether `caller_id` may read an export job: its link hands out the
    /// file, so only whoever started it.
    pub fn export_readable_by(&self, caller_id: &str) -> bool {
        self.kind == JobKind::ConversationExport && self.started_by.id == caller_id
    }

    /// The job after `changed` more conversations, continuing at `cursor`.
    pub fn advanced(&self, changed: u64, cursor: Option<String>, now: Timestamp) -> Job {
        Job {
            done: self.done + changed,
            cursor,
            version: self.version + 1,
            updated_at: now,
            ..self.clone()
        }
    }

    /// The job with nothing left: `done` is then also its total.
    pub fn finished(&self, now: Timestamp) -> Job {
        Job {
            status: JobStatus::Done,
            total: Some(self.done),
            cursor: None,
            version: self.version + 1,
            updated_at: now,
            ..self.clone()
        }
    }

    /// The job stopped by `reason`.
    pub fn failed(&self, reason: &str, now: Timestamp) -> Job {
        Job {
            status: JobStatus::Failed,
            error: Some(reason.to_string()),
            version: self.version + 1,
            updated_at: now,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AgentAssignment, NamedRef};

    fn contact() -> Contact {
        Contact {
            id: "ct_1".into(),
            name: Some("Ana".into()),
            email: None,
            phone: None,
            blocked: false,
            created_at: Timestamp::from_millis(0),
        }
    }

    fn conversation(contact: &Contact) -> Conversation {
        let actor = crate::Actor::Caller(crate::Caller::new("bob", Role::Agent, None));
        let settings = crate::Settings::default();
        let mut ids = crate::SequentialIds::default();
        let mut ctx = crate::Ctx {
            now: Timestamp::from_millis(0),
            actor: &actor,
            settings: &settings,
            ids: &mut ids,
            notes: &crate::ExtractiveNotes,
        };
        crate::create_conversation("ws", contact, None, &mut ctx)
            .unwrap()
            .conversation
    }

    fn named(id: &str) -> Option<NamedRef> {
        Some(NamedRef {
            id: id.into(),
            name: id.into(),
        })
    }

    fn starter() -> JobStarter {
        JobStarter {
            id: "olivia".into(),
            role: Role::Owner,
            name: None,
        }
    }

    fn at(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    #[test]
    fn progress_counts_once_per_version_and_finishing_fixes_the_total() {
        let t0 = at("2026-01-01T00:00:00Z");
        let job = Job::start(
            "job_1".into(),
            JobKind::MemberRemoval,
            "mia",
            starter(),
            100,
            None,
            t0,
        );
        assert_eq!(
            (job.status, job.done, job.total, job.version),
            (JobStatus::Running, 100, None, 1)
        );
        let later = job.advanced(30, Some("c".into()), at("2026-01-01T00:00:05Z"));
        assert_eq!(
            (later.done, later.version, later.cursor.as_deref()),
            (130, 2, Some("c"))
        );
        let done = later.finished(at("2026-01-01T00:00:06Z"));
        assert_eq!(
            (done.status, done.total, done.cursor.clone(), done.version),
            (JobStatus::Done, Some(130), None, 3)
        );
        assert!(done.is_finished() && !later.is_finished());
        let failed = later.failed("the conversation store refused", t0);
        assert_eq!(failed.status, JobStatus::Failed);
        assert_eq!(failed.done, 130);
    }

    #[test]
    fn each_kind_changes_only_what_still_needs_it() {
        let mut contact = contact();
        let conv = conversation(&contact);
        let mut assigned = conv.clone();
        assigned.assignee = named("mia");
        assert!(
            JobKind::MemberRemoval
                .command_for("mia", &assigned, None)
                .is_some()
        );
        assert!(
            JobKind::MemberRemoval
                .command_for("mia", &conv, None)
                .is_none()
        );
        assert!(
            JobKind::MemberRemoval
                .command_for("leo", &assigned, None)
                .is_none()
        );

        let mut teamed = conv.clone();
        teamed.team = named("billing");
        assert!(
            JobKind::TeamRemoval
                .command_for("billing", &teamed, None)
                .is_some()
        );
        assert!(
            JobKind::TeamRemoval
                .command_for("billing", &conv, None)
                .is_none()
        );

        let mut with_agent = conv.clone();
        with_agent.agent = Some(AgentAssignment {
            id: "max".into(),
            name: "Max".into(),
            session: None,
        });
        assert!(
            JobKind::AgentRemoval
                .command_for("max", &with_agent, None)
                .is_some()
        );
        assert!(
            JobKind::AgentRemoval
                .command_for("max", &conv, None)
                .is_none()
        );

        assert!(
            JobKind::ContactRefresh
                .command_for(&contact.id, &conv, Some(&contact))
                .is_none(),
            "a snapshot that is current needs nothing"
        );
        contact.blocked = true;
        assert!(
            JobKind::ContactRefresh
                .command_for(&contact.id, &conv, Some(&contact))
                .is_some()
        );
        assert!(
            JobKind::ContactRefresh
                .command_for(&contact.id, &conv, None)
                .is_none()
        );
    }

    #[test]
    fn only_its_starter_reads_an_export() {
        let t0 = at("2026-01-01T00:00:00Z");
        let export = Job::start(
            "exp_1".into(),
            JobKind::ConversationExport,
            "{}",
            starter(),
            0,
            None,
            t0,
        );
        assert!(export.export_readable_by("olivia"));
        assert!(!export.export_readable_by("mia"));
        let removal = Job::start(
            "job_1".into(),
            JobKind::MemberRemoval,
            "mia",
            starter(),
            0,
            None,
            t0,
        );
        assert!(!removal.export_readable_by("olivia"), "not an export");
    }

    #[test]
    fn wire_names() {
        for (k, s) in [
            (JobKind::MemberRemoval, "member_removal"),
            (JobKind::TeamRemoval, "team_removal"),
            (JobKind::AgentRemoval, "agent_removal"),
            (JobKind::ContactRefresh, "contact_refresh"),
            (JobKind::ConversationExport, "conversation_export"),
        ] {
            assert_eq!(k.as_str(), s);
            assert_eq!(serde_json::to_value(k).unwrap(), s);
        }
        assert_eq!(JobStatus::Running.as_str(), "running");
        assert_eq!(serde_json::to_value(JobStatus::Failed).unwrap(), "failed");
    }
}
