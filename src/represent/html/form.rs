//! Forms to create and edit records, generated from the fields' definitions
//! (type, required, allowed values, bounds). The page's script submits them
//! with `fetch` and JSON bodies and shows the API's problems next to the
//! fields they name (`data-error-for`).

use std::fmt::Write;

use serde_json::{Map, Value};

use super::{display, escape};
use crate::spec::{Field, FieldType, IdKind, Resource};

/// What a form does.
pub enum Purpose<'a> {
    /// POST a new record to the collection at this href.
    Create(&'a str),
    /// PATCH the record at this href, which holds these values, with
    /// `If-Match` and this entity tag (of its JSON).
    Edit(&'a str, &'a Map<String, Value>, String),
}

/// The type name the script converts an input's text with.
fn value_type(field: &Field) -> &'static str {
    if field.allowed.is_some() {
        return "json";
    }
    match field.kind {
        FieldType::Integer => "integer",
        FieldType::Number => "number",
        FieldType::Boolean => "boolean",
        FieldType::Object | FieldType::Array => "json",
        FieldType::String | FieldType::Date | FieldType::DateTime => "string",
    }
}

/// A short description of what a field takes, shown under its label.
fn hint(field: &Field) -> String {
    let characters = |count: u64| match count {
        1 => "1 character".to_string(),
        count => format!("{count} characters"),
    };
    if field.allowed.is_some() {
        return "one of the choices".into();
    }
    let mut parts = vec![
        match field.kind {
            FieldType::String => "text",
            FieldType::Integer => "integer",
            FieldType::Number => "number",
            FieldType::Boolean => "true or false",
            FieldType::Date => "date, YYYY-MM-DD",
            FieldType::DateTime => "date-time, RFC 3339",
            FieldType::Object => "JSON object",
            FieldType::Array => "JSON array",
        }
        .to_string(),
    ];
    if let Some(reference) = &field.reference {
        parts.push(format!("id of a record of {}", reference.resource));
    }
    match (field.minimum, field.maximum) {
        (Some(min), Some(max)) => parts.push(format!("from {min} to {max}")),
        (Some(min), None) => parts.push(format!("at least {min}")),
        (None, Some(max)) => parts.push(format!("at most {max}")),
        (None, None) => {}
    }
    match (field.min_length, field.max_length) {
        (Some(min), Some(max)) => parts.push(format!("{min} to {}", characters(max))),
        (Some(min), None) => parts.push(format!("at least {}", characters(min))),
        (None, Some(max)) => parts.push(format!("at most {}", characters(max))),
        (None, None) => {}
    }
    if field.unique {
        parts.push("unique".into());
    }
    parts.join(", ")
}

/// One labelled control for `field` holding `value`.
fn control(out: &mut String, form: &str, field: &Field, value: Option<&Value>) {
    let id = format!("{form}-{}", field.name);
    let name = escape(&field.name);
    let required = if field.required { " required" } else { "" };
    let marker = if field.required {
        " <span class=\"required\" title=\"required\">*</span>"
    } else {
        ""
    };
    let _ = write!(
        out,
        "<div class=\"field\"><label for=\"{id}\">{name}{marker}</label>\
         <small id=\"{id}-hint\">{hint}</small>",
        id = escape(&id),
        hint = escape(&hint(field)),
    );
    let common = format!(
        "id=\"{id}\" name=\"{name}\" data-type=\"{kind}\" aria-describedby=\"{id}-hint {id}-error\"{required}",
        id = escape(&id),
        kind = value_type(field),
    );
    let value = value.filter(|value| !value.is_null());
    if let Some(allowed) = &field.allowed {
        select(out, &common, allowed, value);
    } else if field.kind == FieldType::Boolean {
        select(
            out,
            &common,
            &[Value::Bool(true), Value::Bool(false)],
            value,
        );
    } else if matches!(field.kind, FieldType::Object | FieldType::Array) {
        let text = value
            .and_then(|value| serde_json::to_string_pretty(value).ok())
            .unwrap_or_default();
        let _ = write!(
            out,
            "<textarea {common} rows=\"3\">{}</textarea>",
            escape(&text)
        );
    } else {
        let kind = match field.kind {
            FieldType::Integer | FieldType::Number => "number",
            FieldType::Date => "date",
            _ => "text",
        };
        let mut attributes = String::new();
        if field.kind == FieldType::Integer {
            attributes.push_str(" step=\"1\"");
        } else if field.kind == FieldType::Number {
            attributes.push_str(" step=\"any\"");
        }
        if let Some(min) = field.minimum {
            let _ = write!(attributes, " min=\"{min}\"");
        }
        if let Some(max) = field.maximum {
            let _ = write!(attributes, " max=\"{max}\"");
        }
        if let Some(max) = field.max_length {
            let _ = write!(attributes, " maxlength=\"{max}\"");
        }
        let text = value.map(display).unwrap_or_default();
        let _ = write!(
            out,
            "<input type=\"{kind}\" {common}{attributes} value=\"{}\">",
            escape(&text)
        );
    }
    let _ = write!(
        out,
        "<p class=\"error\" id=\"{}-error\" data-error-for=\"{name}\"></p></div>",
        escape(&id)
    );
}

/// A select of `options` (JSON values) with an empty first choice.
fn select(out: &mut String, common: &str, options: &[Value], value: Option<&Value>) {
    let _ = write!(out, "<select {common}><option value=\"\">—</option>");
    for option in options {
        let selected = if Some(option) == value {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            out,
            "<option value=\"{}\"{selected}>{}</option>",
            escape(&option.to_string()),
            escape(&display(option)),
        );
    }
    out.push_str("</select>");
}

/// A create or edit form for `resource`'s records.
pub fn form(resource: &Resource, purpose: Purpose<'_>) -> String {
    let (name, method, action, values, button, etag) = match purpose {
        Purpose::Create(href) => ("create", "POST", href, None, "Create", String::new()),
        Purpose::Edit(href, values, etag) => {
            ("edit", "PATCH", href, Some(values), "Save changes", etag)
        }
    };
    let mut out = format!(
        "<form novalidate data-standin-form=\"{method}\" data-action=\"{}\" data-etag=\"{}\" id=\"{name}-form\">",
        escape(action),
        escape(&etag)
    );
    if method == "POST" && resource.id == IdKind::String {
        // Resources with string ids let clients choose them.
        let _ = write!(
            out,
            "<div class=\"field\"><label for=\"create-id\">id</label>\
             <small id=\"create-id-hint\">text, unique (optional)</small>\
             <input type=\"text\" id=\"create-id\" name=\"id\" data-type=\"string\" \
             aria-describedby=\"create-id-hint create-id-error\">\
             <p class=\"error\" id=\"create-id-error\" data-error-for=\"id\"></p></div>"
        );
    }
    for field in resource.fields.iter().filter(|field| !field.is_computed()) {
        control(
            &mut out,
            name,
            field,
            values.and_then(|values| values.get(&field.name)),
        );
    }
    let _ = write!(
        out,
        "<p class=\"error\" data-error-for=\"\"></p>\
         <button type=\"submit\">{button}</button> <span role=\"status\" class=\"status\"></span></form>"
    );
    out
}
