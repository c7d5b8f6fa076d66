//! Invitations through the Cognito user pool: `AdminCreateUser` with the
//! workspace and role attributes; Cognito mails the temporary password.

use async_trait::async_trait;
use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::{AttributeType, DeliveryMediumType};
use inbox_app::{Invitation, Invitations, InviteError};

/// The user pool that signs members in (client built once per process).
#[derive(Debug, Clone)]
pub struct CognitoInvitations {
    client: aws_sdk_cognitoidentityprovider::Client,
    user_pool_id: String,
}

impl CognitoInvitations {
    /// Invitations into the pool `user_pool_id`.
    pub fn new(
        client: aws_sdk_cognitoidentityprovider::Client,
        user_pool_id: impl Into<String>,
    ) -> Self {
        CognitoInvitations {
            client,
            user_pool_id: user_pool_id.into(),
        }
    }
}

fn attribute(name: &str, value: &str) -> Result<AttributeType, InviteError> {
    AttributeType::builder()
        .name(name)
        .value(value)
        .build()
        .map_err(|e| InviteError::Unavailable(e.to_string()))
}

#[async_trait]
impl Invitations for CognitoInvitations {
    async fn invite(&self, invitation: &Invitation) -> Result<String, InviteError> {
        let attributes = vec![
            attribute("email", &invitation.email)?,
            // The address the admin typed is where the password goes; the
            // member proves it by signing in with that password.
            attribute("email_verified", "true")?,
            attribute("name", &invitation.name)?,
            attribute("custom:workspace_id", &invitation.workspace_id)?,
            attribute("custom:role", invitation.role.as_str())?,
        ];
        let out = self
            .client
            .admin_create_user()
            .user_pool_id(&self.user_pool_id)
            .username(&invitation.email)
            .set_user_attributes(Some(attributes))
            .desired_delivery_mediums(DeliveryMediumType::Email)
            .send()
            .await
            .map_err(|e| match e.code() {
                Some("UsernameExistsException") | Some("AliasExistsException") => {
                    InviteError::Exists
                }
                _ => InviteError::Unavailable(
                    aws_smithy_types::error::display::DisplayErrorContext(&e).to_string(),
                ),
            })?;
        // The member id is the user's `sub`: what their tokens carry.
        out.user()
            .and_then(|u| u.attributes().iter().find(|a| a.name() == "sub"))
            .and_then(|a| a.value())
            .map(str::to_string)
            .ok_or_else(|| InviteError::Unavailable("Cognito returned no sub".into()))
    }
}
