//! Seeding: each resource's fixed `records`, then `count` generated ones,
//! written once per resource (never on top of existing data) and
//! deterministic: the same spec and seed give byte-identical data.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension};

use super::DatabaseError;
use serde_json::{Map, Value};

use super::plan::{Plan, Planned};
use super::steps::{Steps, Writer};
use super::write::insert_data;
use super::{RecordId, Store, sql_id, table};
use crate::spec::{IdKind, Resource, Spec};

/// Above this many records, a resource is seeded in bulk: its search index is
/// made up front and filled once after seeding instead of row by row.
/// Dropping and creating its triggers changes the schema, which costs in
/// proportion to the whole schema, so it only pays for large seedings.
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
    /// that let requests use the store in between.
    pub fn seed(&self, spec: &Spec, seed: u64) -> Result<SeedReport, SeedError> {
        let mut writer = Writer::Steps(Steps::begin(self)?);
        let report = seed_unseeded(&mut writer, spec, seed)?;
        if let Writer::Steps(steps) = writer {
            steps.finish()?;
        }
        Ok(report)
    }
}

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
/// it writes (in the attached `seeded` database) for resets.
pub(super) fn seed_unseeded(
    writer: &mut Writer<'_>,
    spec: &Spec,
    seed: u64,
) -> Result<SeedReport, SeedError> {
    let mut ids: HashMap<&str, Vec<Value>> = HashMap::new();
    let mut report = SeedReport::default();
    for resource in spec.seeding_order() {
        let connection = writer.connection();
        if is_seeded(connection, resource)? {
            let live = live_ids(connection, resource)?;
            ids.insert(&resource.name, live);
            continue;
        }
        let bulk = is_bulk(resource);
        if bulk {
            super::search::pause(connection, resource)?;
        }
        clear_unfinished(connection, resource)?;
        // The table is empty now; writes between seeding's steps keep the
        // count, and the seeded records are added at the end.
        super::counts::set(connection, resource, 0)?;
        let written = match seed_resource(writer, spec, resource, seed, &mut ids) {
            Ok(written) => written,
            Err(error) => {
                // What was stored before the failure stays until the next seeding.
                super::counts::recount(writer.connection(), resource)?;
                return Err(error);
            }
        };
        let connection = writer.connection();
        super::counts::add(connection, resource, written as i64)?;
        if bulk {
            super::search::resume(connection, resource)?;
        }
        connection.execute(
            "INSERT INTO _standin_seeded (resource) VALUES (?1)",
            [&resource.name],
        )?;
        super::reset::snapshot(connection, resource)?;
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

fn seed_resource<'s>(
    writer: &mut Writer<'_>,
    spec: &'s Spec,
    resource: &'s Resource,
    seed: u64,
    ids: &mut HashMap<&'s str, Vec<Value>>,
) -> Result<u64, SeedError> {
    let verbatim = spec.dialect == crate::spec::Dialect::JsonServer;
    let mut plan = Plan::new(resource, seed, verbatim);
    let total = plan.total as u64;
    let mut own = ids.remove(resource.name.as_str()).unwrap_or_default();
    if resource
        .references()
        .any(|(_, reference)| reference.resource == resource.name)
    {
        // A reference to its own resource draws from the records stored so
        // far: each record is planned after the one before it is stored.
        ids.insert(&resource.name, own);
        while let Some(planned) = plan.next(ids) {
            let id = store(
                writer,
                spec,
                resource,
                planned.map_err(SeedError::Generation)?,
            )?;
            ids.entry(&resource.name).or_default().push(id);
        }
        return Ok(total);
    }
    // Generating values costs about as much as storing them: records are
    // planned on a second thread while this one stores them, in order.
    let others = &*ids;
    let stored = std::thread::scope(|scope| {
        let (sender, planned) = std::sync::mpsc::sync_channel(256);
        scope.spawn(move || {
            while let Some(next) = plan.next(others) {
                let failed = next.is_err();
                if sender.send(next).is_err() || failed {
                    break;
                }
            }
        });
        for next in planned {
            own.push(store(
                writer,
                spec,
                resource,
                next.map_err(SeedError::Generation)?,
            )?);
        }
        Ok(())
    });
    ids.insert(&resource.name, own);
    stored.map(|()| total)
}

/// Stores a planned record of `resource`, then lets others use the store if
/// the step is over; returns its id.
fn store(
    writer: &mut Writer<'_>,
    spec: &Spec,
    resource: &Resource,
    planned: Planned,
) -> Result<Value, SeedError> {
    let connection = writer.connection();
    let path = || match planned.fixed {
        Some(_) => format!("resources.{}.records.{}", resource.name, planned.index),
        None => format!("resources.{}.count", resource.name),
    };
    let id = insert_data(
        connection,
        resource,
        planned.id.clone(),
        &planned.data,
        &planned.stamp,
        &planned.stamp,
    )
    .map_err(|error| SeedError::Record {
        path: path(),
        reason: match error {
            rusqlite::Error::SqliteFailure(_, Some(message)) => {
                format!("cannot store the record: {message}")
            }
            other => format!("cannot store the record: {other}"),
        },
    })?;
    if let Some(fields) = &planned.fixed {
        check_references(connection, spec, resource, fields, &path())?;
    }
    writer.pause()?;
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
