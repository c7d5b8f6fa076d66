//! Workspace settings: defaults, and validation of a whole settings document.

use crate::error::{DomainError, FieldError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The longest auto-close delay: 14 days.
pub const MAX_AUTO_CLOSE_SECONDS: u64 = 1_209_600;
/// The most closing categories a workspace may define.
pub const MAX_CATEGORIES: usize = 100;
/// The longest closing category name.
pub const MAX_CATEGORY_LEN: usize = 100;

/// A workspace's settings document (`GET/PUT /settings`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Closing conversations after a quiet period.
    pub auto_close: AutoCloseSettings,
    /// Closing-note requirements.
    pub closing_notes: ClosingNoteSettings,
    /// How AI agents yield to people.
    pub ai: AiSettings,
    /// Whether a contact message reopens a closed conversation (else starts a new one).
    pub reopen_on_contact_message: bool,
}

/// Auto-close settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoCloseSettings {
    /// Whether due timers close conversations.
    pub enabled: bool,
    /// Quiet period after a human reply, 1 to 1,209,600 seconds.
    pub after_seconds: u64,
}

/// Closing-note settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosingNoteSettings {
    /// Which parts of a note a manual close requires.
    pub mode: ClosingNoteMode,
    /// The categories a note may use.
    pub categories: Vec<String>,
    /// Generate missing parts from the latest messages.
    pub auto_generate: bool,
}

/// Closing-note mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClosingNoteMode {
    /// Closing notes are not accepted.
    Off,
    /// A note may be given.
    Optional,
    /// A category is required.
    CategoryRequired,
    /// A summary is required.
    SummaryRequired,
    /// Both are required.
    CategoryAndSummaryRequired,
}

impl ClosingNoteMode {
    const ALL: [&'static str; 5] = [
        "off",
        "optional",
        "category_required",
        "summary_required",
        "category_and_summary_required",
    ];

    /// Whether a category is required.
    pub fn requires_category(self) -> bool {
        matches!(
            self,
            ClosingNoteMode::CategoryRequired | ClosingNoteMode::CategoryAndSummaryRequired
        )
    }

    /// Whether a summary is required.
    pub fn requires_summary(self) -> bool {
        matches!(
            self,
            ClosingNoteMode::SummaryRequired | ClosingNoteMode::CategoryAndSummaryRequired
        )
    }
}

/// AI settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AiSettings {
    /// Assigning a person ends the active AI session.
    pub end_session_on_human_assignment: bool,
    /// A human reply ends the active AI session.
    pub stop_on_human_reply: bool,
    /// Who writes summaries and generated closing notes.
    #[serde(default)]
    pub summarizer: Summarizer,
}

/// Who writes summaries and generated closing notes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Summarizer {
    /// The extractive summarizer.
    #[default]
    Builtin,
    /// This LLM agent's model; the built-in one when it fails.
    Llm {
        /// An AI agent of kind `llm`.
        agent_id: String,
    },
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            auto_close: AutoCloseSettings {
                enabled: false,
                after_seconds: 86_400,
            },
            closing_notes: ClosingNoteSettings {
                mode: ClosingNoteMode::Optional,
                categories: Vec::new(),
                auto_generate: false,
            },
            ai: AiSettings {
                end_session_on_human_assignment: true,
                stop_on_human_reply: true,
                summarizer: Summarizer::Builtin,
            },
            reopen_on_contact_message: true,
        }
    }
}

impl Settings {
    /// Validates a whole settings document, collecting every field error.
    pub fn from_document(doc: &Value) -> Result<Settings, DomainError> {
        let mut v = Validator::default();
        let root = v.object(doc, "");
        let mut out = Settings::default();
        if let Some(root) = root {
            v.only_keys(
                root,
                "",
                &[
                    "auto_close",
                    "closing_notes",
                    "ai",
                    "reopen_on_contact_message",
                ],
            );
            if let Some(ac) = v.required_object(root, "", "auto_close") {
                v.only_keys(ac, "auto_close", &["enabled", "after_seconds"]);
                if let Some(b) = v.bool(ac, "auto_close", "enabled") {
                    out.auto_close.enabled = b;
                }
                match ac.get("after_seconds") {
                    None => v.err("auto_close.after_seconds", "is required"),
                    Some(n) => match n.as_u64() {
                        Some(n) if (1..=MAX_AUTO_CLOSE_SECONDS).contains(&n) => {
                            out.auto_close.after_seconds = n
                        }
                        _ => v.err(
                            "auto_close.after_seconds",
                            "must be a whole number from 1 to 1209600 (14 days)",
                        ),
                    },
                }
            }
            if let Some(cn) = v.required_object(root, "", "closing_notes") {
                v.only_keys(
                    cn,
                    "closing_notes",
                    &["mode", "categories", "auto_generate"],
                );
                match cn.get("mode") {
                    None => v.err("closing_notes.mode", "is required"),
                    Some(m) => match m
                        .as_str()
                        .and_then(|s| serde_json::from_value(Value::String(s.into())).ok())
                    {
                        Some(mode) => out.closing_notes.mode = mode,
                        None => v.err(
                            "closing_notes.mode",
                            format!("must be one of {}", ClosingNoteMode::ALL.join(", ")),
                        ),
                    },
                }
                match cn.get("categories") {
                    None => v.err("closing_notes.categories", "is required"),
                    Some(Value::Array(items)) => {
                        out.closing_notes.categories = validate_categories(items, &mut v);
                    }
                    Some(_) => v.err("closing_notes.categories", "must be a list of names"),
                }
                if let Some(b) = v.bool(cn, "closing_notes", "auto_generate") {
                    out.closing_notes.auto_generate = b;
                }
            }
            if let Some(ai) = v.required_object(root, "", "ai") {
                v.only_keys(
                    ai,
                    "ai",
                    &[
                        "end_session_on_human_assignment",
                        "stop_on_human_reply",
                        "summarizer",
                    ],
                );
                if let Some(summarizer) = ai.get("summarizer") {
                    match summarizer_of(summarizer) {
                        Ok(chosen) => out.ai.summarizer = chosen,
                        Err(why) => v.err("ai.summarizer", why),
                    }
                }
                if let Some(b) = v.bool(ai, "ai", "end_session_on_human_assignment") {
                    out.ai.end_session_on_human_assignment = b;
                }
                if let Some(b) = v.bool(ai, "ai", "stop_on_human_reply") {
                    out.ai.stop_on_human_reply = b;
                }
            }
            if let Some(b) = v.bool(root, "", "reopen_on_contact_message") {
                out.reopen_on_contact_message = b;
            }
        }
        if v.errors.is_empty() {
            Ok(out)
        } else {
            Err(DomainError::InvalidSettings { errors: v.errors })
        }
    }

    /// Whether `category` is one of the workspace's closing categories.
    pub fn has_category(&self, category: &str) -> bool {
        self.closing_notes.categories.iter().any(|c| c == category)
    }
}

/// `{"kind": "builtin"}` or `{"kind": "llm", "agent_id": "<id>"}`.
fn summarizer_of(value: &Value) -> Result<Summarizer, &'static str> {
    const WHAT: &str =
        "must be {\"kind\": \"builtin\"} or {\"kind\": \"llm\", \"agent_id\": \"<an llm agent>\"}";
    let chosen: Summarizer = serde_json::from_value(value.clone()).map_err(|_| WHAT)?;
    let keys = value.as_object().map_or(0, |o| o.len());
    match &chosen {
        Summarizer::Builtin if keys == 1 => Ok(chosen),
        Summarizer::Llm { agent_id } if keys == 2 && crate::ids::is_valid_external_id(agent_id) => {
            Ok(chosen)
        }
        _ => Err(WHAT),
    }
}

fn validate_categories(items: &[Value], v: &mut Validator) -> Vec<String> {
    if items.len() > MAX_CATEGORIES {
        v.err(
            "closing_notes.categories",
            format!("at most {MAX_CATEGORIES} categories"),
        );
    }
    let mut out: Vec<String> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let field = format!("closing_notes.categories[{i}]");
        match item.as_str().map(str::trim) {
            Some(s) if !s.is_empty() && s.chars().count() <= MAX_CATEGORY_LEN => {
                if out.iter().any(|c| c == s) {
                    v.err(field, "is listed twice");
                } else {
                    out.push(s.to_string());
                }
            }
            _ => v.err(
                field,
                format!("must be a non-empty name of at most {MAX_CATEGORY_LEN} characters"),
            ),
        }
    }
    out
}

#[derive(Default)]
struct Validator {
    errors: Vec<FieldError>,
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

type Obj = serde_json::Map<String, Value>;

impl Validator {
    fn err(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    fn object<'a>(&mut self, v: &'a Value, field: &str) -> Option<&'a Obj> {
        match v.as_object() {
            Some(o) => Some(o),
            None => {
                let name = if field.is_empty() { "settings" } else { field };
                self.err(name, "must be an object");
                None
            }
        }
    }

    fn required_object<'a>(&mut self, o: &'a Obj, prefix: &str, key: &str) -> Option<&'a Obj> {
        let field = join(prefix, key);
        match o.get(key) {
            None => {
                self.err(field, "is required");
                None
            }
            Some(v) => self.object(v, &field),
        }
    }

    fn only_keys(&mut self, o: &Obj, prefix: &str, allowed: &[&str]) {
        for k in o.keys() {
            if !allowed.contains(&k.as_str()) {
                self.err(join(prefix, k), "is not a known setting");
            }
        }
    }

    fn bool(&mut self, o: &Obj, prefix: &str, key: &str) -> Option<bool> {
        let field = join(prefix, key);
        match o.get(key) {
            None => {
                self.err(field, "is required");
                None
            }
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.err(field, "must be true or false");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn defaults_doc() -> Value {
        serde_json::to_value(Settings::default()).unwrap()
    }

    #[test]
    fn defaults_match_the_contract() {
        assert_eq!(
            defaults_doc(),
            json!({
                "auto_close": {"enabled": false, "after_seconds": 86400},
                "closing_notes": {"mode": "optional", "categories": [], "auto_generate": false},
                "ai": {"end_session_on_human_assignment": true, "stop_on_human_reply": true,
                       "summarizer": {"kind": "builtin"}},
                "reopen_on_contact_message": true
            })
        );
        assert_eq!(
            Settings::from_document(&defaults_doc()).unwrap(),
            Settings::default()
        );
    }

    #[test]
    fn out_of_range_and_unknown_values_are_field_errors() {
        let mut doc = defaults_doc();
        doc["auto_close"]["after_seconds"] = json!(1_209_601);
        doc["closing_notes"]["mode"] = json!("sometimes");
        doc["closing_notes"]["categories"] = json!(["billing", "billing", ""]);
        doc["ai"]["colour"] = json!("blue");
        let Err(DomainError::InvalidSettings { errors }) = Settings::from_document(&doc) else {
            panic!("expected invalid settings");
        };
        let mut fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        fields.sort();
        assert_eq!(
            fields,
            vec![
                "ai.colour",
                "auto_close.after_seconds",
                "closing_notes.categories[1]",
                "closing_notes.categories[2]",
                "closing_notes.mode",
            ]
        );
        assert_eq!(errors.len(), 5);
    }

    #[test]
    fn the_summarizer_is_builtin_or_an_llm_agent() {
        let mut doc = defaults_doc();
        doc["ai"]["summarizer"] = json!({"kind": "llm", "agent_id": "max"});
        assert_eq!(
            Settings::from_document(&doc).unwrap().ai.summarizer,
            Summarizer::Llm {
                agent_id: "max".into()
            }
        );
        for bad in [
            json!({"kind": "gpt"}),
            json!({"kind": "llm"}),
            json!({"kind": "llm", "agent_id": "Max!"}),
            json!({"kind": "builtin", "agent_id": "max"}),
            json!("builtin"),
        ] {
            doc["ai"]["summarizer"] = bad.clone();
            assert!(Settings::from_document(&doc).is_err(), "{bad}");
        }
        // Absent: the built-in one.
        doc["ai"].as_object_mut().unwrap().remove("summarizer");
        assert_eq!(
            Settings::from_document(&doc).unwrap().ai.summarizer,
            Summarizer::Builtin
        );
    }

    #[test]
    fn after_seconds_bounds() {
        for (n, ok) in [(0, false), (1, true), (1_209_600, true), (1_209_601, false)] {
            let mut doc = defaults_doc();
            doc["auto_close"]["after_seconds"] = json!(n);
            assert_eq!(Settings::from_document(&doc).is_ok(), ok, "{n}");
        }
    }

    #[test]
    fn the_whole_document_is_required() {
        let Err(DomainError::InvalidSettings { errors }) =
            Settings::from_document(&json!({"auto_close": {"enabled": true}}))
        else {
            panic!()
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.clone()).collect();
        assert!(fields.contains(&"auto_close.after_seconds".to_string()));
        assert!(fields.contains(&"closing_notes".to_string()));
        assert!(fields.contains(&"reopen_on_contact_message".to_string()));
        assert!(Settings::from_document(&json!([])).is_err());
    }
}
