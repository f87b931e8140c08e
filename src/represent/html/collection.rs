//! The page of a collection: a table of the page's records with sortable
//! column headers (and a column per embed, `embed=`), paging links (the page's own `first`/`prev`/`next`/`last`),
//! a filter form built from the fields (ranges for numbers and dates, selects
//! for enums and booleans, contains for text), the `q` search box, and a form
//! to create a record; every control in the query parameters of the API's
//! dialect (`dialect::Vocabulary`), none it does not understand.

use std::fmt::Write;

use serde_json::{Map, Value};

use super::dialect::{Sorting, Vocabulary, collection_href, item_href, listed_item_href};
use super::form::{self, Purpose};
use super::{Crumb, display, embedded, escape, home_crumb, layout, shorten};
use crate::links::{PageLinks, Pagination};
use crate::query::Embed;
use crate::represent::{PageView, record_object};
use crate::spec::{Field, FieldType, Method, Resource, Spec};
use crate::store::Embedded;

/// The longest text shown in a cell, in characters (the item's page has it whole).
const CELL_LENGTH: usize = 60;

/// Page sizes offered, besides the current one (capped by `max_page_size`).
const PAGE_SIZES: [u32; 4] = [10, 20, 50, 100];

/// The query parameters of the page, from its own link.
fn parameters(listing: &Listing<'_>) -> Vec<(String, String)> {
    let query = listing
        .links
        .this
        .split_once('?')
        .map_or("", |(_, query)| query);
    form_urlencoded::parse(query.as_bytes())
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect()
}

/// The current value of parameter `name`, or empty.
fn current<'a>(parameters: &'a [(String, String)], name: &str) -> &'a str {
    parameters
        .iter()
        .find(|(candidate, _)| candidate == name)
        .map_or("", |(_, value)| value.as_str())
}

/// The sort in force: its first key and whether it descends.
fn sorted_by(
    vocabulary: &Vocabulary,
    parameters: &[(String, String)],
    resource: &Resource,
) -> Option<(String, bool)> {
    vocabulary.sorted_by(parameters).or_else(|| {
        (vocabulary.sorting == Some(Sorting::Signed("sort".into())))
            .then(|| resource.default_sort.first())
            .flatten()
            .map(|key| (key.column.clone(), key.descending))
    })
}

/// The header cell of `column`: a link sorting by it (reversed when already sorted by it).
fn sort_header(
    out: &mut String,
    listing: &Listing<'_>,
    parameters: &[(String, String)],
    column: &str,
    sort: &Option<(String, bool)>,
) {
    let (href, vocabulary) = (listing.collection_href, listing.vocabulary);
    if vocabulary.sorting.is_none() {
        let _ = write!(out, "<th scope=\"col\">{}</th>", escape(column));
        return;
    }
    let state = match sort {
        Some((sorted, descending)) if sorted == column => Some(*descending),
        _ => None,
    };
    let (aria, arrow, descending) = match state {
        Some(false) => ("ascending", " ▲", true),
        Some(true) => ("descending", " ▼", false),
        None => ("none", "", false),
    };
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in parameters
        .iter()
        .filter(|(name, _)| !vocabulary.is_window(name))
    {
        query.append_pair(name, value);
    }
    for (name, value) in vocabulary.sort_by(column, descending) {
        query.append_pair(&name, &value);
    }
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
        item_href(spec, target, value)
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

/// The filter form: search, one control per filterable field, page size,
/// each only where the dialect's list understands it.
fn filters(
    out: &mut String,
    spec: &Spec,
    resource: &Resource,
    listing: &Listing<'_>,
    parameters: &[(String, String)],
) {
    let (href, vocabulary) = (listing.collection_href, listing.vocabulary);
    let per_page_name = vocabulary.per_page.as_deref();
    // Open while a search or filter is in force.
    let filtering = parameters.iter().any(|(name, _)| {
        !vocabulary.is_window(name)
            && Some(name.as_str()) != per_page_name
            && !vocabulary.shaping.contains(&name.as_str())
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
    if vocabulary.search {
        input(out, "q", "Search", "search");
    }
    let filterable: Vec<(&str, &Field)> = match &vocabulary.equality {
        Some(declared) => declared
            .iter()
            .filter_map(|(parameter, field)| Some((parameter.as_str(), resource.field(field)?)))
            .collect(),
        None => resource
            .fields
            .iter()
            .filter(|field| sortable(field))
            .map(|field| (field.name.as_str(), field))
            .collect(),
    };
    for (name, field) in filterable {
        let choices: Option<Vec<Value>> = match (&field.allowed, field.kind) {
            (Some(allowed), _) => Some(allowed.clone()),
            (None, FieldType::Boolean) => Some(vec![Value::Bool(true), Value::Bool(false)]),
            _ => None,
        };
        let ranged = matches!(
            field.kind,
            FieldType::Integer | FieldType::Number | FieldType::Date | FieldType::DateTime
        );
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
        } else if let Some(operators) = vocabulary
            .operators
            .filter(|_| field.reference.is_none() && vocabulary.equality.is_none())
        {
            if ranged {
                let kind = match field.kind {
                    FieldType::Date => "date",
                    FieldType::DateTime => "text",
                    _ => "number",
                };
                let from = format!("{name}{}", operators.gte);
                let to = format!("{name}{}", operators.lte);
                input(out, &from, &format!("{name} from"), kind);
                input(out, &to, &format!("{name} to"), kind);
            } else {
                let contains = format!("{name}{}", operators.contains);
                input(out, &contains, &format!("{name} contains"), "text");
            }
        } else {
            input(out, name, name, "text");
        }
    }
    if let Some(per_page_name) = per_page_name {
        let per_page = listing.pagination.per_page;
        let _ = write!(
            out,
            "<div class=\"field\"><label for=\"filter-{name}\">Per page</label>\
             <select id=\"filter-{name}\" name=\"{name}\">",
            name = escape(per_page_name)
        );
        let shown = (!listing.unpaged).then_some(per_page);
        let mut sizes: Vec<u32> = PAGE_SIZES
            .into_iter()
            .chain(shown)
            .chain([spec.page_size])
            .filter(|size| *size <= spec.max_page_size)
            .collect();
        sizes.sort_unstable();
        sizes.dedup();
        if listing.unpaged {
            // The list answers every record until a page size is asked for.
            out.push_str("<option value=\"\" selected>all</option>");
        }
        for size in sizes {
            let selected = if size == per_page && !listing.unpaged {
                " selected"
            } else {
                ""
            };
            let _ = write!(out, "<option{selected}>{size}</option>");
        }
        out.push_str("</select></div>");
    }
    let shaping = parameters
        .iter()
        .filter(|(name, _)| vocabulary.shaping.contains(&name.as_str()))
        .cloned();
    let sorting = vocabulary
        .sorted_by(parameters)
        .map(|(field, descending)| vocabulary.sort_by(&field, descending))
        .unwrap_or_default();
    // The form keeps the order and the records' shape it was opened with.
    for (name, value) in shaping.chain(sorting) {
        let _ = write!(
            out,
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            escape(&name),
            escape(&value)
        );
    }
    let _ = write!(
        out,
        "<div class=\"actions\"><button type=\"submit\">Apply</button> \
         <a href=\"{}\">Clear</a></div></form></details>",
        escape(href)
    );
}

/// The paging links of the page.
fn paging(out: &mut String, listing: &Listing<'_>) {
    let links = listing.links;
    let pagination = listing.pagination;
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

/// One page of a collection as any dialect lists it, ready to render.
#[derive(Debug)]
pub struct Listing<'a> {
    /// The records on the page, as JSON objects the API answers.
    pub rows: Vec<Map<String, Value>>,
    /// The property of the rows holding their ids.
    pub id_field: &'a str,
    /// Where the page sits.
    pub pagination: Pagination,
    /// Whether the list answered every record, without a page size.
    pub unpaged: bool,
    /// Its links, in the dialect's own query parameters.
    pub links: &'a PageLinks,
    /// The href of this collection (an inverse collection's own path).
    pub collection_href: &'a str,
    /// The only fields shown, if restricted.
    pub fields: Option<&'a [String]>,
    /// The query parameters the list understands.
    pub vocabulary: &'a Vocabulary,
    /// The embeds asked for (`embed=`), a column each after the fields.
    pub embeds: &'a [Embed],
    /// What the embeds hold for each row, in the order of `rows` (empty without embeds).
    pub embedded: Vec<&'a [Embedded]>,
}

/// The page of a collection of standin's own.
pub fn collection(spec: &Spec, resource: &Resource, page: &PageView<'_>) -> String {
    let vocabulary = Vocabulary::standin(resource);
    let listing = Listing {
        rows: page
            .items
            .iter()
            .map(|view| record_object(resource, view.record))
            .collect(),
        id_field: "id",
        pagination: page.pagination,
        unpaged: false,
        links: page.links,
        collection_href: page.collection_href,
        fields: page.shape.fields,
        vocabulary: &vocabulary,
        embeds: page.shape.embeds,
        embedded: page.items.iter().map(|view| view.embedded).collect(),
    };
    listing_page(spec, resource, &listing)
}

/// The page of a collection, in whatever dialect `listing` speaks.
pub fn listing_page(spec: &Spec, resource: &Resource, listing: &Listing<'_>) -> String {
    let parameters = parameters(listing);
    let href = listing.collection_href;
    let own = collection_href(spec, &resource.name);
    let mut crumbs: Vec<Crumb> = vec![home_crumb(spec)];
    if own.as_deref() == Some(href) {
        crumbs.push((resource.name.clone(), None));
    } else {
        crumbs.push((resource.name.clone(), own));
        crumbs.push((href.to_string(), None));
    }
    let mut main = format!(
        "<h1>{} <small>{} records</small></h1>",
        escape(&resource.name),
        listing.pagination.total
    );
    filters(&mut main, spec, resource, listing, &parameters);
    paging(&mut main, listing);
    let sort = sorted_by(listing.vocabulary, &parameters, resource);
    let visible: Vec<&Field> = resource
        .fields
        .iter()
        .filter(|field| field.name != listing.id_field)
        .filter(|field| listing.fields.is_none_or(|only| only.contains(&field.name)))
        .collect();
    main.push_str("<div class=\"scroll\"><table><thead><tr>");
    sort_header(&mut main, listing, &parameters, listing.id_field, &sort);
    for field in &visible {
        if sortable(field) {
            sort_header(&mut main, listing, &parameters, &field.name, &sort);
        } else {
            let _ = write!(main, "<th scope=\"col\">{}</th>", escape(&field.name));
        }
    }
    // Marked, since an embed may share its name with a reference field.
    for embed in listing.embeds {
        let _ = write!(
            main,
            "<th scope=\"col\">{} <small>embedded</small></th>",
            escape(embed.name())
        );
    }
    main.push_str("</tr></thead><tbody>");
    for (row, object) in listing.rows.iter().enumerate() {
        let id = object.get(listing.id_field).unwrap_or(&Value::Null);
        let text = escape(&display(id));
        match listed_item_href(spec, resource, listing.collection_href, id) {
            Some(item) => {
                let _ = write!(
                    main,
                    "<tr><th scope=\"row\"><a href=\"{}\">{text}</a></th>",
                    escape(&item)
                );
            }
            None => {
                let _ = write!(main, "<tr><th scope=\"row\">{text}</th>");
            }
        }
        for field in &visible {
            cell(
                &mut main,
                spec,
                field,
                object.get(&field.name).unwrap_or(&Value::Null),
            );
        }
        if let Some(embedded) = listing.embedded.get(row) {
            for (embed, related) in listing.embeds.iter().zip(*embedded) {
                main.push_str(&embedded::cell(spec, embed, related));
            }
        }
        main.push_str("</tr>");
    }
    if listing.rows.is_empty() {
        let _ = write!(
            main,
            "<tr><td colspan=\"{}\">No records match.</td></tr>",
            visible.len() + listing.embeds.len() + 1
        );
    }
    main.push_str("</tbody></table></div>");
    paging(&mut main, listing);
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
