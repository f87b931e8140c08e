//! Full-text search: one FTS5 table per resource with `search` fields, kept in
//! step with every write by SQL triggers. Tokens are Unicode words with
//! diacritics removed, so search ignores case and accents; each query word
//! matches as a prefix, read from the index's lists of prefixes of two to
//! five characters where the word is that long. The index holds live records only and no copy of
//! their text (it is contentless, and keeps no per-record sizes, which only
//! ranking needs), so a match is a live record and a search alone is counted
//! from the index. A record leaves the index through FTS5's 'delete' command
//! with the values it was indexed with, read from its stored document. The
//! index is derived data: it is made by a resource's first search (or when
//! the resource is seeded in bulk, which writes it without the triggers: see
//! [`pause`] and [`Indexing`]), and rebuilt when the spec's search fields, or
//! this module's layout of it, change.

use std::collections::HashSet;

use rusqlite::{CachedStatement, Connection, OptionalExtension};

use super::table;
use crate::spec::Resource;

/// The layout of the index and its triggers, stored beside the search
/// fields: an index written by an earlier layout is rebuilt.
const LAYOUT: &str = "5";

/// The prefix lengths (in characters) the index also keeps, so that a query
/// word of that length reads one list of matches, in order, and a page stops
/// after its last record. A longer word's matches are gathered from every
/// term it begins, which costs in proportion to their number; words of up to
/// five letters are the ones many terms begin. Each length adds to the
/// index's size and to the work of indexing a record, about a fifth of the
/// index's own each.
const PREFIXES: &str = "2 3 4 5";

/// The quoted name of `resource`'s search index.
pub(super) fn index_table(resource: &Resource) -> String {
    format!("\"fts_{}\"", resource.name)
}

/// Creates the table recording each index's layout and search fields.
pub(super) fn create_meta(connection: &Connection) -> rusqlite::Result<()> {
    connection.execute_batch(
        "CREATE TABLE IF NOT EXISTS _standin_search (resource TEXT PRIMARY KEY NOT NULL, fields TEXT NOT NULL)",
    )
}

/// The names of the search indexes' triggers, read once for a whole spec:
/// `sqlite_master` has no index, so a query per resource would cost in
/// proportion to the number of resources, each time.
pub(super) fn existing_triggers(connection: &Connection) -> rusqlite::Result<HashSet<String>> {
    let mut statement = connection.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'fts!_%' ESCAPE '!'",
    )?;
    let names = statement.query_map([], |row| row.get(0))?;
    names.collect()
}

/// Keeps the search index of `resource` as the spec wants it, when it has
/// one: an index of other search fields or of an earlier layout, or one
/// missing its triggers, is rebuilt. A resource without an index gets one
/// now only if it is seeded in bulk, else from its first search ([`ensure`]):
/// creating an index changes the schema several times, and each change costs
/// in proportion to the whole schema, which made start-up quadratic in the
/// number of resources. A resource whose search is removed keeps its (now
/// unused) index, so that requests still running on the previous spec never
/// miss the table. `triggers` are the [`existing_triggers`].
pub(super) fn prepare(
    connection: &Connection,
    resource: &Resource,
    bulk: bool,
    triggers: &HashSet<String>,
) -> rusqlite::Result<()> {
    if resource.search.is_empty() {
        return Ok(());
    }
    let names =
        ["inserted", "updated", "deleted"].map(|suffix| format!("fts_{}_{suffix}", resource.name));
    let has_triggers = names.iter().all(|name| triggers.contains(name));
    match current_layout(connection, resource)? {
        Some(current) if current == layout(resource) && has_triggers => Ok(()),
        None if !bulk => Ok(()),
        _ => create(connection, resource),
    }
}

/// Makes the search index of `resource` if it has none yet, before a search.
pub(super) fn ensure(connection: &Connection, resource: &Resource) -> rusqlite::Result<()> {
    if resource.search.is_empty() || current_layout(connection, resource)?.is_some() {
        return Ok(());
    }
    // A savepoint: a search inside a group of writes makes it in their transaction.
    connection.execute_batch("SAVEPOINT standin_search_index")?;
    match create(connection, resource) {
        Ok(()) => connection.execute_batch("RELEASE standin_search_index"),
        Err(error) => {
            let _ = connection
                .execute_batch("ROLLBACK TO standin_search_index; RELEASE standin_search_index");
            Err(error)
        }
    }
}

/// Whether [`ensure`] has nothing to make for `resource`.
pub(super) fn is_ready(connection: &Connection, resource: &Resource) -> rusqlite::Result<bool> {
    Ok(resource.search.is_empty() || current_layout(connection, resource)?.is_some())
}

/// The layout and search fields `resource`'s index is wanted with.
fn layout(resource: &Resource) -> String {
    format!("{LAYOUT}:{}", resource.search.join(","))
}

/// The layout and search fields of `resource`'s index, if it has one.
fn current_layout(
    connection: &Connection,
    resource: &Resource,
) -> rusqlite::Result<Option<String>> {
    connection
        .prepare_cached("SELECT fields FROM _standin_search WHERE resource = ?1")?
        .query_row([&resource.name], |row| row.get(0))
        .optional()
}

/// (Re)creates the index of `resource` from its live records, with its triggers.
fn create(connection: &Connection, resource: &Resource) -> rusqlite::Result<()> {
    let fts = index_table(resource);
    let columns = columns(resource);
    connection.execute_batch(&format!(
        "{drop}
         DROP TABLE IF EXISTS {fts};
         CREATE VIRTUAL TABLE {fts} USING fts5(
             {columns}, content = '', columnsize = 0, prefix = '{PREFIXES}',
             tokenize = 'unicode61 remove_diacritics 2'
         );",
        drop = drop_triggers(resource),
    ))?;
    index_all(connection, resource)?;
    connection.execute(
        "INSERT OR REPLACE INTO _standin_search (resource, fields) VALUES (?1, ?2)",
        [&resource.name, &layout(resource)],
    )?;
    Ok(())
}

/// The index's columns, one per search field: `s0, s1, ...`, names that can
/// never clash with the record table's when the two are joined.
fn columns(resource: &Resource) -> String {
    (0..resource.search.len())
        .map(|position| format!("s{position}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn values(resource: &Resource, row: &str) -> String {
    resource
        .search
        .iter()
        .map(|field| format!("json_extract({row}.data, '$.{field}')"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn trigger(resource: &Resource, suffix: &str) -> String {
    format!("\"fts_{}_{suffix}\"", resource.name)
}

fn drop_triggers(resource: &Resource) -> String {
    ["inserted", "updated", "deleted"]
        .map(|suffix| format!("DROP TRIGGER IF EXISTS {};", trigger(resource, suffix)))
        .join("\n")
}

/// Stops keeping `resource`'s search index (if it has one) in step, before
/// a bulk change of its rows (seeding, a reset); [`resume`] re-indexes them
/// all at once, which is much faster than a trigger per row (each of which
/// writes a segment of the index). Both run in the caller's transaction.
pub(super) fn pause(connection: &Connection, resource: &Resource) -> rusqlite::Result<()> {
    if has_index(connection, resource)? {
        connection.execute_batch(&drop_triggers(resource))?;
    }
    Ok(())
}

/// Re-indexes every row of `resource` (if it has an index) and keeps the
/// index in step again.
pub(super) fn resume(connection: &Connection, resource: &Resource) -> rusqlite::Result<()> {
    if has_index(connection, resource)? {
        index_all(connection, resource)?;
    }
    Ok(())
}

fn has_index(connection: &Connection, resource: &Resource) -> rusqlite::Result<bool> {
    Ok(!resource.search.is_empty() && current_layout(connection, resource)?.is_some())
}

/// How much indexed text FTS5 holds in memory before it writes it as a new
/// segment of the index (its `hashsize` setting), by default: a write (or
/// a group of writes) commits far less.
const DEFAULT_HASH_SIZE: i64 = 1 << 20;

/// The same while a whole resource is indexed at once: with the default, a
/// million short titles make a hundred segments, which FTS5 merges level by
/// level, rewriting every entry several times.
const BULK_HASH_SIZE: i64 = 64 << 20;

/// Sets FTS5's `hashsize` for the index `fts`, which first writes what is
/// pending. Not a documented setting: an SQLite without it indexes the same,
/// only slower, so that its refusal is no error.
fn set_hash_size(connection: &Connection, fts: &str, bytes: i64) {
    let _ = connection.execute(
        &format!("INSERT INTO {fts} ({fts}, rank) VALUES ('hashsize', ?1)"),
        [bytes],
    );
}

/// Indexes every live row of `resource` afresh, and creates the triggers.
fn index_all(connection: &Connection, resource: &Resource) -> rusqlite::Result<()> {
    let fts = index_table(resource);
    let data = table(resource);
    connection.execute_batch(&format!("INSERT INTO {fts} ({fts}) VALUES ('delete-all')"))?;
    set_hash_size(connection, &fts, BULK_HASH_SIZE);
    // In rowid order: FTS5 writes what it holds whenever a rowid comes
    // before the one before (a scan through an index on another column).
    connection.execute_batch(&format!(
        "INSERT INTO {fts} (rowid, {columns})
             SELECT rowid, {existing} FROM {data} WHERE deleted_at IS NULL ORDER BY rowid",
        columns = columns(resource),
        existing = values(resource, &data),
    ))?;
    // Writes what is pending now, rather than holding it until the commit.
    set_hash_size(connection, &fts, DEFAULT_HASH_SIZE);
    create_triggers(connection, resource)
}

/// Creates the triggers keeping `resource`'s index in step with its rows.
/// An update re-indexes a record only when it changes what is indexed (a
/// searched field, or whether the record is live): re-indexing costs FTS5 a
/// new segment of the index at the write's commit, and the merges of those
/// segments, which made a write of an unsearched field (a PATCH of a count)
/// cost about a third more. Fields are compared as JSON (`->`), so that a
/// number written another way (`1` to `1.0`), which indexes as other words,
/// is a change.
fn create_triggers(connection: &Connection, resource: &Resource) -> rusqlite::Result<()> {
    let reindexed = std::iter::once("old.deleted_at IS NOT new.deleted_at".to_string())
        .chain(
            resource
                .search
                .iter()
                .map(|field| format!("old.data -> '$.{field}' IS NOT new.data -> '$.{field}'")),
        )
        .collect::<Vec<_>>()
        .join(" OR ");
    connection.execute_batch(&format!(
        "CREATE TRIGGER {inserted} AFTER INSERT ON {data} WHEN new.deleted_at IS NULL BEGIN
             INSERT INTO {fts} (rowid, {columns}) VALUES (new.rowid, {new});
         END;
         CREATE TRIGGER {updated} AFTER UPDATE OF data, deleted_at ON {data} WHEN {reindexed} BEGIN
             INSERT INTO {fts} ({fts}, rowid, {columns})
                 SELECT 'delete', old.rowid, {old} WHERE old.deleted_at IS NULL;
             INSERT INTO {fts} (rowid, {columns}) SELECT new.rowid, {new} WHERE new.deleted_at IS NULL;
         END;
         CREATE TRIGGER {deleted} AFTER DELETE ON {data} BEGIN
             INSERT INTO {fts} ({fts}, rowid, {columns})
                 SELECT 'delete', old.rowid, {old} WHERE old.deleted_at IS NULL;
         END;",
        fts = index_table(resource),
        data = table(resource),
        columns = columns(resource),
        inserted = trigger(resource, "inserted"),
        updated = trigger(resource, "updated"),
        deleted = trigger(resource, "deleted"),
        new = values(resource, "new"),
        old = values(resource, "old"),
    ))
}

/// A resource's search index written by its seeding as it stores records,
/// in one transaction (a commit would write what FTS5 holds as a segment):
/// the records are indexed while the next ones are generated, from their
/// search fields' text as generated, rather than read back and parsed again.
/// Meanwhile the transaction runs one-row inserts only: a statement that
/// opens a statement journal (several rows, a trigger) makes FTS5 write
/// what it holds too (its `xSavepoint`), a segment each time.
pub(super) struct Indexing {
    fts: String,
    sql: String,
}

impl Indexing {
    /// Begins indexing the records of `resource` as they are stored, if it
    /// has an index; after [`pause`], while its table is empty.
    pub(super) fn begin(
        connection: &Connection,
        resource: &Resource,
    ) -> rusqlite::Result<Option<Indexing>> {
        if !has_index(connection, resource)? {
            return Ok(None);
        }
        let fts = index_table(resource);
        connection.execute_batch(&format!("INSERT INTO {fts} ({fts}) VALUES ('delete-all')"))?;
        set_hash_size(connection, &fts, BULK_HASH_SIZE);
        // A field without text is read from the document, as the triggers read it.
        let document = resource.search.len() + 2;
        let values: Vec<String> = resource
            .search
            .iter()
            .enumerate()
            .map(|(position, field)| {
                format!(
                    "coalesce(?{}, json_extract(?{document}, '$.{field}'))",
                    position + 2
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO {fts} (rowid, {}) VALUES (?1, {})",
            columns(resource),
            values.join(", ")
        );
        Ok(Some(Indexing { fts, sql }))
    }

    /// The statement indexing one record (see [`Indexing::add`]).
    pub(super) fn statement<'c>(
        &self,
        connection: &'c Connection,
    ) -> rusqlite::Result<CachedStatement<'c>> {
        connection.prepare_cached(&self.sql)
    }

    /// Indexes, with its [`Indexing::statement`], the record stored as
    /// `rowid` with the document `data`, whose search fields hold `texts`
    /// (in the order of the resource's `search`; none where a field holds
    /// no text, which is then read from the document).
    pub(super) fn add(
        statement: &mut CachedStatement<'_>,
        rowid: i64,
        texts: &[Option<String>],
        data: &str,
    ) -> rusqlite::Result<()> {
        statement.raw_bind_parameter(1, rowid)?;
        for (position, text) in texts.iter().enumerate() {
            statement.raw_bind_parameter(position + 2, text)?;
        }
        let document = texts.iter().any(Option::is_none).then_some(data);
        statement.raw_bind_parameter(texts.len() + 2, document)?;
        statement.raw_execute()?;
        Ok(())
    }

    /// Writes what is pending and keeps the index in step with writes again.
    pub(super) fn finish(
        self,
        connection: &Connection,
        resource: &Resource,
    ) -> rusqlite::Result<()> {
        set_hash_size(connection, &self.fts, DEFAULT_HASH_SIZE);
        create_triggers(connection, resource)
    }
}

/// The FTS5 query of a search for `words`, to bind to `{index} MATCH ?`.
pub(super) fn match_parameter(words: &str) -> rusqlite::types::Value {
    rusqlite::types::Value::Text(match_expression(words))
}

/// Reads the searched fields of the record of `resource` whose id is bound.
pub(super) fn searched_text(resource: &Resource) -> String {
    let table = super::table(resource);
    format!(
        "SELECT {} FROM {table} WHERE {table}.id = ?",
        values(resource, &table)
    )
}

/// Whether a record whose searched fields hold `texts` is certainly not
/// among the matches of a search for `words`: one of the words is in none
/// of them, not even inside a word. Said only of ASCII text and words, which
/// the index's tokenizer splits and folds as lowercasing does; of anything
/// else (other text, numbers) it is not known (`false`).
pub(super) fn cannot_match(words: &str, texts: &[rusqlite::types::Value]) -> bool {
    use rusqlite::types::Value;
    let mut folded = String::new();
    for text in texts {
        match text {
            Value::Null => {}
            Value::Text(text) if text.is_ascii() => {
                folded.push_str(&text.to_ascii_lowercase());
                folded.push(' ');
            }
            _ => return false,
        }
    }
    let words: Vec<String> = words
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    !words.is_empty()
        && words.iter().all(|word| word.is_ascii())
        && words.iter().any(|word| !folded.contains(word.as_str()))
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
    use crate::store::{Location, Store};

    #[test]
    fn an_update_re_indexes_a_record_only_when_what_is_indexed_changes() {
        let spec = crate::spec::parse(
            "spec.yaml",
            "standin: 1\nresources:\n  notes:\n    soft_delete: true\n    fields:\n      text: { type: string, required: true }\n      views: integer\n    search: [text]\n",
        )
        .expect("a valid spec");
        let resource = spec.resource("notes").expect("notes");
        let store = Store::open(Location::Memory).expect("a store");
        store.prepare(&spec).expect("tables");
        let connection = store.lock();
        super::ensure(&connection, resource).expect("the index");
        connection
            .execute_batch(
                r#"INSERT INTO res_notes (data, created_at, updated_at) VALUES ('{"text": "alpha one", "views": 1}', 'then', 'then');"#,
            )
            .expect("a note");
        // What FTS5 has written: each re-indexing commits a segment of its own.
        let written = || -> (i64, Vec<i64>, Vec<i64>) {
            let found = |word: &str| -> Vec<i64> {
                connection
                    .prepare("SELECT rowid FROM fts_notes WHERE fts_notes MATCH ?1")
                    .expect("a search")
                    .query_map([word], |row| row.get(0))
                    .expect("a search")
                    .collect::<rusqlite::Result<_>>()
                    .expect("a search")
            };
            let rows = connection
                .query_row("SELECT count(*) FROM fts_notes_data", [], |row| row.get(0))
                .expect("the index's rows");
            (rows, found("alpha"), found("beta"))
        };
        let (before, alpha, beta) = written();
        assert_eq!((alpha, beta), (vec![1], vec![]));
        let update = |sql: &str| connection.execute_batch(sql).expect("an update");
        update("UPDATE res_notes SET data = json_set(data, '$.views', 2), updated_at = 'now'");
        assert_eq!(written(), (before, vec![1], vec![]), "an unsearched field");
        update("UPDATE res_notes SET data = json_set(data, '$.text', 'beta one')");
        let (after, alpha, beta) = written();
        assert!(after > before, "a searched field is re-indexed");
        assert_eq!((alpha, beta), (vec![], vec![1]));
        update("UPDATE res_notes SET deleted_at = 'now'");
        assert_eq!(written().1.len() + written().2.len(), 0, "a soft delete");
        update("UPDATE res_notes SET deleted_at = NULL");
        assert_eq!(written().2, vec![1], "a restore");
    }

    #[test]
    fn a_record_cannot_match_a_word_its_text_lacks() {
        use super::cannot_match;
        use rusqlite::types::Value;
        let texts = [Value::Text("Dune, by Frank Herbert".into()), Value::Null];
        assert!(cannot_match("dolor", &texts));
        assert!(cannot_match("dune dolor", &texts));
        // Every word is in the text, if only inside a word: it may match.
        assert!(!cannot_match("dun HER", &texts));
        assert!(!cannot_match("erb", &texts));
        // Other than ASCII, or no words: not known.
        assert!(!cannot_match("été", &texts));
        assert!(!cannot_match("dolor", &[Value::Text("l'été".into())]));
        assert!(!cannot_match("dolor", &[Value::Integer(7)]));
        assert!(!cannot_match("!!", &texts));
    }

    #[test]
    fn words_become_prefix_terms() {
        assert_eq!(match_expression("Dune  Herb"), "\"Dune\"* \"Herb\"*");
        assert_eq!(match_expression("l'été"), "\"l\"* \"été\"*");
        assert_eq!(match_expression("!!"), "\"\"");
    }
}
