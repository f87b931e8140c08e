//! Full-text search: one FTS5 table per resource with `search` fields, kept in
//! step with every write. Tokens are Unicode words with diacritics removed, so
//! search ignores case and accents; each query word matches as a prefix. The
//! index is derived data: it is rebuilt when the spec's search fields change.

use rusqlite::{Connection, OptionalExtension};
use serde_json::{Map, Value};

use super::{field_expression, table};
use crate::spec::Resource;

fn fts_table(resource: &Resource) -> String {
    format!("\"fts_{}\"", resource.name)
}

/// Creates the search index of `resource` (rebuilding it if its fields changed).
pub(super) fn prepare(connection: &Connection, resource: &Resource) -> rusqlite::Result<()> {
    connection.execute_batch(
        "CREATE TABLE IF NOT EXISTS _standin_search (resource TEXT PRIMARY KEY NOT NULL, fields TEXT NOT NULL)",
    )?;
    let wanted = resource.search.join(",");
    let current: Option<String> = connection
        .query_row(
            "SELECT fields FROM _standin_search WHERE resource = ?1",
            [&resource.name],
            |row| row.get(0),
        )
        .optional()?;
    if current.as_deref() == Some(wanted.as_str()) {
        return Ok(());
    }
    let fts = fts_table(resource);
    connection.execute_batch(&format!("DROP TABLE IF EXISTS {fts}"))?;
    connection.execute(
        "DELETE FROM _standin_search WHERE resource = ?1",
        [&resource.name],
    )?;
    if resource.search.is_empty() {
        return Ok(());
    }
    let columns: Vec<String> = resource
        .search
        .iter()
        .map(|field| format!("\"{field}\""))
        .collect();
    connection.execute_batch(&format!(
        "CREATE VIRTUAL TABLE {fts} USING fts5({}, tokenize = 'unicode61 remove_diacritics 2')",
        columns.join(", ")
    ))?;
    rebuild(connection, resource)?;
    connection.execute(
        "INSERT INTO _standin_search (resource, fields) VALUES (?1, ?2)",
        [&resource.name, &wanted],
    )?;
    Ok(())
}

/// Re-indexes every record of `resource` (after its rows were replaced wholesale).
pub(super) fn rebuild(connection: &Connection, resource: &Resource) -> rusqlite::Result<()> {
    if resource.search.is_empty() {
        return Ok(());
    }
    let fts = fts_table(resource);
    let columns: Vec<String> = resource
        .search
        .iter()
        .map(|field| format!("\"{field}\""))
        .collect();
    let extracts: Vec<String> = resource
        .search
        .iter()
        .map(|field| field_expression(field))
        .collect();
    connection.execute_batch(&format!(
        "DELETE FROM {fts}; INSERT INTO {fts} (rowid, {}) SELECT rowid, {} FROM {}",
        columns.join(", "),
        extracts.join(", "),
        table(resource)
    ))
}

/// Indexes (or re-indexes) the record stored at `rowid`.
pub(super) fn index(
    connection: &Connection,
    resource: &Resource,
    rowid: i64,
    fields: &Map<String, Value>,
) -> rusqlite::Result<()> {
    if resource.search.is_empty() {
        return Ok(());
    }
    forget(connection, resource, rowid)?;
    let columns: Vec<String> = resource
        .search
        .iter()
        .map(|field| format!("\"{field}\""))
        .collect();
    let placeholders: Vec<String> = (2..=resource.search.len() + 1)
        .map(|index| format!("?{index}"))
        .collect();
    let sql = format!(
        "INSERT INTO {} (rowid, {}) VALUES (?1, {})",
        fts_table(resource),
        columns.join(", "),
        placeholders.join(", ")
    );
    let mut values: Vec<rusqlite::types::Value> = vec![rusqlite::types::Value::Integer(rowid)];
    values.extend(resource.search.iter().map(|field| match fields.get(field) {
        Some(Value::String(text)) => rusqlite::types::Value::Text(text.clone()),
        _ => rusqlite::types::Value::Null,
    }));
    connection
        .prepare_cached(&sql)?
        .execute(rusqlite::params_from_iter(values))?;
    Ok(())
}

/// Removes the record stored at `rowid` from the index.
pub(super) fn forget(
    connection: &Connection,
    resource: &Resource,
    rowid: i64,
) -> rusqlite::Result<()> {
    if resource.search.is_empty() {
        return Ok(());
    }
    let sql = format!("DELETE FROM {} WHERE rowid = ?1", fts_table(resource));
    connection.prepare_cached(&sql)?.execute([rowid])?;
    Ok(())
}

/// The SQL condition selecting records that match `words`, and its parameter.
pub(super) fn condition(resource: &Resource, words: &str) -> (String, rusqlite::types::Value) {
    let sql = format!(
        "rowid IN (SELECT rowid FROM {fts} WHERE {fts} MATCH ?)",
        fts = fts_table(resource)
    );
    (sql, rusqlite::types::Value::Text(match_expression(words)))
}

/// An FTS5 query matching every word of `words` as a prefix: `"dun"* "her"*`.
fn match_expression(words: &str) -> String {
    let tokens: Vec<String> = words
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| format!("\"{}\"*", word.replace('"', "\"\"")))
        .collect();
    if tokens.is_empty() {
        // Only punctuation: match nothing rather than everything.
        "\"\"".to_string()
    } else {
        tokens.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::match_expression;

    #[test]
    fn words_become_prefix_terms() {
        assert_eq!(match_expression("Dune  Herb"), "\"Dune\"* \"Herb\"*");
        assert_eq!(match_expression("l'été"), "\"l\"* \"été\"*");
        assert_eq!(match_expression("!!"), "\"\"");
    }
}
