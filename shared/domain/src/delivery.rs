//! What happens to a reply on its way to the contact: its delivery state,
//! which states may follow which, and the customer-service window that
//! refuses a free-text reply on WhatsApp.

use crate::model::{ChannelKind, Conversation, SenderKind};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// How long after the contact's last message WhatsApp takes a free-text reply.
pub const WHATSAPP_WINDOW_MILLIS: i64 = 24 * 60 * 60 * 1000;

/// Where an outgoing message is on its way to the contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Stored; not yet accepted by the provider.
    Pending,
    /// Accepted by the provider.
    Sent,
    /// Delivered to the device.
    Delivered,
    /// Read by the contact.
    Read,
    /// Will not be delivered (the provider refused it or gave up).
    Failed,
}

impl DeliveryStatus {
    /// Every status, in order of progress.
    pub const ALL: [DeliveryStatus; 5] = [
        DeliveryStatus::Pending,
        DeliveryStatus::Sent,
        DeliveryStatus::Delivered,
        DeliveryStatus::Read,
        DeliveryStatus::Failed,
    ];

    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Read => "read",
            DeliveryStatus::Failed => "failed",
        }
    }

    /// Whether a provider's report of `next` moves a message that is at
    /// `self`: statuses only move forward (`sent` → `delivered` → `read`),
    /// `failed` may follow any other, and nothing follows `failed` (only a
    /// retry starts again). A repeated status moves nothing.
    pub fn may_become(self, next: DeliveryStatus) -> bool {
        use DeliveryStatus::*;
        match (self, next) {
            (Failed, _) => false,
            (_, Failed) => true,
            (_, Pending) => false,
            _ => next.progress() > self.progress(),
        }
    }

    /// The statuses a message may be at for a report of `self` to move it
    /// (what a store's conditional write checks).
    pub fn may_follow(self) -> Vec<DeliveryStatus> {
        Self::ALL
            .into_iter()
            .filter(|before| before.may_become(self))
            .collect()
    }

    fn progress(self) -> u8 {
        match self {
            DeliveryStatus::Pending => 0,
            DeliveryStatus::Sent => 1,
            DeliveryStatus::Delivered => 2,
            DeliveryStatus::Read => 3,
            DeliveryStatus::Failed => 4,
        }
    }
}

/// Why a message failed, in the provider's words where it gave them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryError {
    /// The provider's error code, or one of ours (`channel_not_configured`).
    pub code: String,
    /// What the provider said, for people.
    pub message: String,
}

/// The delivery state of an outgoing message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// Where it is.
    pub status: DeliveryStatus,
    /// Provider calls claimed so far (0 until the first).
    pub attempts: u32,
    /// Why it failed, or what the last attempt met.
    pub error: Option<DeliveryError>,
    /// When the state last changed.
    pub updated_at: Timestamp,
}

impl Delivery {
    /// A message just stored, waiting for its first attempt.
    pub fn pending(now: Timestamp) -> Self {
        Delivery {
            status: DeliveryStatus::Pending,
            attempts: 0,
            error: None,
            updated_at: now,
        }
    }

    /// The state after a provider's report of `next`, or `None` when the
    /// report does not move it (late, repeated, or after `failed`).
    pub fn reported(
        &self,
        next: DeliveryStatus,
        error: Option<DeliveryError>,
        now: Timestamp,
    ) -> Option<Delivery> {
        self.status.may_become(next).then(|| Delivery {
            status: next,
            attempts: self.attempts,
            error: if next == DeliveryStatus::Failed {
                error
            } else {
                None
            },
            updated_at: now,
        })
    }
}

/// Whether a message from `sender` on `conv` goes out to the contact, and so
/// has a delivery state: everything but the contact's own messages, on a
/// conversation with a channel.
pub fn is_delivered(conv: &Conversation, sender: SenderKind) -> bool {
    sender != SenderKind::Contact && conv.channel_id.is_some()
}

/// Whether the customer-service window is closed for a free-text reply on
/// `conv` at `now`: on a WhatsApp Cloud channel, more than 24 hours after the
/// contact's last message, or before the contact ever wrote (WhatsApp then
/// takes only approved templates, which the inbox does not send).
pub fn reply_window_closed(conv: &Conversation, now: Timestamp) -> bool {
    if conv.channel_kind != Some(ChannelKind::Whatsapp) {
        return false;
    }
    match conv.last_contact_message_at {
        Some(at) => now.as_millis() - at.as_millis() > WHATSAPP_WINDOW_MILLIS,
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::DeliveryStatus::*;
    use super::*;

    #[test]
    fn statuses_only_move_forward_and_failed_is_final() {
        assert!(Pending.may_become(Sent));
        assert!(Sent.may_become(Delivered));
        assert!(Sent.may_become(Read));
        assert!(Delivered.may_become(Read));
        assert!(!Read.may_become(Delivered));
        assert!(!Delivered.may_become(Sent));
        assert!(!Sent.may_become(Sent));
        for s in [Pending, Sent, Delivered, Read] {
            assert!(s.may_become(Failed), "{s:?}");
            assert!(!Failed.may_become(s), "{s:?}");
            assert!(!s.may_become(Pending), "{s:?}");
        }
        assert!(!Failed.may_become(Failed));
    }

    #[test]
    fn may_follow_lists_exactly_the_states_a_report_moves() {
        assert_eq!(Delivered.may_follow(), [Pending, Sent]);
        assert_eq!(Read.may_follow(), [Pending, Sent, Delivered]);
        assert_eq!(Failed.may_follow(), [Pending, Sent, Delivered, Read]);
        assert!(Pending.may_follow().is_empty());
    }

    #[test]
    fn a_report_keeps_the_attempts_and_an_error_only_when_failed() {
        let t = Timestamp::from_millis(5);
        let d = Delivery {
            attempts: 2,
            ..Delivery::pending(Timestamp::from_millis(1))
        };
        let err = DeliveryError {
            code: "30006".into(),
            message: "landline".into(),
        };
        let sent = d.reported(Sent, Some(err.clone()), t).unwrap();
        assert_eq!(
            (sent.status, sent.attempts, sent.error, sent.updated_at),
            (Sent, 2, None, t)
        );
        let failed = d.reported(Failed, Some(err.clone()), t).unwrap();
        assert_eq!(failed.error, Some(err));
        assert_eq!(failed.reported(Read, None, t), None);
    }
}
