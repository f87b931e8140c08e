//! `application/json`: items as plain objects and collections as bare arrays,
//! as json-server clients expect; paging travels in headers instead.

use serde_json::{Map, Value, json};

use super::{PageView, record_object};
use crate::links;
use crate::spec::{Resource, Spec};

/// A page as a bare array of items.
pub(super) fn collection(resource: &Resource, page: &PageView<'_>) -> Value {
    Value::Array(
        page.records
            .iter()
            .map(|record| Value::Object(record_object(resource, record)))
            .collect(),
    )
}

/// The home document: the title and each collection's href and templates.
pub(super) fn home(spec: &Spec) -> Value {
    let collections: Map<String, Value> = spec
        .resources
        .iter()
        .map(|resource| {
            let entry = json!({
                "href": links::collection(spec, &resource.name),
                "template": links::collection_template(spec, resource),
                "item": links::item_template(spec, &resource.name),
            });
            (resource.name.clone(), entry)
        })
        .collect();
    json!({ "title": spec.title, "collections": collections })
}
