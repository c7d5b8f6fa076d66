//! Settings and the directory: one partition per workspace (`WS#<ws>#DIR`).

use super::DynamoStore;
use super::error;
use super::items::{Item, PersonRecord, from_item, key, s, to_item};
use super::table::keys;
use crate::port::{DirectoryEntry, DirectoryStore, StoreError};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Put, TransactWriteItem};
use inbox_domain::model::{AiAgent, Channel, Member, Team};
use inbox_domain::{Job, Settings};
use serde::Serialize;
use serde::de::DeserializeOwned;

impl DynamoStore {
    /// Every item of a directory kind (a few pages at most: directories are small).
    pub(super) async fn directory_items(
        &self,
        ws: &str,
        prefix: &str,
    ) -> Result<Vec<Item>, StoreError> {
        self.partition_items(keys::directory_pk(ws), Some(prefix))
            .await
    }

    async fn get_directory<T: DeserializeOwned>(
        &self,
        ws: &str,
        sk: String,
    ) -> Result<Option<T>, StoreError> {
        match self.get_item(key(keys::directory_pk(ws), &sk)).await? {
            Some(item) => Ok(Some(from_item(item)?)),
            None => Ok(None),
        }
    }

    async fn put_directory<T: Serialize>(
        &self,
        ws: &str,
        sk: String,
        entity: &str,
        value: &T,
    ) -> Result<(), StoreError> {
        let item = to_item(value, keys::directory_pk(ws), sk, entity)?;
        self.put_item(item).await
    }

    async fn delete_directory(&self, ws: &str, sk: String) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::directory_pk(ws), &sk)))
            .send()
            .await
            .map_err(error::unavailable)?;
        Ok(())
    }

    /// Puts a member or an agent unless the id is taken by the other kind.
    async fn put_person(&self, ws: &str, record: PersonRecord) -> Result<(), StoreError> {
        let (id, kind) = match &record {
            PersonRecord::Member(m) => (m.id.clone(), "member"),
            PersonRecord::Agent(a) => (a.id.clone(), "agent"),
        };
        let item = to_item(&record, keys::directory_pk(ws), person_sk(&id), "person")?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk) OR #kind = :kind")
            .expression_attribute_names("#pk", super::table::PK)
            .expression_attribute_names("#kind", "kind")
            .expression_attribute_values(":kind", s(kind))
            .send()
            .await
            .map_err(error::conditional)?;
        Ok(())
    }

    /// Deletes a member or agent if the id is of that kind; otherwise nothing.
    async fn delete_person(&self, ws: &str, id: &str, kind: &str) -> Result<(), StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::directory_pk(ws), &person_sk(id))))
            .condition_expression("attribute_not_exists(#pk) OR #kind = :kind")
            .expression_attribute_names("#pk", super::table::PK)
            .expression_attribute_names("#kind", "kind")
            .expression_attribute_values(":kind", s(kind))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            Err(e) if error::is_condition_failure(&e) => Ok(()),
            Err(e) => Err(error::unavailable(e)),
        }
    }

    async fn people(&self, ws: &str) -> Result<Vec<PersonRecord>, StoreError> {
        self.directory_items(ws, keys::PERSON_PREFIX)
            .await?
            .into_iter()
            .map(from_item)
            .collect()
    }
}

/// The sort key of job `id`.
pub(super) fn job_sk(id: &str) -> String {
    format!("{}{id}", keys::JOB_PREFIX)
}
fn person_sk(id: &str) -> String {
    format!("{}{id}", keys::PERSON_PREFIX)
}
fn team_sk(id: &str) -> String {
    format!("{}{id}", keys::TEAM_PREFIX)
}
fn channel_sk(id: &str) -> String {
    format!("{}{id}", keys::CHANNEL_PREFIX)
}

fn sorted<T>(mut v: Vec<T>, id: impl Fn(&T) -> &str) -> Vec<T> {
    v.sort_by(|a, b| id(a).cmp(id(b)));
    v
}

#[async_trait]
impl DirectoryStore for DynamoStore {
    async fn get_settings(&self, workspace_id: &str) -> Result<Settings, StoreError> {
        Ok(self
            .get_directory(workspace_id, keys::SETTINGS_SK.into())
            .await?
            .unwrap_or_default())
    }

    async fn put_settings(
        &self,
        workspace_id: &str,
        settings: &Settings,
    ) -> Result<(), StoreError> {
        self.put_directory(workspace_id, keys::SETTINGS_SK.into(), "settings", settings)
            .await
    }

    async fn get_person(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> Result<Option<DirectoryEntry>, StoreError> {
        let record: Option<PersonRecord> = self.get_directory(workspace_id, person_sk(id)).await?;
        Ok(record.map(|r| match r {
            PersonRecord::Member(m) => DirectoryEntry::Member(m),
            PersonRecord::Agent(a) => DirectoryEntry::Agent(a),
        }))
    }

    async fn get_job(&self, workspace_id: &str, id: &str) -> Result<Option<Job>, StoreError> {
        self.get_directory(workspace_id, job_sk(id)).await
    }

    async fn put_member(&self, workspace_id: &str, member: &Member) -> Result<(), StoreError> {
        self.put_person(workspace_id, PersonRecord::Member(member.clone()))
            .await
    }

    async fn provision_member(
        &self,
        workspace_id: &str,
        member: &Member,
    ) -> Result<(), StoreError> {
        // One conditional put: the id must name nobody yet.
        let item = to_item(
            &PersonRecord::Member(member.clone()),
            keys::directory_pk(workspace_id),
            person_sk(&member.id),
            "person",
        )?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", super::table::PK)
            .send()
            .await
            .map_err(error::conditional)?;
        Ok(())
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
        // One transaction: the change, and a check that the other owner is
        // still one. Two owners demoting each other at once conflict here.
        let pk = keys::directory_pk(workspace_id);
        // The id must not be an AI agent's.
        let kind_cond = "attribute_not_exists(#pk) OR #kind = :member";
        let change = match member {
            Some(m) => {
                let item = to_item(
                    &PersonRecord::Member(m.clone()),
                    pk.clone(),
                    person_sk(id),
                    "person",
                )?;
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .condition_expression(kind_cond)
                    .expression_attribute_names("#pk", super::table::PK)
                    .expression_attribute_names("#kind", "kind")
                    .expression_attribute_values(":member", s("member"))
                    .build()
                    .map_err(|e| error::corrupt("member put", e))?;
                TransactWriteItem::builder().put(put).build()
            }
            None => {
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(pk.clone(), &person_sk(id))))
                    .condition_expression(kind_cond)
                    .expression_attribute_names("#pk", super::table::PK)
                    .expression_attribute_names("#kind", "kind")
                    .expression_attribute_values(":member", s("member"))
                    .build()
                    .map_err(|e| error::corrupt("member delete", e))?;
                TransactWriteItem::builder().delete(delete).build()
            }
        };
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk, &person_sk(owner))))
            .condition_expression("#kind = :member AND #role = :owner")
            .expression_attribute_names("#kind", "kind")
            .expression_attribute_names("#role", "role")
            .expression_attribute_values(":member", s("member"))
            .expression_attribute_values(":owner", s("owner"))
            .build()
            .map_err(|e| error::corrupt("owner check", e))?;
        self.client
            .transact_write_items()
            .transact_items(change)
            .transact_items(TransactWriteItem::builder().condition_check(check).build())
            .send()
            .await
            .map_err(|e| error::transaction(e, super::transaction::TxGuards::default()))?;
        Ok(())
    }

    async fn list_members(&self, workspace_id: &str) -> Result<Vec<Member>, StoreError> {
        let members = self
            .people(workspace_id)
            .await?
            .into_iter()
            .filter_map(|p| match p {
                PersonRecord::Member(m) => Some(m),
                PersonRecord::Agent(_) => None,
            })
            .collect();
        Ok(sorted(members, |m: &Member| &m.id))
    }

    async fn put_agent(&self, workspace_id: &str, agent: &AiAgent) -> Result<(), StoreError> {
        self.put_person(workspace_id, PersonRecord::Agent(agent.clone()))
            .await
    }

    async fn delete_agent(&self, workspace_id: &str, id: &str) -> Result<(), StoreError> {
        self.delete_person(workspace_id, id, "agent").await
    }

    async fn list_agents(&self, workspace_id: &str) -> Result<Vec<AiAgent>, StoreError> {
        let agents = self
            .people(workspace_id)
            .await?
            .into_iter()
            .filter_map(|p| match p {
                PersonRecord::Agent(a) => Some(a),
                PersonRecord::Member(_) => None,
            })
            .collect();
        Ok(sorted(agents, |a: &AiAgent| &a.id))
    }

    async fn get_team(&self, workspace_id: &str, id: &str) -> Result<Option<Team>, StoreError> {
        self.get_directory(workspace_id, team_sk(id)).await
    }

    async fn put_team(&self, workspace_id: &str, team: &Team) -> Result<(), StoreError> {
        self.put_directory(workspace_id, team_sk(&team.id), "team", team)
            .await
    }

    async fn delete_team(&self, workspace_id: &str, id: &str) -> Result<(), StoreError> {
        self.delete_directory(workspace_id, team_sk(id)).await
    }

    async fn list_teams(&self, workspace_id: &str) -> Result<Vec<Team>, StoreError> {
        let teams = self
            .directory_items(workspace_id, keys::TEAM_PREFIX)
            .await?
            .into_iter()
            .map(from_item)
            .collect::<Result<Vec<Team>, _>>()?;
        Ok(sorted(teams, |t: &Team| &t.id))
    }

    async fn get_channel(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> Result<Option<Channel>, StoreError> {
        self.get_directory(workspace_id, channel_sk(id)).await
    }

    async fn put_channel(&self, workspace_id: &str, channel: &Channel) -> Result<(), StoreError> {
        self.put_directory(workspace_id, channel_sk(&channel.id), "channel", channel)
            .await
    }

    async fn list_channels(&self, workspace_id: &str) -> Result<Vec<Channel>, StoreError> {
        let channels = self
            .directory_items(workspace_id, keys::CHANNEL_PREFIX)
            .await?
            .into_iter()
            .map(from_item)
            .collect::<Result<Vec<Channel>, _>>()?;
        Ok(sorted(channels, |c: &Channel| &c.id))
    }
}
