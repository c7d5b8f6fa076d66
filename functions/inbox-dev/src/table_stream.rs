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

/// A shard as the stream lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardInfo {
    /// Its id.
    pub id: String,
    /// The shard it split from.
    pub parent: Option<String>,
}

/// One record read: its sequence number, and the change it is, if any.
pub type StreamRecord = (String, Option<Result<StoredChange, StoreError>>);

/// A `GetRecords` answer.
#[derive(Debug, Default)]
pub struct RecordsPage {
    /// The records, in order.
    pub records: Vec<StreamRecord>,
    /// Where to read next; none once a closed shard is read to its end.
    pub next: Option<String>,
}

/// Why a read failed.
#[derive(Debug)]
pub enum ReadError {
    /// The iterator is too old (they last minutes): open another one.
    Expired,
    /// Anything else.
    Failed(StoreError),
}

/// The three calls of the DynamoDB Streams API the feed makes (the SDK's
/// client in the server, a scripted one in the shard tests).
#[async_trait]
pub trait StreamApi: Send + Sync {
    /// Every shard of the stream, in the stream's order.
    async fn shards(&self, stream_arn: &str) -> Result<Vec<ShardInfo>, StoreError>;
    /// An iterator after sequence `after`, or at the shard's oldest record.
    async fn iterator(
        &self,
        stream_arn: &str,
        shard_id: &str,
        after: Option<&str>,
    ) -> Result<Option<String>, StoreError>;
    /// Up to [`RECORDS_PER_READ`] records from `iterator`.
    async fn records(&self, iterator: &str) -> Result<RecordsPage, ReadError>;
}

/// The change feed of one table's stream.
pub struct TableStream<A = Client> {
    api: A,
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

impl TableStream<Client> {
    /// Follows the stream `stream_arn` with the SDK's client, keeping its
    /// checkpoint at `checkpoint` (read now when it exists: reading goes on after it).
    pub fn new(
        client: Client,
        stream_arn: &str,
        checkpoint: PathBuf,
    ) -> Result<TableStream<Client>, std::io::Error> {
        TableStream::with_api(client, stream_arn, checkpoint)
    }
}

impl<A: StreamApi> TableStream<A> {
    /// Follows the stream through `api`.
    pub fn with_api(
        api: A,
        stream_arn: &str,
        checkpoint: PathBuf,
    ) -> Result<TableStream<A>, std::io::Error> {
        let acked = match std::fs::read(&checkpoint) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(e),
        };
        Ok(TableStream {
            api,
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
        for shard in self.api.shards(&self.stream_arn).await? {
            if !state.finished.contains(&shard.id) && !state.shards.iter().any(|s| s.id == shard.id)
            {
                state.shards.push_back(Shard {
                    last_read: state.acked.get(&shard.id).cloned(),
                    parent: shard.parent,
                    id: shard.id,
                    iterator: None,
                });
            }
        }
        state.listed = true;
        Ok(())
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
            let shard = &state.shards[i];
            let it = self
                .api
                .iterator(&self.stream_arn, &shard.id, shard.last_read.as_deref())
                .await?;
            state.shards[i].iterator = it;
        }
        let Some(iterator) = state.shards[i].iterator.clone() else {
            return Ok(Read::Closed);
        };
        let page = match self.api.records(&iterator).await {
            Ok(page) => page,
            Err(ReadError::Expired) => {
                // Iterators last minutes: open a new one after what was read.
                state.shards[i].iterator = None;
                return Ok(Read::Records);
            }
            Err(ReadError::Failed(e)) => return Err(e),
        };
        let got = !page.records.is_empty();
        for (seq, change) in page.records {
            let id = state.shards[i].id.clone();
            state.shards[i].last_read = Some(seq.clone());
            match change {
                Some(Ok(change)) => state
                    .buffer
                    .push_back((format!("{id}/{seq:0>SEQUENCE_DIGITS$}"), change)),
                Some(Err(e)) => {
                    tracing::error!(sequence = %seq, error = %e, "a table stream record is not a readable change; skipped");
                }
                None => {}
            }
        }
        state.shards[i].iterator = page.next;
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
impl StreamApi for Client {
    async fn shards(&self, stream_arn: &str) -> Result<Vec<ShardInfo>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<String> = None;
        loop {
            let page = self
                .describe_stream()
                .stream_arn(stream_arn)
                .set_exclusive_start_shard_id(start.clone())
                .send()
                .await
                .map_err(|e| unavailable("describing the table stream", &e))?;
            let Some(description) = page.stream_description else {
                return Ok(out);
            };
            out.extend(
                description
                    .shards
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|s| {
                        Some(ShardInfo {
                            id: s.shard_id?,
                            parent: s.parent_shard_id,
                        })
                    }),
            );
            match description.last_evaluated_shard_id {
                Some(next) => start = Some(next),
                None => return Ok(out),
            }
        }
    }

    async fn iterator(
        &self,
        stream_arn: &str,
        shard_id: &str,
        after: Option<&str>,
    ) -> Result<Option<String>, StoreError> {
        let req = self
            .get_shard_iterator()
            .stream_arn(stream_arn)
            .shard_id(shard_id);
        let req = match after {
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

    async fn records(&self, iterator: &str) -> Result<RecordsPage, ReadError> {
        let out = match self
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
                return Err(ReadError::Expired);
            }
            Err(e) => {
                return Err(ReadError::Failed(unavailable(
                    "reading the table stream",
                    &e,
                )));
            }
        };
        let records = out
            .records
            .unwrap_or_default()
            .into_iter()
            .filter_map(|r| {
                let seq = r.dynamodb.as_ref()?.sequence_number.clone()?;
                Some((seq, change_of(r)))
            })
            .collect();
        Ok(RecordsPage {
            records,
            next: out.next_shard_iterator,
        })
    }
}

#[async_trait]
impl<A: StreamApi> ChangeFeed for TableStream<A> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use inbox_domain::Timestamp;
    use inbox_domain::model::{ActorRef, EventKind, TimelineEvent};
    use inbox_domain::webhooks::StoredRecord;
    use std::sync::Mutex as StdMutex;

    fn change(conv: &str, version: u64) -> StoredChange {
        StoredChange {
            workspace_id: "acme".into(),
            conversation_id: conv.into(),
            version,
            record: StoredRecord::TimelineAdded(TimelineEvent {
                id: format!("evt_{conv}_{version}"),
                conversation_id: String::new(),
                kind: EventKind::ConversationCreated {
                    channel_id: None,
                    contact_id: "ct_1".into(),
                },
                at: Timestamp::from_millis(0),
                actor: ActorRef::system(),
            }),
        }
    }

    /// A scripted shard: what it is, its records, whether it has closed.
    type ScriptedShard = (ShardInfo, Vec<(String, StoredChange)>, bool);

    /// A stream whose shards and records the test writes; iterators are
    /// `shard@index`. Every `GetRecords` is logged by shard.
    #[derive(Default)]
    struct Scripted {
        shards: StdMutex<Vec<ScriptedShard>>,
        reads: StdMutex<Vec<String>>,
    }

    impl Scripted {
        fn shard(&self, id: &str, parent: Option<&str>, changes: &[(&str, u64)], closed: bool) {
            let records = changes
                .iter()
                .enumerate()
                .map(|(n, (conv, v))| (format!("{}{:03}", id.len(), n + 1), change(conv, *v)))
                .collect();
            let info = ShardInfo {
                id: id.into(),
                parent: parent.map(str::to_string),
            };
            self.shards.lock().unwrap().push((info, records, closed));
        }
        fn reads_of(&self, id: &str) -> usize {
            self.reads
                .lock()
                .unwrap()
                .iter()
                .filter(|r| *r == id)
                .count()
        }
    }

    #[async_trait]
    impl StreamApi for Scripted {
        async fn shards(&self, _: &str) -> Result<Vec<ShardInfo>, StoreError> {
            Ok(self
                .shards
                .lock()
                .unwrap()
                .iter()
                .map(|(i, _, _)| i.clone())
                .collect())
        }
        async fn iterator(
            &self,
            _: &str,
            shard_id: &str,
            after: Option<&str>,
        ) -> Result<Option<String>, StoreError> {
            let shards = self.shards.lock().unwrap();
            let (_, records, _) = shards.iter().find(|(i, _, _)| i.id == shard_id).unwrap();
            let at = after.map_or(0, |seq| {
                records.iter().position(|(s, _)| s == seq).unwrap() + 1
            });
            Ok(Some(format!("{shard_id}@{at}")))
        }
        async fn records(&self, iterator: &str) -> Result<RecordsPage, ReadError> {
            let (id, at) = iterator.split_once('@').unwrap();
            let at: usize = at.parse().unwrap();
            self.reads.lock().unwrap().push(id.to_string());
            let shards = self.shards.lock().unwrap();
            let (_, records, closed) = shards.iter().find(|(i, _, _)| i.id == id).unwrap();
            Ok(RecordsPage {
                records: records[at..]
                    .iter()
                    .map(|(s, c)| (s.clone(), Some(Ok(c.clone()))))
                    .collect(),
                next: (!closed).then(|| format!("{id}@{}", records.len())),
            })
        }
    }

    fn feed(api: Scripted, name: &str) -> TableStream<Scripted> {
        let checkpoint =
            std::env::temp_dir().join(format!("table-stream-{name}-{}.json", std::process::id()));
        let _ = std::fs::remove_file(&checkpoint);
        TableStream::with_api(api, "arn:stream", checkpoint).unwrap()
    }

    fn ids(page: &[(String, StoredChange)]) -> Vec<String> {
        page.iter()
            .map(|(_, c)| format!("{}{}", c.conversation_id, c.version))
            .collect()
    }

    #[tokio::test]
    async fn a_parent_is_read_before_its_children_and_every_open_child_is_read() {
        let api = Scripted::default();
        // A split: the parent closed; both children are open at once.
        api.shard("parent", None, &[("a", 1), ("b", 1)], true);
        api.shard("child-1", Some("parent"), &[("a", 2)], false);
        api.shard("child-2", Some("parent"), &[("b", 2)], false);
        let feed = feed(api, "split");
        let page = feed.pending_changes(100).await.unwrap();
        assert_eq!(ids(&page), ["a1", "b1", "a2", "b2"]);
        let keys: Vec<String> = page.iter().map(|(k, _)| k.clone()).collect();
        feed.ack_changes(&keys).await.unwrap();

        // The closed parent is never read again, however often the feed is asked.
        for _ in 0..3 {
            assert!(feed.pending_changes(100).await.unwrap().is_empty());
        }
        assert_eq!(feed.api.reads_of("parent"), 1);
        assert!(
            feed.api.reads_of("child-2") >= 2,
            "open children are polled"
        );
    }

    #[tokio::test]
    async fn a_shard_whose_parent_is_gone_from_the_stream_is_read_at_once() {
        let api = Scripted::default();
        // The parent aged out of the stream (24 hours): nothing to wait for.
        api.shard("orphan", Some("trimmed"), &[("c", 5)], false);
        let feed = feed(api, "orphan");
        assert_eq!(ids(&feed.pending_changes(100).await.unwrap()), ["c5"]);
    }
}
