//! Identifiers: server-made prefixed ids and caller-chosen ids.

/// The kinds of id the server makes, each with its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdKind {
    /// `conv_…`
    Conversation,
    /// `ct_…`
    Contact,
    /// `msg_…`
    Message,
    /// `evt_…`
    Event,
    /// `note_…`
    Note,
    /// `as_…` (agent session)
    AgentSession,
    /// `job_…`
    Job,
    /// `exp_…` (an export job)
    Export,
    /// `key_…` (an API key)
    ApiKey,
}

impl IdKind {
    /// The id prefix, underscore included.
    pub fn prefix(self) -> &'static str {
        match self {
            IdKind::Conversation => "conv_",
            IdKind::Contact => "ct_",
            IdKind::Message => "msg_",
            IdKind::Event => "evt_",
            IdKind::Note => "note_",
            IdKind::AgentSession => "as_",
            IdKind::Job => "job_",
            IdKind::Export => "exp_",
            IdKind::ApiKey => "key_",
        }
    }
}

/// A source of new, time-sortable ids (a port: production uses ULIDs).
pub trait IdGen: Send {
    /// A new id of `kind`, prefix included.
    fn new_id(&mut self, kind: IdKind) -> String;
}

/// Deterministic ids for tests: `<prefix><counter, zero-padded>`.
#[derive(Debug, Default, Clone)]
pub struct SequentialIds {
    next: u64,
}

impl IdGen for SequentialIds {
    fn new_id(&mut self, kind: IdKind) -> String {
        self.next += 1;
        format!("{}{:020}", kind.prefix(), self.next)
    }
}

/// Whether `id` is a valid caller-chosen id: `[a-z0-9][a-z0-9_-]{0,63}`.
pub fn is_valid_external_id(id: &str) -> bool {
    let b = id.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_' || *c == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_ids() {
        for ok in ["bob", "a", "sms-main", "x_1", &"a".repeat(64)] {
            assert!(is_valid_external_id(ok), "{ok}");
        }
        for bad in ["", "Bob", "-a", "_a", "a b", "é", &"a".repeat(65)] {
            assert!(!is_valid_external_id(bad), "{bad}");
        }
    }

    #[test]
    fn sequential_ids_sort_in_order() {
        let mut g = SequentialIds::default();
        let a = g.new_id(IdKind::Event);
        let b = g.new_id(IdKind::Event);
        assert!(a.starts_with("evt_") && a < b);
    }
}
