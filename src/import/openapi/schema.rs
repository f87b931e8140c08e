//! OpenAPI schemas as JSON Schema (draft 2020-12): OpenAPI 3.0's dialect
//! (`nullable`, boolean `exclusiveMinimum`) converted, and validators that
//! resolve `#/components/...` references against the document.

use serde_json::{Map, Value, json};

/// Keywords whose values are data, not schemas: never converted.
const DATA_KEYWORDS: [&str; 5] = ["example", "examples", "enum", "default", "const"];

/// Converts OpenAPI 3.0 schema keywords in `value` (a whole document or part
/// of one) to their JSON Schema equivalents, in place.
pub fn convert_3_0(value: &mut Value) {
    match value {
        Value::Object(object) => {
            convert_object(object);
            for (key, member) in object.iter_mut() {
                if !DATA_KEYWORDS.contains(&key.as_str()) && !key.starts_with("x-") {
                    convert_3_0(member);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(convert_3_0),
        _ => {}
    }
}

fn convert_object(object: &mut Map<String, Value>) {
    if object.remove("nullable") == Some(Value::Bool(true)) {
        match object.get_mut("type") {
            Some(Value::String(kind)) => {
                let kind = kind.clone();
                object.insert("type".into(), Value::from(vec![kind, "null".to_string()]));
            }
            Some(Value::Array(kinds)) if !kinds.contains(&Value::from("null")) => {
                kinds.push(Value::from("null"));
            }
            _ => {}
        }
        if let Some(Value::Array(allowed)) = object.get_mut("enum")
            && !allowed.contains(&Value::Null)
        {
            allowed.push(Value::Null);
        }
    }
    for (flag, bound) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        match object.get(flag) {
            Some(Value::Bool(true)) => {
                if let Some(limit) = object.remove(bound) {
                    object.insert(flag.into(), limit);
                } else {
                    object.remove(flag);
                }
            }
            Some(Value::Bool(false)) => {
                object.remove(flag);
            }
            _ => {}
        }
    }
}

/// Adds the bounds `int32` and `int64` formats mean (JSON Schema validators
/// do not know them) to every schema in `value`, in place.
pub fn bound_integer_formats(value: &mut Value) {
    match value {
        Value::Object(object) => {
            let bounds = match object.get("format").and_then(Value::as_str) {
                Some("int32") => Some((i64::from(i32::MIN), i64::from(i32::MAX))),
                Some("int64") => Some((i64::MIN, i64::MAX)),
                _ => None,
            };
            let numeric = object.get("type").is_some_and(|kind| {
                kind == "integer"
                    || kind == "number"
                    || kind.as_array().is_some_and(|kinds| {
                        kinds
                            .iter()
                            .any(|kind| kind == "integer" || kind == "number")
                    })
            });
            if let (Some((low, high)), true) = (bounds, numeric) {
                if !object.contains_key("exclusiveMinimum") {
                    object.entry("minimum").or_insert(Value::from(low));
                }
                if !object.contains_key("exclusiveMaximum") {
                    object.entry("maximum").or_insert(Value::from(high));
                }
            }
            for (key, member) in object.iter_mut() {
                if !DATA_KEYWORDS.contains(&key.as_str()) && !key.starts_with("x-") {
                    bound_integer_formats(member);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(bound_integer_formats),
        _ => {}
    }
}

/// The discriminator of a `oneOf`/`anyOf` schema: its property, and each
/// value it takes with the branch (`$ref`) that value selects: the
/// `mapping`'s (a bare name stands for `#/components/schemas/NAME`), then
/// each other referenced branch by its schema's name, as OpenAPI defines.
pub fn discriminator(object: &Map<String, Value>) -> Option<(String, Vec<(String, String)>)> {
    let discriminator = object.get("discriminator")?.as_object()?;
    let property = discriminator.get("propertyName")?.as_str()?.to_string();
    let mut values: Vec<(String, String)> = discriminator
        .get("mapping")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(name, target)| {
            let target = target.as_str()?;
            let reference = match target.contains('/') {
                true => target.to_string(),
                false => format!("#/components/schemas/{target}"),
            };
            Some((name.clone(), reference))
        })
        .collect();
    let branches = ["oneOf", "anyOf"]
        .iter()
        .find_map(|keyword| object.get(*keyword).and_then(Value::as_array))?;
    for branch in branches {
        let Some(reference) = branch.get("$ref").and_then(Value::as_str) else {
            continue;
        };
        if values.iter().any(|(_, mapped)| mapped == reference) {
            continue;
        }
        if let Some(name) = reference.rsplit('/').next() {
            values.push((name.to_string(), reference.to_string()));
        }
    }
    (!values.is_empty()).then_some((property, values))
}

/// Makes every `discriminator` in `value` (a whole document or part of one)
/// part of its schema, which JSON Schema validators otherwise ignore: where
/// the property is present, it must name a branch, and the object must be
/// valid against the branch it names. Its `oneOf` becomes `anyOf`: the
/// discriminator, not the count of matching branches, decides (a dog is
/// often a valid cat too).
pub fn honour_discriminators(value: &mut Value) {
    match value {
        Value::Object(object) => {
            if let Some((property, values)) = discriminator(object) {
                let names: Vec<Value> = values.iter().map(|(name, _)| json!(name)).collect();
                let selections: Vec<Value> = values
                    .iter()
                    .map(|(name, reference)| {
                        json!({
                            "if": {"properties": {&property: {"const": name}}},
                            "then": {"$ref": reference}
                        })
                    })
                    .collect();
                let rule = json!({
                    "properties": {&property: {"enum": names}},
                    "allOf": selections
                });
                if let Some(branches) = object.remove("oneOf") {
                    object.insert("anyOf".into(), branches);
                }
                let dependent = object
                    .entry("dependentSchemas")
                    .or_insert_with(|| json!({}));
                if let Some(dependent) = dependent.as_object_mut() {
                    dependent.entry(property).or_insert(rule);
                }
            }
            for (key, member) in object.iter_mut() {
                if !DATA_KEYWORDS.contains(&key.as_str()) && !key.starts_with("x-") {
                    honour_discriminators(member);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(honour_discriminators),
        _ => {}
    }
}

/// `document` as requests see it: a `readOnly` property is never required
/// of a request (OpenAPI: such properties are only sent in responses).
pub fn for_requests(document: &Value) -> Value {
    let mut copy = document.clone();
    drop_flagged(document, &mut copy, "readOnly");
    copy
}

/// `document` as responses see it: a `writeOnly` property is never required of a response.
pub fn for_responses(document: &Value) -> Value {
    let mut copy = document.clone();
    drop_flagged(document, &mut copy, "writeOnly");
    copy
}

/// The names of the properties flagged `writeOnly` anywhere in `schema` (references inlined).
pub fn write_only_names(schema: &Value) -> Vec<String> {
    let mut names = Vec::new();
    collect_write_only(schema, &mut names);
    names
}

fn collect_write_only(value: &Value, names: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            if let Some(Value::Object(properties)) = object.get("properties") {
                for (name, property) in properties {
                    if property.get("writeOnly") == Some(&Value::Bool(true))
                        && !names.contains(name)
                    {
                        names.push(name.clone());
                    }
                }
            }
            for (key, member) in object {
                if !DATA_KEYWORDS.contains(&key.as_str()) && !key.starts_with("x-") {
                    collect_write_only(member, names);
                }
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| collect_write_only(item, names)),
        _ => {}
    }
}

fn drop_flagged(document: &Value, value: &mut Value, flag: &str) {
    match value {
        Value::Object(object) => {
            let flagged: Vec<String> = object
                .get("properties")
                .and_then(Value::as_object)
                .map(|properties| {
                    properties
                        .iter()
                        .filter(|(_, property)| {
                            super::refs::resolve(document, property).get(flag)
                                == Some(&Value::Bool(true))
                        })
                        .map(|(name, _)| name.clone())
                        .collect()
                })
                .unwrap_or_default();
            if let Some(Value::Array(required)) = object.get_mut("required") {
                required.retain(|name| {
                    !name
                        .as_str()
                        .is_some_and(|name| flagged.iter().any(|r| r == name))
                });
            }
            for (key, member) in object.iter_mut() {
                if !DATA_KEYWORDS.contains(&key.as_str()) && !key.starts_with("x-") {
                    drop_flagged(document, member, flag);
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| drop_flagged(document, item, flag)),
        _ => {}
    }
}

/// A validator of `schema` (part of `document`), resolving its references to
/// the document's components; `None` where the schema does not compile.
pub fn validator(document: &Value, schema: &Value) -> Result<jsonschema::Validator, String> {
    let root = rooted(document, schema);
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&root)
        .map_err(|error| error.to_string())
}

/// `schema` as a root schema that carries the document's `components`, so its references resolve.
pub fn rooted(document: &Value, schema: &Value) -> Value {
    match schema {
        Value::Object(object) => {
            let mut root = object.clone();
            if let Some(components) = document.get("components") {
                root.insert("components".into(), components.clone());
            }
            Value::Object(root)
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nullable_and_boolean_exclusive_bounds_become_json_schema() {
        let mut schema = json!({"type": "object", "properties": {
            "tag": {"type": "string", "nullable": true, "enum": ["a"], "example": {"nullable": true}},
            "age": {"type": "integer", "minimum": 0, "exclusiveMinimum": true}
        }});
        convert_3_0(&mut schema);
        assert_eq!(
            schema["properties"]["tag"],
            json!({"type": ["string", "null"], "enum": ["a", null], "example": {"nullable": true}})
        );
        assert_eq!(
            schema["properties"]["age"],
            json!({"type": "integer", "exclusiveMinimum": 0})
        );
    }

    #[test]
    fn validators_resolve_component_references() {
        let document =
            json!({"components": {"schemas": {"Pet": {"type": "object", "required": ["name"]}}}});
        let validator = validator(&document, &json!({"$ref": "#/components/schemas/Pet"})).unwrap();
        assert!(validator.is_valid(&json!({"name": "Rex"})));
        assert!(!validator.is_valid(&json!({})));
    }

    #[test]
    fn a_discriminator_selects_the_branch_a_value_is_checked_against() {
        let mut document = json!({"components": {"schemas": {
            "Pet": {
                "oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}],
                "discriminator": {"propertyName": "kind", "mapping": {"dog": "Dog"}}
            },
            "Cat": {"type": "object", "required": ["kind"], "properties": {
                "kind": {"type": "string"}, "lives": {"type": "integer"}
            }},
            "Dog": {"type": "object", "required": ["kind", "barks"], "properties": {
                "kind": {"type": "string"}, "barks": {"type": "boolean"}
            }}
        }}});
        honour_discriminators(&mut document);
        let pet = json!({"$ref": "#/components/schemas/Pet"});
        let validator = validator(&document, &pet).expect("a validator");
        assert!(validator.is_valid(&json!({"kind": "Cat", "lives": 9})));
        assert!(validator.is_valid(&json!({"kind": "dog", "barks": true})));
        // Valid as a Cat, but it says it is a dog, which must bark.
        assert!(!validator.is_valid(&json!({"kind": "dog", "lives": 9})));
        assert!(!validator.is_valid(&json!({"kind": "Fish"})));
    }
}
