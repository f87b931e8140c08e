//! Pages for browsers of an OpenAPI document's resources: the home page at
//! the base path, and list and item pages whose controls are the query
//! parameters the document declares for the list (sort, page size, offset or
//! page, equality filters), none it does not.

use actix_web::http::Method as HttpMethod;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{Map, Value};

use super::{Context, LIMIT_NAMES, OFFSET_NAMES, SORT_NAMES, request};
use crate::http::pages::{self, Paging};
use crate::import::openapi::api::Location;
use crate::represent::html::{self, Sorting, Vocabulary};
use crate::spec::{Dialect, FieldType, Spec};

/// Whether `request` is a browser's read of the base path that no operation
/// of the document answers: the home page's.
pub fn is_home_page(request: &HttpRequest, spec: &Spec) -> bool {
    let Dialect::OpenApi(api) = &spec.dialect else {
        return false;
    };
    let Some(rest) = request.path().strip_prefix(api.base_path.as_str()) else {
        return false;
    };
    (rest.is_empty() || rest == "/")
        && crate::http::respond::wants_page(request, spec)
        && matches!(
            request::find(api, HttpMethod::GET.as_str(), rest),
            request::Matched::None
        )
}

/// The document's list parameters as the page's controls can use them.
fn vocabulary(context: &Context<'_>, index: usize) -> (Vocabulary, Paging<'static>) {
    let (resource, _) = context.resource(index);
    let declared: Vec<&str> = context
        .operation
        .parameters
        .iter()
        .filter(|parameter| parameter.location == Location::Query)
        .map(|parameter| parameter.name.as_str())
        .collect();
    let find = |names: &[&'static str]| names.iter().copied().find(|name| declared.contains(name));
    let size = find(&LIMIT_NAMES);
    let paging = match (find(&OFFSET_NAMES), declared.contains(&"page")) {
        (Some(offset), _) => Paging::Offset { offset, size },
        (None, true) => Paging::Numbered { page: "page", size },
        (None, false) => Paging::None,
    };
    let equality = declared
        .iter()
        .filter_map(|name| {
            let field = resource.field(name).or_else(|| {
                name.strip_suffix('s')
                    .and_then(|singular| resource.field(singular))
            })?;
            (!matches!(field.kind, FieldType::Object | FieldType::Array))
                .then(|| (name.to_string(), field.name.clone()))
        })
        .collect();
    let vocabulary = Vocabulary {
        sorting: find(&SORT_NAMES).map(|name| Sorting::Signed(name.to_string())),
        per_page: size.map(str::to_string),
        page: match paging {
            Paging::Numbered { page, .. } => Some(page.to_string()),
            Paging::Offset { offset, .. } => Some(offset.to_string()),
            Paging::None => None,
        },
        search: false,
        operators: None,
        equality: Some(equality),
        shaping: &[],
    };
    (vocabulary, paging)
}

/// The page of a list: `items` (as the document's items look), `limit` from `offset` of `total`.
pub fn list_page(
    context: &Context<'_>,
    index: usize,
    request: &HttpRequest,
    items: Vec<Value>,
    offset: u64,
    limit: u32,
    total: u64,
) -> HttpResponse {
    let (resource, map) = context.resource(index);
    let (vocabulary, paging) = vocabulary(context, index);
    let pagination = pages::pagination(offset, limit, total);
    let links = pages::links(request, paging, pagination, &[]);
    let rows: Vec<Map<String, Value>> = items
        .into_iter()
        .filter_map(|item| match item {
            Value::Object(object) => Some(object),
            _ => None,
        })
        .collect();
    let listing = html::Listing {
        rows,
        id_field: &map.id_field,
        pagination,
        unpaged: false,
        links: &links,
        collection_href: request.path(),
        fields: None,
        vocabulary: &vocabulary,
        embeds: &[],
        embedded: Vec::new(),
    };
    pages::page(html::listing_page(context.spec, resource, &listing))
}

impl Context<'_> {
    /// The page of one record.
    pub(super) fn item_page(&self, index: usize, record: &crate::store::Record) -> HttpResponse {
        let (resource, map) = self.resource(index);
        let Value::Object(object) = self.item_value(index, record) else {
            return self.item(index, record, &[200]);
        };
        let shown = html::Shown {
            object: &object,
            id_field: &map.id_field,
            etag: None,
            fields: None,
            href: None,
            embeds: &[],
            embedded: &[],
        };
        pages::page(html::shown_page(self.spec, resource, &shown))
    }
}
