use super::*;
use crate::model::{ActorRef, Message, Sender, TimelineEvent};
use proptest::prelude::*;

const DAY: i64 = 86_400;
/// 2026-11-01T00:00:00Z.
const T0: i64 = 1_793_491_200;

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_unix_seconds(T0 + seconds)
}

/// Stored changes of one conversation, a version per step.
struct Script {
    conv: String,
    version: u64,
    n: u64,
    changes: Vec<StoredChange>,
}

impl Script {
    fn new(conv: &str) -> Script {
        Script {
            conv: conv.into(),
            version: 0,
            n: 0,
            changes: Vec::new(),
        }
    }
    fn next_version(&mut self) {
        self.version += 1;
    }
    fn push(&mut self, record: StoredRecord) {
        self.changes.push(StoredChange {
            workspace_id: "ws".into(),
            conversation_id: self.conv.clone(),
            version: self.version,
            record,
        });
    }
    fn event(&mut self, kind: EventKind, s: i64) {
        self.n += 1;
        let e = TimelineEvent {
            id: format!("evt_{}_{}", self.conv, self.n),
            conversation_id: self.conv.clone(),
            kind,
            at: at(s),
            actor: ActorRef::system(),
        };
        self.push(StoredRecord::TimelineAdded(e));
    }
    fn message(&mut self, kind: SenderKind, s: i64) {
        self.n += 1;
        let m = Message {
            id: format!("msg_{}_{}", self.conv, self.n),
            conversation_id: self.conv.clone(),
            sender: Sender {
                kind,
                id: None,
                name: None,
            },
            body: "hi".into(),
            created_at: at(s),
            channel_message_id: None,
            delivery: None,
        };
        self.push(StoredRecord::MessageAdded(m));
    }
    fn created(&mut self, s: i64, channel: Option<&str>) {
        self.next_version();
        self.event(
            EventKind::ConversationCreated {
                channel_id: channel.map(String::from),
                contact_id: "c".into(),
            },
            s,
        );
    }
    fn contact(&mut self, s: i64) {
        self.next_version();
        self.message(SenderKind::Contact, s);
    }
    fn reply(&mut self, s: i64) {
        self.next_version();
        self.message(SenderKind::Member, s);
    }
    fn assign(&mut self, to: &str, s: i64) {
        self.next_version();
        self.event(
            EventKind::Assigned {
                from: None,
                to: to.into(),
                reason: None,
            },
            s,
        );
    }
    fn close(&mut self, source: StatusSource, category: Option<&str>, s: i64) {
        self.next_version();
        self.event(
            EventKind::StatusChanged {
                from: Status::Open,
                to: Status::Closed,
                source,
            },
            s,
        );
        if let Some(c) = category {
            self.event(
                EventKind::ClosingNoteAdded {
                    category: Some(c.into()),
                    summary: None,
                    generated: false,
                    generator: None,
                },
                s,
            );
        }
    }
    fn reopen(&mut self, s: i64) {
        self.next_version();
        self.event(
            EventKind::StatusChanged {
                from: Status::Closed,
                to: Status::Open,
                source: StatusSource::ContactMessage,
            },
            s,
        );
        self.message(SenderKind::Contact, s);
    }
}

/// Folds changes into fresh facts per conversation and day counters, as the aggregator does.
fn aggregate(changes: &[StoredChange]) -> Vec<DayCounters> {
    let mut facts: BTreeMap<String, ReportFacts> = BTreeMap::new();
    let mut deltas = Vec::new();
    for c in changes {
        deltas.extend(facts.entry(c.conversation_id.clone()).or_default().fold(c));
    }
    merge_deltas(deltas)
        .into_iter()
        .map(|(day, counters)| DayCounters { day, counters })
        .collect()
}

fn day(offset_days: i64) -> Day {
    Day::of(at(offset_days * DAY))
}

fn query(from: i64, to: i64, group_by: GroupBy) -> ReportQuery {
    ReportQuery {
        from: day(from),
        to: day(to),
        group_by,
    }
}

fn closed_by_key(r: &Report) -> BTreeMap<String, i64> {
    r.items
        .iter()
        .filter(|i| i.closed != 0)
        .map(|i| (i.key.clone(), i.closed))
        .collect()
}

#[test]
fn days_parse_and_print_as_the_contract_writes_them() {
    let d = Day::parse("2026-02-28").unwrap();
    assert_eq!(d.to_string(), "2026-02-28");
    assert_eq!(d.next().to_string(), "2026-03-01");
    for bad in [
        "2026-02-30",
        "2026-2-28",
        "20260228",
        "2026-02-28T00:00:00Z",
        "",
        "+026-02-28",
    ] {
        assert_eq!(Day::parse(bad), None, "{bad}");
    }
    assert_eq!(Day::of(at(0)).to_string(), "2026-11-01");
    assert_eq!(Day::of(at(DAY - 1)).to_string(), "2026-11-01");
    assert_eq!(day(1).start(), at(DAY));
}

#[test]
fn a_query_names_a_range_of_at_most_366_days_and_a_known_grouping() {
    let q = |s: &[(&'static str, &'static str)]| ReportQuery::parse(s.iter().copied());
    let ok = q(&[
        ("from", "2026-01-01"),
        ("to", "2026-12-31"),
        ("group_by", "category"),
    ])
    .unwrap();
    assert_eq!(ok.group_by, GroupBy::Category);
    assert!(
        q(&[
            ("from", "2025-01-01"),
            ("to", "2026-01-01"),
            ("group_by", "day")
        ])
        .is_ok(),
        "366 days"
    );
    for bad in [
        vec![
            ("from", "2025-01-01"),
            ("to", "2026-01-02"),
            ("group_by", "day"),
        ],
        vec![
            ("from", "2026-01-02"),
            ("to", "2026-01-01"),
            ("group_by", "day"),
        ],
        vec![("from", "2026-01-01"), ("group_by", "day")],
        vec![("from", "2026-01-01"), ("to", "2026-01-01")],
        vec![
            ("from", "2026-01-01"),
            ("to", "2026-01-01"),
            ("group_by", "team"),
        ],
        vec![
            ("from", "yesterday"),
            ("to", "2026-01-01"),
            ("group_by", "day"),
        ],
        vec![
            ("from", "2026-01-01"),
            ("to", "2026-01-01"),
            ("group_by", "day"),
            ("limit", "3"),
        ],
        vec![
            ("from", "2026-01-01"),
            ("from", "2026-01-01"),
            ("to", "2026-01-01"),
            ("group_by", "day"),
        ],
    ] {
        assert!(
            matches!(q(&bad), Err(DomainError::BadRequest(_))),
            "{bad:?}"
        );
    }
}

#[test]
fn buckets_are_exact_below_64_seconds_and_within_about_three_percent_above() {
    for s in 0..64 {
        assert_eq!(bucket_value(bucket_of(s)), s);
    }
    for s in [
        64u64, 65, 67, 100, 599, 3_600, 86_399, 2_592_000, 31_536_000,
    ] {
        let v = bucket_value(bucket_of(s)) as f64;
        assert!(
            (v - s as f64).abs() / s as f64 <= 0.032,
            "{s} read back as {v}"
        );
    }
    let mut last = 0;
    for s in 0..200_000u64 {
        let b = bucket_of(s);
        assert!(b >= last, "buckets grow with the duration");
        last = b;
    }
}

#[test]
fn percentiles_are_nearest_rank() {
    assert_eq!(percentile_of_durations(&[], 50), None);
    assert_eq!(percentile_of_durations(&[7], 90), Some(7));
    let v: Vec<u64> = (1..=10).collect();
    assert_eq!(percentile_of_durations(&v, 50), Some(5));
    assert_eq!(percentile_of_durations(&v, 90), Some(9));
    assert_eq!(percentile_of_durations(&[1, 2, 3], 50), Some(2));
}

#[test]
fn counter_names_read_back_whatever_the_key() {
    for key in ["billing", "a|b", "100%", "%7C", "none", "é|%|"] {
        for superseded in [None, Some(day(3))] {
            for stat in [Stat::Closed, Stat::FirstResponse(70), Stat::Resolution(0)] {
                let c = Counter {
                    superseded,
                    stat,
                    dimension: Dimension::Category,
                    key: key.into(),
                };
                assert_eq!(Counter::parse(&c.name()), Some(c.clone()), "{}", c.name());
            }
        }
    }
    assert_eq!(Counter::parse("x|cat|a"), None);
    assert_eq!(Counter::parse("n|cat|a|b"), None);
}

#[test]
fn a_close_counts_its_source_category_assignee_channel_and_times() {
    let mut s = Script::new("a");
    s.created(0, Some("sms"));
    s.contact(10);
    s.assign("ana", 20);
    s.reply(70);
    s.close(StatusSource::Manual, Some("billing"), 3_600);
    let days = aggregate(&s.changes);
    let by = |g| report(&query(0, 0, g), &days);
    assert_eq!(
        closed_by_key(&by(GroupBy::ClosingSource)),
        [("manual".to_string(), 1)].into()
    );
    assert_eq!(
        closed_by_key(&by(GroupBy::Category)),
        [("billing".to_string(), 1)].into()
    );
    assert_eq!(
        closed_by_key(&by(GroupBy::Assignee)),
        [("ana".to_string(), 1)].into()
    );
    assert_eq!(
        closed_by_key(&by(GroupBy::Channel)),
        [("sms".to_string(), 1)].into()
    );
    let r = by(GroupBy::ClosingSource);
    assert_eq!(r.totals.closed, 1);
    assert_eq!(
        r.totals.first_response_seconds,
        Percentiles {
            p50: Some(60),
            p90: Some(60)
        }
    );
    assert_eq!(
        r.totals.resolution_seconds.p50,
        Some(bucket_value(bucket_of(3_600)))
    );
}

#[test]
fn no_human_reply_before_the_close_is_no_first_response() {
    let mut s = Script::new("a");
    s.created(0, None);
    s.contact(10);
    s.close(StatusSource::AutoClose, None, 100);
    let r = report(&query(0, 0, GroupBy::Category), &aggregate(&s.changes));
    assert_eq!(closed_by_key(&r), [("none".to_string(), 1)].into());
    assert_eq!(r.totals.first_response_seconds, Percentiles::default());
    assert_eq!(
        r.totals.resolution_seconds.p50,
        Some(bucket_value(bucket_of(100)))
    );
}

#[test]
fn a_reply_before_the_contact_wrote_is_not_a_first_response() {
    let mut s = Script::new("a");
    s.created(0, None);
    s.reply(5);
    s.contact(10);
    s.reply(40);
    s.close(StatusSource::Manual, None, 100);
    let r = report(&query(0, 0, GroupBy::Day), &aggregate(&s.changes));
    assert_eq!(r.totals.first_response_seconds.p50, Some(30));
}

#[test]
fn a_conversation_closed_twice_counts_once_by_its_last_close_in_the_range() {
    let mut s = Script::new("a");
    s.created(0, None);
    s.contact(10);
    s.close(StatusSource::AutoClose, None, 2 * DAY);
    s.reopen(5 * DAY);
    s.assign("ana", 5 * DAY + 1);
    s.close(StatusSource::Manual, Some("refund"), 9 * DAY);
    let days = aggregate(&s.changes);
    let src = |from, to| closed_by_key(&report(&query(from, to, GroupBy::ClosingSource), &days));
    assert_eq!(
        src(0, 30),
        [("manual".to_string(), 1)].into(),
        "both closes in range: the last"
    );
    assert_eq!(
        src(0, 4),
        [("auto_close".to_string(), 1)].into(),
        "only the first in range"
    );
    assert_eq!(
        src(3, 30),
        [("manual".to_string(), 1)].into(),
        "only the second in range"
    );
    assert_eq!(src(3, 8), BTreeMap::new(), "neither");
    let by_day = report(&query(0, 30, GroupBy::Day), &days);
    assert_eq!(by_day.items.len(), 31, "every day of the range is a row");
    assert_eq!(closed_by_key(&by_day), [(day(9).to_string(), 1)].into());
    assert_eq!(by_day.totals.closed, 1);
    let r = report(&query(0, 30, GroupBy::Assignee), &days);
    assert_eq!(closed_by_key(&r), [("ana".to_string(), 1)].into());
    assert_eq!(
        r.totals.resolution_seconds.p50,
        Some(bucket_value(bucket_of((9 * DAY) as u64)))
    );
}

#[test]
fn a_reopened_conversation_still_open_keeps_its_close() {
    let mut s = Script::new("a");
    s.created(0, None);
    s.close(StatusSource::Manual, None, 10);
    s.reopen(DAY);
    let r = report(&query(0, 5, GroupBy::ClosingSource), &aggregate(&s.changes));
    assert_eq!(r.totals.closed, 1);
}

#[test]
fn closes_on_the_same_day_count_once() {
    let mut s = Script::new("a");
    s.created(0, None);
    s.close(StatusSource::Manual, Some("x"), 10);
    s.reopen(20);
    s.close(StatusSource::AutoClose, Some("y"), 30);
    let days = aggregate(&s.changes);
    assert_eq!(
        closed_by_key(&report(&query(0, 0, GroupBy::Category), &days)),
        [("y".to_string(), 1)].into()
    );
    assert_eq!(
        closed_by_key(&report(&query(0, 0, GroupBy::Day), &days)),
        [(day(0).to_string(), 1)].into()
    );
}

#[test]
fn a_folded_change_folds_nothing_the_second_time() {
    let mut s = Script::new("a");
    s.created(0, None);
    s.contact(10);
    s.close(StatusSource::Manual, Some("x"), 100);
    let mut facts = ReportFacts::default();
    let first: Vec<_> = s.changes.iter().flat_map(|c| facts.fold(c)).collect();
    assert!(!first.is_empty());
    let settled = facts.clone();
    for c in &s.changes {
        assert_eq!(facts.fold(c), Vec::new());
    }
    assert_eq!(facts, settled);
}

#[test]
fn a_commit_split_across_two_batches_folds_each_record_once() {
    let mut s = Script::new("a");
    s.created(0, None);
    s.close(StatusSource::Manual, Some("x"), 100);
    let (status, note) = (s.changes[1].clone(), s.changes[2].clone());
    let mut facts = ReportFacts::default();
    let mut deltas = facts.fold(&s.changes[0]);
    deltas.extend(facts.fold(&status));
    deltas.extend(facts.fold(&status));
    deltas.extend(facts.fold(&note));
    deltas.extend(facts.fold(&status));
    deltas.extend(facts.fold(&note));
    let days: Vec<_> = merge_deltas(deltas)
        .into_iter()
        .map(|(day, counters)| DayCounters { day, counters })
        .collect();
    assert_eq!(
        closed_by_key(&report(&query(0, 0, GroupBy::Category), &days)),
        [("x".to_string(), 1)].into()
    );
}

/// One conversation's story, for the property test.
#[derive(Debug, Clone)]
enum Step {
    Contact,
    Reply,
    Assign(u8),
    Close(bool, Option<u8>),
    Reopen,
}

fn step() -> impl Strategy<Value = (Step, i64)> {
    let s = prop_oneof![
        Just(Step::Contact),
        Just(Step::Reply),
        (0u8..3).prop_map(Step::Assign),
        (any::<bool>(), proptest::option::of(0u8..3)).prop_map(|(m, c)| Step::Close(m, c)),
        Just(Step::Reopen),
    ];
    (s, 1i64..(3 * DAY))
}

/// What the report should say, computed from the stories directly.
#[derive(Debug, Clone)]
struct Close {
    at: i64,
    key: [String; 4],
    frt: Option<u64>,
    res: u64,
}

fn story(conv: usize, steps: &[(Step, i64)], script: &mut Script) -> Vec<Close> {
    let mut t = (conv as i64 * 7_919) % (5 * DAY);
    script.created(t, Some(["sms", "wa"][conv % 2]));
    let (created, mut first_contact, mut first_reply, mut assignee, mut closed) =
        (t, None, None, None::<String>, false);
    let mut closes = Vec::new();
    for (s, dt) in steps {
        t += dt;
        match s {
            Step::Contact if !closed => {
                script.contact(t);
                first_contact.get_or_insert(t);
            }
            Step::Reply if !closed => {
                script.reply(t);
                if first_contact.is_some() {
                    first_reply.get_or_insert(t);
                }
            }
            Step::Assign(m) if !closed => {
                let who = format!("m{m}");
                script.assign(&who, t);
                assignee = Some(who);
            }
            Step::Close(manual, cat) if !closed => {
                let category = cat.map(|c| format!("cat{c}"));
                script.close(
                    if *manual {
                        StatusSource::Manual
                    } else {
                        StatusSource::AutoClose
                    },
                    category.as_deref(),
                    t,
                );
                closed = true;
                closes.push(Close {
                    at: t,
                    key: [
                        if *manual { "manual" } else { "auto_close" }.to_string(),
                        category.unwrap_or_else(|| "none".into()),
                        assignee.clone().unwrap_or_else(|| "none".into()),
                        ["sms", "wa"][conv % 2].to_string(),
                    ],
                    frt: first_reply.and_then(|r: i64| first_contact.map(|c: i64| (r - c) as u64)),
                    res: (t - created) as u64,
                });
            }
            Step::Reopen if closed => {
                script.reopen(t);
                first_contact.get_or_insert(t);
                closed = false;
            }
            _ => {}
        }
    }
    closes
}

fn expected(
    stories: &[Vec<Close>],
    q: &ReportQuery,
) -> (BTreeMap<String, i64>, Percentiles, Percentiles) {
    let index = match q.group_by {
        GroupBy::ClosingSource | GroupBy::Day => 0,
        GroupBy::Category => 1,
        GroupBy::Assignee => 2,
        GroupBy::Channel => 3,
    };
    let mut counts = BTreeMap::new();
    let (mut frt, mut res) = (Vec::new(), Vec::new());
    for closes in stories {
        let last = closes.iter().rev().find(|c| {
            let d = Day::of(at(c.at));
            d >= q.from && d <= q.to
        });
        if let Some(c) = last {
            let key = if q.group_by == GroupBy::Day {
                Day::of(at(c.at)).to_string()
            } else {
                c.key[index].clone()
            };
            *counts.entry(key).or_insert(0) += 1;
            frt.extend(c.frt);
            res.push(c.res);
        }
    }
    let p = |v: &[u64]| Percentiles {
        p50: percentile_of_durations(v, 50),
        p90: percentile_of_durations(v, 90),
    };
    (counts, p(&frt), p(&res))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Whatever the stories, the range and the grouping, the report counts
    /// each conversation once by its last close in the range, and a
    /// stream that hands records over again changes nothing.
    #[test]
    fn the_report_is_what_the_timelines_say(
        stories in proptest::collection::vec(proptest::collection::vec(step(), 0..12), 1..12),
        from in 0i64..20,
        len in 0i64..20,
        g in 0usize..5,
        replay in proptest::collection::vec(any::<prop::sample::Index>(), 0..20),
    ) {
        let mut scripts = Vec::new();
        let mut truth = Vec::new();
        for (i, steps) in stories.iter().enumerate() {
            let mut s = Script::new(&format!("c{i}"));
            truth.push(story(i, steps, &mut s));
            scripts.push(s);
        }
        let mut changes: Vec<StoredChange> = scripts.into_iter().flat_map(|s| s.changes).collect();
        // Records handed over again right after they were first handled.
        let picks: Vec<usize> = replay.iter().map(|ix| ix.index(changes.len().max(1))).collect();
        let mut with_replays = Vec::new();
        for (i, c) in changes.drain(..).enumerate() {
            with_replays.push(c.clone());
            for _ in picks.iter().filter(|p| **p == i) {
                with_replays.push(c.clone());
            }
        }
        let q = query(from, from + len, GroupBy::ALL[g]);
        let r = report(&q, &aggregate(&with_replays));
        let (counts, frt, res) = expected(&truth, &q);
        prop_assert_eq!(closed_by_key(&r), counts.clone());
        prop_assert_eq!(r.totals.closed, counts.values().sum::<i64>());
        prop_assert_eq!(r.totals.first_response_seconds, frt);
        prop_assert_eq!(r.totals.resolution_seconds, res);
    }
}
