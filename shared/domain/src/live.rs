//! Live updates: what the people looking at a workspace are told, and what
//! their screens may tell each other. One rule turns the store's change feed
//! (the table stream in AWS, the embedded store's `changes`) into the
//! messages every connection of the workspace receives; the dev server's
//! hub and the AWS fan-out only carry them.

use crate::delivery::{Delivery, DeliveryStatus};
use crate::error::DomainError;
use crate::model::{Message, TimelineEvent};
use crate::time::Timestamp;
use crate::webhooks::{StoredChange, StoredRecord};
use serde::{Deserialize, Serialize};

/// Who is typing, as others see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Typist {
    /// Member (or AI agent) id.
    pub id: String,
    /// Display name.
    pub name: String,
}

/// A message a live connection receives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum LiveMessage {
    /// One committed change of a conversation: its timeline events and the
    /// message it stored, if any.
    #[serde(rename = "conversation.changed")]
    ConversationChanged {
        /// The conversation.
        conversation_id: String,
        /// Its version after the commit.
        version: u64,
        /// The commit's timeline events, in order.
        events: Vec<TimelineEvent>,
        /// The message the commit stored.
        message: Option<Message>,
    },
    /// A stored message's delivery reached a new state.
    #[serde(rename = "message.delivery_updated")]
    DeliveryUpdated {
        /// The conversation.
        conversation_id: String,
        /// The message.
        message_id: String,
        /// Its delivery now.
        delivery: Delivery,
    },
    /// Someone else in the workspace is writing in a conversation (relayed, not stored).
    #[serde(rename = "typing")]
    Typing {
        /// The conversation.
        conversation_id: String,
        /// Who.
        member: Typist,
    },
    /// Messages were missed on this connection: refetch what is shown.
    #[serde(rename = "resync")]
    Resync,
    /// What the client sent was refused; nothing was relayed.
    #[serde(rename = "error")]
    Error {
        /// The contract's problem code.
        code: String,
        /// What is wrong, for people.
        detail: String,
    },
}

impl LiveMessage {
    /// The JSON text sent on the socket.
    pub fn to_text(&self) -> String {
        // Every field is a string, number, list or map: it always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The answer to a client message that was refused.
    pub fn refused(error: &DomainError) -> LiveMessage {
        LiveMessage::Error {
            code: error.code().to_string(),
            detail: error.to_string(),
        }
    }
}

/// One workspace's live message, made from its change feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceMessage {
    /// Whose connections receive it.
    pub workspace_id: String,
    /// What they receive.
    pub message: LiveMessage,
}

/// What a delivery state means to the people watching: `pending` is written
/// on the way (a claim, a retry's wait) and is not news. One rule with the
/// `message.delivery_updated` webhook.
pub fn delivery_is_news(delivery: &Delivery) -> bool {
    delivery.status != DeliveryStatus::Pending
}

/// The live messages a run of the change feed makes, in feed order: the
/// consecutive records of one commit (one conversation and version) become
/// one `conversation.changed`; a rewritten message whose delivery is news
/// becomes `message.delivery_updated`.
pub fn live_messages(changes: &[StoredChange]) -> Vec<WorkspaceMessage> {
    let mut out: Vec<WorkspaceMessage> = Vec::new();
    // Whether the last message pushed is the commit still being gathered.
    let mut gathering = false;
    for change in changes {
        let (event, message) = match &change.record {
            StoredRecord::TimelineAdded(e) => (Some(e), None),
            StoredRecord::MessageAdded(m) => (None, Some(m)),
            StoredRecord::MessageRewritten(m) => {
                gathering = false;
                if let Some(d) = m.delivery.as_ref().filter(|d| delivery_is_news(d)) {
                    out.push(WorkspaceMessage {
                        workspace_id: change.workspace_id.clone(),
                        message: LiveMessage::DeliveryUpdated {
                            conversation_id: change.conversation_id.clone(),
                            message_id: m.id.clone(),
                            delivery: d.clone(),
                        },
                    });
                }
                continue;
            }
        };
        let same_commit = gathering
            && out.last().is_some_and(|last| {
                last.workspace_id == change.workspace_id
                    && matches!(&last.message, LiveMessage::ConversationChanged { conversation_id, version, .. }
                        if *conversation_id == change.conversation_id && *version == change.version)
            });
        if !same_commit {
            out.push(WorkspaceMessage {
                workspace_id: change.workspace_id.clone(),
                message: LiveMessage::ConversationChanged {
                    conversation_id: change.conversation_id.clone(),
                    version: change.version,
                    events: Vec::new(),
                    message: None,
                },
            });
            gathering = true;
        }
        if let Some(LiveMessage::ConversationChanged {
            events,
            message: stored,
            ..
        }) = out.last_mut().map(|m| &mut m.message)
        {
            if let Some(e) = event {
                events.push(e.clone());
            }
            if let Some(m) = message {
                *stored = Some(m.clone());
            }
        }
    }
    out
}

/// How many of `changes` end on a whole commit, when more may follow them in
/// the feed (`more_may_follow`: the page read was full): the trailing run of
/// one commit is left for the next read, unless it is all there is.
pub fn whole_commits_len(changes: &[StoredChange], more_may_follow: bool) -> usize {
    if !more_may_follow {
        return changes.len();
    }
    let Some(last) = changes.last() else {
        return 0;
    };
    if matches!(last.record, StoredRecord::MessageRewritten(_)) {
        return changes.len();
    }
    let same_commit = |c: &StoredChange| {
        !matches!(c.record, StoredRecord::MessageRewritten(_))
            && c.workspace_id == last.workspace_id
            && c.conversation_id == last.conversation_id
            && c.version == last.version
    };
    let start = changes.len() - changes.iter().rev().take_while(|c| same_commit(c)).count();
    if start == 0 { changes.len() } else { start }
}

/// Longest conversation id a client may name.
const MAX_ID_LEN: usize = 64;

/// A message a client sends on its connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMessage {
    /// "I am writing in this conversation."
    Typing {
        /// The conversation.
        conversation_id: String,
    },
}

#[derive(Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
enum RawClientMessage {
    #[serde(rename = "typing")]
    Typing { conversation_id: String },
}

impl ClientMessage {
    /// Reads a client's text frame: `{"type": "typing", "conversation_id"}`
    /// with an id of letters, digits, `_` and `-` (at most 64).
    pub fn parse(text: &str) -> Result<ClientMessage, DomainError> {
        let raw: RawClientMessage = serde_json::from_str(text).map_err(|e| {
            DomainError::BadRequest(format!(
                "a live message is {{\"type\": \"typing\", \"conversation_id\": \"…\"}}: {e}"
            ))
        })?;
        match raw {
            RawClientMessage::Typing { conversation_id } => {
                let ok = !conversation_id.is_empty()
                    && conversation_id.len() <= MAX_ID_LEN
                    && conversation_id
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                if !ok {
                    return Err(DomainError::BadRequest(
                        "conversation_id is not a conversation id".into(),
                    ));
                }
                Ok(ClientMessage::Typing { conversation_id })
            }
        }
    }
}

/// What a client's text frame becomes for the rest of the workspace:
/// `typing` with who wrote it, or the refusal to send back to them.
pub fn relay(typist: &Typist, text: &str) -> Result<LiveMessage, DomainError> {
    match ClientMessage::parse(text)? {
        ClientMessage::Typing { conversation_id } => Ok(LiveMessage::Typing {
            conversation_id,
            member: typist.clone(),
        }),
    }
}

/// The longest an API Gateway WebSocket connection stays open (its quota:
/// two hours), after which the connection is gone whatever the credential.
pub const MAX_CONNECTION_SECONDS: i64 = 2 * 3600;

/// An open live connection as the AWS side keeps it (the dev server holds
/// its connections in process): whose changes it receives, who it is to
/// the others, and until when it may stay open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveConnection {
    /// The workspace whose changes it receives.
    pub workspace_id: String,
    /// API Gateway's connection id.
    pub connection_id: String,
    /// Who it is to others (its `typing`).
    pub typist: Typist,
    /// When it ends: its credential's expiry, or API Gateway's two hours.
    pub ends_at: Timestamp,
}

impl LiveConnection {
    /// A connection opened at `now` with a credential that expires at
    /// `credential_expires_at` (API keys: never) ends at the earlier of that
    /// and [`MAX_CONNECTION_SECONDS`] from now.
    pub fn opened(
        workspace_id: &str,
        connection_id: &str,
        typist: Typist,
        now: Timestamp,
        credential_expires_at: Option<Timestamp>,
    ) -> LiveConnection {
        let longest = now.plus_seconds(MAX_CONNECTION_SECONDS);
        LiveConnection {
            workspace_id: workspace_id.to_string(),
            connection_id: connection_id.to_string(),
            typist,
            ends_at: credential_expires_at.map_or(longest, |at| at.min(longest)),
        }
    }

    /// Whether it has ended by `now`: it is closed, not sent to.
    pub fn has_expired(&self, now: Timestamp) -> bool {
        self.ends_at <= now
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ActorRef, EventKind, Sender, SenderKind};
    use serde_json::json;

    fn event(id: &str) -> TimelineEvent {
        TimelineEvent {
            id: id.into(),
            conversation_id: String::new(),
            kind: EventKind::Unsnoozed { reason: None },
            at: Timestamp::from_millis(1),
            actor: ActorRef::system(),
        }
    }

    fn message(id: &str, delivery: Option<Delivery>) -> Message {
        Message {
            id: id.into(),
            conversation_id: "cnv_1".into(),
            sender: Sender {
                kind: SenderKind::Member,
                id: Some("bob".into()),
                name: None,
            },
            body: "hi".into(),
            created_at: Timestamp::from_millis(2),
            channel_message_id: None,
            delivery,
        }
    }

    fn change(conv: &str, version: u64, record: StoredRecord) -> StoredChange {
        StoredChange {
            workspace_id: "acme".into(),
            conversation_id: conv.into(),
            version,
            record,
        }
    }

    fn sent() -> Delivery {
        Delivery {
            status: DeliveryStatus::Sent,
            attempts: 1,
            error: None,
            updated_at: Timestamp::from_millis(3),
        }
    }

    #[test]
    fn one_commit_is_one_message_with_its_events_and_message() {
        let feed = [
            change("cnv_1", 4, StoredRecord::TimelineAdded(event("evt_1"))),
            change("cnv_1", 4, StoredRecord::TimelineAdded(event("evt_2"))),
            change(
                "cnv_1",
                4,
                StoredRecord::MessageAdded(message("msg_1", None)),
            ),
            change("cnv_1", 5, StoredRecord::TimelineAdded(event("evt_3"))),
            change("cnv_2", 5, StoredRecord::TimelineAdded(event("evt_4"))),
        ];
        let out = live_messages(&feed);
        assert_eq!(out.len(), 3);
        let v = serde_json::to_value(&out[0].message).unwrap();
        assert_eq!(v["type"], "conversation.changed");
        assert_eq!(v["conversation_id"], "cnv_1");
        assert_eq!(v["version"], 4);
        assert_eq!(v["events"][0]["id"], "evt_1");
        assert_eq!(v["events"][1]["id"], "evt_2");
        assert_eq!(v["message"]["id"], "msg_1");
        let v = serde_json::to_value(&out[1].message).unwrap();
        assert_eq!(
            (v["version"].as_u64(), v["message"].is_null()),
            (Some(5), true)
        );
        assert_eq!(
            serde_json::to_value(&out[2].message).unwrap()["conversation_id"],
            "cnv_2"
        );
    }

    #[test]
    fn a_delivery_is_news_once_it_leaves_pending() {
        let pending = Delivery::pending(Timestamp::from_millis(1));
        let feed = [
            change(
                "cnv_1",
                4,
                StoredRecord::MessageAdded(message("msg_1", Some(pending.clone()))),
            ),
            change(
                "cnv_1",
                4,
                StoredRecord::MessageRewritten(message("msg_1", Some(pending))),
            ),
            change(
                "cnv_1",
                4,
                StoredRecord::MessageRewritten(message("msg_1", Some(sent()))),
            ),
        ];
        let out = live_messages(&feed);
        assert_eq!(out.len(), 2);
        assert_eq!(
            serde_json::to_value(&out[1].message).unwrap(),
            json!({"type": "message.delivery_updated", "conversation_id": "cnv_1",
                   "message_id": "msg_1", "delivery": serde_json::to_value(sent()).unwrap()})
        );
    }

    #[test]
    fn a_delivery_update_between_records_of_one_version_splits_nothing_it_should_not() {
        // A rewrite ends the commit being gathered: what follows is another write.
        let feed = [
            change("cnv_1", 4, StoredRecord::TimelineAdded(event("evt_1"))),
            change(
                "cnv_1",
                3,
                StoredRecord::MessageRewritten(message("msg_0", Some(sent()))),
            ),
            change("cnv_1", 5, StoredRecord::TimelineAdded(event("evt_2"))),
        ];
        assert_eq!(live_messages(&feed).len(), 3);
    }

    #[test]
    fn a_full_page_leaves_its_trailing_commit_for_the_next_read() {
        let feed = [
            change("cnv_1", 4, StoredRecord::TimelineAdded(event("evt_1"))),
            change("cnv_1", 5, StoredRecord::TimelineAdded(event("evt_2"))),
            change("cnv_1", 5, StoredRecord::TimelineAdded(event("evt_3"))),
        ];
        assert_eq!(whole_commits_len(&feed, false), 3);
        assert_eq!(whole_commits_len(&feed, true), 1);
        assert_eq!(
            whole_commits_len(&feed[1..], true),
            2,
            "one commit is all there is"
        );
        assert_eq!(whole_commits_len(&[], true), 0);
    }

    #[test]
    fn client_messages_are_typing_with_a_real_id() {
        assert_eq!(
            ClientMessage::parse(r#"{"type":"typing","conversation_id":"cnv_01H"}"#).unwrap(),
            ClientMessage::Typing {
                conversation_id: "cnv_01H".into()
            }
        );
        let bob = Typist {
            id: "bob".into(),
            name: "Bob Ray".into(),
        };
        assert_eq!(
            serde_json::to_value(
                relay(&bob, r#"{"type":"typing","conversation_id":"cnv_1"}"#).unwrap()
            )
            .unwrap(),
            json!({"type": "typing", "conversation_id": "cnv_1", "member": {"id": "bob", "name": "Bob Ray"}})
        );
        for bad in [
            "",
            "typing",
            r#"{"type":"typing"}"#,
            r#"{"type":"shout","conversation_id":"cnv_1"}"#,
            r#"{"type":"typing","conversation_id":""}"#,
            r#"{"type":"typing","conversation_id":"../x"}"#,
            r#"{"type":"typing","conversation_id":"cnv_1","extra":1}"#,
        ] {
            let e = ClientMessage::parse(bad).unwrap_err();
            assert!(
                LiveMessage::refused(&e).to_text().contains("bad_request"),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_connection_ends_with_its_credential_or_after_two_hours() {
        let now = Timestamp::from_millis(1_000_000);
        let typist = Typist {
            id: "bob".into(),
            name: "Bob".into(),
        };
        let soon = now.plus_seconds(60);
        let c = LiveConnection::opened("acme", "c1", typist.clone(), now, Some(soon));
        assert_eq!(c.ends_at, soon);
        assert!(!c.has_expired(now));
        assert!(c.has_expired(soon));
        let key = LiveConnection::opened("acme", "c2", typist.clone(), now, None);
        assert_eq!(key.ends_at, now.plus_seconds(MAX_CONNECTION_SECONDS));
        let late =
            LiveConnection::opened("acme", "c3", typist, now, Some(now.plus_seconds(86_400)));
        assert_eq!(late.ends_at, now.plus_seconds(MAX_CONNECTION_SECONDS));
    }
}
