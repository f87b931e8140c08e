//! A spec's resources: names, ids, methods, sort orders and the keys kept
//! for later capabilities, each checked with its spec path.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value};

use super::checker::{Checker, describe, join};
use super::fields::{self, FieldContext};
use super::model::{Field, FieldType, IdKind, Method, Resource, SortKey};
use super::suggest::did_you_mean;

pub(super) const RESOURCE_KEYS: &[&str] = &[
    "id",
    "singular",
    "record",
    "fields",
    "records",
    "count",
    "methods",
    "soft_delete",
    "search",
    "sort",
    "moved_from",
    "transitions",
    "initial_states",
    "actions",
    "async",
    "require_if_match",
    "latency",
    "error_rate",
    "description",
];
/// Resource keys configured for later capabilities, kept verbatim.
const RESOURCE_EXTENSIONS: &[&str] = &[
    "moved_from",
    "transitions",
    "initial_states",
    "actions",
    "async",
    "require_if_match",
    "latency",
    "error_rate",
];
/// Keys a singular resource (one record, no collection) cannot have, and why.
const NOT_SINGULAR: &[(&str, &str)] = &[
    ("id", "its one record has no id in its path"),
    ("records", "give its one record as 'record'"),
    ("count", "it has exactly one record"),
    ("soft_delete", "it cannot be deleted"),
    ("search", "it has no collection to search"),
    ("sort", "it has no collection to sort"),
    ("async", "it has no collection to create in"),
    (
        "actions",
        "actions are served below the items of a collection (/posts/7/publish)",
    ),
];
const ID_KINDS: &[&str] = &["integer", "uuid", "string"];
const METHOD_NAMES: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

impl Checker {
    pub(super) fn resources(&mut self, value: &Value) -> Vec<Resource> {
        let Some(map) = self.mapping("resources", value) else {
            return Vec::new();
        };
        if map.is_empty() {
            self.error("resources", "no resources: describe at least one");
        }
        if map.len() > super::limits::MAX_RESOURCES {
            self.error_at_key(
                "resources",
                format!(
                    "{} resources: a spec describes at most {}",
                    map.len(),
                    super::limits::MAX_RESOURCES
                ),
            );
        }
        let names: Vec<&str> = map.keys().map(String::as_str).collect();
        let id_kinds: HashMap<&str, IdKind> = map
            .iter()
            .map(|(name, definition)| (name.as_str(), declared_id_kind(definition)))
            .collect();
        let context = FieldContext {
            resource_names: &names,
            id_kinds: &id_kinds,
        };
        let mut resources = Vec::new();
        for (name, definition) in map {
            let path = join("resources", name);
            if !is_resource_name(name) {
                self.report(
                    &path,
                    format!("'{name}' cannot be a resource name: use letters, digits, '_' and '-', starting with a letter"),
                    None,
                    true,
                );
                continue;
            }
            if let Some(resource) = self.resource(&path, name, definition, &context) {
                resources.push(resource);
            }
        }
        for resource in &resources {
            for (field, reference) in resource.references() {
                let singular = resources
                    .iter()
                    .any(|target| target.singular && target.name == reference.resource);
                if singular {
                    self.error(
                        &format!("resources.{}.fields.{}.ref", resource.name, field.name),
                        format!(
                            "'{}' is a singular resource: it has no ids to reference",
                            reference.resource
                        ),
                    );
                }
            }
        }
        fields::resolve_computed(self, &mut resources);
        super::actions::check_names(self, &resources);
        super::records::check_fixed_records(self, &resources);
        super::limits::check_totals(self, &resources);
        super::limits::check_names(self, &resources);
        super::limits::check_sizes(self, &resources);
        super::seeding::check(self, &resources);
        resources
    }

    fn resource(
        &mut self,
        path: &str,
        name: &str,
        definition: &Value,
        context: &FieldContext<'_>,
    ) -> Option<Resource> {
        let map = self.mapping(path, definition)?;
        self.unknown_keys(path, map, RESOURCE_KEYS);
        let id = match map.get("id") {
            Some(value) => {
                let id_path = join(path, "id");
                let text = self.string(&id_path, value).unwrap_or("integer");
                id_kind(text).unwrap_or_else(|| {
                    let hint = did_you_mean(text, ID_KINDS.iter().copied());
                    self.error_with(
                        &id_path,
                        format!("unknown id kind '{text}': expected integer, uuid or string"),
                        hint,
                    );
                    IdKind::Integer
                })
            }
            None => IdKind::Integer,
        };
        let fields_path = join(path, "fields");
        let mut fields = match map.get("fields") {
            Some(value) => fields::fields(self, &fields_path, value, context),
            None => {
                self.error_at_key(path, format!("resource '{name}' has no 'fields'"));
                Vec::new()
            }
        };
        let singular = match map.get("singular") {
            Some(value) => self
                .boolean(&join(path, "singular"), value)
                .unwrap_or(false),
            None => false,
        };
        let mut records = self.fixed_records(&join(path, "records"), map.get("records"));
        let mut count = match map.get("count") {
            Some(value) => self
                .unsigned(&join(path, "count"), value, (0, super::limits::MAX_COUNT))
                .unwrap_or(0),
            None => 0,
        } as u32;
        let mut methods = self.methods(&join(path, "methods"), map.get("methods"));
        // A singular resource's one record is stored under id 1.
        let id = if singular { IdKind::Integer } else { id };
        if singular {
            (records, count) = self.singular(path, map, &mut methods);
        } else if map.contains_key("record") {
            self.error_at_key(
                &join(path, "record"),
                "'record' is the one record of a singular resource: add 'singular: true', or list records under 'records'",
            );
        }
        let soft_delete = match map.get("soft_delete") {
            Some(value) => self
                .boolean(&join(path, "soft_delete"), value)
                .unwrap_or(false),
            None => false,
        };
        let field_names: Vec<&str> = fields.iter().map(|field| field.name.as_str()).collect();
        let search_path = join(path, "search");
        let search = match map.get("search") {
            Some(value) => self.field_list(&search_path, Some(value), &field_names),
            // Without a list, `q=` searches every text field.
            None => fields
                .iter()
                .filter(|field| {
                    field.kind == FieldType::String
                        && field.reference.is_none()
                        && !field.is_computed()
                })
                .map(|field| field.name.clone())
                .collect(),
        };
        for (index, name) in search.iter().enumerate() {
            let is_text = fields
                .iter()
                .any(|field| &field.name == name && field.kind == FieldType::String);
            let computed = fields
                .iter()
                .any(|field| &field.name == name && field.is_computed());
            if computed {
                self.error(
                    &join(&search_path, &index.to_string()),
                    format!("'{name}' is computed: only stored text can be searched"),
                );
            } else if !is_text && map.contains_key("search") {
                self.error(
                    &join(&search_path, &index.to_string()),
                    format!("'{name}' is not a string field: only text can be searched"),
                );
            }
        }
        let default_sort = match map.get("sort") {
            Some(value) => self.sort(&join(path, "sort"), value, &fields),
            None => Vec::new(),
        };
        let schema = fields::record_schema(&fields);
        let validator = match fields::compile(&schema) {
            Ok(validator) => validator,
            Err(message) => {
                self.error(&fields_path, message);
                return None;
            }
        };
        let extensions = map
            .iter()
            .filter(|(key, _)| RESOURCE_EXTENSIONS.contains(&key.as_str()))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        let require_if_match = match map.get("require_if_match") {
            Some(value) => self
                .boolean(&join(path, "require_if_match"), value)
                .unwrap_or(false),
            None => false,
        };
        let moved_from = match map.get("moved_from") {
            Some(value) => self.moved_from(&join(path, "moved_from"), value),
            None => Vec::new(),
        };
        let transitions = match map.get("transitions") {
            Some(value) => self.transitions(&join(path, "transitions"), value, &fields),
            None => Default::default(),
        };
        let initial_states = self.initial_states(path, map, &transitions, &mut fields);
        let actions = match map.get("actions") {
            Some(value) if !singular => {
                self.actions(&join(path, "actions"), value, &transitions, &methods)
            }
            _ => Vec::new(),
        };
        let async_delay = map
            .get("async")
            .and_then(|value| self.async_delay(&join(path, "async"), value));
        let faults = self.faults(path, map);
        Some(Resource {
            name: name.to_string(),
            id,
            singular,
            fields,
            records,
            count,
            methods,
            soft_delete,
            search,
            default_sort,
            schema,
            validator,
            require_if_match,
            moved_from,
            transitions,
            initial_states,
            actions,
            async_delay,
            faults,
            extensions,
        })
    }

    /// A singular resource's one record (`record`, else one generated) and
    /// methods (GET, PUT and PATCH unless listed); its collection keys refused.
    fn singular(
        &mut self,
        path: &str,
        map: &Map<String, Value>,
        methods: &mut BTreeSet<Method>,
    ) -> (Vec<Map<String, Value>>, u32) {
        for (key, why) in NOT_SINGULAR {
            if map.contains_key(*key) {
                self.error_at_key(
                    &join(path, key),
                    format!("a singular resource has no '{key}': {why}"),
                );
            }
        }
        let methods_path = join(path, "methods");
        match map.get("methods").and_then(Value::as_array) {
            Some(items) => {
                for (index, item) in items.iter().enumerate() {
                    let name = item.as_str().unwrap_or_default().to_ascii_uppercase();
                    if name == "POST" || name == "DELETE" {
                        self.error(
                            &join(&methods_path, &index.to_string()),
                            format!("{name} is not allowed: a singular resource has one record, read, replaced and changed with GET, PUT and PATCH"),
                        );
                    }
                }
                methods.retain(|method| !matches!(method, Method::Post | Method::Delete));
            }
            None => {
                *methods = [Method::Get, Method::Put, Method::Patch]
                    .into_iter()
                    .collect()
            }
        }
        let record_path = join(path, "record");
        match map.get("record") {
            Some(value) => match self.mapping(&record_path, value) {
                Some(record) => {
                    if record.contains_key("id") {
                        self.error_at_key(
                            &join(&record_path, "id"),
                            "a singular resource's record has no id",
                        );
                    }
                    (vec![record.clone()], 0)
                }
                None => (Vec::new(), 1),
            },
            None => (Vec::new(), 1),
        }
    }

    fn fixed_records(&mut self, path: &str, value: Option<&Value>) -> Vec<Map<String, Value>> {
        let Some(value) = value else {
            return Vec::new();
        };
        let Some(items) = value.as_array() else {
            self.error(
                path,
                format!("expected a list of records, found {}", describe(value)),
            );
            return Vec::new();
        };
        let mut records = Vec::new();
        for (index, item) in items.iter().enumerate() {
            if let Some(record) = self.mapping(&join(path, &index.to_string()), item) {
                records.push(record.clone());
            }
        }
        records
    }

    fn methods(&mut self, path: &str, value: Option<&Value>) -> BTreeSet<Method> {
        let Some(value) = value else {
            return Method::ALL.into_iter().collect();
        };
        let Some(items) = value.as_array() else {
            self.error(
                path,
                format!("expected a list of methods, found {}", describe(value)),
            );
            return Method::ALL.into_iter().collect();
        };
        let mut methods = BTreeSet::new();
        for (index, item) in items.iter().enumerate() {
            let item_path = join(path, &index.to_string());
            let Some(name) = self.string(&item_path, item) else {
                continue;
            };
            match Method::ALL
                .into_iter()
                .find(|method| method.as_str().eq_ignore_ascii_case(name))
            {
                Some(method) => {
                    methods.insert(method);
                }
                None if matches!(name.to_ascii_uppercase().as_str(), "HEAD" | "OPTIONS") => {
                    self.error(
                        &item_path,
                        format!(
                            "{name} is not listed: OPTIONS is always allowed and HEAD follows GET"
                        ),
                    );
                }
                None => {
                    let hint = did_you_mean(name, METHOD_NAMES.iter().copied());
                    self.error_with(
                        &item_path,
                        format!(
                            "unknown method '{name}': expected one of {}",
                            METHOD_NAMES.join(", ")
                        ),
                        hint,
                    );
                }
            }
        }
        methods
    }

    /// A sort order: `-year,title` or a list of such keys.
    fn sort(&mut self, path: &str, value: &Value, fields: &[Field]) -> Vec<SortKey> {
        let keys: Vec<(String, String)> = match value {
            Value::String(text) => text
                .split(',')
                .map(|key| (path.to_string(), key.trim().to_string()))
                .collect(),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .filter_map(|(index, item)| {
                    let item_path = join(path, &index.to_string());
                    self.string(&item_path, item)
                        .map(|key| (item_path, key.to_string()))
                })
                .collect(),
            other => {
                self.error(
                    path,
                    format!(
                        "expected a sort order like -year,title, found {}",
                        describe(other)
                    ),
                );
                return Vec::new();
            }
        };
        let mut order = Vec::new();
        for (key_path, key) in keys {
            let (descending, name) = match key.strip_prefix('-') {
                Some(name) => (true, name),
                None => (false, key.strip_prefix('+').unwrap_or(&key)),
            };
            match SortKey::column_error(name, fields) {
                None => order.push(SortKey {
                    column: name.to_string(),
                    descending,
                }),
                Some((message, candidates)) => {
                    let hint = did_you_mean(name, candidates.iter().map(String::as_str));
                    self.error_with(&key_path, message, hint);
                }
            }
        }
        order
    }

    fn field_list(&mut self, path: &str, value: Option<&Value>, names: &[&str]) -> Vec<String> {
        let Some(value) = value else {
            return Vec::new();
        };
        let Some(items) = value.as_array() else {
            self.error(
                path,
                format!("expected a list of field names, found {}", describe(value)),
            );
            return Vec::new();
        };
        let mut list = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let item_path = join(path, &index.to_string());
            let Some(name) = self.string(&item_path, item) else {
                continue;
            };
            if names.contains(&name) {
                list.push(name.to_string());
            } else {
                let hint = did_you_mean(name, names.iter().copied());
                self.error_with(&item_path, format!("unknown field '{name}'"), hint);
            }
        }
        list
    }
}

fn declared_id_kind(definition: &Value) -> IdKind {
    definition
        .get("id")
        .and_then(Value::as_str)
        .and_then(id_kind)
        .unwrap_or(IdKind::Integer)
}

fn id_kind(text: &str) -> Option<IdKind> {
    match text {
        "integer" => Some(IdKind::Integer),
        "uuid" => Some(IdKind::Uuid),
        "string" => Some(IdKind::String),
        _ => None,
    }
}

/// Whether `name` can be a resource (a path segment and a table name).
pub(super) fn is_resource_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && name.len() <= 64
}
