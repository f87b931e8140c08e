//! `application/json`: items as plain objects and collections as bare arrays,
//! as json-server clients expect; paging travels in headers instead. Embedded
//! records sit under their embed's name; a reference embedded under its own
//! field's name replaces the id with the record, like json-server's `_expand`;
//! nested embeds (`comments.author`) sit likewise inside the embedded records.

use serde_json::{Map, Value, json};

use super::{ItemView, PageView, Shape, record_object, restrict};
use crate::links;
use crate::spec::{Resource, Spec};

/// An item as a plain object, with embedded records.
pub(super) fn item(
    spec: &Spec,
    resource: &Resource,
    view: ItemView<'_>,
    shape: Shape<'_>,
) -> Value {
    let mut object = record_object(resource, view.record);
    restrict(&mut object, shape.fields);
    for (name, value) in super::embeds_of(spec, view, shape, item) {
        object.insert(name.to_string(), value);
    }
    Value::Object(object)
}

/// A page as a bare array of items.
pub(super) fn collection(spec: &Spec, resource: &Resource, page: &PageView<'_>) -> Value {
    Value::Array(
        page.items
            .iter()
            .map(|view| item(spec, resource, *view, page.shape))
            .collect(),
    )
}

/// The home document: the title and each collection's href and templates.
pub(super) fn home(spec: &Spec) -> Value {
    let collections: Map<String, Value> = spec
        .resources
        .iter()
        .map(|resource| {
            let href = links::collection(spec, &resource.name);
            if resource.singular {
                return (
                    resource.name.clone(),
                    json!({ "href": href, "singular": true }),
                );
            }
            let entry = json!({
                "href": href,
                "template": links::collection_template(spec, resource, &href),
                "item": links::item_template(spec, &resource.name),
            });
            (resource.name.clone(), entry)
        })
        .collect();
    let mut home = json!({ "title": spec.title, "collections": collections });
    let routes: Map<String, Value> = links::routes(spec)
        .into_iter()
        .map(|(pattern, _, _, target)| (pattern.to_string(), json!(target)))
        .collect();
    if !routes.is_empty() {
        home["routes"] = Value::Object(routes);
    }
    home
}
