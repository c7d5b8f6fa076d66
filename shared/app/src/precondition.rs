//! `If-Match`: the optimistic precondition a caller may put on a command.

/// What an `If-Match` header asks for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum IfMatch {
    /// No header: concurrent writes are serialised by re-deciding.
    #[default]
    Absent,
    /// `*`: any current version (the conversation must exist).
    Any,
    /// One of these versions must be current; an empty list never matches.
    Versions(Vec<u64>),
}

impl IfMatch {
    /// Whether a precondition was given (then a conflict is 412, not a retry).
    pub fn is_present(&self) -> bool {
        !matches!(self, IfMatch::Absent)
    }

    /// Whether `version` satisfies the precondition.
    pub fn matches(&self, version: u64) -> bool {
        match self {
            IfMatch::Absent | IfMatch::Any => true,
            IfMatch::Versions(vs) => vs.contains(&version),
        }
    }
}
