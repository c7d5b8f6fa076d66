//! Labels and each member's own flags (read, favorite).

use super::*;

/// Checks one label.
pub fn validate_label(label: &str) -> Result<String, DomainError> {
    let l = label.trim();
    if l.is_empty() || l.chars().count() > MAX_LABEL_CHARS || l.chars().any(char::is_control) {
        return Err(DomainError::Validation {
            message: format!("labels must be 1 to {MAX_LABEL_CHARS} printable characters"),
            errors: vec![crate::error::FieldError::new(
                "labels",
                format!("invalid label {label:?}"),
            )],
        });
    }
    Ok(l.to_string())
}

pub(super) fn labels(
    conv: &Conversation,
    add: Vec<String>,
    remove: Vec<String>,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    require(ctx, Capability::ChatEdit)?;
    let add = add
        .iter()
        .map(|l| validate_label(l))
        .collect::<Result<Vec<_>, _>>()?;
    let remove = remove
        .iter()
        .map(|l| validate_label(l))
        .collect::<Result<Vec<_>, _>>()?;
    let before: std::collections::BTreeSet<String> = conv.labels.iter().cloned().collect();
    let mut set = before.clone();
    for l in &remove {
        set.remove(l);
    }
    // A label both added and removed ends up present (add wins); the event
    // reports only the net difference, so such a request may change nothing.
    set.extend(add);
    let added: Vec<String> = set.difference(&before).cloned().collect();
    let removed: Vec<String> = before.difference(&set).cloned().collect();
    if set.len() > MAX_LABELS {
        return Err(DomainError::Validation {
            message: format!("a conversation carries at most {MAX_LABELS} labels"),
            errors: vec![crate::error::FieldError::new("add", "too many labels")],
        });
    }
    single(conv, ctx, |ch| {
        if !added.is_empty() || !removed.is_empty() {
            ch.after.labels = set.into_iter().collect();
            ch.event(EventKind::LabelsChanged { added, removed });
        }
        Ok(())
    })
}

/// A change to a member's own flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagChange {
    /// Mark read now.
    Read,
    /// Mark unread.
    Unread,
    /// Favorite.
    Favorite,
    /// Remove the favorite.
    Unfavorite,
}

/// A member's flags after `change` (flags never bump the conversation's version).
pub fn change_flags(
    conv: &Conversation,
    caller: &Caller,
    change: FlagChange,
    now: Timestamp,
) -> Result<MemberFlags, DomainError> {
    authorize(caller.role, Capability::ChatEdit)?;
    let mut f = conv
        .member_flags
        .get(&caller.id)
        .cloned()
        .unwrap_or_default();
    match change {
        FlagChange::Read => {
            f.read_at = Some(now);
            f.marked_unread = false;
        }
        FlagChange::Unread => f.marked_unread = true,
        FlagChange::Favorite => f.favorite = true,
        FlagChange::Unfavorite => f.favorite = false,
    }
    Ok(f)
}
