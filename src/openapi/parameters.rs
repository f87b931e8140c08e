//! Query parameters of the OpenAPI document: paging, sort, search, embed,
//! sparse fields, a filter per field with each operator it takes, and the
//! json-server and react-admin dialects.

use serde_json::{Value, json};

use crate::query::Operator;
use crate::spec::{FieldType, IdKind, Resource, Spec, field_schema};

fn parameter(name: &str, schema: Value, description: &str) -> Value {
    json!({ "name": name, "in": "query", "required": false, "schema": schema, "description": description })
}

/// The scalar schema a filter on `field` compares with, and whether it is text.
fn filter_schema(spec: &Spec, resource: &Resource, field: &str) -> Option<(Value, FieldType)> {
    let field = resource.field(field)?;
    if let Some(reference) = &field.reference {
        let target = spec.resource(&reference.resource)?;
        let kind = if target.id == IdKind::Integer {
            FieldType::Integer
        } else {
            FieldType::String
        };
        return Some((super::schemas::id_schema(target.id), kind));
    }
    let mut schema = field_schema(field);
    if let Some(object) = schema.as_object_mut() {
        // A filter value need not satisfy the field's constraints to be asked about.
        for keyword in [
            "minimum",
            "maximum",
            "minLength",
            "maxLength",
            "pattern",
            "enum",
            "items",
        ] {
            object.remove(keyword);
        }
    }
    Some((schema, field.kind))
}

/// Every query parameter a collection of `resource` takes.
pub fn collection(spec: &Spec, resource: &Resource) -> Vec<Value> {
    let page = json!({ "type": "integer", "minimum": 1 });
    let size = json!({ "type": "integer", "minimum": 1, "maximum": spec.max_page_size });
    let mut parameters = vec![
        parameter("page", page.clone(), "1-based page number"),
        parameter("per_page", size.clone(), "records per page"),
        parameter(
            "sort",
            json!({ "type": "string" }),
            "order, like -year,title; ties are broken by id",
        ),
        parameter(
            "fields",
            json!({ "type": "string" }),
            "comma-separated fields to keep in each item",
        ),
        parameter(
            "embed",
            json!({ "type": "string" }),
            "comma-separated references or inverses to embed",
        ),
        parameter("_page", page, "json-server: page"),
        parameter("_per_page", size.clone(), "json-server: per_page"),
        parameter("_limit", size, "json-server: records per page"),
        parameter(
            "_start",
            json!({ "type": "integer", "minimum": 0 }),
            "json-server: index of the first record",
        ),
        parameter(
            "_end",
            json!({ "type": "integer", "minimum": 0 }),
            "json-server: index after the last record",
        ),
        parameter(
            "_sort",
            json!({ "type": "string" }),
            "json-server: fields to sort by",
        ),
        parameter(
            "_order",
            json!({ "type": "string" }),
            "json-server: asc or desc for each _sort field",
        ),
        parameter("_embed", json!({ "type": "string" }), "json-server: embed"),
        parameter(
            "_expand",
            json!({ "type": "string" }),
            "json-server: embed a reference",
        ),
        parameter(
            "range",
            json!({ "type": "string" }),
            "react-admin: [first, last] (answered with Content-Range)",
        ),
        parameter(
            "filter",
            json!({ "type": "string" }),
            "react-admin: a JSON object of filters",
        ),
    ];
    if !resource.search.is_empty() {
        parameters.push(parameter(
            "q",
            json!({ "type": "string" }),
            "words to find in the search fields",
        ));
    }
    let mut columns: Vec<(String, Value, FieldType)> = vec![
        (
            "id".into(),
            super::schemas::id_schema(resource.id),
            if resource.id == IdKind::Integer {
                FieldType::Integer
            } else {
                FieldType::String
            },
        ),
        (
            "created_at".into(),
            json!({ "type": "string" }),
            FieldType::DateTime,
        ),
        (
            "updated_at".into(),
            json!({ "type": "string" }),
            FieldType::DateTime,
        ),
    ];
    for field in &resource.fields {
        if let Some((schema, kind)) = filter_schema(spec, resource, &field.name) {
            columns.push((field.name.clone(), schema, kind));
        }
    }
    for (name, schema, kind) in columns {
        let array_of = |schema: &Value| json!({ "type": "array", "items": schema });
        match kind {
            FieldType::Object => {}
            FieldType::Array => {
                let item = resource
                    .field(&name)
                    .and_then(|field| field.items.as_deref())
                    .map(field_schema)
                    .unwrap_or(json!({ "type": "string" }));
                parameters.push(parameter(
                    &format!("{name}__contains"),
                    item,
                    "arrays containing the value",
                ));
            }
            _ => {
                let mut equality =
                    parameter(&name, array_of(&schema), "equal to any of the values");
                equality["style"] = json!("form");
                equality["explode"] = json!(true);
                parameters.push(equality);
                for (suffix, operator) in Operator::SUFFIXES {
                    let applies = match operator {
                        Operator::IsNull | Operator::Ne | Operator::Eq => true,
                        Operator::Lt | Operator::Lte | Operator::Gt | Operator::Gte => {
                            kind != FieldType::Boolean
                        }
                        Operator::Contains
                        | Operator::StartsWith
                        | Operator::Like
                        | Operator::Includes => kind == FieldType::String,
                    };
                    if !applies || (suffix == "like") {
                        continue;
                    }
                    let value = match operator {
                        Operator::IsNull => json!({ "type": "boolean" }),
                        Operator::Eq => {
                            json!({ "type": "string", "description": "comma-separated values" })
                        }
                        _ => schema.clone(),
                    };
                    parameters.push(parameter(
                        &format!("{name}__{suffix}"),
                        value,
                        &format!("{name} {suffix}"),
                    ));
                }
                if kind != FieldType::Boolean {
                    for suffix in ["gte", "lte"] {
                        parameters.push(parameter(
                            &format!("{name}_{suffix}"),
                            schema.clone(),
                            "json-server",
                        ));
                    }
                }
                parameters.push(parameter(
                    &format!("{name}_ne"),
                    schema.clone(),
                    "json-server",
                ));
                if kind == FieldType::String {
                    parameters.push(parameter(
                        &format!("{name}_like"),
                        json!({ "type": "string" }),
                        "json-server: a regular expression, ignoring case",
                    ));
                }
            }
        }
    }
    parameters
}

/// The query parameters of an item.
pub fn item() -> Vec<Value> {
    vec![
        parameter(
            "fields",
            json!({ "type": "string" }),
            "comma-separated fields to keep",
        ),
        parameter(
            "embed",
            json!({ "type": "string" }),
            "comma-separated references or inverses to embed",
        ),
        parameter("_embed", json!({ "type": "string" }), "json-server: embed"),
        parameter(
            "_expand",
            json!({ "type": "string" }),
            "json-server: embed a reference",
        ),
    ]
}
