//! The directory and the export: member search and removal, the CSV of a view.

use super::*;

/// The CSV export has the contract's header and one row per conversation of the view, in order.
pub async fn csv_export_matches_the_view(base: &str) {
    let ws = ready(base, "export").await;
    let mut convs = Vec::new();
    for name in ["Ann", "Ben", "Cleo", "Dan"] {
        convs.push(ws.conversation(name).await);
    }
    ws.act(BOB, &convs[0], "labels", json!({"add": ["billing", "vip"]}))
        .await
        .expect(200);
    ws.act(BOB, &convs[1], "assign", json!({"member_id": "carol"}))
        .await
        .expect(200);
    ws.act(BOB, &convs[2], "status", json!({"status": "closed"}))
        .await
        .expect(200);
    ws.act(BOB, &convs[3], "team", json!({"team_id": "support"}))
        .await
        .expect(200);

    for query in [
        "view=unresolved",
        "view=all",
        "view=resolved",
        "view=all&label=billing",
    ] {
        let r = ws
            .get(BOB, &format!("/conversations/export.csv?{query}"))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(
            r.header("content-type")
                .unwrap_or_default()
                .starts_with("text/csv")
        );
        let mut lines = r.text.lines();
        assert_eq!(
            lines.next(),
            Some(
                "id,contact_name,contact_email,contact_phone,channel_id,status,assignee,team,agent,labels,created_at,last_activity_at,closed_at,closing_source,closing_category,closing_summary"
            )
        );
        let rows: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
        let ids: Vec<String> = rows
            .iter()
            .map(|l| l.split(',').next().unwrap_or_default().to_string())
            .collect();
        assert_eq!(ids, ws.view_ids(BOB, query).await, "{query}");
        if query == "view=all&label=billing" {
            assert!(rows[0].contains("billing;vip"), "{}", rows[0]);
        }
    }
    // A viewer may not export.
    ws.get(VIC, "/conversations/export.csv?view=all")
        .await
        .problem(403, "forbidden");
}

/// Member search by name and email (AI agents beside), and removal unassigns.
pub async fn members_search_and_removal(base: &str) {
    let ws = ready(base, "members").await;
    let r = ws.get(VIC, "/members?q=bo").await.expect(200);
    let ids: Vec<&str> = r["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|m| m["id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(ids, ["bob"]);
    assert_eq!(r["items"][0]["initials"], "BR");
    assert_eq!(r["items"][0]["email"], "bob@example.com");
    let r = ws
        .get(VIC, &format!("/members?q={}", enc("CAROL@EXAMPLE")))
        .await
        .expect(200);
    assert_eq!(r["items"][0]["id"], "carol");
    let r = ws.get(VIC, "/members?q=ma").await.expect(200);
    assert_eq!(
        r["agents"],
        json!([{"id": "max", "name": "Max", "kind": "ai"}])
    );
    assert_eq!(r["items"], json!([]));

    let conv = ws.conversation("Ann").await;
    ws.act(BOB, &conv, "assign", json!({"member_id": "carol"}))
        .await
        .expect(200);
    // Only admins manage members.
    ws.delete(BOB, "/members/carol")
        .await
        .problem(403, "forbidden");
    let r = ws.delete(ADA, "/members/carol").await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(ws.conv(BOB, &conv).await["assignee"], Value::Null);
    let timeline = ws.timeline(&conv).await;
    assert_eq!(
        last(&timeline, "unassigned")["data"]["reason"],
        "member_removed"
    );
    let r = ws.get(VIC, "/members?q=carol").await.expect(200);
    assert_eq!(r["items"], json!([]));
    ws.act(BOB, &conv, "assign", json!({"member_id": "carol"}))
        .await
        .problem(422, "unknown_member");
}

/// Blocking a contact with more conversations than a request changes: the
/// answer names a job (`Location`), the job refreshes the rest in the
/// background (the oldest, as the request takes the newest 100), and every
/// open conversation gets `contact_blocked` exactly once.
pub async fn contact_change_continues_as_a_job(base: &str) {
    let ws = ready(base, "contact_job").await;
    let first = ws.conversation("Ann").await;
    let contact = ws.conv(BOB, &first).await["contact"]["id"].clone();
    let mut convs = vec![first];
    for _ in 0..104 {
        let c = ws
            .post(BOB, "/conversations", json!({"contact_id": contact}))
            .await
            .expect(201);
        convs.push(c["id"].as_str().unwrap_or_default().to_string());
    }
    let contact = contact.as_str().unwrap_or_default().to_string();
    let r = ws
        .post(BOB, &format!("/contacts/{contact}/block"), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let job = r.header("location").expect("a job for the rest");
    assert!(job.starts_with("/jobs/job_"), "{job}");
    let mut status = Value::Null;
    for _ in 0..300 {
        status = ws.get(VIC, &job).await.expect(200);
        if status["status"] != "running" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status["status"], "done", "{status}");
    assert_eq!(status["kind"], "contact_refresh");
    assert_eq!(status["subject"], contact.as_str());
    assert_eq!(
        (&status["done"], &status["total"]),
        (&json!(105), &json!(105))
    );
    let listed = ws.all_pages("/conversations?view=all").await;
    assert_eq!(listed.len(), 105);
    assert!(
        listed.iter().all(|c| c["contact"]["blocked"] == true),
        "every snapshot refreshed"
    );
    // The job's part: the oldest five.
    for conv in &convs[..5] {
        let blocked = ws
            .timeline_types(conv)
            .await
            .iter()
            .filter(|t| *t == "contact_blocked")
            .count();
        assert_eq!(blocked, 1, "{conv}");
    }
}

/// An export job: 202 with `Location`, followed until `done`, and its link
/// downloads the same CSV the direct export answers; an altered link is refused.
pub async fn export_as_a_job(base: &str) {
    let ws = ready(base, "export_job").await;
    for name in ["Ann", "Ben", "Cleo"] {
        ws.conversation(name).await;
    }
    let r = ws
        .post(BOB, "/conversations/exports", json!({"view": "all"}))
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let location = r.header("location").expect("the export's location");
    let mut status = Value::Null;
    for _ in 0..300 {
        status = ws.get(BOB, &location).await.expect(200);
        if status["status"] != "running" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        (&status["status"], &status["rows"]),
        (&json!("done"), &json!(3)),
        "{status}"
    );
    let url = status["url"].as_str().expect("a link").to_string();
    let client = reqwest::Client::new();
    let file = client.get(&url).send().await.expect("download");
    assert_eq!(file.status(), 200);
    let file = file.text().await.expect("the file");
    let direct = ws.get(BOB, "/conversations/export.csv?view=all").await;
    assert_eq!(direct.status, 200);
    assert_eq!(file, direct.text);
    let altered = url.replace("signature=", "signature=0");
    assert_eq!(
        client.get(&altered).send().await.expect("refused").status(),
        403
    );
    // Someone else's export is not theirs to read.
    ws.get(CAROL, &location).await.problem(404, "not_found");
}
