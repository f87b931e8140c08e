//! The page of one record: its fields (references link to the records they
//! name), links to the records referencing it (its inverse collections, in
//! standin's own dialect), the records embedded in it (`embed=`), a button per action its state allows, and forms to edit (PATCH, with `If-Match` where
//! the API gives entity tags) and delete it.

use std::fmt::Write;

use serde_json::{Map, Value};

use super::dialect::{collection_href, item_href};
use super::form::{self, Purpose};
use super::{display, embedded, escape, home_crumb, layout};
use crate::links;
use crate::query::Embed;
use crate::represent::{ItemView, Representation, Shape, etag, record_object};
use crate::spec::{Dialect, Field, FieldType, Method, Resource, Spec};
use crate::store::Embedded;

/// One record as any dialect answers it, ready to render.
#[derive(Debug)]
pub struct Shown<'a> {
    /// The record as the JSON object the API answers.
    pub object: &'a Map<String, Value>,
    /// The property holding its id.
    pub id_field: &'a str,
    /// The entity tag of its JSON, where the API gives one (edits send it in `If-Match`).
    pub etag: Option<String>,
    /// The only fields shown, if restricted.
    pub fields: Option<&'a [String]>,
    /// Its href where that is not its collection's item path (a db.json's
    /// singular object, `/profile`, which has no id).
    pub href: Option<&'a str>,
    /// The embeds asked for (`embed=`), shown after its fields.
    pub embeds: &'a [Embed],
    /// What each embed holds for it, in the order of `embeds`.
    pub embedded: &'a [Embedded],
}

/// The page of one record of standin's own.
pub fn item(spec: &Spec, resource: &Resource, view: ItemView<'_>, shape: Shape<'_>) -> String {
    let object = record_object(resource, view.record);
    let shown = Shown {
        object: &object,
        id_field: "id",
        etag: Some(etag(resource, view.record, Representation::Json)),
        fields: shape.fields,
        href: None,
        embeds: shape.embeds,
        embedded: view.embedded,
    };
    shown_page(spec, resource, &shown)
}

/// The page of one record, in whatever dialect `shown` comes from.
pub fn shown_page(spec: &Spec, resource: &Resource, shown: &Shown<'_>) -> String {
    let object = shown.object;
    let id_value = object.get(shown.id_field).unwrap_or(&Value::Null);
    let id = display(id_value);
    let href = match shown.href {
        Some(href) => href.to_string(),
        None => item_href(spec, resource, id_value).unwrap_or_default(),
    };
    let mut crumbs = vec![home_crumb(spec)];
    if shown.href.is_some() {
        crumbs.push((resource.name.clone(), None));
    } else {
        crumbs.push((resource.name.clone(), collection_href(spec, &resource.name)));
        crumbs.push((id.clone(), None));
    }
    let mut main = format!(
        "<h1>{} <small>{}</small></h1><dl class=\"record\">",
        escape(&resource.name),
        escape(&id)
    );
    if !id_value.is_null() {
        let _ = write!(
            main,
            "<dt>{}</dt><dd>{}</dd>",
            escape(shown.id_field),
            escape(&id)
        );
    }
    let mut listed: Vec<&str> = vec![shown.id_field];
    for field in &resource.fields {
        listed.push(&field.name);
        if field.name == shown.id_field
            || shown.fields.is_some_and(|only| !only.contains(&field.name))
        {
            continue;
        }
        let value = object.get(&field.name).unwrap_or(&Value::Null);
        let _ = write!(
            main,
            "<dt>{}</dt><dd>{}</dd>",
            escape(&field.name),
            value_html(spec, Some(field), value)
        );
    }
    // What the record holds beyond its fields: timestamps, properties of no field, embeds.
    for (name, value) in object {
        if listed.contains(&name.as_str()) {
            continue;
        }
        let _ = write!(
            main,
            "<dt>{}</dt><dd>{}</dd>",
            escape(name),
            value_html(spec, None, value)
        );
    }
    main.push_str("</dl>");
    main.push_str(&embedded::section(spec, shown.embeds, shown.embedded));
    let inverses = match &spec.dialect {
        Dialect::Standin => spec.inverses(&resource.name),
        _ => Vec::new(),
    };
    if !inverses.is_empty()
        && let Some(record_id) = crate::store::RecordId::from_json(resource.id, id_value)
    {
        main.push_str(
            "<section aria-labelledby=\"related-heading\"><h2 id=\"related-heading\">Referenced by</h2><ul>",
        );
        for inverse in &inverses {
            let _ = write!(
                main,
                "<li><a href=\"{}\">{}</a> <small>({} whose {} is {})</small></li>",
                escape(&links::inverse(
                    spec,
                    &resource.name,
                    &record_id,
                    &inverse.name
                )),
                escape(&inverse.name),
                escape(&inverse.resource),
                escape(&inverse.field),
                escape(&id),
            );
        }
        main.push_str("</ul></section>");
    }
    if !resource.actions.is_empty() && !href.is_empty() && shown.href.is_none() {
        let allowed = resource.actions_allowed(object);
        main.push_str(
            "<section aria-labelledby=\"actions-heading\"><h2 id=\"actions-heading\">Actions</h2>",
        );
        if allowed.is_empty() {
            main.push_str("<p>None: this record's state allows no action.</p>");
        }
        for action in allowed {
            let _ = write!(
                main,
                "<button type=\"button\" data-standin-action=\"{}\" title=\"POST {}: sets {} to {}\">{}</button> ",
                escape(&format!("{href}/{}", action.name)),
                escape(&format!("{href}/{}", action.name)),
                escape(&action.field),
                escape(&action.state),
                escape(&action.name),
            );
        }
        main.push_str("<span role=\"status\" data-action-status></span></section>");
    }
    if resource.allows(Method::Patch) && !href.is_empty() {
        let _ = write!(
            main,
            "<section aria-labelledby=\"edit-heading\"><h2 id=\"edit-heading\">Edit</h2>{}</section>",
            form::form(
                resource,
                Purpose::Edit(&href, object, shown.etag.clone().unwrap_or_default())
            )
        );
    }
    if resource.allows(Method::Delete) && !href.is_empty() {
        let _ = write!(
            main,
            "<section aria-labelledby=\"delete-heading\"><h2 id=\"delete-heading\">Delete</h2>\
             <button type=\"button\" class=\"danger\" data-standin-delete=\"{}\">Delete this record</button> \
             <span role=\"status\" data-delete-status></span></section>",
            escape(&href)
        );
    }
    layout(spec, &format!("{} {id}", resource.name), &crumbs, &main)
}

/// The markup of a field's value (`field` is `None` for a property of no
/// field): a reference links to the record it names, objects and arrays are
/// indented, anything else is its text.
pub(super) fn value_html(spec: &Spec, field: Option<&Field>, value: &Value) -> String {
    let target = field
        .and_then(|field| field.reference.as_ref())
        .and_then(|reference| {
            let target = spec.resource(&reference.resource)?;
            Some((item_href(spec, target, value)?, target.name.as_str()))
        });
    if let Some((href, target_name)) = target {
        return format!(
            "<a href=\"{}\">{} {}</a>",
            escape(&href),
            escape(target_name),
            escape(&display(value))
        );
    }
    let structured = match field {
        Some(field) => matches!(field.kind, FieldType::Object | FieldType::Array),
        None => matches!(value, Value::Object(_) | Value::Array(_)),
    };
    if structured && !value.is_null() {
        pretty(value)
    } else {
        escape(&display(value))
    }
}

/// A JSON value indented, in a `<pre>`.
fn pretty(value: &Value) -> String {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    format!("<pre>{}</pre>", escape(&text))
}
