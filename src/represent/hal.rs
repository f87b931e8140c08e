//! `application/hal+json`: items carry `_links` (self, collection, one per
//! reference); pages carry paging links, counts and `_embedded` items; the
//! home document links every collection and item route with URI templates.

use serde_json::{Map, Value, json};

use super::{PageView, record_object};
use crate::links;
use crate::spec::{Resource, Spec};
use crate::store::{Record, RecordId};

fn href(href: String) -> Value {
    json!({ "href": href })
}

fn template(href: String) -> Value {
    json!({ "href": href, "templated": true })
}

/// An item with its `_links`.
pub(super) fn item(spec: &Spec, resource: &Resource, record: &Record) -> Value {
    let mut object = record_object(resource, record);
    let mut item_links = Map::new();
    item_links.insert(
        "self".into(),
        href(links::item(spec, &resource.name, &record.id)),
    );
    item_links.insert(
        "collection".into(),
        href(links::collection(spec, &resource.name)),
    );
    for (field, reference) in resource.references() {
        let Some(target) = spec.resource(&reference.resource) else {
            continue;
        };
        let target_id = object
            .get(&field.name)
            .and_then(|value| RecordId::from_json(target.id, value));
        if let Some(target_id) = target_id {
            item_links.insert(
                field.name.clone(),
                href(links::item(spec, &target.name, &target_id)),
            );
        }
    }
    object.insert("_links".into(), Value::Object(item_links));
    Value::Object(object)
}

/// A page of a collection.
pub(super) fn collection(spec: &Spec, resource: &Resource, page: &PageView<'_>) -> Value {
    let mut page_links = Map::new();
    page_links.insert("self".into(), href(page.links.this.clone()));
    page_links.insert("first".into(), href(page.links.first.clone()));
    if let Some(prev) = &page.links.prev {
        page_links.insert("prev".into(), href(prev.clone()));
    }
    if let Some(next) = &page.links.next {
        page_links.insert("next".into(), href(next.clone()));
    }
    page_links.insert("last".into(), href(page.links.last.clone()));
    page_links.insert(
        "find".into(),
        template(links::item_template(spec, &resource.name)),
    );
    let items: Vec<Value> = page
        .records
        .iter()
        .map(|record| item(spec, resource, record))
        .collect();
    json!({
        "_links": page_links,
        "total": page.pagination.total,
        "page": page.pagination.page,
        "per_page": page.pagination.per_page,
        "pages": page.pagination.pages(),
        "_embedded": { resource.name.clone(): items },
    })
}

/// The home document.
pub(super) fn home(spec: &Spec) -> Value {
    let mut home_links = Map::new();
    home_links.insert("self".into(), href(links::home(spec)));
    for resource in &spec.resources {
        home_links.insert(
            resource.name.clone(),
            template(links::collection_template(spec, resource)),
        );
        home_links.insert(
            format!("{}_item", resource.name),
            template(links::item_template(spec, &resource.name)),
        );
    }
    json!({ "title": spec.title, "_links": home_links })
}
