//! Writing records: create, replace, update and delete, each one transaction
//! (a savepoint: inside a group of writes committed together, its own unit)
//! that also enforces what needs the data: unique fields, references to live
//! records, and what deleting a referenced record does to its dependants.

use rusqlite::{Connection, OptionalExtension};
use serde_json::{Map, Value};

use super::counts::Written;
use super::read::{find, find_live};
use super::{
    Record, RecordId, Store, StoreError, counts, field_expression, references, sql_id, sql_value,
    table,
};
use crate::clock;
use crate::spec::{FieldError, IdKind, OnDelete, Resource, Spec};

/// A veto over a replacement: sees the live record (if any) and the new fields.
pub type ReplaceCheck<'a> =
    dyn Fn(Option<&Record>, &Map<String, Value>) -> Result<(), StoreError> + 'a;

impl Store {
    /// Stores a new record; `id` is given for client-assigned ids and else made here.
    pub fn create(
        &self,
        spec: &Spec,
        resource: &Resource,
        id: Option<RecordId>,
        fields: Map<String, Value>,
    ) -> Result<Record, StoreError> {
        let mut connection = self.lock_for_request();
        let transaction = connection.savepoint()?;
        let record = create_in(&transaction, spec, resource, id, fields)?;
        transaction.commit()?;
        self.wrote(&resource.name, Written::created(record.id.clone()));
        Ok(record)
    }

    /// Replaces the fields of record `id`; where `create_missing`, a missing
    /// record is created. `check` sees the live record (if any) and the new
    /// fields first, and may refuse. Returns the record and whether it was created.
    pub fn replace(
        &self,
        spec: &Spec,
        resource: &Resource,
        id: &RecordId,
        mut fields: Map<String, Value>,
        create_missing: bool,
        check: &ReplaceCheck<'_>,
    ) -> Result<(Record, bool), StoreError> {
        let mut connection = self.lock_for_request();
        let transaction = connection.savepoint()?;
        let now = clock::now();
        let found = find(&transaction, resource, id)?;
        let live = found
            .as_ref()
            .filter(|(_, deleted)| !deleted)
            .map(|(record, _)| record);
        if live.is_some() || create_missing {
            check(live, &fields)?;
        }
        let (record, written) = match found {
            Some((current, false)) => {
                // Fields the spec no longer has stay stored out of sight.
                for (name, value) in &current.fields {
                    if resource.field(name).is_none() {
                        fields.entry(name.clone()).or_insert_with(|| value.clone());
                    }
                }
                check_integrity(&transaction, spec, resource, Some(id), &mut fields)?;
                let record = Record {
                    id: id.clone(),
                    fields,
                    created_at: current.created_at,
                    updated_at: now,
                };
                overwrite(&transaction, resource, &record)?;
                let written = changes(id, &current.fields, &record.fields);
                ((record, false), written)
            }
            Some((_, true)) if resource.soft_delete => return Err(StoreError::Gone),
            Some((_, true)) | None if create_missing => {
                check_integrity(&transaction, spec, resource, Some(id), &mut fields)?;
                // A soft-deleted record's row, if any, was not counted.
                hard_delete(&transaction, resource, id)?;
                let record = insert(&transaction, resource, Some(id.clone()), fields, &now, &now)?;
                counts::add(&transaction, resource, 1)?;
                ((record, true), Written::created(id.clone()))
            }
            _ => return Err(StoreError::NotFound),
        };
        let record = (as_read(&transaction, resource, record.0)?, record.1);
        transaction.commit()?;
        self.wrote(&resource.name, written);
        Ok(record)
    }

    /// Replaces or changes the live record `id` with what `change` makes of it.
    pub fn update<E: From<StoreError>>(
        &self,
        spec: &Spec,
        resource: &Resource,
        id: &RecordId,
        change: impl FnOnce(&Record) -> Result<Map<String, Value>, E>,
    ) -> Result<Record, E> {
        let mut connection = self.lock_for_request();
        let transaction = connection.savepoint().map_err(StoreError::from)?;
        let current = find_live(&transaction, resource, id)?;
        let mut fields = change(&current)?;
        check_integrity(&transaction, spec, resource, Some(id), &mut fields)?;
        let record = Record {
            id: id.clone(),
            fields,
            created_at: current.created_at,
            updated_at: clock::now(),
        };
        overwrite(&transaction, resource, &record)?;
        let written = changes(id, &current.fields, &record.fields);
        let record = as_read(&transaction, resource, record)?;
        transaction.commit().map_err(StoreError::from)?;
        self.wrote(&resource.name, written);
        Ok(record)
    }

    /// Deletes the live record `id`, applying each dependant's `on_delete`,
    /// unless `check` refuses; returns the record as it was.
    pub fn delete(
        &self,
        spec: &Spec,
        resource: &Resource,
        id: &RecordId,
        check: &dyn Fn(&Record) -> Result<(), StoreError>,
    ) -> Result<Record, StoreError> {
        let mut connection = self.lock_for_request();
        let transaction = connection.savepoint()?;
        let record = find_live(&transaction, resource, id)?;
        check(&record)?;
        remove(&transaction, spec, resource, id, &clock::now())?;
        transaction.commit()?;
        self.written_to(removal_reaches(spec, resource));
        Ok(record)
    }
}

/// What overwriting the live record `id`'s fields `before` with `after` changes:
/// the fields whose values differ, and the time it was last changed.
fn changes(id: &RecordId, before: &Map<String, Value>, after: &Map<String, Value>) -> Written {
    let differ =
        |(name, _): (&String, &Value)| (before.get(name) != after.get(name)).then(|| name.clone());
    Written::changed(
        id.clone(),
        before
            .iter()
            .chain(after)
            .filter_map(differ)
            .chain(["updated_at".to_string()]),
    )
}

fn overwrite(
    connection: &Connection,
    resource: &Resource,
    record: &Record,
) -> Result<(), StoreError> {
    let data = stored_data(resource, &record.fields);
    let sql = format!(
        "UPDATE {} SET data = ?1, updated_at = ?2{} WHERE id = ?3",
        table(resource),
        references::bound_assignments(resource, 4),
    );
    let parameters = [
        rusqlite::types::Value::Text(data),
        rusqlite::types::Value::Text(record.updated_at.clone()),
        sql_id(&record.id),
    ];
    let references = references::values(resource, &record.fields);
    connection
        .prepare_cached(&sql)?
        .execute(rusqlite::params_from_iter(
            parameters.into_iter().chain(references),
        ))?;
    Ok(())
}

/// A record's fields as stored: JSON, without computed fields (they are computed as read).
fn stored_data(resource: &Resource, fields: &Map<String, Value>) -> String {
    if !resource.has_computed() {
        return serde_json::to_string(fields).expect("JSON values serialise");
    }
    let mut stored = fields.clone();
    resource.strip_computed(&mut stored);
    serde_json::to_string(&stored).expect("JSON values serialise")
}

/// The record as written, read again where computed fields need the
/// stored data to be computed (in the writing transaction).
fn as_read(
    connection: &Connection,
    resource: &Resource,
    record: Record,
) -> Result<Record, StoreError> {
    if !resource.has_computed() {
        return Ok(record);
    }
    Ok(find(connection, resource, &record.id)?
        .map(|(read, _)| read)
        .unwrap_or(record))
}

/// Stores a new record inside the caller's transaction (see [`Store::create`]).
pub(super) fn create_in(
    connection: &Connection,
    spec: &Spec,
    resource: &Resource,
    id: Option<RecordId>,
    mut fields: Map<String, Value>,
) -> Result<Record, StoreError> {
    let id = match (resource.id, id) {
        (_, Some(id)) => {
            if find(connection, resource, &id)?.is_some() {
                return Err(conflict(
                    "id",
                    format!("a record with id {} exists", id.to_path_segment()),
                ));
            }
            Some(id)
        }
        (IdKind::Uuid, None) => Some(RecordId::Text(random_uuid())),
        (IdKind::Integer, None) => None,
        (IdKind::String, None) => {
            return Err(StoreError::Invalid(vec![FieldError::new(
                "id",
                "is required: ids of this resource are chosen by the client",
            )]));
        }
    };
    check_integrity(connection, spec, resource, None, &mut fields)?;
    let now = clock::now();
    let record = insert(connection, resource, id, fields, &now, &now)?;
    counts::add(connection, resource, 1)?;
    as_read(connection, resource, record)
}

pub(super) fn insert(
    connection: &Connection,
    resource: &Resource,
    id: Option<RecordId>,
    fields: Map<String, Value>,
    created_at: &str,
    updated_at: &str,
) -> Result<Record, StoreError> {
    let data = stored_data(resource, &fields);
    let references = references::values(resource, &fields);
    let id =
        Insert::new(resource).run(connection, id, &data, created_at, updated_at, &references)?;
    Ok(Record {
        id,
        fields,
        created_at: created_at.to_string(),
        updated_at: updated_at.to_string(),
    })
}

/// The statement storing a new record of one resource, made once for many records.
pub(super) struct Insert {
    table: String,
    sql: String,
    /// The reference columns, to follow the columns of a statement of several rows.
    references: String,
    /// How many there are (each bound as a row's value in such a statement).
    kept: usize,
}

impl Insert {
    pub(super) fn new(resource: &Resource) -> Insert {
        let table = table(resource);
        let references = references::column_list(resource);
        Insert {
            sql: format!(
                "INSERT INTO {table} (id, data, created_at, updated_at{references}) VALUES (?1, ?2, ?3, ?4{})",
                ", ?".repeat(references::fields(resource).count())
            ),
            table,
            references,
            kept: references::fields(resource).count(),
        }
    }

    /// The statement storing `rows` records at once (see [`Insert::rows`]):
    /// each with its id, or (`with_ids` false) each numbered by SQLite.
    pub(super) fn rows_statement<'c>(
        &self,
        connection: &'c Connection,
        rows: usize,
        with_ids: bool,
    ) -> rusqlite::Result<rusqlite::CachedStatement<'c>> {
        // No statement journal: its savepoint would make FTS5 write what it
        // holds, and it costs a write of its own. SQLite opens one for a
        // statement of several rows that may stop midway: OR FAIL stops
        // without undoing the rows before (the caller's transaction does),
        // and an integer id given, even NULL, is checked as one that may.
        let id = if with_ids { "id, " } else { "" };
        let parameters = usize::from(with_ids) + 3 + self.kept;
        let row = format!("({})", vec!["?"; parameters].join(", "));
        let values = vec![row; rows].join(", ");
        connection.prepare_cached(&format!(
            "INSERT OR FAIL INTO {} ({id}data, created_at, updated_at{}) VALUES {values}",
            self.table, self.references
        ))
    }

    /// Stores, with an [`Insert::rows_statement`] of as many rows, records
    /// whose fields are already serialised, each given as (id, data,
    /// timestamp, its reference fields' values as `json_extract` reads
    /// them), the id left out for a statement without; answers the rowid of
    /// the last. Rowids are given in order, one after the other: the first
    /// is `last - rows + 1`.
    pub(super) fn rows<'r>(
        statement: &mut rusqlite::CachedStatement<'_>,
        connection: &Connection,
        with_ids: bool,
        records: impl Iterator<
            Item = (
                Option<&'r RecordId>,
                &'r str,
                &'r str,
                &'r [rusqlite::types::Value],
            ),
        >,
    ) -> rusqlite::Result<i64> {
        let mut parameter = 0;
        let mut bind = |value: &dyn rusqlite::ToSql| {
            parameter += 1;
            statement.raw_bind_parameter(parameter, value)
        };
        let mut rows = 0;
        for (id, data, stamp, references) in records {
            rows += 1;
            if with_ids {
                bind(&id.map(sql_id).unwrap_or(rusqlite::types::Value::Null))?;
            }
            bind(&data)?;
            bind(&stamp)?;
            bind(&stamp)?;
            for value in references {
                bind(value)?;
            }
        }
        statement.raw_execute()?;
        debug_assert_eq!(connection.changes(), rows, "every row stored");
        Ok(connection.last_insert_rowid())
    }

    /// Stores a record whose fields are already serialised as `data`; returns its id.
    pub(super) fn run(
        &self,
        connection: &Connection,
        id: Option<RecordId>,
        data: &str,
        created_at: &str,
        updated_at: &str,
        references: &[rusqlite::types::Value],
    ) -> rusqlite::Result<RecordId> {
        let mut statement = self.statement(connection)?;
        Insert::run_on(
            &mut statement,
            connection,
            id,
            (data, created_at, updated_at),
            references,
        )
    }

    /// The statement storing one record (see [`Insert::run_on`]).
    pub(super) fn statement<'c>(
        &self,
        connection: &'c Connection,
    ) -> rusqlite::Result<rusqlite::CachedStatement<'c>> {
        connection.prepare_cached(&self.sql)
    }

    /// Stores, with its [`Insert::statement`] on `connection`, a record whose
    /// fields are already serialised, given as (data, created_at,
    /// updated_at), with its reference fields' [`references::values`];
    /// returns its id.
    pub(super) fn run_on(
        statement: &mut rusqlite::CachedStatement<'_>,
        connection: &Connection,
        id: Option<RecordId>,
        (data, created_at, updated_at): (&str, &str, &str),
        references: &[rusqlite::types::Value],
    ) -> rusqlite::Result<RecordId> {
        let sql_id = id
            .as_ref()
            .map(sql_id)
            .unwrap_or(rusqlite::types::Value::Null);
        statement.raw_bind_parameter(1, sql_id)?;
        statement.raw_bind_parameter(2, data)?;
        statement.raw_bind_parameter(3, created_at)?;
        statement.raw_bind_parameter(4, updated_at)?;
        for (parameter, value) in (5..).zip(references) {
            statement.raw_bind_parameter(parameter, value)?;
        }
        statement.raw_execute()?;
        Ok(id.unwrap_or_else(|| RecordId::Integer(connection.last_insert_rowid())))
    }
}

fn conflict(field: &str, message: String) -> StoreError {
    StoreError::Conflict {
        errors: vec![FieldError::new(field, message.clone())],
        message,
    }
}

/// Checks unique fields and references of `fields`, about to be stored as record `own_id`.
pub(super) fn check_integrity(
    connection: &Connection,
    spec: &Spec,
    resource: &Resource,
    own_id: Option<&RecordId>,
    fields: &mut Map<String, Value>,
) -> Result<(), StoreError> {
    let mut errors = Vec::new();
    let mut canonical = Vec::new();
    for field in &resource.fields {
        let Some(value) = fields.get(&field.name).filter(|value| !value.is_null()) else {
            continue;
        };
        if field.unique && holder_of(connection, resource, &field.name, value, own_id)?.is_some() {
            errors.push(FieldError::new(
                &field.name,
                format!("{value} is taken by another {} record", resource.name),
            ));
        }
        if let Some(reference) = &field.reference {
            let target = spec
                .resource(&reference.resource)
                .expect("the spec checks that references resolve");
            let target_id = RecordId::from_json(target.id, value);
            let live = match &target_id {
                Some(target_id) => matches!(find(connection, target, target_id)?, Some((_, false))),
                None => false,
            };
            if live && let Some(target_id) = target_id {
                // Store the canonical form (UUIDs lower-case), which dependant lookups use.
                canonical.push((field.name.clone(), target_id.to_json()));
            }
            if !live {
                errors.push(FieldError::new(
                    &field.name,
                    format!("no {} record has id {value}", target.name),
                ));
            }
        }
    }
    if errors.is_empty() {
        fields.extend(canonical);
        return Ok(());
    }
    let message = errors
        .iter()
        .map(|error| format!("{}: {}", error.field, error.message))
        .collect::<Vec<_>>()
        .join("; ");
    Err(StoreError::Conflict { message, errors })
}

/// The id of a live record other than `own_id` whose `field` equals `value`.
fn holder_of(
    connection: &Connection,
    resource: &Resource,
    field: &str,
    value: &Value,
    own_id: Option<&RecordId>,
) -> rusqlite::Result<Option<rusqlite::types::Value>> {
    let sql = format!(
        "SELECT id FROM {} WHERE {} = ?1 AND deleted_at IS NULL AND (?2 IS NULL OR id <> ?2) LIMIT 1",
        table(resource),
        field_expression(resource, field)
    );
    let own = own_id.map(sql_id).unwrap_or(rusqlite::types::Value::Null);
    connection
        .prepare_cached(&sql)?
        .query_row((sql_value(value), own), |row| row.get(0))
        .optional()
}

/// Removes record `id` of `resource` and applies `on_delete` to its dependants, recursively.
fn remove(
    transaction: &Connection,
    spec: &Spec,
    resource: &Resource,
    id: &RecordId,
    now: &str,
) -> Result<(), StoreError> {
    // Remove first, so that a cycle of cascades ends at records already gone.
    // (Only live records are removed: the one asked for, and live dependants.)
    let removed = if resource.soft_delete {
        let sql = format!(
            "UPDATE {} SET deleted_at = ?2 WHERE id = ?1 AND deleted_at IS NULL",
            table(resource)
        );
        transaction
            .prepare_cached(&sql)?
            .execute((sql_id(id), now))?
    } else {
        hard_delete(transaction, resource, id)?
    };
    counts::add(transaction, resource, -(removed as i64))?;
    let id_value = id.to_json();
    for (dependant, field, reference) in spec.dependants_of(&resource.name) {
        let sql = format!(
            "SELECT id FROM {} WHERE {} = ?1 AND deleted_at IS NULL",
            table(dependant),
            field_expression(dependant, &field.name)
        );
        let dependant_ids: Vec<RecordId> = transaction
            .prepare_cached(&sql)?
            .query_map([sql_value(&id_value)], |row| match dependant.id {
                IdKind::Integer => row.get(0).map(RecordId::Integer),
                _ => row.get(0).map(RecordId::Text),
            })?
            .collect::<rusqlite::Result<_>>()?;
        if dependant_ids.is_empty() {
            continue;
        }
        match reference.on_delete {
            OnDelete::Restrict => {
                let message = format!(
                    "{} {} record{} reference{} this record through '{}'; delete or change them first",
                    dependant_ids.len(),
                    dependant.name,
                    if dependant_ids.len() == 1 { "" } else { "s" },
                    if dependant_ids.len() == 1 { "s" } else { "" },
                    field.name
                );
                return Err(StoreError::Conflict {
                    message,
                    errors: Vec::new(),
                });
            }
            OnDelete::Cascade => {
                for dependant_id in &dependant_ids {
                    remove(transaction, spec, dependant, dependant_id, now)?;
                }
            }
            OnDelete::SetNull => {
                let sql = format!(
                    "UPDATE {} SET data = json_set(data, '$.{}', json('null')), {column} = NULL, updated_at = ?2 WHERE {column} = ?1 AND deleted_at IS NULL",
                    table(dependant),
                    field.name,
                    column = references::column(&field.name)
                );
                transaction
                    .prepare_cached(&sql)?
                    .execute((sql_value(&id_value), now))?;
            }
        }
    }
    Ok(())
}

/// The resources whose records removing one of `resource` may change: it,
/// and those referencing them (`on_delete`), however far.
fn removal_reaches<'a>(spec: &'a Spec, resource: &'a Resource) -> Vec<&'a str> {
    let mut reached = vec![resource.name.as_str()];
    let mut next = 0;
    while let Some(name) = reached.get(next).copied() {
        for (dependant, _, _) in spec.dependants_of(name) {
            if !reached.contains(&dependant.name.as_str()) {
                reached.push(&dependant.name);
            }
        }
        next += 1;
    }
    reached
}

/// Removes a record's row (its search entry goes with it, by trigger);
/// returns the number of rows removed.
fn hard_delete(
    connection: &Connection,
    resource: &Resource,
    id: &RecordId,
) -> Result<usize, StoreError> {
    let sql = format!("DELETE FROM {} WHERE id = ?1", table(resource));
    Ok(connection.prepare_cached(&sql)?.execute([sql_id(id)])?)
}

fn random_uuid() -> String {
    let mut faker = crate::fake::Faker::new(rand::random(), "");
    faker.uuid()
}
