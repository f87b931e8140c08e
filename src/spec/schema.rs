//! The JSON Schema (2020-12) of the spec format itself, for editor completion
//! and checking (`standin schema`, and `schema/standin.schema.json` in the
//! repository). `standin check` remains the authority: it also checks what a
//! schema cannot, such as references between resources.

use serde_json::{Value, json};

use super::generators::GENERATORS;
use super::model::FieldType;

fn duration() -> Value {
    json!({
        "description": "A duration like 200ms, 2s or 1.5s; a bare number is milliseconds.",
        "type": ["string", "number"],
        "pattern": "^[0-9.]+ *(ms|s|m|min)?$",
    })
}

fn faults() -> (Value, Value) {
    (
        json!({
            "description": "Delay before every answer: a duration (50ms) or a range (20ms..200ms), drawn at random with the spec's seed.",
            "type": ["string", "number"],
        }),
        json!({
            "description": "Share of requests answered 500, from 0 to 1 (0.05 is 5%), drawn with the spec's seed.",
            "type": "number", "minimum": 0, "maximum": 1,
        }),
    )
}

fn field() -> Value {
    json!({
        "description": "A field: its type alone (`title: string`), or a mapping of JSON Schema keywords and standin's own.",
        "oneOf": [
            { "$ref": "#/$defs/type" },
            {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "type": { "$ref": "#/$defs/type" },
                    "format": { "description": "String format: email, uri, uuid (checked), or date / date-time (same as those types).", "enum": ["email", "uri", "uuid", "date", "date-time"] },
                    "enum": { "description": "The allowed values.", "type": "array", "minItems": 1 },
                    "minimum": { "description": "Smallest allowed number (inclusive).", "type": "number" },
                    "maximum": { "description": "Largest allowed number (inclusive).", "type": "number" },
                    "minLength": { "description": "Shortest allowed string, in characters.", "type": "integer", "minimum": 0 },
                    "maxLength": { "description": "Longest allowed string, in characters.", "type": "integer", "minimum": 0 },
                    "pattern": { "description": "A regular expression strings must match.", "type": "string" },
                    "items": { "description": "For arrays: the definition of each element.", "$ref": "#/$defs/field" },
                    "default": { "description": "Value used when a create or replace leaves the field out." },
                    "required": { "description": "Writes must give a non-null value.", "type": "boolean" },
                    "unique": { "description": "No two live records share a value (409 on a clash).", "type": "boolean" },
                    "fake": { "description": "The generator of fake values; without it, one is inferred from the name, format and type.", "enum": GENERATORS },
                    "ref": { "description": "The resource this field references; its values are ids of that resource.", "type": "string" },
                    "on_delete": { "description": "With ref: what deleting the referenced record does to this one.", "enum": ["restrict", "cascade", "set_null"] },
                    "description": { "description": "Free text for readers of the spec.", "type": "string" },
                    "count": { "description": "A computed field (read-only): the number of live records of this inverse collection (a resource whose `ref` names this one) that reference the record.", "type": "string" },
                    "template": { "description": "A computed field (read-only): a string built from the record's other fields, `{first_name} {last_name}`; `{{` and `}}` are braces, a field without a value reads as empty text.", "type": "string" },
                    "$ref": { "description": "The name of a field in `definitions` this field is: its keys, with this field's own keys winning.", "type": "string" },
                },
            },
        ],
    })
}

fn fields() -> Value {
    json!({
        "description": "The fields, by name; `$use` spreads the fields of field sets from `definitions` among them.",
        "type": "object",
        "properties": {
            "$use": { "description": "Field sets from `definitions` whose fields this resource has too.", "type": ["string", "array"], "items": { "type": "string" } },
        },
        "additionalProperties": { "$ref": "#/$defs/field" },
    })
}

fn definitions() -> Value {
    json!({
        "description": "Reusable definitions, by name: a field (used as `name: { $ref: Name }`) or a field set (`{ fields: ... }`, spread with `$use: [Name]`).",
        "type": "object",
        "propertyNames": { "pattern": "^[A-Za-z][A-Za-z0-9_-]*$" },
        "additionalProperties": {
            "anyOf": [
                {
                    "type": "object",
                    "required": ["fields"],
                    "additionalProperties": false,
                    "properties": {
                        "fields": { "$ref": "#/$defs/fields" },
                        "description": { "description": "Free text for readers of the spec.", "type": "string" },
                    },
                },
                { "$ref": "#/$defs/field" },
            ],
        },
    })
}

fn include() -> Value {
    json!({
        "description": "Other spec files to read: paths or globs (*, ? within a name, ** for any depth), relative to this file. They hold resources, definitions and further includes.",
        "type": ["string", "array"],
        "items": { "type": "string" },
    })
}

/// The JSON Schema of a file a spec includes.
fn fragment() -> Value {
    json!({
        "description": "A file a spec includes: resources, definitions, records of resources defined in any file, and further includes.",
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "$schema": { "type": "string" },
            "include": { "$ref": "#/$defs/include" },
            "definitions": { "$ref": "#/$defs/definitions" },
            "resources": { "type": "object", "additionalProperties": { "$ref": "#/$defs/resource" } },
            "records": {
                "description": "Records to add to resources defined in any file, by resource name: each list is appended to the resource's own records, in the order files are read.",
                "type": "object",
                "additionalProperties": { "type": "array", "items": { "type": "object" } },
            },
        },
    })
}

fn resource() -> Value {
    let (latency, error_rate) = faults();
    json!({
        "description": "A resource: a collection of records of the same shape, served at /{name} and /{name}/{id}.",
        "type": "object",
        "required": ["fields"],
        "additionalProperties": false,
        "properties": {
            "id": { "description": "How ids are made: integer (server-assigned), uuid (server-assigned) or string (client-assigned; PUT creates).", "enum": ["integer", "uuid", "string"] },
            "singular": { "description": "A singular resource (/profile): one record at /{name}, read, replaced and changed with GET, PUT and PATCH; no collection, no id, no count.", "type": "boolean" },
            "record": { "description": "With singular: the one record's seeded value (without it, one record is generated from the fields).", "type": "object" },
            "fields": { "$ref": "#/$defs/fields" },
            "records": { "description": "Fixed records, loaded before the generated ones.", "type": "array", "items": { "type": "object" } },
            "count": { "description": "Number of records to generate.", "type": "integer", "minimum": 0, "maximum": 1000000 },
            "methods": { "description": "Allowed methods (default: all); others answer 405.", "type": "array", "items": { "enum": ["GET", "POST", "PUT", "PATCH", "DELETE"] } },
            "soft_delete": { "description": "Deleted records answer 410 instead of 404.", "type": "boolean" },
            "search": { "description": "Text fields searched by q= (default: every text field).", "type": "array", "items": { "type": "string" } },
            "sort": { "description": "Default order, like -year,title.", "type": ["string", "array"], "items": { "type": "string" } },
            "moved_from": { "description": "Old paths (below base_path) that answer 301 to this collection.", "type": "array", "items": { "type": "string", "pattern": "^/" } },
            "transitions": { "description": "Allowed changes of state by field: { status: { draft: [published] } }; other changes are 409.", "type": "object", "additionalProperties": { "type": "object", "additionalProperties": { "type": "array", "items": { "type": "string" } } } },
            "initial_states": { "description": "The states a record may start in, by field of transitions: { status: [draft] }; default: the first state its transitions list.", "type": "object", "additionalProperties": { "type": "array", "items": { "type": "string" }, "minItems": 1 } },
            "actions": { "description": "Named changes of state: { publish: { status: published } }. Each is POST /{name}/{id}/{action} (no body), allowed while the record's transitions let the field change to that state; each record links the actions it allows now.", "type": "object", "propertyNames": { "pattern": "^[A-Za-z][A-Za-z0-9_-]{0,63}$" }, "additionalProperties": { "type": "object", "minProperties": 1, "maxProperties": 1, "additionalProperties": { "type": "string" } } },
            "async": { "description": "Creates take this long: POST answers 202 with a status monitor.", "$ref": "#/$defs/duration" },
            "require_if_match": { "description": "Writes must send If-Match (else 428).", "type": "boolean" },
            "latency": latency,
            "error_rate": error_rate,
            "description": { "description": "Free text for readers of the spec.", "type": "string" },
        },
    })
}

/// The JSON Schema of a spec file.
pub fn json_schema() -> Value {
    let (latency, error_rate) = faults();
    let scopes = json!({ "type": "array", "items": { "enum": ["read", "write", "admin"] } });
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "standin spec",
        "description": "A resource description that standin serves as a REST API.",
        "type": "object",
        "required": ["standin"],
        "additionalProperties": false,
        "properties": {
            "$schema": { "description": "The JSON Schema of this file, for editors.", "type": "string" },
            "standin": { "description": "Format version.", "const": 1 },
            "title": { "description": "The API's name.", "type": "string" },
            "base_path": { "description": "Prefix of every route, like /api.", "type": "string", "pattern": "^/" },
            "seed": { "description": "Seed of the fake data: the same spec and seed give the same data.", "type": "integer", "minimum": 0 },
            "page_size": { "description": "Records per page when a request does not say.", "type": "integer", "minimum": 1 },
            "max_page_size": { "description": "Largest per_page a request may ask for.", "type": "integer", "minimum": 1, "maximum": 10000 },
            "defaults": {
                "description": "What requests that send no Accept / Prefer are treated as sending.",
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "accept": { "description": "The representation of requests without Accept.", "enum": ["application/hal+json", "application/json"] },
                    "prefer": { "description": "What writes answer without Prefer.", "enum": ["return=representation", "return=minimal"] },
                },
            },
            "auth": {
                "description": "Bearer tokens and their scopes; without it everything is open.",
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "tokens": { "description": "Scopes of each token.", "type": "object", "additionalProperties": scopes },
                    "anonymous": { "description": "Scopes granted without a token.", "type": "array", "items": { "enum": ["read", "write", "admin"] } },
                },
            },
            "cors": { "description": "false, \"*\" (the default) or a list of allowed origins.", "type": ["boolean", "string", "array"], "items": { "type": "string" } },
            "latency": latency,
            "error_rate": error_rate,
            "routes": {
                "description": "Custom routes, as json-server's routes.json: a path pattern (/api/v1/*, /blog/:slug) mapped to the path it is served as ($1, :slug put in), full paths as sent; applied in order, after --routes.",
                "type": "object",
                "propertyNames": { "pattern": "^/" },
                "additionalProperties": { "type": "string", "pattern": "^/" },
                "maxProperties": 100,
            },
            "upstream": {
                "description": "The real service behind this partial mock: routes the spec does not declare are forwarded to it. An http:// or https:// URL, or a mapping with the URL and a timeout.",
                "oneOf": [
                    { "type": "string", "pattern": "^https?://" },
                    {
                        "type": "object",
                        "required": ["url"],
                        "additionalProperties": false,
                        "properties": {
                            "url": { "description": "The upstream's base URL (http:// or https://); the request's path and query are appended to it.", "type": "string", "pattern": "^https?://" },
                            "timeout": { "$ref": "#/$defs/duration", "description": "How long the upstream may take to answer (default 30s); past it the request is answered 504." },
                        },
                    },
                ],
            },
            "resources": { "description": "The resources, by name (with those of the included files, at least one in all).", "type": "object", "additionalProperties": { "$ref": "#/$defs/resource" } },
            "include": { "$ref": "#/$defs/include" },
            "definitions": { "$ref": "#/$defs/definitions" },
        },
        "$defs": {
            "type": { "description": "A field type.", "enum": FieldType::NAMES.iter().copied().chain(["date-time"]).collect::<Vec<_>>() },
            "field": field(),
            "resource": resource(),
            "duration": duration(),
            "fields": fields(),
            "definitions": definitions(),
            "include": include(),
            "fragment": fragment(),
        },
    })
}
