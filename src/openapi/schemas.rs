//! Component schemas of the OpenAPI document: each resource's record as
//! served (plain, HAL, a HAL page) and as written (create/replace, merge
//! patch), JSON Patch, problems, and the admin API's answers.

use serde_json::{Map, Value, json};

use crate::spec::{Field, IdKind, Resource, Spec, field_schema};

/// The schema name of a resource's component (`books` → `Books`).
pub fn name(resource: &str, suffix: &str) -> String {
    let mut capitalised: String = resource
        .split(['_', '-'])
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().collect::<String>() + chars.as_str())
                .unwrap_or_default()
        })
        .collect();
    capitalised.push_str(suffix);
    capitalised
}

/// A `$ref` to a component schema.
pub fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The schema of a resource's ids.
pub fn id_schema(kind: IdKind) -> Value {
    match kind {
        IdKind::Integer => json!({ "type": "integer", "minimum": 1 }),
        IdKind::Uuid => json!({ "type": "string", "format": "uuid" }),
        IdKind::String => json!({ "type": "string", "minLength": 1 }),
    }
}

/// A field's schema, also allowing `null` (an optional field without a value).
fn nullable(field: &Field) -> Value {
    let mut schema = field_schema(field);
    if let Some(object) = schema.as_object_mut() {
        if let Some(kind) = object.get("type").cloned() {
            object.insert("type".into(), json!([kind, "null"]));
        }
        if let Some(Value::Array(values)) = object.get_mut("enum") {
            values.push(Value::Null);
        }
    }
    schema
}

/// A field as a write sends it: its schema, or null where it is optional;
/// integers within the 64 bits the store keeps.
fn written_field(field: &Field) -> Value {
    let mut schema = if field.required {
        field_schema(field)
    } else {
        nullable(field)
    };
    bound_integers(&mut schema);
    if schema["format"] == "date" {
        // A format alone is an annotation in OpenAPI 3.1; the store checks it.
        schema["pattern"] = json!("^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$");
    }
    schema
}

/// Gives integer schemas (and their array items) the range of a 64-bit integer
/// where the field sets no bound of its own.
fn bound_integers(schema: &mut Value) {
    let is_integer = match &schema["type"] {
        Value::String(kind) => kind == "integer",
        Value::Array(kinds) => kinds.iter().any(|kind| kind == "integer"),
        _ => false,
    };
    if let Some(object) = schema.as_object_mut() {
        if is_integer {
            object.entry("minimum").or_insert(json!(i64::MIN));
            object.entry("maximum").or_insert(json!(i64::MAX));
        }
        if let Some(items) = object.get_mut("items") {
            bound_integers(items);
        }
    }
}

/// A field as served: its type, or null; a reference may also be the embedded record.
fn served_field(field: &Field) -> Value {
    if let Some(computed) = &field.computed {
        let (kind, description) = match computed {
            crate::spec::Computed::Count { inverse, .. } => (
                json!({ "type": "integer", "minimum": 0 }),
                format!(
                    "computed by the server: the number of live {inverse} referencing this record"
                ),
            ),
            crate::spec::Computed::Template(_) => (
                json!({ "type": "string" }),
                "computed by the server from the record's other fields".to_string(),
            ),
        };
        let mut schema = kind;
        schema["readOnly"] = json!(true);
        schema["description"] = json!(description);
        return schema;
    }
    if field.reference.is_some() {
        let kind = field_schema(field)["type"].clone();
        return json!({ "type": [kind, "object", "null"], "description": "the id of the referenced record (the record itself when embedded in plain JSON)" });
    }
    nullable(field)
}

fn record(resource: &Resource) -> Value {
    let mut properties = Map::new();
    if !resource.singular {
        properties.insert("id".into(), id_schema(resource.id));
    }
    for field in &resource.fields {
        properties.insert(field.name.clone(), served_field(field));
    }
    properties.insert(
        "created_at".into(),
        json!({ "type": "string", "format": "date-time" }),
    );
    properties.insert(
        "updated_at".into(),
        json!({ "type": "string", "format": "date-time" }),
    );
    // No `required`: sparse fieldsets (`fields=`) leave any property out.
    json!({ "type": "object", "properties": properties })
}

fn hal_record(resource: &Resource) -> Value {
    json!({
        "allOf": [reference(&name(&resource.name, ""))],
        "properties": {
            "_links": { "type": "object", "additionalProperties": { "$ref": "#/components/schemas/standin.HalLink" } },
            "_embedded": { "type": "object" },
        },
    })
}

fn hal_page(resource: &Resource) -> Value {
    json!({
        "type": "object",
        "required": ["_links", "total", "page", "per_page", "pages", "_embedded"],
        "properties": {
            "_links": { "type": "object", "additionalProperties": { "$ref": "#/components/schemas/standin.HalLink" } },
            "total": { "type": "integer", "minimum": 0 },
            "page": { "type": "integer", "minimum": 1 },
            "per_page": { "type": "integer", "minimum": 1 },
            "pages": { "type": "integer", "minimum": 1 },
            "_embedded": {
                "type": "object",
                "properties": { resource.name.clone(): { "type": "array", "items": reference(&name(&resource.name, "Hal")) } },
            },
        },
    })
}

/// The fields a create or replace sends, with their schemas, and the names
/// it must send: required fields without a default (and, for a create where
/// ids are client-assigned, the id). `omit` is a field the URL sets (the
/// reference of a create in an inverse collection).
fn writable(
    resource: &Resource,
    create: bool,
    omit: Option<&str>,
) -> (Map<String, Value>, Vec<String>) {
    let mut properties = Map::new();
    // A replace may repeat the id of its URL, but a schema cannot say which
    // id that is: only a create where ids are client-assigned names one.
    if create && resource.id == IdKind::String {
        properties.insert("id".into(), id_schema(IdKind::String));
    }
    let kept = resource
        .fields
        .iter()
        .filter(|field| Some(field.name.as_str()) != omit && !field.is_computed());
    for field in kept.clone() {
        properties.insert(field.name.clone(), written_field(field));
    }
    let mut required: Vec<String> = kept
        .filter(|field| field.required && field.default.is_none())
        .map(|field| field.name.clone())
        .collect();
    if create && resource.id == IdKind::String {
        required.insert(0, "id".into());
    }
    (properties, required)
}

/// The body of a create or replace, as JSON.
pub fn write(resource: &Resource, create: bool, omit: Option<&str>) -> Value {
    let (properties, required) = writable(resource, create, omit);
    json!({ "type": "object", "properties": properties, "required": required, "additionalProperties": false })
}

/// A JSON patch of the resource's fields: `add` or `replace` a field with a
/// value of its schema, `remove` an optional one, or `test` one (a failed
/// test is `409`). The server takes any RFC 6902 patch; this describes those
/// that can succeed.
fn json_patch(resource: &Resource) -> Value {
    let mut operations = Vec::new();
    for field in resource.fields.iter().filter(|field| !field.is_computed()) {
        let path = format!("/{}", field.name);
        let value = patch_value(field);
        operations.push(json!({
            "type": "object",
            "required": ["op", "path", "value"],
            "properties": { "op": { "enum": ["add", "replace"] }, "path": { "const": path }, "value": value },
        }));
        if !field.required {
            operations.push(json!({
                "type": "object",
                "required": ["op", "path"],
                "properties": { "op": { "const": "remove" }, "path": { "const": path } },
            }));
        }
        operations.push(json!({
            "type": "object",
            "required": ["op", "path", "value"],
            "properties": { "op": { "const": "test" }, "path": { "const": path }, "value": {} },
        }));
    }
    json!({
        "type": "array",
        "description": "An RFC 6902 JSON patch.",
        "maxItems": crate::patch::MAX_JSON_PATCH_OPERATIONS,
        "items": { "oneOf": operations },
    })
}

/// The `value` a JSON patch may set `field` to: as a write sends it, but an
/// optional field with a format as either its schema or null (`anyOf`), not
/// a list of types: schemathesis 4.32's coverage phase fills a required
/// `value` of `type: [string, null]` with "", losing the `format`, and
/// expects the server to take it.
fn patch_value(field: &Field) -> Value {
    let value = written_field(field);
    if field.required || value.get("format").is_none() {
        return value;
    }
    let mut present = value;
    if let Some(Value::Array(kinds)) = present.get_mut("type") {
        kinds.retain(|kind| kind != "null");
        if let [kind] = kinds.as_slice() {
            present["type"] = kind.clone();
        }
    }
    if let Some(Value::Array(values)) = present.get_mut("enum") {
        values.retain(|value| !value.is_null());
    }
    json!({ "anyOf": [present, { "type": "null" }] })
}

/// A merge patch: any of the fields; `null` removes an optional one.
fn merge_patch(resource: &Resource) -> Value {
    let properties: Map<String, Value> = resource
        .fields
        .iter()
        .filter(|field| !field.is_computed())
        .map(|field| (field.name.clone(), written_field(field)))
        .collect();
    json!({ "type": "object", "properties": properties, "additionalProperties": false })
}

/// Every component schema of the document.
pub fn components(spec: &Spec) -> Map<String, Value> {
    let mut schemas = Map::new();
    for resource in &spec.resources {
        schemas.insert(name(&resource.name, ""), record(resource));
        schemas.insert(name(&resource.name, "Hal"), hal_record(resource));
        schemas.insert(name(&resource.name, "Write"), write(resource, false, None));
        if !resource.singular {
            schemas.insert(name(&resource.name, "Page"), hal_page(resource));
            schemas.insert(name(&resource.name, "Create"), write(resource, true, None));
        }
        schemas.insert(name(&resource.name, "JsonPatch"), json_patch(resource));
        schemas.insert(name(&resource.name, "MergePatch"), merge_patch(resource));
    }
    schemas.insert(
        "standin.HalLink".into(),
        json!({
            "type": "object",
            "required": ["href"],
            "properties": { "href": { "type": "string" }, "templated": { "type": "boolean" }, "name": { "type": "string" }, "title": { "type": "string" } },
        }),
    );
    schemas.insert("standin.Problem".into(), json!({
        "type": "object",
        "description": "An RFC 9457 problem.",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": { "type": "string" },
            "title": { "type": "string" },
            "status": { "type": "integer", "minimum": 100, "maximum": 599 },
            "detail": { "type": "string" },
            "parameter": { "type": "string", "description": "the query parameter at fault" },
            "available": { "type": "array", "items": { "type": "string" } },
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["field", "message"],
                    "properties": { "field": { "type": "string" }, "message": { "type": "string" } },
                },
            },
        },
    }));
    schemas.insert(
        "standin.CollectionJson".into(),
        json!({
            "type": "object",
            "description": "A Collection+JSON 1.0 document.",
            "required": ["collection"],
            "properties": { "collection": { "type": "object", "required": ["version", "href"] } },
        }),
    );
    schemas.insert("standin.Job".into(), json!({
        "type": "object",
        "required": ["status"],
        "properties": { "status": { "enum": ["pending", "failed"] }, "problem": reference("standin.Problem"), "_links": { "type": "object" } },
    }));
    schemas.insert("standin.Object".into(), json!({ "type": "object" }));
    schemas
}
