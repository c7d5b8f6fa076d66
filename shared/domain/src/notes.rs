//! Closing-note and summary generation behind a trait, with a deterministic extractive default.

use crate::model::{Message, SenderKind};
use std::collections::HashMap;

/// At most this many of the latest messages feed a summary or a generated note.
pub const SUMMARY_WINDOW: usize = 100;
/// A summary holds at most this many sentences.
const SUMMARY_SENTENCES: usize = 3;
/// A summary is cut to at most this many characters.
const SUMMARY_MAX_CHARS: usize = 500;

/// A draft closing note.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct NoteDraft {
    /// A category from the workspace's list, or none when nothing matches.
    pub category: Option<String>,
    /// A summary, or none when there are no messages.
    pub summary: Option<String>,
    /// Who wrote it, when anything was written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generator: Option<Generator>,
}

/// Who wrote a generated summary: the built-in extractive summarizer, or an
/// LLM agent's model (`ai.summarizer`). Categories are always chosen by the
/// built-in rule from the workspace's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Generator {
    /// The extractive summarizer: the workspace's choice, or the fallback
    /// when the model failed.
    Builtin,
    /// The summarizer agent's model.
    Llm,
}

/// Writes summaries and closing-note drafts from messages (oldest first).
pub trait NoteGenerator: Send + Sync {
    /// A summary of at most the latest 100 messages.
    fn summarize(&self, messages: &[Message]) -> Option<String>;
    /// A category chosen from `categories` by the words of the messages.
    fn categorize(&self, messages: &[Message], categories: &[String]) -> Option<String>;
    /// Who writes its summaries.
    fn generator(&self) -> Generator {
        Generator::Builtin
    }
    /// Both parts.
    fn draft(&self, messages: &[Message], categories: &[String]) -> NoteDraft {
        let category = self.categorize(messages, categories);
        let summary = self.summarize(messages);
        NoteDraft {
            generator: generated_by(summary.is_some(), category.is_some(), self.generator()),
            category,
            summary,
        }
    }
}

/// Who wrote a note whose summary (by `summarizer`) and category were
/// generated as said: the summary's writer, the built-in rule for a
/// category alone, nobody when nothing was generated.
pub fn generated_by(summary: bool, category: bool, summarizer: Generator) -> Option<Generator> {
    if summary {
        Some(summarizer)
    } else {
        category.then_some(Generator::Builtin)
    }
}

/// A summary already written (by a model, before the decision), with the
/// built-in rule for categories.
#[derive(Debug, Clone)]
pub struct WrittenSummary {
    /// The summary.
    pub summary: String,
}

impl NoteGenerator for WrittenSummary {
    fn summarize(&self, _messages: &[Message]) -> Option<String> {
        Some(self.summary.clone())
    }
    fn categorize(&self, messages: &[Message], categories: &[String]) -> Option<String> {
        ExtractiveNotes.categorize(messages, categories)
    }
    fn generator(&self) -> Generator {
        Generator::Llm
    }
}

/// The latest `SUMMARY_WINDOW` messages of an oldest-first list.
pub fn latest_window(messages: &[Message]) -> &[Message] {
    &messages[messages.len().saturating_sub(SUMMARY_WINDOW)..]
}

/// Deterministic extractive generator: the most representative sentences, and
/// the category whose words occur most often.
#[derive(Debug, Default, Clone, Copy)]
pub struct ExtractiveNotes;

const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "do", "for", "from", "have",
    "hi", "hello", "i", "in", "is", "it", "me", "my", "no", "not", "of", "on", "or", "our", "so",
    "that", "the", "this", "to", "was", "we", "what", "with", "you", "your", "yes", "thanks",
    "thank", "please", "will", "would", "just", "there", "they", "be", "been", "am", "if", "how",
];

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

fn is_content_word(w: &str) -> bool {
    w.chars().count() > 2 && !STOP_WORDS.contains(&w)
}

/// Words match when equal or when they share a stem of five or more letters.
fn same_word(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let stem = |w: &str| w.chars().take(5).collect::<String>();
    a.chars().count() >= 5 && b.chars().count() >= 5 && stem(a) == stem(b)
}

fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for ch in text.chars() {
        if ch == '\n' {
            push_sentence(&mut out, &mut cur);
            continue;
        }
        cur.push(ch);
        if matches!(ch, '.' | '!' | '?') {
            push_sentence(&mut out, &mut cur);
        }
    }
    push_sentence(&mut out, &mut cur);
    out
}

fn push_sentence(out: &mut Vec<String>, cur: &mut String) {
    let s = cur.trim();
    if !s.is_empty() {
        out.push(s.to_string());
    }
    cur.clear();
}

impl NoteGenerator for ExtractiveNotes {
    fn summarize(&self, messages: &[Message]) -> Option<String> {
        let window = latest_window(messages);
        // Sentences with their speaker; contact sentences first in ties, since
        // the contact's words say what the conversation was about.
        let mut all: Vec<(usize, bool, String)> = Vec::new();
        for m in window {
            for s in sentences(&m.body) {
                all.push((all.len(), m.sender.kind == SenderKind::Contact, s));
            }
        }
        if all.is_empty() {
            return None;
        }
        let mut freq: HashMap<String, usize> = HashMap::new();
        for (_, _, s) in &all {
            for w in words(s).filter(|w| is_content_word(w)) {
                *freq.entry(w).or_default() += 1;
            }
        }
        let score = |s: &str| -> usize {
            let ws: Vec<String> = words(s).filter(|w| is_content_word(w)).collect();
            if ws.is_empty() {
                return 0;
            }
            // Average frequency, scaled to keep integers deterministic.
            ws.iter()
                .map(|w| freq.get(w).copied().unwrap_or(0))
                .sum::<usize>()
                * 1000
                / ws.len()
        };
        let mut ranked: Vec<&(usize, bool, String)> = all.iter().collect();
        ranked.sort_by(|a, b| {
            score(&b.2)
                .cmp(&score(&a.2))
                .then(b.1.cmp(&a.1))
                .then(a.0.cmp(&b.0))
        });
        let mut chosen: Vec<&(usize, bool, String)> =
            ranked.into_iter().take(SUMMARY_SENTENCES).collect();
        chosen.sort_by_key(|c| c.0);
        let joined = chosen
            .iter()
            .map(|c| c.2.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        Some(truncate_chars(&joined, SUMMARY_MAX_CHARS))
    }

    fn categorize(&self, messages: &[Message], categories: &[String]) -> Option<String> {
        let window = latest_window(messages);
        let text_words: Vec<String> = window.iter().flat_map(|m| words(&m.body)).collect();
        let mut best: Option<(usize, &String)> = None;
        for cat in categories {
            let cat_words: Vec<String> = words(cat)
                .filter(|w| is_content_word(w) || w.len() > 1)
                .collect();
            let hits = text_words
                .iter()
                .filter(|t| cat_words.iter().any(|c| same_word(t, c)))
                .count();
            if hits > 0 && best.is_none_or(|(b, _)| hits > b) {
                best = Some((hits, cat));
            }
        }
        best.map(|(_, c)| c.clone())
    }
}

fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Sender;
    use crate::time::Timestamp;

    fn msg(kind: SenderKind, body: &str) -> Message {
        Message {
            id: "msg_1".into(),
            conversation_id: "conv_1".into(),
            sender: Sender {
                kind,
                id: None,
                name: None,
            },
            body: body.into(),
            created_at: Timestamp::default(),
            channel_message_id: None,
            delivery: None,
        }
    }

    #[test]
    fn category_is_chosen_by_the_words_of_the_conversation() {
        let msgs = vec![
            msg(
                SenderKind::Contact,
                "My invoice shows a double charge on my card.",
            ),
            msg(
                SenderKind::Member,
                "Sorry! I have refunded the duplicate charge.",
            ),
        ];
        let cats = vec!["Shipping".to_string(), "Billing and charges".to_string()];
        assert_eq!(
            ExtractiveNotes.categorize(&msgs, &cats),
            Some("Billing and charges".to_string())
        );
        assert_eq!(
            ExtractiveNotes.categorize(&msgs, &["Shipping".into()]),
            None
        );
        assert_eq!(ExtractiveNotes.categorize(&msgs, &[]), None);
    }

    #[test]
    fn summary_is_extractive_deterministic_and_bounded() {
        let msgs = vec![
            msg(
                SenderKind::Contact,
                "Hi. My order 1234 has not arrived. The order was due Monday.",
            ),
            msg(SenderKind::Member, "Let me check the order status."),
            msg(SenderKind::Member, "The order ships tomorrow."),
        ];
        let s = ExtractiveNotes.summarize(&msgs).unwrap();
        assert_eq!(s, ExtractiveNotes.summarize(&msgs).unwrap());
        assert!(s.contains("order"), "{s}");
        assert!(s.chars().count() <= SUMMARY_MAX_CHARS);
        assert_eq!(ExtractiveNotes.summarize(&[]), None);
    }

    #[test]
    fn only_the_latest_hundred_messages_count() {
        let mut msgs: Vec<Message> = (0..150)
            .map(|_| msg(SenderKind::Contact, "shipping"))
            .collect();
        for m in msgs.iter_mut().skip(50) {
            m.body = "refund please".into();
        }
        assert_eq!(latest_window(&msgs).len(), 100);
        assert_eq!(
            ExtractiveNotes.categorize(&msgs, &["Shipping".into(), "Refund".into()]),
            Some("Refund".into())
        );
    }
}
