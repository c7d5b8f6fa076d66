//! Inviting a member: the identity provider creates their sign-in (Cognito in
//! AWS, a dev token locally) and the directory lists them, under the owner rules.

use crate::app::App;
use crate::error::AppError;
use async_trait::async_trait;
use inbox_domain::directory::{MemberChange, check_member_change};
use inbox_domain::model::Member;
use inbox_domain::{Caller, DomainError, Role};
use inbox_store::DirectoryStore;

/// Who to invite, already validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    /// The workspace they join.
    pub workspace_id: String,
    /// Their email: where the provider writes to them, and their sign-in name.
    pub email: String,
    /// Their display name.
    pub name: String,
    /// Their role in the workspace.
    pub role: Role,
}

/// Why the identity provider did not invite.
#[derive(Debug, thiserror::Error)]
pub enum InviteError {
    /// The provider already has a user with this email.
    #[error("a user with this email exists")]
    Exists,
    /// This deployment has no provider that can invite (an external issuer).
    #[error("this deployment cannot invite members")]
    NotConfigured,
    /// The provider failed or could not be reached.
    #[error("identity provider: {0}")]
    Unavailable(String),
}

/// The identity provider that creates an invited member's sign-in.
#[async_trait]
pub trait Invitations: Send + Sync {
    /// Creates the sign-in and answers the member id the provider gives
    /// them (their tokens' `sub`).
    async fn invite(&self, invitation: &Invitation) -> Result<String, InviteError>;
}

/// No provider: every invitation is `NotConfigured`.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoInvitations;

#[async_trait]
impl Invitations for NoInvitations {
    async fn invite(&self, _: &Invitation) -> Result<String, InviteError> {
        Err(InviteError::NotConfigured)
    }
}

impl<S: DirectoryStore> App<S> {
    /// Invites a member as `actor`: the owner rules first (only an owner may
    /// invite an owner), an email the directory already lists is `id_taken`,
    /// then the provider's sign-in, then the directory entry under the id it
    /// gave. Nothing is written when a step before the provider refuses.
    pub async fn invite_member(
        &self,
        actor: &Caller,
        invitation: &Invitation,
    ) -> Result<Member, AppError> {
        let ws = invitation.workspace_id.as_str();
        check_member_change(actor.role, None, MemberChange::Put(invitation.role), &[])?;
        let members = self.store().list_members(ws).await?;
        let taken = members.iter().any(|m| {
            m.email
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(&invitation.email))
        });
        if taken {
            return Err(DomainError::IdTaken(invitation.email.clone()).into());
        }
        let id = match self.invitations().invite(invitation).await {
            Ok(id) => id,
            Err(InviteError::Exists) => {
                return Err(DomainError::IdTaken(invitation.email.clone()).into());
            }
            Err(InviteError::NotConfigured) => return Err(AppError::Unsupported("invitations")),
            Err(InviteError::Unavailable(e)) => {
                return Err(AppError::Store(inbox_store::StoreError::Unavailable(e)));
            }
        };
        // The provider's id must not name someone already listed.
        if self.store().get_person(ws, &id).await?.is_some() {
            return Err(DomainError::IdTaken(id).into());
        }
        let member = Member {
            id: id.clone(),
            name: invitation.name.clone(),
            email: Some(invitation.email.clone()),
            role: invitation.role,
        };
        self.change_member(ws, actor, &id, Some(&member)).await?;
        Ok(member)
    }
}
