//! Reports over a scripted month, on the embedded store (the aggregator fed
//! from its change feed, as the dev server does) and on DynamoDB on moto
//! (fed from the table stream's records through `dispatch_stream_batch`,
//! as `webhook-dispatch` is): 200 conversations arrive on two channels,
//! are answered, closed by hand with categories or by auto-close, and
//! some are reopened by their contacts and closed again. The report's
//! numbers must equal those computed here from each conversation's
//! timeline and messages, read through the API; the same records handed
//! over twice change nothing.

mod common;

use common::{NothingQueued, call, call_text, ok, stream_of, who};
use http::{HeaderValue, Method};
use inbox_autoclose::{InProcessQueue, LocalTickLimits, run_local_tick};
use inbox_domain::Timestamp;
use inbox_domain::reports::{Day, percentile_of_durations};
use inbox_http::{ApiRequest, App, Identity, handle};
use inbox_runtime::webhooks::dispatch_stream_batch;
use inbox_store::sqlite::SqliteStore;
use inbox_store::{ChangeFeed, ManualClock, Store};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

const DAY: i64 = 86_400;
/// 2026-10-01T00:00:00Z: the scripted month is October 2026.
const T0: i64 = 1_790_812_800;
const CONVERSATIONS: usize = 200;
const CATEGORIES: [&str; 3] = ["billing", "refund", "bug"];

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_unix_seconds(seconds)
}

/// A contact's signed message on a generic channel, at the app's now.
async fn contact_writes<S: Store>(
    app: &App<S>,
    clock: &ManualClock,
    channel: &str,
    from: &str,
    n: usize,
) {
    let body = json!({"message_id": format!("{from}-{n}"), "from": {"id": from, "name": format!("Contact {from}")}, "text": format!("message {n} from {from}")})
        .to_string();
    let ts = inbox_store::Clock::now(clock).unix_seconds();
    let sig = inbox_channels::verify::generic_signature("s3cret", ts, body.as_bytes());
    let mut req = ApiRequest::new(
        Method::POST,
        format!("/webhooks/generic/acme/{channel}"),
        Identity::Unauthenticated,
    );
    req.headers
        .insert("content-type", HeaderValue::from_static("application/json"));
    req.headers.insert(
        "x-inbox-timestamp",
        HeaderValue::from_str(&ts.to_string()).unwrap(),
    );
    req.headers
        .insert("x-inbox-signature", HeaderValue::from_str(&sig).unwrap());
    req.body = body.into();
    let resp = handle(app, req).await;
    assert_eq!(resp.status, 200, "{:?}", resp.json_body());
}

async fn setup<S: Store>(app: &App<S>) {
    let admin = who("ada", "admin");
    for (id, name) in [("ana", "Ana Diaz"), ("bob", "Bob Ray")] {
        ok(
            app,
            &admin,
            Method::PUT,
            &format!("/members/{id}"),
            json!({"name": name, "email": format!("{id}@x.io"), "role": "agent"}),
        )
        .await;
    }
    for id in ["web", "chat"] {
        ok(
            app,
            &admin,
            Method::PUT,
            &format!("/channels/{id}"),
            json!({"kind": "generic", "name": id, "secret": "s3cret"}),
        )
        .await;
    }
    ok(
        app,
        &admin,
        Method::PUT,
        "/settings",
        json!({
            "auto_close": {"enabled": true, "after_seconds": 3600},
            "closing_notes": {"mode": "optional", "categories": CATEGORIES, "auto_generate": false},
            "ai": {"end_session_on_human_assignment": true, "stop_on_human_reply": true},
            "reopen_on_contact_message": true
        }),
    )
    .await;
}

/// The month: conversation `i` starts on day `i % 30`, and its story is one of four.
async fn script_month<S: Store>(app: &App<S>, clock: &ManualClock) {
    let timers = InProcessQueue::new(5, Duration::from_millis(1));
    let tick = || async {
        run_local_tick(app, &timers, &LocalTickLimits::default())
            .await
            .expect("auto-close tick")
    };
    for i in 0..CONVERSATIONS {
        let start = T0 + (i % 30) as i64 * DAY + (i / 30) as i64 * 3_000 + 600;
        let channel = ["web", "chat"][i % 2];
        let from = format!("u{i}");
        let member = ["ana", "bob"][i % 2];
        let by = who(member, "agent");
        clock.set(at(start));
        contact_writes(app, clock, channel, &from, 0).await;
        // Every earlier story ended closed: the one open conversation is this one.
        let listed = ok(
            app,
            &who("ada", "admin"),
            Method::GET,
            "/conversations?view=unresolved&limit=2",
            Value::Null,
        )
        .await;
        assert_eq!(
            listed["items"].as_array().map(Vec::len),
            Some(1),
            "{listed}"
        );
        assert_eq!(
            listed["items"][0]["contact"]["name"],
            format!("Contact {from}")
        );
        let id = listed["items"][0]["id"]
            .as_str()
            .expect("the new conversation")
            .to_string();
        let path = |p: &str| format!("/conversations/{id}{p}");
        let reply = |n: usize| json!({"body": format!("reply {n}")});
        let close = |category: Option<&str>| match category {
            Some(c) => json!({"status": "closed", "closing_note": {"category": c}}),
            None => json!({"status": "closed"}),
        };
        match i % 4 {
            // Assigned, answered, closed by hand with a category.
            0 => {
                clock.set(at(start + 120));
                ok(
                    app,
                    &by,
                    Method::POST,
                    &path("/assign"),
                    json!({"member_id": member}),
                )
                .await;
                clock.set(at(start + 60 * (i as i64 % 7 + 1)));
                ok(app, &by, Method::POST, &path("/messages"), reply(1)).await;
                clock.set(at(start + 7_200));
                ok(
                    app,
                    &by,
                    Method::POST,
                    &path("/status"),
                    close(Some(CATEGORIES[i % 3])),
                )
                .await;
            }
            // Answered, then closed by auto-close an hour later.
            1 => {
                clock.set(at(start + 300 + i as i64));
                ok(app, &by, Method::POST, &path("/messages"), reply(1)).await;
                clock.set(at(start + 300 + i as i64 + 3_601));
                tick().await;
            }
            // Closed unanswered, reopened by the contact two days later,
            // answered and closed again with a category.
            2 => {
                clock.set(at(start + 1_800));
                ok(app, &by, Method::POST, &path("/status"), close(None)).await;
                clock.set(at(start + 2 * DAY));
                contact_writes(app, clock, channel, &from, 1).await;
                clock.set(at(start + 2 * DAY + 900));
                ok(app, &by, Method::POST, &path("/messages"), reply(1)).await;
                clock.set(at(start + 2 * DAY + 3_000));
                ok(
                    app,
                    &by,
                    Method::POST,
                    &path("/status"),
                    close(Some("refund")),
                )
                .await;
            }
            // Assigned, answered, closed with a category the same day, reopened
            // the next day, answered and closed by auto-close.
            _ => {
                clock.set(at(start + 60));
                ok(
                    app,
                    &by,
                    Method::POST,
                    &path("/assign"),
                    json!({"member_id": member}),
                )
                .await;
                clock.set(at(start + 240));
                ok(app, &by, Method::POST, &path("/messages"), reply(1)).await;
                clock.set(at(start + 600));
                ok(
                    app,
                    &by,
                    Method::POST,
                    &path("/status"),
                    close(Some("billing")),
                )
                .await;
                clock.set(at(start + DAY));
                contact_writes(app, clock, channel, &from, 1).await;
                clock.set(at(start + DAY + 60));
                ok(app, &by, Method::POST, &path("/messages"), reply(2)).await;
                clock.set(at(start + DAY + 60 + 3_601));
                tick().await;
            }
        }
    }
}

/// Every page of a list route.
async fn all_pages<S: Store>(app: &App<S>, path: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = match &cursor {
            Some(c) => format!("{path}{sep}limit=200&cursor={c}"),
            None => format!("{path}{sep}limit=200"),
        };
        let page = ok(app, &who("ada", "admin"), Method::GET, &url, Value::Null).await;
        out.extend(page["items"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

/// A close as read off a timeline: `[closing_source, category, assignee, channel]`, its time, and its durations.
#[derive(Debug, Clone)]
struct Close {
    at: Timestamp,
    keys: [String; 4],
    first_response: Option<u64>,
    resolution: u64,
}

fn ts(v: &Value) -> Timestamp {
    Timestamp::parse(v.as_str().expect("a time")).expect("RFC 3339")
}

fn seconds(from: Timestamp, to: Timestamp) -> u64 {
    ((to.as_millis() - from.as_millis()) / 1000) as u64
}

/// Each conversation's closes, computed from its timeline and messages by
/// the definitions in docs/reports.md, independently of the aggregator.
async fn closes_from_timelines<S: Store>(app: &App<S>) -> Vec<Vec<Close>> {
    let mut out = Vec::new();
    for conv in all_pages(app, "/conversations?view=all").await {
        let id = conv["id"].as_str().expect("an id");
        let timeline = all_pages(app, &format!("/conversations/{id}/timeline")).await;
        let messages = all_pages(app, &format!("/conversations/{id}/messages")).await;
        let first_contact = messages
            .iter()
            .find(|m| m["sender"]["kind"] == "contact")
            .map(|m| ts(&m["created_at"]));
        let first_human = first_contact.and_then(|c| {
            messages
                .iter()
                .filter(|m| m["sender"]["kind"] == "member")
                .map(|m| ts(&m["created_at"]))
                .find(|t| *t >= c)
        });
        let created = ts(&timeline
            .iter()
            .find(|e| e["type"] == "conversation_created")
            .expect("created")["at"]);
        let mut channel = conv["channel_id"].as_str().unwrap_or("none").to_string();
        let mut assignee = "none".to_string();
        let mut closes: Vec<Close> = Vec::new();
        for e in &timeline {
            let data = &e["data"];
            match e["type"].as_str().unwrap_or_default() {
                "conversation_created" => {
                    channel = data["channel_id"].as_str().unwrap_or("none").to_string()
                }
                "assigned" | "taken_over" => {
                    assignee = data["to"].as_str().expect("to").to_string()
                }
                "unassigned" => assignee = "none".into(),
                "status_changed" if data["to"] == "closed" => {
                    let t = ts(&e["at"]);
                    closes.push(Close {
                        at: t,
                        keys: [
                            data["source"].as_str().expect("source").to_string(),
                            "none".into(),
                            assignee.clone(),
                            channel.clone(),
                        ],
                        first_response: first_human
                            .filter(|h| *h <= t)
                            .and_then(|h| first_contact.map(|c| seconds(c, h))),
                        resolution: seconds(created, t),
                    });
                }
                "closing_note_added" => {
                    if let (Some(last), Some(c)) = (closes.last_mut(), data["category"].as_str()) {
                        last.keys[1] = c.to_string();
                    }
                }
                _ => {}
            }
        }
        out.push(closes);
    }
    out
}

/// What the report of `[from, to]` grouped by `group_by` must say.
fn expected(closes: &[Vec<Close>], from: Day, to: Day, group_by: &str) -> Value {
    let index = match group_by {
        "closing_source" | "day" => 0,
        "category" => 1,
        "assignee" => 2,
        _ => 3,
    };
    let mut rows: BTreeMap<String, (i64, Vec<u64>, Vec<u64>)> = BTreeMap::new();
    let mut totals = (0i64, Vec::new(), Vec::new());
    for conv in closes {
        let Some(last) = conv
            .iter()
            .rev()
            .find(|c| (from..=to).contains(&Day::of(c.at)))
        else {
            continue;
        };
        let key = if group_by == "day" {
            Day::of(last.at).to_string()
        } else {
            last.keys[index].clone()
        };
        let row = rows.entry(key).or_default();
        for r in [row, &mut totals] {
            r.0 += 1;
            r.1.extend(last.first_response);
            r.2.push(last.resolution);
        }
    }
    let p = |v: &[u64]| json!({"p50": percentile_of_durations(v, 50), "p90": percentile_of_durations(v, 90)});
    let row = |key: &str, r: &(i64, Vec<u64>, Vec<u64>)| json!({"key": key, "closed": r.0, "first_response_seconds": p(&r.1), "resolution_seconds": p(&r.2)});
    let mut items: Vec<Value> = rows.iter().map(|(k, r)| row(k, r)).collect();
    if group_by == "day" {
        let mut all = Vec::new();
        let mut d = from;
        while d <= to {
            let key = d.to_string();
            all.push(
                rows.get(&key)
                    .map(|r| row(&key, r))
                    .unwrap_or_else(|| row(&key, &(0, Vec::new(), Vec::new()))),
            );
            d = d.next();
        }
        items = all;
    } else {
        items.sort_by(|a, b| {
            b["closed"]
                .as_i64()
                .cmp(&a["closed"].as_i64())
                .then(a["key"].as_str().cmp(&b["key"].as_str()))
        });
    }
    json!({"items": items, "totals": row("total", &totals)})
}

const RANGES: [(&str, &str); 5] = [
    ("2026-10-01", "2026-10-31"),
    ("2026-09-01", "2026-11-30"),
    ("2026-10-01", "2026-10-10"),
    ("2026-10-11", "2026-10-20"),
    ("2026-10-29", "2026-11-02"),
];
const GROUPINGS: [&str; 5] = ["closing_source", "category", "assignee", "channel", "day"];

/// Every grouping of every range: the report equals the timelines' account.
async fn report_matches_timelines<S: Store>(app: &App<S>, closes: &[Vec<Close>]) {
    let viewer = who("vic", "viewer");
    for (from, to) in RANGES {
        for g in GROUPINGS {
            let got = ok(
                app,
                &viewer,
                Method::GET,
                &format!("/reports/conversations?from={from}&to={to}&group_by={g}"),
                Value::Null,
            )
            .await;
            let want = expected(
                closes,
                Day::parse(from).unwrap(),
                Day::parse(to).unwrap(),
                g,
            );
            assert_eq!(got, want, "{from}..{to} by {g}");
        }
    }
}

/// The scripted month's shape: what the numbers must at least show.
fn sanity(closes: &[Vec<Close>]) {
    assert_eq!(closes.len(), CONVERSATIONS);
    let closed_twice = closes.iter().filter(|c| c.len() == 2).count();
    assert_eq!(
        closed_twice,
        CONVERSATIONS / 2,
        "half the conversations were reopened and closed again"
    );
    let auto = closes
        .iter()
        .filter(|c| c.last().is_some_and(|l| l.keys[0] == "auto_close"))
        .count();
    assert_eq!(
        auto,
        CONVERSATIONS / 2,
        "a quarter closed by auto-close, a quarter closed again by it"
    );
}

async fn the_csv_is_the_rows<S: Store>(app: &App<S>) {
    let (status, text) = call_text(
        app,
        &who("vic", "viewer"),
        Method::GET,
        "/reports/conversations.csv?from=2026-10-01&to=2026-10-31&group_by=category",
        Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    let json = ok(
        app,
        &who("vic", "viewer"),
        Method::GET,
        "/reports/conversations?from=2026-10-01&to=2026-10-31&group_by=category",
        Value::Null,
    )
    .await;
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            "category,closed,first_response_p50_seconds,first_response_p90_seconds,resolution_p50_seconds,resolution_p90_seconds"
        )
    );
    let cell = |v: &Value| v.as_u64().map(|n| n.to_string()).unwrap_or_default();
    for (line, row) in lines.zip(json["items"].as_array().unwrap()) {
        let want = format!(
            "{},{},{},{},{},{}",
            row["key"].as_str().unwrap(),
            row["closed"],
            cell(&row["first_response_seconds"]["p50"]),
            cell(&row["first_response_seconds"]["p90"]),
            cell(&row["resolution_seconds"]["p50"]),
            cell(&row["resolution_seconds"]["p90"]),
        );
        assert_eq!(line, want);
    }
    assert_eq!(
        text.lines().count(),
        json["items"].as_array().unwrap().len() + 1
    );
}

fn app_with_clock<S>(store: S) -> (App<S>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(at(T0)));
    let app = App::new(store).with_shared_clock(clock.clone());
    (app, clock)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scripted_month_on_the_embedded_store() {
    let (app, clock) = app_with_clock(SqliteStore::in_memory().expect("a store"));
    setup(&app).await;
    script_month(&app, &clock).await;
    // The change feed, as the dev server drains it; kept to hand it over again.
    let mut handed = Vec::new();
    loop {
        let page = app.store().pending_changes(500).await.expect("changes");
        if page.is_empty() {
            break;
        }
        let (keys, changes): (Vec<String>, Vec<_>) = page.into_iter().unzip();
        app.aggregate_reports(&changes).await.expect("aggregated");
        app.store().ack_changes(&keys).await.expect("acked");
        handed.extend(changes);
    }
    let closes = closes_from_timelines(&app).await;
    sanity(&closes);
    report_matches_timelines(&app, &closes).await;
    // Every record handed over again, in halves and whole: the same numbers.
    let (a, b) = handed.split_at(handed.len() / 2);
    for again in [a, b, &handed[..]] {
        assert_eq!(
            app.aggregate_reports(again).await.expect("again"),
            0,
            "nothing new to save"
        );
    }
    report_matches_timelines(&app, &closes).await;
    the_csv_is_the_rows(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scripted_month_on_dynamodb_fed_from_the_table_stream() {
    let (store, counter) = inbox_store::dynamo::testing::fresh_store("reports-month")
        .await
        .expect("a table");
    let (app, clock) = app_with_clock(store);
    setup(&app).await;
    script_month(&app, &clock).await;
    let conversations = all_pages(&app, "/conversations?view=all").await;
    let mut batches = Vec::new();
    for c in &conversations {
        let event = stream_of(app.store(), "acme", c["id"].as_str().unwrap()).await;
        let response = dispatch_stream_batch(&app, &event, &NothingQueued, None).await;
        assert!(response.batch_item_failures.is_empty(), "{response:?}");
        batches.push(event);
    }
    let closes = closes_from_timelines(&app).await;
    sanity(&closes);
    report_matches_timelines(&app, &closes).await;
    // The stream hands every batch over again: the same numbers.
    for event in &batches {
        let response = dispatch_stream_batch(&app, event, &NothingQueued, None).await;
        assert!(response.batch_item_failures.is_empty(), "{response:?}");
    }
    report_matches_timelines(&app, &closes).await;
    the_csv_is_the_rows(&app).await;
    // A report is one Query, whatever the number of conversations.
    let before = counter.count("Query");
    ok(
        &app,
        &who("vic", "viewer"),
        Method::GET,
        "/reports/conversations?from=2025-12-01&to=2026-11-30&group_by=assignee",
        Value::Null,
    )
    .await;
    assert_eq!(counter.count("Query") - before, 1);
}

#[tokio::test]
async fn a_report_asks_for_a_range_and_a_grouping_and_a_viewer_may_read_it() {
    let (app, _) = app_with_clock(SqliteStore::in_memory().expect("a store"));
    for bad in [
        "/reports/conversations",
        "/reports/conversations?from=2026-10-01&to=2026-10-31",
        "/reports/conversations?from=2026-10-01&to=2026-10-31&group_by=team",
        "/reports/conversations?from=2026-10-31&to=2026-10-01&group_by=day",
        "/reports/conversations?from=2025-01-01&to=2026-01-02&group_by=day",
        "/reports/conversations?from=1%20Oct&to=2026-10-31&group_by=day",
        "/reports/conversations?from=2026-10-01&to=2026-10-31&group_by=day&limit=5",
        "/reports/conversations.csv?from=2026-10-01&group_by=day",
    ] {
        let (status, body) = call(&app, &who("vic", "viewer"), Method::GET, bad, Value::Null).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("bad_request")),
            "{bad}: {body}"
        );
    }
    let (status, body) = call(
        &app,
        &Identity::Unauthenticated,
        Method::GET,
        "/reports/conversations?from=2026-10-01&to=2026-10-31&group_by=day",
        Value::Null,
    )
    .await;
    assert_eq!(status, 401, "{body}");
    let empty = ok(
        &app,
        &who("vic", "viewer"),
        Method::GET,
        "/reports/conversations?from=2026-10-01&to=2026-10-31&group_by=category",
        Value::Null,
    )
    .await;
    assert_eq!(
        empty,
        json!({"items": [], "totals": {"key": "total", "closed": 0,
            "first_response_seconds": {"p50": null, "p90": null}, "resolution_seconds": {"p50": null, "p90": null}}})
    );
}
