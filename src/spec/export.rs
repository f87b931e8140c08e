//! The normalised spec as JSON, for `GET /_standin/spec`: every default made
//! explicit, every field in its long form.

use serde_json::{Map, Value, json};

use super::fields::field_schema;
use super::model::{Computed, Field, IdKind, OnDelete, Return, Spec, TemplatePart};

/// A field in its long form.
pub fn field_to_json(field: &Field) -> Value {
    if let Some(computed) = &field.computed {
        return computed_to_json(computed);
    }
    let mut object = match field_schema(field) {
        Value::Object(object) => object,
        _ => Map::new(),
    };
    object.insert("required".into(), json!(field.required));
    object.insert("unique".into(), json!(field.unique));
    if let Some(default) = &field.default {
        object.insert("default".into(), default.clone());
    }
    if let Some(fake) = &field.fake {
        object.insert("fake".into(), json!(fake));
    }
    if let Some(reference) = &field.reference {
        object.insert("ref".into(), json!(reference.resource));
        let on_delete = match reference.on_delete {
            OnDelete::Restrict => "restrict",
            OnDelete::Cascade => "cascade",
            OnDelete::SetNull => "set_null",
        };
        object.insert("on_delete".into(), json!(on_delete));
    }
    Value::Object(object)
}

/// A computed field in its long form: its type, what it computes, read-only.
fn computed_to_json(computed: &Computed) -> Value {
    let (kind, key, value) = match computed {
        Computed::Count { inverse, .. } => ("integer", "count", json!(inverse)),
        Computed::Template(parts) => {
            let text: String = parts
                .iter()
                .map(|part| match part {
                    TemplatePart::Text(text) => text.replace('{', "{{").replace('}', "}}"),
                    TemplatePart::Field(name) => format!("{{{name}}}"),
                })
                .collect();
            ("string", "template", json!(text))
        }
    };
    json!({ "type": kind, key: value })
}

/// The spec with its defaults filled in.
pub fn to_json(spec: &Spec) -> Value {
    let resources: Map<String, Value> = spec
        .resources
        .iter()
        .map(|resource| {
            let fields: Map<String, Value> = resource
                .fields
                .iter()
                .map(|field| (field.name.clone(), field_to_json(field)))
                .collect();
            let sort: Vec<String> = resource
                .default_sort
                .iter()
                .map(|key| format!("{}{}", if key.descending { "-" } else { "" }, key.column))
                .collect();
            let mut object = json!({
                "id": match resource.id {
                    IdKind::Integer => "integer",
                    IdKind::Uuid => "uuid",
                    IdKind::String => "string",
                },
                "fields": fields,
                "records": resource.records,
                "count": resource.count,
                "methods": resource.methods.iter().map(|method| method.as_str()).collect::<Vec<_>>(),
                "soft_delete": resource.soft_delete,
                "search": resource.search,
                "sort": sort,
            });
            if let Value::Object(map) = &mut object {
                if resource.singular {
                    // What a singular resource may say, so the export parses again.
                    for key in ["id", "records", "count", "soft_delete", "search", "sort"] {
                        map.remove(key);
                    }
                    map.insert("singular".into(), json!(true));
                    if let Some(record) = resource.records.first() {
                        map.insert("record".into(), Value::Object(record.clone()));
                    }
                }
                map.extend(resource.extensions.clone());
            }
            (resource.name.clone(), object)
        })
        .collect();
    let mut object = json!({
        "standin": 1,
        "title": spec.title,
        "base_path": if spec.base_path.is_empty() { "/" } else { spec.base_path.as_str() },
        "seed": spec.seed,
        "page_size": spec.page_size,
        "max_page_size": spec.max_page_size,
        "defaults": { "accept": spec.defaults.accept },
        "resources": resources,
    });
    if let Some(prefer) = spec.defaults.prefer {
        object["defaults"]["prefer"] = json!(match prefer {
            Return::Minimal => "return=minimal",
            Return::Representation => "return=representation",
        });
    }
    if let Value::Object(map) = &mut object {
        if let Some(routes) = &spec.routes {
            map.insert("routes".into(), Value::Object(routes.document().clone()));
        }
        map.extend(spec.extensions.clone());
    }
    object
}
