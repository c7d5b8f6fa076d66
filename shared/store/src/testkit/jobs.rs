//! Jobs: created once, moved only from the version read, and counted in the
//! same transaction as the conversations a step changed.

use super::SuiteConfig;
use super::commands::secs;
use super::fixtures::{T0, Ws, agent_actor, commit_of, load};
use crate::port::{Commit, JobWrite, Store, StoreError};
use inbox_domain::{Command, Job, JobKind, JobStarter, JobStatus, Role};

fn job(id: &str) -> Job {
    Job::start(
        id.to_string(),
        JobKind::MemberRemoval,
        "bob",
        JobStarter {
            id: "carol".into(),
            role: Role::Admin,
            name: None,
        },
        100,
        None,
        T0,
    )
}

fn job_commit(ws: &str, job: Job, expected_version: Option<u64>) -> Commit {
    let mut c = Commit::new(ws);
    c.job = Some(JobWrite {
        job,
        expected_version,
    });
    c
}

/// A job is created only if absent and read back as written; a write from a
/// stale version is `Conflict`, and with conversation writes beside it,
/// nothing of that commit lands; a job is invisible to other workspaces.
pub async fn check_jobs<S: Store + ?Sized>(store: &S, _cfg: &SuiteConfig) {
    let ws = Ws::new(store, "jobs").await;
    let w = ws.id.as_str();
    assert_eq!(store.get_job(w, "job_1").await.expect("get"), None);

    let started = job("job_1");
    store
        .commit(job_commit(w, started.clone(), None))
        .await
        .expect("create job");
    assert_eq!(
        store.get_job(w, "job_1").await.expect("get"),
        Some(started.clone())
    );
    assert!(
        matches!(
            store.commit(job_commit(w, started.clone(), None)).await,
            Err(StoreError::Conflict)
        ),
        "creating a job twice is a conflict"
    );

    // A step: the conversation and the job's progress in one commit.
    let created = ws.create(Some("sms-main"), T0);
    store
        .commit(commit_of(&created))
        .await
        .expect("create conversation");
    let conv = load(store, w, &created.conversation.id).await;
    let label = |l: &str| Command::Labels {
        add: vec![l.to_string()],
        remove: Vec::new(),
    };
    let assign = ws.decide(&conv, label("vip"), &agent_actor("bob"), secs(1));
    let mut step = commit_of(&assign);
    let advanced = started.advanced(1, Some("cursor-1".into()), secs(1));
    step.job = Some(JobWrite {
        job: advanced.clone(),
        expected_version: Some(started.version),
    });
    store.commit(step).await.expect("step");
    assert_eq!(
        store.get_job(w, "job_1").await.expect("get"),
        Some(advanced.clone())
    );
    assert_eq!(load(store, w, &conv.id).await.version, conv.version + 1);

    // The same step again (a duplicate delivery, from the version it read): nothing lands.
    let moved = load(store, w, &conv.id).await;
    let unassign = ws.decide(&moved, label("billing"), &agent_actor("bob"), secs(2));
    let mut stale = commit_of(&unassign);
    stale.job = Some(JobWrite {
        job: started.advanced(1, None, secs(2)),
        expected_version: Some(started.version),
    });
    assert!(
        matches!(store.commit(stale).await, Err(StoreError::Conflict)),
        "a step from a stale job version is a conflict"
    );
    assert_eq!(
        load(store, w, &conv.id).await,
        moved,
        "a commit whose job guard failed writes no conversation"
    );
    assert_eq!(
        store.get_job(w, "job_1").await.expect("get"),
        Some(advanced.clone())
    );

    // Finishing it, from the version read.
    let done = advanced.finished(secs(3));
    store
        .commit(job_commit(w, done.clone(), Some(advanced.version)))
        .await
        .expect("finish");
    let read = store.get_job(w, "job_1").await.expect("get").expect("job");
    assert_eq!((read.status, read.total), (JobStatus::Done, Some(101)));

    // Another workspace sees nothing of it.
    let other = Ws::new(store, "jobs-other").await;
    assert_eq!(store.get_job(&other.id, "job_1").await.expect("get"), None);
}
