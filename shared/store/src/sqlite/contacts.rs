//! Contacts, their channel senders and notes.

use super::conversations::{apply_commit, write_tx};
use super::{SqliteStore, cursor, db, from_doc, insert_new, limit_plus_one, to_doc};
use crate::port::{Commit, ContactStore, Page, PageRequest, StoreError};
use async_trait::async_trait;
use inbox_domain::model::{Contact, ContactNote};
use rusqlite::{Connection, OptionalExtension, params};

fn get_contact(
    conn: &Connection,
    workspace_id: &str,
    id: &str,
) -> Result<Option<Contact>, StoreError> {
    super::directory::get_doc(conn, "contacts", workspace_id, id)
}

#[async_trait]
impl ContactStore for SqliteStore {
    async fn create_contact(
        &self,
        workspace_id: &str,
        contact: &Contact,
    ) -> Result<(), StoreError> {
        let (ws, id, doc) = (
            workspace_id.to_string(),
            contact.id.clone(),
            to_doc(contact)?,
        );
        // Ids are server-made and unique: an existing one is a conflict, never overwritten.
        self.run(move |conn| {
            insert_new(
                conn,
                "INSERT INTO contacts (workspace_id, id, doc) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
                params![ws, id, doc],
            )
        })
        .await
    }

    async fn get_contact(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> Result<Option<Contact>, StoreError> {
        let (ws, id) = (workspace_id.to_string(), id.to_string());
        self.run(move |conn| get_contact(conn, &ws, &id)).await
    }

    async fn get_contacts(
        &self,
        workspace_id: &str,
        ids: &[String],
    ) -> Result<Vec<Contact>, StoreError> {
        let (ws, mut ids) = (workspace_id.to_string(), ids.to_vec());
        ids.sort();
        ids.dedup();
        self.run(move |conn| {
            let mut found = Vec::with_capacity(ids.len());
            for id in &ids {
                found.extend(get_contact(conn, &ws, id)?);
            }
            Ok(found)
        })
        .await
    }

    async fn update_contact(
        &self,
        workspace_id: &str,
        contact: &Contact,
        commit: Commit,
    ) -> Result<(), StoreError> {
        let (ws, id, doc) = (
            workspace_id.to_string(),
            contact.id.clone(),
            to_doc(contact)?,
        );
        self.run(move |conn| {
            let tx = write_tx(conn)?;
            tx.execute(
                "INSERT INTO contacts (workspace_id, id, doc) VALUES (?1, ?2, ?3)
                 ON CONFLICT (workspace_id, id) DO UPDATE SET doc = excluded.doc",
                params![ws, id, doc],
            )
            .map_err(db)?;
            apply_commit(&tx, &commit)?;
            tx.commit().map_err(db)
        })
        .await
    }

    async fn contact_for_sender(
        &self,
        workspace_id: &str,
        channel_id: &str,
        sender_id: &str,
        candidate: &Contact,
    ) -> Result<Contact, StoreError> {
        let (ws, channel, sender) = (
            workspace_id.to_string(),
            channel_id.to_string(),
            sender_id.to_string(),
        );
        let candidate = candidate.clone();
        let doc = to_doc(&candidate)?;
        self.run(move |conn| {
            // The write lock makes find-or-create one step, also across processes.
            let tx = write_tx(conn)?;
            let existing: Option<String> = tx
                .query_row(
                    "SELECT contact_id FROM contact_senders
                     WHERE workspace_id = ?1 AND channel_id = ?2 AND sender_id = ?3",
                    params![ws, channel, sender],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db)?;
            if let Some(contact_id) = existing {
                let contact = get_contact(&tx, &ws, &contact_id)?.ok_or_else(|| {
                    StoreError::Corrupt(format!("sender maps to missing contact {contact_id}"))
                })?;
                tx.commit().map_err(db)?;
                return Ok(contact);
            }
            tx.execute(
                "INSERT INTO contacts (workspace_id, id, doc) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
                params![ws, candidate.id, doc],
            )
            .map_err(db)?;
            tx.execute(
                "INSERT INTO contact_senders (workspace_id, channel_id, sender_id, contact_id)
                 VALUES (?1, ?2, ?3, ?4)",
                params![ws, channel, sender, candidate.id],
            )
            .map_err(db)?;
            let contact = get_contact(&tx, &ws, &candidate.id)?.unwrap_or(candidate);
            tx.commit().map_err(db)?;
            Ok(contact)
        })
        .await
    }

    async fn add_contact_note(
        &self,
        workspace_id: &str,
        note: &ContactNote,
    ) -> Result<(), StoreError> {
        let (ws, contact, doc) = (
            workspace_id.to_string(),
            note.contact_id.clone(),
            to_doc(note)?,
        );
        self.run(move |conn| {
            conn.execute(
                "INSERT INTO contact_notes (workspace_id, contact_id, doc) VALUES (?1, ?2, ?3)",
                params![ws, contact, doc],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn list_contact_notes(
        &self,
        workspace_id: &str,
        contact_id: &str,
        page: &PageRequest,
    ) -> Result<Page<ContactNote>, StoreError> {
        let (ws, contact, page) = (
            workspace_id.to_string(),
            contact_id.to_string(),
            page.clone(),
        );
        self.run(move |conn| {
            let scope = ["contact_notes", ws.as_str(), contact.as_str()];
            let after = match &page.cursor {
                Some(c) => cursor::int(&cursor::decode(&scope, c)?, 0)?,
                None => 0,
            };
            let mut stmt = conn
                .prepare_cached(
                    "SELECT seq, doc FROM contact_notes
                     WHERE workspace_id = ?1 AND contact_id = ?2 AND seq > ?3
                     ORDER BY seq LIMIT ?4",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map(
                    params![ws, contact, after, limit_plus_one(page.limit)],
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
                )
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            let limit = page.limit.max(1);
            let next_cursor = (rows.len() > limit)
                .then(|| rows.get(limit - 1))
                .flatten()
                .map(|(seq, _)| cursor::encode(&scope, vec![(*seq).into()]));
            let items = rows
                .iter()
                .take(limit)
                .map(|(_, doc)| from_doc(doc))
                .collect::<Result<_, _>>()?;
            Ok(Page { items, next_cursor })
        })
        .await
    }
}
