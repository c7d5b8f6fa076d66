//! Where providers call us, and the public URL Twilio signs.

use inbox_channels::ChannelKind;
pub use inbox_domain::webhook_path;

/// The environment variable holding the public base URL (`https://api.example.com`,
/// with any stage prefix, without a trailing slash) in Lambda and the dev server.
pub const PUBLIC_BASE_URL_ENV: &str = "INBOX_PUBLIC_BASE_URL";

/// The full URL a provider called: `base` + [`webhook_path`] + `?raw_query` when
/// there is one.
///
/// Twilio signs this exact string, so it is rebuilt from configuration rather
/// than from the request (API Gateway's own host is not what Twilio called).
/// `workspace_id` and `channel_id` are the path segments as they appear in the
/// URL, and `raw_query` the query string as received, without the `?`.
pub fn public_url(
    base: &str,
    kind: ChannelKind,
    workspace_id: &str,
    channel_id: &str,
    raw_query: Option<&str>,
) -> String {
    let mut url = base.trim_end_matches('/').to_string();
    url.push_str(&webhook_path(kind, workspace_id, channel_id));
    if let Some(query) = raw_query.filter(|q| !q.is_empty()) {
        url.push('?');
        url.push_str(query);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_path_and_query() {
        assert_eq!(
            public_url(
                "https://api.example.com/",
                ChannelKind::Twilio,
                "acme",
                "sms-main",
                None
            ),
            "https://api.example.com/webhooks/twilio/acme/sms-main"
        );
        assert_eq!(
            public_url(
                "https://x.io/prod",
                ChannelKind::Twilio,
                "acme",
                "sms",
                Some("a=1&b=2")
            ),
            "https://x.io/prod/webhooks/twilio/acme/sms?a=1&b=2"
        );
        assert_eq!(
            public_url("https://x.io", ChannelKind::Generic, "w", "c", Some("")),
            "https://x.io/webhooks/generic/w/c"
        );
    }
}
