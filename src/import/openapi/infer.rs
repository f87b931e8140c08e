//! Resources inferred from an OpenAPI document's paths: a collection path and
//! its item path (`/pets` + `/pets/{petId}`) make a resource, whose items'
//! shape comes from the item GET's response (or the collection's array
//! items, or the create body), and whose id is the item parameter's property.
//! A collection nested in another's item (`/articles/{slug}/comments`) makes
//! a resource whose records reference their parent record, with or without
//! an item path of its own.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::api::{Note, Operation, ParentLink, ResourceMap, Role, Segment, escape, same_shape};
use super::refs;

/// A resource inferred from the document, before it becomes a spec resource.
#[derive(Debug)]
pub struct Inferred {
    /// Where it appears in the document.
    pub map: ResourceMap,
    /// standin's resource definition (`id`, `fields`, `methods`).
    pub definition: Value,
    /// The item schema as the document writes it (converted), for generating records.
    pub item_schema: Value,
}

/// Infers the resources of `operations`, giving each CRUD operation its role.
pub fn resources(
    document: &Value,
    operations: &mut [Operation],
    notes: &mut Vec<Note>,
) -> Vec<Inferred> {
    let mut by_template: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (index, operation) in operations.iter().enumerate() {
        by_template
            .entry(normalise(&operation.template))
            .or_default()
            .push(index);
    }
    let mut inferred: Vec<Inferred> = Vec::new();
    // Parents before the collections nested in them.
    let mut templates: Vec<(&String, &Vec<usize>)> = by_template.iter().collect();
    templates.sort_by_key(|(template, _)| {
        super::api::segments(template)
            .iter()
            .filter(|segment| matches!(segment, Segment::Parameter(_)))
            .count()
    });
    for (item_template, item_operations) in templates {
        let segments = super::api::segments(item_template);
        let Some((Segment::Parameter(parameter), parent)) = segments.split_last() else {
            continue;
        };
        let Some(Segment::Literal(collection_name)) = parent.last() else {
            continue;
        };
        let collection_template = format!(
            "/{}",
            parent
                .iter()
                .map(|segment| match segment {
                    Segment::Literal(text) => text.clone(),
                    Segment::Parameter(name) => format!("{{{name}}}"),
                })
                .collect::<Vec<_>>()
                .join("/")
        );
        let Some(collection_operations) = by_template.get(&collection_template) else {
            continue;
        };
        let pointer = format!(
            "/paths/{}",
            escape(&operations[item_operations[0]].template)
        );
        let nested = parent
            .iter()
            .any(|segment| matches!(segment, Segment::Parameter(_)));
        let owner = if nested {
            match owner(&parent[..parent.len() - 1], &inferred) {
                Some(owner) => Some(owner),
                None => {
                    notes.push(Note {
                        pointer,
                        message: "a nested collection whose parent path is no resource's item: served from the document's examples and schemas".into(),
                    });
                    continue;
                }
            }
        } else {
            None
        };
        let find = |operations: &[Operation], list: &[usize], method: &str| {
            list.iter()
                .copied()
                .find(|index| operations[*index].method == method)
        };
        let item_get = find(operations, item_operations, "GET");
        let list = find(operations, collection_operations, "GET");
        let create = find(operations, collection_operations, "POST");
        let schema = item_get
            .and_then(|index| success_schema(document, &operations[index]))
            .or_else(|| {
                list.and_then(|index| success_schema(document, &operations[index]))
                    .and_then(|schema| array_items(document, &schema))
            })
            .or_else(|| create.and_then(|index| success_schema(document, &operations[index])));
        let Some(item_schema) = schema else {
            notes.push(Note {
                pointer,
                message: "no item schema found (no JSON response to GET on the item or the collection): served from the document's examples and schemas".into(),
            });
            continue;
        };
        let inlined = unwrap_item(refs::inline(document, &item_schema));
        let Some(properties) = inlined.get("properties").and_then(Value::as_object) else {
            notes.push(Note {
                pointer,
                message: "the item schema is not an object with properties: served from the document's examples and schemas".into(),
            });
            continue;
        };
        let id_field = if properties.contains_key(parameter.as_str()) {
            parameter.clone()
        } else if properties.contains_key("id") {
            "id".to_string()
        } else {
            notes.push(Note {
                pointer,
                message: format!("items have no property for the path parameter '{parameter}' (nor `id`): served from the document's examples and schemas"),
            });
            continue;
        };
        let create = create.map(|index| &operations[index]);
        let Some(id_kind) = id_kind(document, create, &properties[&id_field], &id_field) else {
            notes.push(Note {
                pointer,
                message: format!("the id property '{id_field}' is neither an integer nor a string: served from the document's examples and schemas"),
            });
            continue;
        };
        let name = unique_name(collection_name, &inferred);
        let mut fields = fields(properties, &id_field);
        let parent_link = owner.map(|(resource, parameter)| {
            link_to_parent(
                &parameter,
                properties,
                &mut fields,
                &inferred[resource].map.name,
                resource,
            )
        });
        let index = inferred.len();
        let mut methods = vec!["GET"];
        for (list, method, role) in [
            (collection_operations, "GET", Role::List(index)),
            (collection_operations, "POST", Role::Create(index)),
            (item_operations, "GET", Role::Read(index)),
            (item_operations, "PUT", Role::Replace(index)),
            (item_operations, "PATCH", Role::Update(index)),
            (item_operations, "DELETE", Role::Delete(index)),
        ] {
            if let Some(found) = find(operations, list, method) {
                operations[found].role = role;
                if !methods.contains(&method) {
                    methods.push(method);
                }
            }
        }
        inferred.push(Inferred {
            map: ResourceMap {
                name,
                collection: collection_template,
                item: Some(item_template.clone()),
                id_field: id_field.clone(),
                item_schema: inlined.clone(),
                id_kind,
                parent: parent_link,
            },
            definition: json!({
                "id": id_kind,
                "fields": fields,
                "methods": methods,
            }),
            item_schema,
        });
    }
    without_items(document, operations, &by_template, &mut inferred, notes);
    other_roles(document, operations, &inferred);
    inferred
}

/// How the ids of a resource are made, from its id property's schema and
/// whether its create body carries the id: none if neither integer nor string.
fn id_kind(
    document: &Value,
    create: Option<&Operation>,
    id_schema: &Value,
    id_field: &str,
) -> Option<&'static str> {
    let create_has_id = create
        .and_then(|operation| body_schema(document, operation))
        .and_then(|schema| {
            let inlined = unwrap_item(refs::inline(document, &schema));
            inlined.get("properties").map(|p| p.get(id_field).is_some())
        })
        .unwrap_or(false);
    match (kind_of(id_schema).as_deref(), id_schema.get("format")) {
        (Some("integer"), _) => Some("integer"),
        (Some("string"), Some(format)) if format == "uuid" && !create_has_id => Some("uuid"),
        (Some("string"), _) if create_has_id => Some("string"),
        (Some("string"), _) => Some("uuid"),
        _ => None,
    }
}

/// Nested collections without an item path (`/users/{userId}/orders`, its
/// GET listing and maybe a POST, but no `/users/{userId}/orders/{orderId}`):
/// a resource like the others, listed and created below its parent, where
/// the GET answers an array of objects that no resource already has, with
/// an `id` (or `orderId`, `order_id`) property.
fn without_items(
    document: &Value,
    operations: &mut [Operation],
    by_template: &BTreeMap<String, Vec<usize>>,
    inferred: &mut Vec<Inferred>,
    notes: &mut Vec<Note>,
) {
    let known: Vec<Value> = inferred
        .iter()
        .map(|resource| unwrap_item(refs::inline(document, &resource.item_schema)))
        .collect();
    for (template, collection_operations) in by_template {
        if inferred
            .iter()
            .any(|resource| resource.map.collection == *template)
        {
            continue;
        }
        let segments = super::api::segments(template);
        let Some((Segment::Literal(collection_name), parent)) = segments.split_last() else {
            continue;
        };
        let Some(owner) = owner(parent, inferred) else {
            continue;
        };
        let find = |method: &str| {
            collection_operations
                .iter()
                .copied()
                .find(|index| operations[*index].method == method)
        };
        let (Some(list), create) = (find("GET"), find("POST")) else {
            continue;
        };
        let Some(item_schema) = success_schema(document, &operations[list])
            .filter(|schema| refs::resolve(document, schema).get("items").is_some())
            .and_then(|schema| array_items(document, &schema))
        else {
            continue;
        };
        let inlined = unwrap_item(refs::inline(document, &item_schema));
        let Some(properties) = inlined.get("properties").and_then(Value::as_object) else {
            continue;
        };
        // Another resource's items listed below this parent: that resource's list.
        if known.contains(&inlined) {
            continue;
        }
        let pointer = format!("/paths/{}", escape(&operations[list].template));
        let singular = collection_name.strip_suffix('s').unwrap_or(collection_name);
        let Some(id_field) = [
            "id".to_string(),
            format!("{singular}Id"),
            format!("{singular}_id"),
        ]
        .into_iter()
        .find(|name| properties.contains_key(name)) else {
            notes.push(Note {
                pointer,
                message: "a nested collection without an item path whose items have no `id` property: served from the document's examples and schemas".into(),
            });
            continue;
        };
        let create_operation = create.map(|index| &operations[index]);
        let Some(id_kind) = id_kind(
            document,
            create_operation,
            &properties[&id_field],
            &id_field,
        ) else {
            notes.push(Note {
                pointer,
                message: format!("the id property '{id_field}' is neither an integer nor a string: served from the document's examples and schemas"),
            });
            continue;
        };
        let name = unique_name(collection_name, inferred);
        let mut fields = fields(properties, &id_field);
        let (resource, parameter) = owner;
        let link = link_to_parent(
            &parameter,
            properties,
            &mut fields,
            &inferred[resource].map.name,
            resource,
        );
        let index = inferred.len();
        operations[list].role = Role::List(index);
        let mut methods = vec!["GET"];
        if let Some(create) = create {
            operations[create].role = Role::Create(index);
            methods.push("POST");
        }
        inferred.push(Inferred {
            map: ResourceMap {
                name,
                collection: template.clone(),
                item: None,
                id_field: id_field.clone(),
                item_schema: inlined.clone(),
                id_kind,
                parent: Some(link),
            },
            definition: json!({
                "id": id_kind,
                "fields": fields,
                "methods": methods,
            }),
            item_schema,
        });
    }
}

/// Roles of operations outside the collection and item paths: a GET answering
/// an array of a resource's items lists it (`/pet/findByStatus`, its
/// parameters named like fields filter), and a PUT on the collection with a
/// body carrying the id replaces that record (`PUT /pet`).
fn other_roles(document: &Value, operations: &mut [Operation], inferred: &[Inferred]) {
    let items: Vec<Value> = inferred
        .iter()
        .map(|resource| unwrap_item(refs::inline(document, &resource.item_schema)))
        .collect();
    for operation in operations.iter_mut() {
        // The deepest item the operation is below.
        operation.parent = inferred
            .iter()
            .enumerate()
            .filter_map(|(index, resource)| {
                // A collection without an item path is no parent.
                let item = super::api::segments(resource.map.item.as_deref()?);
                let below = operation.segments.len() > item.len()
                    && same_shape(&operation.segments[..item.len()], &item);
                below.then_some((item.len(), index))
            })
            .max()
            .map(|(_, index)| index);
    }
    for operation in operations
        .iter_mut()
        .filter(|operation| operation.role == Role::Other)
    {
        if operation.method == "GET" {
            let listed = success_schema(document, operation)
                .filter(|schema| refs::resolve(document, schema).get("items").is_some())
                .and_then(|schema| array_items(document, &schema))
                .map(|schema| unwrap_item(refs::inline(document, &schema)));
            // A nested collection's records are listed only below their parent.
            let parent_of = operation.parent;
            let found = listed.and_then(|listed| {
                items.iter().enumerate().position(|(index, item)| {
                    *item == listed
                        && inferred[index]
                            .map
                            .parent
                            .as_ref()
                            .is_none_or(|link| parent_of == Some(link.resource))
                })
            });
            if let Some(index) = found {
                operation.role = Role::List(index);
            }
        } else if operation.method == "PUT" {
            let template = normalise(&operation.template);
            let found = inferred
                .iter()
                .position(|resource| resource.map.collection == template);
            let Some(index) = found else { continue };
            let carries_id = body_schema(document, operation)
                .map(|schema| unwrap_item(refs::inline(document, &schema)))
                .and_then(|schema| schema.get("properties").cloned())
                .is_some_and(|properties| properties.get(&inferred[index].map.id_field).is_some());
            if carries_id {
                operation.role = Role::ReplaceInBody(index);
            }
        }
    }
}

/// The resource whose item path is `prefix` (alike but for parameter names),
/// with the name `prefix` gives its id parameter.
fn owner(prefix: &[Segment], inferred: &[Inferred]) -> Option<(usize, String)> {
    let Some(Segment::Parameter(parameter)) = prefix.last() else {
        return None;
    };
    let index = inferred.iter().position(|resource| {
        resource
            .map
            .item
            .as_deref()
            .map(super::api::segments)
            .is_some_and(|item| same_shape(&item, prefix))
    })?;
    Some((index, parameter.clone()))
}

/// A nested collection's link to its parent, its field added to `fields` as
/// a reference that cascades on delete.
fn link_to_parent(
    parameter: &str,
    properties: &Map<String, Value>,
    fields: &mut Value,
    parent_name: &str,
    parent: usize,
) -> ParentLink {
    let link = parent_field(parameter, properties, fields, parent_name, parent);
    if let Some(fields) = fields.as_object_mut() {
        fields.insert(
            link.field.clone(),
            json!({"ref": parent_name, "on_delete": "cascade"}),
        );
    }
    link
}

/// The field of a nested collection's records that references their parent:
/// the items' property named like the parent's path parameter (`userId`)
/// where they have one, else a field of standin's own, never sent.
fn parent_field(
    parameter: &str,
    properties: &Map<String, Value>,
    fields: &Value,
    parent_name: &str,
    parent: usize,
) -> ParentLink {
    let known = |name: &str| {
        fields
            .as_object()
            .is_some_and(|fields| fields.keys().any(|field| field.eq_ignore_ascii_case(name)))
    };
    if properties.contains_key(parameter) && known(parameter) {
        return ParentLink {
            resource: parent,
            field: parameter.to_string(),
            hidden: false,
        };
    }
    let reserved = ["id", "created_at", "updated_at", "self", "collection"];
    let valid = |name: &str| {
        name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !reserved.contains(&name.to_ascii_lowercase().as_str())
            && !known(name)
            && !properties
                .keys()
                .any(|property| property.eq_ignore_ascii_case(name))
    };
    let base = if valid(parameter) {
        parameter.to_string()
    } else {
        format!("{parent_name}_id")
    };
    let field = std::iter::once(base.clone())
        .chain((2..).map(|number| format!("{base}{number}")))
        .find(|candidate| valid(candidate))
        .unwrap_or(base);
    ParentLink {
        resource: parent,
        field,
        hidden: true,
    }
}

/// A template without a trailing slash.
fn normalise(template: &str) -> String {
    let trimmed = template.trim_end_matches('/');
    if trimmed.is_empty() {
        "/".into()
    } else {
        trimmed.into()
    }
}

/// The schema of an operation's first JSON 2xx response.
pub fn success_schema(document: &Value, operation: &Operation) -> Option<Value> {
    let _ = document;
    let mut responses: Vec<_> = operation
        .responses
        .iter()
        .filter_map(|response| match response.status {
            super::api::Status::Code(code) if (200..300).contains(&code) => Some((code, response)),
            _ => None,
        })
        .collect();
    responses.sort_by_key(|(code, _)| *code);
    responses.into_iter().find_map(|(_, response)| {
        response
            .content
            .iter()
            .find(|content| content.media_type.contains("json"))
            .and_then(|content| content.schema.clone())
    })
}

/// The JSON schema of an operation's request body.
fn body_schema(document: &Value, operation: &Operation) -> Option<Value> {
    let pointer = format!("{}/requestBody", operation.pointer);
    let body = refs::resolve(document, document.pointer(&pointer)?);
    let content = body.get("content")?.as_object()?;
    content
        .iter()
        .find(|(media_type, _)| media_type.contains("json"))
        .and_then(|(_, declared)| declared.get("schema").cloned())
}

/// The items of a list response: a bare array's, or the first array property's (an envelope).
pub fn array_items(document: &Value, schema: &Value) -> Option<Value> {
    let resolved = refs::resolve(document, schema);
    if let Some(items) = resolved.get("items") {
        return Some(items.clone());
    }
    let properties = refs::inline(document, resolved);
    properties
        .get("properties")?
        .as_object()?
        .values()
        .find_map(|property| property.get("items").cloned())
}

/// The item inside a wrapper (`{"article": {...}}`): an object schema whose
/// only property is an object with properties.
pub fn unwrap_item(schema: Value) -> Value {
    let inner = schema
        .get("properties")
        .and_then(Value::as_object)
        .filter(|properties| properties.len() == 1)
        .and_then(|properties| properties.values().next())
        .filter(|inner| inner.get("properties").is_some())
        .cloned();
    inner.unwrap_or(schema)
}

/// The single type of a schema's values, ignoring `null`.
pub fn kind_of(schema: &Value) -> Option<String> {
    match schema.get("type")? {
        Value::String(kind) => Some(kind.clone()),
        Value::Array(kinds) => {
            let kinds: Vec<&str> = kinds
                .iter()
                .filter_map(Value::as_str)
                .filter(|kind| *kind != "null")
                .collect();
            (kinds.len() == 1).then(|| kinds[0].to_string())
        }
        _ => None,
    }
}

/// standin fields for the item properties that have one type and a name
/// standin accepts; the others are stored with the record but not queryable.
fn fields(properties: &Map<String, Value>, id_field: &str) -> Value {
    let mut fields = Map::new();
    let reserved = ["id", "created_at", "updated_at", "self", "collection"];
    for (name, schema) in properties {
        let valid_name = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let clash = fields
            .keys()
            .any(|other: &String| other.eq_ignore_ascii_case(name));
        if name == id_field || reserved.contains(&name.as_str()) || !valid_name || clash {
            continue;
        }
        let format = schema.get("format").and_then(Value::as_str);
        let single = kind_of(schema);
        let kind = match (single.as_deref(), format) {
            (Some("string"), Some("date")) => "date",
            (Some("string"), Some("date-time")) => "datetime",
            (
                Some(kind @ ("string" | "integer" | "number" | "boolean" | "object" | "array")),
                _,
            ) => kind,
            _ => continue,
        };
        fields.insert(name.clone(), json!({ "type": kind }));
    }
    Value::Object(fields)
}

/// A resource name standin accepts, unlike those already inferred.
fn unique_name(segment: &str, inferred: &[Inferred]) -> String {
    let mut name: String = segment
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !name.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
        name = format!("r{name}");
    }
    let taken = |candidate: &str| {
        inferred
            .iter()
            .any(|other| other.map.name.eq_ignore_ascii_case(candidate))
    };
    if !taken(&name) {
        return name;
    }
    (2..)
        .map(|number| format!("{name}{number}"))
        .find(|candidate| !taken(candidate))
        .unwrap_or(name)
}
