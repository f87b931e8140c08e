//! Patch documents applied to a record's fields: JSON Merge Patch (RFC 7396)
//! and, bounded in work and in the size of what it builds, JSON Patch
//! (RFC 6902). A merge patch cannot grow a record beyond its own size; a JSON
//! patch can (each `copy` may double an array), so its result is measured.

use serde_json::{Map, Value};

/// Applies an RFC 7396 merge patch to an object: `null` removes a key,
/// objects merge recursively, anything else replaces.
pub fn merge(target: &mut Map<String, Value>, patch: &Map<String, Value>) {
    for (key, value) in patch {
        match value {
            Value::Null => {
                target.remove(key);
            }
            Value::Object(inner) => {
                let slot = target
                    .entry(key.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
                if !slot.is_object() {
                    *slot = Value::Object(Map::new());
                }
                if let Value::Object(existing) = slot {
                    merge(existing, inner);
                }
            }
            other => {
                target.insert(key.clone(), other.clone());
            }
        }
    }
}

/// Most operations one JSON patch may hold.
pub const MAX_JSON_PATCH_OPERATIONS: usize = 1000;

/// Why a JSON patch was not applied.
#[derive(Debug, thiserror::Error)]
pub enum JsonPatchFailure {
    /// The patch holds more operations than [`MAX_JSON_PATCH_OPERATIONS`].
    #[error(
        "a JSON patch holds at most {MAX_JSON_PATCH_OPERATIONS} operations; this one holds {0}"
    )]
    TooManyOperations(usize),
    /// The patched document would be larger than the limit, in bytes of JSON.
    #[error("the patched record would be larger than the limit of {0} bytes")]
    TooLarge(usize),
    /// An operation failed (a `test`, or a path the document does not have).
    #[error("{0}")]
    Failed(#[from] json_patch::PatchError),
}

/// Applies an RFC 6902 patch to `document`, all operations or none, refusing
/// one whose result would exceed `size_limit` bytes of JSON. The work is
/// bounded too: only `copy` can grow the document by more than the patch's own
/// size, so sizes are measured after copies only, and never past the limit.
pub fn apply_json_patch(
    document: &mut Value,
    operations: &[json_patch::PatchOperation],
    size_limit: usize,
) -> Result<(), JsonPatchFailure> {
    if operations.len() > MAX_JSON_PATCH_OPERATIONS {
        return Err(JsonPatchFailure::TooManyOperations(operations.len()));
    }
    let mut working = document.clone();
    // The working document's size, but for values the patch itself adds
    // (bounded by the body's size): exact after each measure, then grown by
    // what each copy adds.
    let mut size =
        json_size_within(&working, size_limit).ok_or(JsonPatchFailure::TooLarge(size_limit))?;
    for (index, operation) in operations.iter().enumerate() {
        if let json_patch::PatchOperation::Copy(copy) = operation {
            let copied = working.pointer(copy.from.as_str()).map_or(0, |value| {
                json_size_within(value, size_limit).unwrap_or(usize::MAX)
            });
            size = size.saturating_add(copied);
        }
        json_patch::patch(&mut working, std::slice::from_ref(operation)).map_err(|mut error| {
            error.operation = index;
            error
        })?;
        if size > size_limit {
            size = json_size_within(&working, size_limit)
                .ok_or(JsonPatchFailure::TooLarge(size_limit))?;
        }
    }
    // Values the patch itself adds are not in the estimate: measure once more.
    json_size_within(&working, size_limit).ok_or(JsonPatchFailure::TooLarge(size_limit))?;
    *document = working;
    Ok(())
}

/// The length of `value` serialised as compact JSON, if it is at most
/// `limit`; the walk stops as soon as the limit is passed. (Strings are
/// counted without escapes, which only makes it smaller than exact.)
pub fn json_size_within(value: &Value, limit: usize) -> Option<usize> {
    fn walk(value: &Value, size: &mut usize, limit: usize) -> bool {
        *size += match value {
            Value::Null => 4,
            Value::Bool(flag) => {
                if *flag {
                    4
                } else {
                    5
                }
            }
            Value::Number(number) => number.to_string().len(),
            Value::String(text) => text.len() + 2,
            Value::Array(items) => {
                *size += 2 + items.len().saturating_sub(1);
                if *size > limit {
                    return false;
                }
                return items.iter().all(|item| walk(item, size, limit));
            }
            Value::Object(members) => {
                *size += 2 + members.len().saturating_sub(1);
                if *size > limit {
                    return false;
                }
                return members.iter().all(|(key, member)| {
                    *size += key.len() + 3;
                    walk(member, size, limit)
                });
            }
        };
        *size <= limit
    }
    let mut size = 0;
    (walk(value, &mut size, limit) && size <= limit).then_some(size)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(target: Value, patch: Value, expected: Value) {
        let mut target = target.as_object().unwrap().clone();
        merge(&mut target, patch.as_object().unwrap());
        assert_eq!(Value::Object(target), expected);
    }

    #[test]
    fn follows_the_rfc_7396_examples() {
        check(json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"}));
        check(
            json!({"a": "b"}),
            json!({"b": "c"}),
            json!({"a": "b", "b": "c"}),
        );
        check(json!({"a": "b"}), json!({"a": null}), json!({}));
        check(
            json!({"a": {"b": "c"}}),
            json!({"a": {"b": "d", "c": null}}),
            json!({"a": {"b": "d"}}),
        );
        check(
            json!({"a": [{"b": "c"}]}),
            json!({"a": [1]}),
            json!({"a": [1]}),
        );
        check(
            json!({"e": null}),
            json!({"a": 1}),
            json!({"e": null, "a": 1}),
        );
        check(
            json!({"a": "x"}),
            json!({"a": {"bb": {"ccc": null}}}),
            json!({"a": {"bb": {}}}),
        );
    }

    fn operations(patch: Value) -> Vec<json_patch::PatchOperation> {
        serde_json::from_value(patch).unwrap()
    }

    #[test]
    fn a_json_patch_doubling_an_array_stops_at_the_size_limit() {
        let mut document = json!({"tags": ["a", "b"]});
        let doubling = json!({"op": "copy", "from": "/tags", "path": "/tags/-"});
        let patch = operations(Value::Array(vec![doubling; 60]));
        let failure = apply_json_patch(&mut document, &patch, 4096).unwrap_err();
        assert!(matches!(failure, JsonPatchFailure::TooLarge(4096)));
        assert_eq!(document, json!({"tags": ["a", "b"]}), "all or nothing");
    }

    #[test]
    fn a_json_patch_within_the_limits_applies_every_operation() {
        let mut document = json!({"tags": ["a"], "title": "x"});
        let patch = operations(json!([
            {"op": "copy", "from": "/tags/0", "path": "/tags/-"},
            {"op": "replace", "path": "/title", "value": "y"},
            {"op": "test", "path": "/tags/1", "value": "a"},
        ]));
        apply_json_patch(&mut document, &patch, 4096).unwrap();
        assert_eq!(document, json!({"tags": ["a", "a"], "title": "y"}));
    }

    #[test]
    fn a_failed_operation_is_reported_at_its_index() {
        let mut document = json!({"title": "x"});
        let patch = operations(json!([
            {"op": "replace", "path": "/title", "value": "y"},
            {"op": "remove", "path": "/nope"},
        ]));
        let JsonPatchFailure::Failed(error) =
            apply_json_patch(&mut document, &patch, 4096).unwrap_err()
        else {
            panic!("expected a failed operation");
        };
        assert_eq!(error.operation, 1);
        assert_eq!(document, json!({"title": "x"}));
    }

    #[test]
    fn too_many_operations_are_refused_before_any_work() {
        let mut document = json!({});
        let test = json!({"op": "test", "path": "", "value": {}});
        let patch = operations(Value::Array(vec![test; MAX_JSON_PATCH_OPERATIONS + 1]));
        assert!(matches!(
            apply_json_patch(&mut document, &patch, 4096),
            Err(JsonPatchFailure::TooManyOperations(1001))
        ));
    }

    #[test]
    fn sizes_are_those_of_compact_json_and_stop_past_the_limit() {
        let value = json!({"a": [1, true, null, "xy"], "b": {}});
        let exact = value.to_string().len();
        assert_eq!(json_size_within(&value, 1000), Some(exact));
        assert_eq!(json_size_within(&value, exact), Some(exact));
        assert_eq!(json_size_within(&value, exact - 1), None);
    }
}
