//! Seeding: each resource's fixed `records`, then `count` generated ones,
//! written once per resource (never on top of existing data) and
//! deterministic: the same spec and seed give byte-identical data.

use std::collections::{HashMap, HashSet};

use rusqlite::{CachedStatement, Connection, OptionalExtension};

use super::DatabaseError;
use serde_json::{Map, Value};

use super::plan::{Plan, Planned};
use super::steps::{Steps, Writer};
use super::write::Insert;
use super::{RecordId, Store, sql_id, table};
use crate::spec::{IdKind, Resource, Spec};

/// Above this many records, a resource is seeded in bulk: its search index is
/// made up front and written by the seeding itself (in one transaction) or
/// once after its last step, not by a trigger per row, and the indexes of its
/// unique and reference fields are made after its rows. Dropping and creating
/// triggers and indexes changes the schema, which costs in proportion to the
/// whole schema, so it only pays for large seedings.
const BULK: usize = 1_000;

/// Whether `resource` is seeded in bulk (see [`BULK`]).
pub(super) fn is_bulk(resource: &Resource) -> bool {
    resource.records.len() + resource.count as usize > BULK
}

/// What seeding did, per resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeedReport {
    /// Resources seeded now, with the number of records written.
    pub seeded: Vec<(String, u64)>,
}

/// Why seeding, a reset or a reload of the data failed.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// A record the spec gives, or one generated for it, cannot be stored.
    #[error("{path}: {reason}")]
    Record {
        /// The record's path in the spec (`resources.posts.records.2`, or `.count`).
        path: String,
        /// Why.
        reason: String,
    },
    /// No record satisfying a resource's fields could be generated.
    #[error("{0}")]
    Generation(String),
    /// A resource's data could not be put back in its seeded state.
    #[error("cannot reset {resource}: {source}")]
    Restore {
        /// The resource.
        resource: String,
        /// The database's error.
        source: DatabaseError,
    },
    /// The database failed.
    #[error("the database failed: {0}")]
    Database(#[from] DatabaseError),
}

impl From<rusqlite::Error> for SeedError {
    fn from(error: rusqlite::Error) -> SeedError {
        SeedError::Database(DatabaseError(error))
    }
}

impl Store {
    /// Seeds every resource of `spec` that has never been seeded, in steps
    /// that let requests use the store in between (in one transaction when
    /// none can: see `steps`).
    pub fn seed(&self, spec: &Spec, seed: u64) -> Result<SeedReport, SeedError> {
        // Alone with its database file (at start-up), seeding writes through
        // a rollback journal, as durable (each commit synced): through the
        // WAL, every page would be written twice, to the log and again by
        // the checkpoint that copies it into the database. Where the mode
        // cannot change, it seeds through the WAL.
        let journal = matches!(self.location, super::Location::File(_))
            && !self.has_readers.get()
            && self.set_journal_mode("delete").unwrap_or(false);
        let seeded = {
            let _writeback = journal.then(|| Writeback::start(&self.path));
            self.seed_in_steps(spec, seed)
        };
        if journal {
            self.set_journal_mode("wal")?;
        }
        seeded
    }

    fn seed_in_steps(&self, spec: &Spec, seed: u64) -> Result<SeedReport, SeedError> {
        let mut writer = Writer::Steps(Steps::begin(self)?);
        let report = seed_unseeded(&mut writer, spec, seed)?;
        if let Writer::Steps(steps) = writer {
            steps.finish()?;
        }
        Ok(report)
    }

    /// Sets the journal mode of the database; whether it is in that mode now.
    fn set_journal_mode(&self, mode: &str) -> rusqlite::Result<bool> {
        let now: String =
            self.lock()
                .pragma_update_and_check(None, "journal_mode", mode, |row| row.get(0))?;
        Ok(now.eq_ignore_ascii_case(mode))
    }
}

/// The disk's writing of a database file's changed pages, started as
/// seeding goes on rather than all at its commit: the system holds
/// gigabytes of changed pages before it writes any of its own accord, so a
/// million records' 400 MB would otherwise be written by the commit's sync
/// alone (a second of the start-up, measured), while the processor waits.
/// A thread asks every [`Writeback::EVERY`] for the pages changed so far to
/// be written (`sync_file_range`, which waits for none), until dropped.
///
/// Closing any descriptor of a file drops every POSIX lock the process
/// holds on it, SQLite's included: the writeback's own descriptor is closed
/// only when it is dropped, once the seeding's transaction has ended (in
/// rollback-journal mode, where the connection holds no lock between
/// transactions). It must never outlive that, nor be dropped inside one.
struct Writeback {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Writeback {
    const EVERY: std::time::Duration = std::time::Duration::from_millis(100);

    /// Starts writing `path`'s changed pages as they come; none where the
    /// file cannot be opened or the system has no such call.
    fn start(path: &std::path::Path) -> Writeback {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::fs::File::open(path).ok().and_then(|file| {
            std::thread::Builder::new()
                .name("standin-writeback".into())
                .spawn(move || {
                    while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                        stopped.recv_timeout(Writeback::EVERY)
                    {
                        start_writing(&file);
                    }
                })
                .ok()
        });
        Writeback {
            stop: Some(stop),
            thread,
        }
    }
}

impl Drop for Writeback {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts the writing of `file`'s changed pages, waiting for none of them.
#[cfg(target_os = "linux")]
fn start_writing(file: &std::fs::File) {
    use std::os::fd::AsRawFd;
    // SAFETY: a plain system call on an open descriptor; offset 0 and
    // length 0 name the whole file. Its failure only leaves the pages to
    // the commit's sync.
    unsafe {
        libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writing(_file: &std::fs::File) {}

impl Store {
    /// Drops the records of every resource of `spec` and forgets they were
    /// seeded, so that the next seeding stores the spec's records afresh (a
    /// json-server db.json edited by hand is reloaded with its contents).
    pub fn forget_seeded(&self, spec: &Spec) -> Result<(), SeedError> {
        let mut connection = self.lock_for_request();
        let work = |connection: &mut Connection| -> rusqlite::Result<()> {
            let transaction = connection.transaction()?;
            for resource in &spec.resources {
                let exists: bool = transaction.query_row(
                    "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = ?1)",
                    [format!("res_{}", resource.name)],
                    |row| row.get(0),
                )?;
                if exists {
                    transaction.execute_batch(&format!("DELETE FROM {}", table(resource)))?;
                    super::counts::set(&transaction, resource, 0)?;
                }
                transaction.execute(
                    "DELETE FROM _standin_seeded WHERE resource = ?1",
                    [&resource.name],
                )?;
            }
            transaction.commit()
        };
        work(&mut connection)?;
        self.written();
        drop(connection);
        Ok(())
    }
}

/// Seeds every resource of `spec` not seeded yet, keeping a snapshot of what
/// it writes (in the attached `seeded` database, where not too large) for
/// resets.
pub(super) fn seed_unseeded(
    writer: &mut Writer<'_>,
    spec: &Spec,
    seed: u64,
) -> Result<SeedReport, SeedError> {
    let mut ids: HashMap<&str, Vec<Value>> = HashMap::new();
    // Only the ids of referenced resources are drawn from.
    let referenced: HashSet<&str> = spec
        .resources
        .iter()
        .flat_map(Resource::references)
        .map(|(_, reference)| reference.resource.as_str())
        .collect();
    let mut report = SeedReport::default();
    for resource in spec.seeding_order() {
        let connection = writer.connection();
        let keep_ids = referenced.contains(resource.name.as_str());
        if is_seeded(connection, resource)? {
            if keep_ids {
                let live = live_ids(connection, resource)?;
                ids.insert(&resource.name, live);
            }
            continue;
        }
        let bulk = is_bulk(resource);
        if bulk {
            super::search::pause(connection, resource)?;
            super::schema::drop_field_indexes(connection, resource)?;
        }
        clear_unfinished(connection, resource)?;
        // In one transaction, records are indexed for search as they are
        // stored; a commit between steps would write a small segment of the
        // index each time, so seeding in steps indexes them all at the end.
        let indexing = match bulk && !writer.commits_in_steps() {
            true => super::search::Indexing::begin(connection, resource)?,
            false => None,
        };
        // The table is empty now; writes between seeding's steps keep the
        // count, and the seeded records are added at the end.
        super::counts::set(connection, resource, 0)?;
        let target = Target {
            resource,
            keep_ids,
            indexing: indexing.as_ref(),
        };
        let written = match seed_resource(writer, spec, &target, seed, &mut ids) {
            Ok(written) => written,
            Err(error) => {
                // What was stored before the failure stays until the next seeding.
                super::counts::recount(writer.connection(), resource)?;
                if bulk {
                    // Writes look records up through them meanwhile; the
                    // seeding's error is the one to report.
                    let _ = super::schema::create_field_indexes(writer.connection(), resource);
                }
                return Err(error);
            }
        };
        let connection = writer.connection();
        super::counts::add(connection, resource, written as i64)?;
        if bulk {
            super::schema::create_field_indexes(connection, resource)?;
            match indexing {
                Some(indexing) => indexing.finish(connection, resource)?,
                None => super::search::resume(connection, resource)?,
            }
        }
        connection.execute(
            "INSERT INTO _standin_seeded (resource) VALUES (?1)",
            [&resource.name],
        )?;
        super::reset::snapshot(connection, resource, written)?;
        report.seeded.push((resource.name.clone(), written));
        writer.pause()?;
    }
    Ok(report)
}

/// Removes the rows of a seeding that never finished (a process stopped
/// between two of its steps), so that seeding starts again from nothing and
/// gives the same records and ids.
fn clear_unfinished(connection: &Connection, resource: &Resource) -> rusqlite::Result<()> {
    let table = table(resource);
    let sql = format!("SELECT EXISTS (SELECT 1 FROM {table})");
    let unfinished: bool = connection.query_row(&sql, [], |row| row.get(0))?;
    if unfinished {
        connection.execute_batch(&format!("DELETE FROM {table}"))?;
    }
    if unfinished && resource.id == IdKind::Integer {
        connection.execute(
            "DELETE FROM main.sqlite_sequence WHERE name = ?1",
            [format!("res_{}", resource.name)],
        )?;
    }
    Ok(())
}

fn is_seeded(connection: &Connection, resource: &Resource) -> rusqlite::Result<bool> {
    connection
        .query_row(
            "SELECT 1 FROM _standin_seeded WHERE resource = ?1",
            [&resource.name],
            |_| Ok(()),
        )
        .optional()
        .map(|found| found.is_some())
}

fn live_ids(connection: &Connection, resource: &Resource) -> rusqlite::Result<Vec<Value>> {
    let sql = format!(
        "SELECT id FROM {} WHERE deleted_at IS NULL ORDER BY id",
        table(resource)
    );
    let mut statement = connection.prepare(&sql)?;
    let rows = statement.query_map([], |row| {
        Ok(match resource.id {
            IdKind::Integer => Value::from(row.get::<_, i64>(0)?),
            _ => Value::from(row.get::<_, String>(0)?),
        })
    })?;
    rows.collect()
}

/// How many planned records go to the storing thread at once, and how many
/// such batches wait at most: handing records over one by one costs a
/// wake-up of the other thread each, and waiting ones hold memory.
const BATCH: usize = 256;
const WAITING_BATCHES: usize = 4;

/// A resource being seeded, and what its seeding keeps up to date.
struct Target<'s, 'i> {
    resource: &'s Resource,
    /// Whether its ids are kept, for references to it.
    keep_ids: bool,
    /// Its search index, written record by record.
    indexing: Option<&'i super::search::Indexing>,
}

/// Seeds a resource, adding its ids to `ids` where it keeps them; returns
/// how many records it stored.
fn seed_resource<'s>(
    writer: &mut Writer<'_>,
    spec: &'s Spec,
    target: &Target<'s, '_>,
    seed: u64,
    ids: &mut HashMap<&'s str, Vec<Value>>,
) -> Result<u64, SeedError> {
    let resource = target.resource;
    let verbatim = spec.dialect == crate::spec::Dialect::JsonServer;
    let mut plan = Plan::new(resource, seed, verbatim, target.indexing.is_some());
    let total = plan.total as u64;
    let insert = Insert::new(resource);
    let mut own = ids.remove(resource.name.as_str()).unwrap_or_default();
    if resource
        .references()
        .any(|(_, reference)| reference.resource == resource.name)
    {
        // A reference to its own resource draws from the records stored so
        // far: each record is planned after the one before it is stored.
        ids.insert(&resource.name, own);
        while let Some(planned) = plan.next(ids) {
            let planned = planned.map_err(SeedError::Generation)?;
            let connection = writer.connection();
            let mut statements = Statements::prepare(connection, &insert, target)?;
            let id = store(connection, &mut statements, spec, target, planned)?;
            drop(statements);
            writer.pause()?;
            ids.entry(&resource.name).or_default().push(id);
        }
        return Ok(total);
    }
    // Generating values costs about as much as storing them: records are
    // planned on a second thread while this one stores them, in order.
    let others = &*ids;
    let stored = std::thread::scope(|scope| {
        let (sender, planned) = std::sync::mpsc::sync_channel(WAITING_BATCHES);
        scope.spawn(move || {
            let mut batch = Vec::with_capacity(BATCH);
            while let Some(next) = plan.next(others) {
                let failed = next.is_err();
                batch.push(next);
                if batch.len() == BATCH || failed {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                    if sender.send(full).is_err() || failed {
                        return;
                    }
                }
            }
            let _ = sender.send(batch);
        });
        let mut records = planned.into_iter().flatten().peekable();
        let mut rows = Vec::with_capacity(ROWS);
        while records.peek().is_some() {
            let connection = writer.connection();
            let mut statements = Statements::prepare(connection, &insert, target)?;
            for next in records.by_ref() {
                let planned = next.map_err(SeedError::Generation)?;
                // Generated records are stored several to a statement; a
                // fixed one alone, after those before it (its references
                // are checked as it is stored).
                let alone = planned.fixed.is_some();
                rows.push(planned);
                if alone || rows.len() == ROWS {
                    store_rows(
                        connection,
                        &mut statements,
                        spec,
                        target,
                        &mut rows,
                        &mut own,
                    )?;
                }
                if writer.step_is_over() {
                    break;
                }
            }
            store_rows(
                connection,
                &mut statements,
                spec,
                target,
                &mut rows,
                &mut own,
            )?;
            drop(statements);
            writer.pause()?;
        }
        Ok(())
    });
    if target.keep_ids {
        ids.insert(&resource.name, own);
    }
    stored.map(|()| total)
}

/// The error of a planned record that could not be stored.
fn unstored(resource: &Resource, planned: &Planned, error: rusqlite::Error) -> SeedError {
    SeedError::Record {
        path: record_path(resource, planned),
        reason: match error {
            rusqlite::Error::SqliteFailure(_, Some(message)) => {
                format!("cannot store the record: {message}")
            }
            other => format!("cannot store the record: {other}"),
        },
    }
}

/// A planned record's path in the spec: a fixed one's, or the resource's count.
fn record_path(resource: &Resource, planned: &Planned) -> String {
    match planned.fixed {
        Some(_) => format!("resources.{}.records.{}", resource.name, planned.index),
        None => format!("resources.{}.count", resource.name),
    }
}

/// How many generated records one statement stores: a statement's own work
/// (and AUTOINCREMENT's update of `sqlite_sequence`, once a statement) is
/// then shared by as many records.
const ROWS: usize = 32;

/// The statements storing a resource's records, prepared once for a step
/// (and not looked up again for each record).
struct Statements<'c> {
    insert: CachedStatement<'c>,
    /// Storing [`ROWS`] records at once.
    rows: CachedStatement<'c>,
    index: Option<CachedStatement<'c>>,
}

impl<'c> Statements<'c> {
    fn prepare(
        connection: &'c Connection,
        insert: &Insert,
        target: &Target<'_, '_>,
    ) -> rusqlite::Result<Statements<'c>> {
        Ok(Statements {
            insert: insert.statement(connection)?,
            rows: insert.rows_statement(connection, ROWS, stored_with_ids(target.resource))?,
            index: match target.indexing {
                Some(indexing) => Some(indexing.statement(connection)?),
                None => None,
            },
        })
    }
}

/// Stores the planned records `rows` of the target resource, in order, and
/// empties it: [`ROWS`] generated ones with one statement, else one by one.
/// Their ids go to `own` if the target keeps them.
fn store_rows(
    connection: &Connection,
    statements: &mut Statements<'_>,
    spec: &Spec,
    target: &Target<'_, '_>,
    rows: &mut Vec<Planned>,
    own: &mut Vec<Value>,
) -> Result<(), SeedError> {
    let with_ids = stored_with_ids(target.resource);
    let together = rows.len() == ROWS
        && rows
            .iter()
            .all(|planned| planned.fixed.is_none() && (with_ids || planned.id.is_none()));
    if !together {
        for planned in rows.drain(..) {
            let id = store(connection, statements, spec, target, planned)?;
            if target.keep_ids {
                own.push(id);
            }
        }
        return Ok(());
    }
    let records = rows.iter().map(|planned| {
        (
            planned.id.as_ref(),
            planned.data.as_str(),
            planned.stamp.as_str(),
            planned.references.as_slice(),
        )
    });
    let last = Insert::rows(&mut statements.rows, connection, with_ids, records)
        .map_err(|error| unstored(target.resource, &rows[0], error))?;
    let first = last - (ROWS as i64 - 1);
    for (rowid, planned) in (first..).zip(rows.drain(..)) {
        if let Some(statement) = &mut statements.index {
            super::search::Indexing::add(statement, rowid, &planned.search, &planned.data)?;
        }
        if target.keep_ids {
            let id = planned.id.unwrap_or(RecordId::Integer(rowid));
            own.push(id.to_json());
        }
    }
    Ok(())
}

/// Whether the records of `resource` stored several at once are stored
/// with their planned ids (text ids), or numbered by SQLite (integer ids).
fn stored_with_ids(resource: &Resource) -> bool {
    resource.id != IdKind::Integer
}

/// Stores a planned record of the target resource; returns its id.
fn store(
    connection: &Connection,
    statements: &mut Statements<'_>,
    spec: &Spec,
    target: &Target<'_, '_>,
    planned: Planned,
) -> Result<Value, SeedError> {
    let resource = target.resource;
    let id = Insert::run_on(
        &mut statements.insert,
        connection,
        planned.id.clone(),
        (&planned.data, &planned.stamp, &planned.stamp),
        &planned.references,
    )
    .map_err(|error| unstored(resource, &planned, error))?;
    if let Some(statement) = &mut statements.index {
        let rowid = connection.last_insert_rowid();
        super::search::Indexing::add(statement, rowid, &planned.search, &planned.data)?;
    }
    if let Some(fields) = &planned.fixed {
        let path = record_path(resource, &planned);
        check_references(connection, spec, resource, fields, &path)?;
    }
    Ok(id.to_json())
}

fn check_references(
    connection: &Connection,
    spec: &Spec,
    resource: &Resource,
    fields: &Map<String, Value>,
    path: &str,
) -> Result<(), SeedError> {
    for (field, reference) in resource.references() {
        let Some(value) = fields.get(&field.name).filter(|value| !value.is_null()) else {
            continue;
        };
        let target = spec
            .resource(&reference.resource)
            .expect("the spec checks that references resolve");
        let exists = match RecordId::from_json(target.id, value) {
            Some(id) => {
                let sql = format!("SELECT 1 FROM {} WHERE id = ?1", table(target));
                connection
                    .prepare_cached(&sql)
                    .and_then(|mut statement| statement.query_row([sql_id(&id)], |_| Ok(())))
                    .optional()?
                    .is_some()
            }
            None => false,
        };
        if !exists {
            return Err(SeedError::Record {
                path: format!("{path}.{}", field.name),
                reason: format!("no {} record has id {value}", target.name),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Location;

    /// Posts enough to be seeded in bulk, searched by title, referencing
    /// authors whose ids are not in the order they are stored.
    const SPEC: &str = "standin: 1\nresources:\n  authors:\n    id: uuid\n    fields:\n      name: { type: string, required: true }\n    count: 5\n  posts:\n    fields:\n      title: { type: string, required: true, fake: title }\n      author: { ref: authors, required: true }\n    search: [title]\n    count: 1500\n";

    /// Every row of `table` as stored, and every term of the search index
    /// of posts with the record and position it is found at.
    fn contents(store: &Store, table: &str) -> (Vec<String>, Vec<(String, i64, i64)>) {
        let connection = store.lock();
        let sql = format!(
            "SELECT id || ' ' || data || ' ' || created_at || ' ' || updated_at FROM {table} ORDER BY rowid"
        );
        let mut statement = connection.prepare(&sql).expect("the rows");
        let rows = statement
            .query_map([], |row| row.get(0))
            .expect("the rows")
            .collect::<rusqlite::Result<_>>()
            .expect("the rows");
        connection
            .execute_batch(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.terms USING fts5vocab(main, fts_posts, 'instance')",
            )
            .expect("the index's terms");
        let mut statement = connection
            .prepare("SELECT term, doc, offset FROM temp.terms ORDER BY term, doc, offset")
            .expect("the index's terms");
        let terms = statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .expect("the index's terms")
            .collect::<rusqlite::Result<_>>()
            .expect("the index's terms");
        (rows, terms)
    }

    /// A store seeded with [`SPEC`], on a thread of its own: in steps, with
    /// work to run between them, or in one transaction, with none.
    fn seeded(in_steps: bool) -> Store {
        std::thread::spawn(move || {
            let spec = crate::spec::parse("spec.yaml", SPEC).expect("a valid spec");
            let store = Store::open(Location::Memory).expect("a store");
            store.prepare(&spec).expect("tables");
            if in_steps {
                super::super::steps::between_steps(|_| {});
            }
            store.seed(&spec, 7).expect("seeded");
            store
        })
        .join()
        .expect("seeded")
    }

    #[test]
    fn records_indexed_as_they_are_stored_are_indexed_as_after_seeding_in_steps() {
        let alone = seeded(false);
        let in_steps = seeded(true);
        assert_eq!(
            contents(&alone, "res_posts"),
            contents(&in_steps, "res_posts")
        );
        assert!(!contents(&alone, "res_posts").1.is_empty());
        // The index is kept in step with writes again, and reference lookups
        // have their index.
        let connection = alone.lock();
        connection
            .execute_batch(
                "UPDATE res_posts SET data = json_set(data, '$.title', 'zebra') WHERE id = 3",
            )
            .expect("a title changed");
        let found: Vec<i64> = connection
            .prepare("SELECT rowid FROM fts_posts WHERE fts_posts MATCH 'zebra'")
            .expect("a search")
            .query_map([], |row| row.get(0))
            .expect("a search")
            .collect::<rusqlite::Result<_>>()
            .expect("a search");
        assert_eq!(found, vec![3]);
        let indexes: i64 = connection
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'ix_posts.author'",
                [],
                |row| row.get(0),
            )
            .expect("the indexes");
        assert_eq!(indexes, 1);
    }

    #[test]
    fn records_stored_several_at_once_are_stored_as_planned() {
        // Counts that are no multiple of the rows a statement stores, a
        // fixed record first, integer and text ids, searched fields.
        let spec = crate::spec::parse(
            "spec.yaml",
            "standin: 1\nresources:\n  notes:\n    id: uuid\n    fields:\n      text: { type: string, fake: title }\n    search: [text]\n    count: 1077\n  tags:\n    fields:\n      label: { type: string, fake: title }\n    search: [label]\n    records:\n      - { id: 5, label: first }\n    count: 1070\n",
        )
        .expect("a valid spec");
        let store = Store::open(Location::Memory).expect("a store");
        store.prepare(&spec).expect("tables");
        store.seed(&spec, 3).expect("seeded");
        let connection = store.lock();
        for resource in &spec.resources {
            let mut plan = Plan::new(resource, 3, false, true);
            let mut expected = Vec::new();
            while let Some(planned) = plan.next(&HashMap::new()) {
                let planned = planned.expect("a record");
                let id = match (&planned.id, &planned.fixed) {
                    (Some(id), _) => id.to_json(),
                    (None, Some(fixed)) => fixed["id"].clone(),
                    (None, None) => Value::from(planned.index as i64 + 5),
                };
                let searched = planned.search[0].clone().expect("a text");
                expected.push((id, planned.data, planned.stamp, searched));
            }
            assert_eq!(
                expected.len(),
                resource.count as usize + resource.records.len()
            );
            let sql = format!(
                "SELECT rowid, id, data, created_at, updated_at FROM {} ORDER BY rowid",
                table(resource)
            );
            let mut statement = connection.prepare(&sql).expect("the rows");
            let rows: Vec<(i64, Value, String, String, String)> = statement
                .query_map([], |row| {
                    let id: rusqlite::types::Value = row.get(1)?;
                    let id = match id {
                        rusqlite::types::Value::Integer(id) => Value::from(id),
                        rusqlite::types::Value::Text(id) => Value::from(id),
                        _ => Value::Null,
                    };
                    Ok((row.get(0)?, id, row.get(2)?, row.get(3)?, row.get(4)?))
                })
                .expect("the rows")
                .collect::<rusqlite::Result<_>>()
                .expect("the rows");
            assert_eq!(rows.len(), expected.len());
            let index = super::super::search::index_table(resource);
            for ((rowid, id, data, created, updated), (want_id, want_data, stamp, searched)) in
                rows.into_iter().zip(expected)
            {
                assert_eq!(
                    (&id, &data, &created, &updated),
                    (&want_id, &want_data, &stamp, &stamp)
                );
                // Each is found by the words of its searched field, under its own rowid.
                let phrase = format!("\"{}\"", searched.replace('"', ""));
                let found: Vec<i64> = connection
                    .prepare(&format!("SELECT rowid FROM {index} WHERE {index} MATCH ?1"))
                    .expect("a search")
                    .query_map([&phrase], |row| row.get(0))
                    .expect("a search")
                    .collect::<rusqlite::Result<_>>()
                    .expect("a search");
                assert!(found.contains(&rowid), "{phrase}: {found:?} lacks {rowid}");
            }
        }
    }
}
