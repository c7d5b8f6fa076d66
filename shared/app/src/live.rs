//! Live updates in the application layer: who a connection's caller is to
//! the others of the workspace (what the domain's `relay` names them with).

use crate::{App, AppError, Token};
use inbox_domain::live::Typist;
use inbox_store::DirectoryStore;

impl<S: DirectoryStore> App<S> {
    /// Who a live connection's caller is to others: the directory's name
    /// (one read, at connect), else the token's, else the id.
    pub async fn live_typist(&self, workspace_id: &str, token: &Token) -> Result<Typist, AppError> {
        let entry = self.store().get_person(workspace_id, &token.sub).await?;
        let caller = token.caller(entry.as_ref());
        Ok(Typist {
            name: caller.name.unwrap_or_else(|| caller.id.clone()),
            id: caller.id,
        })
    }
}
