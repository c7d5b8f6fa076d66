//! The DynamoDB table's stream as the dev server's change feed: what
//! Lambda's stream trigger does in AWS, done by polling `GetRecords`, so
//! outgoing webhooks and live updates work on DynamoDB too. The records
//! read become changes by the same rule the AWS consumer uses
//! (`inbox_store::dynamo::stream::stored_change`); how far they have been
//! handled is kept in a checkpoint file beside the data, so a restart goes
//! on after the last acknowledged record instead of losing or repeating.

use async_trait::async_trait;
use aws_sdk_dynamodbstreams::Client;
use aws_sdk_dynamodbstreams::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodbstreams::types::{OperationType, Record, ShardIteratorType};
use inbox_domain::webhooks::StoredChange;
use inbox_store::dynamo::stream::{RecordKind, stored_change};
use inbox_store::{ChangeFeed, StoreError};
use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use tokio::sync::Mutex;

/// Records asked for per `GetRecords` (the API's maximum).
const RECORDS_PER_READ: i32 = 1000;
/// The most digits a stream sequence number has (21 to 40 in practice).
const SEQUENCE_DIGITS: usize = 40;

/// A shard being read, in the order the stream lists them.
#[derive(Debug)]
struct Shard {
    id: String,
    /// The shard it split from: it is read only once that one is done.
    parent: Option<String>,
    /// Where the next `GetRecords` reads from (fetched when absent).
    iterator: Option<String>,
    /// The last record read from it (handled or buffered).
    last_read: Option<String>,
}

#[derive(Debug, Default)]
struct State {
    shards: VecDeque<Shard>,
    /// Read and not yet acknowledged, oldest first; keys are
    /// `shard/sequence`, the sequence number zero-padded so that keys sort
    /// as the records do.
    buffer: VecDeque<(String, StoredChange)>,
    /// Per shard, the last acknowledged sequence number (the checkpoint).
    acked: BTreeMap<String, String>,
    /// Whether the stream's shards have been listed.
    listed: bool,
    /// Closed shards read to their end: never listed again.
    finished: std::collections::HashSet<String>,
}

/// The change feed of one table's stream.
pub struct TableStream {
    client: Client,
    stream_arn: String,
    checkpoint: PathBuf,
    state: Mutex<State>,
}

fn unavailable<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    doing: &str,
    e: &SdkError<E, R>,
) -> StoreError {
    let detail = e
        .as_service_error()
        .and_then(|s| s.message().map(str::to_string))
        .unwrap_or_else(|| DisplayErrorContext(e).to_string());
    StoreError::Unavailable(format!("{doing}: {detail}"))
}

impl TableStream {
    /// Follows the stream `stream_arn`, keeping its checkpoint at `checkpoint`
    /// (read now when it exists: reading goes on after it).
    pub fn new(
        client: Client,
        stream_arn: &str,
        checkpoint: PathBuf,
    ) -> Result<TableStream, std::io::Error> {
        let acked = match std::fs::read(&checkpoint) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(e),
        };
        Ok(TableStream {
            client,
            stream_arn: stream_arn.to_string(),
            checkpoint,
            state: Mutex::new(State {
                acked,
                ..State::default()
            }),
        })
    }

    /// Lists the stream's shards not yet known, in the stream's order (a
    /// shard after its parent).
    async fn list_shards(&self, state: &mut State) -> Result<(), StoreError> {
        let mut start: Option<String> = None;
        loop {
            let out = self
                .client
                .describe_stream()
                .stream_arn(&self.stream_arn)
                .set_exclusive_start_shard_id(start.clone())
                .send()
                .await
                .map_err(|e| unavailable("describing the table stream", &e))?;
            let Some(description) = out.stream_description else {
                return Ok(());
            };
            for shard in description.shards.unwrap_or_default() {
                let Some(id) = shard.shard_id else { continue };
                if !state.finished.contains(&id) && !state.shards.iter().any(|s| s.id == id) {
                    state.shards.push_back(Shard {
                        last_read: state.acked.get(&id).cloned(),
                        parent: shard.parent_shard_id,
                        id,
                        iterator: None,
                    });
                }
            }
            match description.last_evaluated_shard_id {
                Some(next) => start = Some(next),
                None => break,
            }
        }
        state.listed = true;
        Ok(())
    }

    /// An iterator after the last record read from `shard`, or from its start.
    async fn iterator(&self, shard: &Shard) -> Result<Option<String>, StoreError> {
        let mut req = self
            .client
            .get_shard_iterator()
            .stream_arn(&self.stream_arn)
            .shard_id(&shard.id);
        req = match &shard.last_read {
            Some(seq) => req
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .sequence_number(seq),
            None => req.shard_iterator_type(ShardIteratorType::TrimHorizon),
        };
        let out = req
            .send()
            .await
            .map_err(|e| unavailable("opening a table stream shard", &e))?;
        Ok(out.shard_iterator)
    }

    /// Reads each shard whose parent is done once, in the stream's order (a
    /// conversation's records are all in one shard, so its order holds);
    /// whether anything more may be read now.
    async fn read_pass(&self, state: &mut State) -> Result<bool, StoreError> {
        let mut more = false;
        let mut closed = Vec::new();
        for i in 0..state.shards.len() {
            let ready = state.shards[i].parent.as_ref().is_none_or(|p| {
                state.finished.contains(p) || !state.shards.iter().any(|s| &s.id == p)
            });
            if !ready {
                continue;
            }
            match self.read_shard(state, i).await? {
                Read::Records => more = true,
                Read::Nothing => {}
                Read::Closed => closed.push(state.shards[i].id.clone()),
            }
        }
        if !closed.is_empty() {
            // Their children are next: list the stream again.
            state.shards.retain(|s| !closed.contains(&s.id));
            state.finished.extend(closed);
            self.list_shards(state).await?;
            more = true;
        }
        Ok(more)
    }

    /// One `GetRecords` on shard `i`, its changes buffered.
    async fn read_shard(&self, state: &mut State, i: usize) -> Result<Read, StoreError> {
        if state.shards[i].iterator.is_none() {
            let it = self.iterator(&state.shards[i]).await?;
            state.shards[i].iterator = it;
        }
        let Some(iterator) = state.shards[i].iterator.clone() else {
            return Ok(Read::Closed);
        };
        let out = match self
            .client
            .get_records()
            .shard_iterator(iterator)
            .limit(RECORDS_PER_READ)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_expired_iterator_exception()) =>
            {
                // Iterators last minutes: open a new one after what was read.
                state.shards[i].iterator = None;
                return Ok(Read::Records);
            }
            Err(e) => return Err(unavailable("reading the table stream", &e)),
        };
        let records = out.records.unwrap_or_default();
        let got = !records.is_empty();
        for record in records {
            let Some(seq) = record
                .dynamodb
                .as_ref()
                .and_then(|d| d.sequence_number.clone())
            else {
                continue;
            };
            let id = state.shards[i].id.clone();
            state.shards[i].last_read = Some(seq.clone());
            match change_of(record) {
                Some(Ok(change)) => state
                    .buffer
                    .push_back((format!("{id}/{seq:0>SEQUENCE_DIGITS$}"), change)),
                Some(Err(e)) => {
                    tracing::error!(sequence = %seq, error = %e, "a table stream record is not a readable change; skipped");
                }
                None => {}
            }
        }
        state.shards[i].iterator = out.next_shard_iterator;
        Ok(match (state.shards[i].iterator.is_none(), got) {
            (true, _) => Read::Closed,
            (false, true) => Read::Records,
            (false, false) => Read::Nothing,
        })
    }

    fn save(&self, acked: &BTreeMap<String, String>) -> Result<(), StoreError> {
        let write = || -> std::io::Result<()> {
            if let Some(dir) = self
                .checkpoint
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
            {
                std::fs::create_dir_all(dir)?;
            }
            let tmp = self.checkpoint.with_extension("tmp");
            std::fs::write(&tmp, serde_json::to_vec(acked).unwrap_or_default())?;
            std::fs::rename(&tmp, &self.checkpoint)
        };
        write().map_err(|e| {
            StoreError::Unavailable(format!("saving the table stream checkpoint: {e}"))
        })
    }
}

/// What one read of a shard found.
enum Read {
    /// Records (more may follow at once).
    Records,
    /// None for now.
    Nothing,
    /// The shard closed and was read to its end.
    Closed,
}

/// The change a stream record reports, if it is one.
fn change_of(record: Record) -> Option<Result<StoredChange, StoreError>> {
    let kind = match record.event_name? {
        OperationType::Insert => RecordKind::Insert,
        OperationType::Modify => RecordKind::Modify,
        _ => RecordKind::Remove,
    };
    let image = record.dynamodb?.new_image?;
    stored_change(kind, serde_dynamo::Item::from(image))
}

#[async_trait]
impl ChangeFeed for TableStream {
    async fn pending_changes(
        &self,
        limit: usize,
    ) -> Result<Vec<(String, StoredChange)>, StoreError> {
        let mut state = self.state.lock().await;
        if !state.listed {
            self.list_shards(&mut state).await?;
        }
        while state.buffer.len() < limit && self.read_pass(&mut state).await? {}
        Ok(state.buffer.iter().take(limit).cloned().collect())
    }

    async fn ack_changes(&self, keys: &[String]) -> Result<(), StoreError> {
        let mut state = self.state.lock().await;
        for key in keys {
            let Some(at) = state.buffer.iter().position(|(k, _)| k == key) else {
                continue;
            };
            state.buffer.remove(at);
            if let Some((shard, padded)) = key.split_once('/') {
                let seq = padded.trim_start_matches('0');
                let seq = if seq.is_empty() { "0" } else { seq };
                state.acked.insert(shard.to_string(), seq.to_string());
            }
        }
        self.save(&state.acked)
    }
}
