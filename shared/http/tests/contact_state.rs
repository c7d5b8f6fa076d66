//! A contact's own state decides at once: a reply or a status change reads
//! the contact, whatever the conversation's snapshot of it says (a contact
//! change may not have refreshed every conversation yet). A stale snapshot
//! the command succeeds on is refreshed in the same write, with its event.

mod common;

use common::{Harness, admin, assert_problem, bob};
use http::StatusCode;
use inbox_store::{Commit, ContactStore};
use serde_json::json;

/// Writes the contact alone, as a change whose refreshes have not reached
/// this conversation yet would leave it.
async fn set_blocked_behind_the_snapshot(h: &Harness, contact_id: &str, blocked: bool) {
    let store = h.app.store();
    let mut contact = store
        .get_contact("acme", contact_id)
        .await
        .unwrap()
        .unwrap();
    contact.blocked = blocked;
    store
        .update_contact("acme", &contact, Commit::new("acme"))
        .await
        .unwrap();
}

#[tokio::test]
async fn replies_and_status_changes_follow_the_contact_not_the_snapshot() {
    let h = Harness::new();
    h.directory().await;
    let conv = h.conversation("Ann").await;
    let r = h.get(&bob(), &format!("/conversations/{conv}")).await;
    let contact = r.json_body()["contact"]["id"].as_str().unwrap().to_string();

    // Blocked behind a snapshot that says not blocked: refused, nothing written.
    set_blocked_behind_the_snapshot(&h, &contact, true).await;
    let before = h.timeline_types(&conv).await;
    let r = h
        .post(
            &bob(),
            &format!("/conversations/{conv}/messages"),
            json!({"body": "hi"}),
        )
        .await;
    assert_problem(&r, 409, "contact_blocked");
    let r = h
        .post(
            &bob(),
            &format!("/conversations/{conv}/status"),
            json!({"status": "closed"}),
        )
        .await;
    assert_problem(&r, 409, "contact_blocked");
    assert_eq!(h.timeline_types(&conv).await, before);

    // Block for real (the snapshot follows), then unblock behind it: the
    // reply goes through and refreshes the snapshot, with its event first.
    set_blocked_behind_the_snapshot(&h, &contact, false).await;
    let r = h
        .post(&admin(), &format!("/contacts/{contact}/block"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    set_blocked_behind_the_snapshot(&h, &contact, false).await;
    let r = h
        .post(
            &bob(),
            &format!("/conversations/{conv}/messages"),
            json!({"body": "hi"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json_body());
    let r = h.get(&bob(), &format!("/conversations/{conv}")).await;
    assert_eq!(r.json_body()["contact"]["blocked"], false);
    let types = h.timeline_types(&conv).await;
    let unblocked = types.iter().rposition(|t| t == "contact_unblocked");
    let replied = types
        .iter()
        .rposition(|t| t == "message_sent" || t == "message_posted");
    assert!(unblocked.is_some(), "{types:?}");
    assert!(replied.is_none() || unblocked < replied, "{types:?}");
}
