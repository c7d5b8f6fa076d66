//! Report aggregates: a row of facts per conversation (guarded by its
//! `rev`) and a row per day and counter name, written in one transaction.

use super::{SqliteStore, db, from_doc, to_doc, to_i64};
use crate::port::{ReportStore, StoreError};
use async_trait::async_trait;
use inbox_domain::reports::{Counter, Day, DayCounters, GroupBy, ReportFacts};
use rusqlite::{OptionalExtension, params};
use std::collections::BTreeMap;

#[async_trait]
impl ReportStore for SqliteStore {
    async fn report_facts(
        &self,
        workspace_id: &str,
        conversation_id: &str,
    ) -> Result<Option<ReportFacts>, StoreError> {
        let (ws, conv) = (workspace_id.to_string(), conversation_id.to_string());
        self.run(move |conn| {
            conn.query_row(
                "SELECT doc FROM report_facts WHERE workspace_id = ?1 AND conversation_id = ?2",
                params![ws, conv],
                |r| r.get::<_, String>(0),
            )
            .optional()
            .map_err(db)?
            .map(|doc| from_doc(&doc))
            .transpose()
        })
        .await
    }

    async fn save_report(
        &self,
        workspace_id: &str,
        conversation_id: &str,
        facts: &ReportFacts,
        counters: &BTreeMap<Day, BTreeMap<String, i64>>,
    ) -> Result<(), StoreError> {
        let (ws, conv, doc) = (
            workspace_id.to_string(),
            conversation_id.to_string(),
            to_doc(facts)?,
        );
        let rev = to_i64(facts.rev);
        let mut rows: Vec<(&'static str, String, String, i64)> = Vec::new();
        for (day, c) in counters {
            for (name, v) in c {
                let dimension = Counter::parse(name)
                    .ok_or_else(|| StoreError::Corrupt(format!("not a report counter: {name}")))?
                    .dimension_code();
                rows.push((dimension, day.to_string(), name.clone(), *v));
            }
        }
        self.run(move |conn| {
            let tx = conn.transaction().map_err(db)?;
            let stored: Option<i64> = tx
                .query_row(
                    "SELECT rev FROM report_facts WHERE workspace_id = ?1 AND conversation_id = ?2",
                    params![ws, conv],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db)?;
            if stored.unwrap_or(0) != rev - 1 {
                return Err(StoreError::Conflict);
            }
            tx.execute(
                "INSERT INTO report_facts (workspace_id, conversation_id, rev, doc)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (workspace_id, conversation_id) DO UPDATE SET rev = ?3, doc = ?4",
                params![ws, conv, rev, doc],
            )
            .map_err(db)?;
            {
                let mut add = tx
                    .prepare_cached(
                        "INSERT INTO report_counters (workspace_id, dimension, day, name, value)
                         VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT (workspace_id, dimension, day, name)
                         DO UPDATE SET value = value + ?5",
                    )
                    .map_err(db)?;
                for (dimension, day, name, value) in &rows {
                    add.execute(params![ws, dimension, day, name, value])
                        .map_err(db)?;
                }
            }
            tx.commit().map_err(db)
        })
        .await
    }

    async fn report_days(
        &self,
        workspace_id: &str,
        from: Day,
        to: Day,
        group_by: GroupBy,
    ) -> Result<Vec<DayCounters>, StoreError> {
        let (ws, from, to) = (workspace_id.to_string(), from.to_string(), to.to_string());
        let dimension = group_by.dimension_code();
        self.run(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT day, name, value FROM report_counters
                     WHERE workspace_id = ?1 AND dimension = ?2 AND day BETWEEN ?3 AND ?4
                     ORDER BY day",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map(params![ws, dimension, from, to], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                })
                .map_err(db)?;
            let mut days: Vec<DayCounters> = Vec::new();
            for row in rows {
                let (day, name, value) = row.map_err(db)?;
                let day = Day::parse(&day)
                    .ok_or_else(|| StoreError::Corrupt(format!("report day {day}")))?;
                match days.last_mut() {
                    Some(last) if last.day == day => {
                        last.counters.insert(name, value);
                    }
                    _ => days.push(DayCounters {
                        day,
                        counters: BTreeMap::from([(name, value)]),
                    }),
                }
            }
            Ok(days)
        })
        .await
    }
}
