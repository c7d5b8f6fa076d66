//! The infrastructure template: where it is, how to read it, what deploys
//! what ([`catalogue`]), and the generator of its per-function resources
//! ([`generate`]). The tests in `tests/infra_*.rs` and the `gen-template`
//! binary share this code.

pub mod catalogue;
pub mod generate;
pub mod template;

use std::path::PathBuf;

/// The workspace root (the directory holding `infra/` and `functions/`).
pub fn workspace_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(PathBuf::from).unwrap_or(here)
}

/// `infra/template.yaml`.
pub fn template_path() -> PathBuf {
    workspace_root().join("infra").join("template.yaml")
}

/// Converts a kebab-case function name into a CloudFormation logical id stem:
/// `conversation-agent-session-end` → `ConversationAgentSessionEnd`.
pub fn logical_stem(name: &str) -> String {
    name.split(['-', '_'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// The logical id of a function's `AWS::Serverless::Function`.
pub fn function_id(name: &str) -> String {
    format!("{}Function", logical_stem(name))
}

/// The logical id of a function's execution role.
pub fn role_id(name: &str) -> String {
    format!("{}Role", logical_stem(name))
}

/// The logical id of a function's log group.
pub fn log_group_id(name: &str) -> String {
    format!("{}LogGroup", logical_stem(name))
}
