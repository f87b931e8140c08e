//! Reference fields kept in columns of their own (`"ref.author"` beside
//! `data`), always equal to the field's value in the JSON document: the
//! lookups of a reference (its filters, embeds, `on_delete`, counts) then
//! read a plain column and its index, and making that index after seeding a
//! million records sorts the values without parsing a million documents.
//!
//! The writes of [`super::write`] set the columns themselves; triggers keep
//! them true of writes that do not (a `json_set` of several rows, a row
//! inserted or changed with the `sqlite3` shell), and are paused while
//! seeding in bulk stores rows with their columns bound.

use rusqlite::Connection;

use super::table;
use crate::spec::Resource;

/// The quoted column holding reference field `field`'s value.
pub(super) fn column(field: &str) -> String {
    format!("\"ref.{field}\"")
}

/// The names of `resource`'s reference fields, in the order of its fields.
pub(super) fn fields(resource: &Resource) -> impl Iterator<Item = &str> {
    resource.references().map(|(field, _)| field.name.as_str())
}

/// Whether `field` of `resource` is kept in a column of its own.
pub(super) fn is_kept(resource: &Resource, field: &str) -> bool {
    resource
        .field(field)
        .is_some_and(|field| field.reference.is_some())
}

/// The values of `resource`'s reference fields in `fields`, as SQL: what
/// `json_extract` reads of the document (a reference holds an id or null).
pub(super) fn values(
    resource: &Resource,
    fields: &serde_json::Map<String, serde_json::Value>,
) -> Vec<rusqlite::types::Value> {
    self::fields(resource)
        .map(|field| {
            fields
                .get(field)
                .map_or(rusqlite::types::Value::Null, super::sql_value)
        })
        .collect()
}

/// `, "ref.a", "ref.b"`: the reference columns, to follow a list of columns.
pub(super) fn column_list(resource: &Resource) -> String {
    fields(resource)
        .map(|field| format!(", {}", column(field)))
        .collect()
}

/// `, json_extract(DOCUMENT, '$.a'), ...`: the reference columns' values read
/// from the JSON document `document` (a column), to follow a list of values.
pub(super) fn values_of(resource: &Resource, document: &str) -> String {
    fields(resource)
        .map(|field| format!(", json_extract({document}, '$.{field}')"))
        .collect()
}

/// The triggers' name prefix; the fields they keep follow it, so that a
/// trigger's name says what it keeps.
fn trigger_prefix(resource: &Resource) -> String {
    format!("refs_{}(", resource.name)
}

/// The names of the triggers keeping `resource`'s columns, on insert and on
/// update: the fields they keep and a hash of what they run, so that
/// triggers of other fields, or made by another version, are told apart.
fn trigger_names(resource: &Resource) -> [String; 2] {
    let kept = fields(resource).collect::<Vec<_>>().join(",");
    let prefix = trigger_prefix(resource);
    let body = format!(
        "{}\n{}\n{}",
        unset(resource),
        stale(resource, "new."),
        assignments(resource, "data")
    );
    let hash = crate::fingerprint::fnv1a(crate::fingerprint::START, body.bytes()) as u32;
    [
        format!("{prefix}{kept})_inserted_{hash:08x}"),
        format!("{prefix}{kept})_updated_{hash:08x}"),
    ]
}

/// Whether index `sql` of `resource`'s table reads a field in the form it is
/// no longer kept in: a reference field's document (made before reference
/// columns, or before the field was a reference), or the column of a field
/// that is no reference now (its column is no longer kept true). Such an
/// index would hold the name of the one now wanted, or cost every write for
/// nothing.
fn reads_another_form(resource: &Resource, sql: &str) -> bool {
    let documents =
        fields(resource).any(|field| sql.contains(&format!("json_extract(data, '$.{field}')")));
    let columns = sql.matches("\"ref.").count();
    let kept = fields(resource)
        .filter(|field| sql.contains(&column(field)))
        .count();
    documents || columns > kept
}

/// Makes `resource`'s table keep its reference fields in columns: adds the
/// columns it lacks, drops the indexes that [`reads_another_form`], and
/// replaces triggers that keep other fields (or run other SQL), then
/// writes every row's columns afresh. Idempotent and cheap when the table
/// is already so.
pub(super) fn prepare(connection: &Connection, resource: &Resource) -> rusqlite::Result<()> {
    let data = table(resource);
    let existing: Vec<String> = connection
        .prepare(&format!(
            "SELECT name FROM pragma_table_info('res_{}')",
            resource.name
        ))?
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for field in fields(resource) {
        if !existing.iter().any(|name| *name == format!("ref.{field}")) {
            // No type: the column holds what `json_extract` gives, unconverted.
            connection
                .execute_batch(&format!("ALTER TABLE {data} ADD COLUMN {}", column(field)))?;
        }
    }
    let indexes: Vec<(String, String)> = connection
        .prepare(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL",
        )?
        .query_map([format!("res_{}", resource.name)], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    for (index, sql) in indexes {
        if reads_another_form(resource, &sql) {
            // Made again, on the form kept now, when next wanted.
            connection.execute_batch(&format!("DROP INDEX \"{index}\""))?;
        }
    }
    let triggers: Vec<String> = connection
        .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?1")?
        .query_map([format!("res_{}", resource.name)], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let prefix = trigger_prefix(resource);
    let ours: Vec<&String> = triggers
        .iter()
        .filter(|name| name.starts_with(&prefix))
        .collect();
    let wanted = trigger_names(resource);
    let kept = fields(resource).next().is_some();
    if kept && ours.len() == wanted.len() && wanted.iter().all(|name| ours.contains(&name)) {
        return Ok(());
    }
    for name in ours {
        connection.execute_batch(&format!("DROP TRIGGER \"{name}\""))?;
    }
    if !kept {
        return Ok(());
    }
    // Rows written while no trigger kept these columns: each read afresh.
    connection.execute_batch(&format!(
        "UPDATE {data} SET {assigned} WHERE {stale}",
        assigned = assignments(resource, "data"),
        stale = stale(resource, ""),
    ))?;
    resume(connection, resource)
}

/// `"ref.a" = json_extract(DOCUMENT, '$.a'), ...`: the columns set from `document`.
fn assignments(resource: &Resource, document: &str) -> String {
    fields(resource)
        .map(|field| format!("{} = json_extract({document}, '$.{field}')", column(field)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `, "ref.a" = ?FIRST, "ref.b" = ?FIRST+1`: the columns set from bound
/// parameters (their [`values`]), numbered from `first`.
pub(super) fn bound_assignments(resource: &Resource, first: usize) -> String {
    fields(resource)
        .zip(first..)
        .map(|(field, parameter)| format!(", {} = ?{parameter}", column(field)))
        .collect()
}

/// The condition that a row's columns differ from its document, the row's
/// columns prefixed by `row` (`new.` in a trigger).
fn stale(resource: &Resource, row: &str) -> String {
    fields(resource)
        .map(|field| {
            format!(
                "{row}{} IS NOT json_extract({row}data, '$.{field}')",
                column(field)
            )
        })
        .collect::<Vec<_>>()
        .join(" OR ")
}

/// The condition that a new row left a column unset (null) where its
/// document has a value: an insert that names no reference columns (made
/// with the `sqlite3` shell). Cheaper than [`stale`] for the inserts that
/// bound them: a column that holds a value is not compared with the
/// document, which is parsed only for a reference left null.
fn unset(resource: &Resource) -> String {
    fields(resource)
        .map(|field| {
            format!(
                "(new.{} IS NULL AND json_extract(new.data, '$.{field}') IS NOT NULL)",
                column(field)
            )
        })
        .collect::<Vec<_>>()
        .join(" OR ")
}

/// Stops keeping `resource`'s columns by triggers, before seeding in bulk
/// stores rows with their columns bound; [`resume`] keeps them again.
pub(super) fn pause(connection: &Connection, resource: &Resource) -> rusqlite::Result<()> {
    for name in trigger_names(resource) {
        connection.execute_batch(&format!("DROP TRIGGER IF EXISTS \"{name}\""))?;
    }
    Ok(())
}

/// Creates the triggers keeping `resource`'s columns equal to its documents
/// (where it has reference fields and they do not exist): an insert that
/// left a column null while its document has a value, an update of `data`
/// that left a column unlike its document, has it set. An insert that
/// bound non-null values costs them nothing; an update, one comparison.
pub(super) fn resume(connection: &Connection, resource: &Resource) -> rusqlite::Result<()> {
    if fields(resource).next().is_none() {
        return Ok(());
    }
    let [inserted, updated] = trigger_names(resource);
    let data = table(resource);
    connection.execute_batch(&format!(
        "CREATE TRIGGER IF NOT EXISTS \"{inserted}\" AFTER INSERT ON {data} WHEN {unset} BEGIN
             UPDATE {data} SET {assigned} WHERE rowid = new.rowid;
         END;
         CREATE TRIGGER IF NOT EXISTS \"{updated}\" AFTER UPDATE OF data ON {data} WHEN {stale} BEGIN
             UPDATE {data} SET {assigned} WHERE rowid = new.rowid;
         END;",
        unset = unset(resource),
        stale = stale(resource, "new."),
        assigned = assignments(resource, "data"),
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::store::{Location, RecordId, Store};

    /// Posts seeded in bulk (their columns bound) and comments seeded one
    /// by one (set by their inserts), each referencing the other resource.
    const SPEC: &str = "standin: 1\nresources:\n  authors:\n    fields:\n      name: { type: string, required: true }\n    count: 3\n  posts:\n    fields:\n      title: { type: string, required: true, fake: title }\n      author: { ref: authors, on_delete: set_null }\n    search: [title]\n    count: 1200\n  comments:\n    id: uuid\n    fields:\n      text: { type: string }\n      post: { ref: posts, required: true, on_delete: cascade }\n    count: 40\n";

    /// The single integer that the query `sql` answers.
    fn count(store: &Store, sql: &str) -> i64 {
        store
            .lock()
            .query_row(sql, [], |row| row.get(0))
            .unwrap_or_else(|error| panic!("{sql}: {error}"))
    }

    /// The rows of `table` whose column `field` is not the document's value.
    fn stale(store: &Store, table: &str, field: &str) -> i64 {
        count(
            store,
            &format!(
                "SELECT count(*) FROM {table} WHERE \"ref.{field}\" IS NOT json_extract(data, '$.{field}')"
            ),
        )
    }

    fn assert_kept(store: &Store, when: &str) {
        assert_eq!(stale(store, "res_posts", "author"), 0, "posts, {when}");
        assert_eq!(stale(store, "res_comments", "post"), 0, "comments, {when}");
    }

    fn fields(value: Value) -> serde_json::Map<String, Value> {
        value.as_object().cloned().expect("an object")
    }

    #[test]
    fn reference_columns_equal_the_documents_after_every_kind_of_write() {
        let spec = crate::spec::parse("spec.yaml", SPEC).expect("a valid spec");
        let posts = spec.resource("posts").expect("posts");
        let authors = spec.resource("authors").expect("authors");
        let store = Store::open(Location::Memory).expect("a store");
        store.prepare(&spec).expect("tables");
        store.seed(&spec, 5).expect("seeded");
        assert_kept(&store, "seeded");
        let with_author = count(
            &store,
            "SELECT count(*) FROM res_posts WHERE \"ref.author\" = 2",
        );
        assert!(with_author > 0, "seeding bound the column");

        let created = store
            .create(
                &spec,
                posts,
                None,
                fields(json!({"title": "new", "author": 1})),
            )
            .expect("created");
        assert_kept(&store, "created");
        store
            .update::<crate::store::StoreError>(&spec, posts, &created.id, |_| {
                Ok(fields(json!({"title": "moved", "author": 3})))
            })
            .expect("updated");
        assert_kept(&store, "updated");
        // A change no write of standin's makes: the triggers keep the column.
        store
            .lock()
            .execute_batch(
                "UPDATE res_posts SET data = json_set(data, '$.author', 2) WHERE id <= 10;
                 INSERT INTO res_posts (data, created_at, updated_at)
                     VALUES ('{\"title\": \"by hand\", \"author\": \"x\"}', 'then', 'then');",
            )
            .expect("changed by hand");
        assert_kept(&store, "changed by hand");
        // `set_null` on posts, `cascade` to their comments.
        store
            .delete(&spec, authors, &RecordId::Integer(2), &|_| Ok(()))
            .expect("deleted");
        assert_kept(&store, "an author deleted");
        assert_eq!(
            count(
                &store,
                "SELECT count(*) FROM res_posts WHERE \"ref.author\" = 2"
            ),
            0
        );
        store.reset(&spec, 5).expect("reset");
        assert_kept(&store, "reset");
    }

    #[test]
    fn a_table_of_the_earlier_layout_gets_its_columns_filled_and_its_index_on_them() {
        let spec = crate::spec::parse("spec.yaml", SPEC).expect("a valid spec");
        let store = Store::open(Location::Memory).expect("a store");
        store
            .lock()
            .execute_batch(
                r#"CREATE TABLE "res_posts" (id INTEGER PRIMARY KEY AUTOINCREMENT, data TEXT NOT NULL,
                       created_at TEXT NOT NULL, updated_at TEXT NOT NULL, deleted_at TEXT);
                   CREATE INDEX "ix_posts.author" ON "res_posts" (json_extract(data, '$.author')) WHERE deleted_at IS NULL;
                   INSERT INTO res_posts (data, created_at, updated_at)
                       VALUES ('{"title": "a", "author": 1}', 't', 't'), ('{"title": "b"}', 't', 't');"#,
            )
            .expect("a table as an earlier version made it");
        store.prepare(&spec).expect("tables");
        assert_kept(&store, "prepared");
        let connection = store.lock();
        let index: String = connection
            .query_row(
                "SELECT sql FROM sqlite_master WHERE name = 'ix_posts.author'",
                [],
                |row| row.get(0),
            )
            .expect("the index");
        assert!(index.contains("\"ref.author\""), "{index}");
        let found: i64 = connection
            .query_row(
                "SELECT id FROM res_posts WHERE \"ref.author\" = 1",
                [],
                |row| row.get(0),
            )
            .expect("found by its column");
        assert_eq!(found, 1);
    }

    #[test]
    fn a_field_that_becomes_a_reference_has_its_column_written_afresh() {
        let before = SPEC.replace(
            "author: { ref: authors, on_delete: set_null }",
            "author: { type: integer }",
        );
        let spec = crate::spec::parse("spec.yaml", &before).expect("a valid spec");
        let store = Store::open(Location::Memory).expect("a store");
        store.prepare(&spec).expect("tables");
        store.seed(&spec, 5).expect("seeded");
        // A column left from an earlier spec, kept by no trigger since.
        store
            .lock()
            .execute_batch(r#"ALTER TABLE res_posts ADD COLUMN "ref.author"; UPDATE res_posts SET "ref.author" = 'stale'"#)
            .expect("a stale column");
        let spec = crate::spec::parse("spec.yaml", SPEC).expect("a valid spec");
        store.prepare(&spec).expect("tables");
        assert_kept(&store, "the field made a reference");
        // And back: the index on the column, no longer kept true, goes, and
        // a filter's index is made on the document again.
        let spec = crate::spec::parse("spec.yaml", &before).expect("a valid spec");
        store.prepare(&spec).expect("tables");
        let on_column = count(
            &store,
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND sql LIKE '%\"ref.author\"%'",
        );
        assert_eq!(on_column, 0, "no index reads the column");
        let posts = spec.resource("posts").expect("posts");
        let (_, sql) = crate::store::select::column_index(posts, "author");
        store.lock().execute_batch(&sql).expect("a filter's index");
        let made_on: String = store
            .lock()
            .query_row(
                "SELECT sql FROM sqlite_master WHERE name = 'ix_posts.author'",
                [],
                |row| row.get(0),
            )
            .expect("the index");
        assert!(
            made_on.contains("json_extract(data, '$.author')"),
            "{made_on}"
        );
    }
}
