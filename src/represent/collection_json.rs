//! `application/vnd.collection+json` (Collection+JSON 1.0): items as
//! name/value `data` with `links` (references, inverses, the actions the
//! record may take now, the records `embed=` asked for), pages with paging `links`, a `search`
//! query naming the collection's parameters, and a write `template` listing
//! the fields. Requests may send a filled-in template back as the body.

use serde_json::{Map, Value, json};

use super::{ItemView, PageView, Shape, record_object};
use crate::links;
use crate::query::Embed;
use crate::spec::{Resource, Spec};
use crate::store::{Embedded, EmbeddedRecord, RecordId};

fn item(spec: &Spec, resource: &Resource, view: ItemView<'_>, shape: Shape<'_>) -> Value {
    let record = view.record;
    let mut object = record_object(resource, record);
    super::restrict(&mut object, shape.fields);
    let data: Vec<Value> = object
        .into_iter()
        .map(|(name, value)| json!({ "name": name, "value": value }))
        .collect();
    let mut item_links = Vec::new();
    for (field, reference) in resource.references() {
        let Some(target) = spec.resource(&reference.resource) else {
            continue;
        };
        if let Some(id) = record
            .fields
            .get(&field.name)
            .and_then(|value| RecordId::from_json(target.id, value))
        {
            item_links
                .push(json!({ "rel": field.name, "href": links::item(spec, &target.name, &id) }));
        }
    }
    for inverse in spec.inverses(&resource.name) {
        let href = links::inverse(spec, &resource.name, &record.id, &inverse.name);
        item_links.push(json!({ "rel": inverse.name, "href": href }));
    }
    for (name, action, title) in super::action_links(spec, resource, record) {
        item_links.push(
            json!({ "rel": name, "name": name, "href": action, "prompt": title, "render": "link" }),
        );
    }
    embedded_links(spec, "", shape.embeds, view.embedded, &mut item_links);
    json!({ "href": links::item(spec, &resource.name, &record.id), "data": data, "links": item_links })
}

/// Links to the records embedded in an item, at every depth: Collection+JSON
/// has no embedding, so each embedded record is an item link whose `rel` is
/// its embed path (`author`, `comments`, `comments.author`), for a client to
/// follow.
fn embedded_links(
    spec: &Spec,
    prefix: &str,
    embeds: &[Embed],
    embedded: &[Embedded],
    found: &mut Vec<Value>,
) {
    for (embed, related) in embeds.iter().zip(embedded) {
        let Some(target) = spec.resource(embed.resource()) else {
            continue;
        };
        let path = format!("{prefix}{}", embed.name());
        let records: Vec<&EmbeddedRecord> = match related {
            Embedded::One(one) => one.iter().map(AsRef::as_ref).collect(),
            Embedded::Many(many) => many.iter().collect(),
        };
        for record in records {
            found.push(json!({
                "rel": path,
                "href": links::item(spec, &target.name, &record.record.id),
                "render": "link",
            }));
            embedded_links(
                spec,
                &format!("{path}."),
                embed.nested(),
                &record.embedded,
                found,
            );
        }
    }
}

/// The write template: one entry per field.
fn template(resource: &Resource) -> Value {
    let data: Vec<Value> = resource
        .fields
        .iter()
        .filter(|field| !field.is_computed())
        .map(|field| {
            let prompt = if field.required { format!("{} (required)", field.name) } else { field.name.clone() };
            json!({ "name": field.name, "value": field.default.clone().unwrap_or(Value::Null), "prompt": prompt })
        })
        .collect();
    json!({ "data": data })
}

/// The search query: the collection's parameters, as its URI template names them.
fn queries(spec: &Spec, resource: &Resource, href: &str) -> Value {
    let data: Vec<Value> = crate::links::collection_parameters(spec, resource)
        .iter()
        .map(|name| json!({ "name": name, "value": "" }))
        .collect();
    json!([{ "rel": "search", "href": href, "prompt": format!("Search {}", resource.name), "data": data }])
}

fn wrap(collection: Map<String, Value>) -> Value {
    json!({ "collection": collection })
}

/// One item, as a collection of one.
pub(super) fn single(
    spec: &Spec,
    resource: &Resource,
    view: ItemView<'_>,
    shape: Shape<'_>,
) -> Value {
    let mut collection = Map::new();
    collection.insert("version".into(), json!("1.0"));
    collection.insert(
        "href".into(),
        json!(links::collection(spec, &resource.name)),
    );
    collection.insert("items".into(), json!([item(spec, resource, view, shape)]));
    collection.insert("template".into(), template(resource));
    wrap(collection)
}

/// A page of a collection.
pub(super) fn page(spec: &Spec, resource: &Resource, page: &PageView<'_>) -> Value {
    let mut page_links = vec![json!({ "rel": "first", "href": page.links.first })];
    if let Some(prev) = &page.links.prev {
        page_links.push(json!({ "rel": "prev", "href": prev }));
    }
    if let Some(next) = &page.links.next {
        page_links.push(json!({ "rel": "next", "href": next }));
    }
    page_links.push(json!({ "rel": "last", "href": page.links.last }));
    let items: Vec<Value> = page
        .items
        .iter()
        .map(|view| item(spec, resource, *view, page.shape))
        .collect();
    let mut collection = Map::new();
    collection.insert("version".into(), json!("1.0"));
    collection.insert("href".into(), json!(page.collection_href));
    collection.insert("links".into(), Value::Array(page_links));
    collection.insert("items".into(), Value::Array(items));
    collection.insert(
        "queries".into(),
        queries(spec, resource, page.collection_href),
    );
    collection.insert("template".into(), template(resource));
    wrap(collection)
}

/// The fields of a filled-in template (`{"template": {"data": [{"name": .., "value": ..}]}}`).
pub fn fields_of_template(body: &Value) -> Result<Map<String, Value>, String> {
    const SHAPE: &str =
        "a Collection+JSON write is {\"template\": {\"data\": [{\"name\": ..., \"value\": ...}]}}";
    // Nothing beside the template is read, so nothing else may be sent.
    let only = |value: &Value, key: &str| {
        value
            .as_object()
            .is_some_and(|object| object.keys().all(|name| name == key))
    };
    if !only(body, "template")
        || !body
            .get("template")
            .is_some_and(|template| only(template, "data"))
    {
        return Err(format!("{SHAPE}, with nothing else"));
    }
    let data = body
        .pointer("/template/data")
        .and_then(Value::as_array)
        .ok_or(SHAPE)?;
    let mut fields = Map::new();
    for entry in data {
        let name = entry
            .get("name")
            .and_then(Value::as_str)
            .ok_or("every template entry needs a \"name\"")?;
        fields.insert(
            name.to_string(),
            entry.get("value").cloned().unwrap_or(Value::Null),
        );
    }
    Ok(fields)
}
