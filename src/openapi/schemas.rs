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

/// A field as served: its type, or null; a reference may also be the embedded record.
fn served_field(field: &Field) -> Value {
    if field.reference.is_some() {
        let kind = field_schema(field)["type"].clone();
        return json!({ "type": [kind, "object", "null"], "description": "the id of the referenced record (the record itself when embedded in plain JSON)" });
    }
    nullable(field)
}

fn record(resource: &Resource) -> Value {
    let mut properties = Map::new();
    properties.insert("id".into(), id_schema(resource.id));
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
            "_links": { "type": "object", "additionalProperties": { "$ref": "#/components/schemas/HalLink" } },
            "_embedded": { "type": "object" },
        },
    })
}

fn hal_page(resource: &Resource) -> Value {
    json!({
        "type": "object",
        "required": ["_links", "total", "page", "per_page", "pages", "_embedded"],
        "properties": {
            "_links": { "type": "object", "additionalProperties": { "$ref": "#/components/schemas/HalLink" } },
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

/// The body of a create or replace: the fields, required ones required (and,
/// for a create where ids are client-assigned, the id).
fn write(resource: &Resource, create: bool) -> Value {
    let mut properties = Map::new();
    if resource.id == IdKind::String {
        properties.insert("id".into(), id_schema(IdKind::String));
    }
    for field in &resource.fields {
        let schema = if field.required {
            field_schema(field)
        } else {
            nullable(field)
        };
        properties.insert(field.name.clone(), schema);
    }
    let mut required: Vec<&str> = resource
        .fields
        .iter()
        .filter(|field| field.required && field.default.is_none())
        .map(|field| field.name.as_str())
        .collect();
    if create && resource.id == IdKind::String {
        required.insert(0, "id");
    }
    json!({ "type": "object", "properties": properties, "required": required, "additionalProperties": false })
}

/// A merge patch: any of the fields; `null` removes an optional one.
fn merge_patch(resource: &Resource) -> Value {
    let properties: Map<String, Value> = resource
        .fields
        .iter()
        .map(|field| {
            (
                field.name.clone(),
                if field.required {
                    field_schema(field)
                } else {
                    nullable(field)
                },
            )
        })
        .collect();
    json!({ "type": "object", "properties": properties, "additionalProperties": false })
}

/// Every component schema of the document.
pub fn components(spec: &Spec) -> Map<String, Value> {
    let mut schemas = Map::new();
    for resource in &spec.resources {
        schemas.insert(name(&resource.name, ""), record(resource));
        schemas.insert(name(&resource.name, "Hal"), hal_record(resource));
        schemas.insert(name(&resource.name, "Page"), hal_page(resource));
        schemas.insert(name(&resource.name, "Write"), write(resource, false));
        schemas.insert(name(&resource.name, "Create"), write(resource, true));
        schemas.insert(name(&resource.name, "MergePatch"), merge_patch(resource));
    }
    schemas.insert(
        "HalLink".into(),
        json!({
            "type": "object",
            "required": ["href"],
            "properties": { "href": { "type": "string" }, "templated": { "type": "boolean" } },
        }),
    );
    schemas.insert("Problem".into(), json!({
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
        "JsonPatch".into(),
        json!({
            "type": "array",
            "description": "An RFC 6902 JSON patch.",
            "items": {
                "type": "object",
                "required": ["op", "path"],
                "properties": {
                    "op": { "enum": ["add", "remove", "replace", "move", "copy", "test"] },
                    "path": { "type": "string" },
                    "from": { "type": "string" },
                    "value": {},
                },
            },
        }),
    );
    schemas.insert(
        "CollectionJson".into(),
        json!({
            "type": "object",
            "description": "A Collection+JSON 1.0 document.",
            "required": ["collection"],
            "properties": { "collection": { "type": "object", "required": ["version", "href"] } },
        }),
    );
    schemas.insert("CollectionJsonTemplate".into(), json!({
        "type": "object",
        "required": ["template"],
        "properties": {
            "template": {
                "type": "object",
                "required": ["data"],
                "properties": {
                    "data": {
                        "type": "array",
                        "items": { "type": "object", "required": ["name"], "properties": { "name": { "type": "string" }, "value": {} } },
                    },
                },
            },
        },
    }));
    schemas.insert("Job".into(), json!({
        "type": "object",
        "required": ["status"],
        "properties": { "status": { "enum": ["pending", "failed"] }, "problem": reference("Problem"), "_links": { "type": "object" } },
    }));
    schemas.insert("Object".into(), json!({ "type": "object" }));
    schemas
}
