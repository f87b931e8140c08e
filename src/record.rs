//! Record mode (`--record FILE`): what an upstream answered to reads of
//! collection-like paths, kept as the records of inferred resources in a
//! json-server db.json, so that standin can serve them with the upstream
//! switched off. `GET /users` answered with an array of objects gives the
//! collection `users`; `GET /users/3` answered with an object gives its
//! record 3; `GET /profile` answered with an object gives the singular
//! `profile`. Records are merged by `id`: a record seen again replaces the
//! one recorded before. The file is rewritten whole (atomically) after each
//! change, and a file that exists is read at start and added to.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::{Map, Value};

use crate::json_server::WriteBack;

/// The db.json that upstream answers are recorded into.
#[derive(Debug)]
pub struct Recorder {
    path: PathBuf,
    file: WriteBack,
    /// The collections recorded so far, as written to the file.
    database: Mutex<Map<String, Value>>,
}

/// What a recorded answer added to the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// Records of a collection: its name and how many.
    Records(String, usize),
    /// A singular object.
    Singular(String),
}

impl Recorder {
    /// Records into the db.json at `path`, keeping what it holds already.
    pub fn open(path: &Path) -> Result<Recorder, String> {
        let database = match std::fs::read_to_string(path) {
            Ok(text) if text.trim().is_empty() => Map::new(),
            Ok(text) => match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(map)) => map,
                Ok(_) => {
                    return Err(format!(
                        "{} is not a db.json (a JSON object of collections): record into a new file",
                        path.display()
                    ));
                }
                Err(error) => {
                    return Err(format!(
                        "{} is not JSON ({error}): record into a new file",
                        path.display()
                    ));
                }
            },
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Map::new(),
            Err(error) => return Err(format!("cannot read {}: {error}", path.display())),
        };
        let recorder = Recorder {
            path: path.to_path_buf(),
            file: WriteBack::new(path),
            database: Mutex::new(database),
        };
        // Written at once, so that a directory that cannot be written to is told at start.
        recorder
            .write()
            .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
        Ok(recorder)
    }

    /// The file recorded into.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records `body`, the upstream's JSON answer to a `GET` of `segments`
    /// (the path below the spec's base path, decoded); what it added, if
    /// the path and answer have the shape of records.
    pub fn record(&self, segments: &[String], body: &[u8]) -> std::io::Result<Option<Recorded>> {
        let Ok(answer) = serde_json::from_slice::<Value>(body) else {
            return Ok(None);
        };
        let recorded = {
            let mut database = self.lock();
            merge(&mut database, segments, answer)
        };
        if recorded.is_some() {
            self.write()?;
        }
        Ok(recorded)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Map<String, Value>> {
        self.database
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::io::Result<()> {
        let _held = self.file.hold();
        let database = Value::Object(self.lock().clone());
        self.file.write(&database, |_| ())
    }
}

/// Whether `name` can name a recorded collection: a plain path segment, not
/// one of standin's own (`_standin`, `_jobs`) nor json-server's `db`.
fn is_collection_name(name: &str) -> bool {
    !name.is_empty()
        && name != "db"
        && !name.starts_with('_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Whether a path segment looks like a record's id rather than a name.
fn looks_like_id(segment: &str) -> bool {
    segment.parse::<u64>().is_ok() || crate::spec::is_uuid(segment)
}

/// The id a path segment names, typed as json-server keeps it.
fn id_value(segment: &str) -> Value {
    match segment.parse::<u64>() {
        Ok(number) => Value::from(number),
        Err(_) => Value::String(segment.to_string()),
    }
}

/// Adds `answer` to `database` as `segments` name it.
fn merge(
    database: &mut Map<String, Value>,
    segments: &[String],
    answer: Value,
) -> Option<Recorded> {
    match (segments, answer) {
        ([name], Value::Array(items)) if is_collection_name(name) => {
            if !items.iter().all(Value::is_object)
                || database.get(name).is_some_and(Value::is_object)
            {
                return None;
            }
            let count = items.len();
            for item in items {
                upsert(database, name, item);
            }
            Some(Recorded::Records(name.clone(), count))
        }
        ([name, id], Value::Object(mut record))
            if is_collection_name(name)
                && (looks_like_id(id) || database.get(name).is_some_and(Value::is_array)) =>
        {
            if database.get(name).is_some_and(Value::is_object) {
                return None;
            }
            record.entry("id").or_insert_with(|| id_value(id));
            upsert(database, name, Value::Object(record));
            Some(Recorded::Records(name.clone(), 1))
        }
        ([name], Value::Object(object))
            if is_collection_name(name) && !database.get(name).is_some_and(Value::is_array) =>
        {
            database.insert(name.clone(), Value::Object(object));
            Some(Recorded::Singular(name.clone()))
        }
        // A nested list or item (`/users/3/orders`, `/users/3/orders/7`): the
        // child's records, each pointing at its parent by json-server's
        // `xxxId` (`userId: 3`) unless it says otherwise.
        ([parent, id, rest @ ..], answer)
            if matches!(rest.len(), 1 | 2)
                && is_collection_name(parent)
                && looks_like_id(id)
                && rest[0] != *parent =>
        {
            let key = format!("{}Id", crate::json_server::singular(parent));
            let point = |record: &mut Value| {
                if let Value::Object(record) = record {
                    record.entry(key.clone()).or_insert_with(|| id_value(id));
                }
            };
            let answer = match answer {
                Value::Array(mut items) if rest.len() == 1 => {
                    items.iter_mut().for_each(point);
                    Value::Array(items)
                }
                Value::Object(record) if rest.len() == 2 => {
                    let mut record = Value::Object(record);
                    point(&mut record);
                    record
                }
                _ => return None,
            };
            merge(database, rest, answer)
        }
        _ => None,
    }
}

/// Puts `record` into the collection `name`: in place of the one with its
/// `id`, else (or without an id) at the end, unless an equal one is there.
fn upsert(database: &mut Map<String, Value>, name: &str, record: Value) {
    let collection = database
        .entry(name.to_string())
        .or_insert_with(|| Value::Array(Vec::new()));
    let Value::Array(records) = collection else {
        return;
    };
    let same = |existing: &Value| match record.get("id") {
        Some(id) => existing.get("id") == Some(id),
        None => *existing == record,
    };
    match records.iter_mut().find(|existing| same(existing)) {
        Some(existing) => *existing = record,
        None => records.push(record),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn segments(path: &str) -> Vec<String> {
        path.split('/')
            .filter(|segment| !segment.is_empty())
            .map(String::from)
            .collect()
    }

    fn merged(steps: &[(&str, Value)]) -> (Value, Vec<Option<Recorded>>) {
        let mut database = Map::new();
        let results = steps
            .iter()
            .map(|(path, answer)| merge(&mut database, &segments(path), answer.clone()))
            .collect();
        (Value::Object(database), results)
    }

    #[test]
    fn lists_and_items_become_records_merged_by_id() {
        let (database, results) = merged(&[
            (
                "/users",
                json!([{"id": 1, "name": "Ada"}, {"id": 2, "name": "Bob"}]),
            ),
            ("/users/2", json!({"id": 2, "name": "Bobby"})),
            ("/users/3", json!({"name": "Cy"})),
            ("/profile", json!({"theme": "dark"})),
        ]);
        assert_eq!(
            database,
            json!({
                "users": [{"id": 1, "name": "Ada"}, {"id": 2, "name": "Bobby"}, {"name": "Cy", "id": 3}],
                "profile": {"theme": "dark"},
            })
        );
        assert_eq!(results[0], Some(Recorded::Records("users".into(), 2)));
        assert_eq!(results[3], Some(Recorded::Singular("profile".into())));
    }

    #[test]
    fn nested_lists_and_items_become_records_pointing_at_their_parent() {
        let (database, results) = merged(&[
            (
                "/users/3/orders",
                json!([{"id": 1}, {"id": 2, "userId": 9}]),
            ),
            ("/users/3/orders/5", json!({"total": 10})),
            ("/categories/7/dishes", json!([{"id": 1}])),
        ]);
        assert_eq!(
            database,
            json!({
                "orders": [
                    {"id": 1, "userId": 3},
                    {"id": 2, "userId": 9},
                    {"total": 10, "userId": 3, "id": 5},
                ],
                "dishes": [{"id": 1, "categoryId": 7}],
            })
        );
        assert_eq!(results[0], Some(Recorded::Records("orders".into(), 2)));
        assert_eq!(results[1], Some(Recorded::Records("orders".into(), 1)));
    }

    #[test]
    fn answers_without_the_shape_of_records_are_not_recorded() {
        let (database, results) = merged(&[
            ("/numbers", json!([1, 2, 3])),
            ("/a/b/c", json!([{"id": 1}])),
            ("/_standin/health", json!({"status": "ok"})),
            ("/users/1/orders", json!({"id": 1})),
            ("/users/1/orders/2", json!([{"id": 1}])),
            ("/users/1/orders/2/lines", json!([{"id": 1}])),
            ("/users/1/users", json!([{"id": 1}])),
            ("/", json!({"links": {}})),
        ]);
        assert_eq!(database, json!({}));
        assert!(results.iter().all(Option::is_none), "{results:?}");
    }
}
