//! The embedded SQLite adapter.
//!
//! Records are stored as JSON documents beside the columns that the indexes
//! and filters need. One connection, behind a mutex, serves every call on the
//! blocking thread pool: writes are serialised by SQLite anyway, and a single
//! connection keeps every read consistent with the last commit.

mod api_keys;
mod contacts;
mod conversations;
mod cursor;
mod directory;
mod queues;
mod reports;
mod schema;
mod webhooks;

use crate::port::StoreError;
use rusqlite::Connection;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a writer waits for another process's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The embedded store: a SQLite file (WAL) or an in-memory database.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) a database file in WAL mode with a busy timeout.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(db)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(db)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db)?;
        // WAL with NORMAL sync is durable across application crashes.
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(db)?;
        Self::init(conn)
    }

    /// A private in-memory database (gone when the store is dropped).
    pub fn in_memory() -> Result<Self, StoreError> {
        let conn = Connection::open_in_memory().map_err(db)?;
        Self::init(conn)
    }

    fn init(conn: Connection) -> Result<Self, StoreError> {
        conn.execute_batch(schema::SCHEMA).map_err(db)?;
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` on the connection on the blocking pool.
    async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| StoreError::Unavailable("the connection lock is poisoned".into()))?;
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("the database task failed: {e}")))?
    }
}

/// A database error: the backend failed.
fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(format!("sqlite: {e}"))
}

/// Runs an `INSERT … ON CONFLICT DO NOTHING`: a row already there is
/// `Conflict`, never overwritten.
fn insert_new(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<(), StoreError> {
    if conn.execute(sql, params).map_err(db)? == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

/// The records of a `SELECT doc …`, in the order it gives.
fn list_docs<T: DeserializeOwned>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(db)?;
    let docs = stmt
        .query_map(params, |r| r.get::<_, String>(0))
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)?;
    docs.iter().map(|d| from_doc(d)).collect()
}

/// Serialises a record for storage.
fn to_doc<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(format!("cannot encode: {e}")))
}

/// Reads a stored record back.
fn from_doc<T: DeserializeOwned>(doc: &str) -> Result<T, StoreError> {
    serde_json::from_str(doc).map_err(|e| StoreError::Corrupt(format!("cannot decode: {e}")))
}

/// SQLite integers are signed; counters above `i64::MAX` cannot occur in practice.
fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Back from a stored integer.
fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// A page size as a SQL `LIMIT` that fetches one extra row (to know whether more follow).
fn limit_plus_one(limit: usize) -> i64 {
    i64::try_from(limit.max(1))
        .unwrap_or(i64::MAX)
        .saturating_add(1)
}
