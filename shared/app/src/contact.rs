//! A change to a contact: the contact and the snapshot of it on their
//! conversations, written together, under the same retry policy as every
//! other command.

use crate::app::App;
use crate::error::AppError;
use crate::execute::{Decision, Plan, Principal, Target, Token};
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
    /// Applies `edit` to contact `contact_id` and refreshes the snapshot on
    /// their newest [`CONTACT_CONVERSATIONS_REFRESHED`] conversations. The
    /// contact is written atomically with as many of those refreshes as fit
    /// in one transaction (`Commit::packed`), so a lost race on any of them
    /// re-reads and re-decides the whole change; the rest follow in further
    /// transactions of their own, each retried through [`App::execute`].
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
            let mut writes = Vec::new();
            for conv in &conversations {
                let cmd = Command::ContactChanged {
                    contact: after.clone(),
                };
                writes.extend(self.decide_command(conv, cmd, &context, &actor)?.writes);
            }
            // The contact and a provisioned member ride in the first transaction.
            let mut commits = Commit::packed(workspace_id, writes, 2).into_iter();
            let mut first = commits.next().unwrap_or_else(|| Commit::new(workspace_id));
            first.provision = token.provision(entry.as_ref());
            match store.update_contact(workspace_id, &after, first).await {
                Ok(()) => {}
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
            for rest in commits {
                self.commit_or_redecide(workspace_id, token, &after, rest)
                    .await?;
            }
            return Ok(ContactChange {
                contact: after,
                changed: true,
            });
        }
        Err(AppError::Contended(policy.max_attempts))
    }

    /// Commits refreshes decided after the contact was written; when one of
    /// their conversations changed meanwhile, each is decided again on its
    /// own through the one loop.
    async fn commit_or_redecide(
        &self,
        workspace_id: &str,
        token: &Token,
        contact: &Contact,
        commit: Commit,
    ) -> Result<(), AppError> {
        let ids: Vec<String> = commit
            .writes
            .iter()
            .map(|w| w.conversation.id.clone())
            .collect();
        match self.commit(commit).await {
            Ok(()) => return Ok(()),
            Err(StoreError::Conflict) => {}
            Err(e) => return Err(e.into()),
        }
        for id in ids {
            let plan = Plan::new(
                workspace_id,
                Principal::Token(token.clone()),
                Target::Conversation(id),
            );
            let cmd = Command::ContactChanged {
                contact: contact.clone(),
            };
            match self
                .execute(plan, |_, _| Ok(Decision::Command(cmd.clone())))
                .await
            {
                // Deleted meanwhile: nothing to refresh.
                Ok(_) | Err(AppError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}
