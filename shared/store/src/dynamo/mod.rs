//! The DynamoDB single-table adapter.
//!
//! One table ([`table`]) holds every record, keyed by workspace. A command is
//! one `BatchGetItem` ([`DynamoStore::load_context`]) and one
//! `TransactWriteItems` (`commit`); a list page is one `Query` on the index
//! keyed for its view; due timers come from a sparse, sharded index. See
//! `docs/storage.md` for the key schema and the access patterns.

mod api_keys;
mod contacts;
mod conversations;
mod cursor;
mod directory;
mod error;
mod items;
mod live;
pub mod metrics;
mod outbox;
mod reports;
pub mod stream;
pub mod table;
pub mod testing;
mod transaction;
mod views;
mod webhooks;

pub use items::{
    Item, MAX_ITEM_BYTES, MAX_TRANSACTION_BYTES, MAX_TRANSACTION_ITEMS, conversation_item,
};
pub use metrics::OperationCounter;
pub use table::{create_table_if_missing, create_table_input};

use crate::port::StoreError;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A client from the environment's AWS configuration, at `endpoint` when
/// given (moto, DynamoDB Local), counting operations when a counter is given.
pub async fn connect(endpoint: Option<&str>, counter: Option<OperationCounter>) -> Client {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(url) = endpoint {
        loader = loader.endpoint_url(url);
    }
    let shared = loader.load().await;
    let mut config = aws_sdk_dynamodb::config::Builder::from(&shared);
    if let Some(c) = counter {
        config = config.interceptor(c);
    }
    Client::from_conf(config.build())
}

/// How outgoing events leave the table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OutboxMode {
    /// Outbox items sit on the sparse `outbox` index until `ack_events`
    /// deletes them: a process that drains [`crate::port::Outbox`] publishes
    /// them (the dev server on DynamoDB).
    #[default]
    Indexed,
    /// The table's stream publishes them (AWS): outbox items stay off the
    /// index, expire by TTL after [`STREAM_OUTBOX_TTL_SECONDS`], and
    /// `pending_events` is always empty.
    StreamOnly,
}

/// How long a stream-published outbox item is kept (7 days).
pub const STREAM_OUTBOX_TTL_SECONDS: i64 = 7 * 24 * 3600;

/// The store on one DynamoDB table.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    outbox: OutboxMode,
    // Orders outbox items of this process (monotonic within a millisecond).
    sequence: Arc<Mutex<ulid::Generator>>,
}

impl std::fmt::Debug for DynamoStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamoStore")
            .field("table", &self.table)
            .field("outbox", &self.outbox)
            .finish()
    }
}

impl DynamoStore {
    /// A store on `table` (which must exist: see [`create_table_if_missing`]).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore {
            client,
            table: table.into(),
            outbox: OutboxMode::default(),
            sequence: Arc::new(Mutex::new(ulid::Generator::new())),
        }
    }

    /// The same store with another outbox mode.
    pub fn with_outbox_mode(mut self, mode: OutboxMode) -> Self {
        self.outbox = mode;
        self
    }

    /// The table name.
    pub fn table_name(&self) -> &str {
        &self.table
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The next outbox sequence value (a ULID: time-ordered across processes).
    fn next_sequence(&self) -> String {
        let id = match self.sequence.lock() {
            Ok(mut g) => g.generate().unwrap_or_else(|_| ulid::Ulid::new()),
            Err(_) => ulid::Ulid::new(),
        };
        id.to_string()
    }

    /// One unconditional `PutItem` (the item replaces whatever had its key).
    async fn put_item(&self, item: Item) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(error::unavailable)?;
        Ok(())
    }

    /// One `GetItem`, strongly consistent.
    async fn get_item(&self, key: Item) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(error::unavailable)?;
        Ok(out.item)
    }

    /// Every item of partition `pk` (under a sort key prefix, if given), in
    /// sort key order, one `Query` a page.
    async fn partition_items(
        &self,
        pk: String,
        sk_prefix: Option<&str>,
    ) -> Result<Vec<Item>, StoreError> {
        let mut spec = QuerySpec::partition(pk, sk_prefix);
        spec.forward = true;
        let mut out = Vec::new();
        loop {
            let (items, last) = self
                .query(QuerySpec {
                    key_condition: spec.key_condition.clone(),
                    names: spec.names.clone(),
                    values: spec.values.clone(),
                    forward: true,
                    start: spec.start.take(),
                    ..QuerySpec::default()
                })
                .await?;
            out.extend(items);
            match last {
                Some(k) => spec.start = Some(k),
                None => return Ok(out),
            }
        }
    }

    /// One `Query` page.
    async fn query(&self, q: QuerySpec) -> Result<(Vec<Item>, Option<Item>), StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(q.index.map(str::to_string))
            .key_condition_expression(q.key_condition)
            .set_expression_attribute_names(Some(q.names))
            .set_expression_attribute_values(Some(q.values))
            .set_filter_expression(q.filter)
            .scan_index_forward(q.forward)
            .set_limit(q.limit.map(|l| i32::try_from(l).unwrap_or(i32::MAX)))
            .set_exclusive_start_key(q.start)
            // Indexes only read eventually consistent.
            .set_consistent_read((q.index.is_none() && !q.eventually_consistent).then_some(true))
            .send()
            .await
            .map_err(error::unavailable)?;
        let last = out.last_evaluated_key.filter(|k| !k.is_empty());
        Ok((out.items.unwrap_or_default(), last))
    }
}

/// One `Query` request.
#[derive(Debug, Default)]
struct QuerySpec {
    index: Option<&'static str>,
    key_condition: String,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
    filter: Option<String>,
    forward: bool,
    limit: Option<usize>,
    start: Option<Item>,
    /// Read the table eventually consistent (half the price) where a
    /// fraction of a second's lag does not matter.
    eventually_consistent: bool,
}

impl QuerySpec {
    /// All items of partition `pk` (optionally under a sort key prefix) on the table.
    fn partition(pk: String, sk_prefix: Option<&str>) -> QuerySpec {
        let mut names = HashMap::from([("#pk".to_string(), table::PK.to_string())]);
        let mut values = HashMap::from([(":pk".to_string(), items::s(pk))]);
        let key_condition = match sk_prefix {
            Some(prefix) => {
                names.insert("#sk".into(), table::SK.into());
                values.insert(":prefix".into(), items::s(prefix));
                "#pk = :pk AND begins_with(#sk, :prefix)".to_string()
            }
            None => "#pk = :pk".to_string(),
        };
        QuerySpec {
            key_condition,
            names,
            values,
            forward: true,
            ..QuerySpec::default()
        }
    }

    /// Partition `value` of index `index`.
    fn index(index: &table::IndexDef, value: String) -> QuerySpec {
        QuerySpec {
            index: Some(index.name),
            key_condition: "#ipk = :ipk".into(),
            names: HashMap::from([("#ipk".to_string(), index.pk.to_string())]),
            values: HashMap::from([(":ipk".to_string(), items::s(value))]),
            forward: true,
            ..QuerySpec::default()
        }
    }
}
