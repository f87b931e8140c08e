//! Turns a spec document (already parsed into a JSON value) into the model,
//! collecting every problem instead of stopping at the first. Each rejection
//! names the spec path; positions are looked up from the source afterwards.

use std::collections::{BTreeSet, HashMap};

use regex::Regex;
use serde_json::{Map, Value};

use super::diagnostic::{Diagnostic, SpecErrors};
use super::fields::{self, FieldContext};
use super::locate::Locations;
use super::model::{
    Defaults, Dialect, Field, FieldType, IdKind, Method, Resource, Return, SortKey, Spec,
};
use super::suggest::did_you_mean;

const TOP_LEVEL_KEYS: &[&str] = &[
    "standin",
    "title",
    "base_path",
    "seed",
    "page_size",
    "max_page_size",
    "defaults",
    "resources",
    "auth",
    "cors",
    "latency",
    "error_rate",
    "$schema",
];
/// Top-level keys configured for later capabilities, kept verbatim.
const TOP_LEVEL_EXTENSIONS: &[&str] = &["auth", "cors", "latency", "error_rate"];
const DEFAULTS_KEYS: &[&str] = &["accept", "prefer"];
const RESOURCE_KEYS: &[&str] = &[
    "id",
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
    "async",
    "require_if_match",
    "latency",
    "error_rate",
];
/// Media types `defaults.accept` may name.
pub const SERVABLE_MEDIA_TYPES: &[&str] = &["application/hal+json", "application/json"];
const ID_KINDS: &[&str] = &["integer", "uuid", "string"];
const METHOD_NAMES: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

/// Advice for a key written where another format, or another level of the
/// spec, would have it: better than the nearest known key's name.
fn misplaced(key: &str, known: &[&str]) -> Option<String> {
    let in_field = known.contains(&"type") && known.contains(&"required");
    let in_resource = known == RESOURCE_KEYS;
    let advice = match key {
        "required" if in_resource => {
            "JSON Schema lists required fields on the object; here each field says so: name: { type: string, required: true }".to_string()
        }
        "properties" if in_resource => "a resource lists its fields under 'fields'".to_string(),
        "values" | "options" | "choices" if in_field => {
            "list the allowed values under 'enum': { type: string, enum: [a, b] }".to_string()
        }
        key if in_field && RESOURCE_KEYS.contains(&key) => format!(
            "'{key}' belongs to the resource, beside 'fields', not to a field"
        ),
        _ => return None,
    };
    Some(advice)
}

/// Parses and validates a spec from its source text; `file` names it in diagnostics.
pub fn parse(file: &str, source: &str) -> Result<Spec, SpecErrors> {
    let mut checker = Checker::new(file, source);
    let document = match super::source::document(file, source) {
        Ok(document) => document,
        Err(diagnostic) => {
            return Err(SpecErrors {
                diagnostics: vec![diagnostic],
                source: source.to_string(),
            });
        }
    };
    let spec = checker.spec(&document);
    match spec {
        Some(spec) if checker.diagnostics.is_empty() => Ok(spec),
        _ => Err(checker.finish()),
    }
}

/// Collects diagnostics while walking a spec document.
pub(super) struct Checker {
    file: String,
    source: String,
    locations: Locations,
    diagnostics: Vec<Diagnostic>,
}

impl Checker {
    fn new(file: &str, source: &str) -> Checker {
        Checker {
            file: file.to_string(),
            source: source.to_string(),
            locations: Locations::of(source),
            diagnostics: Vec::new(),
        }
    }

    fn finish(mut self) -> SpecErrors {
        self.diagnostics
            .sort_by_key(|diagnostic| diagnostic.position.map(|p| (p.line, p.column)));
        SpecErrors {
            diagnostics: self.diagnostics,
            source: self.source,
        }
    }

    /// Whether a problem was reported at `path` or below it.
    pub(super) fn has_problems_under(&self, path: &str) -> bool {
        self.diagnostics.iter().any(|diagnostic| {
            diagnostic
                .path
                .strip_prefix(path)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
        })
    }

    /// Reports a problem with the value at `path`.
    pub(super) fn error(&mut self, path: &str, message: impl Into<String>) {
        self.report(path, message.into(), None, false);
    }

    /// Reports a problem with the key of `path` (it is misplaced, or lacks something).
    pub(super) fn error_at_key(&mut self, path: &str, message: impl Into<String>) {
        self.report(path, message.into(), None, true);
    }

    /// Reports a problem with the value at `path`, with a suggested fix.
    pub(super) fn error_with(
        &mut self,
        path: &str,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        self.report(path, message.into(), hint, false);
    }

    fn report(&mut self, path: &str, message: String, suggestion: Option<String>, at_key: bool) {
        let position = if at_key {
            self.locations.key(path)
        } else {
            self.locations.value(path)
        };
        self.diagnostics.push(Diagnostic {
            file: self.file.clone(),
            position,
            path: path.to_string(),
            message,
            suggestion,
        });
    }

    /// Reports every key of `map` not in `known`, with a suggestion.
    pub(super) fn unknown_keys(&mut self, path: &str, map: &Map<String, Value>, known: &[&str]) {
        for key in map.keys().filter(|key| !known.contains(&key.as_str())) {
            let hint = misplaced(key, known).or_else(|| did_you_mean(key, known.iter().copied()));
            let key_path = join(path, key);
            self.report(&key_path, format!("unknown key '{key}'"), hint, true);
        }
    }

    /// The value as a mapping, or a diagnostic.
    pub(super) fn mapping<'v>(
        &mut self,
        path: &str,
        value: &'v Value,
    ) -> Option<&'v Map<String, Value>> {
        let map = value.as_object();
        if map.is_none() {
            self.error(
                path,
                format!("expected a mapping, found {}", describe(value)),
            );
        }
        map
    }

    pub(super) fn string<'v>(&mut self, path: &str, value: &'v Value) -> Option<&'v str> {
        let text = value.as_str();
        if text.is_none() {
            self.error(
                path,
                format!("expected a string, found {}", describe(value)),
            );
        }
        text
    }

    pub(super) fn boolean(&mut self, path: &str, value: &Value) -> Option<bool> {
        let flag = value.as_bool();
        if flag.is_none() {
            self.error(
                path,
                format!("expected true or false, found {}", describe(value)),
            );
        }
        flag
    }

    pub(super) fn unsigned(&mut self, path: &str, value: &Value, range: (u64, u64)) -> Option<u64> {
        let number = value.as_u64().or_else(|| {
            value
                .as_f64()
                .filter(|float| float.fract() == 0.0 && *float >= 0.0 && *float < 1.8e19)
                .map(|float| float as u64)
        });
        match number {
            Some(number) if number >= range.0 && number <= range.1 => Some(number),
            Some(number) => {
                self.error(
                    path,
                    format!(
                        "{number} is out of range: expected {} to {}",
                        range.0, range.1
                    ),
                );
                None
            }
            None => {
                self.error(
                    path,
                    format!("expected a whole number, found {}", describe(value)),
                );
                None
            }
        }
    }

    pub(super) fn number(&mut self, path: &str, value: &Value) -> Option<f64> {
        let number = value.as_f64();
        if number.is_none() {
            self.error(
                path,
                format!("expected a number, found {}", describe(value)),
            );
        }
        number
    }

    fn spec(&mut self, document: &Value) -> Option<Spec> {
        let top = self.mapping("", document)?;
        self.unknown_keys("", top, TOP_LEVEL_KEYS);
        match top.get("standin") {
            None => self.error(
                "",
                "missing key 'standin' (the format version): add `standin: 1`",
            ),
            Some(version) => {
                if version.as_u64() != Some(1) {
                    self.error(
                        "standin",
                        format!("unsupported format version {version}: expected 1"),
                    );
                }
            }
        }
        let title = match top.get("title") {
            Some(value) => self.string("title", value).unwrap_or_default().to_string(),
            None => "standin API".to_string(),
        };
        let base_path = top
            .get("base_path")
            .and_then(|value| self.base_path(value))
            .unwrap_or_default();
        let seed = match top.get("seed") {
            Some(value) => self.unsigned("seed", value, (0, u64::MAX)).unwrap_or(0),
            None => 0,
        };
        let max_page_size = match top.get("max_page_size") {
            Some(value) => self
                .unsigned("max_page_size", value, (1, 10_000))
                .unwrap_or(100),
            None => 100,
        } as u32;
        let page_size = match top.get("page_size") {
            Some(value) => self
                .unsigned("page_size", value, (1, u64::from(max_page_size)))
                .unwrap_or(20),
            None => 20.min(u64::from(max_page_size)),
        } as u32;
        let defaults = self.defaults(top.get("defaults"));
        let resources = match top.get("resources") {
            Some(value) => self.resources(value),
            None => {
                self.error(
                    "",
                    "missing key 'resources': a spec describes at least one resource",
                );
                Vec::new()
            }
        };
        let extensions = top
            .iter()
            .filter(|(key, _)| TOP_LEVEL_EXTENSIONS.contains(&key.as_str()))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        let auth = top.get("auth").and_then(|value| self.auth(value));
        let cors = match top.get("cors") {
            Some(value) => self.cors(value),
            None => super::behaviour::Cors::AnyOrigin,
        };
        let faults = self.faults("", top);
        Some(Spec {
            title,
            base_path,
            seed,
            page_size,
            max_page_size,
            defaults,
            resources,
            auth,
            cors,
            faults,
            extensions,
            dialect: Dialect::Standin,
        })
    }

    fn base_path(&mut self, value: &Value) -> Option<String> {
        let text = self.string("base_path", value)?;
        let trimmed = text.trim_end_matches('/');
        let valid_segment = |segment: &str| {
            !segment.is_empty()
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c))
        };
        if !text.starts_with('/') || !trimmed.split('/').skip(1).all(valid_segment) {
            self.error(
                "base_path",
                format!("'{text}' is not a path: expected something like /api or /v1/shop"),
            );
            return None;
        }
        Some(trimmed.to_string())
    }

    fn defaults(&mut self, value: Option<&Value>) -> Defaults {
        let mut defaults = Defaults {
            accept: "application/hal+json".to_string(),
            prefer: None,
        };
        let Some(map) = value.and_then(|value| self.mapping("defaults", value)) else {
            return defaults;
        };
        self.unknown_keys("defaults", map, DEFAULTS_KEYS);
        if let Some(value) = map.get("accept")
            && let Some(accept) = self.string("defaults.accept", value)
        {
            if SERVABLE_MEDIA_TYPES.contains(&accept) {
                defaults.accept = accept.to_string();
            } else {
                let hint = did_you_mean(accept, SERVABLE_MEDIA_TYPES.iter().copied());
                let message = format!(
                    "'{accept}' is not a media type standin serves: expected one of {}",
                    SERVABLE_MEDIA_TYPES.join(", ")
                );
                self.error_with("defaults.accept", message, hint);
            }
        }
        if let Some(value) = map.get("prefer")
            && let Some(prefer) = self.string("defaults.prefer", value)
        {
            match prefer {
                "return=representation" => defaults.prefer = Some(Return::Representation),
                "return=minimal" => defaults.prefer = Some(Return::Minimal),
                other => self.error(
                    "defaults.prefer",
                    format!("'{other}' is not supported: expected return=representation or return=minimal"),
                ),
            }
        }
        defaults
    }

    fn resources(&mut self, value: &Value) -> Vec<Resource> {
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
        let records = self.fixed_records(&join(path, "records"), map.get("records"));
        let count = match map.get("count") {
            Some(value) => self
                .unsigned(&join(path, "count"), value, (0, super::limits::MAX_COUNT))
                .unwrap_or(0),
            None => 0,
        } as u32;
        let methods = self.methods(&join(path, "methods"), map.get("methods"));
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
                .filter(|field| field.kind == FieldType::String && field.reference.is_none())
                .map(|field| field.name.clone())
                .collect(),
        };
        for (index, name) in search.iter().enumerate() {
            let is_text = fields
                .iter()
                .any(|field| &field.name == name && field.kind == FieldType::String);
            if !is_text && map.contains_key("search") {
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
        let async_delay = map
            .get("async")
            .and_then(|value| self.async_delay(&join(path, "async"), value));
        let faults = self.faults(path, map);
        Some(Resource {
            name: name.to_string(),
            id,
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
            async_delay,
            faults,
            extensions,
        })
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
fn is_resource_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && name.len() <= 64
}

/// `parent.child`, or `child` at the top.
pub(super) fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_string()
    } else {
        format!("{parent}.{child}")
    }
}

/// A short description of a value's type for messages.
pub(super) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "nothing (null)".to_string(),
        Value::Bool(flag) => format!("the boolean {flag}"),
        Value::Number(number) => format!("the number {number}"),
        Value::String(text) => format!("the string '{text}'"),
        Value::Array(_) => "a list".to_string(),
        Value::Object(_) => "a mapping".to_string(),
    }
}

/// A pattern compiled for fake-data generation, if `pattern` is a valid regex.
pub(super) fn compile_pattern(pattern: &str) -> Result<Regex, String> {
    Regex::new(pattern).map_err(|error| format!("invalid pattern: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(source: &str) -> Vec<String> {
        match parse("spec.yaml", source) {
            Ok(_) => Vec::new(),
            Err(errors) => errors.diagnostics.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn a_minimal_spec_parses() {
        let spec = parse(
            "spec.yaml",
            "standin: 1\nresources:\n  todos:\n    fields:\n      title: string\n",
        )
        .unwrap();
        assert_eq!(spec.resources[0].name, "todos");
        assert_eq!(spec.page_size, 20);
        assert_eq!(spec.defaults.accept, "application/hal+json");
    }

    #[test]
    fn unknown_keys_are_reported_with_a_suggestion() {
        let found =
            problems("standin: 1\nresources:\n  todos:\n    feilds:\n      title: string\n");
        assert!(
            found
                .iter()
                .any(|p| p.contains("spec.yaml:4:5") && p.contains("did you mean 'fields'?")),
            "{found:?}"
        );
    }
}
