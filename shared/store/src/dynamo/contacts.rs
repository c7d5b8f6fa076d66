//! Contacts (`WS#<ws>#CONTACT#<id>`), their notes, and sender identities
//! (`WS#<ws>#SENDER#<channel>#<sender>`).

use super::error;
use super::items::{from_item, get_s, key, to_item};
use super::table::{PK, SK, keys};
use super::transaction::Transaction;
use super::{DynamoStore, QuerySpec};
use crate::port::{Commit, ContactStore, Page, PageRequest, StoreError};
use async_trait::async_trait;
use inbox_domain::model::{Contact, ContactNote};
use serde::Serialize;

/// Which contact a channel's sender id is.
#[derive(Serialize)]
struct SenderRecord<'a> {
    channel_id: &'a str,
    sender_id: &'a str,
    contact_id: &'a str,
}

impl DynamoStore {
    fn contact_item(&self, ws: &str, contact: &Contact) -> Result<super::items::Item, StoreError> {
        to_item(
            contact,
            keys::contact_pk(ws, &contact.id),
            keys::CONTACT_SK.into(),
            "contact",
        )
    }
}

#[async_trait]
impl ContactStore for DynamoStore {
    async fn create_contact(
        &self,
        workspace_id: &str,
        contact: &Contact,
    ) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(self.contact_item(workspace_id, contact)?))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .send()
            .await
            .map_err(error::conditional)?;
        Ok(())
    }

    async fn get_contact(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> Result<Option<Contact>, StoreError> {
        match self
            .get_item(key(keys::contact_pk(workspace_id, id), keys::CONTACT_SK))
            .await?
        {
            Some(item) => Ok(Some(from_item(item)?)),
            None => Ok(None),
        }
    }

    async fn get_contacts(
        &self,
        workspace_id: &str,
        ids: &[String],
    ) -> Result<Vec<Contact>, StoreError> {
        let mut unique: Vec<&String> = ids.iter().collect();
        unique.sort();
        unique.dedup();
        let keys = unique
            .into_iter()
            .map(|id| key(keys::contact_pk(workspace_id, id), keys::CONTACT_SK))
            .collect();
        self.batch_get(keys)
            .await?
            .into_iter()
            .map(from_item)
            .collect()
    }

    async fn update_contact(
        &self,
        workspace_id: &str,
        contact: &Contact,
        commit: Commit,
    ) -> Result<(), StoreError> {
        let mut tx = Transaction::default();
        tx.put(
            &self.table,
            self.contact_item(workspace_id, contact)?,
            Some("attribute_exists(pk)"),
            None,
        )?;
        self.add_commit(&mut tx, &commit)?;
        self.send(tx).await
    }

    async fn contact_for_sender(
        &self,
        workspace_id: &str,
        channel_id: &str,
        sender_id: &str,
        candidate: &Contact,
    ) -> Result<Contact, StoreError> {
        let sender_key = key(
            keys::sender_pk(workspace_id, channel_id, sender_id),
            keys::SENDER_SK,
        );
        // Read, else claim the sender and create the contact together; the
        // loser of a race reads the winner's mapping.
        for _ in 0..3 {
            if let Some(item) = self.get_item(sender_key.clone()).await? {
                let contact_id = get_s(&item, "contact_id")
                    .ok_or_else(|| StoreError::Corrupt("a sender item has no contact".into()))?
                    .to_string();
                return self
                    .get_contact(workspace_id, &contact_id)
                    .await?
                    .ok_or_else(|| {
                        StoreError::Corrupt(format!("sender maps to missing contact {contact_id}"))
                    });
            }
            let record = SenderRecord {
                channel_id,
                sender_id,
                contact_id: &candidate.id,
            };
            let mut tx = Transaction::default();
            tx.put_new(
                &self.table,
                to_item(
                    &record,
                    keys::sender_pk(workspace_id, channel_id, sender_id),
                    keys::SENDER_SK.into(),
                    "sender",
                )?,
            )?;
            tx.put_new(&self.table, self.contact_item(workspace_id, candidate)?)?;
            match self.send(tx).await {
                Ok(()) => return Ok(candidate.clone()),
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Conflict)
    }

    async fn add_contact_note(
        &self,
        workspace_id: &str,
        note: &ContactNote,
    ) -> Result<(), StoreError> {
        let item = to_item(
            note,
            keys::contact_pk(workspace_id, &note.contact_id),
            keys::note_sk(note.created_at, &note.id),
            "contact_note",
        )?;
        self.put_item(item).await
    }

    async fn list_contact_notes(
        &self,
        workspace_id: &str,
        contact_id: &str,
        page: &PageRequest,
    ) -> Result<Page<ContactNote>, StoreError> {
        let pk = keys::contact_pk(workspace_id, contact_id);
        let f = super::cursor::fingerprint(&[&pk, keys::NOTE_PREFIX]);
        let spec = QuerySpec::partition(pk, Some(keys::NOTE_PREFIX));
        let (items, next_cursor) = self.view_page(spec, false, &[PK, SK], &f, page).await?;
        Ok(Page {
            items: items.into_iter().map(from_item).collect::<Result<_, _>>()?,
            next_cursor,
        })
    }
}
