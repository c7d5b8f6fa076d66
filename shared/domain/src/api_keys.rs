//! API keys: the credentials of AI agents and integrations. The rules of
//! what a key may be and when its use is recorded; hashing and randomness
//! are the application layer's.

use crate::access::Role;
use crate::error::{DomainError, FieldError};
use crate::ids::is_valid_external_id;
use crate::model::AiAgent;
use crate::time::Timestamp;
use crate::values::DisplayName;
use serde::{Deserialize, Serialize};

/// How often a key's use is recorded: `last_used_at` is kept to the minute.
pub const LAST_USED_GRANULARITY_SECONDS: i64 = 60;

/// The prefix every key's secret starts with (`ibx_<key id>.<random>`).
pub const SECRET_PREFIX: &str = "ibx_";

/// The longest key id a secret may name (`key_` and a ULID is 30).
const MAX_KEY_ID_LEN: usize = 64;

/// A stored API key. The secret itself is never kept, only its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    /// `key_…`, also written inside the secret so that lookup is by id.
    pub id: String,
    /// The workspace the key acts in.
    pub workspace_id: String,
    /// What the admin called it ("Max production").
    pub name: String,
    /// `ai_agent` or `integration`.
    pub role: Role,
    /// Who the key acts as (`sub`): an AI agent's id, or an integration's chosen id.
    pub subject: String,
    /// When it was made.
    pub created_at: Timestamp,
    /// The last minute it was used in, if ever.
    pub last_used_at: Option<Timestamp>,
    /// Hex SHA-256 of the secret.
    pub secret_hash: String,
}

impl ApiKey {
    /// The `last_used_at` to record for a use at `now` (the start of its
    /// minute), or `None` when that minute is already recorded: one write per
    /// key per minute at most.
    pub fn use_to_record(&self, now: Timestamp) -> Option<Timestamp> {
        let secs = now.unix_seconds();
        let minute =
            Timestamp::from_unix_seconds(secs - secs.rem_euclid(LAST_USED_GRANULARITY_SECONDS));
        self.last_used_at
            .is_none_or(|at| at < minute)
            .then_some(minute)
    }
}

/// A validated request for a new key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyDraft {
    /// Display name.
    pub name: String,
    /// `ai_agent` or `integration`.
    pub role: Role,
    /// The AI agent or integration id it acts as.
    pub subject: String,
}

fn field(name: &str, message: &str) -> DomainError {
    DomainError::Validation {
        message: format!("{name} {message}"),
        errors: vec![FieldError::new(name, message)],
    }
}

impl ApiKeyDraft {
    /// Checks a `POST /api-keys` body: a name, a machine role, and a subject
    /// that is an AI agent of the workspace (`unknown_agent` otherwise) or an
    /// integration id `[a-z0-9][a-z0-9_-]{0,63}`. `agent` is the workspace's
    /// AI agent of that id, if any.
    pub fn parse(
        name: &str,
        role: &str,
        subject: &str,
        agent: Option<&AiAgent>,
    ) -> Result<ApiKeyDraft, DomainError> {
        let name = DisplayName::parse(name)?
            .map(String::from)
            .ok_or_else(|| field("name", "is required"))?;
        let role = match Role::parse(role) {
            Some(r @ (Role::AiAgent | Role::Integration)) => r,
            _ => return Err(field("role", "must be ai_agent or integration")),
        };
        if !is_valid_external_id(subject) {
            return Err(field("subject", "must match [a-z0-9][a-z0-9_-]{0,63}"));
        }
        if role == Role::AiAgent && agent.is_none() {
            return Err(DomainError::UnknownAgent(subject.to_string()));
        }
        Ok(ApiKeyDraft {
            name,
            role,
            subject: subject.to_string(),
        })
    }
}

/// The key id a presented secret names, if it has the shape of one
/// (`ibx_<key id>.<random>`); anything else is refused before any lookup.
pub fn key_id_of_secret(secret: &str) -> Option<&str> {
    let rest = secret.strip_prefix(SECRET_PREFIX)?;
    let (id, random) = rest.split_once('.')?;
    let id_ok = id.starts_with("key_")
        && id.len() <= MAX_KEY_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    let random_ok = !random.is_empty()
        && random
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    (id_ok && random_ok).then_some(id)
}

/// The secret for key `id` with the random part `random` (base64url).
pub fn compose_secret(id: &str, random: &str) -> String {
    format!("{SECRET_PREFIX}{id}.{random}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent() -> AiAgent {
        AiAgent::external("max", "Max")
    }

    #[test]
    fn drafts_need_a_name_a_machine_role_and_a_known_subject() {
        let d = ApiKeyDraft::parse("Max production", "ai_agent", "max", Some(&agent())).unwrap();
        assert_eq!((d.role, d.subject.as_str()), (Role::AiAgent, "max"));
        let i = ApiKeyDraft::parse("CRM", "integration", "crm-sync", None).unwrap();
        assert_eq!(i.role, Role::Integration);
        assert!(matches!(
            ApiKeyDraft::parse("Max", "ai_agent", "max", None),
            Err(DomainError::UnknownAgent(_))
        ));
        for (name, role, subject) in [
            ("", "integration", "crm"),
            ("CRM", "admin", "crm"),
            ("CRM", "owner", "crm"),
            ("CRM", "", "crm"),
            ("CRM", "integration", "Bad Id"),
            ("CRM", "integration", ""),
        ] {
            assert!(
                matches!(
                    ApiKeyDraft::parse(name, role, subject, None),
                    Err(DomainError::Validation { .. })
                ),
                "{name:?} {role:?} {subject:?}"
            );
        }
    }

    #[test]
    fn use_is_recorded_once_a_minute() {
        // 1_000_020 s is 16,667 minutes exactly.
        let t0 = Timestamp::from_unix_seconds(1_000_020);
        let mut key = ApiKey {
            id: "key_1".into(),
            workspace_id: "w".into(),
            name: "n".into(),
            role: Role::Integration,
            subject: "crm".into(),
            created_at: t0,
            last_used_at: None,
            secret_hash: String::new(),
        };
        assert_eq!(key.use_to_record(t0.plus_seconds(30)), Some(t0));
        key.last_used_at = Some(t0);
        assert_eq!(key.use_to_record(t0.plus_seconds(59)), None);
        assert_eq!(
            key.use_to_record(t0.plus_seconds(60)),
            Some(t0.plus_seconds(60))
        );
        assert_eq!(
            key.use_to_record(t0.plus_seconds(179)),
            Some(t0.plus_seconds(120))
        );
    }

    #[test]
    fn secrets_name_their_key() {
        let s = compose_secret("key_01jabc", "AbC-_9");
        assert_eq!(s, "ibx_key_01jabc.AbC-_9");
        assert_eq!(key_id_of_secret(&s), Some("key_01jabc"));
        for bad in [
            "",
            "ibx_",
            "ibx_key_1",
            "ibx_key_1.",
            "ibx_other_1.abc",
            "ibx_KEY_1.abc",
            "ibx_key_1.a b",
            "key_1.abc",
            "ibx_key_#1.abc",
        ] {
            assert_eq!(key_id_of_secret(bad), None, "{bad:?}");
        }
    }
}
