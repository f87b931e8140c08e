//! The page of one record: its fields (references link to the records they
//! name), links to the records referencing it (its inverse collections), and
//! forms to edit (PATCH with `If-Match`) and delete it.

use std::fmt::Write;

use serde_json::Value;

use super::form::{self, Purpose};
use super::{display, escape, home_crumb, layout};
use crate::links;
use crate::represent::{ItemView, Representation, Shape, etag, record_object};
use crate::spec::{FieldType, Method, Resource, Spec};
use crate::store::RecordId;

/// The page of one record.
pub fn item(spec: &Spec, resource: &Resource, view: ItemView<'_>, shape: Shape<'_>) -> String {
    let record = view.record;
    let href = links::item(spec, &resource.name, &record.id);
    let id = record.id.to_path_segment();
    let object = record_object(resource, record);
    let crumbs = vec![
        home_crumb(spec),
        (
            resource.name.clone(),
            Some(links::collection(spec, &resource.name)),
        ),
        (id.clone(), None),
    ];
    let mut main = format!(
        "<h1>{} <small>{}</small></h1><dl class=\"record\">",
        escape(&resource.name),
        escape(&id)
    );
    let _ = write!(main, "<dt>id</dt><dd>{}</dd>", escape(&id));
    for field in &resource.fields {
        if shape.fields.is_some_and(|only| !only.contains(&field.name)) {
            continue;
        }
        let value = object.get(&field.name).unwrap_or(&Value::Null);
        let _ = write!(main, "<dt>{}</dt><dd>", escape(&field.name));
        let target = field.reference.as_ref().and_then(|reference| {
            let target = spec.resource(&reference.resource)?;
            let target_id = RecordId::from_json(target.id, value)?;
            Some((
                links::item(spec, &target.name, &target_id),
                target.name.as_str(),
            ))
        });
        if let Some((target_href, target_name)) = target {
            let _ = write!(
                main,
                "<a href=\"{}\">{} {}</a>",
                escape(&target_href),
                escape(target_name),
                escape(&display(value))
            );
        } else if matches!(field.kind, FieldType::Object | FieldType::Array) && !value.is_null() {
            let text = serde_json::to_string_pretty(value).unwrap_or_default();
            let _ = write!(main, "<pre>{}</pre>", escape(&text));
        } else {
            main.push_str(&escape(&display(value)));
        }
        main.push_str("</dd>");
    }
    for stamp in ["created_at", "updated_at"] {
        let value = object.get(stamp).map(display).unwrap_or_default();
        let _ = write!(main, "<dt>{stamp}</dt><dd>{}</dd>", escape(&value));
    }
    main.push_str("</dl>");
    let inverses = spec.inverses(&resource.name);
    if !inverses.is_empty() {
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
                    &record.id,
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
    if resource.allows(Method::Patch) {
        let _ = write!(
            main,
            "<section aria-labelledby=\"edit-heading\"><h2 id=\"edit-heading\">Edit</h2>{}</section>",
            form::form(
                resource,
                Purpose::Edit(&href, &object, etag(resource, record, Representation::Json))
            )
        );
    }
    if resource.allows(Method::Delete) {
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
