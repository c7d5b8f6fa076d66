//! The port an LLM AI agent's model is called through. What goes in (the
//! prompt) and what an answer means are the domain's (`inbox_domain::llm`);
//! adapters speak a wire format and report every failure as one.

use async_trait::async_trait;
use inbox_domain::llm::{ModelAnswer, ModelEndpoint, ModelFailure, Turn};

/// Calls a model once; nothing here retries.
#[async_trait]
pub trait ChatModel: Send + Sync {
    /// Asks the model at `endpoint` for the next turn after `turns`,
    /// offering it the handoff tool.
    async fn complete(
        &self,
        endpoint: &ModelEndpoint,
        turns: &[Turn],
    ) -> Result<ModelAnswer, ModelFailure>;
}
