//! What happens to a reply on its way to the contact: its delivery state,
//! which states may follow which, and the customer-service window that
//! refuses a free-text reply on WhatsApp.

use crate::model::{ChannelKind, Conversation, MessageAt, SenderKind};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// How long after the contact's last message WhatsApp takes a free-text reply.
pub const WHATSAPP_WINDOW_MILLIS: i64 = 24 * 60 * 60 * 1000;
/// The most provider calls a message gets before it is `failed` (a manual
/// retry starts again from the first).
pub const MAX_SEND_ATTEMPTS: u32 = 8;
/// The wait before the first retry; each later one doubles it.
pub const FIRST_RETRY_MILLIS: i64 = 5_000;
/// The longest wait between two attempts (SQS's longest message delay, too).
pub const MAX_RETRY_GAP_MILLIS: i64 = 15 * 60 * 1000;
/// How long a claimed attempt may go unanswered before the sender that
/// claimed it is taken to have stopped (longer than any sender runs).
pub const CLAIM_LEASE_MILLIS: i64 = 2 * 60 * 1000;
/// The code of a message whose sender stopped between claiming an attempt
/// and recording its answer: the provider may or may not have it.
pub const OUTCOME_UNKNOWN: &str = "outcome_unknown";

/// The most failed messages a conversation lists for retry; past it the
/// oldest is dropped from the list (it stays `failed`, and is no longer retryable).
pub const MAX_FAILED_KEPT: usize = 100;
/// The code of a reply on a channel that has no sending credentials.
pub const CHANNEL_NOT_CONFIGURED: &str = "channel_not_configured";
/// The code of a reply with nowhere to go: the contact never wrote on the
/// channel and has no phone number it could use.
pub const NO_CONTACT_ADDRESS: &str = "no_contact_address";

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

/// A stored message's delivery moving from the state a step read to the
/// next, written only if it is still as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryChange {
    /// The message.
    pub message_id: String,
    /// Where it is stored.
    pub at: MessageAt,
    /// The state the step was decided on.
    pub expected: Delivery,
    /// The state after it.
    pub next: Delivery,
}

/// What the provider answered one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// Accepted, under the provider's id for the message.
    Accepted {
        /// The provider's message id (`SM…`, `wamid.…`, Telegram's
        /// `message_id`); `None` from a generic channel's receiver, which has none.
        provider_message_id: Option<String>,
    },
    /// Worth another attempt: network, timeout, 429, 5xx.
    Transient {
        /// What the attempt met.
        error: DeliveryError,
        /// How long the provider asked to wait, if it said.
        retry_after_millis: Option<i64>,
    },
    /// Refused for good (another 4xx, or no credentials to send with).
    Permanent {
        /// The provider's code and message.
        error: DeliveryError,
    },
}

/// What follows an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Nothing: the provider has it.
    Done,
    /// Attempt again after this many milliseconds.
    RetryIn(i64),
    /// Nothing: it failed (`delivery_failed` goes on the timeline).
    GiveUp,
}

impl Delivery {
    /// The state that claims attempt `attempt` before the provider is
    /// called, or `None` when that attempt is not this message's next one
    /// (a duplicate queue delivery, a second worker, a message already sent
    /// or failed): claiming with a conditional write on the state read makes
    /// one provider call per attempt at most. A claimed attempt has no
    /// error yet, which tells it from one the provider answered with a
    /// transient failure (same status and attempts, and an error).
    pub fn claim(&self, attempt: u32, now: Timestamp) -> Option<Delivery> {
        (self.status == DeliveryStatus::Pending && attempt >= 1 && self.attempts == attempt - 1)
            .then_some(Delivery {
                status: DeliveryStatus::Pending,
                attempts: attempt,
                error: None,
                updated_at: now,
            })
    }

    /// The state after the provider's answer to the claimed attempt, and
    /// what follows. `jitter` (from 0 to 1) spreads retries of messages that
    /// failed together.
    pub fn answered(
        &self,
        outcome: &SendOutcome,
        jitter: f64,
        now: Timestamp,
    ) -> (Delivery, NextStep) {
        let next = |status, error| Delivery {
            status,
            attempts: self.attempts,
            error,
            updated_at: now,
        };
        match outcome {
            SendOutcome::Accepted { .. } => (next(DeliveryStatus::Sent, None), NextStep::Done),
            SendOutcome::Permanent { error } => (
                next(DeliveryStatus::Failed, Some(error.clone())),
                NextStep::GiveUp,
            ),
            SendOutcome::Transient { error, .. } if self.attempts >= MAX_SEND_ATTEMPTS => (
                next(DeliveryStatus::Failed, Some(error.clone())),
                NextStep::GiveUp,
            ),
            SendOutcome::Transient {
                error,
                retry_after_millis,
            } => {
                let wait = retry_delay_millis(self.attempts, jitter)
                    .max(retry_after_millis.unwrap_or(0).min(MAX_RETRY_GAP_MILLIS));
                (
                    next(DeliveryStatus::Pending, Some(error.clone())),
                    NextStep::RetryIn(wait),
                )
            }
        }
    }

    /// The state of a message whose claimed attempt `attempt` was never
    /// answered, seen at `now` (its queue message came back): `failed` with
    /// [`OUTCOME_UNKNOWN`] once the claim is older than [`CLAIM_LEASE_MILLIS`]
    /// (the provider may have it, so it is not sent again unasked); `None`
    /// while the claiming sender may still be at work, or when the attempt
    /// was answered.
    pub fn interrupted(&self, attempt: u32, now: Timestamp) -> Option<Delivery> {
        let stale = now.as_millis() - self.updated_at.as_millis() > CLAIM_LEASE_MILLIS;
        let unanswered = self.status == DeliveryStatus::Pending
            && self.attempts == attempt
            && self.error.is_none();
        (unanswered && stale).then(|| {
            Delivery {
                status: DeliveryStatus::Failed,
                attempts: self.attempts,
                error: Some(DeliveryError {
                    code: OUTCOME_UNKNOWN.into(),
                    message: "the sender stopped after calling the provider; the message may or may not have been delivered".into(),
                }),
                updated_at: now,
            }
        })
    }

    /// Whether attempt `attempt` is claimed and not yet answered (its sender
    /// may still be calling the provider).
    pub fn claimed_unanswered(&self, attempt: u32) -> bool {
        self.status == DeliveryStatus::Pending && self.attempts == attempt && self.error.is_none()
    }

    /// Whether attempt `attempt` was answered with a transient failure (the
    /// next attempt is due after its delay).
    pub fn answered_transiently(&self, attempt: u32) -> bool {
        self.status == DeliveryStatus::Pending && self.attempts == attempt && self.error.is_some()
    }

    /// A failed message queued again by hand: pending, from the first attempt.
    pub fn retried(&self, now: Timestamp) -> Option<Delivery> {
        (self.status == DeliveryStatus::Failed).then(|| Delivery::pending(now))
    }
}

/// Whether a provider's HTTP answer is worth another attempt: a timeout
/// (408), too many requests (429) or a server error (5xx); any other 4xx is
/// a refusal that no retry changes. (No answer at all is transient too.)
pub fn is_transient_status(status: u16) -> bool {
    status == 408 || status == 429 || (500..600).contains(&status)
}

/// The wait after `attempts_made` attempts: 5 s, doubling, at most 15
/// minutes, spread by up to a fifth either way (`jitter` from 0 to 1).
pub fn retry_delay_millis(attempts_made: u32, jitter: f64) -> i64 {
    let doublings = attempts_made.saturating_sub(1).min(20);
    let base = (FIRST_RETRY_MILLIS << doublings).min(MAX_RETRY_GAP_MILLIS);
    let spread = 0.8 + 0.4 * jitter.clamp(0.0, 1.0);
    ((base as f64 * spread) as i64).min(MAX_RETRY_GAP_MILLIS)
}

/// Whether a channel of `kind` can reach a contact by their phone number
/// (the fallback when the contact never wrote on it): SMS and WhatsApp can.
pub fn reaches_by_phone(kind: ChannelKind) -> bool {
    matches!(kind, ChannelKind::Twilio | ChannelKind::Whatsapp)
}

/// Where a reply on a channel of `kind` goes: the contact's address there,
/// learnt from their messages; else their phone on a channel that
/// [`reaches_by_phone`] (a WhatsApp id is the number's digits); a generic
/// channel's receiver is given none (empty). `None`: nowhere
/// ([`NO_CONTACT_ADDRESS`]).
pub fn reply_address(
    kind: ChannelKind,
    learnt: Option<&str>,
    phone: Option<&str>,
) -> Option<String> {
    if let Some(address) = learnt {
        return Some(address.to_string());
    }
    match (kind, phone) {
        (ChannelKind::Whatsapp, Some(p)) => Some(p.chars().filter(char::is_ascii_digit).collect()),
        (ChannelKind::Twilio, Some(p)) => Some(p.to_string()),
        (ChannelKind::Generic, _) => Some(String::new()),
        _ => None,
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
    fn a_reply_goes_to_the_learnt_address_else_a_phone_where_the_channel_takes_one() {
        use ChannelKind::*;
        assert_eq!(
            reply_address(Telegram, Some("4242"), None).as_deref(),
            Some("4242")
        );
        assert_eq!(
            reply_address(Twilio, Some("+1555"), Some("+1666")).as_deref(),
            Some("+1555")
        );
        assert_eq!(
            reply_address(Twilio, None, Some("+15550100")).as_deref(),
            Some("+15550100")
        );
        assert_eq!(
            reply_address(Whatsapp, None, Some("+44 7700 900123")).as_deref(),
            Some("447700900123")
        );
        assert_eq!(reply_address(Telegram, None, Some("+15550100")), None);
        assert_eq!(reply_address(Twilio, None, None), None);
        assert_eq!(reply_address(Generic, None, None).as_deref(), Some(""));
        assert!(reaches_by_phone(Twilio) && reaches_by_phone(Whatsapp));
        assert!(!reaches_by_phone(Telegram) && !reaches_by_phone(Generic));
    }

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

    fn err(code: &str) -> DeliveryError {
        DeliveryError {
            code: code.into(),
            message: "m".into(),
        }
    }

    #[test]
    fn an_attempt_is_claimed_once_and_only_in_order() {
        let t = Timestamp::from_millis(10);
        let fresh = Delivery::pending(Timestamp::from_millis(1));
        let first = fresh.claim(1, t).expect("attempt 1 of a fresh message");
        assert_eq!(
            (first.status, first.attempts, first.updated_at),
            (Pending, 1, t)
        );
        assert_eq!(
            first.claim(1, t),
            None,
            "a duplicate of attempt 1 claims nothing"
        );
        assert_eq!(fresh.claim(2, t), None, "attempts are claimed in order");
        assert_eq!(fresh.claim(0, t), None);
        let sent = first
            .answered(
                &SendOutcome::Accepted {
                    provider_message_id: Some("SM1".into()),
                },
                0.5,
                t,
            )
            .0;
        assert_eq!(
            sent.claim(2, t),
            None,
            "a sent message is never claimed again"
        );
    }

    #[test]
    fn transient_failures_wait_longer_each_time_until_the_eighth() {
        let t = Timestamp::from_millis(0);
        let mut d = Delivery::pending(t);
        let mut waits = Vec::new();
        for attempt in 1..=MAX_SEND_ATTEMPTS {
            d = d.claim(attempt, t).expect("claim");
            let (after, next) = d.answered(
                &SendOutcome::Transient {
                    error: err("503"),
                    retry_after_millis: None,
                },
                0.5,
                t,
            );
            d = after;
            match next {
                NextStep::RetryIn(ms) => waits.push(ms),
                NextStep::GiveUp => assert_eq!(attempt, MAX_SEND_ATTEMPTS),
                NextStep::Done => panic!("not sent"),
            }
        }
        assert_eq!(
            waits,
            [5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000]
        );
        assert_eq!(
            (d.status, d.attempts, d.error),
            (Failed, 8, Some(err("503")))
        );
    }

    #[test]
    fn retry_waits_are_jittered_capped_and_honour_retry_after() {
        assert_eq!(retry_delay_millis(1, 0.0), 4_000);
        assert_eq!(retry_delay_millis(1, 1.0), 6_000);
        assert_eq!(retry_delay_millis(9, 1.0), MAX_RETRY_GAP_MILLIS);
        assert_eq!(retry_delay_millis(40, 0.5), MAX_RETRY_GAP_MILLIS);
        let d = Delivery::pending(Timestamp::from_millis(0))
            .claim(1, Timestamp::from_millis(0))
            .unwrap();
        let transient = |after| SendOutcome::Transient {
            error: err("429"),
            retry_after_millis: Some(after),
        };
        assert_eq!(
            d.answered(&transient(30_000), 0.5, Timestamp::from_millis(0))
                .1,
            NextStep::RetryIn(30_000)
        );
        assert_eq!(
            d.answered(&transient(1_000), 0.5, Timestamp::from_millis(0))
                .1,
            NextStep::RetryIn(5_000)
        );
        assert_eq!(
            d.answered(&transient(3_600_000), 0.5, Timestamp::from_millis(0))
                .1,
            NextStep::RetryIn(MAX_RETRY_GAP_MILLIS)
        );
    }

    #[test]
    fn a_permanent_refusal_fails_at_once_and_a_retry_starts_again() {
        let t = Timestamp::from_millis(7);
        let d = Delivery::pending(t).claim(1, t).unwrap();
        let (failed, next) = d.answered(
            &SendOutcome::Permanent {
                error: err("21211"),
            },
            0.5,
            t,
        );
        assert_eq!(next, NextStep::GiveUp);
        assert_eq!((failed.status, failed.attempts), (Failed, 1));
        assert_eq!(d.retried(t), None, "only a failed message is retried");
        let again = failed.retried(Timestamp::from_millis(9)).unwrap();
        assert_eq!(again, Delivery::pending(Timestamp::from_millis(9)));
        assert!(again.claim(1, t).is_some());
    }

    #[test]
    fn an_unanswered_claim_fails_as_unknown_only_after_the_lease() {
        let claimed_at = Timestamp::from_millis(1_000);
        let d = Delivery::pending(claimed_at).claim(1, claimed_at).unwrap();
        let soon = Timestamp::from_millis(1_000 + CLAIM_LEASE_MILLIS);
        assert_eq!(
            d.interrupted(1, soon),
            None,
            "the sender may still be at work"
        );
        let late = Timestamp::from_millis(1_001 + CLAIM_LEASE_MILLIS);
        let failed = d.interrupted(1, late).expect("the lease is over");
        assert_eq!(failed.status, Failed);
        assert_eq!(
            failed.error.map(|e| e.code).as_deref(),
            Some(OUTCOME_UNKNOWN)
        );
        assert_eq!(d.interrupted(2, late), None, "not that attempt");
        let sent = d
            .answered(
                &SendOutcome::Accepted {
                    provider_message_id: Some("x".into()),
                },
                0.5,
                claimed_at,
            )
            .0;
        assert_eq!(sent.interrupted(1, late), None, "answered");
        let transient = SendOutcome::Transient {
            error: err("503"),
            retry_after_millis: None,
        };
        let waiting = d.answered(&transient, 0.5, claimed_at).0;
        assert_eq!(
            waiting.interrupted(1, late),
            None,
            "answered with a transient failure: waiting for its retry, not interrupted"
        );
        let next = waiting.claim(2, late).expect("the retry claims attempt 2");
        assert_eq!(next.error, None, "a claimed attempt has no error yet");
    }

    proptest::proptest! {
        /// Whatever reports arrive, in whatever order, a message never moves
        /// back, and nothing moves it once it failed.
        #[test]
        fn reports_in_any_order_only_move_forward(reports in proptest::collection::vec(0usize..5, 0..20)) {
            let mut d = Delivery::pending(Timestamp::from_millis(0));
            for (i, r) in reports.into_iter().enumerate() {
                let next = DeliveryStatus::ALL[r];
                let before = d.status;
                if let Some(after) = d.reported(next, None, Timestamp::from_millis(i as i64)) {
                    proptest::prop_assert!(after.status.progress() > before.progress());
                    proptest::prop_assert!(before != Failed);
                    d = after;
                } else {
                    proptest::prop_assert!(!before.may_become(next));
                }
            }
        }
    }

    #[test]
    fn only_timeouts_throttling_and_server_errors_are_transient() {
        for s in [408, 429, 500, 502, 503, 599] {
            assert!(is_transient_status(s), "{s}");
        }
        for s in [400, 401, 403, 404, 410, 422] {
            assert!(!is_transient_status(s), "{s}");
        }
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
