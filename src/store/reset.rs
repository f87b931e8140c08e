//! Resetting to the seeded state: each resource's rows are restored from the
//! snapshot taken when it was seeded (kept in an attached in-memory database),
//! in one transaction and in milliseconds. A resource seeded by an earlier
//! process (`--db`) has no snapshot: it is emptied and seeded again, which is
//! deterministic and so gives the same records.

use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension};

use super::seed::seed_unseeded;
use super::{Store, search, table};
use crate::spec::{IdKind, Resource, Spec};

fn snapshot_table(resource: &Resource) -> String {
    format!("seeded.\"res_{}\"", resource.name)
}

/// Keeps a copy of `resource`'s rows as its seeded state.
pub(super) fn snapshot(connection: &Connection, resource: &Resource) -> rusqlite::Result<()> {
    let copy = snapshot_table(resource);
    connection.execute_batch(&format!(
        "DROP TABLE IF EXISTS {copy}; CREATE TABLE {copy} AS SELECT * FROM {}",
        table(resource)
    ))
}

fn has_snapshot(connection: &Connection, resource: &Resource) -> rusqlite::Result<bool> {
    connection
        .query_row(
            "SELECT 1 FROM seeded.sqlite_master WHERE type = 'table' AND name = ?1",
            [format!("res_{}", resource.name)],
            |_| Ok(()),
        )
        .optional()
        .map(|found| found.is_some())
}

/// Sets the next automatic id of an integer-id resource after its highest id.
fn restore_sequence(connection: &Connection, resource: &Resource) -> rusqlite::Result<()> {
    if resource.id != IdKind::Integer {
        return Ok(());
    }
    let name = format!("res_{}", resource.name);
    connection.execute("DELETE FROM main.sqlite_sequence WHERE name = ?1", [&name])?;
    let sql = format!(
        "INSERT INTO main.sqlite_sequence (name, seq) SELECT ?1, max(id) FROM {} HAVING max(id) IS NOT NULL",
        table(resource)
    );
    connection.execute(&sql, [&name])?;
    Ok(())
}

/// What a reset did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetReport {
    /// Resources restored from their snapshot.
    pub restored: Vec<String>,
    /// Resources seeded again.
    pub reseeded: Vec<String>,
    /// How long it took.
    pub took: Duration,
}

impl Store {
    /// Puts every resource of `spec` back in its seeded state.
    pub fn reset(&self, spec: &Spec, seed: u64) -> Result<ResetReport, String> {
        let started = Instant::now();
        let mut connection = self.lock();
        let transaction = connection
            .transaction()
            .map_err(|error| format!("cannot reset: {error}"))?;
        let mut report = ResetReport {
            restored: Vec::new(),
            reseeded: Vec::new(),
            took: Duration::ZERO,
        };
        for resource in &spec.resources {
            restore(&transaction, resource, &mut report)
                .map_err(|error| format!("cannot reset {}: {error}", resource.name))?;
        }
        seed_unseeded(&transaction, spec, seed)?;
        transaction
            .commit()
            .map_err(|error| format!("cannot reset: {error}"))?;
        self.written();
        report.took = started.elapsed();
        Ok(report)
    }
}

fn restore(
    connection: &Connection,
    resource: &Resource,
    report: &mut ResetReport,
) -> rusqlite::Result<()> {
    let live = table(resource);
    search::pause(connection, resource)?;
    connection.execute_batch(&format!("DELETE FROM {live}"))?;
    if has_snapshot(connection, resource)? {
        connection.execute_batch(&format!(
            "INSERT INTO {live} SELECT * FROM {}",
            snapshot_table(resource)
        ))?;
        report.restored.push(resource.name.clone());
    } else {
        connection.execute(
            "DELETE FROM _standin_seeded WHERE resource = ?1",
            [&resource.name],
        )?;
        report.reseeded.push(resource.name.clone());
    }
    restore_sequence(connection, resource)?;
    // Snapshots predate fields added since: give restored records their defaults.
    super::schema::backfill_defaults(connection, resource)?;
    search::resume(connection, resource)
}
