//! Local invitations: the member's id is made from their email, and a dev
//! token for them is printed to the dev server's log (there is no mail).

use async_trait::async_trait;
use inbox_app::{Invitation, Invitations, InviteError};
use std::time::Duration;

/// How long an invited member's printed token is valid: 7 days, like Cognito's temporary password.
pub const INVITE_TOKEN_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// Invites by printing a dev token signed with the dev server's secret.
#[derive(Clone)]
pub struct DevInvitations {
    secret: Vec<u8>,
}

impl DevInvitations {
    /// Tokens signed with `secret`.
    pub fn new(secret: &[u8]) -> Self {
        DevInvitations {
            secret: secret.to_vec(),
        }
    }
}

/// A member id from an email's local part: lower-case letters and digits,
/// other characters as `-`, at most 64 (`"Bob.Ray+x@acme.io"` → `"bob-ray-x"`).
pub fn id_from_email(email: &str) -> String {
    let local = email.split('@').next().unwrap_or_default();
    let mut id = String::new();
    for c in local.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            id.push(c);
        } else if !id.is_empty() && !id.ends_with('-') {
            id.push('-');
        }
    }
    let id: String = id.trim_end_matches('-').chars().take(64).collect();
    if id.is_empty() { "member".into() } else { id }
}

#[async_trait]
impl Invitations for DevInvitations {
    async fn invite(&self, invitation: &Invitation) -> Result<String, InviteError> {
        let id = id_from_email(&invitation.email);
        let token = inbox_http::mint_dev_token(
            &self.secret,
            &invitation.workspace_id,
            &id,
            invitation.role.as_str(),
            Some(&invitation.name),
            INVITE_TOKEN_TTL,
        )
        .map_err(|e| InviteError::Unavailable(e.to_string()))?;
        // The dev server's stand-in for Cognito's invitation mail.
        println!(
            "inbox-dev: invited {} ({}) to {} as {}; token (valid 7 days): {token}",
            invitation.email,
            id,
            invitation.workspace_id,
            invitation.role.as_str()
        );
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_emails() {
        assert_eq!(id_from_email("Bob.Ray+x@acme.io"), "bob-ray-x");
        assert_eq!(id_from_email("zoë@x.io"), "zo");
        assert_eq!(id_from_email("...@x.io"), "member");
        assert_eq!(id_from_email(&format!("{}@x.io", "a".repeat(80))).len(), 64);
        assert!(inbox_domain::ids::is_valid_external_id(&id_from_email(
            "Ann_B@x.io"
        )));
    }
}
