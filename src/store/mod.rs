//! The one storage engine: SQLite, in memory by default or in a file for
//! durable state. One table per resource holds each record's fields as a JSON
//! document beside its id and timestamps. A `Store` has one owner, the
//! thread that runs its operations one at a time (`service::store_thread`;
//! it is `Send` but not `Sync`), and every operation runs inside a
//! transaction, so writes are atomic and never lose an update. Knows nothing
//! of HTTP.
//!
//! Invariant: values from requests reach SQL only as bound parameters; names
//! spliced into SQL come from the validated spec (identifiers only).

mod copy;
mod embed;
mod jobs;
mod plan;
mod read;
mod reset;
mod schema;
mod search;
mod seed;
mod select;
mod steps;
mod write;

use std::cell::{RefCell, RefMut};
use std::path::{Path, PathBuf};

use rusqlite::Connection;
use serde_json::{Map, Value};

use crate::spec::{FieldError, IdKind, Resource};

pub use copy::Image;
pub use embed::Embedded;
pub use jobs::{JobState, KEPT_JOBS};
pub use reset::ResetReport;
pub use seed::SeedError;
pub use steps::{between_steps, without_interruption};

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A private in-memory database, gone when the process ends.
    Memory,
    /// A SQLite file, durable across restarts.
    File(PathBuf),
}

/// A record's id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RecordId {
    /// Server-assigned integer id.
    Integer(i64),
    /// UUID or client-assigned string id.
    Text(String),
}

impl RecordId {
    /// Parses an id from a URL path segment, for a resource with ids of `kind`.
    pub fn parse(kind: IdKind, segment: &str) -> Option<RecordId> {
        match kind {
            IdKind::Integer => segment
                .parse::<i64>()
                .ok()
                .filter(|id| *id > 0 && id.to_string() == segment)
                .map(RecordId::Integer),
            IdKind::Uuid => {
                crate::spec::is_uuid(segment).then(|| RecordId::Text(segment.to_ascii_lowercase()))
            }
            // `.` and `..` would be normalised away by clients resolving the item's URI.
            IdKind::String => {
                (!matches!(segment, "" | "." | "..")).then(|| RecordId::Text(segment.to_string()))
            }
        }
    }

    /// The id as a JSON value.
    pub fn to_json(&self) -> Value {
        match self {
            RecordId::Integer(id) => Value::from(*id),
            RecordId::Text(id) => Value::from(id.as_str()),
        }
    }

    /// The id as it appears in a URL path.
    pub fn to_path_segment(&self) -> String {
        match self {
            RecordId::Integer(id) => id.to_string(),
            RecordId::Text(id) => id.clone(),
        }
    }

    /// The id as a JSON value of a reference field, if it has the right kind.
    pub fn from_json(kind: IdKind, value: &Value) -> Option<RecordId> {
        match (kind, value) {
            (IdKind::Integer, Value::Number(number)) => number.as_i64().map(RecordId::Integer),
            (IdKind::Uuid | IdKind::String, Value::String(text)) => RecordId::parse(kind, text),
            _ => None,
        }
    }
}

/// One stored record.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The record's id.
    pub id: RecordId,
    /// The field values, as stored (may include fields the spec no longer has).
    pub fields: Map<String, Value>,
    /// When it was created.
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
}

/// An error of the SQLite database, as SQLite reported it.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct DatabaseError(#[from] rusqlite::Error);

/// Why a store operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No record has this id.
    #[error("no record with this id")]
    NotFound,
    /// The record was deleted (soft delete).
    #[error("the record was deleted")]
    Gone,
    /// The write is valid but conflicts with the data.
    #[error("{message}")]
    Conflict {
        /// What conflicts.
        message: String,
        /// The fields involved.
        errors: Vec<FieldError>,
    },
    /// The fields are invalid.
    #[error("invalid fields")]
    Invalid(Vec<FieldError>),
    /// A request precondition (`If-Match`, ...) does not hold.
    #[error("{0}")]
    PreconditionFailed(String),
    /// A request's operation ran past the query budget and was stopped.
    #[error("the operation ran past its time budget")]
    OverBudget,
    /// The database failed.
    #[error("database error: {0}")]
    Database(rusqlite::Error),
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> StoreError {
        match error.sqlite_error_code() {
            // Only the query budget interrupts the connection.
            Some(rusqlite::ErrorCode::OperationInterrupted) => StoreError::OverBudget,
            _ => StoreError::Database(error),
        }
    }
}

/// How long one request's store operation may run before it is stopped, by
/// default, so that no single request holds the store for long.
pub const DEFAULT_QUERY_BUDGET: std::time::Duration = std::time::Duration::from_secs(3);
/// SQLite virtual-machine steps between checks of the budget.
const BUDGET_CHECK_STEPS: i32 = 1000;

/// A SQLite-backed store of records.
pub struct Store {
    connection: RefCell<Connection>,
    location: Location,
    /// Bumped by every write, so cached counts and answers know when they are stale.
    generation: Generation,
    /// Totals of recent list queries, by SQL and parameters, with the generation they were counted at.
    counts: RefCell<std::collections::HashMap<String, (u64, i64)>>,
    /// Single-column indexes made for the filters queries use.
    column_indexes: RefCell<std::collections::HashSet<String>>,
    /// Indexes made for the filter and sort combinations queries use.
    auto_indexes: RefCell<std::collections::HashMap<String, usize>>,
    /// When the operation holding the connection must stop (see [`DEFAULT_QUERY_BUDGET`]).
    deadline: std::sync::Arc<Deadline>,
    /// The lock that keeps other standins off a database file, held until
    /// the connection has closed (fields drop in order).
    _exclusive: Option<std::fs::File>,
}

/// The deadline of the operation in progress, read by SQLite's progress
/// handler: nanoseconds after `start`, or 0 for none; and the budget requests get.
#[derive(Debug)]
struct Deadline {
    start: std::time::Instant,
    nanos: std::sync::atomic::AtomicU64,
    budget_nanos: std::sync::atomic::AtomicU64,
}

impl Deadline {
    fn start_budget(&self) {
        let budget = self.budget_nanos.load(std::sync::atomic::Ordering::Relaxed);
        let at = self
            .start
            .elapsed()
            .as_nanos()
            .saturating_add(u128::from(budget));
        let at = u64::try_from(at).unwrap_or(u64::MAX).max(1);
        self.nanos.store(at, std::sync::atomic::Ordering::Relaxed);
    }

    fn clear(&self) {
        self.nanos.store(0, std::sync::atomic::Ordering::Relaxed);
    }

    fn passed(&self) -> bool {
        let at = self.nanos.load(std::sync::atomic::Ordering::Relaxed);
        at != 0 && self.start.elapsed().as_nanos() >= u128::from(at)
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("location", &self.location)
            .finish()
    }
}

impl Store {
    /// Opens (creating if needed) a store at `location`.
    pub fn open(location: Location) -> Result<Store, rusqlite::Error> {
        let exclusive = match &location {
            Location::Memory => None,
            Location::File(path) => Some(lock_file(path)?),
        };
        let mut connection = match &location {
            Location::Memory => Connection::open_in_memory()?,
            Location::File(path) => open_file(path)?,
        };
        connection.set_prepared_statement_cache_capacity(256);
        // Plans must not depend on bound values: SQLite otherwise plans a
        // statement for its LIMIT's value and prepares it again whenever a
        // new one is bound, which is every time a page is read.
        connection.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )?;
        register_functions(&connection)?;
        let deadline = std::sync::Arc::new(Deadline {
            start: std::time::Instant::now(),
            nanos: std::sync::atomic::AtomicU64::new(0),
            budget_nanos: std::sync::atomic::AtomicU64::new(nanos_of(DEFAULT_QUERY_BUDGET)),
        });
        let watched = deadline.clone();
        connection.progress_handler(BUDGET_CHECK_STEPS, Some(move || watched.passed()))?;
        // The seeded state, kept for resets, private to this connection: in
        // memory for an in-memory store, else in a temporary file (SQLite
        // deletes it on close), so that --db keeps its memory small.
        let snapshot = match &location {
            Location::Memory => ":memory:",
            Location::File(_) => "",
        };
        connection.execute("ATTACH DATABASE ?1 AS seeded", [snapshot])?;
        reset::create_snapshots(&connection)?;
        schema::create_meta(&connection)?;
        let auto_indexes = existing_auto_indexes(&connection)?;
        Ok(Store {
            connection: RefCell::new(connection),
            location,
            generation: Generation::default(),
            counts: RefCell::new(std::collections::HashMap::new()),
            auto_indexes: RefCell::new(auto_indexes),
            column_indexes: RefCell::new(std::collections::HashSet::new()),
            deadline,
            _exclusive: exclusive,
        })
    }

    /// Runs `work` (under a request's hold of the connection) without the
    /// query budget, which starts again afterwards.
    fn without_budget<T>(&self, work: impl FnOnce() -> T) -> T {
        self.deadline.clear();
        let done = work();
        self.deadline.start_budget();
        done
    }

    /// Sets how long one request's operation may run before it is stopped.
    pub fn set_query_budget(&self, budget: std::time::Duration) {
        self.deadline
            .budget_nanos
            .store(nanos_of(budget), std::sync::atomic::Ordering::Relaxed);
    }

    /// Where the data lives.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The settings durability rests on, as the connection reports them.
    pub fn durability(&self) -> Result<Durability, StoreError> {
        let connection = self.lock_for_request();
        let journal_mode: String =
            connection.query_row("PRAGMA journal_mode", [], |row| row.get(0))?;
        let synchronous: i64 = connection.query_row("PRAGMA synchronous", [], |row| row.get(0))?;
        let synchronous = match synchronous {
            0 => "off",
            1 => "normal",
            2 => "full",
            3 => "extra",
            _ => "unknown",
        };
        Ok(Durability {
            journal_mode: journal_mode.to_ascii_lowercase(),
            synchronous: synchronous.to_string(),
        })
    }

    /// A number that changes with every write.
    pub fn generation(&self) -> u64 {
        self.generation.get()
    }

    /// The write generation, to read from other threads.
    pub fn generation_handle(&self) -> Generation {
        self.generation.clone()
    }

    /// Marks the data as changed; called by every write when it commits.
    fn written(&self) {
        self.generation
            .0
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// The connection, until the guard drops. (A panic while holding it
    /// leaves SQLite consistent: transactions roll back on drop.)
    fn lock(&self) -> Held<'_> {
        Held {
            connection: self.connection.borrow_mut(),
            deadline: None,
        }
    }

    /// The connection for one request's operation, which SQLite stops (and
    /// rolls back) if it runs past the query budget.
    fn lock_for_request(&self) -> Held<'_> {
        let connection = self.connection.borrow_mut();
        self.deadline.start_budget();
        Held {
            connection,
            deadline: Some(&self.deadline),
        }
    }
}

/// A number that changes with every write to a store, readable from any thread.
#[derive(Debug, Clone, Default)]
pub struct Generation(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl Generation {
    /// The number now.
    pub fn get(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// The store's connection in use by one operation; a request's also
/// carries its deadline, cleared when it ends.
struct Held<'a> {
    connection: RefMut<'a, Connection>,
    deadline: Option<&'a Deadline>,
}

impl std::ops::Deref for Held<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.connection
    }
}

impl std::ops::DerefMut for Held<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.connection
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        if let Some(deadline) = self.deadline {
            deadline.clear();
        }
    }
}

fn nanos_of(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// The indexes made for query patterns in earlier runs (`--db`), by name, with
/// their resource, so that the per-resource limit holds across restarts.
fn existing_auto_indexes(
    connection: &Connection,
) -> rusqlite::Result<std::collections::HashMap<String, usize>> {
    let mut statement = connection.prepare(
        "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND name LIKE 'ax!_%' ESCAPE '!'",
    )?;
    let rows = statement.query_map([], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
    })?;
    let mut found = std::collections::HashMap::new();
    for row in rows {
        let (name, table) = row?;
        let resource = table.strip_prefix("res_").unwrap_or(&table);
        found.insert(name, read::resource_key(resource));
    }
    Ok(found)
}

/// SQL functions the queries use: Unicode case folding and `REGEXP`.
fn register_functions(connection: &Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    connection.create_scalar_function("standin_fold", 1, flags, |context| {
        Ok(match context.get_raw(0) {
            rusqlite::types::ValueRef::Text(bytes) => {
                Some(select::fold(&String::from_utf8_lossy(bytes)))
            }
            _ => None,
        })
    })?;
    // `text REGEXP pattern` calls regexp(pattern, text); patterns are checked
    // by the query parser and compiled once per statement.
    connection.create_scalar_function("regexp", 2, flags, |context| {
        let pattern = context.get_or_create_aux(0, |value| -> Result<regex::Regex, BoxError> {
            let text = value.as_str()?;
            Ok(crate::query::like_pattern(text)?)
        })?;
        Ok(match context.get_raw(1) {
            rusqlite::types::ValueRef::Text(bytes) => {
                pattern.is_match(&String::from_utf8_lossy(bytes))
            }
            _ => false,
        })
    })
}

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Takes the lock file beside a database file (`<file>.lock`), so that a
/// second standin cannot serve the same file: each keeps a cache of answers
/// that the other's writes would make stale. The operating system releases
/// the lock when the process ends, however it ends.
fn lock_file(path: &Path) -> Result<std::fs::File, rusqlite::Error> {
    let mut name = path.as_os_str().to_os_string();
    name.push(".lock");
    let lock_path = PathBuf::from(name);
    let refuse = |code: i32, message: String| {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), Some(message))
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|error| {
            refuse(
                rusqlite::ffi::SQLITE_CANTOPEN,
                format!("cannot create {}: {error}", lock_path.display()),
            )
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(refuse(
            rusqlite::ffi::SQLITE_BUSY,
            format!(
                "{} is in use by another standin (it holds {}); stop that one, or give this one another --db file",
                path.display(),
                lock_path.display()
            ),
        )),
        Err(std::fs::TryLockError::Error(error)) => Err(refuse(
            rusqlite::ffi::SQLITE_CANTOPEN,
            format!("cannot lock {}: {error}", lock_path.display()),
        )),
    }
}

fn open_file(path: &Path) -> Result<Connection, rusqlite::Error> {
    let connection = Connection::open(path)?;
    // WAL with FULL sync: a commit is on disk before the write is acknowledged.
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(connection)
}

/// SQLite's settings that decide what survives a crash, as in force.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Durability {
    /// `wal` with `--db` (`memory` in memory).
    pub journal_mode: String,
    /// `full` with `--db`: each commit is synced to disk before it is acknowledged.
    pub synchronous: String,
}

/// The quoted table name of a resource.
fn table(resource: &Resource) -> String {
    format!("\"res_{}\"", resource.name)
}

/// The SQL expression reading a field out of a record's JSON document.
fn field_expression(field: &str) -> String {
    format!("json_extract(data, '$.{field}')")
}

/// A JSON value as a bound SQL parameter, comparable with `json_extract`.
fn sql_value(value: &Value) -> rusqlite::types::Value {
    use rusqlite::types::Value as Sql;
    match value {
        Value::Null => Sql::Null,
        Value::Bool(flag) => Sql::Integer(i64::from(*flag)),
        Value::Number(number) => match number.as_i64() {
            Some(integer) => Sql::Integer(integer),
            None => Sql::Real(number.as_f64().unwrap_or(0.0)),
        },
        Value::String(text) => Sql::Text(text.clone()),
        other => Sql::Text(other.to_string()),
    }
}

fn sql_id(id: &RecordId) -> rusqlite::types::Value {
    match id {
        RecordId::Integer(id) => rusqlite::types::Value::Integer(*id),
        RecordId::Text(id) => rusqlite::types::Value::Text(id.clone()),
    }
}
