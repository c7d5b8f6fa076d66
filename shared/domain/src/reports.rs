//! Reports: the rules that turn a conversation's stored changes into
//! per-day counters, and per-day counters into a report.
//!
//! The aggregator keeps, per conversation, the [`ReportFacts`] it has seen
//! (creation, channel, assignee, first contact message, first human reply,
//! the close it counts) and folds each stored change into them with
//! [`ReportFacts::fold`], which yields [`CounterDelta`]s for the day items.
//! A change the facts have already seen yields nothing, so a replayed
//! stream record counts once.
//!
//! A report over `[from, to]` counts each conversation once, by its last
//! close in the range. A day's counters hold every close made that day; when
//! a conversation is closed again, the later close's day also records the
//! earlier close as superseded (`s|<earlier day>|…`), and a report subtracts
//! that entry when the earlier day is in its range too. Reading a report is
//! then one pass over the range's day items, whatever the number of
//! conversations.

use crate::DomainError;
use crate::model::{ClosingSource, EventKind, SenderKind, Status, StatusSource};
use crate::time::Timestamp;
use crate::webhooks::{StoredChange, StoredRecord};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The longest report, in days (both ends included).
pub const MAX_REPORT_DAYS: i64 = 366;

/// Durations below this many seconds have a bucket each (exact).
const EXACT_SECONDS: u64 = 64;
/// Above [`EXACT_SECONDS`], each bucket is this much wider than the last.
const BUCKET_GROWTH: f64 = 1.05;

/// A UTC calendar day, `YYYY-MM-DD` on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(time::Date);

impl Day {
    /// Parses `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<Day> {
        let b = s.as_bytes();
        let digits = |r: std::ops::Range<usize>| {
            b[r.clone()]
                .iter()
                .all(u8::is_ascii_digit)
                .then(|| s[r].parse::<u16>().ok())
                .flatten()
        };
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let year = i32::from(digits(0..4)?);
        let month = time::Month::try_from(u8::try_from(digits(5..7)?).ok()?).ok()?;
        let day = u8::try_from(digits(8..10)?).ok()?;
        time::Date::from_calendar_date(year, month, day)
            .ok()
            .map(Day)
    }

    /// The UTC day `at` falls on.
    pub fn of(at: Timestamp) -> Day {
        let date = time::OffsetDateTime::from_unix_timestamp(at.unix_seconds())
            .map(|t| t.date())
            .unwrap_or(time::Date::MIN);
        Day(date)
    }

    /// The day after this one (the last representable day stays itself).
    pub fn next(self) -> Day {
        Day(self.0.next_day().unwrap_or(self.0))
    }

    /// Days from `earlier` to this one (negative when `earlier` is later).
    pub fn days_since(self, earlier: Day) -> i64 {
        (self.0 - earlier.0).whole_days()
    }

    /// Midnight UTC at the start of this day.
    pub fn start(self) -> Timestamp {
        Timestamp::from_unix_seconds(self.0.midnight().assume_utc().unix_timestamp())
    }
}

impl Default for Day {
    fn default() -> Self {
        Day(time::Date::MIN)
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.0.year(),
            u8::from(self.0.month()),
            self.0.day()
        )
    }
}

impl Serialize for Day {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Day::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("not a day: {s}")))
    }
}

/// The bucket a duration falls in: exact below 64 seconds, then buckets 5 %
/// wider each, so a percentile read back is within 3.2 % of the true one.
pub fn bucket_of(seconds: u64) -> u32 {
    if seconds < EXACT_SECONDS {
        return seconds as u32;
    }
    let steps = ((seconds as f64) / (EXACT_SECONDS as f64)).ln() / BUCKET_GROWTH.ln();
    EXACT_SECONDS as u32 + steps.floor() as u32
}

/// The duration a bucket stands for: itself below 64 seconds, else the
/// geometric middle of the bucket, in whole seconds.
pub fn bucket_value(bucket: u32) -> u64 {
    if u64::from(bucket) < EXACT_SECONDS {
        return u64::from(bucket);
    }
    let steps = f64::from(bucket - EXACT_SECONDS as u32) + 0.5;
    ((EXACT_SECONDS as f64) * BUCKET_GROWTH.powf(steps)).round() as u64
}

/// The nearest-rank percentile `p` (1..=100) of `n` values held as bucket
/// counts, read back as [`bucket_value`]; `None` without values.
pub fn percentile(buckets: &BTreeMap<u32, i64>, p: u32) -> Option<u64> {
    let n: i64 = buckets.values().filter(|c| **c > 0).sum();
    if n <= 0 {
        return None;
    }
    let rank = (i64::from(p) * n + 99) / 100;
    let mut seen = 0;
    for (bucket, count) in buckets {
        if *count <= 0 {
            continue;
        }
        seen += count;
        if seen >= rank.max(1) {
            return Some(bucket_value(*bucket));
        }
    }
    None
}

/// The nearest-rank percentile `p` of exact durations, read back as the
/// report reads it: what a test computes from timelines to compare.
pub fn percentile_of_durations(values: &[u64], p: u32) -> Option<u64> {
    let mut buckets = BTreeMap::new();
    for v in values {
        *buckets.entry(bucket_of(*v)).or_insert(0) += 1;
    }
    percentile(&buckets, p)
}

/// How a report groups its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// `manual` or `auto_close`: the source of the last close in the range.
    ClosingSource,
    /// The closing note's category, or `none`.
    Category,
    /// The member assigned when it closed, or `none`.
    Assignee,
    /// The channel it ran on when it closed, or `none`.
    Channel,
    /// The UTC day of its last close in the range.
    Day,
}

impl GroupBy {
    /// Every grouping, in the contract's order.
    pub const ALL: [GroupBy; 5] = [
        GroupBy::ClosingSource,
        GroupBy::Category,
        GroupBy::Assignee,
        GroupBy::Channel,
        GroupBy::Day,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::ClosingSource => "closing_source",
            GroupBy::Category => "category",
            GroupBy::Assignee => "assignee",
            GroupBy::Channel => "channel",
            GroupBy::Day => "day",
        }
    }

    /// Parses a `group_by=` value.
    pub fn parse(s: &str) -> Option<GroupBy> {
        GroupBy::ALL.into_iter().find(|g| g.as_str() == s)
    }

    /// The code of the counters this grouping reads (in every counter's
    /// name): what a store keeps apart so a report reads only its own.
    pub fn dimension_code(self) -> &'static str {
        self.dimension().code()
    }

    /// The counted dimension this grouping reads (`day` reads the closing
    /// source's counters, which every close has exactly one of).
    fn dimension(self) -> Dimension {
        match self {
            GroupBy::ClosingSource | GroupBy::Day => Dimension::ClosingSource,
            GroupBy::Category => Dimension::Category,
            GroupBy::Assignee => Dimension::Assignee,
            GroupBy::Channel => Dimension::Channel,
        }
    }
}

/// What the counters of a close are kept by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Dimension {
    ClosingSource,
    Category,
    Assignee,
    Channel,
}

impl Dimension {
    const ALL: [Dimension; 4] = [
        Dimension::ClosingSource,
        Dimension::Category,
        Dimension::Assignee,
        Dimension::Channel,
    ];

    fn code(self) -> &'static str {
        match self {
            Dimension::ClosingSource => "src",
            Dimension::Category => "cat",
            Dimension::Assignee => "asg",
            Dimension::Channel => "chn",
        }
    }

    fn from_code(s: &str) -> Option<Dimension> {
        Dimension::ALL.into_iter().find(|d| d.code() == s)
    }
}

/// A validated report request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportQuery {
    /// The first day, included.
    pub from: Day,
    /// The last day, included.
    pub to: Day,
    /// How rows are grouped.
    pub group_by: GroupBy,
}

impl ReportQuery {
    /// Parses `from`, `to` and `group_by` (all required); anything else, a
    /// repeated parameter, `to` before `from` or more than
    /// [`MAX_REPORT_DAYS`] days is 400 `bad_request`.
    pub fn parse<'a>(
        params: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<ReportQuery, DomainError> {
        let bad = |m: String| DomainError::BadRequest(m);
        let (mut from, mut to, mut group_by) = (None, None, None);
        for (k, v) in params {
            let slot_taken = match k {
                "from" => from.replace(v).is_some(),
                "to" => to.replace(v).is_some(),
                "group_by" => group_by.replace(v).is_some(),
                other => return Err(bad(format!("unknown parameter {other}"))),
            };
            if slot_taken {
                return Err(bad(format!("parameter {k} is given more than once")));
            }
        }
        let day = |name: &str, v: Option<&str>| -> Result<Day, DomainError> {
            let v = v.ok_or_else(|| bad(format!("parameter {name} is required (YYYY-MM-DD)")))?;
            Day::parse(v)
                .ok_or_else(|| bad(format!("parameter {name} is not a date (YYYY-MM-DD): {v}")))
        };
        let from = day("from", from)?;
        let to = day("to", to)?;
        let group_by = match group_by {
            None => {
                return Err(bad(format!(
                    "parameter group_by is required: one of {}",
                    group_names()
                )));
            }
            Some(v) => GroupBy::parse(v)
                .ok_or_else(|| bad(format!("group_by must be one of {}: {v}", group_names())))?,
        };
        if to < from {
            return Err(bad("to is before from".into()));
        }
        if to.days_since(from) + 1 > MAX_REPORT_DAYS {
            return Err(bad(format!(
                "a report covers at most {MAX_REPORT_DAYS} days"
            )));
        }
        Ok(ReportQuery { from, to, group_by })
    }
}

fn group_names() -> String {
    GroupBy::ALL.map(GroupBy::as_str).join(", ")
}

/// One close as the report counts it: where it falls and what it is grouped by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountedClose {
    /// Its UTC day.
    pub day: Day,
    /// Manual or by auto-close.
    pub source: ClosingSource,
    /// The closing note's category.
    #[serde(default)]
    pub category: Option<String>,
    /// The member assigned at the close.
    #[serde(default)]
    pub assignee: Option<String>,
    /// The channel at the close.
    #[serde(default)]
    pub channel: Option<String>,
    /// From the first contact message to the first human reply, if both came before the close.
    #[serde(default)]
    pub first_response_seconds: Option<u64>,
    /// From creation to this close, when the creation was seen.
    #[serde(default)]
    pub resolution_seconds: Option<u64>,
}

impl CountedClose {
    fn key(&self, dimension: Dimension) -> String {
        let or_none = |v: &Option<String>| v.clone().unwrap_or_else(|| NONE_KEY.to_string());
        match dimension {
            Dimension::ClosingSource => closing_source_key(self.source).to_string(),
            Dimension::Category => or_none(&self.category),
            Dimension::Assignee => or_none(&self.assignee),
            Dimension::Channel => or_none(&self.channel),
        }
    }

    /// The counters this close adds (`amount` 1) or takes back (-1) on the
    /// day it is written to; `superseded` names them as the entry of an
    /// earlier close that a later one replaced.
    fn deltas(&self, written_on: Day, superseded: bool, amount: i64) -> Vec<CounterDelta> {
        let mut out = Vec::new();
        for dimension in Dimension::ALL {
            let key = self.key(dimension);
            let mut push = |stat| {
                out.push(CounterDelta {
                    day: written_on,
                    counter: Counter {
                        superseded: superseded.then_some(self.day),
                        stat,
                        dimension,
                        key: key.clone(),
                    },
                    amount,
                })
            };
            push(Stat::Closed);
            if let Some(s) = self.first_response_seconds {
                push(Stat::FirstResponse(bucket_of(s)));
            }
            if let Some(s) = self.resolution_seconds {
                push(Stat::Resolution(bucket_of(s)));
            }
        }
        out
    }
}

/// The key of rows without a category, assignee or channel.
pub const NONE_KEY: &str = "none";

/// The row key of a closing source.
pub fn closing_source_key(source: ClosingSource) -> &'static str {
    match source {
        ClosingSource::Manual => "manual",
        ClosingSource::AutoClose => "auto_close",
    }
}

/// What the aggregator knows of one conversation, and which of its stored
/// changes it has folded in (so a replay folds nothing).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportFacts {
    /// Bumped by every save: the store's guard against two aggregators.
    #[serde(default)]
    pub rev: u64,
    /// The newest conversation version folded in.
    #[serde(default)]
    pub version: u64,
    /// The records of that version already folded in (a commit's records
    /// may come in two batches).
    #[serde(default)]
    pub applied: Vec<String>,
    /// When the conversation was created.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// Its channel now.
    #[serde(default)]
    pub channel: Option<String>,
    /// Its assignee now.
    #[serde(default)]
    pub assignee: Option<String>,
    /// The contact's first message.
    #[serde(default)]
    pub first_contact_at: Option<Timestamp>,
    /// The first human reply after it.
    #[serde(default)]
    pub first_response_at: Option<Timestamp>,
    /// Whether it is closed now.
    #[serde(default)]
    pub closed: bool,
    /// Its latest close, as counted.
    #[serde(default)]
    pub last_close: Option<CountedClose>,
}

/// Whether a stored change can move a report (creation, channel,
/// assignee, status, closing note, a contact's or member's message): the
/// aggregator reads a conversation's facts only for these.
pub fn may_move_reports(change: &StoredChange) -> bool {
    match &change.record {
        StoredRecord::TimelineAdded(e) => matches!(
            e.kind,
            EventKind::ConversationCreated { .. }
                | EventKind::ChannelTransferred { .. }
                | EventKind::Assigned { .. }
                | EventKind::Unassigned { .. }
                | EventKind::TakenOver { .. }
                | EventKind::StatusChanged { .. }
                | EventKind::ClosingNoteAdded { .. }
        ),
        StoredRecord::MessageAdded(m) => {
            matches!(m.sender.kind, SenderKind::Contact | SenderKind::Member)
        }
        StoredRecord::MessageRewritten(_) => false,
    }
}

impl ReportFacts {
    /// Whether these facts know something `other` does not (or the other
    /// way round), the bookkeeping of what was folded aside: a fold that
    /// changed nothing but that bookkeeping need not be stored, since
    /// folding the same change again changes nothing again.
    pub fn knows_other_than(&self, other: &ReportFacts) -> bool {
        let bare = |f: &ReportFacts| ReportFacts {
            rev: 0,
            version: 0,
            applied: Vec::new(),
            ..f.clone()
        };
        bare(self) != bare(other)
    }

    /// Folds one stored change in; returns the counters it moves. A change
    /// already folded in (or older than what was) moves nothing and leaves
    /// the facts as they were.
    pub fn fold(&mut self, change: &StoredChange) -> Vec<CounterDelta> {
        let Some(id) = record_id(&change.record) else {
            return Vec::new();
        };
        if change.version < self.version
            || (change.version == self.version && self.applied.iter().any(|a| a == id))
        {
            return Vec::new();
        }
        if change.version > self.version {
            self.version = change.version;
            self.applied.clear();
        }
        self.applied.push(id.to_string());
        match &change.record {
            StoredRecord::TimelineAdded(e) => self.event(&e.kind, e.at),
            StoredRecord::MessageAdded(m) => {
                match m.sender.kind {
                    SenderKind::Contact if self.first_contact_at.is_none() => {
                        self.first_contact_at = Some(m.created_at);
                    }
                    SenderKind::Member
                        if self.first_contact_at.is_some() && self.first_response_at.is_none() =>
                    {
                        self.first_response_at = Some(m.created_at);
                    }
                    _ => {}
                }
                Vec::new()
            }
            StoredRecord::MessageRewritten(_) => Vec::new(),
        }
    }

    fn event(&mut self, kind: &EventKind, at: Timestamp) -> Vec<CounterDelta> {
        match kind {
            EventKind::ConversationCreated { channel_id, .. } => {
                self.created_at = Some(at);
                self.channel = channel_id.clone();
            }
            EventKind::ChannelTransferred { to, .. } => self.channel = Some(to.clone()),
            EventKind::Assigned { to, .. } | EventKind::TakenOver { to, .. } => {
                self.assignee = Some(to.clone());
            }
            EventKind::Unassigned { .. } => self.assignee = None,
            EventKind::StatusChanged { to, source, .. } => {
                let closing = match source {
                    StatusSource::Manual => Some(ClosingSource::Manual),
                    StatusSource::AutoClose => Some(ClosingSource::AutoClose),
                    _ => None,
                };
                if *to != Status::Closed {
                    self.closed = false;
                    return Vec::new();
                }
                self.closed = true;
                return self.count_close(closing.unwrap_or(ClosingSource::Manual), at);
            }
            EventKind::ClosingNoteAdded { category, .. } if self.closed => {
                return self.recategorise(category.clone());
            }
            _ => {}
        }
        Vec::new()
    }

    fn count_close(&mut self, source: ClosingSource, at: Timestamp) -> Vec<CounterDelta> {
        let seconds_between = |from: Option<Timestamp>, to: Timestamp| {
            from.map(|f| u64::try_from((to.as_millis() - f.as_millis()) / 1000).unwrap_or(0))
        };
        let close = CountedClose {
            day: Day::of(at),
            source,
            category: None,
            assignee: self.assignee.clone(),
            channel: self.channel.clone(),
            first_response_seconds: self
                .first_response_at
                .and_then(|r| seconds_between(self.first_contact_at, r)),
            resolution_seconds: seconds_between(self.created_at, at),
        };
        let mut deltas = close.deltas(close.day, false, 1);
        if let Some(previous) = self.last_close.take() {
            // Only a range holding both days could count both.
            if close.day.days_since(previous.day) <= MAX_REPORT_DAYS {
                deltas.extend(previous.deltas(close.day, true, 1));
            }
        }
        self.last_close = Some(close);
        deltas
    }

    fn recategorise(&mut self, category: Option<String>) -> Vec<CounterDelta> {
        let Some(close) = self.last_close.as_mut() else {
            return Vec::new();
        };
        if close.category == category {
            return Vec::new();
        }
        let mut deltas = close.deltas(close.day, false, -1);
        close.category = category;
        deltas.extend(close.deltas(close.day, false, 1));
        deltas
    }
}

fn record_id(record: &StoredRecord) -> Option<&str> {
    match record {
        StoredRecord::TimelineAdded(e) => Some(&e.id),
        StoredRecord::MessageAdded(m) => Some(&m.id),
        StoredRecord::MessageRewritten(_) => None,
    }
}

/// What a counter counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Stat {
    Closed,
    FirstResponse(u32),
    Resolution(u32),
}

/// One named counter of a day item.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Counter {
    /// Set on the entry of an earlier close (on that day) that this day's close replaced.
    superseded: Option<Day>,
    stat: Stat,
    dimension: Dimension,
    key: String,
}

impl Counter {
    /// Its stored name: `[s|<day>|]n|<dim>|<key>`, `f|<bucket>|…` or
    /// `r|<bucket>|…`, with `%` and `|` in the key escaped.
    pub fn name(&self) -> String {
        let mut out = String::new();
        if let Some(day) = self.superseded {
            out.push_str(&format!("s|{day}|"));
        }
        match self.stat {
            Stat::Closed => out.push_str("n|"),
            Stat::FirstResponse(b) => out.push_str(&format!("f|{b}|")),
            Stat::Resolution(b) => out.push_str(&format!("r|{b}|")),
        }
        out.push_str(self.dimension.code());
        out.push('|');
        out.push_str(&self.key.replace('%', "%25").replace('|', "%7C"));
        out
    }

    /// The code of its dimension (`src`, `cat`, `asg`, `chn`).
    pub fn dimension_code(&self) -> &'static str {
        self.dimension.code()
    }

    /// The row key it counts for (`manual`, a category, a member id, …).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Reads a stored name back; `None` for a name this code never writes.
    pub fn parse(name: &str) -> Option<Counter> {
        let mut parts = name.split('|');
        let mut first = parts.next()?;
        let mut superseded = None;
        if first == "s" {
            superseded = Some(Day::parse(parts.next()?)?);
            first = parts.next()?;
        }
        let stat = match first {
            "n" => Stat::Closed,
            "f" => Stat::FirstResponse(parts.next()?.parse().ok()?),
            "r" => Stat::Resolution(parts.next()?.parse().ok()?),
            _ => return None,
        };
        let dimension = Dimension::from_code(parts.next()?)?;
        let key = parts.next()?;
        if parts.next().is_some() {
            return None;
        }
        let key = key.replace("%7C", "|").replace("%25", "%");
        Some(Counter {
            superseded,
            stat,
            dimension,
            key,
        })
    }
}

/// An amount to add to one counter of one day's item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterDelta {
    /// The day item written.
    pub day: Day,
    /// The counter.
    pub counter: Counter,
    /// What to add (negative to take back).
    pub amount: i64,
}

/// Sums deltas per day and counter name, dropping those that cancel out:
/// what one write adds.
pub fn merge_deltas(
    deltas: impl IntoIterator<Item = CounterDelta>,
) -> BTreeMap<Day, BTreeMap<String, i64>> {
    let mut out: BTreeMap<Day, BTreeMap<String, i64>> = BTreeMap::new();
    for d in deltas {
        *out.entry(d.day)
            .or_default()
            .entry(d.counter.name())
            .or_insert(0) += d.amount;
    }
    for counters in out.values_mut() {
        counters.retain(|_, v| *v != 0);
    }
    out.retain(|_, c| !c.is_empty());
    out
}

/// One day's stored counters, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCounters {
    /// The day.
    pub day: Day,
    /// Counter name → value.
    pub counters: BTreeMap<String, i64>,
}

/// p50 and p90 of a duration, in seconds (`null` without values).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Percentiles {
    /// Median.
    pub p50: Option<u64>,
    /// 90th percentile.
    pub p90: Option<u64>,
}

/// One row of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRow {
    /// The group's key (`manual`, a category, a member id, a channel id, a day, `none`).
    pub key: String,
    /// Conversations whose last close in the range is in this group.
    pub closed: i64,
    /// First response times of those closes.
    pub first_response_seconds: Percentiles,
    /// Resolution times of those closes.
    pub resolution_seconds: Percentiles,
}

/// A report's rows and their totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The rows.
    pub items: Vec<ReportRow>,
    /// All rows together.
    pub totals: ReportRow,
}

#[derive(Debug, Default, Clone)]
struct Tally {
    closed: i64,
    first_response: BTreeMap<u32, i64>,
    resolution: BTreeMap<u32, i64>,
}

impl Tally {
    fn add(&mut self, stat: Stat, amount: i64) {
        match stat {
            Stat::Closed => self.closed += amount,
            Stat::FirstResponse(b) => *self.first_response.entry(b).or_insert(0) += amount,
            Stat::Resolution(b) => *self.resolution.entry(b).or_insert(0) += amount,
        }
    }

    fn merge(&mut self, other: &Tally) {
        self.closed += other.closed;
        for (b, c) in &other.first_response {
            *self.first_response.entry(*b).or_insert(0) += c;
        }
        for (b, c) in &other.resolution {
            *self.resolution.entry(*b).or_insert(0) += c;
        }
    }

    fn row(&self, key: String) -> ReportRow {
        let p = |h: &BTreeMap<u32, i64>| Percentiles {
            p50: percentile(h, 50),
            p90: percentile(h, 90),
        };
        ReportRow {
            key,
            closed: self.closed,
            first_response_seconds: p(&self.first_response),
            resolution_seconds: p(&self.resolution),
        }
    }
}

/// The report of `query` from the day items of its range (any order;
/// days outside the range and unreadable counter names are skipped).
pub fn report(query: &ReportQuery, days: &[DayCounters]) -> Report {
    let dimension = query.group_by.dimension();
    let mut rows: BTreeMap<String, Tally> = BTreeMap::new();
    if query.group_by == GroupBy::Day {
        let mut d = query.from;
        while d <= query.to {
            rows.insert(d.to_string(), Tally::default());
            if d.next() == d {
                break;
            }
            d = d.next();
        }
    }
    for item in days
        .iter()
        .filter(|i| i.day >= query.from && i.day <= query.to)
    {
        for (name, value) in &item.counters {
            let Some(counter) = Counter::parse(name) else {
                continue;
            };
            if counter.dimension != dimension {
                continue;
            }
            let (row_day, amount) = match counter.superseded {
                None => (item.day, *value),
                // The replaced close is counted only if its day is in range.
                Some(earlier) if earlier >= query.from => (earlier, -*value),
                Some(_) => continue,
            };
            let key = match query.group_by {
                GroupBy::Day => row_day.to_string(),
                _ => counter.key.clone(),
            };
            rows.entry(key).or_default().add(counter.stat, amount);
        }
    }
    let mut totals = Tally::default();
    for t in rows.values() {
        totals.merge(t);
    }
    let mut items: Vec<ReportRow> = rows
        .into_iter()
        .filter(|(_, t)| query.group_by == GroupBy::Day || t.closed > 0)
        .map(|(k, t)| t.row(k))
        .collect();
    if query.group_by != GroupBy::Day {
        items.sort_by(|a, b| b.closed.cmp(&a.closed).then_with(|| a.key.cmp(&b.key)));
    }
    Report {
        items,
        totals: totals.row("total".into()),
    }
}

#[cfg(test)]
mod tests;
