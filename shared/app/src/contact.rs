//! A change to a contact: the contact first, then the snapshot of it on each
//! of their conversations, as fan-out work (the request's first part, then a
//! job). Commands read the contact itself, so a snapshot not yet refreshed
//! never decides anything; it only shows in lists until the job reaches it.

use crate::app::App;
use crate::error::AppError;
use crate::execute::Token;
use crate::jobs::FanOutFigures;
use inbox_domain::model::Contact;
use inbox_domain::{Job, JobKind};
use inbox_store::{Commit, Store, StoreError};

/// What a contact change did.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactChange {
    /// The contact as it is now.
    pub contact: Contact,
    /// Whether anything changed (changing nothing writes nothing).
    pub changed: bool,
    /// The job refreshing the conversations past the request's first part.
    pub job: Option<Job>,
    /// The refreshes written by this call.
    pub figures: FanOutFigures,
}

impl<S: Store> App<S> {
    /// Applies `edit` to contact `contact_id`, writes it (with the caller's
    /// just-in-time provisioning), then refreshes the snapshot on their
    /// conversations through [`App::fan_out`].
    pub async fn change_contact(
        &self,
        workspace_id: &str,
        token: &Token,
        contact_id: &str,
        edit: impl Fn(&mut Contact) + Send + Sync,
    ) -> Result<ContactChange, AppError> {
        let store = self.store();
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
                job: None,
                figures: FanOutFigures::default(),
            });
        }
        let entry = store.get_person(workspace_id, &token.sub).await?;
        let mut first = Commit::new(workspace_id);
        first.provision = token.provision(entry.as_ref());
        match store.update_contact(workspace_id, &after, first).await {
            Ok(()) => {}
            // Only the provisioning can conflict: the member was added meanwhile.
            Err(StoreError::Conflict) => {
                store
                    .update_contact(workspace_id, &after, Commit::new(workspace_id))
                    .await?;
            }
            Err(e) => return Err(e.into()),
        }
        let caller = token.caller(entry.as_ref());
        let fan = self
            .fan_out_as(workspace_id, &caller, JobKind::ContactRefresh, &after.id)
            .await?;
        Ok(ContactChange {
            contact: after,
            changed: true,
            job: fan.job,
            figures: fan.figures,
        })
    }
}
