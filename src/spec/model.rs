//! The validated, normalised resource model that the rest of standin works
//! from. Values of these types are only built by `spec::parse`, so everything
//! downstream can rely on names being valid identifiers and references resolving.

use std::collections::BTreeSet;

use regex::Regex;

pub use super::actions::Action;
pub use super::behaviour::{Auth, Cors, Faults, Transitions, Upstream};
use serde_json::{Map, Value};

/// A parsed and validated spec: the whole API description. It exists only as
/// the result of checking an input ([`crate::parse`], [`crate::load`]), so
/// what serves it can rely on every name and setting in it.
#[derive(Debug)]
pub struct Spec {
    /// Human title of the API.
    pub(crate) title: String,
    /// Path prefix of every route, without a trailing slash (`""` for the root).
    pub(crate) base_path: String,
    /// Seed of the fake-data generator.
    pub(crate) seed: u64,
    /// Page size when a request does not name one.
    pub(crate) page_size: u32,
    /// Largest page size a request may ask for.
    pub(crate) max_page_size: u32,
    /// What requests that send no `Accept` / `Prefer` are treated as sending.
    pub(crate) defaults: Defaults,
    /// The resources, in spec order.
    pub(crate) resources: Vec<Resource>,
    /// Bearer-token authentication, if configured.
    pub(crate) auth: Option<Auth>,
    /// Cross-origin access.
    pub(crate) cors: Cors,
    /// Injected latency and errors for every resource without its own.
    pub(crate) faults: Faults,
    /// The real service that routes the spec does not declare are forwarded to, if any.
    pub(crate) upstream: Option<Upstream>,
    /// Custom routes declared in the spec (`routes:`), applied after `--routes`.
    pub(crate) routes: Option<std::sync::Arc<crate::rewrite::CustomRoutes>>,
    /// The behaviour keys as written (`auth`, `cors`, ...), for the normalised export.
    pub(crate) extensions: Map<String, Value>,
    /// What kind of input the spec was read from, which decides the wire behaviour.
    pub(crate) dialect: Dialect,
    /// The files the spec includes besides its main file (`include:`).
    pub(crate) included: super::include::Included,
}

/// The kind of input a spec was read from. The engine is the same for all;
/// the dialect decides what clients see where the inputs' conventions differ.
#[derive(Debug, Clone, Default)]
pub enum Dialect {
    /// standin's own spec format: HAL, validation, timestamps, strict queries.
    #[default]
    Standin,
    /// A json-server `db.json`, served the way json-server 0.17 serves it.
    JsonServer,
    /// An OpenAPI document, answered in the document's own shapes.
    OpenApi(std::sync::Arc<crate::import::openapi::Api>),
}

impl PartialEq for Dialect {
    fn eq(&self, other: &Dialect) -> bool {
        match (self, other) {
            (Dialect::Standin, Dialect::Standin) | (Dialect::JsonServer, Dialect::JsonServer) => {
                true
            }
            (Dialect::OpenApi(one), Dialect::OpenApi(other)) => std::sync::Arc::ptr_eq(one, other),
            _ => false,
        }
    }
}

impl Eq for Dialect {}

/// Request defaults from the spec's `defaults` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Defaults {
    /// Media type served when a request has no `Accept` or only `*/*`.
    pub accept: String,
    /// What writes answer when the request sends no `Prefer: return=...`;
    /// `None` means the record for POST, PUT and PATCH, and nothing for DELETE.
    pub prefer: Option<Return>,
}

/// The `return` preference of RFC 7240: answer a write with the record or without a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Return {
    /// `return=minimal`: 204 and headers only.
    Minimal,
    /// `return=representation`: the record in the body.
    Representation,
}

/// How record ids are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    /// Server-assigned ascending integers.
    Integer,
    /// Server-assigned random UUIDs.
    Uuid,
    /// Client-assigned strings; `PUT` creates.
    String,
}

/// HTTP methods a resource may allow (HEAD and OPTIONS are always allowed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Method {
    /// Read.
    Get,
    /// Create in a collection.
    Post,
    /// Replace (or create with client-assigned ids).
    Put,
    /// Partial update.
    Patch,
    /// Remove.
    Delete,
}

impl Method {
    /// Every method, in the order `Allow` headers list them.
    pub const ALL: [Method; 5] = [
        Method::Get,
        Method::Post,
        Method::Put,
        Method::Patch,
        Method::Delete,
    ];

    /// The method's name as HTTP writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// One resource: a collection of records of the same shape.
#[derive(Debug, Clone)]
pub struct Resource {
    /// The collection name, also its path segment and table name.
    pub name: String,
    /// How ids are made.
    pub id: IdKind,
    /// Whether it is a singular resource (`/profile`): one record at the
    /// resource's own path, no collection.
    pub singular: bool,
    /// The fields, in spec order.
    pub fields: Vec<Field>,
    /// Fixed records loaded before the generated ones.
    pub records: Vec<Map<String, Value>>,
    /// Number of generated records.
    pub count: u32,
    /// Methods allowed on the collection and its items.
    pub methods: BTreeSet<Method>,
    /// Whether deleted records answer 410 instead of 404.
    pub soft_delete: bool,
    /// Fields searched by `q=` (every text field unless the spec lists them).
    pub search: Vec<String>,
    /// Order of collections when a request names none (ties are broken by id).
    pub default_sort: Vec<SortKey>,
    /// The JSON Schema a record's fields must satisfy.
    pub schema: Value,
    /// The compiled form of `schema`.
    pub validator: jsonschema::Validator,
    /// Whether writes must send `If-Match` (else `428`).
    pub require_if_match: bool,
    /// Old paths (below `base_path`) that answer `301` to this collection.
    pub moved_from: Vec<String>,
    /// Allowed changes of state, by field.
    pub transitions: Transitions,
    /// The states a record may start in, by field of `transitions` (by
    /// default the first state the field's transitions list).
    pub initial_states: std::collections::BTreeMap<String, Vec<String>>,
    /// Named changes of state (`actions`), each at `POST /{name}/{id}/{action}`.
    pub actions: Vec<Action>,
    /// How long a create takes when the resource is asynchronous (`202` and a monitor).
    pub async_delay: Option<std::time::Duration>,
    /// Injected latency and errors (falling back to the spec's).
    pub faults: Faults,
    /// The behaviour keys as written (`transitions`, `async`, ...), for the normalised export.
    pub extensions: Map<String, Value>,
}

impl Resource {
    /// The field called `name`.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|field| field.name == name)
    }

    /// Whether any field is computed by the server.
    pub fn has_computed(&self) -> bool {
        self.fields.iter().any(Field::is_computed)
    }

    /// The resources whose records the computed fields read (counted collections).
    pub fn counted_resources(&self) -> impl Iterator<Item = &str> {
        self.fields
            .iter()
            .filter_map(|field| match &field.computed {
                Some(Computed::Count { resource, .. }) => Some(resource.as_str()),
                _ => None,
            })
    }

    /// Removes the computed fields from a record's fields (they are never stored).
    pub fn strip_computed(&self, fields: &mut Map<String, Value>) {
        for field in self.fields.iter().filter(|field| field.is_computed()) {
            fields.remove(&field.name);
        }
    }

    /// Whether the resource allows `method`.
    pub fn allows(&self, method: Method) -> bool {
        self.methods.contains(&method)
    }

    /// The fields that reference another resource.
    pub fn references(&self) -> impl Iterator<Item = (&Field, &Reference)> {
        self.fields
            .iter()
            .filter_map(|field| field.reference.as_ref().map(|reference| (field, reference)))
    }
}

/// The value type of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// Text.
    String,
    /// Whole numbers (`82.0` counts as one).
    Integer,
    /// Any JSON number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// ISO 8601 calendar date, `2024-05-31`.
    Date,
    /// RFC 3339 date and time, `2024-05-31T12:00:00Z`.
    DateTime,
    /// A JSON object.
    Object,
    /// A JSON array.
    Array,
}

impl FieldType {
    /// Every type name a spec may use, for suggestions.
    pub const NAMES: [&'static str; 8] = [
        "string", "integer", "number", "boolean", "date", "datetime", "object", "array",
    ];

    /// The type a spec names `name`.
    pub fn from_name(name: &str) -> Option<FieldType> {
        Some(match name {
            "string" => FieldType::String,
            "integer" => FieldType::Integer,
            "number" => FieldType::Number,
            "boolean" => FieldType::Boolean,
            "date" => FieldType::Date,
            "datetime" | "date-time" => FieldType::DateTime,
            "object" => FieldType::Object,
            "array" => FieldType::Array,
            _ => return None,
        })
    }
}

/// String formats that values are checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// An email address.
    Email,
    /// An absolute URI.
    Uri,
    /// A UUID.
    Uuid,
}

/// What deleting a referenced record does to the records referencing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDelete {
    /// Refuse the delete with 409 while dependants exist.
    Restrict,
    /// Delete the dependants too.
    Cascade,
    /// Set the dependants' reference to null.
    SetNull,
}

/// A field's reference to another resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The referenced resource's name.
    pub resource: String,
    /// What deleting the referenced record does.
    pub on_delete: OnDelete,
}

/// One field of a resource.
#[derive(Debug, Clone)]
pub struct Field {
    /// The field's name, a JSON key in every record.
    pub name: String,
    /// The value type (for references: the referenced id's type).
    pub kind: FieldType,
    /// Whether a write must supply it.
    pub required: bool,
    /// Whether two live records may not share a value.
    pub unique: bool,
    /// Value used when a create omits the field.
    pub default: Option<Value>,
    /// The allowed values, if restricted.
    pub allowed: Option<Vec<Value>>,
    /// Smallest allowed number.
    pub minimum: Option<f64>,
    /// Largest allowed number.
    pub maximum: Option<f64>,
    /// Shortest allowed string, in characters.
    pub min_length: Option<u64>,
    /// Longest allowed string, in characters.
    pub max_length: Option<u64>,
    /// Pattern strings must match.
    pub pattern: Option<Regex>,
    /// Checked string format.
    pub format: Option<Format>,
    /// Element definition of arrays.
    pub items: Option<Box<Field>>,
    /// Explicit fake-data generator name.
    pub fake: Option<String>,
    /// The referenced resource, for reference fields.
    pub reference: Option<Reference>,
    /// For a field with `transitions`, the states a record can reach from
    /// its initial ones: generated records are put in one of them.
    pub reachable_states: Option<Vec<Value>>,
    /// How the server derives the value, for a computed field (read-only to clients).
    pub computed: Option<Computed>,
}

/// How a computed field's value is derived when a record is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Computed {
    /// The number of live records of an inverse collection that reference the record.
    Count {
        /// The inverse collection's name (`comments`), as written.
        inverse: String,
        /// The referencing resource (known once every resource is read).
        resource: String,
        /// Its referencing field.
        field: String,
    },
    /// A string built from other fields of the same record.
    Template(Vec<TemplatePart>),
}

/// A piece of a template: literal text or a field's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplatePart {
    /// Text copied as it is.
    Text(String),
    /// The value of the named field (empty when it has none).
    Field(String),
}

impl Field {
    /// Whether the server computes the field (no client or seed gives it).
    pub fn is_computed(&self) -> bool {
        self.computed.is_some()
    }
}

/// One key of an ordering: a column (`id`, `created_at`, `updated_at` or a field) and its direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    /// What to order by.
    pub column: String,
    /// Largest first.
    pub descending: bool,
}

impl SortKey {
    /// Why `name` cannot be sorted on among `fields`, with the names that can.
    pub fn column_error(name: &str, fields: &[Field]) -> Option<(String, Vec<String>)> {
        let sortable = |field: &&Field| !matches!(field.kind, FieldType::Object | FieldType::Array);
        if ["id", "created_at", "updated_at"].contains(&name)
            || fields
                .iter()
                .filter(sortable)
                .any(|field| field.name == name)
        {
            return None;
        }
        let mut candidates: Vec<String> = ["id", "created_at", "updated_at"]
            .map(String::from)
            .to_vec();
        candidates.extend(
            fields
                .iter()
                .filter(sortable)
                .map(|field| field.name.clone()),
        );
        let message = if fields.iter().any(|field| field.name == name) {
            format!("'{name}' is an object or array field and cannot be sorted on")
        } else {
            format!("unknown field '{name}'")
        };
        Some((message, candidates))
    }
}

/// A view of the records of one resource that reference a record of another:
/// `/authors/3/books` is the books whose `author` is 3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inverse {
    /// Its name, the path segment after the item: the referencing resource's
    /// name, or `{resource}_by_{field}` where that resource references the
    /// target through several fields.
    pub name: String,
    /// The referencing resource.
    pub resource: String,
    /// The referencing field.
    pub field: String,
}

/// What kind of input a spec was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecKind {
    /// standin's own spec format.
    Standin,
    /// A json-server `db.json`, served as json-server 0.17 serves it.
    DbJson,
    /// An OpenAPI 3 document, answered in the document's own shapes.
    OpenApi,
}

impl Spec {
    /// The API's title.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The real service that routes the spec does not declare are forwarded to, if any.
    pub fn upstream(&self) -> Option<&Upstream> {
        self.upstream.as_ref()
    }

    /// The path prefix of every route, without a trailing slash (`""` for the root).
    pub fn base_path(&self) -> &str {
        &self.base_path
    }

    /// The seed of the fake-data generator.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The resources' names, in spec order.
    pub fn resource_names(&self) -> impl Iterator<Item = &str> {
        self.resources.iter().map(|resource| resource.name.as_str())
    }

    /// What kind of input the spec was read from.
    pub fn kind(&self) -> SpecKind {
        match self.dialect {
            Dialect::Standin => SpecKind::Standin,
            Dialect::JsonServer => SpecKind::DbJson,
            Dialect::OpenApi(_) => SpecKind::OpenApi,
        }
    }

    /// The media type served to requests that name none.
    pub fn default_media_type(&self) -> &str {
        &self.defaults.accept
    }

    /// The inverses of `target`: every way other records reference its records.
    pub fn inverses(&self, target: &str) -> Vec<Inverse> {
        inverses_among(&self.resources, target)
    }

    /// The resource called `name`.
    pub fn resource(&self, name: &str) -> Option<&Resource> {
        self.resources.iter().find(|resource| resource.name == name)
    }

    /// Every (resource, field) pair whose field references `target`.
    pub fn dependants_of<'a>(
        &'a self,
        target: &'a str,
    ) -> impl Iterator<Item = (&'a Resource, &'a Field, &'a Reference)> + 'a {
        self.resources.iter().flat_map(move |resource| {
            resource
                .references()
                .filter(move |(_, reference)| reference.resource == target)
                .map(move |(field, reference)| (resource, field, reference))
        })
    }
}

/// The inverses of `target` among `resources`: every way their records reference its records.
pub fn inverses_among(resources: &[Resource], target: &str) -> Vec<Inverse> {
    let mut inverses = Vec::new();
    for resource in resources {
        let fields: Vec<&Field> = resource
            .references()
            .filter(|(_, reference)| reference.resource == target)
            .map(|(field, _)| field)
            .collect();
        for field in &fields {
            let name = if fields.len() == 1 {
                resource.name.clone()
            } else {
                format!("{}_by_{}", resource.name, field.name)
            };
            inverses.push(Inverse {
                name,
                resource: resource.name.clone(),
                field: field.name.clone(),
            });
        }
    }
    inverses
}
