//! Following `$ref`s inside an OpenAPI document: a reference's target, a
//! schema with its references inlined (cycles cut, depth bounded) and its
//! `allOf` merged, which is what inference and generation read.

use serde_json::{Map, Value};

/// How many references a chain, or an inlined schema, may follow.
pub const MAX_DEPTH: usize = 24;

/// The value a local reference (`#/components/schemas/Pet`) names.
pub fn target<'a>(document: &'a Value, reference: &str) -> Option<&'a Value> {
    let fragment = reference.strip_prefix('#')?;
    let decoded = percent_encoding::percent_decode_str(fragment).decode_utf8_lossy();
    document.pointer(&decoded)
}

/// `value`, or what its chain of `$ref`s ends at (itself where a reference does not resolve).
pub fn resolve<'a>(document: &'a Value, value: &'a Value) -> &'a Value {
    let mut current = value;
    for _ in 0..MAX_DEPTH {
        let Some(reference) = current.get("$ref").and_then(Value::as_str) else {
            return current;
        };
        match target(document, reference) {
            Some(next) => current = next,
            None => return current,
        }
    }
    current
}

/// A copy of `schema` with references replaced by their targets (a reference
/// back into its own chain, or past [`MAX_DEPTH`], becomes `{}`) and `allOf`
/// merged into one object schema.
pub fn inline(document: &Value, schema: &Value) -> Value {
    let mut budget = MAX_INLINED_REFERENCES;
    inline_within(document, schema, &mut Vec::new(), &mut budget)
}

/// How many references one inlined schema may expand (documents whose
/// schemas share parts widely would otherwise grow exponentially); past it,
/// references become `{}`.
pub const MAX_INLINED_REFERENCES: usize = 10_000;

fn inline_within(
    document: &Value,
    schema: &Value,
    chain: &mut Vec<String>,
    budget: &mut usize,
) -> Value {
    if chain.len() > MAX_DEPTH {
        return Value::Object(Map::new());
    }
    let Value::Object(object) = schema else {
        return schema.clone();
    };
    if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
        if chain.iter().any(|seen| seen == reference) || *budget == 0 {
            return Value::Object(Map::new());
        }
        *budget -= 1;
        let Some(found) = target(document, reference) else {
            return Value::Object(Map::new());
        };
        chain.push(reference.to_string());
        let inlined = inline_within(document, found, chain, budget);
        chain.pop();
        return inlined;
    }
    let mut out = Map::new();
    for (key, value) in object {
        let inlined = match key.as_str() {
            "properties" | "patternProperties" | "$defs" | "definitions" => match value {
                Value::Object(members) => Value::Object(
                    members
                        .iter()
                        .map(|(name, member)| {
                            (name.clone(), inline_within(document, member, chain, budget))
                        })
                        .collect(),
                ),
                other => other.clone(),
            },
            "items"
            | "additionalProperties"
            | "not"
            | "contains"
            | "propertyNames"
            | "unevaluatedProperties"
            | "unevaluatedItems"
            | "if"
            | "then"
            | "else" => inline_within(document, value, chain, budget),
            "allOf" | "oneOf" | "anyOf" | "prefixItems" => match value {
                Value::Array(members) => Value::Array(
                    members
                        .iter()
                        .map(|member| inline_within(document, member, chain, budget))
                        .collect(),
                ),
                other => other.clone(),
            },
            _ => value.clone(),
        };
        out.insert(key.clone(), inlined);
    }
    match out.remove("allOf") {
        Some(Value::Array(parts)) => merge_all_of(out, parts),
        Some(other) => {
            out.insert("allOf".into(), other);
            Value::Object(out)
        }
        None => Value::Object(out),
    }
}

/// One schema with the properties, required names and other keys of `base` and every part.
fn merge_all_of(base: Map<String, Value>, parts: Vec<Value>) -> Value {
    let mut merged = Map::new();
    let mut properties = Map::new();
    let mut required: Vec<Value> = Vec::new();
    for part in parts {
        absorb(&mut merged, &mut properties, &mut required, part);
    }
    absorb(
        &mut merged,
        &mut properties,
        &mut required,
        Value::Object(base),
    );
    if !properties.is_empty() {
        merged.insert("properties".into(), Value::Object(properties));
        merged
            .entry("type")
            .or_insert_with(|| Value::from("object"));
    }
    if !required.is_empty() {
        merged.insert("required".into(), Value::Array(required));
    }
    Value::Object(merged)
}

fn absorb(
    merged: &mut Map<String, Value>,
    properties: &mut Map<String, Value>,
    required: &mut Vec<Value>,
    part: Value,
) {
    let Value::Object(part) = part else { return };
    for (key, value) in part {
        match (key.as_str(), value) {
            ("properties", Value::Object(members)) => properties.extend(members),
            ("required", Value::Array(names)) => {
                for name in names {
                    if !required.contains(&name) {
                        required.push(name);
                    }
                }
            }
            (_, value) => {
                merged.entry(key).or_insert(value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn all_of_merges_referenced_parts() {
        let document = json!({"components": {"schemas": {
            "New": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
            "Pet": {"allOf": [{"$ref": "#/components/schemas/New"},
                              {"required": ["id"], "properties": {"id": {"type": "integer"}}}]}
        }}});
        let pet = inline(&document, &json!({"$ref": "#/components/schemas/Pet"}));
        assert_eq!(pet["properties"]["id"]["type"], "integer");
        assert_eq!(pet["properties"]["name"]["type"], "string");
        assert_eq!(pet["required"], json!(["name", "id"]));
    }

    #[test]
    fn cycles_are_cut() {
        let document = json!({"components": {"schemas": {
            "Node": {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Node"}}}
        }}});
        let node = inline(&document, &json!({"$ref": "#/components/schemas/Node"}));
        assert_eq!(node["properties"]["next"], json!({}));
    }
}
