//! Reports: the aggregator that folds stored changes into each
//! conversation's report facts and the workspace's day counters (the rules
//! are `inbox_domain::reports`), and the report read back from them.

use crate::app::App;
use crate::error::AppError;
use crate::export::{csv_error, neutralise_cell};
use inbox_domain::reports::{
    Counter, Day, GroupBy, Report, ReportQuery, ReportRow, may_move_reports, merge_deltas, report,
};
use inbox_domain::webhooks::StoredChange;
use inbox_store::{Store, StoreError};
use std::collections::{BTreeMap, HashMap};

/// The most counter groups (a day, a dimension, a key: an item on
/// DynamoDB) one save adds to: a transaction holds 100 items, one is the facts.
const GROUPS_PER_SAVE: usize = 48;
/// The most counters one save adds to a group (an update expression stays
/// well under DynamoDB's 4 KB).
const COUNTERS_PER_GROUP: usize = 160;

/// The header of a report's CSV.
pub const REPORT_CSV_HEADER: [&str; 6] = [
    "key",
    "closed",
    "first_response_p50_seconds",
    "first_response_p90_seconds",
    "resolution_p50_seconds",
    "resolution_p90_seconds",
];

impl<S: Store> App<S> {
    /// Folds stored changes (in commit order per conversation) into the
    /// report aggregates. Idempotent: a change folded before, by this or
    /// another aggregator, counts once. Returns the conversations whose
    /// facts were saved; fails only when the store may recover (the caller
    /// then hands the same changes over again).
    pub async fn aggregate_reports(&self, changes: &[StoredChange]) -> Result<usize, AppError> {
        let mut by_conversation: BTreeMap<(&str, &str), Vec<&StoredChange>> = BTreeMap::new();
        for c in changes.iter().filter(|c| may_move_reports(c)) {
            by_conversation
                .entry((c.workspace_id.as_str(), c.conversation_id.as_str()))
                .or_default()
                .push(c);
        }
        let mut saved = 0;
        for ((ws, conv), records) in by_conversation {
            match self.fold_into_reports(ws, conv, &records).await {
                Ok(true) => saved += 1,
                Ok(false) => {}
                // The store is down or busy: the caller hands the batch over again.
                Err(e) if e.is_transient() => return Err(e),
                // Never going to pass (unreadable facts, a write over a
                // limit): reports are derived, so this conversation's
                // changes are left out rather than holding up the feed's
                // webhooks and live updates for good.
                Err(e) => tracing::error!(
                    workspace_id = ws,
                    conversation_id = conv,
                    error = %e,
                    "report aggregation skipped a conversation's changes"
                ),
            }
        }
        Ok(saved)
    }

    /// Folds one conversation's changes into its facts and saves them with
    /// the counters they move, in as few saves as the store's limits allow;
    /// a save that lost a race re-reads the facts and folds again from there.
    async fn fold_into_reports(
        &self,
        ws: &str,
        conv: &str,
        records: &[&StoredChange],
    ) -> Result<bool, AppError> {
        let store = self.store();
        let policy = *self.retry();
        let mut done = 0;
        let mut saved = false;
        for attempt in 0..policy.max_attempts {
            policy.pause(attempt).await;
            let mut facts = store.report_facts(ws, conv).await?.unwrap_or_default();
            loop {
                let before = facts.clone();
                let mut deltas = Vec::new();
                let mut next = done;
                while next < records.len() {
                    deltas.extend(facts.fold(records[next]));
                    next += 1;
                    if fills_a_save(&merge_deltas(deltas.iter().cloned())) {
                        break;
                    }
                }
                let counters = merge_deltas(deltas);
                if counters.is_empty() && !facts.knows_other_than(&before) {
                    done = next;
                } else {
                    facts.rev = before.rev + 1;
                    match store.save_report(ws, conv, &facts, &counters).await {
                        Ok(()) => {
                            done = next;
                            saved = true;
                        }
                        Err(StoreError::Conflict) => break,
                        Err(e) => return Err(e.into()),
                    }
                }
                if done == records.len() {
                    return Ok(saved);
                }
            }
        }
        Err(AppError::Contended(policy.max_attempts))
    }

    /// The report `query` asks for, read from the workspace's day counters
    /// (one store query, whatever the number of conversations).
    pub async fn conversation_report(
        &self,
        workspace_id: &str,
        query: &ReportQuery,
    ) -> Result<Report, AppError> {
        let days = self
            .store()
            .report_days(workspace_id, query.from, query.to, query.group_by)
            .await?;
        Ok(report(query, &days))
    }
}

/// Whether counters this many, in this many groups, are as much as one save takes.
fn fills_a_save(merged: &BTreeMap<Day, BTreeMap<String, i64>>) -> bool {
    let mut groups: HashMap<(Day, &str, &str), usize> = HashMap::new();
    let parsed: Vec<(Day, Counter)> = merged
        .iter()
        .flat_map(|(day, c)| {
            c.keys()
                .filter_map(|n| Counter::parse(n).map(|c| (*day, c)))
        })
        .collect();
    for (day, c) in &parsed {
        *groups
            .entry((*day, c.dimension_code(), c.key()))
            .or_insert(0) += 1;
    }
    groups.len() >= GROUPS_PER_SAVE || groups.values().any(|n| *n >= COUNTERS_PER_GROUP)
}

/// A report's rows as CSV (the JSON's `items`, in order; cells that a
/// spreadsheet would run as formulas are neutralised).
pub fn report_csv(report: &Report, group_by: GroupBy) -> Result<Vec<u8>, AppError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = REPORT_CSV_HEADER;
    header[0] = group_by.as_str();
    w.write_record(header).map_err(csv_error)?;
    for row in &report.items {
        w.write_record(csv_cells(row)).map_err(csv_error)?;
    }
    w.into_inner().map_err(csv_error)
}

fn csv_cells(row: &ReportRow) -> [String; 6] {
    let opt = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
    [
        neutralise_cell(row.key.clone()),
        row.closed.to_string(),
        opt(row.first_response_seconds.p50),
        opt(row.first_response_seconds.p90),
        opt(row.resolution_seconds.p50),
        opt(row.resolution_seconds.p90),
    ]
}
