//! Related records for `embed=`: the record each reference points at, and the
//! records that reference each item (inverse), fetched with one query per
//! embed for a whole page.

use std::collections::HashMap;

use rusqlite::types::Value as Sql;

use super::read::{COLUMNS, record_from_row};
use super::{Record, RecordId, Store, StoreError, field_expression, sql_id, sql_value, table};
use crate::query::Embed;
use crate::spec::{Resource, Spec};

/// What one embed holds for one item.
#[derive(Debug, Clone, PartialEq)]
pub enum Embedded {
    /// The referenced record (none if the reference is null or dangling).
    One(Option<Record>),
    /// The referencing records (at most the cap, in id order).
    Many(Vec<Record>),
}

impl Store {
    /// For each record, the related records of each embed (in `embeds` order);
    /// inverse lists hold at most `cap` records each.
    pub fn embedded(
        &self,
        spec: &Spec,
        records: &[Record],
        embeds: &[Embed],
        cap: u32,
    ) -> Result<Vec<Vec<Embedded>>, StoreError> {
        let mut result: Vec<Vec<Embedded>> = vec![Vec::with_capacity(embeds.len()); records.len()];
        if records.is_empty() {
            return Ok(result);
        }
        let connection = self.lock_for_request();
        for embed in embeds {
            match embed {
                Embed::Reference {
                    field,
                    resource: target,
                    ..
                } => {
                    let target = spec
                        .resource(target)
                        .expect("embeds are resolved against the spec");
                    let ids: Vec<RecordId> = records
                        .iter()
                        .filter_map(|record| record.fields.get(field))
                        .filter_map(|value| RecordId::from_json(target.id, value))
                        .collect();
                    let found = by_ids(&connection, target, &ids)?;
                    for (index, record) in records.iter().enumerate() {
                        let related = record
                            .fields
                            .get(field)
                            .and_then(|value| RecordId::from_json(target.id, value))
                            .and_then(|id| found.get(&id).cloned());
                        result[index].push(Embedded::One(related));
                    }
                }
                Embed::Inverse(inverse) => {
                    let dependant = spec
                        .resource(&inverse.resource)
                        .expect("inverses come from the spec");
                    let mut grouped =
                        referencing(&connection, dependant, &inverse.field, records, cap)?;
                    for (index, record) in records.iter().enumerate() {
                        let related = grouped
                            .remove(&record.id.to_json().to_string())
                            .unwrap_or_default();
                        result[index].push(Embedded::Many(related));
                    }
                }
            }
        }
        Ok(result)
    }
}

fn by_ids(
    connection: &rusqlite::Connection,
    resource: &Resource,
    ids: &[RecordId],
) -> Result<HashMap<RecordId, Record>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let placeholders = vec!["?"; ids.len()].join(", ");
    let sql = format!(
        "SELECT {} FROM {} WHERE id IN ({placeholders}) AND deleted_at IS NULL",
        super::record_columns(resource),
        table(resource)
    );
    let parameters: Vec<Sql> = ids.iter().map(sql_id).collect();
    let mut statement = connection.prepare(&sql)?;
    let rows = statement.query_map(rusqlite::params_from_iter(parameters), |row| {
        record_from_row(resource.id, row).map(|(record, _)| record)
    })?;
    let mut found = HashMap::new();
    for record in rows {
        let record = record?;
        found.insert(record.id.clone(), record);
    }
    Ok(found)
}

/// The live records of `dependant` whose `field` references one of `parents`,
/// grouped by the parent's id (as JSON text), at most `cap` per parent.
fn referencing(
    connection: &rusqlite::Connection,
    dependant: &Resource,
    field: &str,
    parents: &[Record],
    cap: u32,
) -> Result<HashMap<String, Vec<Record>>, StoreError> {
    let expression = field_expression(field);
    let inner = super::record_columns(dependant);
    let placeholders = vec!["?"; parents.len()].join(", ");
    let sql = format!(
        "SELECT {COLUMNS}, parent FROM (
            SELECT {inner}, {expression} AS parent,
                   row_number() OVER (PARTITION BY {expression} ORDER BY id) AS position
            FROM {} WHERE {expression} IN ({placeholders}) AND deleted_at IS NULL
        ) WHERE position <= ? ORDER BY id",
        table(dependant)
    );
    let mut parameters: Vec<Sql> = parents
        .iter()
        .map(|parent| sql_value(&parent.id.to_json()))
        .collect();
    parameters.push(Sql::Integer(i64::from(cap)));
    let mut statement = connection.prepare(&sql)?;
    let rows = statement.query_map(rusqlite::params_from_iter(parameters), |row| {
        let (record, _) = record_from_row(dependant.id, row)?;
        let parent = match row.get_ref(5)? {
            rusqlite::types::ValueRef::Integer(id) => id.to_string(),
            rusqlite::types::ValueRef::Text(text) => {
                serde_json::Value::from(String::from_utf8_lossy(text)).to_string()
            }
            _ => String::new(),
        };
        Ok((parent, record))
    })?;
    let mut grouped: HashMap<String, Vec<Record>> = HashMap::new();
    for row in rows {
        let (parent, record) = row?;
        grouped.entry(parent).or_default().push(record);
    }
    Ok(grouped)
}
