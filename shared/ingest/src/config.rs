//! `PUT /channels/{id}` and `GET /channels`: channel configuration, secrets in, never out.

use inbox_channels::{ChannelKind, kind_name};
use inbox_domain::directory::check_external_id;
use inbox_domain::model::Channel;
use inbox_domain::{Capability, DomainError, FieldError, Role, authorize};
use inbox_store::{DirectoryEntry, DirectoryStore, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ingest::MAX_BODY_BYTES;
use crate::sending;
use crate::url::webhook_path;

/// The longest channel name accepted, in characters.
const MAX_NAME_CHARS: usize = inbox_domain::DisplayName::MAX_CHARS;
/// The longest secret or verify token accepted, in bytes (they end up in HMAC keys and items).
const MAX_SECRET_BYTES: usize = 1024;
/// Telegram's own limit on `secret_token`.
const MAX_TELEGRAM_SECRET_BYTES: usize = 256;

/// The body of `PUT /channels/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChannelInput {
    // Required; absent ones are named together in one 422.
    #[serde(default)]
    kind: Option<ChannelKind>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    secret: Option<String>,
    #[serde(default)]
    verify_token: Option<String>,
    // Sending credentials: the fields of the channel's kind, all or none.
    #[serde(default)]
    account_sid: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    messaging_service_sid: Option<String>,
    #[serde(default)]
    phone_number_id: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    bot_token: Option<String>,
    #[serde(default)]
    outbound_url: Option<String>,
    #[serde(default)]
    api_base_url: Option<String>,
    #[serde(default)]
    default_agent_id: Option<String>,
}

/// A channel as the API shows it: never its secret or verify token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelView {
    /// Caller-chosen id.
    pub id: String,
    /// Provider kind (`twilio`, `whatsapp`, `telegram`, `generic`).
    pub kind: ChannelKind,
    /// Display name.
    pub name: String,
    /// Where the provider must send deliveries, below the public base URL.
    pub webhook_path: String,
    /// Whether a WhatsApp verify token is configured (the token itself is not shown).
    pub has_verify_token: bool,
    /// Whether sending credentials are configured (they are never shown).
    pub can_send: bool,
    /// The provider API's base URL, when not the provider's public API.
    pub api_base_url: Option<String>,
    /// The AI agent that answers first in conversations contacts start here.
    pub default_agent_id: Option<String>,
}

impl ChannelView {
    /// The public view of `channel` in `workspace_id`.
    pub fn of(workspace_id: &str, channel: &Channel) -> Self {
        ChannelView {
            id: channel.id.clone(),
            kind: channel.kind,
            name: channel.name.clone(),
            webhook_path: webhook_path(channel.kind, workspace_id, &channel.id),
            has_verify_token: channel
                .verify_token
                .as_deref()
                .is_some_and(|t| !t.is_empty()),
            can_send: channel.sending.is_some(),
            api_base_url: channel.api_base_url.clone(),
            default_agent_id: channel.default_agent_id.clone(),
        }
    }
}

/// The answer of `GET /channels`: the contract's list shape, all on one page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelList {
    /// Every channel of the workspace, by id.
    pub items: Vec<ChannelView>,
    /// Always `None`: a workspace has few channels.
    pub next_cursor: Option<String>,
}

/// Why a channel request failed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The body is over the contract's limit: 413 `payload_too_large`.
    #[error("body of {size} bytes is over the {limit}-byte limit")]
    PayloadTooLarge {
        /// The body's size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// Refused by a rule: 403 `forbidden`, 400 `bad_request`, 422 `validation_failed`.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

impl ConfigError {
    /// The HTTP status the contract gives this failure.
    pub fn status(&self) -> u16 {
        match self {
            Self::PayloadTooLarge { .. } => 413,
            Self::Domain(err) => err.status(),
            Self::Store(StoreError::Unavailable(_)) => 503,
            Self::Store(_) => 500,
        }
    }

    /// The contract's stable problem `code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::Domain(err) => err.code(),
            Self::Store(StoreError::Unavailable(_)) => "service_unavailable",
            Self::Store(_) => "internal_error",
        }
    }

    /// Extra problem fields (`errors` for a 422).
    pub fn extra(&self) -> Map<String, Value> {
        match self {
            Self::Domain(err) => err.extra(),
            Self::PayloadTooLarge { .. } | Self::Store(_) => Map::new(),
        }
    }
}

/// `PUT /channels/{id}`: creates or replaces a channel (admin and owner only) and
/// answers its public view. `body` is the raw JSON request body.
///
/// 403 `forbidden` for other roles; 400 `bad_request` for an id outside
/// `[a-z0-9][a-z0-9_-]{0,63}`, invalid JSON, unknown fields or an unknown kind;
/// 422 `validation_failed` (with `errors`) for a blank name or secret, a Telegram
/// secret Telegram would not accept, or a verify token on a non-WhatsApp channel.
pub async fn put_channel<S>(
    store: &S,
    role: Role,
    workspace_id: &str,
    id: &str,
    body: &[u8],
) -> Result<ChannelView, ConfigError>
where
    S: DirectoryStore + ?Sized,
{
    authorize(role, Capability::ManageWorkspace)?;
    if body.len() > MAX_BODY_BYTES {
        return Err(ConfigError::PayloadTooLarge {
            size: body.len(),
            limit: MAX_BODY_BYTES,
        });
    }
    check_external_id(id)?;
    let bad = |e: serde_json::Error| DomainError::BadRequest(format!("invalid channel: {e}"));
    // An object only: serde would read a struct from an array too.
    let value: serde_json::Value = serde_json::from_slice(body).map_err(bad)?;
    if !value.is_object() {
        return Err(DomainError::BadRequest("the body must be a JSON object".into()).into());
    }
    let input: ChannelInput = serde_json::from_value(value).map_err(bad)?;
    let channel = validate(id, input)?;
    if let Some(agent_id) = &channel.default_agent_id {
        // It must name an AI agent of the workspace now; one deleted later
        // simply answers nothing (conversations start without it).
        if !matches!(
            store.get_person(workspace_id, agent_id).await?,
            Some(DirectoryEntry::Agent(_))
        ) {
            return Err(DomainError::UnknownAgent(agent_id.clone()).into());
        }
    }
    store.put_channel(workspace_id, &channel).await?;
    Ok(ChannelView::of(workspace_id, &channel))
}

/// `GET /channels`: every channel of the workspace without secrets (viewer and up).
pub async fn list_channels<S>(
    store: &S,
    role: Role,
    workspace_id: &str,
) -> Result<ChannelList, ConfigError>
where
    S: DirectoryStore + ?Sized,
{
    authorize(role, Capability::Read)?;
    let mut channels = store.list_channels(workspace_id).await?;
    channels.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(ChannelList {
        items: channels
            .iter()
            .map(|c| ChannelView::of(workspace_id, c))
            .collect(),
        next_cursor: None,
    })
}

/// Checks every field and gathers all problems into one 422.
fn validate(id: &str, input: ChannelInput) -> Result<Channel, DomainError> {
    let missing: Vec<FieldError> = [
        ("kind", input.kind.is_some()),
        ("name", input.name.is_some()),
        ("secret", input.secret.is_some()),
    ]
    .into_iter()
    .filter(|(_, present)| !present)
    .map(|(field, _)| FieldError::new(field, "is required"))
    .collect();
    let (Some(kind), Some(name), Some(secret)) =
        (input.kind, input.name.clone(), input.secret.clone())
    else {
        return Err(DomainError::Validation {
            message: "a channel needs kind, name and secret".into(),
            errors: missing,
        });
    };
    let mut errors = Vec::new();
    let name = name.trim().to_string();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        errors.push(FieldError::new(
            "name",
            format!("must be 1 to {MAX_NAME_CHARS} printable characters"),
        ));
    }
    // Secrets are used byte for byte: no trimming, but blank is as good as none.
    if secret.trim().is_empty() {
        errors.push(FieldError::new("secret", "must not be empty"));
    } else if secret.len() > MAX_SECRET_BYTES {
        errors.push(FieldError::new(
            "secret",
            format!("must be at most {MAX_SECRET_BYTES} bytes"),
        ));
    } else if kind == ChannelKind::Telegram && !is_telegram_secret(&secret) {
        errors.push(FieldError::new(
            "secret",
            format!(
                "a Telegram secret_token is 1 to {MAX_TELEGRAM_SECRET_BYTES} characters A-Z, a-z, 0-9, _ and -"
            ),
        ));
    }
    let verify_token = match input.verify_token.clone() {
        None => None,
        Some(_) if kind != ChannelKind::Whatsapp => {
            errors.push(FieldError::new(
                "verify_token",
                "only whatsapp channels have a verify token",
            ));
            None
        }
        Some(token) if token.trim().is_empty() || token.len() > MAX_SECRET_BYTES => {
            errors.push(FieldError::new(
                "verify_token",
                format!("must be 1 to {MAX_SECRET_BYTES} bytes, not blank"),
            ));
            None
        }
        Some(token) => Some(token),
    };
    let sending = sending::parse(kind, &input.credentials(), &mut errors);
    let api_base_url = input
        .api_base_url
        .clone()
        .and_then(|url| match sending::check_url(&url) {
            Ok(()) => Some(url.trim_end_matches('/').to_string()),
            Err(why) => {
                errors.push(FieldError::new("api_base_url", why));
                None
            }
        });
    let default_agent_id = input.default_agent_id.clone().filter(|agent| {
        let ok = check_external_id(agent).is_ok();
        if !ok {
            errors.push(FieldError::new(
                "default_agent_id",
                "must be an AI agent's id ([a-z0-9][a-z0-9_-]{0,63})",
            ));
        }
        ok
    });
    if !errors.is_empty() {
        return Err(DomainError::Validation {
            message: format!("the {} channel is invalid", kind_name(kind)),
            errors,
        });
    }
    Ok(Channel {
        id: id.to_string(),
        kind,
        name,
        secret,
        verify_token,
        sending,
        api_base_url,
        default_agent_id,
    })
}

impl ChannelInput {
    /// The sending fields that were given, by name.
    fn credentials(&self) -> sending::Fields<'_> {
        let given = [
            ("account_sid", &self.account_sid),
            ("from", &self.from),
            ("messaging_service_sid", &self.messaging_service_sid),
            ("phone_number_id", &self.phone_number_id),
            ("access_token", &self.access_token),
            ("bot_token", &self.bot_token),
            ("outbound_url", &self.outbound_url),
        ];
        sending::Fields(
            given
                .into_iter()
                .filter_map(|(name, value)| value.as_deref().map(|v| (name, v)))
                .collect(),
        )
    }
}

fn is_telegram_secret(secret: &str) -> bool {
    secret.len() <= MAX_TELEGRAM_SECRET_BYTES
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(kind: ChannelKind, name: &str, secret: &str, token: Option<&str>) -> ChannelInput {
        ChannelInput {
            kind: Some(kind),
            name: Some(name.into()),
            secret: Some(secret.into()),
            verify_token: token.map(str::to_string),
            account_sid: None,
            from: None,
            messaging_service_sid: None,
            phone_number_id: None,
            access_token: None,
            bot_token: None,
            outbound_url: None,
            api_base_url: None,
            default_agent_id: None,
        }
    }

    #[test]
    fn validation_gathers_every_field() {
        let err = validate("c", input(ChannelKind::Twilio, " ", "", Some("t"))).unwrap_err();
        let DomainError::Validation { errors, .. } = err else {
            panic!("expected a validation error")
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "secret", "verify_token"]);
    }

    #[test]
    fn telegram_secrets_follow_telegram_rules() {
        assert!(validate("c", input(ChannelKind::Telegram, "Bot", "a-b_C9", None)).is_ok());
        assert!(validate("c", input(ChannelKind::Telegram, "Bot", "a b", None)).is_err());
        assert!(validate("c", input(ChannelKind::Generic, "G", "a b", None)).is_ok());
    }

    #[test]
    fn views_hide_secrets() {
        let ch = validate(
            "wa",
            input(ChannelKind::Whatsapp, "WA", "s3cret", Some("vt-xyz")),
        )
        .unwrap();
        let json = serde_json::to_string(&ChannelView::of("acme", &ch)).unwrap();
        assert!(!json.contains("s3cret") && !json.contains("vt-xyz"));
        assert!(json.contains("/webhooks/whatsapp/acme/wa"));
    }
}
