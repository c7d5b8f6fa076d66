//! A caller's own flags on a conversation (read, favorite): kept beside the
//! conversation, never bumping its version or writing its timeline.

use crate::app::App;
use crate::error::AppError;
use crate::execute::Token;
use crate::precondition::IfMatch;
use inbox_domain::{Caller, Conversation, FlagChange, change_flags};
use inbox_store::{Commit, ConversationStore, LookupKey};

impl<S: ConversationStore> App<S> {
    /// Applies `change` to the caller's flags on `conversation_id`: one read
    /// (the conversation with the caller's directory entry), the domain's
    /// decision, the flags written (and a new member provisioned).
    pub async fn set_flags(
        &self,
        workspace_id: &str,
        token: &Token,
        conversation_id: &str,
        if_match: &IfMatch,
        change: FlagChange,
    ) -> Result<(Conversation, Caller), AppError> {
        let store = self.store();
        let context = store
            .load_context(
                workspace_id,
                Some(conversation_id),
                &[LookupKey::Person(token.sub.clone())],
            )
            .await?;
        let mut conv = context
            .conversation
            .clone()
            .ok_or(AppError::NotFound("conversation"))?;
        if !if_match.matches(conv.version) {
            return Err(AppError::PreconditionFailed);
        }
        let entry = context.people.get(&token.sub);
        let caller = token.caller(entry);
        let flags = change_flags(&conv, &caller, change, self.clock().now())?;
        if let Some(member) = token.provision(entry) {
            let mut commit = Commit::new(workspace_id);
            commit.provision = Some(member);
            self.commit(commit).await?;
        }
        store
            .set_member_flags(workspace_id, &conv.id, &token.sub, &flags)
            .await?;
        conv.member_flags.insert(token.sub.clone(), flags);
        Ok((conv, caller))
    }
}
