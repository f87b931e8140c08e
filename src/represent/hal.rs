//! `application/hal+json`: items carry `_links` (self, collection, one per
//! reference, one per inverse, one per action the record may take now) and `_embedded` related records; pages carry
//! paging links, counts and `_embedded` items; the home document links every
//! collection and item route with URI templates.

use serde_json::{Map, Value, json};

use super::{ItemView, PageView, Shape, record_object, restrict};
use crate::links;
use crate::spec::{Resource, Spec};
use crate::store::{Record, RecordId};

fn href(href: String) -> Value {
    json!({ "href": href })
}

fn template(href: String) -> Value {
    json!({ "href": href, "templated": true })
}

fn item_links(spec: &Spec, resource: &Resource, record: &Record) -> Map<String, Value> {
    let mut item_links = Map::new();
    item_links.insert(
        "self".into(),
        href(links::item(spec, &resource.name, &record.id)),
    );
    if !resource.singular {
        item_links.insert(
            "collection".into(),
            href(links::collection(spec, &resource.name)),
        );
    }
    item_links.insert("describedby".into(), href(links::description(spec)));
    for (field, reference) in resource.references() {
        let Some(target) = spec.resource(&reference.resource) else {
            continue;
        };
        let target_id = record
            .fields
            .get(&field.name)
            .and_then(|value| RecordId::from_json(target.id, value));
        if let Some(target_id) = target_id {
            item_links.insert(
                field.name.clone(),
                href(links::item(spec, &target.name, &target_id)),
            );
        }
    }
    for (name, action, title) in super::action_links(spec, resource, record) {
        item_links.insert(
            name.clone(),
            json!({ "href": action, "name": name, "title": title }),
        );
    }
    for inverse in spec.inverses(&resource.name) {
        item_links.entry(inverse.name.clone()).or_insert_with(|| {
            href(links::inverse(
                spec,
                &resource.name,
                &record.id,
                &inverse.name,
            ))
        });
    }
    item_links
}

/// A record with its `_links`, without embeds.
fn plain_item(
    spec: &Spec,
    resource: &Resource,
    record: &Record,
    fields: Option<&[String]>,
) -> Value {
    let mut object = record_object(resource, record);
    restrict(&mut object, fields);
    object.insert(
        "_links".into(),
        Value::Object(item_links(spec, resource, record)),
    );
    Value::Object(object)
}

/// An item with its `_links` and `_embedded` related records.
pub(super) fn item(
    spec: &Spec,
    resource: &Resource,
    view: ItemView<'_>,
    shape: Shape<'_>,
) -> Value {
    let mut object = plain_item(spec, resource, view.record, shape.fields);
    if !shape.embeds.is_empty() {
        // An embedded record is an item too: its `_links`, and its own
        // `_embedded` where the path goes deeper.
        let embedded: Map<String, Value> = super::embeds_of(spec, view, shape, item)
            .map(|(name, value)| (name.to_string(), value))
            .collect();
        if let Value::Object(map) = &mut object {
            map.insert("_embedded".into(), Value::Object(embedded));
        }
    }
    object
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
        "search".into(),
        template(links::collection_template(
            spec,
            resource,
            page.collection_href,
        )),
    );
    page_links.insert(
        "find".into(),
        template(links::item_template(spec, &resource.name)),
    );
    let items: Vec<Value> = page
        .items
        .iter()
        .map(|view| item(spec, resource, *view, page.shape))
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
    home_links.insert("describedby".into(), href(links::description(spec)));
    for resource in &spec.resources {
        let collection = links::collection(spec, &resource.name);
        if resource.singular {
            home_links.insert(resource.name.clone(), href(collection));
            continue;
        }
        home_links.insert(
            resource.name.clone(),
            template(links::collection_template(spec, resource, &collection)),
        );
        home_links.insert(
            format!("{}_item", resource.name),
            template(links::item_template(spec, &resource.name)),
        );
    }
    let routes: Vec<Value> = links::routes(spec)
        .into_iter()
        .map(|(pattern, template, variables, target)| {
            json!({
                "href": template,
                "templated": !variables.is_empty(),
                "name": pattern,
                "title": format!("served as {target}"),
            })
        })
        .collect();
    if !routes.is_empty() {
        home_links.insert("routes".into(), Value::Array(routes));
    }
    json!({ "title": spec.title, "_links": home_links })
}
