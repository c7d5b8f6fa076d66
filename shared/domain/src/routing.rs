//! Which conversation a contact's message joins.
//!
//! A message a contact sends on a channel continues their newest conversation
//! on that channel, whatever its status: `receive_contact_message` then adds
//! to it, reopens it, or (with none) starts a new one.

use crate::model::Conversation;

/// Among a contact's conversations, newest first, the one their next message
/// on `channel_id` continues.
pub fn conversation_for_contact_message<'a>(
    newest_first: &'a [Conversation],
    channel_id: &str,
) -> Option<&'a Conversation> {
    newest_first
        .iter()
        .find(|c| c.channel_id.as_deref() == Some(channel_id))
}

/// Whether `conv` is `contact_id`'s conversation on `channel_id`.
pub fn is_on_channel_of(conv: &Conversation, contact_id: &str, channel_id: &str) -> bool {
    conv.channel_id.as_deref() == Some(channel_id) && conv.contact.id == contact_id
}
