//! API keys: made with a secret shown once (only its SHA-256 is kept), listed,
//! revoked, and checked for every request that presents one, by the dev
//! server and the AWS authorizer alike ([`authenticate_api_key`]).

use crate::app::App;
use crate::error::AppError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use inbox_domain::api_keys::{compose_secret, key_id_of_secret};
use inbox_domain::ids::is_valid_external_id;
use inbox_domain::model::DirectoryEntry;
use inbox_domain::{ApiKey, ApiKeyDraft, IdKind, Role, Timestamp};
use inbox_store::{ApiKeyStore, Store};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Random bytes in a secret (256 bits: a hash needs no stretching).
const SECRET_RANDOM_BYTES: usize = 32;

/// Hex SHA-256 of a presented secret.
fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A key just made, with the secret that is never shown again.
#[derive(Debug, Clone)]
pub struct CreatedApiKey {
    /// The stored key.
    pub key: ApiKey,
    /// `ibx_<key id>.<random>`.
    pub secret: String,
}

/// Why a presented key was refused (every case answers 401 `unauthenticated`).
#[derive(Debug, thiserror::Error)]
pub enum KeyRefused {
    /// Not shaped like a key, unknown, revoked, or the secret does not match.
    #[error("unknown or revoked API key")]
    Invalid,
    /// The key store could not be read (the caller decides: 401, or 503 / retry).
    #[error("the key store failed: {0}")]
    Unavailable(String),
}

/// Checks a presented secret against the key it names (one read), in
/// constant time, and records its use at most once a minute. A failure to
/// record the use does not refuse the request.
pub async fn authenticate_api_key<K: ApiKeyStore + ?Sized>(
    keys: &K,
    secret: &str,
    now: Timestamp,
) -> Result<ApiKey, KeyRefused> {
    let id = key_id_of_secret(secret).ok_or(KeyRefused::Invalid)?;
    let key = keys
        .get_api_key(id)
        .await
        .map_err(|e| KeyRefused::Unavailable(e.to_string()))?
        .ok_or(KeyRefused::Invalid)?;
    let presented = secret_hash(secret);
    if !bool::from(presented.as_bytes().ct_eq(key.secret_hash.as_bytes())) {
        return Err(KeyRefused::Invalid);
    }
    if let Some(minute) = key.use_to_record(now)
        && let Err(e) = keys.record_api_key_use(&key.id, minute).await
    {
        tracing::warn!(key = %key.id, error = %e, "could not record an API key's use");
    }
    Ok(key)
}

impl<S: Store> App<S> {
    /// Makes a key in `workspace_id` from a `POST /api-keys` body (checked by
    /// the domain: an `ai_agent` key's subject must be an AI agent here).
    pub async fn create_api_key(
        &self,
        workspace_id: &str,
        name: &str,
        role: &str,
        subject: &str,
    ) -> Result<CreatedApiKey, AppError> {
        // Only an AI agent's key names someone in the directory.
        let agent = if Role::parse(role) == Some(Role::AiAgent) && is_valid_external_id(subject) {
            match self.store().get_person(workspace_id, subject).await? {
                Some(DirectoryEntry::Agent(a)) => Some(a),
                _ => None,
            }
        } else {
            None
        };
        let draft = ApiKeyDraft::parse(name, role, subject, agent.as_ref())?;
        let id = self.new_ids().new_id(IdKind::ApiKey);
        let mut random = [0u8; SECRET_RANDOM_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut random);
        let secret = compose_secret(&id, &URL_SAFE_NO_PAD.encode(random));
        let key = ApiKey {
            id,
            workspace_id: workspace_id.to_string(),
            name: draft.name,
            role: draft.role,
            subject: draft.subject,
            created_at: self.clock().now(),
            last_used_at: None,
            secret_hash: secret_hash(&secret),
        };
        self.store().create_api_key(&key).await?;
        Ok(CreatedApiKey { key, secret })
    }

    /// The workspace's keys, by id.
    pub async fn api_keys(&self, workspace_id: &str) -> Result<Vec<ApiKey>, AppError> {
        Ok(self.store().list_api_keys(workspace_id).await?)
    }

    /// Revokes key `id` of the workspace (`not_found` when it has none).
    pub async fn revoke_api_key(&self, workspace_id: &str, id: &str) -> Result<(), AppError> {
        if self.store().delete_api_key(workspace_id, id).await? {
            Ok(())
        } else {
            Err(AppError::NotFound("api key"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use inbox_store::sqlite::SqliteStore;

    fn stored(secret: &str) -> ApiKey {
        ApiKey {
            id: key_id_of_secret(secret).unwrap().into(),
            workspace_id: "w".into(),
            name: "CRM".into(),
            role: Role::Integration,
            subject: "crm".into(),
            created_at: Timestamp::from_unix_seconds(0),
            last_used_at: None,
            secret_hash: secret_hash(secret),
        }
    }

    #[tokio::test]
    async fn a_key_is_accepted_only_with_its_own_secret_and_its_use_is_kept_to_the_minute() {
        let store = SqliteStore::in_memory().unwrap();
        let secret = compose_secret("key_1", "right");
        store.create_api_key(&stored(&secret)).await.unwrap();
        let now = Timestamp::from_unix_seconds(1_000_000_030);
        let key = authenticate_api_key(&store, &secret, now).await.unwrap();
        assert_eq!(key.subject, "crm");
        let used = store.get_api_key("key_1").await.unwrap().unwrap();
        assert_eq!(
            used.last_used_at,
            Some(Timestamp::from_unix_seconds(1_000_000_020))
        );
        for wrong in [
            compose_secret("key_1", "wrong"),
            compose_secret("key_2", "right"),
            "ibx_key_1".to_string(),
            "not-a-key".to_string(),
        ] {
            assert!(
                matches!(
                    authenticate_api_key(&store, &wrong, now).await,
                    Err(KeyRefused::Invalid)
                ),
                "{wrong}"
            );
        }
        store.delete_api_key("w", "key_1").await.unwrap();
        assert!(matches!(
            authenticate_api_key(&store, &secret, now).await,
            Err(KeyRefused::Invalid)
        ));
    }
}
