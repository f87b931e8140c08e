//! The one storage engine: SQLite, in memory by default (a temporary file
//! the page cache keeps) or in a file for durable state. One table per
//! resource holds each record's fields as a JSON document beside its id and
//! timestamps. A `Store` has one owner, the thread that runs its operations
//! one at a time (`service::store_thread`; it is `Send` but not `Sync`): the
//! writing connection's, or a reading connection's beside it
//! ([`Store::open_reader`]). Every operation runs inside a transaction, so
//! writes are atomic and never lose an update. Knows nothing of HTTP.
//!
//! Invariant: values from requests reach SQL only as bound parameters; names
//! spliced into SQL come from the validated spec (identifiers only).

mod changes;
mod copy;
mod counts;
mod embed;
mod jobs;
mod kept_map;
mod plan;
mod read;
mod references;
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

pub use changes::{Basis, Carried, PageReads};
pub use copy::Image;
pub use embed::{Embedded, EmbeddedRecord};
pub use jobs::{JobState, KEPT_JOBS};
pub use read::StoredRow;
pub use reset::ResetReport;
pub use seed::SeedError;
pub use steps::{between_steps, without_interruption};

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A private database, gone when the store closes: a temporary file,
    /// unsynced, which the operating system's page cache keeps in memory,
    /// so that reading connections can share it (see [`Store::open_reader`]).
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
    /// The id of a singular resource's one record: `1` (as text where ids are text).
    pub fn singular(resource: &Resource) -> RecordId {
        match resource.id {
            IdKind::Integer => RecordId::Integer(1),
            _ => RecordId::Text(crate::import::dbjson::SINGULAR_ID.to_string()),
        }
    }

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
    /// The embeds asked for would hold more records than an answer may.
    #[error("the embeds would hold more than {limit} records")]
    TooManyEmbedded {
        /// The most an answer holds.
        limit: usize,
    },
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

/// A SQLite-backed store of records: the one writing connection, or one of
/// the reading connections beside it ([`Store::open_reader`]).
pub struct Store {
    connection: RefCell<Connection>,
    location: Location,
    /// The database file every connection opens (a temporary one in memory).
    path: PathBuf,
    /// What a reading connection keeps; `None` for the writing one.
    reader: Option<Reader>,
    /// Whether reading connections were opened beside this one: until then
    /// it alone reaches its database.
    has_readers: std::cell::Cell<bool>,
    /// How many transactions that wrote have committed (read by tests).
    #[cfg_attr(not(test), expect(dead_code))]
    commits: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Bumped by every write, so cached counts and answers know when they are stale.
    generation: Generation,
    /// Totals of filtered and searched list queries, shared by the store's connections.
    totals: std::sync::Arc<counts::Totals>,
    /// The writes of a group whose transaction (or savepoint) is open, marked
    /// as written once it ends ([`Store::settle`]): until its commit a
    /// reader's snapshot does not hold them, so no answer may be cached as theirs.
    group: RefCell<Option<GroupWrites>>,
    /// What settling the group that committed reads, read before its commit.
    planned: RefCell<Option<Vec<Settling>>>,
    /// Single-column indexes made for the filters queries use.
    column_indexes: RefCell<std::collections::HashSet<String>>,
    /// Indexes made for the filter and sort combinations queries use.
    auto_indexes: RefCell<std::collections::HashMap<String, usize>>,
    /// When the operation holding the connection must stop (see [`DEFAULT_QUERY_BUDGET`]).
    deadline: std::sync::Arc<Deadline>,
    /// The lock that keeps other standins off a database file, held until
    /// the connection has closed (fields drop in order).
    _exclusive: Option<std::fs::File>,
    /// The temporary file of an in-memory store, deleted once every
    /// connection to it has closed (fields drop in order).
    _temporary: Option<std::sync::Arc<Temporary>>,
}

/// What a reading connection keeps between and during its operations.
#[derive(Debug, Default)]
struct Reader {
    /// The settled generations the current read transaction's state is
    /// at or between (see [`Store::run_read`]).
    snapshot: std::cell::Cell<Option<(u64, u64)>>,
    /// The generation of the read transaction left open after the last
    /// operation, for the next to read in (see [`Store::run_read`]).
    kept: std::cell::Cell<Option<u64>>,
    /// Set when an operation needed a write (an index made by a first
    /// query): its answer is dropped and the writer runs it again.
    needs_writer: std::cell::Cell<bool>,
    /// Indexes seen to exist, by name.
    known_indexes: RefCell<std::collections::HashSet<String>>,
    /// The kept counts of live records read in the current read
    /// transaction, by resource: they cannot change within it.
    live_counts: RefCell<Vec<(String, Option<i64>)>>,
}

/// Ends a reading connection's read transaction however its operation ends.
struct EndSnapshot<'a>(&'a Store);

impl Drop for EndSnapshot<'_> {
    fn drop(&mut self) {
        self.0.end_snapshot();
    }
}

/// The temporary database file of an in-memory store, with its WAL and
/// shared-memory files, deleted when dropped.
#[derive(Debug)]
struct Temporary(PathBuf);

impl Drop for Temporary {
    fn drop(&mut self) {
        remove_database_files(&self.0);
        TEMPORARIES
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .retain(|path| *path != self.0);
    }
}

/// The temporary database files of this process's in-memory stores.
static TEMPORARIES: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

/// Deletes a database file with its WAL, shared-memory and journal files.
fn remove_database_files(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_os_string();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
}

/// Deletes the temporary files of every in-memory store of this process,
/// closed or not: for a process about to exit.
pub fn remove_temporary_databases() {
    let paths = std::mem::take(
        &mut *TEMPORARIES
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()),
    );
    for path in paths {
        remove_database_files(&path);
    }
}

/// A new temporary database file's path, unique in this process. The first
/// call removes those that processes killed before they could left behind.
fn temporary_path() -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    static SWEPT: std::sync::Once = std::sync::Once::new();
    SWEPT.call_once(remove_orphaned_databases);
    let number = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(format!("standin-{}-{number}.sqlite", std::process::id()))
}

/// Removes the temporary databases (and their `-wal`, `-shm`, `-journal`)
/// of standin processes that no longer run: a `kill -9` leaves them.
fn remove_orphaned_databases() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(owner) = name
            .to_str()
            .and_then(|name| name.strip_prefix("standin-"))
            .and_then(|rest| rest.split_once('-'))
            .filter(|(_, rest)| {
                let number = rest.split_once(".sqlite").map_or("", |(number, _)| number);
                !number.is_empty() && number.bytes().all(|byte| byte.is_ascii_digit())
            })
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if owner != std::process::id() && !process_runs(owner) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Whether process `pid` runs (or may: where that cannot be told, yes).
fn process_runs(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return true;
        };
        // SAFETY: signal 0 only checks that the process exists.
        let answer = unsafe { libc::kill(pid, 0) };
        answer == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// The deadline of the operation in progress, read by SQLite's progress
/// handler: nanoseconds after `start`, or 0 for none; and the budget requests get.
#[derive(Debug)]
struct Deadline {
    start: std::time::Instant,
    nanos: std::sync::atomic::AtomicU64,
    budget_nanos: std::sync::atomic::AtomicU64,
    /// When a read run where it must be short gives way (nanoseconds after
    /// `start`, 0 for none; see [`Store::run_read`]), and whether it did.
    give_way_nanos: std::sync::atomic::AtomicU64,
    gave_way: std::sync::atomic::AtomicBool,
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
        use std::sync::atomic::Ordering::Relaxed;
        let now = self.start.elapsed().as_nanos();
        let give_way = self.give_way_nanos.load(Relaxed);
        if give_way != 0 && now >= u128::from(give_way) {
            self.gave_way.store(true, Relaxed);
            return true;
        }
        let at = self.nanos.load(Relaxed);
        at != 0 && now >= u128::from(at)
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
        let (path, temporary) = match &location {
            Location::Memory => {
                let temporary = std::sync::Arc::new(Temporary(temporary_path()));
                // Left by an earlier process of the same id, killed.
                remove_database_files(&temporary.0);
                TEMPORARIES
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .push(temporary.0.clone());
                (temporary.0.clone(), Some(temporary))
            }
            Location::File(path) => (path.clone(), None),
        };
        let connection = open_file(&path, temporary.is_some())?;
        Store::with_connection(connection, location, path, exclusive, temporary)
    }

    /// A store in memory that only its own connection reaches (no file, so
    /// no reading connections): a session's, made from an image.
    pub(crate) fn open_private() -> Result<Store, rusqlite::Error> {
        let connection = Connection::open_in_memory()?;
        Store::with_connection(connection, Location::Memory, PathBuf::new(), None, None)
    }

    /// A store on `connection`, opened at `path` (empty for a private one).
    fn with_connection(
        mut connection: Connection,
        location: Location,
        path: PathBuf,
        exclusive: Option<std::fs::File>,
        temporary: Option<std::sync::Arc<Temporary>>,
    ) -> Result<Store, rusqlite::Error> {
        let generation = Generation::default();
        // Odd from just before a commit until the write is acknowledged (or
        // the operation ends): readers then know their snapshot's generation
        // only approximately (see `Store::begin_snapshot`).
        let committing = generation.clone();
        let commits = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counted = commits.clone();
        connection.commit_hook(Some(move || {
            committing.begin_commit();
            counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            false
        }))?;
        let deadline = configure(&mut connection)?;
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
            path,
            reader: None,
            has_readers: std::cell::Cell::new(false),
            commits,
            totals: std::sync::Arc::clone(&generation.0.totals),
            generation,
            group: RefCell::new(None),
            planned: RefCell::new(None),
            auto_indexes: RefCell::new(auto_indexes),
            column_indexes: RefCell::new(std::collections::HashSet::new()),
            deadline,
            _exclusive: exclusive,
            _temporary: temporary,
        })
    }

    /// A reading connection to this store's database, for another thread:
    /// it runs read-only operations, each in one read transaction
    /// ([`Store::run_read`]), beside this one's writes (WAL lets
    /// readers and the writer go on together).
    pub(crate) fn open_reader(&self) -> Result<Store, rusqlite::Error> {
        if self.reader.is_some() || self.path.as_os_str().is_empty() {
            return Err(rusqlite::Error::InvalidParameterName(
                "a reader or a private store opens no reader".into(),
            ));
        }
        self.has_readers.set(true);
        if self._temporary.is_some() {
            // Readers need WAL; until the first, an in-memory store keeps its
            // rollback journal in memory, which seeds faster.
            let writer = self.lock();
            writer.pragma_update(None, "journal_mode", "WAL")?;
            writer.pragma_update(None, "mmap_size", TEMPORARY_MMAP_BYTES)?;
            drop(writer);
            self.settle();
        }
        let mut connection = if self._temporary.is_some() {
            // The file is in WAL mode now, which persists.
            let connection = if kept_map::register() {
                let connection = Connection::open_with_flags_and_vfs(
                    &self.path,
                    rusqlite::OpenFlags::default(),
                    kept_map::NAME,
                )?;
                connection.pragma_update(None, "mmap_size", TEMPORARY_MMAP_BYTES)?;
                connection
            } else {
                Connection::open(&self.path)?
            };
            connection.busy_timeout(std::time::Duration::from_secs(5))?;
            connection.pragma_update(None, "synchronous", "OFF")?;
            connection.pragma_update(None, "cache_size", READER_CACHE_SIZE)?;
            connection
        } else {
            open_file(&self.path, false)?
        };
        connection.pragma_update(None, "query_only", true)?;
        let deadline = configure(&mut connection)?;
        deadline.budget_nanos.store(
            self.deadline
                .budget_nanos
                .load(std::sync::atomic::Ordering::Relaxed),
            std::sync::atomic::Ordering::Relaxed,
        );
        Ok(Store {
            connection: RefCell::new(connection),
            location: self.location.clone(),
            path: self.path.clone(),
            reader: Some(Reader::default()),
            has_readers: std::cell::Cell::new(false),
            commits: std::sync::Arc::default(),
            generation: self.generation.clone(),
            totals: std::sync::Arc::clone(&self.totals),
            group: RefCell::new(None),
            planned: RefCell::new(None),
            auto_indexes: RefCell::new(std::collections::HashMap::new()),
            column_indexes: RefCell::new(std::collections::HashSet::new()),
            deadline,
            _exclusive: None,
            _temporary: self._temporary.clone(),
        })
    }

    /// Runs `work` (a reading connection's operation) in a read transaction
    /// of its own, begun before it and ended after it (see [`Store::run_read`]).
    #[cfg(test)]
    pub(crate) fn in_snapshot<T>(&self, work: impl FnOnce() -> T) -> T {
        self.end_snapshot();
        self.begin_snapshot();
        let _end = EndSnapshot(self);
        work()
    }

    /// Runs `work` (a reading connection's operation) in one read
    /// transaction, begun before it: every statement it runs sees the same
    /// committed state, one that includes every write acknowledged before.
    /// The state's generation is known exactly when no commit was under way
    /// as the transaction began; only then are counts cached. Its SQL is
    /// stopped once it has run for `budget`, if given: `None` then, its
    /// answer dropped, for it to run again where it may take longer. (What
    /// an operation keeps for others, totals and positions, it keeps only
    /// from statements that ran to their end, so a stopped one leaves
    /// nothing half-read behind.)
    ///
    /// A transaction whose state is known to be the latest is left open
    /// after it, and the next operation reads in it while nothing has
    /// settled since (every commit changes the generation): it then takes
    /// no lock at all. It does while a commit is under way too: what that
    /// commits is answered only once it has settled, so the state read
    /// still holds every write acknowledged, and a transaction begun then
    /// could not tell whether it holds the commit (it would count afresh).
    /// [`Store::end_stale_snapshot`] ends one left open.
    pub(crate) fn run_read<T>(
        &self,
        budget: Option<std::time::Duration>,
        work: impl FnOnce() -> T,
    ) -> Option<T> {
        use std::sync::atomic::Ordering::Relaxed;
        /// Lifts the limit however `work` ends.
        struct Lift<'a>(&'a Deadline);
        impl Drop for Lift<'_> {
            fn drop(&mut self) {
                self.0.give_way_nanos.store(0, Relaxed);
            }
        }
        let reader = self.reader.as_ref()?;
        let kept = reader.kept.take();
        let snapshot = match kept {
            Some(generation) if self.generation.is_latest_settled(generation) => {
                reader.snapshot.set(Some((generation, generation)));
                kept
            }
            _ => {
                self.end_snapshot();
                self.begin_snapshot()
                    .and_then(|(low, high)| (low == high).then_some(low))
            }
        };
        let end = EndSnapshot(self);
        let deadline = &self.deadline;
        deadline.gave_way.store(false, Relaxed);
        if let Some(budget) = budget {
            let at = deadline
                .start
                .elapsed()
                .as_nanos()
                .saturating_add(budget.as_nanos());
            deadline
                .give_way_nanos
                .store(u64::try_from(at).unwrap_or(u64::MAX).max(1), Relaxed);
        }
        let lift = Lift(deadline);
        let done = work();
        drop(lift);
        let gave_way = deadline.gave_way.swap(false, Relaxed);
        if let Some(generation) = snapshot
            && !gave_way
            && !reader.needs_writer.get()
        {
            // Left open: the next operation may read in it.
            std::mem::forget(end);
            reader.snapshot.set(None);
            reader.kept.set(Some(generation));
        }
        (!gave_way).then_some(done)
    }

    /// Ends the read transaction [`Store::run_read`] left open if
    /// something has committed since: it would keep SQLite from copying the
    /// log's later pages into the database, and the log would grow.
    pub(crate) fn end_stale_snapshot(&self) {
        if let Some(reader) = &self.reader
            && reader
                .kept
                .get()
                .is_some_and(|generation| !self.generation.is_latest_settled(generation))
        {
            self.end_snapshot();
        }
    }

    /// Begins a read transaction and reads in it, which fixes its state;
    /// the settled generations that state is at or between, if it began.
    fn begin_snapshot(&self) -> Option<(u64, u64)> {
        let before = self.generation.get();
        let begun = {
            let connection = self.lock();
            // The first read starts the snapshot.
            connection
                .prepare_cached("BEGIN")
                .and_then(|mut begin| begin.execute([]))
                .and_then(|_| {
                    connection
                        .prepare_cached("SELECT 1 FROM sqlite_master LIMIT 1")?
                        .exists([])
                })
        };
        let after = self.generation.get();
        // Odd while a commit is under way: the snapshot holds it or not.
        let settled = begun
            .is_ok()
            .then_some((before - before % 2, after + after % 2));
        if let Some(reader) = &self.reader {
            reader.snapshot.set(settled);
        }
        settled
    }

    /// Ends the read transaction, if one is open.
    fn end_snapshot(&self) {
        if let Some(reader) = &self.reader {
            reader.snapshot.set(None);
            reader.kept.set(None);
            reader.live_counts.borrow_mut().clear();
        }
        if let Ok(connection) = self.connection.try_borrow()
            && !connection.is_autocommit()
        {
            let ended = connection
                .prepare_cached("COMMIT")
                .and_then(|mut commit| commit.execute([]));
            if ended.is_err() {
                let _ = connection.execute_batch("ROLLBACK");
            }
        }
    }

    /// The kept count of `resource`'s live records, if one is kept; on a
    /// reading connection, read once in each read transaction.
    fn live_count(
        &self,
        connection: &Connection,
        resource: &Resource,
    ) -> rusqlite::Result<Option<i64>> {
        let Some(reader) = &self.reader else {
            return counts::live(connection, resource);
        };
        let read = reader
            .live_counts
            .borrow()
            .iter()
            .find(|(name, _)| *name == resource.name)
            .map(|(_, live)| *live);
        if let Some(live) = read {
            return Ok(live);
        }
        let live = counts::live(connection, resource)?;
        reader
            .live_counts
            .borrow_mut()
            .push((resource.name.clone(), live));
        Ok(live)
    }

    /// Whether an operation on this reading connection needed the writer
    /// (and so must run again there); clears the mark.
    pub(crate) fn take_needs_writer(&self) -> bool {
        self.reader
            .as_ref()
            .is_some_and(|reader| reader.needs_writer.replace(false))
    }

    /// The error of an operation a reading connection cannot run, marked
    /// so that the writer runs it again.
    fn needs_writer(&self) -> StoreError {
        if let Some(reader) = &self.reader {
            reader.needs_writer.set(true);
        }
        StoreError::Database(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_READONLY),
            Some("a reading connection makes no index".into()),
        ))
    }

    /// Whether this is a reading connection.
    fn is_reader(&self) -> bool {
        self.reader.is_some()
    }

    /// Which state of `resource` this connection reads, as counts are kept
    /// by: the writer's own (none while a group's writes are not marked),
    /// or a reader's snapshot's, when its generation is known.
    fn seen(&self, resource: &str) -> Option<counts::Seen> {
        match &self.reader {
            // A group's writes not yet marked: counted now, they would be
            // kept under the generation before them.
            None if self
                .group
                .borrow()
                .as_ref()
                .is_some_and(|group| group.everything || !group.resources.is_empty()) =>
            {
                None
            }
            None => {
                let of = self.generation.of([resource]);
                Some(counts::Seen {
                    current: Some(of),
                    states: (of, of),
                })
            }
            Some(reader) => {
                // The resource's generation read now is the snapshot's only
                // while no write to it settled after the snapshot began (a
                // write settling records a generation past the snapshot's;
                // one not yet settled began after it, and is not seen).
                let (low, high) = reader.snapshot.get()?;
                let of = self.generation.of([resource]);
                Some(counts::Seen {
                    current: (low == high && of <= low).then_some(of),
                    states: (low, high),
                })
            }
        }
    }

    /// Tells which side of a commit this reader's snapshot is on, when the
    /// snapshot began while that one commit was under way and it created
    /// records of `resource`: by whether one of them is live in it.
    /// [`Store::seen`] then knows the snapshot's generation.
    fn place_snapshot(&self, connection: &Connection, resource: &Resource) {
        let Some(reader) = &self.reader else {
            return;
        };
        let Some((low, high)) = reader.snapshot.get() else {
            return;
        };
        if high != low + 2 {
            return;
        }
        let Some(id) = self.generation.created_at(&resource.name, high) else {
            return;
        };
        let sql = format!(
            "SELECT 1 FROM {} WHERE id = ?1 AND deleted_at IS NULL",
            table(resource)
        );
        let holds = connection
            .prepare_cached(&sql)
            .and_then(|mut statement| statement.exists([sql_id(&id)]));
        if let Ok(holds) = holds {
            let at = if holds { high } else { low };
            reader.snapshot.set(Some((at, at)));
        }
    }

    /// The generation of `resource` counts are kept under now (see [`Store::seen`]).
    #[cfg(test)]
    fn count_generation(&self, resource: &str) -> Option<u64> {
        self.seen(resource)?.current
    }

    /// Runs `sql` on the writing connection, committing what it writes
    /// without marking it written: the generation stays odd until the
    /// operation settles, as a commit under way leaves it.
    #[cfg(test)]
    pub(crate) fn commit_unsettled(&self, sql: &str) {
        self.lock().execute_batch(sql).expect("committed");
    }

    /// Counts from 1 to `last` in SQL: a read that takes as long as `last` makes it.
    #[cfg(test)]
    pub(crate) fn count_to(&self, last: i64) -> Result<i64, StoreError> {
        Ok(self.lock_for_request().query_row(
            "WITH RECURSIVE counted(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM counted WHERE n < ?1) \
             SELECT count(*) FROM counted",
            [last],
            |row| row.get(0),
        )?)
    }

    /// The generation of the read transaction a reading connection left open.
    #[cfg(test)]
    pub(crate) fn kept_snapshot(&self) -> Option<u64> {
        self.reader.as_ref()?.kept.get()
    }

    /// How many transactions that wrote have committed on this connection.
    #[cfg(test)]
    pub(crate) fn commits(&self) -> u64 {
        self.commits.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Begins the transaction of a group of writes committed together.
    pub(crate) fn begin_group(&self) -> rusqlite::Result<()> {
        self.lock().execute_batch("BEGIN IMMEDIATE")?;
        *self.group.borrow_mut() = Some(GroupWrites::default());
        Ok(())
    }

    /// Whether a transaction is open on the connection.
    pub(crate) fn in_transaction(&self) -> bool {
        !self.lock().is_autocommit()
    }

    /// Commits the group's transaction (one sync to disk with `--db`);
    /// whether it committed. A commit that fails rolls the group back.
    pub(crate) fn commit_group(&self) -> bool {
        let connection = self.lock();
        if connection.is_autocommit() {
            return true;
        }
        // What settling reads of the data, read in the transaction before
        // it commits: readers cannot tell whether their snapshots hold a
        // commit until it settles, and it settles sooner without reading.
        let planned = self.plan_settle(&connection);
        let committed = connection.execute_batch("COMMIT").is_ok();
        if committed {
            *self.planned.borrow_mut() = planned;
        } else if !connection.is_autocommit() {
            let _ = connection.execute_batch("ROLLBACK");
        }
        committed
    }

    /// For each resource the open group wrote to, in order: how its totals
    /// carry across the group's writes and how many live records it has
    /// after them, read on `connection` (none: not known).
    fn plan_settle(&self, connection: &Connection) -> Option<Vec<Settling>> {
        let group = self.group.borrow();
        let group = group.as_ref().filter(|group| !group.everything)?;
        let planned = group
            .resources
            .iter()
            .map(|(name, written)| self.settling(connection, name, written))
            .collect();
        Some(planned)
    }

    /// What settling the writes `written` to the resource `name` reads on
    /// `connection`, which sees them: how its totals carry, its live records.
    fn settling(&self, connection: &Connection, name: &str, written: &counts::Written) -> Settling {
        let from = self.generation.of([name]);
        Settling {
            carried: Some(self.totals.plan(connection, name, written, from)),
            live: counts::live_of(connection, name)
                .ok()
                .flatten()
                .map(i64::unsigned_abs),
            created: live_created(connection, name, written),
        }
    }

    /// Opens the savepoint `name` (one write of a group). Until the next
    /// [`Store::settle`], writes are marked as a group's: outside a group's
    /// transaction the savepoint is one, committed by its release.
    pub(crate) fn savepoint(&self, name: &str) -> rusqlite::Result<()> {
        self.lock().execute_batch(&format!("SAVEPOINT {name}"))?;
        self.group.borrow_mut().get_or_insert_default();
        Ok(())
    }

    /// Releases the savepoint `name`, keeping what was written since it was
    /// opened, or, when not `keep`, rolling that back first.
    pub(crate) fn release(&self, name: &str, keep: bool) {
        let connection = self.lock();
        if !keep {
            let _ = connection.execute_batch(&format!("ROLLBACK TO {name}"));
        }
        let _ = connection.execute_batch(&format!("RELEASE {name}"));
    }

    /// Ends a write operation: a commit that did not mark the data as
    /// written (an index made) leaves the generation odd until now.
    pub(crate) fn settle(&self) {
        let group = self.group.borrow_mut().take();
        let planned = self.planned.borrow_mut().take();
        match group {
            Some(GroupWrites {
                everything: true, ..
            }) => self.written_everywhere(),
            Some(GroupWrites { resources, .. }) if !resources.is_empty() => {
                let planned = planned
                    .filter(|planned| planned.len() == resources.len())
                    .unwrap_or_else(|| self.read_settling(&resources));
                // Totals carried to the generation before it is published.
                let next = self.generation.next();
                let mut written = Vec::with_capacity(resources.len());
                for ((name, done), settling) in resources.iter().zip(planned) {
                    self.totals.apply(name, settling.carried, next);
                    written.push(Settled {
                        name,
                        written: done,
                        live: settling.live,
                        created: settling.created,
                    });
                }
                self.generation.advance(Some(&written));
            }
            _ => self.generation.settle(),
        }
    }

    /// What settling the writes to `resources` reads, once they committed
    /// (where the connection is free between operations; else nothing is
    /// carried or counted).
    fn read_settling(&self, resources: &[(String, counts::Written)]) -> Vec<Settling> {
        let connection = self.connection.try_borrow().ok();
        resources
            .iter()
            .map(|(name, written)| match connection.as_deref() {
                Some(connection) => self.settling(connection, name, written),
                None => Settling {
                    carried: None,
                    live: None,
                    created: None,
                },
            })
            .collect()
    }

    /// Moves every resource to the next generation (all the data changed).
    fn written_everywhere(&self) {
        self.totals.clear();
        self.generation.advance(None);
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
    #[cfg(test)]
    pub fn generation(&self) -> u64 {
        self.generation.get()
    }

    /// The write generation, to read from other threads.
    pub fn generation_handle(&self) -> Generation {
        self.generation.clone()
    }

    /// Marks all the data as changed; called by every write to more than a
    /// few resources (seeding, resets, reloads, jobs) when it commits.
    fn written(&self) {
        let mut group = self.group.borrow_mut();
        match group.as_mut() {
            Some(group) => group.everything = true,
            None => {
                drop(group);
                self.written_everywhere();
            }
        }
    }

    /// Marks the records of `resources` as changed; called by every write to
    /// them when it commits (in a group: when the group's transaction ends).
    fn written_to<'a>(&self, resources: impl IntoIterator<Item = &'a str>) {
        for resource in resources {
            self.wrote(resource, counts::Written::unknown());
        }
    }

    /// Marks the records of `resource` as changed as `written` says; called
    /// by every write to them when it commits (in a group: when the group's
    /// transaction ends, which carries filtered totals across it).
    fn wrote(&self, resource: &str, written: counts::Written) {
        let mut group = self.group.borrow_mut();
        let Some(group) = group.as_mut() else {
            drop(group);
            // Outside a group, the connection is still held: no total is
            // carried, and no answer read before.
            self.generation.advance(Some(&[Settled {
                name: resource,
                written: &counts::Written::unknown(),
                live: None,
                created: None,
            }]));
            return;
        };
        match group
            .resources
            .iter_mut()
            .find(|(name, _)| name == resource)
        {
            Some((_, kept)) => kept.merge(written),
            None => group.resources.push((resource.to_string(), written)),
        }
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

/// What settling a group's writes to one resource reads of the data.
#[derive(Debug)]
struct Settling {
    /// How its totals carry across them (none: they are dropped).
    carried: Option<counts::Carried>,
    /// How many live records it has after them, when known.
    live: Option<u64>,
    /// One of the records they created that is live after them, if any
    /// (a member rolled back leaves its created record's id behind).
    created: Option<RecordId>,
}

/// What a group's writes did to one resource, as they settle.
struct Settled<'a> {
    /// The resource's name.
    name: &'a str,
    /// What they did.
    written: &'a counts::Written,
    /// How many live records it has after them, when known.
    live: Option<u64>,
    /// One of the records they created that is live after them.
    created: Option<RecordId>,
}

/// One of the records `written` created in the resource named `name` that
/// is live on `connection`.
fn live_created(
    connection: &Connection,
    name: &str,
    written: &counts::Written,
) -> Option<RecordId> {
    if written.unknown {
        return None;
    }
    let sql = format!("SELECT 1 FROM \"res_{name}\" WHERE id = ?1 AND deleted_at IS NULL");
    let mut statement = connection.prepare_cached(&sql).ok()?;
    written
        .created
        .iter()
        .find(|id| statement.exists([sql_id(id)]).unwrap_or(false))
        .cloned()
}

/// What the writes of an open group changed: all the data, or these
/// resources' records, each in the way it says.
#[derive(Debug, Default)]
struct GroupWrites {
    everything: bool,
    resources: Vec<(String, counts::Written)>,
}

/// A number that changes with every write to a store, and the one at which
/// each resource's records last changed, readable from any thread.
#[derive(Debug, Clone, Default)]
pub struct Generation(std::sync::Arc<Generations>);

#[derive(Debug, Default)]
struct Generations {
    /// Bumped by every write.
    now: std::sync::atomic::AtomicU64,
    /// When all the data last changed at once.
    everything: std::sync::atomic::AtomicU64,
    /// When each resource last changed alone, and what changed, by name.
    resources: parking_lot::RwLock<std::collections::HashMap<String, changes::Changes>>,
    /// Totals of filtered and searched list queries, shared by the store's connections.
    totals: std::sync::Arc<counts::Totals>,
}

impl Generation {
    /// The number now: odd while a commit is under way.
    pub fn get(&self) -> u64 {
        self.0.now.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The generation at which the records of any of `resources` last
    /// changed: it changes with every write to one of them, and only then.
    pub fn of<'a>(&self, resources: impl IntoIterator<Item = &'a str>) -> u64 {
        let changed = self.0.resources.read();
        resources
            .into_iter()
            .filter_map(|name| changed.get(name).map(|changes| changes.at))
            .fold(
                self.0.everything.load(std::sync::atomic::Ordering::SeqCst),
                u64::max,
            )
    }

    /// A record of `resource` the writes at `generation` created, if any is
    /// remembered.
    fn created_at(&self, resource: &str, generation: u64) -> Option<RecordId> {
        self.0
            .resources
            .read()
            .get(resource)?
            .created_at(generation)
            .cloned()
    }

    /// How an answer read at generation `from` with `basis` holds now, if
    /// it does: no write since changed what it read.
    pub fn holds(&self, basis: &Basis, from: u64) -> Option<Carried> {
        if self.0.everything.load(std::sync::atomic::Ordering::SeqCst) > from {
            return None;
        }
        let changed = self.0.resources.read();
        changed
            .get(basis.resource())?
            .holds(basis, from, &self.0.totals)
    }

    /// Moves to the next even generation (data was written and committed),
    /// recording it as that of `resources`, each written as it says and
    /// with its live records after, when known (of all the data when
    /// `None`). Only the store's owner writes.
    fn advance(&self, resources: Option<&[Settled<'_>]>) {
        use std::sync::atomic::Ordering::SeqCst;
        let next = self.next();
        let mut changed = self.0.resources.write();
        match resources {
            Some(written) => {
                for settled in written {
                    let Settled {
                        name,
                        written,
                        live,
                        created,
                    } = settled;
                    let created = created.as_ref();
                    match changed.get_mut(*name) {
                        Some(changes) => changes.record(next, written, *live, created),
                        None => {
                            let mut changes = changes::Changes::default();
                            changes.record(next, written, *live, created);
                            changed.insert(name.to_string(), changes);
                        }
                    }
                }
            }
            None => {
                // Nothing read before is carried: what each resource keeps goes.
                for changes in changed.values_mut() {
                    changes.forget(next);
                }
                self.0.everything.store(next, SeqCst);
            }
        }
        // Published before the resources' generations are: a request that
        // reads a resource's new one ([`Generation::of`], its answer's
        // version) then finds `now` past any read transaction left open
        // before it (see `is_latest_settled`), and reads the new state.
        self.0.now.store(next, SeqCst);
        drop(changed);
    }

    /// The even generation [`Generation::advance`] moves to.
    fn next(&self) -> u64 {
        let now = self.0.now.load(std::sync::atomic::Ordering::SeqCst);
        if now % 2 == 1 { now + 1 } else { now + 2 }
    }

    /// Adds one to make the number odd, if it is even: a commit begins.
    fn begin_commit(&self) {
        self.step(|number| number.is_multiple_of(2));
    }

    /// Whether `generation` is the last settled one: it is now, or a
    /// commit after it is under way.
    fn is_latest_settled(&self, generation: u64) -> bool {
        let now = self.get();
        now == generation || now == generation + 1
    }

    /// Adds one to make the number even, if it is odd: the commit is over.
    fn settle(&self) {
        self.step(|number| !number.is_multiple_of(2));
    }

    fn step(&self, when: impl Fn(u64) -> bool) {
        let _ = self.0.now.fetch_update(
            std::sync::atomic::Ordering::SeqCst,
            std::sync::atomic::Ordering::SeqCst,
            |number| when(number).then_some(number + 1),
        );
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

/// Opens a connection to the database file at `path`: in WAL mode with
/// FULL sync, a commit is on disk before the write is acknowledged; a
/// `temporary` file (an in-memory store) is never synced, its rollback
/// journal in memory until a reader opens (then WAL, read through memory
/// mapping).
fn open_file(path: &Path, temporary: bool) -> Result<Connection, rusqlite::Error> {
    let connection = Connection::open(path)?;
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    if temporary {
        connection.pragma_update(None, "journal_mode", "MEMORY")?;
        connection.pragma_update(None, "synchronous", "OFF")?;
    } else {
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "FULL")?;
    }
    Ok(connection)
}

/// The page cache of a reading connection of an in-memory store (16 MiB:
/// negative sizes are in KiB), for what it cannot read from its map of the
/// file (see `kept_map`): pages of the log, of a file past the map's end,
/// or every page where the VFS could not be registered.
const READER_CACHE_SIZE: i64 = -16 * 1024;

/// How much of an in-memory store's file its writing connection maps into memory.
const TEMPORARY_MMAP_BYTES: i64 = 1 << 30;

/// Settings every connection of a store has: its statement cache, plans
/// independent of bound values, the SQL functions and the query budget.
fn configure(connection: &mut Connection) -> Result<std::sync::Arc<Deadline>, rusqlite::Error> {
    connection.set_prepared_statement_cache_capacity(256);
    // Plans must not depend on bound values: SQLite otherwise plans a
    // statement for its LIMIT's value and prepares it again whenever a
    // new one is bound, which is every time a page is read.
    connection.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    register_functions(connection)?;
    let deadline = std::sync::Arc::new(Deadline {
        start: std::time::Instant::now(),
        nanos: std::sync::atomic::AtomicU64::new(0),
        budget_nanos: std::sync::atomic::AtomicU64::new(nanos_of(DEFAULT_QUERY_BUDGET)),
        give_way_nanos: std::sync::atomic::AtomicU64::new(0),
        gave_way: std::sync::atomic::AtomicBool::new(false),
    });
    let watched = deadline.clone();
    connection.progress_handler(BUDGET_CHECK_STEPS, Some(move || watched.passed()))?;
    Ok(deadline)
}

/// SQLite's settings that decide what survives a crash, as in force.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Durability {
    /// `wal` (in memory too: a temporary file).
    pub journal_mode: String,
    /// `full` with `--db`: each commit is synced to disk before it is acknowledged (`off` in memory).
    pub synchronous: String,
}

/// The quoted table name of a resource.
fn table(resource: &Resource) -> String {
    TableName(resource).to_string()
}

/// A resource's table name, quoted, to write into SQL without a string of its own.
struct TableName<'a>(&'a Resource);

impl std::fmt::Display for TableName<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "\"res_{}\"", self.0.name)
    }
}

/// The SQL expression of a field's value on a row of `resource`'s table:
/// a stored field read from the JSON document, a computed field computed.
fn value_expression(resource: &Resource, name: &str) -> String {
    match resource
        .field(name)
        .and_then(|field| field.computed.as_ref())
    {
        Some(computed) => computed_expression(resource, computed),
        None => field_expression(resource, name),
    }
}

/// The SQL expression computing a computed field on a row of `resource`'s
/// table: a count of the referencing records (served by the reference's
/// index: `+` takes the id's affinity off, which would otherwise keep
/// SQLite from searching an index of an expression without one), or a
/// template's pieces joined. A template's literal text is the
/// one text of the spec spliced into SQL, as a quoted string literal.
fn computed_expression(resource: &Resource, computed: &crate::spec::Computed) -> String {
    use crate::spec::{Computed, TemplatePart};
    let outer = table(resource);
    match computed {
        Computed::Count {
            resource: counted,
            field,
            ..
        } => format!(
            "(SELECT count(*) FROM \"res_{counted}\" AS counted WHERE counted.{column} = +{outer}.id AND counted.deleted_at IS NULL)",
            // A count's field is a reference, kept in a column of its own.
            column = references::column(field)
        ),
        Computed::Template(parts) => {
            let pieces: Vec<String> = parts
                .iter()
                .map(|part| match part {
                    TemplatePart::Text(text) => format!("'{}'", text.replace('\'', "''")),
                    TemplatePart::Field(name) => format!(
                        "(CASE json_type({outer}.data, '$.{name}') WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' WHEN 'null' THEN '' ELSE coalesce(CAST(json_extract({outer}.data, '$.{name}') AS TEXT), '') END)"
                    ),
                })
                .collect();
            match pieces.is_empty() {
                true => "''".to_string(),
                false => format!("({})", pieces.join(" || ")),
            }
        }
    }
}

/// The columns a record is read from (see `read::record_from_row`): with
/// computed fields, the JSON document has their values set in.
fn record_columns(resource: &Resource) -> std::borrow::Cow<'static, str> {
    if !resource.has_computed() {
        return std::borrow::Cow::Borrowed(read::COLUMNS);
    }
    let outer = table(resource);
    let mut data = format!("json_set({outer}.data");
    for field in &resource.fields {
        if let Some(computed) = &field.computed {
            data.push_str(&format!(
                ", '$.{}', {}",
                field.name,
                computed_expression(resource, computed)
            ));
        }
    }
    data.push(')');
    std::borrow::Cow::Owned(format!(
        "{outer}.id, {data} AS data, {outer}.created_at, {outer}.updated_at, {outer}.deleted_at"
    ))
}

/// The SQL expression of stored field `field` on a row of `resource`'s
/// table: its column, for a reference; else read from the JSON document.
fn field_expression(resource: &Resource, field: &str) -> String {
    match references::is_kept(resource, field) {
        true => references::column(field),
        false => format!("json_extract(data, '$.{field}')"),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whoever_sees_a_resources_new_generation_sees_the_store_at_it() {
        let generation = Generation::default();
        let watched = generation.clone();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopping = std::sync::Arc::clone(&stop);
        // A request takes its version from `of`, then its read checks `get`:
        // a read transaction of the state before must not look current then.
        let watcher = std::thread::spawn(move || {
            let mut behind = 0u64;
            while !stopping.load(std::sync::atomic::Ordering::SeqCst) {
                let of = watched.of(["notes"]);
                behind += u64::from(watched.get() < of);
            }
            behind
        });
        let written = counts::Written::created(RecordId::Integer(1));
        for _ in 0..200_000 {
            generation.begin_commit();
            generation.advance(Some(&[Settled {
                name: "notes",
                written: &written,
                live: None,
                created: None,
            }]));
        }
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        assert_eq!(watcher.join().expect("watched"), 0);
    }

    #[test]
    fn a_count_field_searches_the_index_of_the_counted_reference() {
        let spec = crate::spec::parse(
            "spec.yaml",
            "standin: 1\nresources:\n  posts:\n    fields:\n      n: { count: comments }\n  comments:\n    fields:\n      post: { ref: posts }\n",
        )
        .expect("a valid spec");
        let store = Store::open(Location::Memory).expect("a store");
        store.prepare(&spec).expect("tables");
        let posts = spec.resource("posts").expect("posts");
        let sql = format!(
            "EXPLAIN QUERY PLAN SELECT {} FROM {}",
            record_columns(posts),
            table(posts)
        );
        let connection = store.lock();
        let mut statement = connection.prepare(&sql).expect("the query compiles");
        let plan: Vec<String> = statement
            .query_map([], |row| row.get::<_, String>(3))
            .expect("a plan")
            .collect::<rusqlite::Result<_>>()
            .expect("a plan");
        assert!(
            plan.iter()
                .any(|step| step.starts_with("SEARCH counted USING INDEX")),
            "{plan:?}"
        );
    }

    #[test]
    fn an_in_memory_stores_file_is_deleted_with_its_last_connection() {
        let store = Store::open(Location::Memory).expect("a store");
        let reader = store.open_reader().expect("a reader");
        let path = store.path.clone();
        assert!(path.exists());
        drop(store);
        assert!(path.exists(), "a reader still uses it");
        drop(reader);
        assert!(!path.exists());
        let mut wal = path.into_os_string();
        wal.push("-wal");
        assert!(!PathBuf::from(wal).exists());
    }

    #[test]
    fn a_reader_keeping_its_map_sees_every_commit_as_the_file_grows() {
        let store = Store::open(Location::Memory).expect("a store");
        store
            .lock()
            .execute_batch(
                "CREATE TABLE t (x INTEGER, pad TEXT); INSERT INTO t VALUES (0, 'first')",
            )
            .expect("written");
        store.settle();
        let reader = store.open_reader().expect("a reader");
        let mapped: i64 = reader
            .lock()
            .query_row("PRAGMA mmap_size", [], |row| row.get(0))
            .expect("read");
        assert!(mapped > 0, "the reader maps its file");
        // Each round grows the file by about 50 KiB and changes the first
        // row: the reader's map, made early, is then far shorter than the
        // file, and the writer's checkpoints copy changed pages into it.
        let pad = "p".repeat(1000);
        for round in 1..=300_i64 {
            {
                let writer = store.lock();
                let transaction = writer.unchecked_transaction().expect("a transaction");
                for _ in 0..50 {
                    transaction
                        .execute(
                            "INSERT INTO t VALUES (?1, ?2)",
                            rusqlite::params![round, pad],
                        )
                        .expect("inserted");
                }
                transaction
                    .execute("UPDATE t SET x = ?1 WHERE rowid = 1", [round])
                    .expect("updated");
                transaction.commit().expect("committed");
            }
            store.written();
            let (rows, first, last) = reader.in_snapshot(|| {
                let connection = reader.lock();
                let rows: i64 = connection
                    .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
                    .expect("counted");
                let first: (i64, String) = connection
                    .query_row("SELECT x, pad FROM t WHERE rowid = 1", [], |row| {
                        Ok((row.get(0)?, row.get(1)?))
                    })
                    .expect("the first row");
                let last: i64 = connection
                    .query_row("SELECT x FROM t ORDER BY rowid DESC LIMIT 1", [], |row| {
                        row.get(0)
                    })
                    .expect("the last row");
                (rows, first, last)
            });
            assert_eq!(rows, 1 + 50 * round);
            assert_eq!(first, (round, "first".to_string()));
            assert_eq!(last, round);
        }
        // SQLite let the map go at each round's first read; it was kept
        // but where the file had grown by a quarter.
        let (database, log) = kept_map::counts(&reader.lock());
        let (database, log) = (database.expect("the reader's file"), log.expect("its log"));
        assert!(
            database.kept >= 250,
            "the reader's map was kept across commits: {database:?}"
        );
        // The first row's changes were read from the log, through its map.
        assert!(log.log_maps > 0, "the reader read the log through a map");
    }

    #[test]
    fn pages_added_past_a_readers_map_are_mapped_once_read_often() {
        let store = Store::open(Location::Memory).expect("a store");
        {
            let writer = store.lock();
            let transaction = writer.unchecked_transaction().expect("a transaction");
            transaction
                .execute_batch("CREATE TABLE t (x INTEGER, pad TEXT)")
                .expect("created");
            for x in 0..2000_i64 {
                transaction
                    .execute(
                        "INSERT INTO t VALUES (?1, ?2)",
                        rusqlite::params![x, "p".repeat(1000)],
                    )
                    .expect("inserted");
            }
            transaction.commit().expect("committed");
        }
        store.settle();
        let reader = store.open_reader().expect("a reader");
        let count = |reader: &Store| {
            reader.in_snapshot(|| {
                reader.lock().query_row(
                    "SELECT count(*) FROM t INDEXED BY t_x WHERE x >= 0",
                    [],
                    |row| row.get::<_, i64>(0),
                )
            })
        };
        // Mapped at the file's size with no index, and, after a commit,
        // kept at that size.
        assert!(count(&reader).is_err(), "no index yet");
        store
            .lock()
            .execute("UPDATE t SET pad = 'first' WHERE rowid = 1", [])
            .expect("updated");
        store.written();
        assert!(count(&reader).is_err(), "no index yet");
        // An index of a few pages, copied into the file past the reader's
        // map: far less than a quarter of the file.
        store
            .lock()
            .execute_batch("CREATE INDEX t_x ON t (x); PRAGMA wal_checkpoint;")
            .expect("indexed");
        store.written();
        // A commit empties the reader's page cache: each round reads the
        // index's last page past the map again, until the map is made again.
        for round in 0..1200_i64 {
            store
                .lock()
                .execute("UPDATE t SET pad = ?1 WHERE rowid = 1", [round.to_string()])
                .expect("updated");
            store.written();
            assert_eq!(count(&reader).expect("counted"), 2000);
        }
        let (database, _) = kept_map::counts(&reader.lock());
        assert!(
            database.expect("the reader's file").remade_for_reads_past > 0,
            "the reader's map was made again to cover the index"
        );
    }

    #[test]
    fn a_reader_knows_its_snapshots_generation_only_when_no_commit_is_under_way() {
        let store = Store::open(Location::Memory).expect("a store");
        store
            .lock()
            .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1)")
            .expect("written");
        store.settle();
        let reader = store.open_reader().expect("a reader");
        let settled = store.generation();
        assert_eq!(settled % 2, 0);
        let seen = reader.in_snapshot(|| reader.count_generation("t"));
        assert_eq!(seen, Some(store.generation.of(["t"])));
        // A commit made and not yet settled: the generation is odd.
        store
            .lock()
            .execute_batch("INSERT INTO t VALUES (2)")
            .expect("written");
        assert_eq!(store.generation() % 2, 1);
        let (seen, rows) = reader.in_snapshot(|| {
            let rows: i64 = reader
                .lock()
                .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
                .expect("counted");
            (reader.count_generation("t"), rows)
        });
        assert_eq!((seen, rows), (None, 2));
        store.written();
        assert_eq!(store.generation() % 2, 0);
        assert!(store.generation() > settled);
        assert!(reader.lock().is_autocommit(), "the read transaction ended");
    }

    #[test]
    fn a_backfill_of_defaults_makes_what_was_counted_stale() {
        let before = crate::spec::parse(
            "test.yaml",
            "standin: 1\nresources:\n  notes:\n    fields: { text: string }\n    count: 3\n",
        )
        .expect("a valid spec");
        let after = crate::spec::parse(
            "test.yaml",
            "standin: 1\nresources:\n  notes:\n    fields:\n      text: string\n      \
             status: { type: string, default: draft }\n    count: 3\n",
        )
        .expect("a valid spec");
        let store = Store::open(Location::Memory).expect("a store");
        store.prepare(&before).expect("tables");
        store.seed(&before, 1).expect("seeded");
        store.prepare(&after).expect("the new column");
        let counted = store.generation.of(["notes"]);
        store.backfill_defaults(&after).expect("backfilled");
        assert!(store.generation.of(["notes"]) > counted);
    }

    #[test]
    fn a_groups_writes_change_their_resources_generation_once_it_has_committed() {
        let store = Store::open(Location::Memory).expect("a store");
        store
            .lock()
            .execute_batch("CREATE TABLE t (x); CREATE TABLE u (x)")
            .expect("written");
        store.settle();
        let (t, u) = (store.generation.of(["t"]), store.generation.of(["u"]));
        store.begin_group().expect("a group");
        store
            .lock()
            .execute_batch("INSERT INTO t VALUES (1)")
            .expect("written");
        store.written_to(["t"]);
        // Not committed: a reader's snapshot does not hold it yet, so an
        // answer read now must not be kept as the new generation's.
        assert_eq!(store.generation.of(["t"]), t);
        assert_eq!(store.count_generation("t"), None);
        assert!(store.commit_group());
        store.settle();
        let now = store.generation();
        assert_eq!(now % 2, 0);
        assert_eq!(store.generation.of(["t"]), now);
        assert_eq!(store.generation.of(["u"]), u);
        assert_eq!(store.count_generation("t"), Some(now));
        // A write alone, in a savepoint its release commits: the same.
        store.savepoint("alone").expect("a savepoint");
        store
            .lock()
            .execute_batch("INSERT INTO t VALUES (2)")
            .expect("written");
        store.written_to(["t"]);
        assert_eq!(store.generation.of(["t"]), now);
        store.release("alone", true);
        store.settle();
        assert!(store.generation.of(["t"]) > now);
    }

    #[test]
    fn databases_a_killed_process_left_are_removed_and_a_running_ones_kept() {
        let mut child = std::process::Command::new("true")
            .spawn()
            .expect("a process");
        let gone = child.id();
        child.wait().expect("it ended");
        let directory = std::env::temp_dir();
        let orphaned = directory.join(format!("standin-{gone}-7.sqlite-wal"));
        let running = directory.join(format!("standin-{}-9999.sqlite", std::process::id()));
        let unrelated = directory.join(format!("standin-{gone}-notes.sqlite"));
        for path in [&orphaned, &running, &unrelated] {
            std::fs::write(path, b"").expect("written");
        }
        remove_orphaned_databases();
        assert!(!orphaned.exists());
        assert!(running.exists());
        assert!(unrelated.exists(), "not a name standin gives");
        for path in [&running, &unrelated] {
            std::fs::remove_file(path).expect("removed");
        }
    }

    #[test]
    fn a_reading_connection_writes_nothing() {
        let store = Store::open(Location::Memory).expect("a store");
        let reader = store.open_reader().expect("a reader");
        assert!(reader.lock().execute_batch("CREATE TABLE t (x)").is_err());
    }
}
