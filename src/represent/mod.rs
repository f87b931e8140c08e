//! Representations: turning records, pages and the home document into the
//! bytes of each media type. One module per media type; each knows the model
//! and the links it is handed, and nothing of HTTP or storage.

mod collection_json;
mod hal;
pub mod html;
mod json_home;
mod plain;
mod stored;

pub use collection_json::fields_of_template;

use serde_json::{Map, Value};

use crate::fingerprint;
use crate::links::{PageLinks, Pagination};
use crate::query::Embed;
use crate::spec::{Resource, Spec};
use crate::store::{Embedded, Record, StoredRow};

/// A media type standin can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Representation {
    /// `application/hal+json`: items with `_links`, pages with `_embedded`.
    Hal,
    /// `application/json`: plain objects and bare arrays.
    Json,
    /// `application/vnd.collection+json`: Collection+JSON.
    CollectionJson,
    /// `application/json-home`: the home document only.
    JsonHome,
    /// `text/html`: the browsable API's pages, for reads only.
    Html,
}

impl Representation {
    /// The representations of items and collections, in the server's order of preference.
    pub const ALL: [Representation; 3] = [
        Representation::Hal,
        Representation::Json,
        Representation::CollectionJson,
    ];

    /// The representations of reads of items and collections: [`Representation::ALL`]
    /// and, last (so that `*/*` never picks it), the page for browsers.
    pub const PAGES: [Representation; 4] = [
        Representation::Hal,
        Representation::Json,
        Representation::CollectionJson,
        Representation::Html,
    ];
    /// The representations of the home document, its page included.
    pub const HOME_PAGES: [Representation; 4] = [
        Representation::Hal,
        Representation::Json,
        Representation::JsonHome,
        Representation::Html,
    ];

    /// The media type sent in `Content-Type`.
    pub fn media_type(self) -> &'static str {
        match self {
            Representation::Hal => "application/hal+json",
            Representation::Json => "application/json",
            Representation::CollectionJson => "application/vnd.collection+json",
            Representation::JsonHome => "application/json-home",
            Representation::Html => "text/html",
        }
    }

    /// The representation of a media type.
    pub fn from_media_type(media_type: &str) -> Option<Representation> {
        Representation::ALL
            .into_iter()
            .chain([Representation::JsonHome, Representation::Html])
            .find(|representation| representation.media_type() == media_type)
    }
}

/// What a request asked items to look like: related records and a sparse fieldset.
#[derive(Debug, Clone, Copy, Default)]
pub struct Shape<'a> {
    /// The embeds asked for, in order; each item's `Embedded` values follow it.
    pub embeds: &'a [Embed],
    /// The only fields to include, if restricted.
    pub fields: Option<&'a [String]>,
}

/// One item with what was fetched for it.
#[derive(Debug, Clone, Copy)]
pub struct ItemView<'a> {
    /// The record.
    pub record: &'a Record,
    /// Related records, one per embed of the shape (empty when none were asked for).
    pub embedded: &'a [Embedded],
}

/// The embeds of `view` as `shape` asks for them: each embed's name and what
/// it holds (the referenced record, `null`, or an array of records), every
/// embedded record rendered by `item` with the rest of its embed path.
fn embeds_of<'a>(
    spec: &'a Spec,
    view: ItemView<'a>,
    shape: Shape<'a>,
    item: fn(&Spec, &Resource, ItemView<'_>, Shape<'_>) -> serde_json::Value,
) -> impl Iterator<Item = (&'a str, serde_json::Value)> + 'a {
    use crate::store::{Embedded, EmbeddedRecord};
    shape
        .embeds
        .iter()
        .zip(view.embedded)
        .filter_map(move |(embed, related)| {
            let target = spec.resource(embed.resource())?;
            let nested = |embedded: &EmbeddedRecord| {
                let view = ItemView {
                    record: &embedded.record,
                    embedded: &embedded.embedded,
                };
                let shape = Shape {
                    embeds: embed.nested(),
                    fields: None,
                };
                item(spec, target, view, shape)
            };
            let value = match related {
                Embedded::One(Some(record)) => nested(record),
                Embedded::One(None) => serde_json::Value::Null,
                Embedded::Many(records) => {
                    serde_json::Value::Array(records.iter().map(nested).collect())
                }
            };
            Some((embed.name(), value))
        })
}

/// One page of a collection, ready to render.
#[derive(Debug)]
pub struct PageView<'a> {
    /// The items on the page.
    pub items: Vec<ItemView<'a>>,
    /// How items look.
    pub shape: Shape<'a>,
    /// Where the page sits.
    pub pagination: Pagination,
    /// Its links.
    pub links: &'a PageLinks,
    /// The href of this collection (an inverse collection's own path).
    pub collection_href: &'a str,
}

/// A record as a plain JSON object: `id` (none for a singular resource), the spec's fields in order, timestamps.
/// Fields the spec gained since the record was written read as their default
/// (or `null`); fields it lost are left out.
pub fn record_object(resource: &Resource, record: &Record) -> Map<String, Value> {
    let mut object = Map::with_capacity(resource.fields.len() + 3);
    if !resource.singular {
        object.insert("id".into(), record.id.to_json());
    }
    for field in &resource.fields {
        // A field added to the spec after the record was written reads as its default.
        let value = match record.fields.get(&field.name) {
            Some(value) => value.clone(),
            None => field.default.clone().unwrap_or(Value::Null),
        };
        object.insert(field.name.clone(), value);
    }
    object.insert("created_at".into(), Value::from(record.created_at.as_str()));
    object.insert("updated_at".into(), Value::from(record.updated_at.as_str()));
    object
}

/// The action URIs a record may take now, as (action, href, title), in
/// spec order: what HAL, Collection+JSON and the HTML page advertise.
pub fn action_links(
    spec: &Spec,
    resource: &Resource,
    record: &Record,
) -> Vec<(String, String, String)> {
    if resource.actions.is_empty() {
        return Vec::new();
    }
    let object = record_object(resource, record);
    let item = crate::links::item(spec, &resource.name, &record.id);
    resource
        .actions_allowed(&object)
        .into_iter()
        .map(|action| {
            (
                action.name.clone(),
                format!("{item}/{}", action.name),
                format!("POST to set {} to {}", action.field, action.state),
            )
        })
        .collect()
}

/// Keeps only the fields of a sparse fieldset.
fn restrict(object: &mut Map<String, Value>, fields: Option<&[String]>) {
    if let Some(fields) = fields {
        object.retain(|key, _| fields.iter().any(|field| field == key));
    }
}

/// The strong entity tag of a record in a representation: a hash of both, so
/// that each representation of a record has its own validator.
pub fn etag(resource: &Resource, record: &Record, representation: Representation) -> String {
    let bytes =
        serde_json::to_vec(&record_object(resource, record)).expect("JSON values serialise");
    let hash = fingerprint::fnv1a(
        fingerprint::digest(&bytes),
        representation.media_type().bytes(),
    );
    format!("\"{hash:016x}\"")
}

/// Appends the plain JSON object of a record read as stored: the bytes of
/// its [`record_object`], written from the stored text with no values parsed
/// in between; `None` (and `out` as it was) where the record must be parsed
/// and rendered as usual.
pub fn stored_object(resource: &Resource, row: &StoredRow<'_>, out: &mut Vec<u8>) -> Option<()> {
    stored::record(resource, row, out)
}

/// The entity tag [`etag`] gives, in plain JSON, the record whose object's
/// bytes are `object` (as [`stored_object`] writes them).
pub fn object_etag(object: &[u8]) -> String {
    let hash = fingerprint::fnv1a(
        fingerprint::digest(object),
        Representation::Json.media_type().bytes(),
    );
    format!("\"{hash:016x}\"")
}

/// An item's body.
pub fn item(
    spec: &Spec,
    resource: &Resource,
    view: ItemView<'_>,
    shape: Shape<'_>,
    representation: Representation,
) -> Vec<u8> {
    let body = match representation {
        Representation::Html => return html::item(spec, resource, view, shape).into_bytes(),
        Representation::Hal => hal::item(spec, resource, view, shape),
        Representation::CollectionJson => collection_json::single(spec, resource, view, shape),
        Representation::Json | Representation::JsonHome => plain::item(spec, resource, view, shape),
    };
    serde_json::to_vec(&body).expect("JSON values serialise")
}

/// A collection page's body.
pub fn collection(
    spec: &Spec,
    resource: &Resource,
    page: &PageView<'_>,
    representation: Representation,
) -> Vec<u8> {
    let body = match representation {
        Representation::Html => return html::collection(spec, resource, page).into_bytes(),
        Representation::Hal => hal::collection(spec, resource, page),
        Representation::CollectionJson => collection_json::page(spec, resource, page),
        Representation::Json | Representation::JsonHome => plain::collection(spec, resource, page),
    };
    serde_json::to_vec(&body).expect("JSON values serialise")
}

/// The home document's body.
pub fn home(spec: &Spec, representation: Representation) -> Vec<u8> {
    let body = match representation {
        Representation::Html => return html::home(spec, &[]).into_bytes(),
        Representation::Hal | Representation::CollectionJson => hal::home(spec),
        Representation::JsonHome => json_home::document(spec),
        Representation::Json => plain::home(spec),
    };
    serde_json::to_vec(&body).expect("JSON values serialise")
}
