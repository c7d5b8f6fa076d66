//! Directory rules: just-in-time provisioning, member search, id ownership.

use crate::access::{Caller, Role};
use crate::error::DomainError;
use crate::ids::is_valid_external_id;
use crate::model::{AiAgent, DirectoryEntry, Member};
use crate::values::DisplayName;

/// The caller as decisions see them. A member-role token whose subject the
/// directory lists as a member acts with the directory's role and name (even
/// a blank name, which keeps `profile_incomplete` meaningful): the token's
/// role only provisions. An AI agent listed as one gets the directory's name.
/// Anyone else acts with the token's role and `name` claim.
pub fn caller_from_directory(
    id: &str,
    role: Role,
    token_name: Option<&str>,
    entry: Option<&DirectoryEntry>,
) -> Caller {
    match entry {
        Some(DirectoryEntry::Member(m)) if role.is_member_role() => {
            Caller::new(id, m.role, Some(m.name.as_str()))
        }
        Some(DirectoryEntry::Agent(a)) if role == Role::AiAgent => {
            Caller::new(id, role, Some(a.name.as_str()))
        }
        // A token's claim is outside input like a channel's: cleaned and cut, never refused.
        _ => {
            let name = token_name.and_then(DisplayName::from_channel);
            Caller::new(id, role, name.as_ref().map(DisplayName::as_str))
        }
    }
}

/// Whether a token of `role` is added to the directory on its first write
/// (agent and up: viewers, AI agents and integrations never are).
pub fn is_provisioned_role(role: Role) -> bool {
    matches!(role, Role::Agent | Role::Admin | Role::Owner)
}

/// A member to add on the caller's first write, if the caller is a member-role
/// token (agent and up) whose id the directory does not list yet (as a member
/// or an AI agent).
pub fn provision(caller: &Caller, listed: Option<&DirectoryEntry>) -> Option<Member> {
    if listed.is_some() || !is_provisioned_role(caller.role) {
        return None;
    }
    Some(Member {
        id: caller.id.clone(),
        name: caller.display_name().unwrap_or_default().to_string(),
        email: None,
        role: caller.role,
    })
}

/// What a directory write does to a member, for the owner rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberChange {
    /// `PUT /members/{id}` with this role.
    Put(Role),
    /// `DELETE /members/{id}`.
    Remove,
}

/// What the owner rules require of a member change that is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnerGuard {
    /// Nothing: no owner loses the role.
    None,
    /// An owner loses the role: the write must land only while this other
    /// member is still an owner (so two owners demoting each other at once
    /// cannot leave the workspace with none).
    StillOwner(String),
}

/// The owner rules of a member change by `actor_role` (the directory's role
/// of the caller): only an owner may create, change or remove an owner, or
/// make someone one (`forbidden`); the last owner cannot be removed or
/// demoted (`last_owner`). `owners` are the workspace's owners now.
pub fn check_member_change(
    actor_role: Role,
    target: Option<&Member>,
    change: MemberChange,
    owners: &[&Member],
) -> Result<OwnerGuard, DomainError> {
    let was_owner = target.is_some_and(|m| m.role == Role::Owner);
    let makes_owner = change == MemberChange::Put(Role::Owner);
    if (was_owner || makes_owner) && actor_role != Role::Owner {
        return Err(DomainError::Forbidden);
    }
    let stays_owner = makes_owner;
    let Some(target) = target.filter(|_| was_owner && !stays_owner) else {
        return Ok(OwnerGuard::None);
    };
    owners
        .iter()
        .find(|o| o.id != target.id && o.role == Role::Owner)
        .map(|o| OwnerGuard::StillOwner(o.id.clone()))
        .ok_or(DomainError::LastOwner)
}

/// Checks a caller-chosen id for a member, team, AI agent or channel.
pub fn check_external_id(id: &str) -> Result<(), DomainError> {
    if is_valid_external_id(id) {
        Ok(())
    } else {
        Err(DomainError::BadRequest(format!(
            "id {id:?} must match [a-z0-9][a-z0-9_-]{{0,63}}"
        )))
    }
}

/// An id is either a member or an AI agent, never both.
pub fn check_id_free_for_member(id: &str, agent: Option<&AiAgent>) -> Result<(), DomainError> {
    match agent {
        Some(_) => Err(DomainError::IdTaken(id.to_string())),
        None => Ok(()),
    }
}

/// An id is either a member or an AI agent, never both.
pub fn check_id_free_for_agent(id: &str, member: Option<&Member>) -> Result<(), DomainError> {
    match member {
        Some(_) => Err(DomainError::IdTaken(id.to_string())),
        None => Ok(()),
    }
}

/// Case-insensitive substring match for the "Search members…" list.
pub fn matches_search(q: &str, fields: &[Option<&str>]) -> bool {
    let q = q.trim().to_lowercase();
    q.is_empty()
        || fields
            .iter()
            .flatten()
            .any(|f| f.to_lowercase().contains(&q))
}

/// Members whose name or email matches `q`.
pub fn search_members<'a>(members: &'a [Member], q: &str) -> Vec<&'a Member> {
    members
        .iter()
        .filter(|m| matches_search(q, &[Some(&m.name), m.email.as_deref()]))
        .collect()
}

/// AI agents whose name matches `q`.
pub fn search_agents<'a>(agents: &'a [AiAgent], q: &str) -> Vec<&'a AiAgent> {
    agents
        .iter()
        .filter(|a| matches_search(q, &[Some(&a.name)]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn just_in_time_provisioning_for_member_roles_only() {
        let bob = Caller::new("bob", Role::Agent, Some("Bob Ray"));
        let m = provision(&bob, None).unwrap();
        assert_eq!((m.name.as_str(), m.role), ("Bob Ray", Role::Agent));
        assert!(provision(&bob, Some(&DirectoryEntry::Member(m.clone()))).is_none());
        assert!(provision(&Caller::new("v", Role::Viewer, None), None).is_none());
        assert!(provision(&Caller::new("max", Role::AiAgent, None), None).is_none());
        let nameless = provision(&Caller::new("x", Role::Owner, None), None).unwrap();
        assert_eq!(nameless.name, "");
    }

    #[test]
    fn the_directory_names_the_caller_of_its_own_kind() {
        let member = DirectoryEntry::Member(Member {
            id: "bob".into(),
            name: "Robert".into(),
            email: None,
            role: Role::Agent,
        });
        let named = |role, entry| caller_from_directory("bob", role, Some("Token Bob"), entry).name;
        assert_eq!(named(Role::Agent, Some(&member)).as_deref(), Some("Robert"));
        assert_eq!(named(Role::Agent, None).as_deref(), Some("Token Bob"));
        // An AI agent token is never named after a member with its id.
        assert_eq!(
            named(Role::AiAgent, Some(&member)).as_deref(),
            Some("Token Bob")
        );
        // A token's name claim cannot carry a line break into a transcript.
        let forged = caller_from_directory("bob", Role::Agent, Some("Bob\nRay"), None);
        assert_eq!(forged.name.as_deref(), Some("Bob Ray"));
    }

    fn m(id: &str, role: Role) -> Member {
        Member {
            id: id.into(),
            name: id.into(),
            email: None,
            role,
        }
    }

    #[test]
    fn the_directory_role_decides_for_members() {
        let viewer = DirectoryEntry::Member(m("bob", Role::Viewer));
        let c = caller_from_directory("bob", Role::Admin, None, Some(&viewer));
        assert_eq!(c.role, Role::Viewer);
        let promoted = DirectoryEntry::Member(m("bob", Role::Owner));
        let c = caller_from_directory("bob", Role::Agent, None, Some(&promoted));
        assert_eq!(c.role, Role::Owner);
        // Unlisted: the token's role. Machine tokens never take a member's role.
        assert_eq!(
            caller_from_directory("bob", Role::Agent, None, None).role,
            Role::Agent
        );
        let c = caller_from_directory("bob", Role::Integration, None, Some(&promoted));
        assert_eq!(c.role, Role::Integration);
    }

    #[test]
    fn only_owners_touch_owners_and_the_last_one_stays() {
        use MemberChange::{Put, Remove};
        let (olivia, oscar, ada) = (
            m("olivia", Role::Owner),
            m("oscar", Role::Owner),
            m("ada", Role::Admin),
        );
        let one = [&olivia];
        let two = [&olivia, &oscar];
        // An admin may manage non-owners, and nothing about owners.
        assert_eq!(
            check_member_change(Role::Admin, Some(&ada), Put(Role::Agent), &one),
            Ok(OwnerGuard::None)
        );
        assert_eq!(
            check_member_change(Role::Admin, None, Put(Role::Agent), &one),
            Ok(OwnerGuard::None)
        );
        for (target, change) in [
            (Some(&ada), Put(Role::Owner)),
            (None, Put(Role::Owner)),
            (Some(&olivia), Put(Role::Admin)),
            (Some(&olivia), Put(Role::Owner)),
            (Some(&olivia), Remove),
        ] {
            assert_eq!(
                check_member_change(Role::Admin, target, change, &one),
                Err(DomainError::Forbidden),
                "{target:?} {change:?}"
            );
        }
        // An owner may, except to leave no owner.
        assert_eq!(
            check_member_change(Role::Owner, Some(&ada), Put(Role::Owner), &one),
            Ok(OwnerGuard::None)
        );
        assert_eq!(
            check_member_change(Role::Owner, Some(&olivia), Put(Role::Owner), &one),
            Ok(OwnerGuard::None)
        );
        assert_eq!(
            check_member_change(Role::Owner, Some(&olivia), Remove, &one),
            Err(DomainError::LastOwner)
        );
        assert_eq!(
            check_member_change(Role::Owner, Some(&olivia), Put(Role::Agent), &one),
            Err(DomainError::LastOwner)
        );
        assert_eq!(
            check_member_change(Role::Owner, Some(&olivia), Remove, &two),
            Ok(OwnerGuard::StillOwner("oscar".into()))
        );
        assert_eq!(DomainError::LastOwner.status(), 409);
    }

    #[test]
    fn search_is_case_insensitive_substring_of_name_or_email() {
        let ms = vec![
            Member {
                id: "bob".into(),
                name: "Bob Ray".into(),
                email: Some("bob@x.io".into()),
                role: Role::Agent,
            },
            Member {
                id: "ann".into(),
                name: "Ann".into(),
                email: Some("ann@y.io".into()),
                role: Role::Agent,
            },
        ];
        let ids = |q| {
            search_members(&ms, q)
                .iter()
                .map(|m| m.id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids("bo"), vec!["bob"]);
        assert_eq!(ids("Y.IO"), vec!["ann"]);
        assert_eq!(ids(""), vec!["bob", "ann"]);
        let agents = vec![AiAgent::external("max", "Max")];
        assert_eq!(search_agents(&agents, "ma").len(), 1);
        assert!(check_external_id("Bad Id").is_err());
        assert!(check_id_free_for_member("max", agents.first()).is_err());
    }
}
