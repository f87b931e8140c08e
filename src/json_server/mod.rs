//! json-server 0.17's conventions, without HTTP: how it names related
//! collections (`postId` → `posts`), makes ids, compares values, and lists a
//! collection (`list`). The HTTP side is `http::json_server`.

mod list;
mod naming;
mod write_back;

pub use list::{ListAnswer, PageLinks, list};
pub use naming::{plural, singular};
pub use write_back::WriteBack;

use rand::RngExt;
use serde_json::{Map, Value};

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

/// A collection's records and the generation they were read at.
type Cached = (u64, Records);

impl RecordCache {
    /// The records of `name` at store generation `generation` (read before
    /// `read` runs), from the cache or from `read`.
    pub fn records<E>(
        &self,
        name: &str,
        generation: u64,
        read: impl FnOnce() -> Result<Vec<std::sync::Arc<Value>>, E>,
    ) -> Result<Records, E> {
        let entries = || {
            self.entries
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        };
        if let Some((at, records)) = entries().get(name)
            && *at == generation
        {
            return Ok(records.clone());
        }
        let records = std::sync::Arc::new(read()?);
        entries().insert(name.to_string(), (generation, records.clone()));
        Ok(records)
    }

    /// Keeps the records of `name` in step with a write that took them
    /// from generation `before` to `after`: `apply` makes the same change
    /// to them, or says it cannot (`false`), and they are read again. Kept
    /// records of another generation than `before` are dropped, as stale.
    pub fn changed(
        &self,
        name: &str,
        before: u64,
        after: u64,
        apply: impl FnOnce(&mut Vec<std::sync::Arc<Value>>) -> bool,
    ) {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some((at, records)) = entries.get_mut(name) else {
            return;
        };
        // The vector is copied if a list or a `GET /db` being answered holds it.
        if *at == before && after != before && apply(std::sync::Arc::make_mut(records)) {
            *at = after;
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
    let mut largest: Option<&Value> = None;
    let mut any = false;
    for id in records.filter_map(|record| record.get("id")) {
        any = true;
        if largest.is_none_or(|known| js_compare(id, known) == Some(std::cmp::Ordering::Greater)) {
            largest = Some(id);
        }
    }
    if !any {
        return Value::from(1);
    }
    match largest.and_then(Value::as_f64) {
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
