//! The single table, defined once: key schema, key formats, secondary indexes,
//! TTL and stream. Tests, the dev server and the IaC checks all build the
//! table from [`create_table_input`].

use crate::port::StoreError;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::create_table::CreateTableInput;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType, TableStatus,
    TimeToLiveSpecification,
};
use aws_smithy_types::error::operation::BuildError;
use inbox_domain::Timestamp;
use std::time::Duration;

/// The table's partition key attribute.
pub const PK: &str = "pk";
/// The table's sort key attribute.
pub const SK: &str = "sk";
/// The TTL attribute (epoch seconds): dedupe keys and stream-only outbox items expire.
pub const TTL_ATTRIBUTE: &str = "expires_at";
/// What kind of record an item is (`conversation`, `message`, …), for people reading the table.
pub const ENTITY_ATTRIBUTE: &str = "entity";
/// Shards of the timer index: due timers spread over this many partitions.
/// Changing it re-keys every armed timer: treat it as part of the schema.
pub const TIMER_SHARDS: u32 = 16;
/// Shards of the outbox index.
pub const OUTBOX_SHARDS: u32 = 4;

/// What a secondary index copies from the base item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexProjection {
    /// Every attribute (list pages need whole conversations).
    All,
    /// Keys plus these attributes.
    Include(&'static [&'static str]),
}

/// One global secondary index: its name and its (string) key attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexDef {
    /// The index name.
    pub name: &'static str,
    /// Its partition key attribute.
    pub pk: &'static str,
    /// Its sort key attribute.
    pub sk: &'static str,
    /// What it projects.
    pub projection: IndexProjection,
}

/// Sort key of every view index: `<last_activity_at>#<conversation id>`.
pub const ACTIVITY_SK: &str = "activity_sk";

/// View `all`: every conversation of a workspace (`WS#<ws>#VIEW#ALL`).
pub const BY_ACTIVITY: IndexDef = IndexDef {
    name: "by_activity",
    pk: "all_pk",
    sk: ACTIVITY_SK,
    projection: IndexProjection::All,
};
/// Views `unresolved` / `resolved`: `WS#<ws>#VIEW#OPEN` (not closed) or `WS#<ws>#VIEW#CLOSED`.
pub const BY_STATE: IndexDef = IndexDef {
    name: "by_state",
    pk: "state_pk",
    sk: ACTIVITY_SK,
    projection: IndexProjection::All,
};
/// View `assigned_to_me`: `WS#<ws>#VIEW#ASSIGNEE#<member>`, any status; absent when unassigned.
pub const BY_ASSIGNEE: IndexDef = IndexDef {
    name: "by_assignee",
    pk: "assignee_pk",
    sk: ACTIVITY_SK,
    projection: IndexProjection::All,
};
/// Views `mine` and `unassigned` (they never overlap): `WS#<ws>#VIEW#MINE#<member>`
/// or `WS#<ws>#VIEW#UNASSIGNED`; absent when closed.
pub const BY_QUEUE: IndexDef = IndexDef {
    name: "by_queue",
    pk: "queue_pk",
    sk: ACTIVITY_SK,
    projection: IndexProjection::All,
};
/// View `pending_human`: `WS#<ws>#VIEW#PENDING_HUMAN`, present only while waiting and not closed.
pub const BY_PENDING: IndexDef = IndexDef {
    name: "by_pending",
    pk: "pending_pk",
    sk: ACTIVITY_SK,
    projection: IndexProjection::All,
};
/// View `has_lead`: `WS#<ws>#VIEW#HAS_LEAD`, present only when the contact has an email or phone.
pub const BY_LEAD: IndexDef = IndexDef {
    name: "by_lead",
    pk: "lead_pk",
    sk: ACTIVITY_SK,
    projection: IndexProjection::All,
};
/// A contact's conversations: `WS#<ws>#CONTACT#<id>#CONVS`, sorted `<created_at>#<conversation id>`.
pub const BY_CONTACT: IndexDef = IndexDef {
    name: "by_contact",
    pk: "contact_pk",
    sk: "created_sk",
    projection: IndexProjection::All,
};
/// Armed auto-close timers (sparse, sharded): `TIMER#<shard>`, sorted `<due_at>#<ws>#<conversation id>`.
pub const TIMERS: IndexDef = IndexDef {
    name: "timers",
    pk: "timer_pk",
    sk: "timer_sk",
    projection: IndexProjection::Include(&["workspace_id", "id", "timer_generation"]),
};
/// Unpublished outgoing events (sparse, sharded): `OUTBOX#<shard>`, sorted by a commit sequence.
pub const OUTBOX: IndexDef = IndexDef {
    name: "outbox",
    pk: "outbox_pk",
    sk: "outbox_sk",
    projection: IndexProjection::All,
};

/// Every secondary index of the table.
pub const INDEXES: [IndexDef; 9] = [
    BY_ACTIVITY,
    BY_STATE,
    BY_ASSIGNEE,
    BY_QUEUE,
    BY_PENDING,
    BY_LEAD,
    BY_CONTACT,
    TIMERS,
    OUTBOX,
];

/// Key formats. Every partition key starts with the workspace, except the
/// cross-workspace timer and outbox shards.
pub mod keys {
    use inbox_domain::Timestamp;

    /// Sort key of a conversation item.
    pub const CONVERSATION_SK: &str = "CONV";
    /// Sort key prefix of messages.
    pub const MESSAGE_PREFIX: &str = "MSG#";
    /// Sort key prefix of timeline events.
    pub const EVENT_PREFIX: &str = "EVT#";
    /// Sort key prefix of outbox events.
    pub const OUTBOX_PREFIX: &str = "OUT#";
    /// Sort key of the settings item.
    pub const SETTINGS_SK: &str = "SETTINGS";
    /// Sort key prefix of members and AI agents (one id space).
    pub const PERSON_PREFIX: &str = "PERSON#";
    /// Sort key prefix of teams.
    pub const TEAM_PREFIX: &str = "TEAM#";
    /// Sort key prefix of channels.
    pub const CHANNEL_PREFIX: &str = "CHANNEL#";
    /// Sort key prefix of jobs (in the directory partition, read by key only).
    pub const JOB_PREFIX: &str = "JOB#";
    /// Sort key of a contact item.
    pub const CONTACT_SK: &str = "CONTACT";
    /// Sort key prefix of contact notes.
    pub const NOTE_PREFIX: &str = "NOTE#";
    /// Sort key of a sender identity item.
    pub const SENDER_SK: &str = "SENDER";
    /// Sort key of a dedupe item.
    pub const DEDUPE_SK: &str = "DEDUP";
    /// Sort key of a provider message id pointer.
    pub const CHANNEL_MESSAGE_SK: &str = "CHMSG";
    /// Partition prefix of API key items (`APIKEY#<id>`), the only items the authorizer reads.
    pub const API_KEY_PREFIX: &str = "APIKEY#";
    /// Sort key of an API key item.
    pub const API_KEY_SK: &str = "APIKEY";
    /// Sort key prefix of outgoing-webhook endpoints (in the directory partition).
    pub const WEBHOOK_PREFIX: &str = "HOOK#";
    /// Sort key prefix of webhook deliveries.
    pub const WEBHOOK_DELIVERY_PREFIX: &str = "DLV#";
    /// The partition key prefix of live connections.
    pub const LIVE_PREFIX: &str = "LIVE#";
    /// A live connection's sort key prefix.
    pub const CONNECTION_PREFIX: &str = "CONN#";
    /// Sort key of the report aggregator's facts of a conversation (in its partition).
    pub const REPORT_FACTS_SK: &str = "REPORT";
    /// Sort key prefix of a workspace's report counter items
    /// (`DAY#<dimension>#<yyyy-mm-dd>#<key>`).
    pub const REPORT_DAY_PREFIX: &str = "DAY#";

    /// `WS#<ws>#HOOK#<endpoint>`: an endpoint's deliveries.
    pub fn webhook_deliveries_pk(ws: &str, endpoint: &str) -> String {
        format!("WS#{ws}#HOOK#{endpoint}")
    }
    /// `DLV#<created_at>#<event id>`: deliveries by commit time (listed newest first).
    pub fn webhook_delivery_sk(created_at: Timestamp, event_id: &str) -> String {
        format!(
            "{WEBHOOK_DELIVERY_PREFIX}{}#{event_id}",
            created_at.to_rfc3339()
        )
    }

    /// `WS#<ws>#CONV#<id>`: the conversation, its messages, timeline and outbox.
    pub fn conversation_pk(ws: &str, id: &str) -> String {
        format!("WS#{ws}#CONV#{id}")
    }
    /// The workspace and conversation a [`conversation_pk`] names.
    pub fn parse_conversation_pk(pk: &str) -> Option<(&str, &str)> {
        let rest = pk.strip_prefix("WS#")?;
        let (ws, id) = rest.split_once("#CONV#")?;
        (!ws.is_empty() && !id.is_empty() && !ws.contains('#') && !id.contains('#'))
            .then_some((ws, id))
    }
    /// `<prefix><version, 20 digits>#<position, 4 digits>`: commit order.
    pub fn ordered_sk(prefix: &str, version: u64, position: usize) -> String {
        format!("{prefix}{version:020}#{position:04}")
    }
    /// The version an [`ordered_sk`] names, whatever its prefix.
    pub fn version_of_ordered_sk(sk: &str) -> Option<u64> {
        let (_, rest) = sk.split_once('#')?;
        let (version, _) = rest.split_once('#')?;
        version.parse().ok()
    }
    /// `LIVE#<ws>`: a workspace's open live connections (`CONN#<id>`). Its
    /// own prefix, so that IAM can confine a function to these items.
    pub fn live_pk(ws: &str) -> String {
        format!("{LIVE_PREFIX}{ws}")
    }
    /// `WS#<ws>#REPORT`: the workspace's report counters, an item per
    /// dimension, day and key, so a report is one `Query` of a sort key range.
    pub fn report_pk(ws: &str) -> String {
        format!("WS#{ws}#REPORT")
    }
    /// `WS#<ws>#DIR`: settings, members, AI agents, teams, channels.
    pub fn directory_pk(ws: &str) -> String {
        format!("WS#{ws}#DIR")
    }
    /// `APIKEY#<id>`: an API key, found by the id its secret names.
    pub fn api_key_pk(id: &str) -> String {
        format!("{API_KEY_PREFIX}{id}")
    }
    /// `WS#<ws>#CONTACT#<id>`: the contact and its notes.
    pub fn contact_pk(ws: &str, id: &str) -> String {
        format!("WS#{ws}#CONTACT#{id}")
    }
    /// `NOTE#<created_at>#<id>`: notes oldest first.
    pub fn note_sk(created_at: Timestamp, id: &str) -> String {
        format!("{NOTE_PREFIX}{}#{id}", created_at.to_rfc3339())
    }
    /// `WS#<ws>#SENDER#<channel>#<sender>`: which contact a channel's sender is.
    pub fn sender_pk(ws: &str, channel: &str, sender: &str) -> String {
        format!("WS#{ws}#SENDER#{channel}#{sender}")
    }
    /// `WS#<ws>#DEDUP#<channel>#<message id>`: a delivery already stored.
    pub fn dedupe_pk(ws: &str, channel: &str, message_id: &str) -> String {
        format!("WS#{ws}#DEDUP#{channel}#{message_id}")
    }
    /// `WS#<ws>#CHMSG#<channel>#<provider message id>`: the outgoing message a
    /// provider id names on a channel, for delivery statuses.
    pub fn channel_message_pk(ws: &str, channel: &str, provider_message_id: &str) -> String {
        format!("WS#{ws}#CHMSG#{channel}#{provider_message_id}")
    }
    /// `WS#<ws>#VIEW#<name>`: a view index partition.
    pub fn view_pk(ws: &str, partition: ViewPartition<'_>) -> String {
        format!("WS#{ws}#VIEW#{}", partition.name())
    }

    /// The view index partitions: the one place their names are spelled,
    /// used both to write a conversation's index keys and to read a view.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum ViewPartition<'a> {
        /// Every conversation (`by_activity`).
        All,
        /// Not closed (`by_state`).
        Open,
        /// Closed (`by_state`).
        Closed,
        /// Not closed, assigned to this member (`by_queue`).
        Mine(&'a str),
        /// Not closed, nobody assigned (`by_queue`).
        Unassigned,
        /// Assigned to this member, any status (`by_assignee`).
        Assignee(&'a str),
        /// Waiting for a human, not closed (`by_pending`).
        PendingHuman,
        /// The contact left a lead (`by_lead`).
        HasLead,
    }

    impl ViewPartition<'_> {
        /// The partition's name in the key.
        pub fn name(self) -> String {
            match self {
                ViewPartition::All => "ALL".into(),
                ViewPartition::Open => "OPEN".into(),
                ViewPartition::Closed => "CLOSED".into(),
                ViewPartition::Mine(m) => format!("MINE#{m}"),
                ViewPartition::Unassigned => "UNASSIGNED".into(),
                ViewPartition::Assignee(m) => format!("ASSIGNEE#{m}"),
                ViewPartition::PendingHuman => "PENDING_HUMAN".into(),
                ViewPartition::HasLead => "HAS_LEAD".into(),
            }
        }
    }
    /// `WS#<ws>#CONTACT#<id>#CONVS`: the contact's conversations on `by_contact`.
    pub fn contact_conversations_pk(ws: &str, contact_id: &str) -> String {
        format!("WS#{ws}#CONTACT#{contact_id}#CONVS")
    }
    /// `<time>#<id>`: newest-first lists read this descending. RFC 3339 with
    /// fixed millisecond digits sorts as text in the same order as in time.
    pub fn time_sk(at: Timestamp, id: &str) -> String {
        format!("{}#{id}", at.to_rfc3339())
    }
    /// `TIMER#<shard>`.
    pub fn timer_pk(shard: u32) -> String {
        format!("TIMER#{shard}")
    }
    /// `<due_at>#<ws>#<conversation id>`.
    pub fn timer_sk(due_at: Timestamp, ws: &str, id: &str) -> String {
        format!("{}#{ws}#{id}", due_at.to_rfc3339())
    }
    /// `OUTBOX#<shard>`.
    pub fn outbox_pk(shard: u32) -> String {
        format!("OUTBOX#{shard}")
    }

    /// A stable shard in `0..shards` (FNV-1a of the id), so a conversation
    /// always lands on the same shard.
    pub fn shard_of(id: &str, shards: u32) -> u32 {
        let h = fnv1a(id.as_bytes());
        u32::try_from(h % u64::from(shards.max(1))).unwrap_or(0)
    }

    /// FNV-1a, 64 bit: stable across builds, unlike the std hasher.
    pub fn fnv1a(bytes: &[u8]) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h
    }
}

fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement, BuildError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
}

fn string_attribute(name: &str) -> Result<AttributeDefinition, BuildError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
}

/// The `CreateTable` request for the table: keys, every index, on-demand
/// billing and a `NEW_IMAGE` stream (TTL is set separately, see [`TTL_ATTRIBUTE`]).
pub fn create_table_input(table_name: &str) -> Result<CreateTableInput, BuildError> {
    let mut attributes = vec![PK, SK];
    for index in INDEXES {
        for a in [index.pk, index.sk] {
            if !attributes.contains(&a) {
                attributes.push(a);
            }
        }
    }
    let mut builder = CreateTableInput::builder()
        .table_name(table_name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(PK, KeyType::Hash)?)
        .key_schema(key(SK, KeyType::Range)?)
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewImage)
                .build()?,
        );
    for a in attributes {
        builder = builder.attribute_definitions(string_attribute(a)?);
    }
    for index in INDEXES {
        let projection = match index.projection {
            IndexProjection::All => Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
            IndexProjection::Include(extra) => Projection::builder()
                .projection_type(ProjectionType::Include)
                .set_non_key_attributes(Some(extra.iter().map(|s| s.to_string()).collect()))
                .build(),
        };
        builder = builder.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(index.name)
                .key_schema(key(index.pk, KeyType::Hash)?)
                .key_schema(key(index.sk, KeyType::Range)?)
                .projection(projection)
                .build()?,
        );
    }
    builder.build()
}

/// Creates the table (and turns TTL on) unless it exists; waits until it is
/// active. Returns whether it was created.
pub async fn create_table_if_missing(
    client: &Client,
    table_name: &str,
) -> Result<bool, StoreError> {
    let input = create_table_input(table_name)
        .map_err(|e| StoreError::Unavailable(format!("table definition: {e}")))?;
    create_table_from_if_missing(client, input).await
}

/// [`create_table_if_missing`] with the definition given (a benchmark's
/// variant of [`create_table_input`]).
pub(crate) async fn create_table_from_if_missing(
    client: &Client,
    input: CreateTableInput,
) -> Result<bool, StoreError> {
    let table_name = input.table_name.clone().unwrap_or_default();
    let table_name = table_name.as_str();
    match client.describe_table().table_name(table_name).send().await {
        Ok(_) => return Ok(false),
        Err(e) => {
            let missing = e
                .as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception());
            if !missing {
                return Err(super::error::unavailable(e));
            }
        }
    }
    let created = client
        .create_table()
        .set_table_name(input.table_name)
        .set_key_schema(input.key_schema)
        .set_attribute_definitions(input.attribute_definitions)
        .set_global_secondary_indexes(input.global_secondary_indexes)
        .set_billing_mode(input.billing_mode)
        .set_stream_specification(input.stream_specification)
        .send()
        .await;
    if let Err(e) = created {
        // Another process created it between our describe and create.
        let in_use = e
            .as_service_error()
            .is_some_and(|s| s.is_resource_in_use_exception());
        if !in_use {
            return Err(super::error::unavailable(e));
        }
    }
    wait_until_active(client, table_name).await?;
    let ttl = TimeToLiveSpecification::builder()
        .enabled(true)
        .attribute_name(TTL_ATTRIBUTE)
        .build()
        .map_err(|e| StoreError::Unavailable(format!("ttl definition: {e}")))?;
    client
        .update_time_to_live()
        .table_name(table_name)
        .time_to_live_specification(ttl)
        .send()
        .await
        .map_err(super::error::unavailable)?;
    Ok(true)
}

async fn wait_until_active(client: &Client, table_name: &str) -> Result<(), StoreError> {
    // On AWS a new table with indexes takes seconds to minutes; moto is immediate.
    for _ in 0..600 {
        let out = client
            .describe_table()
            .table_name(table_name)
            .send()
            .await
            .map_err(super::error::unavailable)?;
        let table = out.table();
        let table_active = table.and_then(|t| t.table_status()) == Some(&TableStatus::Active);
        let indexes_active = table.is_some_and(|t| {
            t.global_secondary_indexes().iter().all(|g| {
                g.index_status()
                    .is_none_or(|s| *s == aws_sdk_dynamodb::types::IndexStatus::Active)
            })
        });
        if table_active && indexes_active {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Err(StoreError::Unavailable(format!(
        "table {table_name} did not become active"
    )))
}

/// The TTL value for an item that may expire at `at` (epoch seconds).
pub fn ttl_seconds(at: Timestamp) -> i64 {
    at.unix_seconds()
}
