//! AI agents in the directory: made and changed by `PUT` (a webhook agent's
//! signing secret shown when it is made and when it is rotated, an LLM
//! agent's key never). What an agent's settings may be is the domain's
//! (`AgentKind::parse`); URLs follow the webhook transport's policy, so a
//! URL accepted is one this deployment will call.

use crate::app::App;
use crate::error::AppError;
use crate::execute::Token;
use crate::webhook_endpoints::new_secret;
use inbox_domain::agents::{AgentInput, AgentKind};
use inbox_domain::directory::check_id_free_for_agent;
use inbox_domain::model::{AiAgent, DirectoryEntry};
use inbox_domain::{DomainError, FieldError};
use inbox_store::{Store, StoreError};

/// An agent after `PUT`, and whether its webhook secret was just made.
#[derive(Debug, Clone)]
pub struct PutAgent {
    /// As stored.
    pub agent: AiAgent,
    /// `true` when this `PUT` made its signing secret (shown this once).
    pub new_secret: bool,
}

impl<S: Store> App<S> {
    /// Makes or replaces agent `id` named `name` from a `PUT /agents/{id}`
    /// body; the id must not be a member's.
    pub async fn put_agent(
        &self,
        workspace_id: &str,
        token: &Token,
        id: &str,
        name: String,
        input: &AgentInput,
    ) -> Result<PutAgent, AppError> {
        let store = self.store();
        let existing = store.get_person(workspace_id, id).await?;
        let (member, before) = match &existing {
            Some(DirectoryEntry::Member(m)) => (Some(m), None),
            Some(DirectoryEntry::Agent(a)) => (None, Some(&a.answers)),
            None => (None, None),
        };
        check_id_free_for_agent(id, member)?;
        let mut made = false;
        let answers = AgentKind::parse(input, before, self.webhook_url_policy(), || {
            made = true;
            new_secret()
        })?;
        self.provision(workspace_id, token).await?;
        let agent = AiAgent {
            id: id.to_string(),
            name,
            answers,
        };
        match store.put_agent(workspace_id, &agent).await {
            Ok(()) => Ok(PutAgent {
                agent,
                new_secret: made,
            }),
            Err(StoreError::Conflict) => Err(DomainError::IdTaken(id.to_string()).into()),
            Err(e) => Err(e.into()),
        }
    }

    /// Gives webhook agent `id` a new signing secret; requests are signed
    /// with it from the next one on. Other kinds have none (422).
    pub async fn rotate_agent_secret(
        &self,
        workspace_id: &str,
        token: &Token,
        id: &str,
    ) -> Result<AiAgent, AppError> {
        let Some(DirectoryEntry::Agent(mut agent)) =
            self.store().get_person(workspace_id, id).await?
        else {
            return Err(AppError::NotFound("AI agent"));
        };
        let AgentKind::Webhook(hook) = &mut agent.answers else {
            return Err(DomainError::Validation {
                message: "only webhook agents have a signing secret".into(),
                errors: vec![FieldError::new("kind", "is not webhook")],
            }
            .into());
        };
        hook.secret = new_secret();
        self.provision(workspace_id, token).await?;
        self.store().put_agent(workspace_id, &agent).await?;
        Ok(agent)
    }
}
