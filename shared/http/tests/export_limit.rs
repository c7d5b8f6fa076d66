//! The CSV export answers directly up to MAX_EXPORT_ROWS rows (contacts
//! read a page at a time), and beyond that is 422 `export_too_large`.

mod common;

use common::{Harness, admin, assert_problem, bob};
use http::StatusCode;
use inbox_domain::views::MAX_EXPORT_ROWS;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_stops_at_its_row_limit() {
    let h = Harness::new();
    let mut contacts = Vec::new();
    for i in 0..3 {
        let r = h
            .post(
                &bob(),
                "/contacts",
                json!({"name": format!("Ann {i}"), "email": format!("ann{i}@y.io")}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        contacts.push(r.json_body()["id"].as_str().unwrap().to_string());
    }
    for i in 0..MAX_EXPORT_ROWS {
        let r = h
            .post(
                &bob(),
                "/conversations",
                json!({"contact_id": contacts[i % contacts.len()]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let r = h.get(&admin(), "/conversations/export.csv").await;
    assert_eq!(r.status, StatusCode::OK);
    let text = String::from_utf8(r.body.as_bytes().to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + MAX_EXPORT_ROWS, "a header and every row");
    assert!(
        lines[1].contains("@y.io"),
        "contact emails filled: {}",
        lines[1]
    );
    // One more conversation: too many for one response.
    let r = h
        .post(&bob(), "/conversations", json!({"contact_id": contacts[0]}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = h.get(&admin(), "/conversations/export.csv").await;
    assert_problem(&r, 422, "export_too_large");
    // A narrower view still exports.
    let r = h
        .get(&admin(), "/conversations/export.csv?view=resolved")
        .await;
    assert_eq!(r.status, StatusCode::OK);
}
