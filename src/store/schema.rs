//! Tables and indexes derived from the spec. Tables are only ever created,
//! never dropped: data of a resource that leaves the spec stays on disk.

use rusqlite::Connection;

use super::{Store, field_expression, table};
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
    for field in &resource.fields {
        if field.unique || field.reference.is_some() {
            let index = format!("\"ix_{}_{}\"", resource.name, field.name);
            let expression = field_expression(&field.name);
            connection.execute_batch(&format!(
                "CREATE INDEX IF NOT EXISTS {index} ON {table} ({expression})"
            ))?;
        }
    }
    Ok(())
}

impl Store {
    /// Creates the tables and indexes `spec` needs (existing ones are kept as they are).
    pub fn prepare(&self, spec: &Spec) -> rusqlite::Result<()> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        for resource in &spec.resources {
            create_table(&transaction, resource)?;
        }
        transaction.commit()
    }
}
