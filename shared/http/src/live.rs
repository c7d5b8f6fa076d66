//! Live updates' way in, one for the dev server's `GET /live` and the AWS
//! `$connect`: the credential of `?token=`, who the caller is to the rest of
//! the workspace, and until when the connection may stay open.

use crate::app::App;
use crate::auth::Claims;
use crate::problem::ApiError;
use base64::Engine as _;
use inbox_app::Token;
use inbox_domain::Timestamp;
use inbox_domain::live::Typist;
use inbox_store::Store;

/// An open live connection's caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveSession {
    /// Whose changes the connection receives.
    pub workspace_id: String,
    /// Who the connection is to others (its `typing`).
    pub typist: Typist,
    /// When its credential expires and the connection is closed (API keys: never).
    pub expires_at: Option<Timestamp>,
}

/// The credential of a query string's `token` parameter (URL-decoded).
pub fn query_token(query: &str) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

/// When a token that was already verified expires: its `exp` claim. An API
/// key (or anything else) names none.
pub fn credential_expiry(credential: &str) -> Option<Timestamp> {
    let payload = credential.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?.as_i64()?;
    Some(Timestamp::from_millis(exp.checked_mul(1000)?))
}

/// Opens a live session for verified `claims`: a role the contract knows
/// (else 403), and the directory's name for the caller (one read).
pub async fn open_session<S: Store>(
    app: &App<S>,
    claims: &Claims,
    expires_at: Option<Timestamp>,
) -> Result<LiveSession, ApiError> {
    let role = claims
        .parsed_role()
        .ok_or(inbox_domain::DomainError::Forbidden)?;
    let token = Token {
        sub: claims.sub.clone(),
        role,
        name: claims.name.clone(),
    };
    let typist = app.live_typist(&claims.workspace_id, &token).await?;
    Ok(LiveSession {
        workspace_id: claims.workspace_id.clone(),
        typist,
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_read_from_the_query() {
        assert_eq!(query_token("token=a%2Bb&x=1").as_deref(), Some("a+b"));
        assert_eq!(query_token("x=1"), None);
        assert_eq!(query_token("token="), None);
    }

    #[test]
    fn a_jwt_expires_at_its_exp_and_a_key_never() {
        let secret = b"s3cret";
        let token = crate::auth::mint_dev_token(
            secret,
            "acme",
            "bob",
            "agent",
            None,
            std::time::Duration::from_secs(60),
        )
        .unwrap();
        let exp = credential_expiry(&token).expect("exp");
        assert!(exp.as_millis() > 0);
        assert_eq!(credential_expiry("ibx_key_1.c2VjcmV0"), None);
    }
}
