//! URLs of the API: collection and item hrefs, page links, RFC 6570
//! templates for the home document, and the RFC 8288 `Link` header.
//! Hrefs are path-absolute (`/api/books/7`), so they work behind proxies.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::spec::{FieldType, Resource, Spec};
use crate::store::RecordId;

/// Characters escaped in a path segment: all but RFC 3986's unreserved ones.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The home document's href.
pub fn home(spec: &Spec) -> String {
    if spec.base_path.is_empty() {
        "/".to_string()
    } else {
        spec.base_path.clone()
    }
}

/// The href of the OpenAPI description of the API.
pub fn description(spec: &Spec) -> String {
    format!("{}/_standin/openapi.json", spec.base_path)
}

/// The href of a resource's collection.
pub fn collection(spec: &Spec, resource: &str) -> String {
    format!("{}/{resource}", spec.base_path)
}

/// The href of one item (a singular resource's record is at the resource's path).
pub fn item(spec: &Spec, resource: &str, id: &RecordId) -> String {
    if is_singular(spec, resource) {
        return collection(spec, resource);
    }
    let segment = id.to_path_segment();
    format!(
        "{}/{resource}/{}",
        spec.base_path,
        utf8_percent_encode(&segment, SEGMENT)
    )
}

/// Whether `resource` names a singular resource of `spec`.
pub fn is_singular(spec: &Spec, resource: &str) -> bool {
    spec.resources
        .iter()
        .any(|candidate| candidate.singular && candidate.name == resource)
}

/// The spec's custom routes as (pattern, RFC 6570 template, its variables, target).
pub fn routes(spec: &Spec) -> Vec<(&str, String, Vec<String>, &str)> {
    spec.routes
        .iter()
        .flat_map(|routes| routes.rules())
        .map(|(pattern, target)| {
            let (template, variables) = crate::rewrite::template(pattern);
            (pattern, template, variables, target)
        })
        .collect()
}

/// The href of an inverse collection, `/authors/3/books`.
pub fn inverse(spec: &Spec, resource: &str, id: &RecordId, inverse: &str) -> String {
    format!("{}/{inverse}", item(spec, resource, id))
}

/// The RFC 6570 template of a collection at `href`, naming its query parameters.
pub fn collection_template(spec: &Spec, resource: &Resource, href: &str) -> String {
    format!(
        "{href}{{?{}}}",
        collection_parameters(spec, resource).join(",")
    )
}

/// The query parameters a collection advertises, each of which it accepts
/// with a single plain value: paging, sort, search, embed, fields, and an
/// equality filter per scalar field (arrays and objects are filtered only
/// through operators, like `tags__contains`).
pub fn collection_parameters<'a>(spec: &Spec, resource: &'a Resource) -> Vec<&'a str> {
    let mut parameters = vec!["page", "per_page", "sort"];
    if !resource.search.is_empty() {
        parameters.push("q");
    }
    let can_embed =
        resource.references().next().is_some() || !spec.inverses(&resource.name).is_empty();
    if can_embed {
        parameters.push("embed");
    }
    parameters.push("fields");
    parameters.push("id");
    parameters.extend(
        resource
            .fields
            .iter()
            .filter(|field| !matches!(field.kind, FieldType::Object | FieldType::Array))
            .map(|field| field.name.as_str()),
    );
    parameters
}

/// The RFC 6570 template of a resource's items.
pub fn item_template(spec: &Spec, resource: &str) -> String {
    format!("{}/{{id}}", collection(spec, resource))
}

/// The links of one page of a collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageLinks {
    /// This page.
    pub this: String,
    /// The first page.
    pub first: String,
    /// The page before, unless this is the first.
    pub prev: Option<String>,
    /// The page after, unless this is the last.
    pub next: Option<String>,
    /// The last page.
    pub last: String,
}

/// Where a page sits in a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pagination {
    /// 1-based page number.
    pub page: u64,
    /// Records per page.
    pub per_page: u32,
    /// Records in the whole collection.
    pub total: u64,
    /// Index of the window's first record.
    pub offset: u64,
}

impl Pagination {
    /// Number of pages; an empty collection has one empty page.
    pub fn pages(&self) -> u64 {
        self.total.div_ceil(u64::from(self.per_page)).max(1)
    }
}

/// Page links for `href`, keeping the request's other query parameters.
pub fn page_links(
    href: &str,
    other_parameters: &[(String, String)],
    pagination: Pagination,
) -> PageLinks {
    // Each link written into one string (a page's five links are made for every page read).
    let others: usize = other_parameters
        .iter()
        .map(|(name, value)| name.len() + value.len() + 2)
        .sum();
    let with = |window: &[(&str, u64)]| {
        let mut link = String::with_capacity(href.len() + others + 48);
        link.push_str(href);
        link.push('?');
        let mut query = form_urlencoded::Serializer::for_suffix(link, href.len() + 1);
        for (name, value) in other_parameters {
            query.append_pair(name, value);
        }
        let mut digits = itoa::Buffer::new();
        for (name, value) in window {
            query.append_pair(name, digits.format(*value));
        }
        query.finish()
    };
    let size = u64::from(pagination.per_page);
    if !pagination.offset.is_multiple_of(size) {
        // A window that does not start on a page (`_start=5&_end=15`) links
        // to the windows of the same size before and after it.
        let window = |start: u64| with(&[("_start", start), ("_limit", size)]);
        let last = pagination.total.saturating_sub(size);
        return PageLinks {
            this: window(pagination.offset),
            first: window(0),
            prev: (pagination.offset > 0).then(|| window(pagination.offset.saturating_sub(size))),
            next: (pagination.offset + size < pagination.total)
                .then(|| window(pagination.offset + size)),
            last: window(last),
        };
    }
    let page_href = |page: u64| with(&[("page", page), ("per_page", size)]);
    let pages = pagination.pages();
    PageLinks {
        this: page_href(pagination.page),
        first: page_href(1),
        prev: (pagination.page > 1).then(|| page_href((pagination.page - 1).min(pages))),
        next: (pagination.page < pages).then(|| page_href(pagination.page + 1)),
        last: page_href(pages),
    }
}

impl PageLinks {
    /// The links as an RFC 8288 `Link` header value.
    pub fn header(&self) -> String {
        let links = [
            ("first", Some(&self.first)),
            ("prev", self.prev.as_ref()),
            ("next", self.next.as_ref()),
            ("last", Some(&self.last)),
        ];
        let mut header = String::with_capacity(4 * (self.last.len() + 16));
        for (rel, href) in links
            .into_iter()
            .filter_map(|(rel, href)| Some((rel, href?)))
        {
            if !header.is_empty() {
                header.push_str(", ");
            }
            for part in ["<", href, ">; rel=\"", rel, "\""] {
                header.push_str(part);
            }
        }
        header
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn middle_pages_link_both_ways() {
        let links = page_links(
            "/books",
            &[],
            Pagination {
                page: 2,
                per_page: 10,
                total: 35,
                offset: 10,
            },
        );
        assert_eq!(links.prev.as_deref(), Some("/books?page=1&per_page=10"));
        assert_eq!(links.next.as_deref(), Some("/books?page=3&per_page=10"));
        assert_eq!(links.last, "/books?page=4&per_page=10");
    }

    #[test]
    fn the_first_page_has_no_prev_and_the_last_no_next() {
        let links = page_links(
            "/books",
            &[],
            Pagination {
                page: 1,
                per_page: 10,
                total: 5,
                offset: 0,
            },
        );
        assert_eq!(links.prev, None);
        assert_eq!(links.next, None);
        assert_eq!(
            links.header(),
            "</books?page=1&per_page=10>; rel=\"first\", </books?page=1&per_page=10>; rel=\"last\""
        );
    }

    #[test]
    fn other_parameters_are_kept() {
        let other = [("genre".to_string(), "sci fi".to_string())];
        let links = page_links(
            "/books",
            &other,
            Pagination {
                page: 1,
                per_page: 5,
                total: 6,
                offset: 0,
            },
        );
        assert_eq!(
            links.next.as_deref(),
            Some("/books?genre=sci+fi&page=2&per_page=5")
        );
    }
}
