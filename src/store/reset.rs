//! Resetting to the seeded state: each resource's rows are restored from the
//! snapshot taken when it was seeded (kept in an attached database, in memory
//! or a temporary file),
//! in one transaction and in milliseconds. A resource seeded by an earlier
//! process (`--db`), or with more records than a snapshot is kept for
//! ([`SNAPSHOT_LIMIT`]), has none: then every resource is emptied and seeded
//! again, which is deterministic and so gives the same records (each
//! resource's references drawn from the others' ids as the first time).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::seed::SeedError;
use super::seed::seed_unseeded;
use super::steps::Writer;
use super::{Store, search, table};
use crate::spec::{IdKind, Resource, Spec};

/// Creates the snapshot tables in the attached `seeded` database: one for
/// the rows of every resource, not one per resource, so that seeding a
/// resource changes no schema (each change costs in proportion to the whole
/// schema, which made start-up quadratic in the number of resources).
pub(super) fn create_snapshots(connection: &Connection) -> rusqlite::Result<()> {
    connection.execute_batch(
        "CREATE TABLE IF NOT EXISTS seeded.snapshots (resource TEXT PRIMARY KEY NOT NULL);
         CREATE TABLE IF NOT EXISTS seeded.records (
             resource TEXT NOT NULL, id, data TEXT NOT NULL,
             created_at TEXT NOT NULL, updated_at TEXT NOT NULL, deleted_at TEXT
         );
         CREATE INDEX IF NOT EXISTS seeded.records_of ON records (resource);",
    )
}

/// Above this many seeded records, a resource keeps no snapshot: copying
/// them would cost start-up about a sixth of its time, and as much memory
/// again as the data (in memory); a reset seeds the data again instead,
/// which costs about what restoring so many rows does.
const SNAPSHOT_LIMIT: u64 = 100_000;

/// Keeps a copy of `resource`'s rows as its seeded state, unless they are
/// more than [`SNAPSHOT_LIMIT`] (`seeded` were seeded).
pub(super) fn snapshot(
    connection: &Connection,
    resource: &Resource,
    seeded: u64,
) -> rusqlite::Result<()> {
    connection.execute(
        "DELETE FROM seeded.records WHERE resource = ?1",
        [&resource.name],
    )?;
    if seeded > SNAPSHOT_LIMIT {
        connection.execute(
            "DELETE FROM seeded.snapshots WHERE resource = ?1",
            [&resource.name],
        )?;
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO seeded.records (resource, id, data, created_at, updated_at, deleted_at)
         SELECT ?1, id, data, created_at, updated_at, deleted_at FROM {} ORDER BY rowid",
        table(resource)
    );
    connection.execute(&sql, [&resource.name])?;
    connection.execute(
        "INSERT OR IGNORE INTO seeded.snapshots (resource) VALUES (?1)",
        [&resource.name],
    )?;
    Ok(())
}

/// The resources with a snapshot.
fn snapshots(connection: &Connection) -> rusqlite::Result<HashSet<String>> {
    let mut statement = connection.prepare("SELECT resource FROM seeded.snapshots")?;
    let names = statement.query_map([], |row| row.get(0))?;
    names.collect()
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
    pub fn reset(&self, spec: &Spec, seed: u64) -> Result<ResetReport, SeedError> {
        let started = Instant::now();
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        let mut report = ResetReport {
            restored: Vec::new(),
            reseeded: Vec::new(),
            took: Duration::ZERO,
        };
        let snapshots = snapshots(&transaction)?;
        // A resource seeded again draws its references from the ids of those
        // seeded before it, in the order they were stored: only seeding them
        // again gives that order back (restored ids are read in id order).
        let restorable = spec
            .resources
            .iter()
            .all(|resource| snapshots.contains(&resource.name));
        for resource in &spec.resources {
            restore(&transaction, resource, restorable, &mut report).map_err(|source| {
                SeedError::Restore {
                    resource: resource.name.clone(),
                    source: source.into(),
                }
            })?;
        }
        seed_unseeded(&mut Writer::Within(&transaction), spec, seed)?;
        transaction.commit()?;
        self.written();
        report.took = started.elapsed();
        Ok(report)
    }
}

fn restore(
    connection: &Connection,
    resource: &Resource,
    has_snapshot: bool,
    report: &mut ResetReport,
) -> rusqlite::Result<()> {
    let live = table(resource);
    search::pause(connection, resource)?;
    connection.execute_batch(&format!("DELETE FROM {live}"))?;
    if has_snapshot {
        let sql = format!(
            "INSERT INTO {live} (id, data, created_at, updated_at, deleted_at{columns})
             SELECT id, data, created_at, updated_at, deleted_at{values} FROM seeded.records
             WHERE resource = ?1 ORDER BY rowid",
            columns = super::references::column_list(resource),
            values = super::references::values_of(resource, "data"),
        );
        connection.execute(&sql, [&resource.name])?;
        report.restored.push(resource.name.clone());
    } else {
        connection.execute(
            "DELETE FROM _standin_seeded WHERE resource = ?1",
            [&resource.name],
        )?;
        report.reseeded.push(resource.name.clone());
    }
    restore_sequence(connection, resource)?;
    super::counts::recount(connection, resource)?;
    // Snapshots predate fields added since: give restored records their defaults.
    super::schema::backfill_defaults(connection, resource)?;
    search::resume(connection, resource)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Location;

    /// Posts referencing authors whose ids are not in the order they are stored.
    const SPEC: &str = "standin: 1\nresources:\n  authors:\n    id: uuid\n    fields:\n      name: { type: string, required: true }\n    count: 8\n  posts:\n    fields:\n      title: string\n      author: { ref: authors, required: true }\n    count: 40\n";

    fn rows(store: &Store, table: &str) -> Vec<String> {
        let connection = store.lock();
        let sql = format!(
            "SELECT id || ' ' || data || ' ' || created_at || ' ' || updated_at || ' ' || coalesce(deleted_at, '') FROM {table} ORDER BY id"
        );
        let mut statement = connection.prepare(&sql).expect("the rows");
        statement
            .query_map([], |row| row.get(0))
            .expect("the rows")
            .collect::<rusqlite::Result<_>>()
            .expect("the rows")
    }

    #[test]
    fn a_resource_without_a_snapshot_is_reset_by_seeding_every_resource_again() {
        let spec = crate::spec::parse("spec.yaml", SPEC).expect("a valid spec");
        let store = Store::open(Location::Memory).expect("a store");
        store.prepare(&spec).expect("tables");
        store.seed(&spec, 3).expect("seeded");
        let seeded = (rows(&store, "res_authors"), rows(&store, "res_posts"));
        let posts = spec.resource("posts").expect("posts");
        // As if posts had too many records to keep a copy of.
        snapshot(&store.lock(), posts, SNAPSHOT_LIMIT + 1).expect("no snapshot");
        store
            .lock()
            .execute_batch(
                "DELETE FROM res_posts WHERE id > 30; UPDATE res_authors SET data = '{}'",
            )
            .expect("changed");
        let report = store.reset(&spec, 3).expect("reset");
        assert_eq!(
            (rows(&store, "res_authors"), rows(&store, "res_posts")),
            seeded,
            "the posts reference the authors they referenced first"
        );
        assert_eq!(report.reseeded, ["authors", "posts"]);
    }
}
