//! Values generated from a JSON Schema of the document, deterministic by
//! seed: objects with their properties, arrays, and scalars from standin's
//! fake-data generator (realistic by property name, within formats, enums,
//! patterns, bounds and lengths). Callers validate what they get.

use serde_json::{Map, Value, json};

use super::refs;
use crate::fake::Faker;
use crate::spec::{Field, FieldType, Format, Values};

/// How deep generated objects and arrays nest; deeper, only required properties are filled.
const FULL_DEPTH: usize = 4;
/// Past this depth nothing more is generated.
const MAX_DEPTH: usize = 12;

/// Generates values from the schemas of one document.
pub struct Generator<'a> {
    document: &'a Value,
    faker: Faker,
}

impl<'a> Generator<'a> {
    /// A generator whose values depend only on `seed` and `stream`.
    pub fn new(document: &'a Value, seed: u64, stream: &str) -> Generator<'a> {
        Generator {
            document,
            faker: Faker::new(seed, stream),
        }
    }

    /// A value of `schema`, for a property called `name`.
    pub fn value(&mut self, schema: &Value, name: &str) -> Value {
        self.at(schema, name, 0)
    }

    fn at(&mut self, schema: &Value, name: &str, depth: usize) -> Value {
        let schema = refs::resolve(self.document, schema);
        let Value::Object(object) = schema else {
            return json!(name);
        };
        if depth > MAX_DEPTH {
            return Value::Null;
        }
        if let Some(constant) = object.get("const") {
            return constant.clone();
        }
        if let Some(Value::Array(allowed)) = object.get("enum")
            && !allowed.is_empty()
        {
            let non_null: Vec<&Value> = allowed.iter().filter(|value| !value.is_null()).collect();
            if non_null.is_empty() {
                return Value::Null;
            }
            return non_null[self.faker.index(non_null.len())].clone();
        }
        if let Some(Value::Array(parts)) = object.get("allOf") {
            let mut merged = Map::new();
            let mut other = None;
            for part in parts {
                match self.at(part, name, depth + 1) {
                    Value::Object(members) => merged.extend(members),
                    value => other = other.or(Some(value)),
                }
            }
            let own = without(object, "allOf");
            if let Value::Object(members) = self.at(&own, name, depth)
                && (own.get("properties").is_some() || own.get("type") == Some(&json!("object")))
            {
                merged.extend(members);
            }
            return match other {
                Some(value) if merged.is_empty() => value,
                _ => Value::Object(merged),
            };
        }
        for keyword in ["oneOf", "anyOf"] {
            if let Some(Value::Array(branches)) = object.get(keyword)
                && let Some(first) = branches.first()
            {
                let mut value = self.at(first, name, depth + 1);
                // The discriminator names the branch the value was made from.
                if let (Value::Object(members), Some((property, values))) =
                    (&mut value, super::schema::discriminator(object))
                    && let Some(reference) = first.get("$ref").and_then(Value::as_str)
                    && let Some((chosen, _)) = values.iter().find(|(_, of)| of == reference)
                {
                    members.insert(property, Value::from(chosen.as_str()));
                }
                // Properties beside oneOf/anyOf apply too.
                if let (Value::Object(members), Some(_)) = (&mut value, object.get("properties"))
                    && let Value::Object(own) = self.at(&without(object, keyword), name, depth)
                {
                    for (key, member) in own {
                        members.entry(key).or_insert(member);
                    }
                }
                return value;
            }
        }
        match kind(object).as_str() {
            "object" => self.object(object, depth),
            "array" => self.array(object, name, depth),
            "null" => Value::Null,
            scalar => self.scalar(object, scalar, name),
        }
    }

    fn object(&mut self, object: &Map<String, Value>, depth: usize) -> Value {
        let required: Vec<&str> = object
            .get("required")
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut out = Map::new();
        if let Some(Value::Object(properties)) = object.get("properties") {
            for (name, schema) in properties {
                if depth >= FULL_DEPTH && !required.contains(&name.as_str()) {
                    continue;
                }
                // Generated values are answers: what only requests send stays out.
                if refs::resolve(self.document, schema).get("writeOnly") == Some(&Value::Bool(true))
                {
                    continue;
                }
                out.insert(name.clone(), self.at(schema, name, depth + 1));
            }
        }
        Value::Object(out)
    }

    fn array(&mut self, object: &Map<String, Value>, name: &str, depth: usize) -> Value {
        let minimum = object.get("minItems").and_then(Value::as_u64).unwrap_or(0);
        let maximum = object.get("maxItems").and_then(Value::as_u64).unwrap_or(3);
        let wanted = if depth >= FULL_DEPTH {
            minimum
        } else {
            minimum.max(maximum.min(2))
        };
        let Some(items) = object.get("items") else {
            return Value::Array(Vec::new());
        };
        let unique = object.get("uniqueItems") == Some(&Value::Bool(true));
        let mut out: Vec<Value> = Vec::new();
        for _ in 0..wanted.saturating_mul(4).min(64) {
            if out.len() as u64 >= wanted {
                break;
            }
            let value = self.at(items, name, depth + 1);
            if !unique || !out.contains(&value) {
                out.push(value);
            }
        }
        Value::Array(out)
    }

    fn scalar(&mut self, object: &Map<String, Value>, kind: &str, name: &str) -> Value {
        let format = object.get("format").and_then(Value::as_str).unwrap_or("");
        if kind == "string" {
            let fixed = match format {
                "ipv4" => Some("192.0.2.10"),
                "ipv6" => Some("2001:db8::10"),
                "hostname" | "idn-hostname" => Some("example.com"),
                "time" => Some("12:30:00Z"),
                "byte" => Some("c3RhbmRpbg=="),
                "duration" => Some("P1D"),
                "uri-reference" | "iri-reference" => Some("/example"),
                "uri-template" => Some("/example/{id}"),
                "json-pointer" => Some("/example"),
                "regex" => Some("^[a-z]+$"),
                _ => None,
            };
            if let Some(text) = fixed {
                return json!(text);
            }
        }
        let field = field_of(object, kind, format, name);
        let value = self.faker.value(&field);
        if fits(&field, &value) {
            return value;
        }
        Values::of(&field, 1)
            .take(200)
            .find(|candidate| fits(&field, candidate))
            .unwrap_or(value)
    }
}

/// The type a schema's values take: its `type` (the first not `null`), else what its keywords suggest.
fn kind(object: &Map<String, Value>) -> String {
    match object.get("type") {
        Some(Value::String(kind)) => return kind.clone(),
        Some(Value::Array(kinds)) => {
            if let Some(kind) = kinds
                .iter()
                .filter_map(Value::as_str)
                .find(|k| *k != "null")
            {
                return kind.to_string();
            }
            return "null".to_string();
        }
        _ => {}
    }
    if object.contains_key("properties") || object.contains_key("additionalProperties") {
        "object".into()
    } else if object.contains_key("items") {
        "array".into()
    } else if object.contains_key("minimum") || object.contains_key("maximum") {
        "number".into()
    } else {
        "string".into()
    }
}

fn without(object: &Map<String, Value>, keyword: &str) -> Value {
    let mut rest = object.clone();
    rest.remove(keyword);
    Value::Object(rest)
}

/// A standin field with the schema's scalar constraints, for the fake-data generator.
fn field_of(object: &Map<String, Value>, kind: &str, format: &str, name: &str) -> Field {
    let number = |key: &str| object.get(key).and_then(Value::as_f64);
    let length = |key: &str| object.get(key).and_then(Value::as_u64);
    let integer = kind == "integer";
    let step = if integer { 1.0 } else { 1e-6 };
    let minimum = number("minimum").or_else(|| number("exclusiveMinimum").map(|m| m + step));
    let maximum = number("maximum").or_else(|| number("exclusiveMaximum").map(|m| m - step));
    let field_type = match (kind, format) {
        ("integer", _) => FieldType::Integer,
        ("number", _) => FieldType::Number,
        ("boolean", _) => FieldType::Boolean,
        ("string", "date") => FieldType::Date,
        ("string", "date-time") => FieldType::DateTime,
        _ => FieldType::String,
    };
    Field {
        name: name.to_string(),
        kind: field_type,
        required: true,
        unique: false,
        default: None,
        allowed: None,
        minimum,
        maximum,
        min_length: length("minLength"),
        max_length: length("maxLength"),
        pattern: object
            .get("pattern")
            .and_then(Value::as_str)
            .and_then(|pattern| regex::Regex::new(pattern).ok()),
        format: match format {
            "email" | "idn-email" => Some(Format::Email),
            "uri" | "url" | "iri" => Some(Format::Uri),
            "uuid" => Some(Format::Uuid),
            _ => None,
        },
        items: None,
        fake: None,
        reference: None,
        reachable_states: None,
        computed: None,
    }
}

/// Whether `value` meets `field`'s length, pattern and bound constraints.
fn fits(field: &Field, value: &Value) -> bool {
    match value {
        Value::String(text) => {
            let length = text.chars().count() as u64;
            field.min_length.is_none_or(|min| length >= min)
                && field.max_length.is_none_or(|max| length <= max)
                && field.pattern.as_ref().is_none_or(|p| p.is_match(text))
        }
        Value::Number(number) => number.as_f64().is_some_and(|n| {
            field.minimum.is_none_or(|min| n >= min) && field.maximum.is_none_or(|max| n <= max)
        }),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_that_compose_themselves_end() {
        let document = json!({"components": {"schemas": {
            "Loop": {"allOf": [{"$ref": "#/components/schemas/Loop"}], "oneOf": [{"$ref": "#/components/schemas/Loop"}]}
        }}});
        let value = Generator::new(&document, 1, "loop")
            .value(&json!({"$ref": "#/components/schemas/Loop"}), "x");
        assert!(value.is_object() || value.is_null(), "{value}");
    }

    #[test]
    fn generated_objects_follow_their_schema() {
        let document = json!({"components": {"schemas": {"Pet": {
            "type": "object", "required": ["name"],
            "properties": {"name": {"type": "string", "maxLength": 5},
                           "age": {"type": "integer", "minimum": 1, "maximum": 3},
                           "kind": {"enum": ["cat", "dog"]}}
        }}}});
        let schema = json!({"$ref": "#/components/schemas/Pet"});
        let validator = crate::import::openapi::schema::validator(&document, &schema).unwrap();
        let mut generator = Generator::new(&document, 1, "pets");
        for _ in 0..20 {
            let value = generator.value(&schema, "pet");
            assert!(validator.is_valid(&value), "{value}");
        }
        let again = Generator::new(&document, 1, "pets").value(&schema, "pet");
        assert_eq!(
            again,
            Generator::new(&document, 1, "pets").value(&schema, "pet")
        );
    }
}
