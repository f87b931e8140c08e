//! Pages for browsers of the imported dialects (json-server db.json, OpenAPI
//! documents): their lists' paging links in the dialect's own query
//! parameters, and the page responses. The pages themselves are the shared
//! renderers of `represent::html`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};

use super::respond;
use crate::links::{PageLinks, Pagination};
use crate::represent::Representation;

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
