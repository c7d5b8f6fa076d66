//! A workspace with one channel of each kind on the embedded store, and helpers
//! to sign deliveries and read back what was stored.
#![allow(dead_code)]

use http::{HeaderMap, HeaderName, HeaderValue};
use inbox_channels::verify::{generic_signature, twilio_signature, whatsapp_signature};
use inbox_domain::model::{Contact, Conversation, Message, TimelineEvent};
use inbox_domain::{
    Actor, Caller, ChannelKind, Command, Ctx, ExtractiveNotes, ListQuery, Role, Settings,
    Timestamp, View, decide,
};
use inbox_ingest::{WebhookReply, ingest, public_url, put_channel};
use inbox_store::sqlite::SqliteStore;
use inbox_store::{
    Commit, ContactStore, ConversationStore, DirectoryStore, ManualClock, PageRequest, UlidIds,
};
use serde_json::json;

/// The workspace every test works in.
pub const WS: &str = "acme";
/// Every channel's secret (valid for Telegram too).
pub const SECRET: &str = "s3cret_key-1";
/// The WhatsApp channel's verify token.
pub const VERIFY_TOKEN: &str = "vt-123";
/// The configured public base URL.
pub const BASE: &str = "https://inbox.example.com/prod";
/// The clock's start, in Unix seconds.
pub const NOW: i64 = 1_750_263_800;

/// The channel of each kind.
pub fn channel_of(kind: ChannelKind) -> &'static str {
    match kind {
        ChannelKind::Twilio => "sms",
        ChannelKind::Whatsapp => "wa",
        ChannelKind::Telegram => "tg",
        ChannelKind::Generic => "web",
    }
}

/// A sample delivery from `events/channels/`.
pub fn sample(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../events/channels/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A generic delivery body.
pub fn generic_body(message_id: &str, sender: &str, text: &str) -> Vec<u8> {
    json!({"message_id": message_id, "from": {"id": sender, "name": "Grace"}, "text": text})
        .to_string()
        .into_bytes()
}

/// Header map from pairs.
pub fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

/// The embedded store, a manual clock and four configured channels.
#[derive(Clone)]
pub struct Harness {
    pub store: SqliteStore,
    pub clock: ManualClock,
}

impl Harness {
    /// The application layer over this harness's store and clock.
    pub fn app(&self) -> inbox_app::App<&SqliteStore> {
        inbox_app::App::new(&self.store).with_clock(self.clock.clone())
    }

    pub async fn new() -> Self {
        let store = SqliteStore::in_memory().unwrap();
        for kind in inbox_channels::KINDS {
            let mut body = json!({"kind": inbox_channels::kind_name(kind), "name": "Channel", "secret": SECRET});
            if kind == ChannelKind::Whatsapp {
                body["verify_token"] = json!(VERIFY_TOKEN);
            }
            put_channel(
                &store,
                Role::Admin,
                WS,
                channel_of(kind),
                body.to_string().as_bytes(),
            )
            .await
            .unwrap();
        }
        Harness {
            store,
            clock: ManualClock::new(Timestamp::from_unix_seconds(NOW)),
        }
    }

    pub fn now(&self) -> Timestamp {
        inbox_store::Clock::now(&self.clock)
    }

    /// The public URL of a channel, as Twilio would have called it.
    pub fn url(kind: ChannelKind) -> String {
        public_url(BASE, kind, WS, channel_of(kind), None)
    }

    /// Correctly signed headers for `body` on the channel of `kind`.
    pub fn signed(&self, kind: ChannelKind, body: &[u8]) -> HeaderMap {
        match kind {
            ChannelKind::Twilio => headers(&[
                ("content-type", "application/x-www-form-urlencoded"),
                (
                    "x-twilio-signature",
                    &twilio_signature(SECRET, &Self::url(kind), body),
                ),
            ]),
            ChannelKind::Whatsapp => headers(&[
                ("content-type", "application/json"),
                ("x-hub-signature-256", &whatsapp_signature(SECRET, body)),
            ]),
            ChannelKind::Telegram => headers(&[
                ("content-type", "application/json"),
                ("x-telegram-bot-api-secret-token", SECRET),
            ]),
            ChannelKind::Generic => {
                let ts = self.now().unix_seconds();
                headers(&[
                    ("content-type", "application/json"),
                    ("x-inbox-timestamp", &ts.to_string()),
                    ("x-inbox-signature", &generic_signature(SECRET, ts, body)),
                ])
            }
        }
    }

    /// Posts `body` with `headers` to the channel of `kind`.
    pub async fn post(&self, kind: ChannelKind, headers: &HeaderMap, body: &[u8]) -> WebhookReply {
        ingest(
            &self.app(),
            kind,
            WS,
            channel_of(kind),
            headers,
            body,
            &Self::url(kind),
        )
        .await
    }

    /// Posts a correctly signed `body` to the channel of `kind`.
    pub async fn deliver(&self, kind: ChannelKind, body: &[u8]) -> WebhookReply {
        let headers = self.signed(kind, body);
        self.post(kind, &headers, body).await
    }

    /// Every conversation of the workspace, newest activity first.
    pub async fn conversations(&self) -> Vec<Conversation> {
        let query = ListQuery {
            view: View::All,
            filters: Default::default(),
        };
        self.store
            .list_conversations(WS, &query, "bob", &PageRequest::first(200))
            .await
            .unwrap()
            .items
    }

    /// One conversation, fresh.
    pub async fn conversation(&self, id: &str) -> Conversation {
        self.store
            .load_context(WS, Some(id), &[])
            .await
            .unwrap()
            .conversation
            .unwrap()
    }

    pub async fn messages(&self, conversation_id: &str) -> Vec<Message> {
        self.store
            .list_messages(WS, conversation_id, &PageRequest::first(200))
            .await
            .unwrap()
            .items
    }

    pub async fn all_messages(&self) -> Vec<Message> {
        let mut all = Vec::new();
        for c in self.conversations().await {
            all.extend(self.messages(&c.id).await);
        }
        all
    }

    pub async fn timeline(&self, conversation_id: &str) -> Vec<TimelineEvent> {
        self.store
            .list_timeline(WS, conversation_id, &PageRequest::first(200))
            .await
            .unwrap()
            .items
    }

    /// Whether a contact exists for the sender. (Probes by offering a new contact:
    /// if it comes back, there was none — and now there is, so call it last.)
    pub async fn has_contact(&self, channel_id: &str, sender_id: &str) -> bool {
        let probe = Contact {
            id: "ct_probe".into(),
            name: None,
            email: None,
            phone: None,
            blocked: false,
            created_at: self.now(),
        };
        let found = self
            .store
            .contact_for_sender(WS, channel_id, sender_id, &probe)
            .await
            .unwrap();
        found.id != "ct_probe"
    }

    /// Asserts the store holds no conversation, message or contact for `sender_id`.
    pub async fn assert_nothing_written(&self, kind: ChannelKind, sender_id: &str) {
        assert!(self.conversations().await.is_empty(), "no conversation");
        assert!(self.all_messages().await.is_empty(), "no message");
        assert!(
            !self.has_contact(channel_of(kind), sender_id).await,
            "no contact"
        );
    }

    pub async fn set_settings(&self, settings: &Settings) {
        self.store.put_settings(WS, settings).await.unwrap();
    }

    /// Decides and commits a command on a conversation as `actor`.
    pub async fn act(&self, conversation_id: &str, actor: Actor, cmd: Command) -> Conversation {
        let context = self
            .store
            .load_context(WS, Some(conversation_id), &[])
            .await
            .unwrap();
        let conv = context.conversation.unwrap();
        let mut ids = UlidIds::default();
        let outcome = {
            let mut ctx = Ctx {
                now: self.now(),
                actor: &actor,
                settings: &context.settings,
                ids: &mut ids,
                notes: &ExtractiveNotes,
            };
            decide(&conv, cmd, &mut ctx).unwrap()
        };
        let conversation = outcome.conversation.clone();
        self.store
            .commit(
                Commit::new(outcome.conversation.workspace_id.clone()).with_writes(outcome.writes),
            )
            .await
            .unwrap();
        conversation
    }

    /// A member with a name.
    pub fn member(id: &str) -> Actor {
        Actor::Caller(Caller::new(id, Role::Agent, Some("Bob Ray")))
    }
}
