//! Work that touches many conversations: the request changes the first 100,
//! the rest continues as a job (`Location: /jobs/{id}`), and a job step
//! delivered twice, or at once by two workers, repeats nothing and skips
//! nothing.

mod common;

use common::{Harness, Recorded, admin, assert_problem, bob, viewer};
use http::{Method, StatusCode, header};
use inbox_app::StepOutcome;
use inbox_http::{ApiResponse, App};
use inbox_store::sqlite::SqliteStore;
use inbox_store::{MAX_COMMIT_ITEMS, ManualClock};
use serde_json::{Value, json};
use std::sync::Arc;

fn queued_harness() -> (Harness, Arc<Recorded>) {
    let base = Harness::new();
    let queue = Arc::new(Recorded::default());
    let clock: ManualClock = base.clock.clone();
    let app = App::new(SqliteStore::in_memory().unwrap())
        .with_clock(clock.clone())
        .with_job_queue(queue.clone());
    (Harness { app, clock }, queue)
}

fn job_path(r: &ApiResponse) -> String {
    r.headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .expect("a Location header naming the job")
        .to_string()
}

/// `n` conversations of one new contact.
async fn conversations_of_one_contact(h: &Harness, n: usize) -> (String, Vec<String>) {
    let r = h
        .post(
            &bob(),
            "/contacts",
            json!({"name": "Ann", "email": "ann@y.io"}),
        )
        .await;
    let contact = r.json_body()["id"].as_str().unwrap().to_string();
    let mut convs = Vec::new();
    for _ in 0..n {
        let r = h
            .post(&bob(), "/conversations", json!({"contact_id": contact}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        convs.push(r.json_body()["id"].as_str().unwrap().to_string());
    }
    (contact, convs)
}

async fn assigned_to_bob(h: &Harness) -> usize {
    let bob_token = bob();
    let mut n = 0;
    let mut path = "/conversations?view=mine&limit=200".to_string();
    loop {
        let r = h.get(&bob_token, &path).await;
        assert_eq!(r.status, StatusCode::OK);
        let body = r.json_body();
        n += body["items"].as_array().unwrap().len();
        match body["next_cursor"].as_str() {
            Some(c) => path = format!("/conversations?view=mine&limit=200&cursor={c}"),
            None => return n,
        }
    }
}

fn count(types: &[String], kind: &str) -> usize {
    types.iter().filter(|t| *t == kind).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_a_member_continues_as_a_job_that_a_duplicate_delivery_cannot_repeat() {
    let (h, queue) = queued_harness();
    h.directory().await;
    let (_, convs) = conversations_of_one_contact(&h, 250).await;
    for c in &convs {
        let r = h
            .post(
                &bob(),
                &format!("/conversations/{c}/assign"),
                json!({"member_id": "bob"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json_body());
    }
    assert_eq!(assigned_to_bob(&h).await, 250);

    let r = h.call(&admin(), Method::DELETE, "/members/bob", None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let job = job_path(&r);
    assert!(job.starts_with("/jobs/job_"), "{job}");
    assert_eq!(
        assigned_to_bob(&h).await,
        150,
        "the request changed the first 100"
    );
    let r = h.get(&viewer(), &job).await;
    assert_eq!(r.status, StatusCode::OK);
    let body: Value = r.json_body();
    assert_eq!(body["kind"], "member_removal");
    assert_eq!(body["subject"], "bob");
    assert_eq!(body["status"], "running");
    assert_eq!(body["done"], 100);
    assert_eq!(body["total"], json!(null));

    // The step is delivered twice, to two workers at once.
    let queued = queue.take();
    assert_eq!(queued.len(), 1);
    let m = &queued[0];
    let (a, b) = tokio::join!(
        h.app.run_job(&m.workspace_id, &m.job_id),
        h.app.run_job(&m.workspace_id, &m.job_id),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(
        (a.outcome, b.outcome),
        (StepOutcome::Finished, StepOutcome::Finished)
    );
    // (Each worker's own figures are for logs: one that lost a race does not
    // count what it wrote before losing; the job's `done` below is exact.)
    // Each transaction, the job's own item included, within DynamoDB's limit.
    let largest = a
        .figures
        .largest_transaction
        .max(b.figures.largest_transaction);
    assert!((2..=MAX_COMMIT_ITEMS).contains(&largest), "{largest}");
    assert!(queue.take().is_empty(), "a finished job queues nothing");
    // And once more, late: it is finished, nothing happens.
    let again = h.app.run_job(&m.workspace_id, &m.job_id).await.unwrap();
    assert_eq!(
        (again.outcome, again.figures.changed),
        (StepOutcome::Finished, 0)
    );

    let body = h.get(&admin(), &job).await.json_body();
    assert_eq!(body["status"], "done");
    assert_eq!(body["done"], 250, "every conversation counted once");
    assert_eq!(body["total"], 250);
    assert_eq!(assigned_to_bob(&h).await, 0);
    for c in &convs {
        let types = h.timeline_types(c).await;
        assert_eq!(count(&types, "unassigned"), 1, "{c}: unassigned once");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_a_contact_with_many_conversations_refreshes_them_all() {
    let (h, queue) = queued_harness();
    let (contact, convs) = conversations_of_one_contact(&h, 130).await;
    let r = h
        .post(&bob(), &format!("/contacts/{contact}/block"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json_body()["blocked"], true);
    let job = job_path(&r);
    // The contact's own state decides at once, snapshot refreshed or not.
    let oldest = &convs[0];
    let r = h
        .post(
            &bob(),
            &format!("/conversations/{oldest}/messages"),
            json!({"body": "hi"}),
        )
        .await;
    assert_problem(&r, 409, "contact_blocked");

    for m in queue.take() {
        // A step delivered twice runs once.
        h.app.run_job(&m.workspace_id, &m.job_id).await.unwrap();
        h.app.run_job(&m.workspace_id, &m.job_id).await.unwrap();
    }
    let body = h.get(&admin(), &job).await.json_body();
    assert_eq!(
        (&body["kind"], &body["status"], &body["done"]),
        (&json!("contact_refresh"), &json!("done"), &json!(130))
    );
    for c in &convs {
        let conv = h
            .get(&admin(), &format!("/conversations/{c}"))
            .await
            .json_body();
        assert_eq!(conv["contact"]["blocked"], true, "{c}");
        let types = h.timeline_types(c).await;
        assert_eq!(count(&types, "contact_blocked"), 1, "{c}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_queue_the_job_runs_to_its_end_in_the_request() {
    let h = Harness::new();
    h.directory().await;
    let (_, convs) = conversations_of_one_contact(&h, 120).await;
    for c in &convs {
        let r = h
            .post(
                &bob(),
                &format!("/conversations/{c}/team"),
                json!({"team_id": "support"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json_body());
    }
    let r = h
        .call(&admin(), Method::DELETE, "/teams/support", None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let body = h.get(&admin(), &job_path(&r)).await.json_body();
    assert_eq!(
        (&body["status"], &body["done"]),
        (&json!("done"), &json!(120))
    );
    let r = h
        .get(&admin(), "/conversations?view=all&team=support")
        .await;
    assert_eq!(r.json_body()["items"], json!([]));
}

#[tokio::test]
async fn small_work_needs_no_job_and_unknown_jobs_are_404() {
    let h = Harness::new();
    h.directory().await;
    let conv = h.conversation("Ann").await;
    h.post(
        &bob(),
        &format!("/conversations/{conv}/assign"),
        json!({"member_id": "bob"}),
    )
    .await;
    let r = h.call(&admin(), Method::DELETE, "/members/bob", None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(r.headers.get(header::LOCATION).is_none());
    let r = h.get(&admin(), "/jobs/job_nope").await;
    assert_problem(&r, 404, "not_found");
    let other = common::who("globex", "gil", "admin", None);
    let r = h.get(&other, "/jobs/job_nope").await;
    assert_problem(&r, 404, "not_found");
}
