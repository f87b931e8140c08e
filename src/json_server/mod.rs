//! json-server 0.17's conventions, without HTTP: how it names related
//! collections (`postId` → `posts`), makes ids, compares values, and lists a
//! collection (`list`). The HTTP side is `http::json_server`.

mod list;
mod naming;
pub mod pretty;
mod write_back;

pub use list::{ListAnswer, PageLinks, list};
pub use naming::{plural, singular};
pub use write_back::{FileState, Tickets, UnhandledEdit, WriteBack};

use rand::RngExt;
use serde_json::{Map, Value};

use crate::import::dbjson::id_text;
use crate::spec::Resource;

/// Each collection's records as last read from the store, with the
/// generation of its records then, so that lists filter parsed records;
/// writes apply their change to them (see [`RecordCache::changed`]).
#[derive(Debug, Default)]
pub struct RecordCache {
    entries: std::sync::Mutex<std::collections::HashMap<String, Cached>>,
}

/// A collection's records, each shared: a list filtered off the store's
/// thread holds them while a write makes its own copy of the vector, which
/// copies no record.
pub type Records = std::sync::Arc<Vec<std::sync::Arc<Value>>>;

/// What a write did to a record of a db.json's collection.
#[derive(Debug, Clone, Copy)]
pub enum RecordChange<'a> {
    /// Stored these fields as a new record, after all the others.
    Created(&'a Map<String, Value>),
    /// Replaced the fields of the record with the same `id` by these.
    Updated(&'a Map<String, Value>),
    /// Deleted the record with this id (as the store keys it).
    Deleted(&'a str),
}

/// A collection's records, the generation they were read at, and what is
/// known of their ids (made when first needed, then kept in step).
#[derive(Debug)]
struct Cached {
    generation: u64,
    records: Records,
    /// Each record's position by its id as the store keys it ([`id_text`]);
    /// `None` until needed. Records without an id are not in it.
    positions: Option<Positions>,
    /// The largest id as [`next_id`] finds it (`Some(None)`: no record has
    /// one); `None` until needed, or once a write may have changed it.
    largest: Option<Option<Value>>,
}

/// Positions by id; `None` when two records' ids read alike (then no
/// change is applied: the records are read again after each write).
type Positions = Option<std::collections::HashMap<String, usize>>;

impl Cached {
    fn new(generation: u64, records: Records) -> Cached {
        Cached {
            generation,
            records,
            positions: None,
            largest: None,
        }
    }

    /// The positions of the records by id, made now if not yet.
    fn positions(&mut self) -> Option<&mut std::collections::HashMap<String, usize>> {
        let records = &self.records;
        self.positions
            .get_or_insert_with(|| {
                let mut positions = std::collections::HashMap::with_capacity(records.len());
                for (position, record) in records.iter().enumerate() {
                    if let Some(id) = record.get("id")
                        && positions.insert(id_text(id), position).is_some()
                    {
                        return None;
                    }
                }
                Some(positions)
            })
            .as_mut()
    }

    /// Applies `change` to the records, or answers `false` when it cannot
    /// tell how (they are then read again).
    fn apply(&mut self, change: RecordChange<'_>) -> bool {
        match change {
            RecordChange::Created(fields) => {
                // Its row is the last: a new row's number is above every other's.
                let Some(id) = fields.get("id") else {
                    return false;
                };
                let (text, position) = (id_text(id), self.records.len());
                match self.positions() {
                    Some(positions) if !positions.contains_key(&text) => {
                        positions.insert(text, position);
                    }
                    // Ids the store tells apart that read alike.
                    _ => return false,
                }
                if let Some(largest) = &mut self.largest
                    && largest.as_ref().is_none_or(|known| is_larger(id, known))
                {
                    *largest = Some(id.clone());
                }
                let record = std::sync::Arc::new(Value::Object(fields.clone()));
                std::sync::Arc::make_mut(&mut self.records).push(record);
                true
            }
            RecordChange::Updated(fields) => {
                let Some(id) = fields.get("id") else {
                    return false;
                };
                let Some(&position) = self
                    .positions()
                    .and_then(|positions| positions.get(&id_text(id)))
                else {
                    return false;
                };
                let records = std::sync::Arc::make_mut(&mut self.records);
                if records[position].get("id") != Some(id) {
                    // The same id written otherwise (`"1"` for `1`) compares otherwise.
                    self.largest = None;
                }
                records[position] = std::sync::Arc::new(Value::Object(fields.clone()));
                true
            }
            RecordChange::Deleted(id) => {
                let Some(positions) = self.positions() else {
                    return false;
                };
                let Some(removed) = positions.remove(id) else {
                    return false;
                };
                for position in positions.values_mut() {
                    if *position > removed {
                        *position -= 1;
                    }
                }
                std::sync::Arc::make_mut(&mut self.records).remove(removed);
                self.largest = None;
                true
            }
        }
    }
}

impl RecordCache {
    /// The records of `name` at store generation `generation` (read before
    /// `read` runs), from the cache or from `read`.
    pub fn records<E>(
        &self,
        name: &str,
        generation: u64,
        read: impl FnOnce() -> Result<Vec<std::sync::Arc<Value>>, E>,
    ) -> Result<Records, E> {
        self.with_entry(name, generation, read, |cached| cached.records.clone())
    }

    /// The id json-server gives a new record of `name` at store generation
    /// `generation` (see [`next_id`]), its largest id kept between writes.
    pub fn next_id<E>(
        &self,
        name: &str,
        generation: u64,
        read: impl FnOnce() -> Result<Vec<std::sync::Arc<Value>>, E>,
    ) -> Result<Value, E> {
        self.with_entry(name, generation, read, |cached| {
            let records = &cached.records;
            let largest = cached.largest.get_or_insert_with(|| {
                largest_id(records.iter().filter_map(|record| record.get("id"))).cloned()
            });
            id_after(largest.as_ref())
        })
    }

    /// Runs `use_it` on the entry of `name` at `generation`, read by `read` if not kept.
    fn with_entry<T, E>(
        &self,
        name: &str,
        generation: u64,
        read: impl FnOnce() -> Result<Vec<std::sync::Arc<Value>>, E>,
        use_it: impl FnOnce(&mut Cached) -> T,
    ) -> Result<T, E> {
        let entries = || {
            self.entries
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        };
        if let Some(cached) = entries().get_mut(name)
            && cached.generation == generation
        {
            return Ok(use_it(cached));
        }
        let mut cached = Cached::new(generation, std::sync::Arc::new(read()?));
        let used = use_it(&mut cached);
        entries().insert(name.to_string(), cached);
        Ok(used)
    }

    /// Keeps the records of `name` in step with a write that took them
    /// from generation `before` to `after` and made `change` to them
    /// (`None`: anything, and they are read again). Kept records of another
    /// generation than `before` are dropped, as stale.
    pub fn changed(&self, name: &str, before: u64, after: u64, change: Option<RecordChange<'_>>) {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(cached) = entries.get_mut(name) else {
            return;
        };
        // The vector is copied if a list or a `GET /db` being answered holds it.
        if cached.generation == before
            && after != before
            && change.is_some_and(|change| cached.apply(change))
        {
            cached.generation = after;
        } else {
            entries.remove(name);
        }
    }
}

/// Whether a resource of a db.json is a singular one (`/profile`).
pub fn is_singular(resource: &Resource) -> bool {
    resource.singular
}

/// The id json-server gives a new record of `records`: one more than the
/// largest where that is a number, else seven random characters.
pub fn next_id<'a>(records: impl Iterator<Item = &'a Map<String, Value>>) -> Value {
    id_after(largest_id(records.filter_map(|record| record.get("id"))))
}

/// The largest of `ids` as json-server finds it: each compared with the
/// largest before it, in order (`None` for none).
fn largest_id<'a>(ids: impl Iterator<Item = &'a Value>) -> Option<&'a Value> {
    let mut largest: Option<&Value> = None;
    for id in ids {
        if largest.is_none_or(|known| is_larger(id, known)) {
            largest = Some(id);
        }
    }
    largest
}

/// Whether json-server takes `id` for larger than `known`, the largest before it.
fn is_larger(id: &Value, known: &Value) -> bool {
    js_compare(id, known) == Some(std::cmp::Ordering::Greater)
}

/// The id after `largest`, the largest id of the records (`None`: they have none).
fn id_after(largest: Option<&Value>) -> Value {
    let Some(largest) = largest else {
        return Value::from(1);
    };
    match largest.as_f64() {
        Some(number) if number.is_finite() => js_number(number + 1.0),
        _ => Value::from(random_id()),
    }
}

/// Seven characters of nanoid's alphabet.
fn random_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    let mut random = rand::rng();
    (0..7)
        .map(|_| char::from(ALPHABET[random.random_range(0..ALPHABET.len())]))
        .collect()
}

/// A number as JSON writes it: integers without a fraction.
fn js_number(number: f64) -> Value {
    if number.fract() == 0.0 && number.abs() < 9.0e15 {
        Value::from(number as i64)
    } else {
        serde_json::Number::from_f64(number).map_or(Value::Null, Value::Number)
    }
}

/// A value as JavaScript's `String(value)` writes it.
pub fn js_string(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => match number.as_f64() {
            Some(float)
                if !number.is_i64()
                    && !number.is_u64()
                    && float.fract() == 0.0
                    && float.abs() < 1e21 =>
            {
                format!("{float:.0}")
            }
            _ => number.to_string(),
        },
        Value::Bool(flag) => flag.to_string(),
        Value::Null => "null".into(),
        Value::Array(items) => items
            .iter()
            .map(|item| {
                if item.is_null() {
                    String::new()
                } else {
                    js_string(item)
                }
            })
            .collect::<Vec<_>>()
            .join(","),
        Value::Object(_) => "[object Object]".into(),
    }
}

/// JavaScript's `<` / `>` between two values: numbers numerically, strings
/// by code units, a string and a number as numbers; `None` where neither holds.
pub fn js_compare(left: &Value, right: &Value) -> Option<std::cmp::Ordering> {
    match (left, right) {
        (Value::String(a), Value::String(b)) => Some(a.encode_utf16().cmp(b.encode_utf16())),
        _ => js_to_number(left)?.partial_cmp(&js_to_number(right)?),
    }
}

/// JavaScript's `Number(value)` for primitives (`None` for NaN and objects).
fn js_to_number(value: &Value) -> Option<f64> {
    let number = match value {
        Value::Number(number) => number.as_f64()?,
        Value::Bool(flag) => f64::from(u8::from(*flag)),
        Value::Null => 0.0,
        Value::String(text) => {
            let text = text.trim();
            if text.is_empty() {
                0.0
            } else {
                text.parse().ok()?
            }
        }
        _ => return None,
    };
    (!number.is_nan()).then_some(number)
}

/// The value at a dotted path (`author.name`), as lodash's `_.get` finds it.
pub fn get_path<'v>(record: &'v Value, path: &str) -> Option<&'v Value> {
    if let Some(value) = record.get(path) {
        return Some(value);
    }
    path.split('.').try_fold(record, |value, key| match value {
        Value::Object(object) => object.get(key),
        Value::Array(items) => key.parse::<usize>().ok().and_then(|index| items.get(index)),
        _ => None,
    })
}

/// JavaScript's `parseInt(text, 10)`: the leading integer, if any.
pub fn parse_int(text: &str) -> Option<i64> {
    let text = text.trim_start();
    let (sign, digits) = match text.as_bytes().first() {
        Some(b'-') => (-1, &text[1..]),
        Some(b'+') => (1, &text[1..]),
        _ => (1, text),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end]
        .parse::<i64>()
        .ok()
        .map(|number| sign * number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn records(ids: &[Value]) -> Vec<Map<String, Value>> {
        ids.iter()
            .map(|id| json!({"id": id}).as_object().unwrap().clone())
            .collect()
    }

    #[test]
    fn new_ids_follow_the_collections_kind() {
        assert_eq!(next_id(records(&[]).iter()), json!(1));
        assert_eq!(
            next_id(records(&[json!(0), json!(7), json!(3)]).iter()),
            json!(8)
        );
        let id = next_id(records(&[json!("a1"), json!("b2")]).iter());
        assert_eq!(id.as_str().map(str::len), Some(7));
    }

    #[test]
    fn values_compare_and_print_as_javascript_does() {
        assert_eq!(js_string(&json!(2.0)), "2");
        assert_eq!(js_string(&json!([1, "a"])), "1,a");
        assert_eq!(
            js_compare(&json!("10"), &json!(9)),
            Some(std::cmp::Ordering::Greater)
        );
        assert_eq!(
            js_compare(&json!("10"), &json!("9")),
            Some(std::cmp::Ordering::Less)
        );
        assert_eq!(js_compare(&json!("x"), &json!(9)), None);
        assert_eq!(parse_int(" 12abc"), Some(12));
        assert_eq!(parse_int("abc"), None);
        assert_eq!(
            get_path(&json!({"a": {"b": [5]}}), "a.b.0"),
            Some(&json!(5))
        );
    }
}
