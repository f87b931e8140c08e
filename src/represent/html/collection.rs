//! The page of a collection: a table of the page's records with sortable
//! column headers, paging links (the page's own `first`/`prev`/`next`/`last`),
//! a filter form built from the fields (`__gte`/`__lte` ranges for numbers and
//! dates, selects for enums and booleans, `__contains` for text), the `q`
//! search box, and a form to create a record.

use std::fmt::Write;

use serde_json::Value;

use super::form::{self, Purpose};
use super::{Crumb, display, escape, home_crumb, layout, shorten};
use crate::links;
use crate::represent::{PageView, record_object};
use crate::spec::{Field, FieldType, Method, Resource, Spec};
use crate::store::RecordId;

/// The longest text shown in a cell, in characters (the item's page has it whole).
const CELL_LENGTH: usize = 60;

/// Page sizes offered, besides the current one (capped by `max_page_size`).
const PAGE_SIZES: [u32; 4] = [10, 20, 50, 100];

/// The query parameters of the page, from its own link.
fn parameters(page: &PageView<'_>) -> Vec<(String, String)> {
    let query = page
        .links
        .this
        .split_once('?')
        .map_or("", |(_, query)| query);
    form_urlencoded::parse(query.as_bytes())
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect()
}

/// Parameters that choose a page or a sort, which a new sort or filter replaces.
fn is_window(name: &str) -> bool {
    matches!(
        name,
        "page" | "_page" | "_start" | "_end" | "sort" | "_sort" | "_order"
    )
}

/// The current value of parameter `name`, or empty.
fn current<'a>(parameters: &'a [(String, String)], name: &str) -> &'a str {
    parameters
        .iter()
        .find(|(candidate, _)| candidate == name)
        .map_or("", |(_, value)| value.as_str())
}

/// The sort in force: its first key and whether it descends.
fn sorted_by(parameters: &[(String, String)], resource: &Resource) -> Option<(String, bool)> {
    let sort = current(parameters, "sort");
    if sort.is_empty() {
        return resource
            .default_sort
            .first()
            .map(|key| (key.column.clone(), key.descending));
    }
    let first = sort.split(',').next().unwrap_or_default();
    Some(match first.strip_prefix('-') {
        Some(column) => (column.to_string(), true),
        None => (first.to_string(), false),
    })
}

/// The header cell of `column`: a link sorting by it (reversed when already sorted by it).
fn sort_header(
    out: &mut String,
    href: &str,
    parameters: &[(String, String)],
    column: &str,
    sort: &Option<(String, bool)>,
) {
    let state = match sort {
        Some((sorted, descending)) if sorted == column => Some(*descending),
        _ => None,
    };
    let (aria, arrow, next) = match state {
        Some(false) => ("ascending", " ▲", format!("-{column}")),
        Some(true) => ("descending", " ▼", column.to_string()),
        None => ("none", "", column.to_string()),
    };
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in parameters.iter().filter(|(name, _)| !is_window(name)) {
        query.append_pair(name, value);
    }
    query.append_pair("sort", &next);
    let _ = write!(
        out,
        "<th scope=\"col\" aria-sort=\"{aria}\"><a href=\"{}\">{}<span aria-hidden=\"true\">{arrow}</span></a></th>",
        escape(&format!("{href}?{}", query.finish())),
        escape(column),
    );
}

/// Whether a field gets a column of the table (objects and arrays do not sort; they still show).
fn sortable(field: &Field) -> bool {
    !matches!(field.kind, FieldType::Object | FieldType::Array)
}

/// The table cell of one value; references link to the referenced record.
fn cell(out: &mut String, spec: &Spec, field: &Field, value: &Value) {
    let text = shorten(&display(value), CELL_LENGTH);
    let target = field.reference.as_ref().and_then(|reference| {
        let target = spec.resource(&reference.resource)?;
        let id = RecordId::from_json(target.id, value)?;
        Some(links::item(spec, &target.name, &id))
    });
    let class = if matches!(field.kind, FieldType::Integer | FieldType::Number) {
        " class=\"number\""
    } else {
        ""
    };
    match target {
        Some(href) => {
            let _ = write!(
                out,
                "<td{class}><a href=\"{}\">{}</a></td>",
                escape(&href),
                escape(&text)
            );
        }
        None => {
            let _ = write!(out, "<td{class}>{}</td>", escape(&text));
        }
    }
}

/// The filter form: search, one control per scalar field, page size.
fn filters(
    out: &mut String,
    spec: &Spec,
    resource: &Resource,
    href: &str,
    parameters: &[(String, String)],
    per_page: u32,
) {
    // Open while a search or filter is in force.
    let filtering = parameters.iter().any(|(name, _)| {
        !is_window(name) && !matches!(name.as_str(), "per_page" | "_per_page" | "_limit")
    });
    let _ = write!(
        out,
        "<details class=\"filters\"{}><summary>Search and filter</summary>\
         <form method=\"get\" action=\"{}\" data-standin-filters>",
        if filtering { " open" } else { "" },
        escape(href)
    );
    let input = |out: &mut String, name: &str, label: &str, kind: &str| {
        let id = format!("filter-{name}");
        let _ = write!(
            out,
            "<div class=\"field\"><label for=\"{id}\">{label}</label>\
             <input type=\"{kind}\" id=\"{id}\" name=\"{name}\" value=\"{}\"{step}></div>",
            escape(current(parameters, name)),
            id = escape(&id),
            name = escape(name),
            label = escape(label),
            step = if kind == "number" {
                " step=\"any\""
            } else {
                ""
            },
        );
    };
    if !resource.search.is_empty() {
        input(out, "q", "Search", "search");
    }
    for field in resource.fields.iter().filter(|field| sortable(field)) {
        let name = field.name.as_str();
        let choices: Option<Vec<Value>> = match (&field.allowed, field.kind) {
            (Some(allowed), _) => Some(allowed.clone()),
            (None, FieldType::Boolean) => Some(vec![Value::Bool(true), Value::Bool(false)]),
            _ => None,
        };
        if let Some(choices) = choices {
            let chosen = current(parameters, name);
            let _ = write!(
                out,
                "<div class=\"field\"><label for=\"filter-{id}\">{label}</label>\
                 <select id=\"filter-{id}\" name=\"{id}\"><option value=\"\">any</option>",
                id = escape(name),
                label = escape(name),
            );
            for choice in &choices {
                let text = display(choice);
                let selected = if text == chosen { " selected" } else { "" };
                let _ = write!(
                    out,
                    "<option value=\"{text}\"{selected}>{text}</option>",
                    text = escape(&text)
                );
            }
            out.push_str("</select></div>");
        } else if field.reference.is_some() {
            input(out, name, name, "text");
        } else {
            match field.kind {
                FieldType::Integer | FieldType::Number | FieldType::Date | FieldType::DateTime => {
                    let kind = match field.kind {
                        FieldType::Date => "date",
                        FieldType::DateTime => "text",
                        _ => "number",
                    };
                    input(out, &format!("{name}__gte"), &format!("{name} from"), kind);
                    input(out, &format!("{name}__lte"), &format!("{name} to"), kind);
                }
                _ => input(
                    out,
                    &format!("{name}__contains"),
                    &format!("{name} contains"),
                    "text",
                ),
            }
        }
    }
    let _ = write!(
        out,
        "<div class=\"field\"><label for=\"filter-per_page\">Per page</label>\
         <select id=\"filter-per_page\" name=\"per_page\">"
    );
    let mut sizes: Vec<u32> = PAGE_SIZES
        .into_iter()
        .chain([per_page, spec.page_size])
        .filter(|size| *size <= spec.max_page_size)
        .collect();
    sizes.sort_unstable();
    sizes.dedup();
    for size in sizes {
        let selected = if size == per_page { " selected" } else { "" };
        let _ = write!(out, "<option{selected}>{size}</option>");
    }
    let sort = current(parameters, "sort");
    if !sort.is_empty() {
        let _ = write!(
            out,
            "</select></div><input type=\"hidden\" name=\"sort\" value=\"{}\">",
            escape(sort)
        );
    } else {
        out.push_str("</select></div>");
    }
    let _ = write!(
        out,
        "<div class=\"actions\"><button type=\"submit\">Apply</button> \
         <a href=\"{}\">Clear</a></div></form></details>",
        escape(href)
    );
}

/// The paging links of the page.
fn paging(out: &mut String, page: &PageView<'_>) {
    let links = page.links;
    let pagination = page.pagination;
    let _ = write!(out, "<nav class=\"paging\" aria-label=\"Pages\"><ul>");
    let link = |out: &mut String, rel: &str, text: &str, href: Option<&String>| match href {
        Some(href) if *href != links.this => {
            let _ = write!(
                out,
                "<li><a rel=\"{rel}\" href=\"{}\">{text}</a></li>",
                escape(href)
            );
        }
        _ => {
            let _ = write!(out, "<li><span aria-disabled=\"true\">{text}</span></li>");
        }
    };
    link(out, "first", "« First", Some(&links.first));
    link(out, "prev", "‹ Prev", links.prev.as_ref());
    let _ = write!(
        out,
        "<li aria-current=\"page\">Page {} of {} · {} records</li>",
        pagination.page,
        pagination.pages(),
        pagination.total
    );
    link(out, "next", "Next ›", links.next.as_ref());
    link(out, "last", "Last »", Some(&links.last));
    out.push_str("</ul></nav>");
}

/// The page of a collection.
pub fn collection(spec: &Spec, resource: &Resource, page: &PageView<'_>) -> String {
    let parameters = parameters(page);
    let href = page.collection_href;
    let own = links::collection(spec, &resource.name);
    let mut crumbs: Vec<Crumb> = vec![home_crumb(spec)];
    if href == own {
        crumbs.push((resource.name.clone(), None));
    } else {
        crumbs.push((resource.name.clone(), Some(own)));
        crumbs.push((href.to_string(), None));
    }
    let mut main = format!(
        "<h1>{} <small>{} records</small></h1>",
        escape(&resource.name),
        page.pagination.total
    );
    filters(
        &mut main,
        spec,
        resource,
        href,
        &parameters,
        page.pagination.per_page,
    );
    paging(&mut main, page);
    let sort = sorted_by(&parameters, resource);
    let visible: Vec<&Field> = resource
        .fields
        .iter()
        .filter(|field| {
            page.shape
                .fields
                .is_none_or(|only| only.contains(&field.name))
        })
        .collect();
    main.push_str("<div class=\"scroll\"><table><thead><tr>");
    sort_header(&mut main, href, &parameters, "id", &sort);
    for field in &visible {
        if sortable(field) {
            sort_header(&mut main, href, &parameters, &field.name, &sort);
        } else {
            let _ = write!(main, "<th scope=\"col\">{}</th>", escape(&field.name));
        }
    }
    main.push_str("</tr></thead><tbody>");
    for view in &page.items {
        let object = record_object(resource, view.record);
        let _ = write!(
            main,
            "<tr><th scope=\"row\"><a href=\"{}\">{}</a></th>",
            escape(&links::item(spec, &resource.name, &view.record.id)),
            escape(&view.record.id.to_path_segment()),
        );
        for field in &visible {
            cell(
                &mut main,
                spec,
                field,
                object.get(&field.name).unwrap_or(&Value::Null),
            );
        }
        main.push_str("</tr>");
    }
    if page.items.is_empty() {
        let _ = write!(
            main,
            "<tr><td colspan=\"{}\">No records match.</td></tr>",
            visible.len() + 1
        );
    }
    main.push_str("</tbody></table></div>");
    paging(&mut main, page);
    if resource.allows(Method::Post) {
        let _ = write!(
            main,
            "<section aria-labelledby=\"create-heading\"><h2 id=\"create-heading\">New record</h2>{}\
             <div data-created hidden></div></section>",
            form::form(resource, Purpose::Create(href))
        );
    }
    layout(spec, &resource.name, &crumbs, &main)
}
