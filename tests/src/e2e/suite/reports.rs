//! Reports through a running dev server: closes made over HTTP reach the
//! report through the server's own change feed (the embedded store's, or
//! the DynamoDB table's stream), each conversation once.

use super::ready;
use crate::e2e::client::{ADA, BOB, VIC};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Polls today's report by `group_by` until `done` holds (the aggregator
/// runs after commit); the last report read.
async fn report_until(
    ws: &crate::e2e::client::Ws,
    group_by: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    // Yesterday to tomorrow: a midnight between the closes and the read changes nothing.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let day = |offset: i64| {
        inbox_domain::reports::Day::of(inbox_domain::Timestamp::from_unix_seconds(
            now + offset * 86_400,
        ))
    };
    let (from, to) = (day(-1), day(1));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = ws
            .get(
                VIC,
                &format!("/reports/conversations?from={from}&to={to}&group_by={group_by}"),
            )
            .await
            .expect(200);
        if done(&r) {
            return r;
        }
        assert!(Instant::now() < deadline, "the report never caught up: {r}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn closed_of(report: &Value, key: &str) -> i64 {
    report["items"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["key"] == key))
        .and_then(|r| r["closed"].as_i64())
        .unwrap_or(0)
}

/// Three conversations closed by hand (two with categories), one of them
/// reopened and closed again with another: three closed, by the last close.
pub async fn reports_count_each_conversation_once(base: &str) {
    let ws = ready(base, "reports").await;
    ws.put(
        ADA,
        "/settings",
        json!({
            "auto_close": {"enabled": false, "after_seconds": 86400},
            "closing_notes": {"mode": "optional", "categories": ["billing", "refund"], "auto_generate": false},
            "ai": {"end_session_on_human_assignment": true, "stop_on_human_reply": true},
            "reopen_on_contact_message": true
        }),
    )
    .await
    .expect(200);
    let close = |category: Option<&str>| match category {
        Some(c) => json!({"status": "closed", "closing_note": {"category": c}}),
        None => json!({"status": "closed"}),
    };
    let (a, b, c) = (
        ws.conversation("Ann").await,
        ws.conversation("Ben").await,
        ws.conversation("Cy").await,
    );
    ws.act(BOB, &a, "assign", json!({"member_id": "bob"}))
        .await
        .expect(200);
    ws.act(BOB, &a, "messages", json!({"body": "Sorted."}))
        .await
        .expect(201);
    ws.act(BOB, &a, "status", close(Some("billing")))
        .await
        .expect(200);
    ws.act(BOB, &b, "status", close(None)).await.expect(200);
    ws.act(BOB, &c, "status", close(Some("billing")))
        .await
        .expect(200);
    ws.act(BOB, &c, "status", json!({"status": "open"}))
        .await
        .expect(200);
    ws.act(BOB, &c, "status", close(Some("refund")))
        .await
        .expect(200);

    // The last change made is Cy's second close: once it shows, all do.
    let by_category = report_until(&ws, "category", |r| closed_of(r, "refund") == 1).await;
    assert_eq!(
        (
            closed_of(&by_category, "billing"),
            closed_of(&by_category, "refund"),
            closed_of(&by_category, "none")
        ),
        (1, 1, 1),
        "{by_category}"
    );
    let by_assignee = report_until(&ws, "assignee", |r| r["totals"]["closed"] == 3).await;
    assert_eq!(closed_of(&by_assignee, "bob"), 1, "{by_assignee}");
    assert_eq!(closed_of(&by_assignee, "none"), 2, "{by_assignee}");
    let by_source = report_until(&ws, "closing_source", |r| r["totals"]["closed"] == 3).await;
    assert_eq!(closed_of(&by_source, "manual"), 3, "{by_source}");
    // Started by a member, not by a contact's message: no first response
    // to measure; resolution from creation to the close.
    assert_eq!(
        by_source["totals"]["first_response_seconds"],
        json!({"p50": null, "p90": null})
    );
    assert!(
        by_source["totals"]["resolution_seconds"]["p90"].is_u64(),
        "{by_source}"
    );

    let csv = ws
        .get(
            VIC,
            "/reports/conversations.csv?from=2020-01-01&to=2020-12-31&group_by=category",
        )
        .await;
    assert_eq!(csv.status, 200);
    assert_eq!(
        csv.text.trim(),
        "category,closed,first_response_p50_seconds,first_response_p90_seconds,resolution_p50_seconds,resolution_p90_seconds",
        "another year: no rows"
    );
}
