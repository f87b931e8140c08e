//! Reading records: one by id, and pages of a collection.

use rusqlite::{Connection, OptionalExtension, Row};
use serde_json::{Map, Value};

use super::changes::PageReads;
use super::counts::POSITIONS_APART;
use super::{Record, RecordId, Store, StoreError, select, sql_id, table};
use crate::query::{Column, Filter, ListQuery};
use crate::spec::{IdKind, Resource};

/// A slice of a collection and the size of the whole.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The records in the window, in order.
    pub records: Vec<Record>,
    /// How many records the collection holds.
    pub total: u64,
    /// What the page read.
    pub reads: PageReads,
}

pub(super) const COLUMNS: &str = "id, data, created_at, updated_at, deleted_at";

/// A stable number standing for a resource, to count its automatic indexes.
pub(super) fn resource_key(name: &str) -> usize {
    crate::fingerprint::fnv1a(crate::fingerprint::START, name.bytes()) as usize
}

/// A record's row as stored, borrowed from SQLite's result: its fields still
/// the JSON text of its `data` column, for answers written from that text
/// without parsing it into values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRow<'a> {
    /// The record's id.
    pub id: RecordId,
    /// The field values as a JSON object's text, as stored.
    pub data: &'a str,
    /// When it was created.
    pub created_at: &'a str,
    /// When it last changed.
    pub updated_at: &'a str,
}

/// The text of column `index` of `row`, borrowed.
fn text<'a>(row: &'a Row<'_>, index: usize) -> rusqlite::Result<&'a str> {
    row.get_ref(index)?.as_str().map_err(|error| {
        rusqlite::Error::FromSqlConversionFailure(
            index,
            rusqlite::types::Type::Text,
            Box::new(error),
        )
    })
}

/// A stored row and whether it is soft-deleted, from a row of [`COLUMNS`].
fn stored_from_row<'a>(kind: IdKind, row: &'a Row<'_>) -> rusqlite::Result<(StoredRow<'a>, bool)> {
    let id = match kind {
        IdKind::Integer => RecordId::Integer(row.get(0)?),
        IdKind::Uuid | IdKind::String => RecordId::Text(row.get(0)?),
    };
    let deleted = row.get_ref(4)? != rusqlite::types::ValueRef::Null;
    let stored = StoredRow {
        id,
        data: text(row, 1)?,
        created_at: text(row, 2)?,
        updated_at: text(row, 3)?,
    };
    Ok((stored, deleted))
}

/// A record and whether it is soft-deleted, from a row of [`COLUMNS`].
pub(super) fn record_from_row(kind: IdKind, row: &Row<'_>) -> rusqlite::Result<(Record, bool)> {
    let id = match kind {
        IdKind::Integer => RecordId::Integer(row.get(0)?),
        IdKind::Uuid | IdKind::String => RecordId::Text(row.get(0)?),
    };
    let data: String = row.get(1)?;
    let fields: Map<String, Value> = serde_json::from_str(&data).map_err(|error| {
        rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(error))
    })?;
    let deleted: Option<String> = row.get(4)?;
    let record = Record {
        id,
        fields,
        created_at: row.get(2)?,
        updated_at: row.get(3)?,
    };
    Ok((record, deleted.is_some()))
}

/// The record with `id`, deleted or not.
pub(super) fn find(
    connection: &Connection,
    resource: &Resource,
    id: &RecordId,
) -> rusqlite::Result<Option<(Record, bool)>> {
    let sql = format!(
        "SELECT {} FROM {} WHERE id = ?1",
        super::record_columns(resource),
        table(resource)
    );
    connection
        .prepare_cached(&sql)?
        .query_row([sql_id(id)], |row| record_from_row(resource.id, row))
        .optional()
}

/// The live record with `id`, or why there is none.
pub(super) fn find_live(
    connection: &Connection,
    resource: &Resource,
    id: &RecordId,
) -> Result<Record, StoreError> {
    match find(connection, resource, id)? {
        Some((record, false)) => Ok(record),
        Some((_, true)) if resource.soft_delete => Err(StoreError::Gone),
        _ => Err(StoreError::NotFound),
    }
}

/// A page past the first of a whole collection of integer ids in id order,
/// read from the id it starts at, when the ids of its `total` live records
/// are contiguous (as they stay until a record is deleted): any page then
/// costs what the first does, where OFFSET steps over every record before
/// it. None otherwise.
fn seek_page<T>(
    connection: &Connection,
    resource: &Resource,
    query: &ListQuery,
    total: Option<i64>,
    from_row: &mut impl FnMut(IdKind, &Row<'_>) -> rusqlite::Result<(T, bool)>,
) -> rusqlite::Result<Option<Vec<T>>> {
    let Some(total) = total else {
        return Ok(None);
    };
    let by_id = query.sort.iter().all(|key| key.column == Column::Id);
    if resource.id != IdKind::Integer || query.offset == 0 || !by_id {
        return Ok(None);
    }
    let table = table(resource);
    let sql = format!("SELECT (SELECT min(id) FROM {table}), (SELECT max(id) FROM {table})");
    let (low, high): (Option<i64>, Option<i64>) = connection
        .prepare_cached(&sql)?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    // Every row (deleted or not) has an id in [low, high]: as many live
    // records as that range holds ids means each id there is a live record.
    let (Some(low), Some(high)) = (low, high) else {
        return Ok(None);
    };
    if high.checked_sub(low).and_then(|span| span.checked_add(1)) != Some(total) {
        return Ok(None);
    }
    let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
    let (condition, start, order) = match query.sort.first().is_some_and(|key| key.descending) {
        true => ("<=", high.saturating_sub(offset), "DESC"),
        false => (">=", low.saturating_add(offset), "ASC"),
    };
    let sql = format!(
        "SELECT {} FROM {table} WHERE id {condition} ?1 AND deleted_at IS NULL ORDER BY id {order} LIMIT ?2",
        super::record_columns(resource)
    );
    let mut statement = connection.prepare_cached(&sql)?;
    let records = statement
        .query_map((start, i64::from(query.limit)), |row| {
            from_row(resource.id, row).map(|(record, _)| record)
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Some(records))
}

/// The next `count` positions of `compiled`'s order (the order keys of the
/// records at every [`POSITIONS_APART`]th place) after `last`, or from the
/// first record; fewer where the records end. Read as the order keys
/// alone, which an index holds.
fn find_positions(
    connection: &Connection,
    compiled: &select::Compiled,
    keys: &[(String, bool)],
    last: Option<&[rusqlite::types::Value]>,
    count: usize,
) -> rusqlite::Result<Vec<Vec<rusqlite::types::Value>>> {
    let columns: Vec<&str> = keys
        .iter()
        .map(|(expression, _)| expression.as_str())
        .collect();
    let mut parameters = compiled.parameters.clone();
    // Read from `last` (the first row read, already kept), or from the first record.
    let (after, places) = match last {
        Some(last) => {
            let (after, after_parameters) = select::at_or_after(keys, last);
            parameters.extend(after_parameters);
            (format!(" AND {after}"), count as u64 * POSITIONS_APART + 1)
        }
        None => (String::new(), (count as u64 - 1) * POSITIONS_APART + 1),
    };
    parameters.push(rusqlite::types::Value::Integer(
        i64::try_from(places).unwrap_or(i64::MAX),
    ));
    let sql = format!(
        "SELECT {} FROM {} WHERE {}{after} ORDER BY {} LIMIT ?",
        columns.join(", "),
        compiled.from,
        compiled.condition,
        compiled.order
    );
    let mut statement = connection.prepare_cached(&sql)?;
    let mut rows = statement.query(rusqlite::params_from_iter(parameters))?;
    let mut found = Vec::new();
    let mut place = 0u64;
    while let Some(row) = rows.next()? {
        if place.is_multiple_of(POSITIONS_APART) && !(last.is_some() && place == 0) {
            found.push(
                (0..keys.len())
                    .map(|column| row.get::<_, rusqlite::types::Value>(column))
                    .collect::<rusqlite::Result<Vec<_>>>()?,
            );
        }
        place += 1;
    }
    Ok(found)
}

impl Store {
    /// The live record of `resource` with `id`.
    pub fn get(&self, resource: &Resource, id: &RecordId) -> Result<Record, StoreError> {
        find_live(&self.lock_for_request(), resource, id)
    }

    /// The live records of `resource` that `query` selects (and `scope`, for
    /// inverse collections), in its order and window, with their total.
    pub fn list(
        &self,
        resource: &Resource,
        query: &ListQuery,
        scope: &[Filter],
    ) -> Result<Page, StoreError> {
        let (records, total, reads) = self.list_rows(resource, query, scope, record_from_row)?;
        let ids = records.iter().map(|record| record.id.clone()).collect();
        Ok(Page {
            records,
            total,
            reads: reads.showing(ids),
        })
    }

    /// Hands the live record of `resource` with `id` as stored to `each`,
    /// and gives what it answers.
    pub fn get_stored<T>(
        &self,
        resource: &Resource,
        id: &RecordId,
        each: impl FnOnce(&StoredRow<'_>) -> T,
    ) -> Result<T, StoreError> {
        let connection = self.lock_for_request();
        let sql = format!(
            "SELECT {} FROM {} WHERE id = ?1",
            super::record_columns(resource),
            super::TableName(resource)
        );
        let found = connection
            .prepare_cached(&sql)?
            .query_row([sql_id(id)], |row| {
                let (stored, deleted) = stored_from_row(resource.id, row)?;
                Ok((!deleted).then(|| each(&stored)))
            })
            .optional()?;
        match found {
            Some(Some(answer)) => Ok(answer),
            Some(None) if resource.soft_delete => Err(StoreError::Gone),
            _ => Err(StoreError::NotFound),
        }
    }

    /// Hands the records [`Store::list`] reads to `each` as stored, in
    /// order; gives how many there were, the collection's total and what
    /// the page read.
    pub fn list_stored(
        &self,
        resource: &Resource,
        query: &ListQuery,
        scope: &[Filter],
        mut each: impl FnMut(&StoredRow<'_>),
    ) -> Result<(usize, u64, PageReads), StoreError> {
        let (ids, total, reads) = self.list_rows(resource, query, scope, |kind, row| {
            let (stored, deleted) = stored_from_row(kind, row)?;
            each(&stored);
            Ok((stored.id, deleted))
        })?;
        Ok((ids.len(), total, reads.showing(ids)))
    }

    /// The rows of a page, each read by `from_row`, with the collection's total.
    fn list_rows<T>(
        &self,
        resource: &Resource,
        query: &ListQuery,
        scope: &[Filter],
        mut from_row: impl FnMut(IdKind, &Row<'_>) -> rusqlite::Result<(T, bool)>,
    ) -> Result<(Vec<T>, u64, PageReads), StoreError> {
        let connection = self.lock_for_request();
        let compiled = select::compile(resource, query, scope);
        let reads = PageReads::of(resource, query, scope, &compiled);
        // Indexes are made once, for every later query: that work is not
        // this query's, and stopping it would only make the next one redo it.
        if self.is_reader() {
            // A reading connection makes no index: the writer does, running
            // the query again.
            if !self.has_indexes(&connection, resource, query, scope)? {
                return Err(self.needs_writer());
            }
        } else {
            self.without_budget(|| match query.search {
                None => self.ensure_index(&connection, resource, query, scope),
                Some(_) => Ok(super::search::ensure(&connection, resource)?),
            })?;
            if connection.is_autocommit() {
                // An index made committed no data: readers' snapshots are
                // of a known generation again, before this read is answered.
                self.generation.settle();
            }
        }
        // A whole collection's total is kept; others are counted.
        let whole = query.filters.is_empty() && scope.is_empty() && query.search.is_none();
        let kept = match whole {
            true => self.live_count(&connection, resource)?,
            false => None,
        };
        let total = match kept {
            Some(total) => total,
            None => self.cached_count(&connection, resource, &compiled)?,
        };
        if let Some(records) = seek_page(&connection, resource, query, kept, &mut from_row)? {
            return Ok((records, total.unsigned_abs(), reads));
        }
        if let Some(records) = self.positioned_page(
            &connection,
            resource,
            query,
            total,
            &compiled,
            &mut from_row,
        )? {
            return Ok((records, total.unsigned_abs(), reads));
        }
        let mut all_parameters = compiled.parameters;
        all_parameters.push(rusqlite::types::Value::Integer(i64::from(query.limit)));
        all_parameters.push(rusqlite::types::Value::Integer(
            i64::try_from(query.offset).unwrap_or(i64::MAX),
        ));
        let mut statement = connection.prepare_cached(&compiled.page)?;
        let records = statement
            .query_map(rusqlite::params_from_iter(&all_parameters), |row| {
                from_row(resource.id, row).map(|(record, _)| record)
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok((records, total.unsigned_abs(), reads))
    }

    /// A page at least [`POSITIONS_APART`] places into its order, read from
    /// the nearest kept position before it (see [`super::counts::Fact`]),
    /// the positions up to it found first where none are kept: an index scan
    /// of the order keys, which the next pages as far in are spared. None
    /// where positions cannot be kept (an order on a field, a search, a
    /// generation not known) or the page starts past the `total` records.
    fn positioned_page<T>(
        &self,
        connection: &Connection,
        resource: &Resource,
        query: &ListQuery,
        total: i64,
        compiled: &select::Compiled,
        from_row: &mut impl FnMut(IdKind, &Row<'_>) -> rusqlite::Result<(T, bool)>,
    ) -> rusqlite::Result<Option<Vec<T>>> {
        let Some(keys) = &compiled.order_keys else {
            return Ok(None);
        };
        // Past the last record, the page is empty however it is read.
        if query.offset < POSITIONS_APART
            || query.offset >= total.unsigned_abs()
            || resource.counted_resources().next().is_some()
        {
            return Ok(None);
        }
        self.place_snapshot(connection, resource);
        let Some(seen) = self.seen(&resource.name) else {
            return Ok(None);
        };
        let key = format!("{}\u{0}{:?}", compiled.page, compiled.parameters);
        // None kept: found from the first record, at place 0.
        let (mut place, mut values, kept, shift) =
            match self.totals.position(&key, seen, query.offset) {
                Some(nearest) => (
                    nearest.index,
                    Some(nearest.values),
                    nearest.kept,
                    nearest.shift,
                ),
                None => (0, None, 0, 0),
            };
        let wanted = usize::try_from(query.offset.saturating_sub(shift) / POSITIONS_APART)
            .unwrap_or(usize::MAX);
        if kept <= wanted {
            let found = find_positions(
                connection,
                compiled,
                keys,
                values.as_deref(),
                wanted + 1 - kept,
            )?;
            let nearest = (wanted - kept).min(found.len().saturating_sub(1));
            if let Some(position) = found.get(nearest) {
                (place, values) = (kept + nearest, Some(position.clone()));
                self.totals
                    .add_positions(key, seen, kept, found, |generation, found| {
                        super::counts::Total {
                            resource: resource.name.clone(),
                            generation,
                            same_since: generation,
                            earlier: Vec::new(),
                            fact: super::counts::Fact::Positions(super::counts::Positions {
                                keys: found,
                                shift: 0,
                                order: super::counts::Order {
                                    from: compiled.from.clone(),
                                    condition: compiled.condition.clone(),
                                    parameters: compiled.parameters.clone(),
                                    keys: keys.clone(),
                                },
                            }),
                            reads: compiled.order_reads.clone(),
                            membership: compiled.membership.clone(),
                        }
                    });
            }
        }
        let Some(values) = values else {
            return Ok(None);
        };
        let (after, after_parameters) = select::at_or_after(keys, &values);
        let sql = format!(
            "SELECT {} FROM {} WHERE {} AND {after} ORDER BY {} LIMIT ? OFFSET ?",
            super::record_columns(resource),
            compiled.from,
            compiled.condition,
            compiled.order
        );
        let skipped = query
            .offset
            .saturating_sub(place as u64 * POSITIONS_APART + shift);
        let parameters = compiled
            .parameters
            .iter()
            .cloned()
            .chain(after_parameters)
            .chain([
                rusqlite::types::Value::Integer(i64::from(query.limit)),
                rusqlite::types::Value::Integer(i64::try_from(skipped).unwrap_or(i64::MAX)),
            ]);
        let mut statement = connection.prepare_cached(&sql)?;
        let records = statement
            .query_map(rusqlite::params_from_iter(parameters), |row| {
                from_row(resource.id, row).map(|(record, _)| record)
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Some(records))
    }

    /// The total of a filtered or searched query on `resource`, kept while
    /// no write to it could have changed it (see [`super::counts::Totals`]).
    fn cached_count(
        &self,
        connection: &Connection,
        resource: &Resource,
        compiled: &select::Compiled,
    ) -> rusqlite::Result<i64> {
        let count = || {
            connection.prepare_cached(&compiled.count)?.query_row(
                rusqlite::params_from_iter(&compiled.count_parameters),
                |row| row.get(0),
            )
        };
        // A count field's values change with the counted records: its
        // resource's generation alone does not tell a total is current.
        let counts_others = resource.counted_resources().next().is_some();
        let seen = match counts_others {
            true => None,
            false => {
                self.place_snapshot(connection, resource);
                self.seen(&resource.name)
            }
        };
        let Some(seen) = seen else {
            return count();
        };
        let key = compiled.total_key();
        if let Some(total) = self.totals.get(&key, seen) {
            return Ok(total);
        }
        let total = count()?;
        // Kept only as the resource's latest state's.
        let Some(generation) = seen.current else {
            return Ok(total);
        };
        self.totals.keep(
            key,
            super::counts::Total {
                resource: resource.name.clone(),
                generation,
                same_since: generation,
                earlier: Vec::new(),
                fact: super::counts::Fact::Count(total),
                reads: compiled.reads.clone(),
                membership: compiled.membership.clone(),
            },
        );
        Ok(total)
    }

    /// Creates the index that serves a query's equality filters and order
    /// together, the first time that combination is asked for (at most
    /// [`select::MAX_AUTO_INDEXES`] per resource), so that sorted, filtered
    /// pages never sort the whole collection.
    fn ensure_index(
        &self,
        connection: &Connection,
        resource: &Resource,
        query: &ListQuery,
        scope: &[Filter],
    ) -> rusqlite::Result<()> {
        {
            let mut made = self.column_indexes.borrow_mut();
            for (name, sql) in select::filter_indexes(resource, query, scope) {
                if !made.contains(&name) {
                    connection.execute_batch(&sql)?;
                    made.insert(name);
                }
            }
        }
        let Some((name, sql)) = select::auto_index(resource, query, scope) else {
            return Ok(());
        };
        let name = name.trim_matches('"').to_string();
        let mut made = self.auto_indexes.borrow_mut();
        if made.contains_key(&name) {
            return Ok(());
        }
        let per_resource = made
            .values()
            .filter(|owner| **owner == resource_key(&resource.name))
            .count();
        if per_resource >= select::MAX_AUTO_INDEXES {
            return Ok(());
        }
        connection.execute_batch(&sql)?;
        made.insert(name, resource_key(&resource.name));
        Ok(())
    }

    /// Whether the indexes [`Store::list`] would make for `query` exist (or
    /// would not be made), as a reading connection sees the schema.
    fn has_indexes(
        &self,
        connection: &Connection,
        resource: &Resource,
        query: &ListQuery,
        scope: &[Filter],
    ) -> rusqlite::Result<bool> {
        if query.search.is_some() {
            return super::search::is_ready(connection, resource);
        }
        let Some(reader) = &self.reader else {
            return Ok(true);
        };
        let mut known = reader.known_indexes.borrow_mut();
        let mut exists = |name: &str| -> rusqlite::Result<bool> {
            if known.contains(name) {
                return Ok(true);
            }
            let found = connection
                .prepare_cached("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?1")?
                .exists([name])?;
            if found {
                known.insert(name.to_string());
            }
            Ok(found)
        };
        for (name, _) in select::filter_indexes(resource, query, scope) {
            if !exists(&name)? {
                return Ok(false);
            }
        }
        let Some((name, _)) = select::auto_index(resource, query, scope) else {
            return Ok(true);
        };
        if exists(name.trim_matches('"'))? {
            return Ok(true);
        }
        // The writer makes no more than its limit per resource.
        let made: i64 = connection
            .prepare_cached(
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = ?1 AND name LIKE 'ax!_%' ESCAPE '!'",
            )?
            .query_row([format!("res_{}", resource.name)], |row| row.get(0))?;
        Ok(made.unsigned_abs() >= select::MAX_AUTO_INDEXES as u64)
    }

    /// The fields of every live record of `resource`, in the order they were stored.
    pub fn stored_in_order(
        &self,
        resource: &Resource,
    ) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, StoreError> {
        let connection = self.lock_for_request();
        let sql = format!(
            "SELECT data FROM {} WHERE deleted_at IS NULL ORDER BY rowid",
            super::table(resource)
        );
        let mut statement = connection.prepare_cached(&sql)?;
        let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
        let mut records = Vec::new();
        for data in rows {
            // Stored by standin, so always a JSON object.
            if let Ok(fields) = serde_json::from_str(&data?) {
                records.push(fields);
            }
        }
        Ok(records)
    }

    /// How many live records `resource` holds.
    pub fn count(&self, resource: &Resource) -> Result<u64, StoreError> {
        let connection = self.lock_for_request();
        if let Some(total) = self.live_count(&connection, resource)? {
            return Ok(total.unsigned_abs());
        }
        let sql = format!(
            "SELECT count(*) FROM {} WHERE deleted_at IS NULL",
            table(resource)
        );
        let total: i64 = connection
            .prepare_cached(&sql)?
            .query_row([], |row| row.get(0))?;
        Ok(total.unsigned_abs())
    }
}
