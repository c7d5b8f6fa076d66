//! Member changes under the owner rules, race-free.

use crate::app::App;
use crate::error::AppError;
use inbox_domain::directory::{
    MemberChange, OwnerGuard, check_id_free_for_member, check_member_change,
};
use inbox_domain::model::{DirectoryEntry, Member};
use inbox_domain::{Caller, DomainError, Role};
use inbox_store::{DirectoryStore, StoreError};

impl<S: DirectoryStore> App<S> {
    /// The caller as the directory sees them (its role and name when they are
    /// listed), for requests that change no conversation: one read.
    pub async fn directory_caller(
        &self,
        workspace_id: &str,
        token: &crate::Token,
    ) -> Result<Caller, AppError> {
        let entry = self.store().get_person(workspace_id, &token.sub).await?;
        Ok(token.caller(entry.as_ref()))
    }

    /// Creates or replaces (`Some`) or removes (`None`) member `id` as `actor`
    /// under the domain's owner rules (`forbidden`, `last_owner`); an id that
    /// is an AI agent's is `id_taken` for a put and `not_found` for a removal.
    /// A change that takes the role from an owner lands only while another
    /// owner still is one; when that owner changed meanwhile, it is decided
    /// again on what is there now.
    pub async fn change_member(
        &self,
        workspace_id: &str,
        actor: &Caller,
        id: &str,
        member: Option<&Member>,
    ) -> Result<(), AppError> {
        let store = self.store();
        let change = match member {
            Some(m) => MemberChange::Put(m.role),
            None => MemberChange::Remove,
        };
        let policy = *self.retry();
        for attempt in 0..policy.max_attempts {
            policy.pause(attempt).await;
            let target = match store.get_person(workspace_id, id).await? {
                Some(DirectoryEntry::Agent(a)) if member.is_some() => {
                    check_id_free_for_member(id, Some(&a))?;
                    return Err(DomainError::IdTaken(id.to_string()).into());
                }
                Some(DirectoryEntry::Agent(_)) => return Err(AppError::NotFound("member")),
                Some(DirectoryEntry::Member(m)) => Some(m),
                None => None,
            };
            // The owners are read only when an owner is the one changing.
            let owners = match &target {
                Some(t) if t.role == Role::Owner => store.list_members(workspace_id).await?,
                _ => Vec::new(),
            };
            let owners: Vec<&Member> = owners.iter().filter(|m| m.role == Role::Owner).collect();
            let guard = check_member_change(actor.role, target.as_ref(), change, &owners)?;
            let written = match (guard, member) {
                (OwnerGuard::None, Some(m)) => store.put_member(workspace_id, m).await,
                (OwnerGuard::None, None) => store.delete_member(workspace_id, id).await,
                (OwnerGuard::StillOwner(owner), m) => {
                    store
                        .change_member_while_owner(workspace_id, id, m, &owner)
                        .await
                }
            };
            match written {
                Ok(()) => return Ok(()),
                // The id became an AI agent's, or the other owner changed: decide again.
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Contended(policy.max_attempts))
    }
}
