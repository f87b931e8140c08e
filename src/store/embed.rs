//! Related records for `embed=`: the record each reference points at, and the
//! records that reference each item (inverse), fetched with one query per
//! embed and level for a whole page (nested embeds of `comments.author` read
//! the authors of every embedded comment at once), never one per record.

use std::collections::{HashMap, HashSet};

use rusqlite::types::Value as Sql;

use super::read::{COLUMNS, record_from_row};
use super::{Record, RecordId, Store, StoreError, field_expression, sql_id, sql_value, table};
use crate::query::Embed;
use crate::spec::{Resource, Spec};

/// The most values one query's `IN (...)` list holds; longer lists take several queries.
const IN_LIST: usize = 5_000;

/// The most embedded records one answer holds, at every depth together (a
/// record embedded by several counts each time): chains of inverse
/// collections multiply, and the answer is built in memory.
pub const MAX_EMBEDDED_RECORDS: usize = 10_000;

/// What one embed holds for one item.
#[derive(Debug, Clone, PartialEq)]
pub enum Embedded {
    /// The referenced record (none if the reference is null or dangling).
    One(Option<Box<EmbeddedRecord>>),
    /// The referencing records (at most the cap, in id order).
    Many(Vec<EmbeddedRecord>),
}

/// An embedded record with what its nested embeds hold for it.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddedRecord {
    /// The record.
    pub record: Record,
    /// One entry per nested embed, in order (empty when there are none).
    pub embedded: Vec<Embedded>,
}

impl EmbeddedRecord {
    /// How many records it stands for in an answer: itself and its nested ones.
    fn size(&self) -> usize {
        1 + self.embedded.iter().map(Embedded::size).sum::<usize>()
    }
}

impl Embedded {
    /// How many records it holds, at any depth.
    fn size(&self) -> usize {
        match self {
            Embedded::One(one) => one.as_ref().map_or(0, |record| record.size()),
            Embedded::Many(many) => many.iter().map(EmbeddedRecord::size).sum(),
        }
    }

    /// Every record it holds, at any depth.
    pub fn records(&self) -> Vec<&Record> {
        let direct: Vec<&EmbeddedRecord> = match self {
            Embedded::One(one) => one.iter().map(AsRef::as_ref).collect(),
            Embedded::Many(many) => many.iter().collect(),
        };
        let mut found = Vec::new();
        for embedded in direct {
            found.push(&embedded.record);
            for nested in &embedded.embedded {
                found.extend(nested.records());
            }
        }
        found
    }
}

impl Store {
    /// For each record, the related records of each embed (in `embeds` order),
    /// with their nested embeds; inverse lists hold at most `cap` records each.
    pub fn embedded(
        &self,
        spec: &Spec,
        records: &[Record],
        embeds: &[Embed],
        cap: u32,
    ) -> Result<Vec<Vec<Embedded>>, StoreError> {
        if records.is_empty() || embeds.is_empty() {
            return Ok(vec![Vec::new(); records.len()]);
        }
        let connection = self.lock_for_request();
        embedded_in(&connection, spec, records, embeds, cap)
    }
}

/// The embeds of `records`, one level per call: the related records of all
/// of them at once, then (recursively) the nested embeds of all those.
fn embedded_in(
    connection: &rusqlite::Connection,
    spec: &Spec,
    records: &[Record],
    embeds: &[Embed],
    cap: u32,
) -> Result<Vec<Vec<Embedded>>, StoreError> {
    let mut result: Vec<Vec<Embedded>> = vec![Vec::with_capacity(embeds.len()); records.len()];
    if records.is_empty() {
        return Ok(result);
    }
    // The records this level puts into the answer, counted before a
    // referenced record is copied into each record that references it.
    let mut placed = 0usize;
    let mut place = |records: usize| {
        placed = placed.saturating_add(records);
        if placed > MAX_EMBEDDED_RECORDS {
            Err(StoreError::TooManyEmbedded {
                limit: MAX_EMBEDDED_RECORDS,
            })
        } else {
            Ok(())
        }
    };
    for embed in embeds {
        match embed {
            Embed::Reference {
                field,
                resource: target,
                nested,
                ..
            } => {
                let target = spec
                    .resource(target)
                    .expect("embeds are resolved against the spec");
                let reference_of = |record: &Record| {
                    record
                        .fields
                        .get(field)
                        .and_then(|value| RecordId::from_json(target.id, value))
                };
                let mut seen = HashSet::new();
                let ids: Vec<RecordId> = records
                    .iter()
                    .filter_map(reference_of)
                    .filter(|id| seen.insert(id.clone()))
                    .collect();
                let found: Vec<Record> = by_ids(connection, target, &ids)?;
                let found = with_nested(connection, spec, found, nested, cap)?;
                let found: HashMap<RecordId, EmbeddedRecord> = found
                    .into_iter()
                    .map(|embedded| (embedded.record.id.clone(), embedded))
                    .collect();
                place(
                    records
                        .iter()
                        .filter_map(|record| found.get(&reference_of(record)?))
                        .map(EmbeddedRecord::size)
                        .sum(),
                )?;
                for (index, record) in records.iter().enumerate() {
                    let related = reference_of(record)
                        .and_then(|id| found.get(&id).cloned())
                        .map(Box::new);
                    result[index].push(Embedded::One(related));
                }
            }
            Embed::Inverse { inverse, nested } => {
                let dependant = spec
                    .resource(&inverse.resource)
                    .expect("inverses come from the spec");
                let (parents, found) =
                    referencing(connection, dependant, &inverse.field, records, cap)?;
                let found = with_nested(connection, spec, found, nested, cap)?;
                place(found.iter().map(EmbeddedRecord::size).sum())?;
                let mut grouped: HashMap<String, Vec<EmbeddedRecord>> = HashMap::new();
                for (parent, embedded) in parents.into_iter().zip(found) {
                    grouped.entry(parent).or_default().push(embedded);
                }
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

/// The records with what their nested embeds hold, fetched for all of them at once.
fn with_nested(
    connection: &rusqlite::Connection,
    spec: &Spec,
    records: Vec<Record>,
    nested: &[Embed],
    cap: u32,
) -> Result<Vec<EmbeddedRecord>, StoreError> {
    let embedded = if nested.is_empty() {
        vec![Vec::new(); records.len()]
    } else {
        embedded_in(connection, spec, &records, nested, cap)?
    };
    Ok(records
        .into_iter()
        .zip(embedded)
        .map(|(record, embedded)| EmbeddedRecord { record, embedded })
        .collect())
}

#[cfg(test)]
thread_local! {
    /// The queries this module has run on this thread, for tests that count them.
    static QUERIES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Counts one query (in tests).
fn counted() {
    #[cfg(test)]
    QUERIES.with(|queries| queries.set(queries.get() + 1));
}

/// The live records of `resource` with those ids, in id order.
fn by_ids(
    connection: &rusqlite::Connection,
    resource: &Resource,
    ids: &[RecordId],
) -> Result<Vec<Record>, StoreError> {
    let mut found = Vec::new();
    for chunk in ids.chunks(IN_LIST) {
        let placeholders = vec!["?"; chunk.len()].join(", ");
        let sql = format!(
            "SELECT {} FROM {} WHERE id IN ({placeholders}) AND deleted_at IS NULL ORDER BY id",
            super::record_columns(resource),
            table(resource)
        );
        let parameters: Vec<Sql> = chunk.iter().map(sql_id).collect();
        counted();
        let mut statement = connection.prepare(&sql)?;
        let rows = statement.query_map(rusqlite::params_from_iter(parameters), |row| {
            record_from_row(resource.id, row).map(|(record, _)| record)
        })?;
        for record in rows {
            found.push(record?);
        }
    }
    Ok(found)
}

/// The live records of `dependant` whose `field` references one of `parents`,
/// at most `cap` per parent, in id order, each with its parent's id (as JSON text).
fn referencing(
    connection: &rusqlite::Connection,
    dependant: &Resource,
    field: &str,
    parents: &[Record],
    cap: u32,
) -> Result<(Vec<String>, Vec<Record>), StoreError> {
    let expression = field_expression(dependant, field);
    // The record's columns, its computed fields in `data` (the outer query
    // picks the same names).
    let inner = super::record_columns(dependant);
    let (mut owners, mut found) = (Vec::new(), Vec::new());
    for chunk in parents.chunks(IN_LIST) {
        let placeholders = vec!["?"; chunk.len()].join(", ");
        let sql = format!(
            "SELECT {COLUMNS}, parent FROM (
                SELECT {inner}, {expression} AS parent,
                       row_number() OVER (PARTITION BY {expression} ORDER BY id) AS position
                FROM {} WHERE {expression} IN ({placeholders}) AND deleted_at IS NULL
            ) WHERE position <= ? ORDER BY id",
            table(dependant)
        );
        let mut parameters: Vec<Sql> = chunk
            .iter()
            .map(|parent| sql_value(&parent.id.to_json()))
            .collect();
        parameters.push(Sql::Integer(i64::from(cap)));
        counted();
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
        for row in rows {
            let (parent, record) = row?;
            owners.push(parent);
            found.push(record);
        }
    }
    Ok((owners, found))
}

#[cfg(test)]
mod tests {
    use std::fmt::Write;

    use super::*;
    use crate::store::Location;

    /// Companies, their users, 20 posts by them and 2 comments on each.
    fn blog() -> (Spec, Store) {
        let mut yaml = String::from(
            "standin: 1\nresources:\n  companies:\n    fields: { name: string }\n    \
             records: [{ name: Acme }, { name: Globex }]\n  users:\n    fields:\n      \
             name: string\n      company: { ref: companies }\n    records:\n",
        );
        for user in 1..=4 {
            let _ = writeln!(
                yaml,
                "      - {{ name: u{user}, company: {} }}",
                user % 2 + 1
            );
        }
        yaml.push_str("  posts:\n    fields:\n      title: string\n      author: { ref: users }\n    records:\n");
        for post in 1..=20 {
            let _ = writeln!(
                yaml,
                "      - {{ title: p{post}, author: {} }}",
                post % 4 + 1
            );
        }
        yaml.push_str("  comments:\n    fields:\n      text: string\n      post: { ref: posts }\n      author: { ref: users }\n    records:\n");
        for comment in 1..=40 {
            let _ = writeln!(
                yaml,
                "      - {{ text: c{comment}, post: {}, author: {} }}",
                (comment - 1) / 2 + 1,
                comment % 4 + 1
            );
        }
        let spec = crate::spec::parse("test.yaml", &yaml).expect("a valid spec");
        let store = Store::open(Location::Memory).expect("a store");
        store.prepare(&spec).expect("tables");
        store.seed(&spec, 1).expect("seeded");
        (spec, store)
    }

    fn queries() -> usize {
        QUERIES.with(std::cell::Cell::get)
    }

    #[test]
    fn nested_embeds_take_one_query_per_embed_and_level_not_per_record() {
        let (spec, store) = blog();
        let posts = spec.resource("posts").expect("posts");
        let query = crate::query::parse_list(
            &spec,
            posts,
            "per_page=20&embed=comments.author,author.company",
        )
        .expect("a valid query");
        let page = store.list(posts, &query, &[]).expect("a page");
        assert_eq!(page.records.len(), 20);
        let before = queries();
        let embedded = store
            .embedded(&spec, &page.records, &query.embed, 100)
            .expect("embedded");
        // comments, their authors; the posts' authors, their companies.
        assert_eq!(queries() - before, 4);
        // Post 3 (author 4, of company 1) has comments 5 and 6 (authors 2 and 3).
        let third = &embedded[2];
        let Embedded::Many(comments) = &third[0] else {
            panic!("comments are many: {third:?}");
        };
        let texts: Vec<&serde_json::Value> = comments
            .iter()
            .map(|comment| &comment.record.fields["text"])
            .collect();
        assert_eq!(texts, ["c5", "c6"]);
        let authors: Vec<&serde_json::Value> = comments
            .iter()
            .map(|comment| match &comment.embedded[..] {
                [Embedded::One(Some(author))] => &author.record.fields["name"],
                other => panic!("one author: {other:?}"),
            })
            .collect();
        assert_eq!(authors, ["u2", "u3"]);
        let Embedded::One(Some(author)) = &third[1] else {
            panic!("the post's author: {third:?}");
        };
        assert_eq!(author.record.fields["name"], "u4");
        let [Embedded::One(Some(company))] = &author.embedded[..] else {
            panic!("the author's company: {author:?}");
        };
        assert_eq!(company.record.fields["name"], "Acme");
        // Three levels, one record: still one query per level.
        let before = queries();
        let query =
            crate::query::parse_list(&spec, posts, "per_page=1&embed=comments.author.company")
                .expect("a valid query");
        let page = store.list(posts, &query, &[]).expect("a page");
        let before_embeds = queries();
        assert_eq!(before, before_embeds, "listing counts no embed query");
        store
            .embedded(&spec, &page.records, &query.embed, 100)
            .expect("embedded");
        assert_eq!(queries() - before_embeds, 3);
    }

    #[test]
    fn an_embedded_collection_holds_at_most_the_cap_at_any_depth() {
        let (spec, store) = blog();
        let users = spec.resource("users").expect("users");
        let query =
            crate::query::parse_list(&spec, users, "embed=posts.comments").expect("a valid query");
        let page = store.list(users, &query, &[]).expect("a page");
        let embedded = store
            .embedded(&spec, &page.records, &query.embed, 1)
            .expect("embedded");
        for item in &embedded {
            let Embedded::Many(posts) = &item[0] else {
                panic!("posts are many");
            };
            assert_eq!(posts.len(), 1);
            let [Embedded::Many(comments)] = &posts[0].embedded[..] else {
                panic!("comments are many");
            };
            assert_eq!(comments.len(), 1);
        }
    }
}
