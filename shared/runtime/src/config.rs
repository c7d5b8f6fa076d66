//! Function configuration from environment variables (set by the SAM template).

/// What a function needs to know about its deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `INBOX_TABLE_NAME`: the DynamoDB table.
    pub table_name: String,
    /// `INBOX_AUTOCLOSE_QUEUE_URL`: the auto-close SQS queue (sweep only).
    pub autoclose_queue_url: Option<String>,
    /// `INBOX_EVENT_BUS_NAME`: the EventBridge bus for domain events (publisher only).
    pub event_bus_name: Option<String>,
    /// `INBOX_PUBLIC_BASE_URL`: the API's public URL, for webhook signatures that cover it (Twilio).
    pub public_base_url: Option<String>,
    /// `INBOX_EVENTS_DLQ_URL`: the events dead-letter queue (publisher and replay).
    pub events_dlq_url: Option<String>,
    /// `INBOX_USER_POOL_ID`: the Cognito user pool invitations create users in
    /// (member-invite only; absent with an external identity provider).
    pub user_pool_id: Option<String>,
    /// `INBOX_JOBS_QUEUE_URL`: the queue of job steps (functions that start
    /// fan-out work, and the job worker).
    pub jobs_queue_url: Option<String>,
    /// `INBOX_EXPORTS_BUCKET`: the S3 bucket of export files (export routes
    /// and the job worker).
    pub exports_bucket: Option<String>,
    /// `INBOX_SEND_QUEUE_URL`: the queue of send attempts (the sender).
    pub send_queue_url: Option<String>,
    /// `INBOX_WEBHOOK_QUEUE_URL`: the FIFO queue of outgoing webhook tasks
    /// (webhook-dispatch and webhook-sender).
    pub webhook_queue_url: Option<String>,
    /// `INBOX_JWT_ISSUER`: the `iss` of the identity provider's tokens (the authorizer).
    pub jwt_issuer: Option<String>,
    /// `INBOX_JWT_AUDIENCES`: accepted `aud` / `client_id` values, comma separated (the authorizer).
    pub jwt_audiences: Vec<String>,
    /// `INBOX_JWKS_URL`: where the provider's keys are; absent, they are found
    /// through `{issuer}/.well-known/openid-configuration` (the authorizer).
    pub jwks_url: Option<String>,
    /// `INBOX_LIVE_ENDPOINT`: the WebSocket API stage's URL for its
    /// management API (`live`, and `webhook-dispatch`'s fan-out).
    pub live_endpoint: Option<String>,
}

/// A required setting is missing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("missing configuration: set {0}")]
pub struct ConfigError(pub &'static str);

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the configuration through `get` (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let non_empty = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        Ok(Config {
            table_name: non_empty("INBOX_TABLE_NAME").ok_or(ConfigError("INBOX_TABLE_NAME"))?,
            autoclose_queue_url: non_empty("INBOX_AUTOCLOSE_QUEUE_URL"),
            event_bus_name: non_empty("INBOX_EVENT_BUS_NAME"),
            public_base_url: non_empty("INBOX_PUBLIC_BASE_URL")
                .map(|u| u.trim_end_matches('/').to_string()),
            events_dlq_url: non_empty("INBOX_EVENTS_DLQ_URL"),
            user_pool_id: non_empty("INBOX_USER_POOL_ID"),
            jobs_queue_url: non_empty("INBOX_JOBS_QUEUE_URL"),
            exports_bucket: non_empty("INBOX_EXPORTS_BUCKET"),
            send_queue_url: non_empty("INBOX_SEND_QUEUE_URL"),
            webhook_queue_url: non_empty("INBOX_WEBHOOK_QUEUE_URL"),
            jwt_issuer: non_empty("INBOX_JWT_ISSUER"),
            jwt_audiences: non_empty("INBOX_JWT_AUDIENCES")
                .map(|v| {
                    v.split(',')
                        .map(|a| a.trim().to_string())
                        .filter(|a| !a.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            jwks_url: non_empty("INBOX_JWKS_URL"),
            live_endpoint: non_empty("INBOX_LIVE_ENDPOINT"),
        })
    }

    /// The WebSocket API's management endpoint, or an error naming the variable.
    pub fn require_live_endpoint(&self) -> Result<&str, ConfigError> {
        self.live_endpoint
            .as_deref()
            .ok_or(ConfigError("INBOX_LIVE_ENDPOINT"))
    }

    /// The webhook queue URL, or an error naming the variable.
    pub fn require_webhook_queue(&self) -> Result<&str, ConfigError> {
        self.webhook_queue_url
            .as_deref()
            .ok_or(ConfigError("INBOX_WEBHOOK_QUEUE_URL"))
    }

    /// The queue URL, or an error naming the variable.
    pub fn require_queue(&self) -> Result<&str, ConfigError> {
        self.autoclose_queue_url
            .as_deref()
            .ok_or(ConfigError("INBOX_AUTOCLOSE_QUEUE_URL"))
    }

    /// The events dead-letter queue's URL, or an error naming the variable.
    pub fn require_events_dlq(&self) -> Result<&str, ConfigError> {
        self.events_dlq_url
            .as_deref()
            .ok_or(ConfigError("INBOX_EVENTS_DLQ_URL"))
    }

    /// The jobs queue's URL, or an error naming the variable.
    pub fn require_jobs_queue(&self) -> Result<&str, ConfigError> {
        self.jobs_queue_url
            .as_deref()
            .ok_or(ConfigError("INBOX_JOBS_QUEUE_URL"))
    }

    /// The send queue's URL, or an error naming the variable.
    pub fn require_send_queue(&self) -> Result<&str, ConfigError> {
        self.send_queue_url
            .as_deref()
            .ok_or(ConfigError("INBOX_SEND_QUEUE_URL"))
    }

    /// The token issuer, or an error naming the variable.
    pub fn require_jwt_issuer(&self) -> Result<&str, ConfigError> {
        self.jwt_issuer
            .as_deref()
            .ok_or(ConfigError("INBOX_JWT_ISSUER"))
    }

    /// The bus name, or an error naming the variable.
    pub fn require_bus(&self) -> Result<&str, ConfigError> {
        self.event_bus_name
            .as_deref()
            .ok_or(ConfigError("INBOX_EVENT_BUS_NAME"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn table_name_is_required_and_urls_are_normalised() {
        let env: HashMap<&str, &str> = HashMap::from([
            ("INBOX_TABLE_NAME", "inbox-dev"),
            ("INBOX_PUBLIC_BASE_URL", "https://api.example.com/"),
            ("INBOX_JWT_AUDIENCES", " client-a, ,client-b"),
        ]);
        let cfg = Config::from_lookup(|k| env.get(k).map(|v| v.to_string())).unwrap();
        assert_eq!(cfg.table_name, "inbox-dev");
        assert_eq!(
            cfg.public_base_url.as_deref(),
            Some("https://api.example.com")
        );
        assert_eq!(cfg.jwt_audiences, vec!["client-a", "client-b"]);
        assert_eq!(
            cfg.require_jwt_issuer(),
            Err(ConfigError("INBOX_JWT_ISSUER"))
        );
        assert_eq!(
            cfg.require_queue(),
            Err(ConfigError("INBOX_AUTOCLOSE_QUEUE_URL"))
        );
        assert_eq!(
            Config::from_lookup(|_| None),
            Err(ConfigError("INBOX_TABLE_NAME"))
        );
    }
}
