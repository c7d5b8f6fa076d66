//! A change to a contact: the contact and the snapshot of it on their
//! conversations, written together, under the same retry policy as every
//! other command.

use crate::app::App;
use crate::error::AppError;
use crate::execute::Token;
use inbox_domain::model::Contact;
use inbox_domain::{Actor, Command};
use inbox_store::{Commit, Store, StoreError};

/// How many of a contact's conversations a contact change refreshes (newest first).
pub const CONTACT_CONVERSATIONS_REFRESHED: usize = 100;

/// What a contact change did.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactChange {
    /// The contact as it is now.
    pub contact: Contact,
    /// Whether anything changed (changing nothing writes nothing).
    pub changed: bool,
}

impl<S: Store> App<S> {
    /// Applies `edit` to contact `contact_id` and refreshes their
    /// conversations' snapshot in one atomic write; a lost race on any of
    /// them re-reads and re-decides.
    pub async fn change_contact(
        &self,
        workspace_id: &str,
        token: &Token,
        contact_id: &str,
        edit: impl Fn(&mut Contact) + Send + Sync,
    ) -> Result<ContactChange, AppError> {
        let store = self.store();
        let policy = *self.retry();
        for attempt in 0..policy.max_attempts {
            policy.pause(attempt).await;
            let before = store
                .get_contact(workspace_id, contact_id)
                .await?
                .ok_or(AppError::NotFound("contact"))?;
            let mut after = before.clone();
            edit(&mut after);
            if after == before {
                return Ok(ContactChange {
                    contact: after,
                    changed: false,
                });
            }
            let entry = store.get_person(workspace_id, &token.sub).await?;
            let actor = Actor::Caller(token.caller(entry.as_ref()));
            let conversations = store
                .conversations_of_contact(workspace_id, &after.id, CONTACT_CONVERSATIONS_REFRESHED)
                .await?;
            let context = inbox_store::CommandContext {
                settings: store.get_settings(workspace_id).await?,
                ..Default::default()
            };
            let mut commit = Commit::new(workspace_id);
            for conv in &conversations {
                let cmd = Command::ContactChanged {
                    contact: after.clone(),
                };
                let outcome = self.decide_command(conv, cmd, &context, &actor)?;
                commit.writes.extend(outcome.writes);
            }
            let provision = token.provision(entry.as_ref());
            if commit.writes.is_empty() {
                // With no conversation to refresh, the member is provisioned on its own.
                let mut only = Commit::new(workspace_id);
                only.provision = provision;
                self.commit(only).await?;
            } else {
                commit.provision = provision;
            }
            match store.update_contact(workspace_id, &after, commit).await {
                Ok(()) => {
                    return Ok(ContactChange {
                        contact: after,
                        changed: true,
                    });
                }
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Contended(policy.max_attempts))
    }
}
