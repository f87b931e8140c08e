//! Pages for browsers of the imported dialects (json-server db.json, OpenAPI
//! documents): their lists' paging links in the dialect's own query
//! parameters, a db.json list's page, and the page responses. The pages
//! themselves are the shared renderers of `represent::html`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};

use serde_json::{Map, Value};

use super::respond;
use crate::links::{PageLinks, Pagination};
use crate::represent::{Representation, html};
use crate::spec::{Resource, Spec};

/// A page as the answer to a browser's read.
pub fn page(body: String) -> HttpResponse {
    let mut response = HttpResponse::build(StatusCode::OK);
    respond::content_type(&mut response, Representation::Html);
    response.insert_header(("vary", "Accept")).body(body)
}

/// The request's query parameters, in order.
pub fn query(request: &HttpRequest) -> Vec<(String, String)> {
    form_urlencoded::parse(request.query_string().as_bytes())
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect()
}

/// How a list's pages are asked for.
#[derive(Debug, Clone, Copy)]
pub enum Paging<'a> {
    /// By page number and size (`_page` and `_limit`).
    Numbered {
        /// The page-number parameter.
        page: &'a str,
        /// The page-size parameter, if any.
        size: Option<&'a str>,
    },
    /// By records skipped and size (`offset` and `limit`).
    Offset {
        /// The skip parameter.
        offset: &'a str,
        /// The page-size parameter, if any.
        size: Option<&'a str>,
    },
    /// Not at all: the list is one page.
    None,
}

/// The links of the page of `request` at `pagination`, in `paging`'s
/// parameters, the request's others kept (those in `dropped` left out).
pub fn links(
    request: &HttpRequest,
    paging: Paging<'_>,
    pagination: Pagination,
    dropped: &[&str],
) -> PageLinks {
    let this = request.uri().to_string();
    let path = request.path().to_string();
    let (window, size): (Vec<&str>, Option<&str>) = match paging {
        Paging::Numbered { page, size } => (vec![page], size),
        Paging::Offset { offset, size } => (vec![offset], size),
        Paging::None => {
            return PageLinks {
                first: this.clone(),
                last: this.clone(),
                this,
                prev: None,
                next: None,
            };
        }
    };
    let kept: Vec<(String, String)> = query(request)
        .into_iter()
        .filter(|(name, _)| {
            !window.contains(&name.as_str())
                && Some(name.as_str()) != size
                && !dropped.contains(&name.as_str())
        })
        .collect();
    let at = |number: u64| {
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        for (name, value) in &kept {
            serializer.append_pair(name, value);
        }
        let per_page = u64::from(pagination.per_page);
        match paging {
            Paging::Offset { offset, .. } => {
                serializer.append_pair(offset, &((number - 1) * per_page).to_string())
            }
            _ => serializer.append_pair(window[0], &number.to_string()),
        };
        if let Some(size) = size {
            serializer.append_pair(size, &per_page.to_string());
        }
        format!("{path}?{}", serializer.finish())
    };
    let pages = pagination.pages();
    PageLinks {
        this,
        first: at(1),
        prev: (pagination.page > 1).then(|| at(pagination.page - 1)),
        next: (pagination.page < pages).then(|| at(pagination.page + 1)),
        last: at(pages),
    }
}

/// Where a window of `per_page` records starting at `offset` sits among `total`.
pub fn pagination(offset: u64, per_page: u32, total: u64) -> Pagination {
    let per_page = per_page.max(1);
    Pagination {
        page: offset / u64::from(per_page) + 1,
        per_page,
        total,
        offset,
    }
}

/// The page of a db.json list for a browser: the records json-server answers,
/// paged by `_page` and `_limit` (all of them until a size is asked for).
pub fn db_json_list(
    request: &HttpRequest,
    spec: &Spec,
    resource: &Resource,
    params: &[(String, String)],
    answer: crate::json_server::ListAnswer,
) -> HttpResponse {
    let number = |name: &str| {
        params
            .iter()
            .find(|(key, _)| key == name)
            .and_then(|(_, value)| value.trim().parse::<u64>().ok())
    };
    let total = answer.total.unwrap_or(answer.records.len()) as u64;
    let limit = number("_limit").filter(|limit| *limit > 0);
    let (offset, per_page, unpaged) = match (number("_page"), limit) {
        (Some(page), limit) => {
            let limit = limit.unwrap_or(10);
            (page.max(1).saturating_sub(1) * limit, limit, false)
        }
        (None, Some(limit)) => (number("_start").unwrap_or(0), limit, false),
        (None, None) => (0, total.max(1), true),
    };
    let per_page = u32::try_from(per_page).unwrap_or(u32::MAX);
    let pagination = pagination(offset, per_page, total);
    let paging = if unpaged {
        Paging::None
    } else {
        Paging::Numbered {
            page: "_page",
            size: Some("_limit"),
        }
    };
    let links = links(request, paging, pagination, &["_start", "_end", "_delay"]);
    let rows: Vec<Map<String, Value>> = answer
        .records
        .into_iter()
        .filter_map(|record| match record {
            Value::Object(object) => Some(object),
            _ => None,
        })
        .collect();
    let resource = html::with_fields_of(spec, resource, &rows);
    let vocabulary = html::Vocabulary::json_server();
    // `/posts/1/comments` pages at its own path.
    let href = request.path().to_string();
    let listing = html::Listing {
        rows,
        id_field: "id",
        pagination,
        unpaged,
        links: &links,
        collection_href: &href,
        fields: None,
        vocabulary: &vocabulary,
        embeds: &[],
        embedded: Vec::new(),
    };
    page(html::listing_page(spec, &resource, &listing))
}
