//! Conversation ids that concurrent deliveries agree on.
//!
//! Two first messages from a new sender can arrive at once. Both find no
//! conversation and both decide to start one; with random ids both creates
//! would succeed and the contact would get two conversations. Deriving the new
//! conversation's id from what the decision was based on (workspace, channel,
//! contact and the conversation it follows, if any) makes both racers propose
//! the same id: the store's create-if-absent lets one win and answers the other
//! `Conflict`, which re-reads, finds the new conversation and appends to it.

use inbox_domain::model::{Contact, Conversation};
use inbox_domain::{IdGen, IdKind};
use sha2::{Digest, Sha256};

/// Ids from `inner`, except that the first conversation id asked for is a fixed one.
pub(crate) struct ConvergentIds<'a> {
    inner: &'a mut dyn IdGen,
    conversation_id: Option<String>,
}

impl<'a> ConvergentIds<'a> {
    /// Hands out `conversation_id` for the next new conversation, `inner`'s ids for the rest.
    pub(crate) fn new(inner: &'a mut dyn IdGen, conversation_id: Option<String>) -> Self {
        ConvergentIds {
            inner,
            conversation_id,
        }
    }
}

impl IdGen for ConvergentIds<'_> {
    fn new_id(&mut self, kind: IdKind) -> String {
        if kind == IdKind::Conversation
            && let Some(id) = self.conversation_id.take()
        {
            return id;
        }
        self.inner.new_id(kind)
    }
}

/// The id a conversation started after `predecessor` (or the contact's first on the
/// channel) gets: a ULID whose time part is when that state arose and whose random
/// part is a hash of what identifies it, so it still sorts by time.
pub(crate) fn successor_conversation_id(
    workspace_id: &str,
    channel_id: &str,
    contact: &Contact,
    predecessor: Option<&Conversation>,
) -> String {
    let mut hash = Sha256::new();
    for part in [
        workspace_id,
        channel_id,
        &contact.id,
        predecessor.map_or("", |c| c.id.as_str()),
    ] {
        hash.update(part.as_bytes());
        // A separator that cannot occur in ids keeps ("ab","c") apart from ("a","bc").
        hash.update([0u8]);
    }
    let digest = hash.finalize();
    let mut random = [0u8; 16];
    for (to, from) in random.iter_mut().skip(6).zip(digest.iter()) {
        *to = *from;
    }
    let since = match predecessor {
        Some(conv) => conv
            .closing
            .as_ref()
            .map_or(conv.last_activity_at, |c| c.at),
        None => contact.created_at,
    };
    let millis = u64::try_from(since.as_millis()).unwrap_or(0);
    let ulid = ulid::Ulid::from_parts(millis, u128::from_be_bytes(random));
    format!(
        "{}{}",
        IdKind::Conversation.prefix(),
        ulid.to_string().to_lowercase()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use inbox_domain::Timestamp;

    fn contact(id: &str) -> Contact {
        Contact {
            id: id.into(),
            name: None,
            email: None,
            phone: None,
            blocked: false,
            created_at: Timestamp::from_millis(1_700_000_000_000),
        }
    }

    #[test]
    fn same_inputs_same_id_different_inputs_different_id() {
        let a = successor_conversation_id("w", "c", &contact("ct_1"), None);
        assert_eq!(
            a,
            successor_conversation_id("w", "c", &contact("ct_1"), None)
        );
        assert_ne!(
            a,
            successor_conversation_id("w", "c", &contact("ct_2"), None)
        );
        assert_ne!(
            a,
            successor_conversation_id("w", "d", &contact("ct_1"), None)
        );
        assert!(a.starts_with("conv_") && a.len() == 5 + 26);
        assert_eq!(a, a.to_lowercase());
    }

    #[test]
    fn only_the_first_conversation_id_is_fixed() {
        let mut inner = inbox_domain::SequentialIds::default();
        let mut ids = ConvergentIds::new(&mut inner, Some("conv_fixed".into()));
        assert!(ids.new_id(IdKind::Message).starts_with("msg_"));
        assert_eq!(ids.new_id(IdKind::Conversation), "conv_fixed");
        assert_ne!(ids.new_id(IdKind::Conversation), "conv_fixed");
    }
}
