//! Outgoing webhooks: the rules of what an endpoint may be (its URL, the
//! events it subscribes to), which events it receives, when a failed delivery
//! is tried again, and when a failing endpoint is turned off. Signing, HTTP
//! and randomness are the adapters'.

use crate::error::{DomainError, FieldError};
use crate::ids::is_valid_external_id;
use crate::model::EventKind;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The prefix of a signing secret (Standard Webhooks: `whsec_` + base64 of the key).
pub const SECRET_PREFIX: &str = "whsec_";

/// The delivery type of every message, whoever sent it.
pub const MESSAGE_CREATED: &str = "message.created";
/// The delivery type of a message's delivery state changing (queued → sent → delivered, failed).
pub const MESSAGE_DELIVERY_UPDATED: &str = "message.delivery_updated";

/// Every event type an endpoint can receive: the two message types and
/// `conversation.<type>` for every timeline type.
pub fn event_types() -> Vec<String> {
    let mut all = vec![
        MESSAGE_CREATED.to_string(),
        MESSAGE_DELIVERY_UPDATED.to_string(),
    ];
    all.extend(
        EventKind::TYPE_NAMES
            .iter()
            .map(|t| format!("conversation.{t}")),
    );
    all
}

/// The delivery type of a timeline event (`conversation.assigned`, …).
pub fn timeline_event_type(kind: &EventKind) -> String {
    format!("conversation.{}", kind.type_name())
}

/// One entry of an endpoint's `events`: a type, a family (`conversation.*`,
/// `message.*`), or everything (`*`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct EventFilter(String);

impl EventFilter {
    /// A filter as written in `PUT /outgoing-webhooks/{id}`, if it names
    /// something that exists.
    pub fn parse(s: &str) -> Option<EventFilter> {
        let known = s == "*"
            || s == "message.*"
            || s == "conversation.*"
            || event_types().iter().any(|t| t == s);
        known.then(|| EventFilter(s.to_string()))
    }

    /// Whether an event of `event_type` passes.
    pub fn matches(&self, event_type: &str) -> bool {
        match self.0.strip_suffix('*') {
            Some(prefix) => event_type.starts_with(prefix),
            None => self.0 == event_type,
        }
    }

    /// As written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<EventFilter> for String {
    fn from(f: EventFilter) -> String {
        f.0
    }
}

impl TryFrom<String> for EventFilter {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        EventFilter::parse(&s).ok_or_else(|| format!("unknown event type {s}"))
    }
}

/// One event as integrations receive it: its id is the `webhook-id` of every
/// attempt, its body `{"type", "timestamp", "data": {"workspace_id",
/// "conversation_id", …the event or message…}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEvent {
    /// `evt_…` for a timeline event, `msg_…` for a new message, and
    /// `<msg id>.<attempt>.<status>` for a delivery update (unique per state
    /// reached, so a receiver deduplicating by id never drops a real change).
    pub id: String,
    /// `conversation.<timeline type>`, `message.created`, `message.delivery_updated`.
    pub event_type: String,
    /// The workspace.
    pub workspace_id: String,
    /// The conversation.
    pub conversation_id: String,
    /// When it happened.
    pub timestamp: Timestamp,
    /// The event or the message, with `workspace_id` and `conversation_id`.
    pub data: serde_json::Map<String, serde_json::Value>,
}

impl WebhookEvent {
    fn with_data(
        id: String,
        event_type: String,
        workspace_id: &str,
        conversation_id: &str,
        timestamp: Timestamp,
        payload: serde_json::Value,
    ) -> WebhookEvent {
        let mut data = serde_json::Map::new();
        data.insert("workspace_id".into(), workspace_id.into());
        data.insert("conversation_id".into(), conversation_id.into());
        if let serde_json::Value::Object(fields) = payload {
            data.extend(fields);
        }
        WebhookEvent {
            id,
            event_type,
            workspace_id: workspace_id.to_string(),
            conversation_id: conversation_id.to_string(),
            timestamp,
            data,
        }
    }

    /// `conversation.<type>` for a committed timeline event.
    pub fn of_timeline(workspace_id: &str, event: &crate::model::TimelineEvent) -> WebhookEvent {
        WebhookEvent::with_data(
            event.id.clone(),
            timeline_event_type(&event.kind),
            workspace_id,
            &event.conversation_id,
            event.at,
            serde_json::to_value(event).unwrap_or_default(),
        )
    }

    /// `message.created` for a committed message (any sender).
    pub fn of_new_message(workspace_id: &str, message: &crate::model::Message) -> WebhookEvent {
        WebhookEvent::with_data(
            message.id.clone(),
            MESSAGE_CREATED.to_string(),
            workspace_id,
            &message.conversation_id,
            message.created_at,
            serde_json::json!({ "message": message }),
        )
    }

    /// `message.delivery_updated` for a message whose delivery reached a
    /// state worth telling (`{"message_id", "delivery"}`, as live updates
    /// say it): not `pending`, which a claim or a retry writes on the way.
    pub fn of_delivery_update(
        workspace_id: &str,
        message: &crate::model::Message,
    ) -> Option<WebhookEvent> {
        let d = message.delivery.as_ref()?;
        if !crate::live::delivery_is_news(d) {
            return None;
        }
        Some(WebhookEvent::with_data(
            format!("{}.{}.{}", message.id, d.attempts, d.status.as_str()),
            MESSAGE_DELIVERY_UPDATED.to_string(),
            workspace_id,
            &message.conversation_id,
            d.updated_at,
            serde_json::json!({ "message_id": message.id, "delivery": d }),
        ))
    }

    /// What integrations hear of a record the store wrote, if anything:
    /// every timeline event, every new message, and a rewritten message's
    /// delivery once it reached a new state. One rule for the table's
    /// stream (AWS) and the embedded store's change feed.
    pub fn of_stored(change: &StoredChange) -> Option<WebhookEvent> {
        let ws = change.workspace_id.as_str();
        match &change.record {
            StoredRecord::TimelineAdded(event) => {
                let mut event = event.clone();
                // Stored without it (it is the key's): put back for the body.
                event.conversation_id.clone_from(&change.conversation_id);
                Some(WebhookEvent::of_timeline(ws, &event))
            }
            StoredRecord::MessageAdded(message) => Some(WebhookEvent::of_new_message(ws, message)),
            StoredRecord::MessageRewritten(message) => {
                WebhookEvent::of_delivery_update(ws, message)
            }
        }
    }

    /// The body every attempt posts.
    pub fn body(&self) -> String {
        serde_json::json!({
            "type": self.event_type,
            "timestamp": self.timestamp,
            "data": self.data,
        })
        .to_string()
    }
}

/// A record the store wrote, as its change feed reports it: the table's
/// stream on DynamoDB, triggers on the embedded store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredChange {
    /// The workspace.
    pub workspace_id: String,
    /// The conversation the record belongs to.
    pub conversation_id: String,
    /// The conversation's version after the write that added the record
    /// (a rewritten message: the one that first stored it).
    #[serde(default)]
    pub version: u64,
    /// What was written.
    pub record: StoredRecord,
}

/// What a stored change wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoredRecord {
    /// A commit stored a timeline event.
    TimelineAdded(crate::model::TimelineEvent),
    /// A commit stored a message.
    MessageAdded(crate::model::Message),
    /// A stored message was rewritten: a sender step, a status report, a retry.
    MessageRewritten(crate::model::Message),
}

/// Where the endpoint's URL may point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlPolicy {
    /// AWS: `https` only, and never to a private, loopback, link-local,
    /// metadata or other non-public address (no request forgery into the VPC).
    PublicOnly,
    /// The dev server: also `http` to loopback (local receivers).
    AllowLoopback,
}

/// The longest URL kept.
pub const MAX_URL_BYTES: usize = 2048;

/// Whether `ip` is one a webhook must never reach: anything but a public
/// unicast address (loopback, private, link-local with the cloud metadata
/// address, carrier-grade NAT, unspecified, broadcast, multicast,
/// documentation, benchmarking, unique-local and IPv4-mapped forms of these).
pub fn is_forbidden_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => forbidden_v4(v4),
            None => forbidden_v6(v6),
        },
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local() // 169.254.0.0/16, with 169.254.169.254
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // 100.64.0.0/10, carrier-grade NAT
        || (a == 192 && b == 0 && c == 0) // 192.0.0.0/24, protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // 198.18.0.0/15, benchmarking
        || a >= 240 // 240.0.0.0/4, reserved
}

fn forbidden_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // fc00::/7, unique local (fd00:ec2::254 is EC2's metadata)
        || (first & 0xffc0) == 0xfe80 // fe80::/10, link local
        || first == 0x2001 && ip.segments()[1] == 0x0db8 // documentation
        || first == 0x0064 && ip.segments()[1] == 0xff9b // NAT64 of any IPv4
}

/// A validated endpoint URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    /// Checks a URL under `policy`: absolute, no credentials or fragment,
    /// `https` (or `http` to loopback where allowed), and, where only public
    /// addresses are allowed, a host that is not a literal non-public address
    /// or a name of this machine. Names are resolved and checked again at
    /// every delivery (an address can change after the check).
    pub fn parse(s: &str, policy: UrlPolicy) -> Result<WebhookUrl, DomainError> {
        let invalid = |why: &str| DomainError::InvalidUrl(why.to_string());
        if s.len() > MAX_URL_BYTES {
            return Err(invalid("the URL is too long"));
        }
        let url = url::Url::parse(s).map_err(|_| invalid("not an absolute URL"))?;
        if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
            return Err(invalid("the URL must not carry credentials or a fragment"));
        }
        let host = url.host().ok_or_else(|| invalid("the URL has no host"))?;
        let literal = match &host {
            url::Host::Ipv4(ip) => Some(IpAddr::V4(*ip)),
            url::Host::Ipv6(ip) => Some(IpAddr::V6(*ip)),
            url::Host::Domain(_) => None,
        };
        let local_name = match &host {
            url::Host::Domain(d) => {
                let d = d.trim_end_matches('.').to_ascii_lowercase();
                d == "localhost" || d.ends_with(".localhost")
            }
            _ => false,
        };
        let loopback = local_name || literal.is_some_and(|ip| ip.is_loopback());
        match (url.scheme(), policy) {
            ("https", _) => {}
            ("http", UrlPolicy::AllowLoopback) if loopback => {}
            ("http", UrlPolicy::AllowLoopback) => {
                return Err(invalid("must be https (http only to localhost)"));
            }
            _ => return Err(invalid("must be https")),
        }
        if policy == UrlPolicy::PublicOnly
            && (local_name || literal.is_some_and(is_forbidden_address))
        {
            return Err(invalid(
                "must not point at a private, loopback, link-local or metadata address",
            ));
        }
        Ok(WebhookUrl(url.to_string()))
    }

    /// As stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A subscription of the workspace to its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEndpoint {
    /// Chosen by the admin (`[a-z0-9][a-z0-9_-]{0,63}`).
    pub id: String,
    /// The workspace.
    pub workspace_id: String,
    /// Where events are POSTed.
    pub url: String,
    /// What it receives.
    pub events: Vec<EventFilter>,
    /// Whether deliveries are made.
    pub enabled: bool,
    /// Why the inbox turned it off (`failing`), when it did.
    pub disabled_reason: Option<DisabledReason>,
    /// `whsec_…`: the signing secret. Never shown but when made or rotated.
    pub secret: String,
    /// Since when every delivery has failed (none succeeded since), if so.
    pub failing_since: Option<Timestamp>,
    /// When it was made.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// Why an endpoint was turned off by the inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisabledReason {
    /// Every delivery failed for [`DISABLE_AFTER_FAILING_SECONDS`].
    Failing,
}

impl WebhookEndpoint {
    /// Whether it receives events of `event_type`.
    pub fn wants(&self, event_type: &str) -> bool {
        self.enabled && self.events.iter().any(|f| f.matches(event_type))
    }
}

/// A validated `PUT /outgoing-webhooks/{id}` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointDraft {
    /// The URL.
    pub url: WebhookUrl,
    /// Its filters, without repeats, in the order given.
    pub events: Vec<EventFilter>,
    /// Whether it is on.
    pub enabled: bool,
}

fn field(name: &str, message: &str) -> DomainError {
    DomainError::Validation {
        message: format!("{name} {message}"),
        errors: vec![FieldError::new(name, message)],
    }
}

/// The most filters an endpoint has.
pub const MAX_FILTERS: usize = 64;

impl EndpointDraft {
    /// Checks a body: an id of the external-id shape, a URL under `policy`,
    /// at least one known event filter, and `enabled` (default true).
    pub fn parse(
        id: &str,
        url: &str,
        events: &[String],
        enabled: Option<bool>,
        policy: UrlPolicy,
    ) -> Result<EndpointDraft, DomainError> {
        if !is_valid_external_id(id) {
            return Err(field("id", "must match [a-z0-9][a-z0-9_-]{0,63}"));
        }
        let url = WebhookUrl::parse(url, policy)?;
        if events.is_empty() || events.len() > MAX_FILTERS {
            return Err(field("events", "must list 1 to 64 event types"));
        }
        let mut filters: Vec<EventFilter> = Vec::new();
        for e in events {
            let f = EventFilter::parse(e).ok_or_else(|| {
                field(
                    "events",
                    &format!("{e} is not an event type (message.created, conversation.assigned, conversation.*, …)"),
                )
            })?;
            if !filters.contains(&f) {
                filters.push(f);
            }
        }
        Ok(EndpointDraft {
            url,
            events: filters,
            enabled: enabled.unwrap_or(true),
        })
    }

    /// The endpoint after this `PUT`: a new one with `secret`, or `existing`
    /// changed. Turning an endpoint on again clears why it was off and its
    /// failing streak.
    pub fn apply(
        self,
        workspace_id: &str,
        id: &str,
        existing: Option<WebhookEndpoint>,
        secret: impl FnOnce() -> String,
        now: Timestamp,
    ) -> WebhookEndpoint {
        match existing {
            Some(mut e) => {
                let reenabled = self.enabled && !e.enabled;
                e.url = self.url.0;
                e.events = self.events;
                e.enabled = self.enabled;
                if reenabled {
                    e.disabled_reason = None;
                    e.failing_since = None;
                }
                e.updated_at = now;
                e
            }
            None => WebhookEndpoint {
                id: id.to_string(),
                workspace_id: workspace_id.to_string(),
                url: self.url.0,
                events: self.events,
                enabled: self.enabled,
                disabled_reason: None,
                secret: secret(),
                failing_since: None,
                created_at: now,
                updated_at: now,
            },
        }
    }
}

/// The waits before the 2nd … 8th attempt: about 5 s, 5 min, 30 min, 2 h,
/// 5 h, 10 h, 10 h. After the 8th attempt fails the delivery is `failed`.
pub const RETRY_DELAYS_SECONDS: [i64; 7] = [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000];

/// The waits between attempts: the contract's [`RETRY_DELAYS_SECONDS`],
/// or those divided by a speed-up (the dev server's, for tests and demos
/// of retries: the attempts and their order are unchanged).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySchedule {
    speedup: u32,
}

impl RetrySchedule {
    /// The contract's schedule.
    pub const CONTRACT: RetrySchedule = RetrySchedule { speedup: 1 };

    /// Every wait divided by `speedup` (at least 1).
    pub fn sped_up(speedup: u32) -> RetrySchedule {
        RetrySchedule {
            speedup: speedup.max(1),
        }
    }

    /// The wait after the `attempts`-th attempt failed, if another is made.
    pub fn wait_millis(self, attempts: u32) -> Option<i64> {
        let secs = RETRY_DELAYS_SECONDS.get((attempts as usize).saturating_sub(1))?;
        Some(secs * 1000 / i64::from(self.speedup))
    }
}

impl Default for RetrySchedule {
    fn default() -> Self {
        RetrySchedule::CONTRACT
    }
}

/// How long a response may take (any 2xx within it is success).
pub const RESPONSE_TIMEOUT_SECONDS: u64 = 10;

/// How early an attempt may run.
pub const DUE_TOLERANCE_MILLIS: i64 = 1_000;

/// How long a claimed attempt is held (longer than the connect and response timeouts).
pub const ATTEMPT_LEASE_SECONDS: i64 = 60;

/// An endpoint whose deliveries have all failed for this long is turned off.
pub const DISABLE_AFTER_FAILING_SECONDS: i64 = 5 * 24 * 3600;

/// Where a delivery is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Answered 2xx.
    Succeeded,
    /// Not yet, or failed and will be tried again at `next_attempt_at`.
    Retrying,
    /// Every attempt failed, or the endpoint was turned off: dropped (recorded).
    Failed,
}

/// One event's delivery to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    /// The endpoint.
    pub endpoint_id: String,
    /// The event's id: the `webhook-id` of every attempt.
    pub event_id: String,
    /// Its type.
    pub event_type: String,
    /// The conversation it belongs to (deliveries of one conversation go in order).
    pub conversation_id: String,
    /// Where it is.
    pub status: DeliveryState,
    /// Attempts made.
    pub attempts: u32,
    /// The HTTP status of the last answer, if there was one.
    pub last_response_status: Option<u16>,
    /// When the next attempt is due, while `retrying`.
    pub next_attempt_at: Option<Timestamp>,
    /// When the event was committed.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// What an attempt got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// A 2xx.
    Accepted(u16),
    /// Another status.
    Refused(u16),
    /// No answer in time, or no connection (refused, DNS, TLS, a forbidden address).
    NoAnswer,
}

/// What to do after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AfterAttempt {
    /// The delivery as it now stands.
    pub delivery: WebhookDelivery,
    /// The endpoint's failing streak start after it (`None`: it answered).
    pub failing_since: Option<Timestamp>,
    /// Whether the endpoint is now to be turned off.
    pub disable: bool,
}

impl WebhookDelivery {
    /// A delivery not yet attempted.
    pub fn new(
        endpoint_id: &str,
        event_id: &str,
        event_type: &str,
        conversation_id: &str,
        now: Timestamp,
    ) -> WebhookDelivery {
        WebhookDelivery {
            endpoint_id: endpoint_id.to_string(),
            event_id: event_id.to_string(),
            event_type: event_type.to_string(),
            conversation_id: conversation_id.to_string(),
            status: DeliveryState::Retrying,
            attempts: 0,
            last_response_status: None,
            next_attempt_at: Some(now),
            created_at: now,
            updated_at: now,
        }
    }

    /// Whether no attempt has been made yet (a republished event's task is
    /// queued again only then: its first queue message may have been lost).
    pub fn never_attempted(&self) -> bool {
        self.status == DeliveryState::Retrying && self.attempts == 0
    }

    /// How long until the next attempt is due, if it is not due at `now`
    /// (within [`DUE_TOLERANCE_MILLIS`]: a queue's delay and our clock may
    /// differ a little). A finished delivery is never due.
    pub fn not_due_for(&self, now: Timestamp) -> Option<i64> {
        let due = self.next_attempt_at?;
        let wait = due.as_millis() - now.as_millis();
        (wait > DUE_TOLERANCE_MILLIS).then_some(wait)
    }

    /// The delivery as an attempt starts: counted, and held for
    /// [`ATTEMPT_LEASE_SECONDS`] (a worker that dies mid-attempt leaves it due
    /// again then). Saved only if the stored one still has the attempts read.
    pub fn claim(&self, now: Timestamp) -> WebhookDelivery {
        WebhookDelivery {
            attempts: self.attempts + 1,
            next_attempt_at: Some(now.plus_seconds(ATTEMPT_LEASE_SECONDS)),
            updated_at: now,
            ..self.clone()
        }
    }

    /// Records the outcome of the attempt [`claim`](Self::claim) counted: succeeded, due again after the next
    /// wait of `schedule`, or failed after the last; and what
    /// it means for the endpoint (`failing_since`: when its streak of
    /// failures began). An endpoint failing for
    /// [`DISABLE_AFTER_FAILING_SECONDS`] is turned off, and this delivery
    /// with it.
    pub fn after_attempt(
        &self,
        schedule: RetrySchedule,
        outcome: AttemptOutcome,
        failing_since: Option<Timestamp>,
        now: Timestamp,
    ) -> AfterAttempt {
        let mut d = self.clone();
        d.updated_at = now;
        d.last_response_status = match outcome {
            AttemptOutcome::Accepted(s) | AttemptOutcome::Refused(s) => Some(s),
            AttemptOutcome::NoAnswer => None,
        };
        if let AttemptOutcome::Accepted(_) = outcome {
            d.status = DeliveryState::Succeeded;
            d.next_attempt_at = None;
            return AfterAttempt {
                delivery: d,
                failing_since: None,
                disable: false,
            };
        }
        let since = failing_since.unwrap_or(now);
        let disable = now.unix_seconds() - since.unix_seconds() >= DISABLE_AFTER_FAILING_SECONDS;
        match schedule.wait_millis(d.attempts) {
            Some(wait) if !disable => {
                d.status = DeliveryState::Retrying;
                d.next_attempt_at = Some(Timestamp::from_millis(now.as_millis() + wait));
            }
            _ => {
                d.status = DeliveryState::Failed;
                d.next_attempt_at = None;
            }
        }
        AfterAttempt {
            delivery: d,
            failing_since: Some(since),
            disable,
        }
    }

    /// The delivery dropped without an attempt (its endpoint is off or gone).
    pub fn dropped(&self, now: Timestamp) -> WebhookDelivery {
        WebhookDelivery {
            status: DeliveryState::Failed,
            next_attempt_at: None,
            updated_at: now,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_unix_seconds(secs)
    }

    #[test]
    fn events_carry_their_conversation_and_a_stable_id() {
        use crate::model::{ActorRef, EventKind, TimelineEvent};
        let e = TimelineEvent {
            id: "evt_1".into(),
            conversation_id: "cnv_1".into(),
            kind: EventKind::Assigned {
                from: None,
                to: "bob".into(),
                reason: None,
            },
            at: t(5),
            actor: ActorRef::system(),
        };
        let w = WebhookEvent::of_timeline("acme", &e);
        assert_eq!(
            (w.id.as_str(), w.event_type.as_str()),
            ("evt_1", "conversation.assigned")
        );
        let body: serde_json::Value = serde_json::from_str(&w.body()).unwrap();
        assert_eq!(body["type"], "conversation.assigned");
        assert_eq!(body["timestamp"], serde_json::json!(t(5)));
        assert_eq!(body["data"]["workspace_id"], "acme");
        assert_eq!(body["data"]["conversation_id"], "cnv_1");
        assert_eq!(body["data"]["id"], "evt_1");
        assert_eq!(body["data"]["data"]["to"], "bob");
        assert_eq!(
            w.body(),
            WebhookEvent::of_timeline("acme", &e).body(),
            "the same bytes every time"
        );
    }

    #[test]
    fn stored_changes_become_events_once_per_state_reached() {
        use crate::delivery::{Delivery, DeliveryStatus};
        use crate::model::{Message, Sender, SenderKind};
        let mut m = Message {
            id: "msg_1".into(),
            conversation_id: "cnv_1".into(),
            sender: Sender {
                kind: SenderKind::Member,
                id: Some("bob".into()),
                name: None,
            },
            body: "hi".into(),
            created_at: t(5),
            channel_message_id: None,
            delivery: Some(Delivery::pending(t(5))),
        };
        let change = |record| StoredChange {
            workspace_id: "acme".into(),
            conversation_id: "cnv_1".into(),
            version: 1,
            record,
        };
        let created = WebhookEvent::of_stored(&change(StoredRecord::MessageAdded(m.clone())))
            .expect("every new message is an event");
        assert_eq!(
            (created.id.as_str(), created.event_type.as_str()),
            ("msg_1", MESSAGE_CREATED)
        );
        // A claim rewrites the message but leaves it pending: not news.
        m.delivery = Some(Delivery {
            attempts: 1,
            ..Delivery::pending(t(6))
        });
        assert_eq!(
            WebhookEvent::of_stored(&change(StoredRecord::MessageRewritten(m.clone()))),
            None
        );
        m.delivery = Some(Delivery {
            status: DeliveryStatus::Sent,
            attempts: 1,
            error: None,
            updated_at: t(7),
        });
        let sent = WebhookEvent::of_stored(&change(StoredRecord::MessageRewritten(m.clone())))
            .expect("sent is news");
        assert_eq!(sent.id, "msg_1.1.sent");
        assert_eq!(sent.event_type, MESSAGE_DELIVERY_UPDATED);
        let body: serde_json::Value = serde_json::from_str(&sent.body()).unwrap();
        assert_eq!(body["data"]["message_id"], "msg_1");
        assert_eq!(body["data"]["delivery"]["status"], "sent");
        assert_eq!(body["data"]["conversation_id"], "cnv_1");
        // Messages without a delivery (inbound, notes) change only by being added.
        m.delivery = None;
        assert_eq!(
            WebhookEvent::of_stored(&change(StoredRecord::MessageRewritten(m))),
            None
        );
    }

    #[test]
    fn a_stored_timeline_event_gets_its_conversation_back() {
        use crate::model::{ActorRef, EventKind, TimelineEvent};
        let stored = TimelineEvent {
            id: "evt_1".into(),
            conversation_id: String::new(),
            kind: EventKind::Snoozed { until: t(60) },
            at: t(5),
            actor: ActorRef::system(),
        };
        let w = WebhookEvent::of_stored(&StoredChange {
            workspace_id: "acme".into(),
            conversation_id: "cnv_9".into(),
            version: 2,
            record: StoredRecord::TimelineAdded(stored),
        })
        .unwrap();
        assert_eq!(w.conversation_id, "cnv_9");
        assert_eq!(w.event_type, "conversation.snoozed");
        assert_eq!(w.data["conversation_id"], "cnv_9");
    }

    #[test]
    fn filters_name_real_types_and_families() {
        for ok in [
            "*",
            "message.*",
            "conversation.*",
            "message.created",
            "conversation.assigned",
            "conversation.taken_over",
            "conversation.status_changed",
        ] {
            assert!(EventFilter::parse(ok).is_some(), "{ok}");
        }
        for bad in [
            "",
            "message",
            "conversation.nope",
            "conv*",
            "message.created ",
            "ai.reply_requested",
            "*.created",
        ] {
            assert!(EventFilter::parse(bad).is_none(), "{bad:?}");
        }
        let all = EventFilter::parse("conversation.*").unwrap();
        assert!(all.matches("conversation.assigned"));
        assert!(!all.matches(MESSAGE_CREATED));
        let one = EventFilter::parse("message.created").unwrap();
        assert!(one.matches(MESSAGE_CREATED) && !one.matches(MESSAGE_DELIVERY_UPDATED));
        assert!(
            EventFilter::parse("*")
                .unwrap()
                .matches("conversation.note_added")
        );
        assert_eq!(event_types().len(), 2 + EventKind::TYPE_NAMES.len());
    }

    #[test]
    fn urls_are_https_and_public_in_aws() {
        use UrlPolicy::*;
        assert!(WebhookUrl::parse("https://hooks.example.com/inbox", PublicOnly).is_ok());
        assert!(WebhookUrl::parse("https://93.184.216.34/x", PublicOnly).is_ok());
        for bad in [
            "http://hooks.example.com/inbox",
            "http://169.254.169.254/",
            "https://169.254.169.254/latest/meta-data",
            "https://127.0.0.1/",
            "https://localhost/",
            "https://api.localhost./",
            "https://10.0.0.8/",
            "https://172.16.3.4/",
            "https://192.168.1.1/",
            "https://100.64.0.1/",
            "https://0.0.0.0/",
            "https://[::1]/",
            "https://[fd00:ec2::254]/",
            "https://[fe80::1]/",
            "https://[::ffff:10.0.0.1]/",
            "https://[::ffff:169.254.169.254]/",
            "https://user:pw@hooks.example.com/",
            "https://hooks.example.com/#frag",
            "ftp://hooks.example.com/",
            "hooks.example.com",
            "",
        ] {
            let err = WebhookUrl::parse(bad, PublicOnly).unwrap_err();
            assert_eq!(err.code(), "invalid_url", "{bad}");
        }
        // The dev server also takes http to loopback, and loopback https.
        assert!(WebhookUrl::parse("http://127.0.0.1:9000/hook", AllowLoopback).is_ok());
        assert!(WebhookUrl::parse("http://localhost:9000/hook", AllowLoopback).is_ok());
        assert!(WebhookUrl::parse("https://127.0.0.1/", AllowLoopback).is_ok());
        assert!(WebhookUrl::parse("http://hooks.example.com/", AllowLoopback).is_err());
        assert!(WebhookUrl::parse("http://10.0.0.8/", AllowLoopback).is_err());
    }

    #[test]
    fn a_draft_needs_an_id_a_url_and_known_events() {
        let ok = EndpointDraft::parse(
            "crm",
            "https://crm.example/hook",
            &[
                "message.created".into(),
                "conversation.*".into(),
                "message.created".into(),
            ],
            None,
            UrlPolicy::PublicOnly,
        )
        .unwrap();
        assert_eq!(ok.events.len(), 2, "repeats dropped");
        assert!(ok.enabled);
        let bad_id = EndpointDraft::parse(
            "CRM!",
            "https://crm.example",
            &["*".into()],
            None,
            UrlPolicy::PublicOnly,
        );
        assert_eq!(bad_id.unwrap_err().code(), "validation_failed");
        let no_events = EndpointDraft::parse(
            "crm",
            "https://crm.example",
            &[],
            None,
            UrlPolicy::PublicOnly,
        );
        assert_eq!(no_events.unwrap_err().code(), "validation_failed");
        let unknown = EndpointDraft::parse(
            "crm",
            "https://crm.example",
            &["message.read".into()],
            None,
            UrlPolicy::PublicOnly,
        );
        assert_eq!(unknown.unwrap_err().code(), "validation_failed");
    }

    #[test]
    fn turning_an_endpoint_on_again_clears_its_streak() {
        let draft = |enabled| {
            EndpointDraft::parse(
                "crm",
                "https://crm.example/h",
                &["*".into()],
                Some(enabled),
                UrlPolicy::PublicOnly,
            )
            .unwrap()
        };
        let made = draft(true).apply("acme", "crm", None, || "whsec_x".into(), t(10));
        assert_eq!((made.secret.as_str(), made.created_at), ("whsec_x", t(10)));
        let mut off = made.clone();
        off.enabled = false;
        off.disabled_reason = Some(DisabledReason::Failing);
        off.failing_since = Some(t(1));
        let on = draft(true).apply("acme", "crm", Some(off.clone()), || unreachable!(), t(20));
        assert_eq!(
            (on.enabled, on.disabled_reason, on.failing_since),
            (true, None, None)
        );
        assert_eq!(on.secret, "whsec_x", "a PUT keeps the secret");
        let still_off = draft(false).apply("acme", "crm", Some(off), || unreachable!(), t(20));
        assert_eq!(still_off.disabled_reason, Some(DisabledReason::Failing));
    }

    #[test]
    fn retries_follow_the_schedule_then_fail() {
        let mut d = WebhookDelivery::new("crm", "evt_1", "conversation.assigned", "cnv_1", t(0));
        let mut now = 0;
        let mut since = None;
        for (i, wait) in RETRY_DELAYS_SECONDS.iter().enumerate() {
            let claimed = d.claim(t(now));
            assert_eq!(
                claimed.next_attempt_at,
                Some(t(now + ATTEMPT_LEASE_SECONDS))
            );
            let after = claimed.after_attempt(
                RetrySchedule::CONTRACT,
                AttemptOutcome::Refused(500),
                since,
                t(now),
            );
            assert_eq!(after.delivery.attempts, i as u32 + 1);
            assert_eq!(after.delivery.status, DeliveryState::Retrying);
            assert_eq!(after.delivery.next_attempt_at, Some(t(now + wait)));
            assert_eq!(after.failing_since, Some(t(0)));
            assert!(!after.disable);
            since = after.failing_since;
            now += wait;
            d = after.delivery;
        }
        let last = d.claim(t(now)).after_attempt(
            RetrySchedule::CONTRACT,
            AttemptOutcome::NoAnswer,
            since,
            t(now),
        );
        assert_eq!(last.delivery.status, DeliveryState::Failed);
        assert_eq!(last.delivery.attempts, 8);
        assert_eq!(last.delivery.last_response_status, None);
        assert!(!last.disable, "about 28 hours is not 5 days");
    }

    #[test]
    fn a_delivery_is_due_at_its_next_attempt_and_never_once_finished() {
        let d = WebhookDelivery::new("crm", "evt_1", MESSAGE_CREATED, "cnv_1", t(0));
        assert!(d.never_attempted());
        assert_eq!(d.not_due_for(t(0)), None, "a new delivery is due at once");
        let claimed = d.claim(t(0));
        assert!(!claimed.never_attempted());
        assert_eq!(
            claimed.not_due_for(t(1)),
            Some((ATTEMPT_LEASE_SECONDS - 1) * 1000)
        );
        let retry = claimed
            .after_attempt(
                RetrySchedule::CONTRACT,
                AttemptOutcome::Refused(500),
                None,
                t(0),
            )
            .delivery;
        assert_eq!(retry.not_due_for(t(4)), None, "within the tolerance");
        assert_eq!(retry.not_due_for(t(3)), Some(2_000));
        let done = retry
            .claim(t(5))
            .after_attempt(
                RetrySchedule::CONTRACT,
                AttemptOutcome::Accepted(200),
                None,
                t(5),
            )
            .delivery;
        assert_eq!(done.not_due_for(t(0)), None);
    }

    #[test]
    fn a_success_ends_the_streak_and_five_days_of_failure_turn_the_endpoint_off() {
        let d = WebhookDelivery::new("crm", "evt_1", MESSAGE_CREATED, "cnv_1", t(0));
        let ok = d.after_attempt(
            RetrySchedule::CONTRACT,
            AttemptOutcome::Accepted(204),
            Some(t(0)),
            t(100),
        );
        assert_eq!(ok.delivery.status, DeliveryState::Succeeded);
        assert_eq!((ok.failing_since, ok.disable), (None, false));
        let day5 = DISABLE_AFTER_FAILING_SECONDS;
        let almost = d.after_attempt(
            RetrySchedule::CONTRACT,
            AttemptOutcome::Refused(503),
            Some(t(0)),
            t(day5 - 1),
        );
        assert!(!almost.disable);
        assert_eq!(almost.delivery.status, DeliveryState::Retrying);
        let off = d.after_attempt(
            RetrySchedule::CONTRACT,
            AttemptOutcome::Refused(503),
            Some(t(0)),
            t(day5),
        );
        assert!(off.disable);
        assert_eq!(off.delivery.status, DeliveryState::Failed);
        assert_eq!(d.dropped(t(5)).status, DeliveryState::Failed);
    }
}
