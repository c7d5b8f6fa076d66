//! Workspace settings and the directory: members, AI agents, teams, channels.

use super::{SqliteStore, db, from_doc, insert_new, list_docs, to_doc, to_i64};
use crate::port::{DirectoryEntry, DirectoryStore, JobWrite, StoreError};
use async_trait::async_trait;
use inbox_domain::model::{AiAgent, Channel, Member, Team};
use inbox_domain::{Job, Settings};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Directory tables keyed by (workspace, id) with a JSON document.
#[derive(Clone, Copy)]
enum Table {
    Teams,
    Channels,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Teams => "teams",
            Table::Channels => "channels",
        }
    }
}

/// Writes a job inside a commit's transaction: created only if absent, or
/// replaced only while its stored version is still the expected one.
pub(super) fn write_job(
    conn: &Connection,
    workspace_id: &str,
    w: &JobWrite,
) -> Result<(), StoreError> {
    let version = to_i64(w.job.version);
    let doc = to_doc(&w.job)?;
    let changed = match w.expected_version {
        None => conn.execute(
            "INSERT INTO jobs (workspace_id, id, version, doc) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT DO NOTHING",
            params![workspace_id, w.job.id, version, doc],
        ),
        Some(expected) => conn.execute(
            "UPDATE jobs SET version = ?3, doc = ?4
             WHERE workspace_id = ?1 AND id = ?2 AND version = ?5",
            params![workspace_id, w.job.id, version, doc, to_i64(expected)],
        ),
    }
    .map_err(db)?;
    if changed == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

/// The settings, or the defaults when never set.
pub(super) fn get_settings(conn: &Connection, workspace_id: &str) -> Result<Settings, StoreError> {
    let doc: Option<String> = conn
        .query_row(
            "SELECT doc FROM settings WHERE workspace_id = ?1",
            params![workspace_id],
            |r| r.get(0),
        )
        .optional()
        .map_err(db)?;
    doc.map_or_else(|| Ok(Settings::default()), |d| from_doc(&d))
}

/// A member or AI agent.
pub(super) fn get_person(
    conn: &Connection,
    workspace_id: &str,
    id: &str,
) -> Result<Option<DirectoryEntry>, StoreError> {
    let row: Option<(String, String)> = conn
        .query_row(
            "SELECT kind, doc FROM people WHERE workspace_id = ?1 AND id = ?2",
            params![workspace_id, id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(db)?;
    row.map(|(kind, doc)| match kind.as_str() {
        "member" => Ok(DirectoryEntry::Member(from_doc(&doc)?)),
        "agent" => Ok(DirectoryEntry::Agent(from_doc(&doc)?)),
        other => Err(StoreError::Corrupt(format!(
            "unknown person kind {other:?}"
        ))),
    })
    .transpose()
}

/// A team or channel document by id (`table` is one of ours, never input).
pub(super) fn get_doc<T: DeserializeOwned>(
    conn: &Connection,
    table: &str,
    workspace_id: &str,
    id: &str,
) -> Result<Option<T>, StoreError> {
    let sql = format!("SELECT doc FROM {table} WHERE workspace_id = ?1 AND id = ?2");
    let doc: Option<String> = conn
        .query_row(&sql, params![workspace_id, id], |r| r.get(0))
        .optional()
        .map_err(db)?;
    doc.map(|d| from_doc(&d)).transpose()
}

impl SqliteStore {
    /// Creates or replaces a member or agent unless the id is the other kind's.
    async fn put_person<T: Serialize>(
        &self,
        workspace_id: &str,
        id: &str,
        kind: &'static str,
        value: &T,
    ) -> Result<(), StoreError> {
        let (ws, id, doc) = (workspace_id.to_string(), id.to_string(), to_doc(value)?);
        self.run(move |conn| {
            let changed = conn
                .execute(
                    "INSERT INTO people (workspace_id, id, kind, doc) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (workspace_id, id) DO UPDATE SET doc = excluded.doc
                     WHERE people.kind = excluded.kind",
                    params![ws, id, kind, doc],
                )
                .map_err(db)?;
            if changed == 0 {
                return Err(StoreError::Conflict);
            }
            Ok(())
        })
        .await
    }

    async fn delete_person(
        &self,
        workspace_id: &str,
        id: &str,
        kind: &'static str,
    ) -> Result<(), StoreError> {
        let (ws, id) = (workspace_id.to_string(), id.to_string());
        self.run(move |conn| {
            conn.execute(
                "DELETE FROM people WHERE workspace_id = ?1 AND id = ?2 AND kind = ?3",
                params![ws, id, kind],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn put_doc<T: Serialize>(
        &self,
        table: Table,
        workspace_id: &str,
        id: &str,
        value: &T,
    ) -> Result<(), StoreError> {
        let (ws, id, doc) = (workspace_id.to_string(), id.to_string(), to_doc(value)?);
        self.run(move |conn| {
            let sql = format!(
                "INSERT INTO {} (workspace_id, id, doc) VALUES (?1, ?2, ?3)
                 ON CONFLICT (workspace_id, id) DO UPDATE SET doc = excluded.doc",
                table.name()
            );
            conn.execute(&sql, params![ws, id, doc]).map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn get_table_doc<T: DeserializeOwned + Send + 'static>(
        &self,
        table: Table,
        workspace_id: &str,
        id: &str,
    ) -> Result<Option<T>, StoreError> {
        let (ws, id) = (workspace_id.to_string(), id.to_string());
        self.run(move |conn| get_doc(conn, table.name(), &ws, &id))
            .await
    }

    async fn list_table<T: DeserializeOwned + Send + 'static>(
        &self,
        table: Table,
        workspace_id: &str,
    ) -> Result<Vec<T>, StoreError> {
        let ws = workspace_id.to_string();
        self.run(move |conn| {
            let sql = format!(
                "SELECT doc FROM {} WHERE workspace_id = ?1 ORDER BY id",
                table.name()
            );
            list_docs(conn, &sql, params![ws])
        })
        .await
    }
}

#[async_trait]
impl DirectoryStore for SqliteStore {
    async fn get_settings(&self, workspace_id: &str) -> Result<Settings, StoreError> {
        let ws = workspace_id.to_string();
        self.run(move |conn| get_settings(conn, &ws)).await
    }

    async fn put_settings(
        &self,
        workspace_id: &str,
        settings: &Settings,
    ) -> Result<(), StoreError> {
        let (ws, doc) = (workspace_id.to_string(), to_doc(settings)?);
        self.run(move |conn| {
            conn.execute(
                "INSERT INTO settings (workspace_id, doc) VALUES (?1, ?2)
                 ON CONFLICT (workspace_id) DO UPDATE SET doc = excluded.doc",
                params![ws, doc],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn get_person(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> Result<Option<DirectoryEntry>, StoreError> {
        let (ws, id) = (workspace_id.to_string(), id.to_string());
        self.run(move |conn| get_person(conn, &ws, &id)).await
    }

    async fn get_job(&self, workspace_id: &str, id: &str) -> Result<Option<Job>, StoreError> {
        let (ws, id) = (workspace_id.to_string(), id.to_string());
        self.run(move |conn| {
            let doc: Option<String> = conn
                .query_row(
                    "SELECT doc FROM jobs WHERE workspace_id = ?1 AND id = ?2",
                    params![ws, id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db)?;
            doc.map(|d| from_doc(&d)).transpose()
        })
        .await
    }

    async fn put_member(&self, workspace_id: &str, member: &Member) -> Result<(), StoreError> {
        self.put_person(workspace_id, &member.id, "member", member)
            .await
    }

    async fn provision_member(
        &self,
        workspace_id: &str,
        member: &Member,
    ) -> Result<(), StoreError> {
        let (ws, id, doc) = (workspace_id.to_string(), member.id.clone(), to_doc(member)?);
        self.run(move |conn| {
            insert_new(
                conn,
                "INSERT INTO people (workspace_id, id, kind, doc) VALUES (?1, ?2, 'member', ?3)
                 ON CONFLICT DO NOTHING",
                params![ws, id, doc],
            )
        })
        .await
    }

    async fn delete_member(&self, workspace_id: &str, id: &str) -> Result<(), StoreError> {
        self.delete_person(workspace_id, id, "member").await
    }

    async fn change_member_while_owner(
        &self,
        workspace_id: &str,
        id: &str,
        member: Option<&Member>,
        owner: &str,
    ) -> Result<(), StoreError> {
        let (ws, id, owner) = (workspace_id.to_string(), id.to_string(), owner.to_string());
        let doc = member.map(to_doc).transpose()?;
        self.run(move |conn| {
            let tx = conn.transaction().map_err(db)?;
            let still_owner: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM people WHERE workspace_id = ?1 AND id = ?2
                     AND kind = 'member' AND json_extract(doc, '$.role') = 'owner')",
                    params![ws, owner],
                    |row| row.get(0),
                )
                .map_err(db)?;
            if !still_owner {
                return Err(StoreError::Conflict);
            }
            let changed = match &doc {
                Some(doc) => tx
                    .execute(
                        "INSERT INTO people (workspace_id, id, kind, doc) VALUES (?1, ?2, 'member', ?3)
                         ON CONFLICT (workspace_id, id) DO UPDATE SET doc = excluded.doc
                         WHERE people.kind = excluded.kind",
                        params![ws, id, doc],
                    )
                    .map_err(db)?,
                None => {
                    tx.execute(
                        "DELETE FROM people WHERE workspace_id = ?1 AND id = ?2 AND kind = 'member'",
                        params![ws, id],
                    )
                    .map_err(db)?;
                    1
                }
            };
            if changed == 0 {
                return Err(StoreError::Conflict);
            }
            tx.commit().map_err(db)
        })
        .await
    }

    async fn list_members(&self, workspace_id: &str) -> Result<Vec<Member>, StoreError> {
        let ws = workspace_id.to_string();
        self.run(move |conn| {
            list_docs(
                conn,
                "SELECT doc FROM people WHERE workspace_id = ?1 AND kind = 'member' ORDER BY id",
                params![ws],
            )
        })
        .await
    }

    async fn put_agent(&self, workspace_id: &str, agent: &AiAgent) -> Result<(), StoreError> {
        self.put_person(workspace_id, &agent.id, "agent", agent)
            .await
    }

    async fn delete_agent(&self, workspace_id: &str, id: &str) -> Result<(), StoreError> {
        self.delete_person(workspace_id, id, "agent").await
    }

    async fn list_agents(&self, workspace_id: &str) -> Result<Vec<AiAgent>, StoreError> {
        let ws = workspace_id.to_string();
        self.run(move |conn| {
            list_docs(
                conn,
                "SELECT doc FROM people WHERE workspace_id = ?1 AND kind = 'agent' ORDER BY id",
                params![ws],
            )
        })
        .await
    }

    async fn get_team(&self, workspace_id: &str, id: &str) -> Result<Option<Team>, StoreError> {
        self.get_table_doc(Table::Teams, workspace_id, id).await
    }

    async fn put_team(&self, workspace_id: &str, team: &Team) -> Result<(), StoreError> {
        self.put_doc(Table::Teams, workspace_id, &team.id, team)
            .await
    }

    async fn delete_team(&self, workspace_id: &str, id: &str) -> Result<(), StoreError> {
        let (ws, id) = (workspace_id.to_string(), id.to_string());
        self.run(move |conn| {
            conn.execute(
                "DELETE FROM teams WHERE workspace_id = ?1 AND id = ?2",
                params![ws, id],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn list_teams(&self, workspace_id: &str) -> Result<Vec<Team>, StoreError> {
        self.list_table(Table::Teams, workspace_id).await
    }

    async fn get_channel(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> Result<Option<Channel>, StoreError> {
        self.get_table_doc(Table::Channels, workspace_id, id).await
    }

    async fn put_channel(&self, workspace_id: &str, channel: &Channel) -> Result<(), StoreError> {
        self.put_doc(Table::Channels, workspace_id, &channel.id, channel)
            .await
    }

    async fn list_channels(&self, workspace_id: &str) -> Result<Vec<Channel>, StoreError> {
        self.list_table(Table::Channels, workspace_id).await
    }
}
