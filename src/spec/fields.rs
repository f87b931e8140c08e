//! Field definitions: the shorthand (`title: string`) and the JSON Schema
//! keywords, references between resources, and the JSON Schema each
//! resource's records are validated against.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::checker::{Checker, compile_pattern, describe, join};
use super::generators::{GENERATORS, is_generator};
use super::limits::{MAX_FIELDS, MAX_NESTING};
use super::model::{Computed, Field, FieldType, Format, IdKind, OnDelete, Reference, TemplatePart};
use super::suggest::did_you_mean;
use super::values::integer_bounds;

pub(super) const FIELD_KEYS: &[&str] = &[
    "type",
    "format",
    "enum",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "items",
    "default",
    "required",
    "unique",
    "fake",
    "ref",
    "on_delete",
    "description",
    "count",
    "template",
    // Expanded away before fields are read (spec/definitions); known here
    // so that a misspelling of it gets a suggestion.
    "$ref",
];
/// The keys a computed field may have beside `count` or `template`.
const COMPUTED_KEYS: &[&str] = &["type", "description", "count", "template"];
const FORMATS: &[&str] = &["email", "uri", "uuid", "date", "date-time"];
const ON_DELETE: &[&str] = &["restrict", "cascade", "set_null"];
/// Names every record carries that fields may not take.
pub const RESERVED_NAMES: &[&str] = &["id", "created_at", "updated_at"];
/// Names of links every HAL item has, which a field's link would replace.
const LINK_NAMES: &[&str] = &["self", "collection", "describedby"];

/// What field parsing needs to know about the other resources.
pub(super) struct FieldContext<'a> {
    pub resource_names: &'a [&'a str],
    pub id_kinds: &'a HashMap<&'a str, IdKind>,
}

/// Parses the `fields` mapping of a resource.
pub(super) fn fields(
    checker: &mut Checker,
    path: &str,
    value: &Value,
    context: &FieldContext<'_>,
) -> Vec<Field> {
    let Some(map) = checker.mapping(path, value) else {
        return Vec::new();
    };
    if map.len() > MAX_FIELDS {
        checker.error_at_key(
            path,
            format!("{} fields: a resource has at most {MAX_FIELDS}", map.len()),
        );
    }
    let mut fields = Vec::new();
    let mut by_folded: HashMap<String, &str> = HashMap::new();
    for (name, definition) in map {
        let field_path = join(path, name);
        if let Some(other) = by_folded.insert(name.to_ascii_lowercase(), name) {
            checker.error_at_key(
                &field_path,
                format!("'{name}' differs from field '{other}' only in case, and they would share an index (SQLite ignores case in names): rename one"),
            );
            continue;
        }
        if RESERVED_NAMES.contains(&name.as_str()) {
            checker.error(
                &field_path,
                format!("'{name}' is set by the server on every record and cannot be a field"),
            );
            continue;
        }
        if LINK_NAMES.contains(&name.as_str()) {
            checker.error_at_key(
                &field_path,
                format!("'{name}' is the name of a link every item has and cannot be a field"),
            );
            continue;
        }
        if !is_field_name(name) {
            let hint = name
                .starts_with('$')
                .then(|| did_you_mean(name, ["$use"]))
                .flatten();
            checker.error_with(&field_path, format!("'{name}' cannot be a field name: use letters, digits and '_', starting with a letter"), hint);
            continue;
        }
        if let Some(field) = field(checker, &field_path, name, definition, context, 0) {
            fields.push(field);
        }
    }
    fields
}

fn is_field_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 64
}

fn blank_field(name: &str, kind: FieldType) -> Field {
    Field {
        name: name.to_string(),
        kind,
        required: false,
        unique: false,
        default: None,
        allowed: None,
        minimum: None,
        maximum: None,
        min_length: None,
        max_length: None,
        pattern: None,
        format: None,
        items: None,
        fake: None,
        reference: None,
        reachable_states: None,
        computed: None,
    }
}

/// The type named `name` (at `path`), or a diagnostic with a suggestion.
pub(super) fn field_type(checker: &mut Checker, path: &str, name: &str) -> Option<FieldType> {
    let kind = FieldType::from_name(name);
    if kind.is_none() {
        let hint = if name == "enum" {
            Some("there is no type 'enum': give the values' type and list them under 'enum', as in { type: string, enum: [draft, published] }".to_string())
        } else {
            did_you_mean(name, FieldType::NAMES.iter().copied())
        };
        checker.error_with(
            path,
            format!(
                "unknown type '{name}': expected one of {}",
                FieldType::NAMES.join(", ")
            ),
            hint,
        );
    }
    kind
}

/// One field's definition; `depth` counts the `items` it is nested in.
fn field(
    checker: &mut Checker,
    path: &str,
    name: &str,
    definition: &Value,
    context: &FieldContext<'_>,
    depth: usize,
) -> Option<Field> {
    if let Value::String(type_name) = definition {
        let kind = field_type(checker, path, type_name)?;
        return Some(blank_field(name, kind));
    }
    let map = checker.mapping(path, definition)?;
    checker.unknown_keys(path, map, FIELD_KEYS);
    if depth == 0 && (map.contains_key("count") || map.contains_key("template")) {
        return computed(checker, path, name, map);
    }
    if depth > 0 {
        for key in ["count", "template"] {
            if map.contains_key(key) {
                checker.error_at_key(
                    &join(path, key),
                    format!("'{key}' makes a computed field, which an array's items cannot be"),
                );
            }
        }
    }
    let reference = map
        .get("ref")
        .and_then(|value| reference(checker, path, value, map.get("on_delete"), context));
    if !map.contains_key("ref") && map.contains_key("on_delete") {
        checker.error_at_key(
            &join(path, "on_delete"),
            "on_delete applies only to fields with 'ref'",
        );
    }
    let declared = match map.get("type") {
        Some(value) => {
            let type_path = join(path, "type");
            let text = checker.string(&type_path, value)?;
            Some(field_type(checker, &type_path, text)?)
        }
        None => None,
    };
    let referenced_kind = reference.as_ref().map(|reference| {
        match context.id_kinds.get(reference.resource.as_str()) {
            Some(IdKind::Integer) | None => FieldType::Integer,
            Some(_) => FieldType::String,
        }
    });
    let mut kind = match (declared, referenced_kind) {
        (Some(declared), Some(referenced)) if declared != referenced => {
            checker.error(
                &join(path, "type"),
                "the type of a reference is the referenced id's type: remove 'type'",
            );
            referenced
        }
        (_, Some(referenced)) => referenced,
        (Some(declared), None) => declared,
        (None, None) => FieldType::String,
    };
    let mut field = blank_field(name, kind);
    field.reference = reference;
    if let Some(value) = map.get("format") {
        let format_path = join(path, "format");
        match checker.string(&format_path, value) {
            Some("date") if kind == FieldType::String => kind = FieldType::Date,
            Some("date-time") if kind == FieldType::String => kind = FieldType::DateTime,
            Some("email") => field.format = Some(Format::Email),
            Some("uri") => field.format = Some(Format::Uri),
            Some("uuid") => field.format = Some(Format::Uuid),
            Some(other) if FORMATS.contains(&other) => {}
            Some(other) => {
                let hint = did_you_mean(other, FORMATS.iter().copied());
                checker.error_with(
                    &format_path,
                    format!(
                        "unknown format '{other}': expected one of {}",
                        FORMATS.join(", ")
                    ),
                    hint,
                );
            }
            None => {}
        }
        if field.format.is_some() && kind != FieldType::String {
            checker.error_at_key(&format_path, "format applies only to string fields");
        }
    }
    field.kind = kind;
    constraints(checker, path, map, &mut field);
    if let Some(value) = map.get("items") {
        let items_path = join(path, "items");
        if kind != FieldType::Array {
            checker.error_at_key(&items_path, "items applies only to array fields");
        } else if depth == MAX_NESTING {
            checker.error_at_key(
                &items_path,
                format!("arrays nest more than {MAX_NESTING} deep here: flatten the structure"),
            );
        } else if let Some(items) =
            self::field(checker, &items_path, name, value, context, depth + 1)
        {
            if items.reference.is_some() {
                checker.error(
                    &items_path,
                    "references inside arrays are not supported: reference from the other side",
                );
            }
            field.items = Some(Box::new(items));
        }
    }
    flags(checker, path, map, &mut field);
    check_enum(checker, &join(path, "enum"), &field);
    if let Some(value) = map.get("default") {
        check_default(checker, &join(path, "default"), value, &field);
        field.default = Some(value.clone());
    }
    if let Some(value) = map.get("fake") {
        field.fake = checker
            .string(&join(path, "fake"), value)
            .map(str::to_string);
        if let Some(generator) = &field.fake
            && !is_generator(generator)
        {
            let hint = did_you_mean(generator, GENERATORS.iter().copied());
            checker.error_with(
                &join(path, "fake"),
                format!("unknown generator '{generator}'"),
                hint,
            );
        }
    }
    Some(field)
}

/// A computed field: `count: comments` or `template: "{first} {last}"`,
/// with no key that only a stored field has. The count's inverse and the
/// template's fields are checked once every resource is read.
fn computed(
    checker: &mut Checker,
    path: &str,
    name: &str,
    map: &Map<String, Value>,
) -> Option<Field> {
    if map.contains_key("count") && map.contains_key("template") {
        checker.error_at_key(
            &join(path, "template"),
            "a field is either a count or a template, not both",
        );
        return None;
    }
    for key in map.keys() {
        if FIELD_KEYS.contains(&key.as_str()) && !COMPUTED_KEYS.contains(&key.as_str()) {
            checker.error_at_key(
                &join(path, key),
                format!("a computed field has no '{key}': the server computes its value, and clients never write it"),
            );
        }
    }
    let (kind, computed) = if let Some(value) = map.get("count") {
        let inverse = checker.string(&join(path, "count"), value)?;
        let computed = Computed::Count {
            inverse: inverse.to_string(),
            resource: String::new(),
            field: String::new(),
        };
        (FieldType::Integer, computed)
    } else {
        let template_path = join(path, "template");
        let text = checker.string(&template_path, map.get("template")?)?;
        let parts = match template_parts(text) {
            Ok(parts) => parts,
            Err(message) => {
                checker.error(&template_path, message);
                return None;
            }
        };
        (FieldType::String, Computed::Template(parts))
    };
    if let Some(value) = map.get("type") {
        let type_path = join(path, "type");
        if let Some(text) = checker.string(&type_path, value)
            && FieldType::from_name(text) != Some(kind)
        {
            let (key, written) = match kind {
                FieldType::Integer => ("count", "integer"),
                _ => ("template", "string"),
            };
            checker.error(
                &type_path,
                format!("a {key}'s type is {written}: remove 'type' or make it {written}"),
            );
        }
    }
    let mut field = blank_field(name, kind);
    field.computed = Some(computed);
    Some(field)
}

/// The pieces of a template: `{name}` is a field's value, `{{` and `}}` are braces.
pub(super) fn template_parts(text: &str) -> Result<Vec<TemplatePart>, String> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                literal.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                literal.push('}');
            }
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => name.push(c),
                        None => {
                            return Err(format!(
                                "'{{{name}' is not closed: write {{field}}, or {{{{ for a brace"
                            ));
                        }
                    }
                }
                if !is_field_name(&name) {
                    return Err(format!(
                        "'{{{name}}}' does not name a field: write {{field}}, or {{{{ and }}}} for braces"
                    ));
                }
                if !literal.is_empty() {
                    parts.push(TemplatePart::Text(std::mem::take(&mut literal)));
                }
                parts.push(TemplatePart::Field(name));
            }
            '}' => return Err("a lone '}': write }} for a brace".to_string()),
            c if c.is_control() => {
                return Err("a template cannot hold control characters".to_string());
            }
            c => literal.push(c),
        }
    }
    if !literal.is_empty() {
        parts.push(TemplatePart::Text(literal));
    }
    Ok(parts)
}

/// Checks what computed fields name, once every resource is read: a
/// count's inverse collection and a template's fields; fills in what a count counts.
pub(super) fn resolve_computed(checker: &mut Checker, resources: &mut [super::model::Resource]) {
    let mut resolved = Vec::new();
    for (index, resource) in resources.iter().enumerate() {
        let inverses = super::model::inverses_among(resources, &resource.name);
        for (position, field) in resource.fields.iter().enumerate() {
            let path = format!("resources.{}.fields.{}", resource.name, field.name);
            match &field.computed {
                Some(Computed::Count { inverse, .. }) => {
                    let count_path = join(&path, "count");
                    match inverses.iter().find(|candidate| &candidate.name == inverse) {
                        Some(found) => resolved.push((index, position, found.clone())),
                        None if inverses.is_empty() => checker.error(
                            &count_path,
                            format!("'{inverse}' is not an inverse collection of {}: no resource references it (a count counts the records whose 'ref: {}' field names the record)", resource.name, resource.name),
                        ),
                        None => {
                            let names = inverses.iter().map(|inverse| inverse.name.as_str());
                            let hint = did_you_mean(inverse, names.clone());
                            checker.error_with(
                                &count_path,
                                format!(
                                    "'{inverse}' is not an inverse collection of {}: expected one of {}",
                                    resource.name,
                                    names.collect::<Vec<_>>().join(", ")
                                ),
                                hint,
                            );
                        }
                    }
                }
                Some(Computed::Template(parts)) => {
                    for part in parts {
                        let TemplatePart::Field(name) = part else {
                            continue;
                        };
                        let template_path = join(&path, "template");
                        match resource.field(name) {
                            None => {
                                let names = resource
                                    .fields
                                    .iter()
                                    .filter(|field| !field.is_computed())
                                    .map(|field| field.name.as_str());
                                let hint = did_you_mean(name, names);
                                checker.error_with(
                                    &template_path,
                                    format!("unknown field '{name}' in the template"),
                                    hint,
                                );
                            }
                            Some(named) if named.is_computed() => checker.error(
                                &template_path,
                                format!(
                                    "'{name}' is computed too: a template names stored fields only"
                                ),
                            ),
                            Some(named)
                                if matches!(named.kind, FieldType::Object | FieldType::Array) =>
                            {
                                checker.error(
                                    &template_path,
                                    format!("'{name}' is an {} field: a template names scalar fields only", if named.kind == FieldType::Object { "object" } else { "array" }),
                                );
                            }
                            Some(_) => {}
                        }
                    }
                }
                None => {}
            }
        }
    }
    for (index, position, inverse) in resolved {
        resources[index].fields[position].computed = Some(Computed::Count {
            inverse: inverse.name,
            resource: inverse.resource,
            field: inverse.field,
        });
    }
}

fn reference(
    checker: &mut Checker,
    path: &str,
    value: &Value,
    on_delete: Option<&Value>,
    context: &FieldContext<'_>,
) -> Option<Reference> {
    let on_delete = match on_delete {
        None => OnDelete::Restrict,
        Some(value) => {
            let on_delete_path = join(path, "on_delete");
            match checker.string(&on_delete_path, value) {
                Some("restrict") | None => OnDelete::Restrict,
                Some("cascade") => OnDelete::Cascade,
                Some("set_null") => OnDelete::SetNull,
                Some(other) => {
                    let hint = did_you_mean(other, ON_DELETE.iter().copied());
                    let message = format!(
                        "unknown on_delete '{other}': expected restrict, cascade or set_null"
                    );
                    checker.error_with(&on_delete_path, message, hint);
                    OnDelete::Restrict
                }
            }
        }
    };
    let ref_path = join(path, "ref");
    let target = checker.string(&ref_path, value)?;
    if !context.resource_names.contains(&target) {
        let hint = did_you_mean(target, context.resource_names.iter().copied());
        checker.error_with(&ref_path, format!("unknown resource '{target}'"), hint);
        return None;
    }
    Some(Reference {
        resource: target.to_string(),
        on_delete,
    })
}

fn constraints(checker: &mut Checker, path: &str, map: &Map<String, Value>, field: &mut Field) {
    let numeric = matches!(field.kind, FieldType::Integer | FieldType::Number);
    let textual = field.kind == FieldType::String;
    for key in ["minimum", "maximum"] {
        if let Some(value) = map.get(key) {
            let key_path = join(path, key);
            if !numeric {
                checker.error_at_key(
                    &key_path,
                    format!("{key} applies only to integer and number fields"),
                );
            }
            let number = checker.number(&key_path, value);
            if key == "minimum" {
                field.minimum = number;
            } else {
                field.maximum = number;
            }
        }
    }
    if let (Some(minimum), Some(maximum)) = (field.minimum, field.maximum)
        && minimum > maximum
    {
        checker.error(
            &join(path, "maximum"),
            format!("maximum {maximum} is below minimum {minimum}"),
        );
    } else if field.kind == FieldType::Integer && integer_bounds(field).is_none() {
        let written = |number: f64| json!(number).to_string();
        let (key, message) = match (field.minimum, field.maximum) {
            (Some(minimum), Some(maximum)) if minimum.ceil() > maximum.floor() => (
                "maximum",
                format!(
                    "no integer lies between minimum {} and maximum {}",
                    written(minimum),
                    written(maximum)
                ),
            ),
            (Some(minimum), _) if minimum > 0.0 => (
                "minimum",
                format!(
                    "minimum {} is above the largest integer standin stores (2^63 - 1)",
                    written(minimum)
                ),
            ),
            _ => (
                "maximum",
                "maximum is below the smallest integer standin stores (-2^63)".to_string(),
            ),
        };
        checker.error(&join(path, key), message);
    }
    for key in ["minLength", "maxLength"] {
        if let Some(value) = map.get(key) {
            let key_path = join(path, key);
            if !textual {
                checker.error_at_key(&key_path, format!("{key} applies only to string fields"));
            }
            let length = checker.unsigned(&key_path, value, (0, 1 << 20));
            if key == "minLength" {
                field.min_length = length;
            } else {
                field.max_length = length;
            }
        }
    }
    if let (Some(min), Some(max)) = (field.min_length, field.max_length)
        && min > max
    {
        checker.error(
            &join(path, "maxLength"),
            format!("maxLength {max} is below minLength {min}"),
        );
    }
    if let Some(value) = map.get("pattern") {
        let pattern_path = join(path, "pattern");
        if !textual {
            checker.error_at_key(&pattern_path, "pattern applies only to string fields");
        }
        if let Some(pattern) = checker.string(&pattern_path, value) {
            match compile_pattern(pattern) {
                Ok(regex) => field.pattern = Some(regex),
                Err(message) => checker.error(&pattern_path, message),
            }
        }
    }
    if let Some(value) = map.get("enum") {
        let enum_path = join(path, "enum");
        match value.as_array() {
            Some(values) if !values.is_empty() => {
                for (index, allowed) in values.iter().enumerate() {
                    if let Some(problem) = type_mismatch(field, allowed) {
                        checker.error(&join(&enum_path, &index.to_string()), problem);
                    }
                }
                field.allowed = Some(values.clone());
            }
            _ => checker.error(
                &enum_path,
                format!(
                    "expected a non-empty list of values, found {}",
                    describe(value)
                ),
            ),
        }
    }
}

fn flags(checker: &mut Checker, path: &str, map: &Map<String, Value>, field: &mut Field) {
    if let Some(value) = map.get("required") {
        field.required = checker
            .boolean(&join(path, "required"), value)
            .unwrap_or(false);
    }
    if let Some(value) = map.get("unique") {
        let unique_path = join(path, "unique");
        field.unique = checker.boolean(&unique_path, value).unwrap_or(false);
        if field.unique
            && matches!(
                field.kind,
                FieldType::Object | FieldType::Array | FieldType::Boolean
            )
        {
            checker.error_at_key(
                &unique_path,
                "unique applies only to scalar fields other than booleans",
            );
        }
    }
    if field.required
        && let Some(reference) = &field.reference
        && reference.on_delete == super::model::OnDelete::SetNull
    {
        checker.error(
            &join(path, "on_delete"),
            "set_null cannot apply to a required reference: use restrict or cascade",
        );
    }
}

/// Reports enum values that break the field's other constraints (generated
/// values are drawn from the enum, unchecked).
fn check_enum(checker: &mut Checker, path: &str, field: &Field) {
    let Some(allowed) = &field.allowed else {
        return;
    };
    let Ok(validator) = compile(&field_schema(field)) else {
        return;
    };
    for (index, value) in allowed.iter().enumerate() {
        if type_mismatch(field, value).is_some() {
            continue;
        }
        if let Some(error) = validator.iter_errors(value).next() {
            checker.error(
                &join(path, &index.to_string()),
                format!("{value} breaks the field's other constraints: {error}"),
            );
        }
    }
}

fn check_default(checker: &mut Checker, path: &str, value: &Value, field: &Field) {
    let schema = field_schema(field);
    match compile(&schema) {
        Ok(validator) => {
            if let Some(error) = validator.iter_errors(value).next() {
                checker.error(
                    path,
                    format!("default {value} is not valid for this field: {error}"),
                );
            }
        }
        Err(message) => checker.error(path, message),
    }
}

/// Why `value` cannot be a value of `field`'s type, if it cannot.
fn type_mismatch(field: &Field, value: &Value) -> Option<String> {
    let fits = match field.kind {
        FieldType::String | FieldType::Date | FieldType::DateTime => value.is_string(),
        FieldType::Integer => value.as_f64().is_some_and(|number| number.fract() == 0.0),
        FieldType::Number => value.is_number(),
        FieldType::Boolean => value.is_boolean(),
        FieldType::Object => value.is_object(),
        FieldType::Array => value.is_array(),
    };
    (!fits).then(|| format!("{} does not fit the field's type", describe(value)))
}

/// A numeric bound as JSON: a whole number as an integer (`10`, not `10.0`,
/// in messages and exports), any other as it is.
fn bound(value: f64) -> Value {
    // Exactly representable integers only (|value| < 2^53).
    if value.fract() == 0.0 && value.abs() < 9_007_199_254_740_992.0 {
        json!(value as i64)
    } else {
        json!(value)
    }
}

/// The JSON Schema of one field's values.
pub fn field_schema(field: &Field) -> Value {
    let mut schema = Map::new();
    let (type_name, format) = match field.kind {
        FieldType::String => ("string", None),
        FieldType::Integer => ("integer", None),
        FieldType::Number => ("number", None),
        FieldType::Boolean => ("boolean", None),
        FieldType::Date => ("string", Some("date")),
        FieldType::DateTime => ("string", Some("date-time")),
        FieldType::Object => ("object", None),
        FieldType::Array => ("array", None),
    };
    schema.insert("type".into(), json!(type_name));
    let format = format.or(match field.format {
        Some(Format::Email) => Some("email"),
        Some(Format::Uri) => Some("uri"),
        Some(Format::Uuid) => Some("uuid"),
        None => None,
    });
    if let Some(format) = format {
        schema.insert("format".into(), json!(format));
    }
    if let Some(allowed) = &field.allowed {
        schema.insert("enum".into(), json!(allowed));
    }
    if let Some(minimum) = field.minimum {
        schema.insert("minimum".into(), bound(minimum));
    }
    if let Some(maximum) = field.maximum {
        schema.insert("maximum".into(), bound(maximum));
    }
    if let Some(length) = field.min_length {
        schema.insert("minLength".into(), json!(length));
    }
    if let Some(length) = field.max_length {
        schema.insert("maxLength".into(), json!(length));
    }
    if let Some(pattern) = &field.pattern {
        schema.insert("pattern".into(), json!(pattern.as_str()));
    }
    if let Some(items) = &field.items {
        schema.insert("items".into(), field_schema(items));
    }
    Value::Object(schema)
}

/// The JSON Schema of a resource's writable fields (server-set keys and computed fields excluded).
pub fn record_schema(fields: &[Field]) -> Value {
    let properties: Map<String, Value> = fields
        .iter()
        .filter(|field| !field.is_computed())
        .map(|field| (field.name.clone(), field_schema(field)))
        .collect();
    let required: Vec<&str> = fields
        .iter()
        .filter(|field| field.required)
        .map(|field| field.name.as_str())
        .collect();
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// Compiles a JSON Schema (draft 2020-12, formats asserted).
pub fn compile(schema: &Value) -> Result<jsonschema::Validator, String> {
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(schema)
        .map_err(|error| format!("invalid constraint: {error}"))
}
