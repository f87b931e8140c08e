//! Tables and indexes derived from the spec. Tables are only ever created,
//! never dropped: data of a resource that leaves the spec stays on disk.

use std::collections::HashSet;

use rusqlite::{Connection, OptionalExtension};

use super::steps::{Steps, Writer};
use super::{Store, field_expression, search, table};
use crate::spec::{IdKind, Resource, Spec};

pub(super) fn create_meta(connection: &Connection) -> rusqlite::Result<()> {
    connection.execute_batch(
        "CREATE TABLE IF NOT EXISTS _standin_seeded (resource TEXT PRIMARY KEY NOT NULL)",
    )?;
    search::create_meta(connection)?;
    super::counts::create_meta(connection)?;
    super::jobs::create_table(connection)
}

fn create_table(
    connection: &Connection,
    resource: &Resource,
    triggers: &HashSet<String>,
) -> rusqlite::Result<()> {
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
    super::references::prepare(connection, resource)?;
    create_field_indexes(connection, resource)?;
    check_unique(connection, resource)?;
    super::counts::ensure(connection, resource)?;
    search::prepare(
        connection,
        resource,
        super::seed::is_bulk(resource),
        triggers,
    )
}

/// The indexes every write and delete looks up: one per unique or reference
/// field, by name and SQL. Other columns get their index the first time a
/// query filters or sorts on them (see `select::column_index` and
/// `select::auto_index`), so that seeding and writes maintain only the
/// indexes that are used.
fn field_indexes(resource: &Resource) -> impl Iterator<Item = (String, String)> + '_ {
    resource
        .fields
        .iter()
        .filter(|field| field.unique || field.reference.is_some())
        .map(|field| super::select::column_index(resource, &field.name))
}

/// Creates the [`field_indexes`] of `resource` that do not exist, and the
/// triggers keeping its reference columns.
pub(super) fn create_field_indexes(
    connection: &Connection,
    resource: &Resource,
) -> rusqlite::Result<()> {
    for (_, sql) in field_indexes(resource) {
        connection.execute_batch(&sql)?;
    }
    super::references::resume(connection, resource)
}

/// Drops the [`field_indexes`] of `resource`, before its rows are written in
/// bulk: an index made once over all of them costs far less than one kept
/// up to date row by row. The rows' reference columns are then the writer's
/// to set (their triggers paused). [`create_field_indexes`] makes them again.
pub(super) fn drop_field_indexes(
    connection: &Connection,
    resource: &Resource,
) -> rusqlite::Result<()> {
    for (name, _) in field_indexes(resource) {
        connection.execute_batch(&format!("DROP INDEX IF EXISTS \"{name}\""))?;
    }
    super::references::pause(connection, resource)
}

/// Refuses a unique field whose stored live records already share a value
/// (`unique: true` added over existing data): writes would then answer 409
/// to any change of those records, whatever it changes.
fn check_unique(connection: &Connection, resource: &Resource) -> rusqlite::Result<()> {
    for field in resource.fields.iter().filter(|field| field.unique) {
        let value = field_expression(resource, &field.name);
        let sql = format!(
            "SELECT {value}, count(*) FROM {} WHERE deleted_at IS NULL AND {value} IS NOT NULL
             GROUP BY {value} HAVING count(*) > 1 LIMIT 1",
            table(resource)
        );
        let shared: Option<(rusqlite::types::Value, i64)> = connection
            .query_row(&sql, [], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?;
        let Some((shared, count)) = shared else {
            continue;
        };
        let shown = match shared {
            rusqlite::types::Value::Text(text) => serde_json::Value::from(text).to_string(),
            rusqlite::types::Value::Integer(number) => number.to_string(),
            rusqlite::types::Value::Real(number) => number.to_string(),
            other => format!("{other:?}"),
        };
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT),
            Some(format!(
                "resources.{name}.fields.{field}: `unique: true`, but {count} stored {name} records share the value {shown}; make their {field} distinct first, or drop `unique`",
                name = resource.name,
                field = field.name,
            )),
        ));
    }
    Ok(())
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
        let mut writer = Writer::Steps(Steps::begin(self)?);
        let triggers = search::existing_triggers(writer.connection())?;
        for resource in &spec.resources {
            create_table(writer.connection(), resource, &triggers)?;
            backfill_defaults(writer.connection(), resource)?;
            writer.pause()?;
        }
        if let Writer::Steps(steps) = writer {
            steps.finish()?;
        }
        Ok(())
    }

    /// Gives every record of `spec`'s resources the defaults of the fields it
    /// lacks, in one step; what was counted or cached of them is stale then.
    pub fn backfill_defaults(&self, spec: &Spec) -> rusqlite::Result<()> {
        {
            let connection = self.lock();
            for resource in &spec.resources {
                backfill_defaults(&connection, resource)?;
            }
        }
        self.written();
        Ok(())
    }
}
