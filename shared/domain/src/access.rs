//! Roles, the acting caller, and what each role may do.

use crate::error::DomainError;
use serde::{Deserialize, Serialize};

/// A token's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads everything in the workspace.
    Viewer,
    /// Works conversations ("chat edit").
    Agent,
    /// Also manages the workspace.
    Admin,
    /// Same powers as admin.
    Owner,
    /// An AI agent (`sub` is its id).
    AiAgent,
    /// A system integration.
    Integration,
}

impl Role {
    /// Parses a role claim; anything unknown is `None` (403 upstream).
    pub fn parse(s: &str) -> Option<Role> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
    }

    /// The claim text.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Agent => "agent",
            Role::Admin => "admin",
            Role::Owner => "owner",
            Role::AiAgent => "ai_agent",
            Role::Integration => "integration",
        }
    }

    /// A directory member's role from input: `viewer`, `agent`, `admin` or
    /// `owner`; anything else (a machine role included) is 422 naming `role`.
    pub fn parse_member(raw: &str) -> Result<Role, DomainError> {
        match Role::parse(raw) {
            Some(role) if role.is_member_role() => Ok(role),
            _ => Err(DomainError::Validation {
                message: "role must be viewer, agent, admin or owner".into(),
                errors: vec![crate::error::FieldError::new(
                    "role",
                    "must be viewer, agent, admin or owner",
                )],
            }),
        }
    }

    /// Roles that a directory member may hold.
    pub fn is_member_role(self) -> bool {
        matches!(self, Role::Viewer | Role::Agent | Role::Admin | Role::Owner)
    }

    /// Whether this role may do `cap`.
    pub fn can(self, cap: Capability) -> bool {
        use Capability::*;
        use Role::*;
        match cap {
            Read => matches!(self, Viewer | Agent | Admin | Owner),
            ChatEdit => matches!(self, Agent | Admin | Owner),
            ManageWorkspace => matches!(self, Admin | Owner),
            CreateContactsAndConversations => matches!(self, Agent | Admin | Owner | Integration),
            PostMessage => matches!(self, Agent | Admin | Owner | AiAgent | Integration),
            RequestHandoff => matches!(self, Agent | Admin | Owner | AiAgent | Integration),
        }
    }
}

/// What an action needs of the caller's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Capability {
    /// Read anything in the workspace.
    Read,
    /// Work conversations and contacts: assign, status, reply, notes, labels…
    ChatEdit,
    /// Settings, members, teams, AI agents, channels.
    ManageWorkspace,
    /// Create contacts and conversations.
    CreateContactsAndConversations,
    /// Post a message (the kind of message depends on the role).
    PostMessage,
    /// Ask for a human.
    RequestHandoff,
}

/// Refuses with 403 `forbidden` unless `role` may do `cap`.
pub fn authorize(role: Role, cap: Capability) -> Result<(), DomainError> {
    if role.can(cap) {
        Ok(())
    } else {
        Err(DomainError::Forbidden)
    }
}

/// Who is acting: from verified token claims, or the system itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A person (or integration, or AI agent) with a verified token.
    Caller(Caller),
    /// A contact, through a channel.
    Contact {
        /// The contact's id.
        id: String,
    },
    /// The system (timers, clean-ups).
    System,
}

/// A verified caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's `sub`.
    pub id: String,
    /// The token's role.
    pub role: Role,
    /// Display name: the directory's, else the token's `name` claim.
    pub name: Option<String>,
}

impl Caller {
    /// A caller.
    pub fn new(id: impl Into<String>, role: Role, name: Option<&str>) -> Self {
        Caller {
            id: id.into(),
            role,
            name: name.map(str::to_string),
        }
    }

    /// Whether this caller is a person in the directory's sense.
    pub fn is_member(&self) -> bool {
        self.role.is_member_role()
    }

    /// The display name if it is not blank.
    pub fn display_name(&self) -> Option<&str> {
        self.name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_roles_from_input() {
        assert_eq!(Role::parse_member("owner"), Ok(Role::Owner));
        for bad in ["ai_agent", "integration", "Owner", ""] {
            assert_eq!(
                Role::parse_member(bad).map_err(|e| e.code()),
                Err("validation_failed"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn role_table() {
        use Capability::*;
        assert!(Role::Viewer.can(Read) && !Role::Viewer.can(ChatEdit));
        assert!(Role::Agent.can(ChatEdit) && !Role::Agent.can(ManageWorkspace));
        assert!(Role::Admin.can(ManageWorkspace) && Role::Owner.can(ManageWorkspace));
        assert!(!Role::AiAgent.can(Read) && Role::AiAgent.can(PostMessage));
        assert!(Role::Integration.can(CreateContactsAndConversations));
        assert!(!Role::Integration.can(ChatEdit) && !Role::Viewer.can(PostMessage));
        assert_eq!(
            authorize(Role::Viewer, ChatEdit),
            Err(DomainError::Forbidden)
        );
        assert_eq!(Role::parse("ai_agent"), Some(Role::AiAgent));
        assert_eq!(Role::parse("superuser"), None);
    }
}
