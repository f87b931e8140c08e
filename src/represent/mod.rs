//! Representations: turning records, pages and the home document into the
//! bytes of each media type. One module per media type; each knows the model
//! and the links it is handed, and nothing of HTTP or storage.

mod hal;
mod plain;

use serde_json::{Map, Value};

use crate::links::{PageLinks, Pagination};
use crate::spec::{Resource, Spec};
use crate::store::Record;

/// A media type standin can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Representation {
    /// `application/hal+json`: items with `_links`, pages with `_embedded`.
    Hal,
    /// `application/json`: plain objects and bare arrays.
    Json,
}

impl Representation {
    /// Every representation, in the server's order of preference.
    pub const ALL: [Representation; 2] = [Representation::Hal, Representation::Json];

    /// The media type sent in `Content-Type`.
    pub fn media_type(self) -> &'static str {
        match self {
            Representation::Hal => "application/hal+json",
            Representation::Json => "application/json",
        }
    }

    /// The representation of a media type.
    pub fn from_media_type(media_type: &str) -> Option<Representation> {
        Representation::ALL
            .into_iter()
            .find(|representation| representation.media_type() == media_type)
    }
}

/// One page of a collection, ready to render.
#[derive(Debug)]
pub struct PageView<'a> {
    /// The records on the page.
    pub records: &'a [Record],
    /// Where the page sits.
    pub pagination: Pagination,
    /// Its links.
    pub links: &'a PageLinks,
}

/// A record as a plain JSON object: `id`, the spec's fields in order, timestamps.
/// Fields the spec gained since the record was written read as `null`; fields it lost are left out.
pub fn record_object(resource: &Resource, record: &Record) -> Map<String, Value> {
    let mut object = Map::with_capacity(resource.fields.len() + 3);
    object.insert("id".into(), record.id.to_json());
    for field in &resource.fields {
        let value = record
            .fields
            .get(&field.name)
            .cloned()
            .unwrap_or(Value::Null);
        object.insert(field.name.clone(), value);
    }
    object.insert("created_at".into(), Value::from(record.created_at.as_str()));
    object.insert("updated_at".into(), Value::from(record.updated_at.as_str()));
    object
}

/// The strong entity tag of a record: a hash of its plain representation.
pub fn etag(resource: &Resource, record: &Record) -> String {
    let bytes =
        serde_json::to_vec(&record_object(resource, record)).expect("JSON values serialise");
    // FNV-1a: stable across builds and platforms, unlike std's hasher.
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("\"{hash:016x}\"")
}

/// An item's body.
pub fn item(
    spec: &Spec,
    resource: &Resource,
    record: &Record,
    representation: Representation,
) -> Vec<u8> {
    let body = match representation {
        Representation::Hal => hal::item(spec, resource, record),
        Representation::Json => Value::Object(record_object(resource, record)),
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
        Representation::Hal => hal::collection(spec, resource, page),
        Representation::Json => plain::collection(resource, page),
    };
    serde_json::to_vec(&body).expect("JSON values serialise")
}

/// The home document's body.
pub fn home(spec: &Spec, representation: Representation) -> Vec<u8> {
    let body = match representation {
        Representation::Hal => hal::home(spec),
        Representation::Json => plain::home(spec),
    };
    serde_json::to_vec(&body).expect("JSON values serialise")
}
