//! Summaries and generated closing notes by the workspace's summarizer
//! (`ai.summarizer`): the built-in extractive one, or an LLM agent's model,
//! asked once before the decision. When the model fails (or the agent is
//! gone, or not an LLM agent) the built-in one stands in, and the note says
//! so (`generator: "builtin"`).

use crate::app::App;
use inbox_domain::agents::AgentKind;
use inbox_domain::llm::{summary_of, summary_prompt};
use inbox_domain::model::{DirectoryEntry, Message};
use inbox_domain::notes::{WrittenSummary, latest_window};
use inbox_domain::settings::Summarizer;
use inbox_domain::{NoteGenerator, Settings};
use inbox_store::{ConversationStore, LookupKey};
use std::sync::Arc;

/// The longest a summary waits for the model, in seconds: a close or a
/// draft is a person's request (and an API function's 10 s), so a slow
/// model gives way to the built-in summary.
pub const SUMMARY_TIMEOUT_SECONDS: u64 = 5;

impl<S: ConversationStore> App<S> {
    /// Who writes the summary of `messages` (oldest first) under `settings`:
    /// the model's summary already written, or the built-in generator.
    pub async fn note_writer(
        &self,
        workspace_id: &str,
        settings: &Settings,
        messages: &[Message],
    ) -> Arc<dyn NoteGenerator> {
        let Summarizer::Llm { agent_id } = &settings.ai.summarizer else {
            return self.builtin_notes();
        };
        let recent = latest_window(messages);
        if recent.is_empty() {
            return self.builtin_notes();
        }
        // Read as a lookup: the one read every command makes anyway.
        let found = self
            .store()
            .load_context(workspace_id, None, &[LookupKey::Person(agent_id.clone())])
            .await
            .map(|mut c| c.people.remove(agent_id));
        let llm = match found {
            Ok(Some(DirectoryEntry::Agent(a))) => match a.answers {
                AgentKind::Llm(llm) => llm,
                _ => return self.builtin_notes(),
            },
            Ok(_) => return self.builtin_notes(),
            Err(e) => {
                tracing::warn!(error = %e, "the summarizer agent could not be read; the built-in summary stands in");
                return self.builtin_notes();
            }
        };
        let Some(model) = self.chat_model() else {
            return self.builtin_notes();
        };
        let mut endpoint = llm.endpoint();
        endpoint.timeout_seconds = endpoint.timeout_seconds.min(SUMMARY_TIMEOUT_SECONDS);
        match model
            .complete(&endpoint, &summary_prompt(agent_id, recent))
            .await
        {
            Ok(answer) => match summary_of(answer) {
                Some(summary) => Arc::new(WrittenSummary { summary }),
                None => self.builtin_notes(),
            },
            Err(failure) => {
                tracing::warn!(agent = %agent_id, error = %failure, "the summarizer's model failed; the built-in summary stands in");
                self.builtin_notes()
            }
        }
    }

    fn builtin_notes(&self) -> Arc<dyn NoteGenerator> {
        self.shared_notes()
    }
}
