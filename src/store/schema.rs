//! Tables and indexes derived from the spec. Tables are only ever created,
//! never dropped: data of a resource that leaves the spec stays on disk.

use rusqlite::Connection;

use super::{Store, search, table};
use crate::spec::{IdKind, Resource, Spec};

pub(super) fn create_meta(connection: &Connection) -> rusqlite::Result<()> {
    connection.execute_batch(
        "CREATE TABLE IF NOT EXISTS _standin_seeded (resource TEXT PRIMARY KEY NOT NULL)",
    )
}

fn create_table(connection: &Connection, resource: &Resource) -> rusqlite::Result<()> {
    let id_column = match resource.id {
        IdKind::Integer => "id INTEGER PRIMARY KEY AUTOINCREMENT",
        IdKind::Uuid | IdKind::String => "id TEXT PRIMARY KEY NOT NULL",
    };
    let table = table(resource);
    connection.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS {table} (
            {id_column},
            data TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            deleted_at TEXT
        )"
    ))?;
    check_id_column(connection, resource)?;
    // Unique and reference fields are looked up by every write and delete;
    // other columns get their index the first time a query filters or sorts
    // on them (see `select::column_index` and `select::auto_index`), so that
    // seeding and writes maintain only the indexes that are used.
    for field in resource
        .fields
        .iter()
        .filter(|field| field.unique || field.reference.is_some())
    {
        let (_, sql) = super::select::column_index(resource, &field.name);
        connection.execute_batch(&sql)?;
    }
    search::prepare(connection, resource)
}

/// Writes each field's default into records stored before the field existed,
/// so that filters, sorts and search see what reads show.
pub(super) fn backfill_defaults(
    connection: &Connection,
    resource: &Resource,
) -> rusqlite::Result<()> {
    for field in &resource.fields {
        let Some(default) = &field.default else {
            continue;
        };
        let sql = format!(
            "UPDATE {} SET data = json_set(data, '$.{name}', json(?1)) WHERE json_type(data, '$.{name}') IS NULL",
            table(resource),
            name = field.name
        );
        connection.execute(&sql, [default.to_string()])?;
    }
    Ok(())
}

/// Refuses a table whose ids are of another kind than the spec says (a spec
/// changed from `id: integer` to `id: uuid` over an existing database).
fn check_id_column(connection: &Connection, resource: &Resource) -> rusqlite::Result<()> {
    let sql = format!(
        "SELECT type FROM pragma_table_info('res_{}') WHERE name = 'id'",
        resource.name
    );
    let declared: String = connection.query_row(&sql, [], |row| row.get(0))?;
    let (expected, kind) = match resource.id {
        IdKind::Integer => ("INTEGER", "integer"),
        IdKind::Uuid => ("TEXT", "uuid"),
        IdKind::String => ("TEXT", "string"),
    };
    if declared.eq_ignore_ascii_case(expected) {
        return Ok(());
    }
    Err(rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_MISMATCH),
        Some(format!(
            "the stored {} have {} ids but the spec says `id: {kind}`; use another --db file or change the spec back",
            resource.name,
            declared.to_lowercase(),
        )),
    ))
}

impl Store {
    /// Creates the tables and indexes `spec` needs (existing ones are kept as they are).
    pub fn prepare(&self, spec: &Spec) -> rusqlite::Result<()> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        for resource in &spec.resources {
            create_table(&transaction, resource)?;
            backfill_defaults(&transaction, resource)?;
        }
        transaction.commit()?;
        // Search indexes may have been rebuilt: cached totals are stale.
        self.written();
        Ok(())
    }
}
