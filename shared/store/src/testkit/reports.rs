//! Report aggregates: facts saved only over the facts they were folded
//! from, counters added (never overwritten) in the same write, day ranges
//! read back in order and per workspace.

use super::SuiteConfig;
use super::fixtures::run_tag;
use crate::port::{ReportStore, StoreError};
use inbox_domain::reports::{Day, DayCounters, GroupBy, ReportFacts};
use std::collections::BTreeMap;

fn day(s: &str) -> Day {
    Day::parse(s).expect("a test day")
}

fn counters(entries: &[(&str, &[(&str, i64)])]) -> BTreeMap<Day, BTreeMap<String, i64>> {
    entries
        .iter()
        .map(|(d, c)| (day(d), c.iter().map(|(n, v)| (n.to_string(), *v)).collect()))
        .collect()
}

fn facts(rev: u64, version: u64) -> ReportFacts {
    ReportFacts {
        rev,
        version,
        applied: vec![format!("evt_{version}")],
        assignee: Some("ana".into()),
        ..ReportFacts::default()
    }
}

/// The first save of a conversation's facts holds only if none are stored,
/// each later one only over the `rev` before it; a refused save writes
/// neither the facts nor the counters. Counters add up across saves and
/// conversations (negative amounts take back), names with any characters
/// read back, and a range lists its workspace's days oldest first, both
/// ends included, with the counters of the grouping's dimension only.
pub async fn check_report_store<S: ReportStore + ?Sized>(store: &S, _cfg: &SuiteConfig) {
    let tag = run_tag();
    let (a, b) = (format!("rep-a-{tag}"), format!("rep-b-{tag}"));
    assert_eq!(store.report_facts(&a, "c1").await.expect("read"), None);

    // A key with the characters a category may hold (`#` included).
    let odd = "n|cat|a%7Cb é#1";
    let first = counters(&[
        ("2026-03-01", &[("n|src|manual", 1), (odd, 1)]),
        ("2026-03-03", &[("n|src|manual", 2)]),
    ]);
    store
        .save_report(&a, "c1", &facts(1, 3), &first)
        .await
        .expect("first save");
    assert_eq!(
        store.report_facts(&a, "c1").await.expect("read"),
        Some(facts(1, 3))
    );

    // Another aggregator folded from nothing too: refused, nothing written.
    let refused = store
        .save_report(
            &a,
            "c1",
            &facts(1, 4),
            &counters(&[("2026-03-01", &[("n|src|manual", 50)])]),
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict)),
        "a second first save: {refused:?}"
    );
    // A save over a rev that is not the stored one: refused too.
    let refused = store
        .save_report(
            &a,
            "c1",
            &facts(3, 4),
            &counters(&[("2026-03-01", &[("n|src|manual", 50)])]),
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict)),
        "a save over rev 2: {refused:?}"
    );
    assert_eq!(
        store.report_facts(&a, "c1").await.expect("read"),
        Some(facts(1, 3))
    );

    let second = counters(&[
        (
            "2026-03-01",
            &[("n|src|manual", -1), ("n|src|auto_close", 1)],
        ),
        ("2026-03-02", &[("s|2026-03-01|n|src|manual", 1)]),
    ]);
    store
        .save_report(&a, "c1", &facts(2, 5), &second)
        .await
        .expect("second save");
    store
        .save_report(
            &a,
            "c2",
            &facts(1, 1),
            &counters(&[("2026-03-03", &[("n|src|manual", 1)])]),
        )
        .await
        .expect("another conversation");
    store
        .save_report(
            &b,
            "c1",
            &facts(1, 1),
            &counters(&[("2026-03-02", &[("n|src|manual", 9)])]),
        )
        .await
        .expect("another workspace");
    // Facts alone (no counters) are a save too.
    store
        .save_report(&a, "c2", &facts(2, 2), &BTreeMap::new())
        .await
        .expect("facts only");
    assert_eq!(
        store.report_facts(&a, "c2").await.expect("read"),
        Some(facts(2, 2))
    );

    let read = |from: &str, to: &str| {
        let (from, to) = (day(from), day(to));
        let a = a.clone();
        async move {
            store
                .report_days(&a, from, to, GroupBy::ClosingSource)
                .await
                .expect("days")
        }
    };
    let all = read("2026-02-01", "2026-04-01").await;
    let expected = vec![
        DayCounters {
            day: day("2026-03-01"),
            counters: [
                ("n|src|manual".to_string(), 0),
                ("n|src|auto_close".to_string(), 1),
            ]
            .into_iter()
            .collect(),
        },
        DayCounters {
            day: day("2026-03-02"),
            counters: [("s|2026-03-01|n|src|manual".to_string(), 1)]
                .into_iter()
                .collect(),
        },
        DayCounters {
            day: day("2026-03-03"),
            counters: [("n|src|manual".to_string(), 3)].into_iter().collect(),
        },
    ];
    assert_eq!(
        all, expected,
        "every day of the range, oldest first, counters added up, only the closing source's"
    );
    let by_category = store
        .report_days(&a, day("2026-02-01"), day("2026-04-01"), GroupBy::Category)
        .await
        .expect("days");
    assert_eq!(
        by_category,
        vec![DayCounters {
            day: day("2026-03-01"),
            counters: [(odd.to_string(), 1)].into_iter().collect(),
        }],
        "a grouping reads its own dimension's counters"
    );
    assert_eq!(
        read("2026-03-02", "2026-03-03").await,
        expected[1..].to_vec(),
        "both ends included"
    );
    assert_eq!(
        read("2026-03-04", "2026-12-31").await,
        Vec::new(),
        "no days after"
    );
    let other = store
        .report_days(
            &b,
            day("2026-01-01"),
            day("2026-12-31"),
            GroupBy::ClosingSource,
        )
        .await
        .expect("other workspace");
    assert_eq!(other.len(), 1, "a workspace reads only its own days");
    assert_eq!(other[0].counters.get("n|src|manual"), Some(&9));
}
