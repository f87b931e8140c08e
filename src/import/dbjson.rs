//! json-server `db.json` files: each top-level array is a collection of
//! records, each top-level object a singular resource. Reading one gives the
//! collections with their records as stored (ids kept as they are), what could
//! not be mapped (with its position), and the inferred standin spec for
//! `standin import`. Serving it is `crate::json_server`'s business.

use serde_json::{Map, Value, json};

use crate::json_server::plural;
use crate::spec::{self, Diagnostic, Dialect, Spec, SpecErrors};
use spec::Locations;

/// Where a db.json's singular resources keep their one record, by this id.
pub const SINGULAR_ID: &str = "1";

/// One top-level entry of a db.json, as standin serves it.
#[derive(Debug, Clone, PartialEq)]
pub struct Collection {
    /// Its key, the path segment it is served at.
    pub name: String,
    /// Whether it is a singular resource (an object, not an array).
    pub singular: bool,
    /// The records as stored (for a singular resource, its one object).
    pub records: Vec<Map<String, Value>>,
}

/// What a db.json holds that standin serves, and what it leaves out, and why.
#[derive(Debug, Default)]
pub struct DbJson {
    /// The collections and singular resources, in file order.
    pub collections: Vec<Collection>,
    /// What could not be mapped; the rest still serves.
    pub warnings: Vec<Diagnostic>,
}

/// Reads the collections of `document`, the parsed text `source` of `file`.
pub fn read(file: &str, source: &str, document: &Value) -> DbJson {
    let locations = Locations::of(source);
    let mut db = DbJson::default();
    let mut warn = |path: String, message: String| {
        db.warnings.push(Diagnostic {
            file: file.to_string(),
            position: locations.key(&path),
            path,
            message,
            suggestion: None,
        });
    };
    let Some(object) = document.as_object() else {
        return db;
    };
    let mut collections = Vec::new();
    for (name, value) in object {
        if name == "$schema" {
            continue;
        }
        if !valid_name(name) {
            warn(
                name.clone(),
                format!(
                    "'{name}' is left out: standin serves names made of letters, digits, '_' and '-', starting with a letter"
                ),
            );
            continue;
        }
        match value {
            Value::Object(record) => collections.push(Collection {
                name: name.clone(),
                singular: true,
                records: vec![record.clone()],
            }),
            Value::Array(items) => {
                let mut records: Vec<Map<String, Value>> = Vec::new();
                let mut seen = std::collections::HashSet::new();
                for (index, item) in items.iter().enumerate() {
                    let path = format!("{name}.{index}");
                    let Value::Object(record) = item else {
                        warn(
                            path,
                            format!("left out: a record of '{name}' must be an object"),
                        );
                        continue;
                    };
                    match record.get("id") {
                        Some(id @ (Value::String(_) | Value::Number(_)))
                            if !seen.insert(id_text(id)) =>
                        {
                            warn(
                                format!("{path}.id"),
                                format!("left out: another record of '{name}' has id {id}"),
                            );
                            continue;
                        }
                        None | Some(Value::String(_) | Value::Number(_)) => {}
                        Some(other) => {
                            warn(
                                format!("{path}.id"),
                                format!(
                                    "left out: an id must be a number or a string, not {other}"
                                ),
                            );
                            continue;
                        }
                    }
                    records.push(record.clone());
                }
                give_ids(&mut records, &mut seen);
                collections.push(Collection {
                    name: name.clone(),
                    singular: false,
                    records,
                });
            }
            other => warn(
                name.clone(),
                format!(
                    "'{name}' is left out: it must be an array of records or an object, not {other}"
                ),
            ),
        }
    }
    db.collections = collections;
    db
}

/// Gives records without an id the id json-server's POST would: the next
/// integer where ids are numbers, else a random string.
fn give_ids(records: &mut [Map<String, Value>], seen: &mut std::collections::HashSet<String>) {
    for index in 0..records.len() {
        if records[index].contains_key("id") {
            continue;
        }
        let id = crate::json_server::next_id(records.iter());
        seen.insert(id_text(&id));
        records[index].insert("id".into(), id);
    }
}

/// An id as json-server compares ids: as text, a number as JavaScript
/// writes it (`1.0` is `1`).
pub fn id_text(id: &Value) -> String {
    match id {
        Value::String(text) => text.clone(),
        Value::Number(_) => crate::json_server::js_string(id),
        other => other.to_string(),
    }
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The spec that serves `db` in the json-server dialect: records stored
/// verbatim, no fields checked.
pub fn served_spec(file: &str, db: &DbJson) -> Result<Spec, SpecErrors> {
    let resources: Map<String, Value> = db
        .collections
        .iter()
        .map(|collection| {
            let methods: &[&str] = if collection.singular {
                &["GET", "POST", "PUT", "PATCH"]
            } else {
                &["GET", "POST", "PUT", "PATCH", "DELETE"]
            };
            (
                collection.name.clone(),
                json!({"id": "string", "fields": {}, "count": 0, "methods": methods}),
            )
        })
        .collect();
    let document = json!({"standin": 1, "title": title(file), "resources": resources});
    let text = serde_json::to_string_pretty(&document).expect("JSON values serialise");
    let mut spec = spec::parse(file, &text)?;
    spec.dialect = Dialect::JsonServer;
    for (resource, collection) in spec.resources.iter_mut().zip(&db.collections) {
        resource.singular = collection.singular;
        resource.records = collection.records.clone();
    }
    Ok(spec)
}

fn title(file: &str) -> String {
    let name = std::path::Path::new(file).file_name().map_or_else(
        || file.to_string(),
        |name| name.to_string_lossy().into_owned(),
    );
    format!("json-server {name}")
}

/// The standin spec inferred from `db`, for `standin import`: each
/// collection's fields typed from their values, `xxxId` fields referencing
/// the collection `xxxs` where it exists, and the records as fixed records.
pub fn standin_spec(file: &str, db: &DbJson) -> Value {
    let collections: std::collections::HashSet<&str> = db
        .collections
        .iter()
        .filter(|collection| !collection.singular)
        .map(|collection| collection.name.as_str())
        .collect();
    let id_kinds: std::collections::HashMap<&str, &str> = db
        .collections
        .iter()
        .map(|collection| (collection.name.as_str(), id_kind(&collection.records)))
        .collect();
    let mut resources = Map::new();
    for collection in &db.collections {
        let mut fields = Map::new();
        for (name, kind) in field_kinds(&collection.records) {
            if name == "id" {
                continue;
            }
            let mut field = Map::new();
            match reference_target(&name, &collections) {
                Some(target) if !collection.singular => {
                    field.insert("ref".into(), json!(target));
                    field.insert("on_delete".into(), json!("cascade"));
                    let expected = match id_kinds.get(target) {
                        Some(&"integer") => "integer",
                        _ => "string",
                    };
                    if kind != Some(expected) {
                        // A reference typed unlike its target's ids stays a plain field.
                        field.clear();
                    }
                }
                _ => {}
            }
            if field.is_empty() {
                match kind {
                    Some(kind) => {
                        field.insert("type".into(), json!(kind));
                    }
                    None => continue,
                }
            }
            fields.insert(name, Value::Object(field));
        }
        let mut resource = Map::new();
        if collection.singular {
            resource.insert("singular".into(), json!(true));
        } else {
            resource.insert("id".into(), json!(id_kinds[collection.name.as_str()]));
        }
        resource.insert("fields".into(), Value::Object(fields));
        if !collection.singular {
            resource.insert("count".into(), json!(0));
        }
        let records: Vec<Value> = collection
            .records
            .iter()
            .map(|record| {
                let mut record = record.clone();
                if id_kinds.get(collection.name.as_str()) == Some(&"string")
                    && let Some(id) = record.get_mut("id")
                {
                    *id = Value::String(id_text(id));
                }
                record.retain(|_, value| !value.is_null());
                Value::Object(record)
            })
            .collect();
        if collection.singular {
            let mut record = match records.into_iter().next() {
                Some(Value::Object(record)) => record,
                _ => Map::new(),
            };
            record.remove("id");
            resource.insert("record".into(), Value::Object(record));
        } else {
            resource.insert("records".into(), Value::Array(records));
        }
        resources.insert(collection.name.clone(), Value::Object(resource));
    }
    json!({"standin": 1, "title": title(file), "resources": resources})
}

/// `integer` where every id is a positive integer, else `string`.
fn id_kind(records: &[Map<String, Value>]) -> &'static str {
    let positive = |record: &Map<String, Value>| {
        record
            .get("id")
            .and_then(Value::as_i64)
            .is_some_and(|id| id > 0)
    };
    if records.iter().all(positive) {
        "integer"
    } else {
        "string"
    }
}

/// The collection a field named `xxxId` references: `xxxs`, where it exists.
fn reference_target<'a>(
    field: &str,
    collections: &std::collections::HashSet<&'a str>,
) -> Option<&'a str> {
    let stem = field.strip_suffix("Id").filter(|stem| !stem.is_empty())?;
    collections.get(plural(stem).as_str()).copied()
}

/// Each field's standin type, in order of first appearance; `None` where
/// its values' types cannot share one (left out of the spec's fields).
fn field_kinds(records: &[Map<String, Value>]) -> Vec<(String, Option<&'static str>)> {
    let mut kinds: Vec<(String, Option<Option<&'static str>>)> = Vec::new();
    for record in records {
        for (name, value) in record {
            let kind = match value {
                Value::Null => continue,
                Value::Bool(_) => "boolean",
                Value::Number(number) if number.is_i64() || number.is_u64() => "integer",
                Value::Number(_) => "number",
                Value::String(_) => "string",
                Value::Array(_) => "array",
                Value::Object(_) => "object",
            };
            match kinds.iter_mut().find(|(known, _)| known == name) {
                None => kinds.push((name.clone(), Some(Some(kind)))),
                Some((_, Some(Some(known)))) if *known == kind => {}
                Some((_, Some(known))) => *known = widen(*known, kind),
                Some((_, None)) => {}
            }
        }
    }
    kinds
        .into_iter()
        .map(|(name, kind)| (name, kind.flatten()))
        .collect()
}

fn widen(known: Option<&'static str>, kind: &'static str) -> Option<&'static str> {
    match (known, kind) {
        (Some("integer" | "number"), "integer" | "number") => Some("number"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(text: &str) -> DbJson {
        let document: Value = serde_json::from_str(text).unwrap();
        read("db.json", text, &document)
    }

    #[test]
    fn records_are_kept_and_what_cannot_be_mapped_is_reported_with_its_place() {
        let db = read_text(
            "{\n  \"posts\": [\n    {\"id\": 1},\n    3,\n    {\"id\": 1},\n    {\"title\": \"x\"}\n  ],\n  \"bad name\": []\n}",
        );
        let posts = &db.collections[0];
        assert_eq!(
            posts.records,
            vec![
                json!({"id": 1}).as_object().unwrap().clone(),
                json!({"title": "x", "id": 2}).as_object().unwrap().clone()
            ]
        );
        let places: Vec<(String, usize)> = db
            .warnings
            .iter()
            .map(|warning| (warning.path.clone(), warning.position.unwrap().line))
            .collect();
        assert_eq!(
            places,
            [
                ("posts.1".to_string(), 4),
                ("posts.2.id".to_string(), 5),
                ("bad name".to_string(), 8)
            ]
        );
    }

    #[test]
    fn types_widen_and_references_follow_json_servers_naming() {
        let db = read_text(
            r#"{"posts": [{"id": 1, "views": 1, "tag": "a"}, {"id": 2, "views": 1.5, "tag": 3, "note": null}],
                "comments": [{"id": "a", "postId": 1, "authorId": 4}],
                "categories": [{"id": 1}], "items": [{"id": 1, "categoryId": 1}]}"#,
        );
        let spec = standin_spec("db.json", &db);
        assert_eq!(spec["resources"]["posts"]["id"], "integer");
        assert_eq!(
            spec["resources"]["posts"]["fields"],
            json!({"views": {"type": "number"}})
        );
        assert_eq!(spec["resources"]["comments"]["id"], "string");
        assert_eq!(
            spec["resources"]["comments"]["fields"]["postId"],
            json!({"ref": "posts", "on_delete": "cascade"})
        );
        assert_eq!(
            spec["resources"]["comments"]["fields"]["authorId"],
            json!({"type": "integer"})
        );
        assert_eq!(
            spec["resources"]["items"]["fields"]["categoryId"]["ref"],
            "categories"
        );
    }
}
