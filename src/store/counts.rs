//! The number of live records of each resource, kept in a table of the
//! database (`_standin_counts`) and changed by the same transaction as the
//! records, so that every reader sees the count of the state it reads and an
//! unfiltered page's total costs one lookup instead of a count of the whole
//! collection. Writes add or take what they change (see `write`); bulk
//! changes (seeding, resets, a db.json's reload) set it afresh; a resource
//! without a row (a database from before) is counted when it is prepared.

use rusqlite::{Connection, OptionalExtension};

use super::table;
use crate::spec::Resource;

/// Creates the table of counts.
pub(super) fn create_meta(connection: &Connection) -> rusqlite::Result<()> {
    connection.execute_batch(
        "CREATE TABLE IF NOT EXISTS _standin_counts (resource TEXT PRIMARY KEY NOT NULL, live INTEGER NOT NULL) WITHOUT ROWID",
    )
}

/// Counts the live records of `resource` if its count is not kept yet.
pub(super) fn ensure(connection: &Connection, resource: &Resource) -> rusqlite::Result<()> {
    let sql = format!(
        "INSERT INTO _standin_counts (resource, live)
         SELECT ?1, (SELECT count(*) FROM {} WHERE deleted_at IS NULL)
         WHERE NOT EXISTS (SELECT 1 FROM _standin_counts WHERE resource = ?1)",
        table(resource)
    );
    connection.prepare_cached(&sql)?.execute([&resource.name])?;
    Ok(())
}

/// Counts the live records of `resource` afresh.
pub(super) fn recount(connection: &Connection, resource: &Resource) -> rusqlite::Result<()> {
    let sql = format!(
        "INSERT OR REPLACE INTO _standin_counts (resource, live)
         SELECT ?1, count(*) FROM {} WHERE deleted_at IS NULL",
        table(resource)
    );
    connection.prepare_cached(&sql)?.execute([&resource.name])?;
    Ok(())
}

/// Sets the count of `resource`, whose live records the caller knows.
pub(super) fn set(connection: &Connection, resource: &Resource, live: i64) -> rusqlite::Result<()> {
    connection
        .prepare_cached("INSERT OR REPLACE INTO _standin_counts (resource, live) VALUES (?1, ?2)")?
        .execute((&resource.name, live))?;
    Ok(())
}

/// Adds `change` (negative: takes) to the count of `resource`, which a write
/// changed by as many live records; counts them if no count is kept.
pub(super) fn add(
    connection: &Connection,
    resource: &Resource,
    change: i64,
) -> rusqlite::Result<()> {
    if change == 0 {
        return Ok(());
    }
    let changed = connection
        .prepare_cached("UPDATE _standin_counts SET live = live + ?2 WHERE resource = ?1")?
        .execute((&resource.name, change))?;
    if changed == 0 {
        ensure(connection, resource)?;
    }
    Ok(())
}

/// The kept count of `resource`'s live records, if one is kept.
pub(super) fn live(connection: &Connection, resource: &Resource) -> rusqlite::Result<Option<i64>> {
    connection
        .prepare_cached("SELECT live FROM _standin_counts WHERE resource = ?1")?
        .query_row([&resource.name], |row| row.get(0))
        .optional()
}

#[cfg(test)]
impl super::Store {
    /// Fails unless every resource of `spec` keeps the count of its live records.
    pub(crate) fn counts_hold(&self, spec: &crate::spec::Spec) -> Result<(), String> {
        let connection = self.lock();
        for resource in &spec.resources {
            let sql = format!(
                "SELECT count(*) FROM {} WHERE deleted_at IS NULL",
                table(resource)
            );
            let counted: i64 = connection
                .query_row(&sql, [], |row| row.get(0))
                .map_err(|error| error.to_string())?;
            let kept = live(&connection, resource).map_err(|error| error.to_string())?;
            if kept != Some(counted) {
                return Err(format!(
                    "{}: kept {kept:?}, counted {counted}",
                    resource.name
                ));
            }
        }
        Ok(())
    }
}
