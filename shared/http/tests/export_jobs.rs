//! Export jobs: `POST /conversations/exports` writes the view's CSV to a file
//! as a job, and `GET /conversations/exports/{id}` hands out its link once
//! done; the file is the same CSV the direct export answers.

mod common;

use async_trait::async_trait;
use common::{Harness, Recorded, admin, assert_problem, bob, carol};
use http::{StatusCode, header};
use inbox_app::{AppError, ExportFiles};
use inbox_http::App;
use inbox_store::sqlite::SqliteStore;
use serde_json::json;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Files kept in memory; a link is `mem://<ws>/<id>`.
#[derive(Default)]
struct MemoryFiles(Mutex<HashMap<String, Vec<u8>>>);

#[async_trait]
impl ExportFiles for MemoryFiles {
    async fn store(&self, ws: &str, id: &str, path: &Path) -> Result<(), AppError> {
        let bytes = std::fs::read(path).unwrap();
        self.0.lock().unwrap().insert(format!("{ws}/{id}"), bytes);
        Ok(())
    }
    async fn link(&self, ws: &str, id: &str) -> Result<String, AppError> {
        Ok(format!("mem://{ws}/{id}"))
    }
}

impl MemoryFiles {
    fn get(&self, link: &str) -> String {
        let key = link.strip_prefix("mem://").unwrap();
        String::from_utf8(self.0.lock().unwrap()[key].clone()).unwrap()
    }
}

fn harness(files: &Arc<MemoryFiles>, queue: Option<Arc<Recorded>>) -> Harness {
    let base = Harness::new();
    let mut app = App::new(SqliteStore::in_memory().unwrap())
        .with_clock(base.clock.clone())
        .with_export_files(files.clone());
    if let Some(q) = queue {
        app = app.with_job_queue(q);
    }
    Harness {
        app,
        clock: base.clock,
    }
}

#[tokio::test]
async fn an_export_job_writes_the_same_csv_to_a_file_and_links_it() {
    let files = Arc::new(MemoryFiles::default());
    let h = harness(&files, None);
    for name in ["Ann", "Ben", "=HYPERLINK(\"http://evil.example\",\"x\")"] {
        h.conversation(name).await;
    }
    let r = h
        .post(&bob(), "/conversations/exports", json!({"view": "all"}))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.json_body());
    let location = r.headers[header::LOCATION].to_str().unwrap().to_string();
    let body = r.json_body();
    let id = body["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("exp_"));
    assert_eq!(location, format!("/conversations/exports/{id}"));
    // No queue here: the job ran in the request.
    let r = h.get(&bob(), &location).await;
    assert_eq!(r.status, StatusCode::OK);
    let got = r.json_body();
    assert_eq!((&got["status"], &got["rows"]), (&json!("done"), &json!(3)));
    let file = files.get(got["url"].as_str().unwrap());
    let direct = h.get(&bob(), "/conversations/export.csv?view=all").await;
    assert_eq!(
        file,
        String::from_utf8(direct.body.as_bytes().to_vec()).unwrap()
    );
    assert!(
        file.contains("'=HYPERLINK"),
        "cells neutralised in the file too"
    );

    // Only whoever started it reads it; other jobs and unknown ids are 404.
    assert_problem(&h.get(&carol(), &location).await, 404, "not_found");
    assert_problem(
        &h.get(&bob(), "/conversations/exports/exp_nope").await,
        404,
        "not_found",
    );
}

#[tokio::test]
async fn a_queued_export_is_running_until_its_step_runs() {
    let files = Arc::new(MemoryFiles::default());
    let queue = Arc::new(Recorded::default());
    let h = harness(&files, Some(queue.clone()));
    h.conversation("Ann").await;
    let r = h
        .post(
            &bob(),
            "/conversations/exports",
            json!({"view": "unresolved", "status": "open"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let body = r.json_body();
    assert_eq!(
        (&body["status"], &body["url"]),
        (&json!("running"), &json!(null))
    );
    let m = queue.take().pop().unwrap();
    h.app.run_job(&m.workspace_id, &m.job_id).await.unwrap();
    // Delivered again: nothing changes.
    h.app.run_job(&m.workspace_id, &m.job_id).await.unwrap();
    let got = h
        .get(&bob(), &format!("/conversations/exports/{}", m.job_id))
        .await
        .json_body();
    assert_eq!((&got["status"], &got["rows"]), (&json!("done"), &json!(1)));
}

#[tokio::test]
async fn bad_export_requests_write_nothing() {
    let files = Arc::new(MemoryFiles::default());
    let h = harness(&files, None);
    let r = h
        .post(&bob(), "/conversations/exports", json!({"colour": "red"}))
        .await;
    assert_problem(&r, 422, "validation_failed");
    let r = h
        .post(&bob(), "/conversations/exports", json!({"view": 5}))
        .await;
    assert_problem(&r, 422, "validation_failed");
    let r = h
        .post(
            &bob(),
            "/conversations/exports",
            json!({"view": "everything"}),
        )
        .await;
    assert_problem(&r, 400, "bad_request");
    let r = h.post(&bob(), "/conversations/exports", json!([])).await;
    assert_problem(&r, 400, "bad_request");
    assert!(files.0.lock().unwrap().is_empty());

    // A deployment without export files says so.
    let plain = Harness::new();
    let r = plain
        .post(&admin(), "/conversations/exports", json!({"view": "all"}))
        .await;
    assert_problem(&r, 501, "not_implemented");
}
