//! Report aggregates: the facts of a conversation in its own partition
//! (`REPORT`, guarded by `rev`), and a workspace's counters in one item per
//! dimension, day and key (`WS#<ws>#REPORT`,
//! `DAY#<dimension>#<yyyy-mm-dd>#<key>`, a numeric attribute per counter,
//! `c:<name>`). A report of any range is one `Query` per page of its
//! dimension's sort key range, reading nothing of the other dimensions;
//! items stay small (a key's counters of one day), and DynamoDB bills a
//! write by the size of the item written, so a close costs a few small
//! updates, not rewrites of a whole day. The aggregator's save is one
//! transaction of the facts and the items it adds to (`ADD`, so concurrent
//! closes on one item both count).

use super::error::corrupt;
use super::items::{Item, check_item_size, from_item, key, s, to_item};
use super::table::{ENTITY_ATTRIBUTE, PK, SK, keys};
use super::transaction::{Transaction, n};
use super::{DynamoStore, QuerySpec};
use crate::port::{ReportStore, StoreError};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use inbox_domain::reports::{Counter, Day, DayCounters, GroupBy, ReportFacts};
use std::collections::{BTreeMap, HashMap};

/// The attribute name prefix of a day item's counters.
const COUNTER_PREFIX: &str = "c:";
/// The facts' guard attribute.
const REV: &str = "rev";

fn counter_sk(dimension: &str, day: Day, key: &str) -> String {
    format!("{}{dimension}#{day}#{key}", keys::REPORT_DAY_PREFIX)
}

/// The day a counter item's sort key names.
fn day_of_sk(sk: &str) -> Option<Day> {
    let rest = sk.strip_prefix(keys::REPORT_DAY_PREFIX)?;
    let (_, rest) = rest.split_once('#')?;
    Day::parse(rest.get(..10)?)
}

/// The counters to add, by the item (dimension, day, key) each lives in.
fn by_item(
    counters: &BTreeMap<Day, BTreeMap<String, i64>>,
) -> Result<BTreeMap<String, BTreeMap<&str, i64>>, StoreError> {
    let mut out: BTreeMap<String, BTreeMap<&str, i64>> = BTreeMap::new();
    for (day, c) in counters {
        for (name, value) in c {
            let counter = Counter::parse(name).ok_or_else(|| {
                corrupt("saving report counters", format!("not a counter: {name}"))
            })?;
            out.entry(counter_sk(counter.dimension_code(), *day, counter.key()))
                .or_default()
                .insert(name.as_str(), *value);
        }
    }
    Ok(out)
}

fn counter_update(
    table: &str,
    ws: &str,
    sk: &str,
    counters: &BTreeMap<&str, i64>,
) -> Result<(Update, usize), StoreError> {
    let mut names = HashMap::from([("#e".to_string(), ENTITY_ATTRIBUTE.to_string())]);
    let mut values = HashMap::from([(":e".to_string(), s("report_day"))]);
    let mut adds = Vec::with_capacity(counters.len());
    let mut size = 64;
    for (i, (name, value)) in counters.iter().enumerate() {
        names.insert(format!("#c{i}"), format!("{COUNTER_PREFIX}{name}"));
        values.insert(format!(":c{i}"), n(value));
        adds.push(format!("#c{i} :c{i}"));
        size += name.len() + 24;
    }
    let update = Update::builder()
        .table_name(table)
        .set_key(Some(key(keys::report_pk(ws), sk)))
        .update_expression(format!("SET #e = :e ADD {}", adds.join(", ")))
        .set_expression_attribute_names(Some(names))
        .set_expression_attribute_values(Some(values))
        .build()
        .map_err(|e| corrupt("building a report counters update", e))?;
    Ok((update, size))
}

fn day_counters(item: Item) -> Result<DayCounters, StoreError> {
    let sk = match item.get(SK) {
        Some(AttributeValue::S(sk)) => sk.as_str(),
        _ => "",
    };
    let day =
        day_of_sk(sk).ok_or_else(|| corrupt("reading a report day", format!("sort key {sk}")))?;
    let mut counters = BTreeMap::new();
    for (name, value) in &item {
        let Some(counter) = name.strip_prefix(COUNTER_PREFIX) else {
            continue;
        };
        let AttributeValue::N(v) = value else {
            return Err(corrupt(
                "reading a report day",
                format!("{name} is not a number"),
            ));
        };
        let v: i64 = v
            .parse()
            .map_err(|e| corrupt("reading a report day", format!("{name}: {e}")))?;
        counters.insert(counter.to_string(), v);
    }
    Ok(DayCounters { day, counters })
}

#[async_trait]
impl ReportStore for DynamoStore {
    async fn report_facts(
        &self,
        workspace_id: &str,
        conversation_id: &str,
    ) -> Result<Option<ReportFacts>, StoreError> {
        self.get_item(key(
            keys::conversation_pk(workspace_id, conversation_id),
            keys::REPORT_FACTS_SK,
        ))
        .await?
        .map(from_item)
        .transpose()
    }

    async fn save_report(
        &self,
        workspace_id: &str,
        conversation_id: &str,
        facts: &ReportFacts,
        counters: &BTreeMap<Day, BTreeMap<String, i64>>,
    ) -> Result<(), StoreError> {
        let mut tx = Transaction::default();
        let item = to_item(
            facts,
            keys::conversation_pk(workspace_id, conversation_id),
            keys::REPORT_FACTS_SK.to_string(),
            "report_facts",
        )?;
        let size = check_item_size(&item)?;
        // The first save finds no facts; every later one the facts it folded from.
        let put = Put::builder().table_name(&self.table).set_item(Some(item));
        let put = match facts.rev.checked_sub(1) {
            None | Some(0) => put
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PK),
            Some(previous) => put
                .condition_expression("#rev = :previous")
                .expression_attribute_names("#rev", REV)
                .expression_attribute_values(":previous", n(previous)),
        }
        .build()
        .map_err(|e| corrupt("building the report facts put", e))?;
        tx.push(TransactWriteItem::builder().put(put).build(), size)?;
        for (sk, c) in by_item(counters)? {
            let (update, size) = counter_update(&self.table, workspace_id, &sk, &c)?;
            tx.push(TransactWriteItem::builder().update(update).build(), size)?;
        }
        self.send(tx).await
    }

    async fn report_days(
        &self,
        workspace_id: &str,
        from: Day,
        to: Day,
        group_by: GroupBy,
    ) -> Result<Vec<DayCounters>, StoreError> {
        let dimension = group_by.dimension_code();
        let names = HashMap::from([
            ("#pk".to_string(), PK.to_string()),
            ("#sk".to_string(), SK.to_string()),
        ]);
        let values = HashMap::from([
            (":pk".to_string(), s(keys::report_pk(workspace_id))),
            // Every key of every day in range: `$` sorts right after `#`.
            (":from".to_string(), s(counter_sk(dimension, from, ""))),
            (
                ":to".to_string(),
                s(format!("{}{dimension}#{to}$", keys::REPORT_DAY_PREFIX)),
            ),
        ]);
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let (items, last) = self
                .query(QuerySpec {
                    key_condition: "#pk = :pk AND #sk BETWEEN :from AND :to".into(),
                    names: names.clone(),
                    values: values.clone(),
                    forward: true,
                    start,
                    // Reports follow the stream by a second anyway.
                    eventually_consistent: true,
                    ..QuerySpec::default()
                })
                .await?;
            for item in items {
                let item = day_counters(item)?;
                match out.last_mut() {
                    Some(DayCounters { day, counters }) if *day == item.day => {
                        counters.extend(item.counters);
                    }
                    _ => out.push(item),
                }
            }
            match last {
                Some(k) => start = Some(k),
                None => return Ok(out),
            }
        }
    }
}
