//! Report aggregates: the facts of a conversation in its own partition
//! (`REPORT`, guarded by `rev`), and a workspace's counters in one item per
//! day (`WS#<ws>#REPORT`, `DAY#<yyyy-mm-dd>`, a numeric attribute per
//! counter, `c:<name>`), so that a report of any range is one `Query` per
//! page and the aggregator's save is one transaction of the facts and the
//! days it adds to (`ADD`, so concurrent closes on a day both count).

use super::error::corrupt;
use super::items::{Item, check_item_size, from_item, key, s, to_item};
use super::table::{ENTITY_ATTRIBUTE, PK, SK, keys};
use super::transaction::{Transaction, n};
use super::{DynamoStore, QuerySpec};
use crate::port::{ReportStore, StoreError};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use inbox_domain::reports::{Day, DayCounters, ReportFacts};
use std::collections::{BTreeMap, HashMap};

/// The attribute name prefix of a day item's counters.
const COUNTER_PREFIX: &str = "c:";
/// The facts' guard attribute.
const REV: &str = "rev";

fn day_sk(day: Day) -> String {
    format!("{}{day}", keys::REPORT_DAY_PREFIX)
}

fn day_update(
    table: &str,
    ws: &str,
    day: Day,
    counters: &BTreeMap<String, i64>,
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
        .set_key(Some(key(keys::report_pk(ws), &day_sk(day))))
        .update_expression(format!("SET #e = :e ADD {}", adds.join(", ")))
        .set_expression_attribute_names(Some(names))
        .set_expression_attribute_values(Some(values))
        .build()
        .map_err(|e| corrupt("building a report day update", e))?;
    Ok((update, size))
}

fn day_counters(item: Item) -> Result<DayCounters, StoreError> {
    let sk = match item.get(SK) {
        Some(AttributeValue::S(sk)) => sk.as_str(),
        _ => "",
    };
    let day = sk
        .strip_prefix(keys::REPORT_DAY_PREFIX)
        .and_then(Day::parse)
        .ok_or_else(|| corrupt("reading a report day", format!("sort key {sk}")))?;
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
        for (day, c) in counters {
            let (update, size) = day_update(&self.table, workspace_id, *day, c)?;
            tx.push(TransactWriteItem::builder().update(update).build(), size)?;
        }
        self.send(tx).await
    }

    async fn report_days(
        &self,
        workspace_id: &str,
        from: Day,
        to: Day,
    ) -> Result<Vec<DayCounters>, StoreError> {
        let names = HashMap::from([
            ("#pk".to_string(), PK.to_string()),
            ("#sk".to_string(), SK.to_string()),
        ]);
        let values = HashMap::from([
            (":pk".to_string(), s(keys::report_pk(workspace_id))),
            (":from".to_string(), s(day_sk(from))),
            (":to".to_string(), s(day_sk(to))),
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
                    ..QuerySpec::default()
                })
                .await?;
            for item in items {
                out.push(day_counters(item)?);
            }
            match last {
                Some(k) => start = Some(k),
                None => return Ok(out),
            }
        }
    }
}
