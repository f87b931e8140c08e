//! Building successful responses: choosing the representation, the write
//! preference (`Prefer: return=...`), and the headers every item and page
//! carries (`ETag`, `Last-Modified`, `Link`, `X-Total-Count`, `Vary`).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};

use super::problem::Problem;
use super::{conditional, negotiate};
use crate::clock;
use crate::fingerprint;
use crate::links::{PageLinks, Pagination};
use crate::represent::{self, ItemView, PageView, Representation, Shape};
use crate::spec::{Resource, Return, Spec};
use crate::store::{Embedded, Record};

/// The representation to answer `request` with, honouring `defaults.accept`.
pub fn representation(request: &HttpRequest, spec: &Spec) -> Result<Representation, Problem> {
    representation_among(request, spec, &Representation::ALL)
}

/// The representation among `available` to answer `request` with.
pub fn representation_among(
    request: &HttpRequest,
    spec: &Spec,
    available: &[Representation],
) -> Result<Representation, Problem> {
    // The common case, decided as the whole negotiation would: one media
    // type asked for, with no parameters, and offered.
    let mut accepts = request.headers().get_all(header::ACCEPT);
    if let (Some(only), None) = (accepts.next(), accepts.next())
        && let Ok(only) = only.to_str()
        && let Some(offered) = available
            .iter()
            .find(|offer| offer.media_type().eq_ignore_ascii_case(only.trim()))
    {
        return Ok(*offered);
    }
    let mut offers: Vec<&'static str> = available.iter().map(|r| r.media_type()).collect();
    if let Some(position) = offers
        .iter()
        .position(|offer| *offer == spec.defaults.accept)
    {
        let preferred = offers.remove(position);
        offers.insert(0, preferred);
    }
    let accept = request
        .headers()
        .get_all(header::ACCEPT)
        .filter_map(|value| value.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    let accept = (!accept.is_empty()).then_some(accept.as_str());
    negotiate::choose(accept, &offers)
        .and_then(Representation::from_media_type)
        .ok_or(Problem::NotAcceptable { available: offers })
}

/// The `return` preference a request states in `Prefer`, if any.
pub fn requested_return(request: &HttpRequest) -> Option<Return> {
    request
        .headers()
        .get_all("prefer")
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split([',', ';']))
        .find_map(
            |preference| match preference.trim().to_ascii_lowercase().as_str() {
                "return=minimal" => Some(Return::Minimal),
                "return=representation" => Some(Return::Representation),
                _ => None,
            },
        )
}

/// What a write answers: the request's preference, else the spec's, else `fallback`.
pub fn write_return(request: &HttpRequest, spec: &Spec, fallback: Return) -> (Return, bool) {
    match requested_return(request) {
        Some(preference) => (preference, true),
        None => (spec.defaults.prefer.unwrap_or(fallback), false),
    }
}

fn builder(status: StatusCode) -> HttpResponseBuilder {
    let mut response = HttpResponse::build(status);
    response.insert_header((header::VARY, "Accept"));
    response.insert_header((header::CACHE_CONTROL, "no-cache"));
    response
}

/// The headers describing one record: `ETag` and `Last-Modified`.
fn record_headers(
    response: &mut HttpResponseBuilder,
    resource: &Resource,
    record: &Record,
    representation: Representation,
) {
    response.insert_header((
        header::ETAG,
        represent::etag(resource, record, representation),
    ));
    // A count changes with other records, not this one's `updated_at`: an
    // item with one has no `Last-Modified` that `If-Modified-Since` could
    // wrongly find unchanged (its ETag covers the count).
    if resource.counted_resources().next().is_some() {
        return;
    }
    if let Some(moment) = clock::parse_timestamp(&record.updated_at) {
        response.insert_header((header::LAST_MODIFIED, httpdate::fmt_http_date(moment)));
    }
}

/// A response carrying one record (or, for `Return::Minimal`, only its headers).
pub struct ItemResponse<'a> {
    /// The status of a response with a body.
    pub status: StatusCode,
    /// Whether to send the record or 204.
    pub returns: Return,
    /// Whether the request's `Prefer` was honoured.
    pub preference_applied: bool,
    /// Sent as `Location` when set.
    pub location: Option<String>,
    /// The record.
    pub record: &'a Record,
}

impl<'a> ItemResponse<'a> {
    /// The `200` answer to a write that changed `record`, with the record
    /// or without a body as the request's `Prefer` asks.
    pub fn updated(request: &HttpRequest, spec: &Spec, record: &'a Record) -> ItemResponse<'a> {
        let (returns, preference_applied) = write_return(request, spec, Return::Representation);
        ItemResponse {
            status: StatusCode::OK,
            returns,
            preference_applied,
            location: None,
            record,
        }
    }

    /// A plain `200` read of `record`.
    pub fn read(record: &'a Record) -> ItemResponse<'a> {
        ItemResponse {
            status: StatusCode::OK,
            returns: Return::Representation,
            preference_applied: false,
            location: None,
            record,
        }
    }
}

impl ItemResponse<'_> {
    /// Renders the response.
    pub fn render(
        self,
        spec: &Spec,
        resource: &Resource,
        representation: Representation,
    ) -> HttpResponse {
        self.render_shaped(spec, resource, &[], Shape::default(), representation)
    }

    /// Renders the response with embedded records and a sparse fieldset.
    pub fn render_shaped(
        self,
        spec: &Spec,
        resource: &Resource,
        embedded: &[Embedded],
        shape: Shape<'_>,
        representation: Representation,
    ) -> HttpResponse {
        let minimal = self.returns == Return::Minimal;
        let mut response = builder(if minimal {
            StatusCode::NO_CONTENT
        } else {
            self.status
        });
        if embedded.is_empty() {
            record_headers(&mut response, resource, self.record, representation);
        }
        if let Some(location) = self.location
            && let Ok(value) = HeaderValue::from_str(&location)
        {
            response.insert_header((header::LOCATION, value));
        }
        if self.preference_applied {
            let applied = if minimal {
                "return=minimal"
            } else {
                "return=representation"
            };
            response.insert_header(("Preference-Applied", applied));
        }
        if minimal {
            return response.finish();
        }
        content_type(&mut response, representation);
        let view = ItemView {
            record: self.record,
            embedded,
        };
        let body = represent::item(spec, resource, view, shape, representation);
        if !embedded.is_empty() {
            // A count changes without its record's updated_at: no date then.
            let counts = std::iter::once(resource)
                .chain(
                    shape
                        .embeds
                        .iter()
                        .flat_map(|embed| embed.resources())
                        .filter_map(|name| spec.resource(name)),
                )
                .any(|resource| resource.counted_resources().next().is_some());
            embedded_headers(&mut response, counts, self.record, embedded, &body);
        }
        response.body(body)
    }
}

/// The validators of an item with embedded records: the body's hash (it
/// changes when an embedded record does) and, unless a record shown has a
/// count (`counts`), the newest change among them.
fn embedded_headers(
    response: &mut HttpResponseBuilder,
    counts: bool,
    record: &Record,
    embedded: &[Embedded],
    body: &[u8],
) {
    let hash = fingerprint::digest(body);
    response.insert_header((header::ETAG, format!("\"{hash:016x}\"")));
    if counts {
        return;
    }
    // Nested embeds count too: `comments.author` changes with an author's name.
    let related = embedded.iter().flat_map(Embedded::records);
    let newest = std::iter::once(record)
        .chain(related)
        .map(|record| record.updated_at.as_str())
        .max()
        .and_then(clock::parse_timestamp);
    if let Some(moment) = newest {
        response.insert_header((header::LAST_MODIFIED, httpdate::fmt_http_date(moment)));
    }
}

/// A plain `200` read of a record of `resource` already rendered (by
/// [`represent::stored_item`]): what [`ItemResponse::read`] renders.
pub fn rendered_item(
    resource: &Resource,
    body: Vec<u8>,
    etag: String,
    updated_at: &str,
    representation: Representation,
) -> HttpResponse {
    let mut response = builder(StatusCode::OK);
    response.insert_header((header::ETAG, etag));
    // As `record_headers`: no date for a record whose count changes without it.
    if resource.counted_resources().next().is_none()
        && let Some(moment) = clock::parse_timestamp(updated_at)
    {
        response.insert_header((header::LAST_MODIFIED, httpdate::fmt_http_date(moment)));
    }
    content_type(&mut response, representation);
    response.body(body)
}

/// A collection page with its paging headers; `offset` is the index of its first item.
pub fn page(
    request: &HttpRequest,
    spec: &Spec,
    resource: &Resource,
    view: &PageView<'_>,
    offset: u64,
    representation: Representation,
) -> HttpResponse {
    let body = represent::collection(spec, resource, view, representation);
    let pagination = Pagination {
        offset,
        ..view.pagination
    };
    let count = view.items.len();
    rendered_page(
        request,
        resource,
        view.links,
        pagination,
        count,
        representation,
        body.into(),
        None,
    )
}

/// A collection page of `count` items already rendered, with its paging
/// headers; `etag` is the body's, where it was made before.
#[expect(clippy::too_many_arguments, reason = "the parts of a page's answer")]
pub fn rendered_page(
    request: &HttpRequest,
    resource: &Resource,
    links: &PageLinks,
    pagination: Pagination,
    count: usize,
    representation: Representation,
    body: Bytes,
    etag: Option<String>,
) -> HttpResponse {
    let offset = pagination.offset;
    // A weak validator: the page's bytes, not a single record's state.
    let etag = etag.unwrap_or_else(|| format!("W/\"{:016x}\"", fingerprint::digest(&body)));
    if conditional::not_modified(request, &etag, None) {
        return not_modified(&etag, None);
    }
    let mut response = builder(StatusCode::OK);
    response.insert_header((header::ETAG, etag));
    if let Ok(value) = HeaderValue::from_str(&links.header()) {
        response.insert_header((header::LINK, value));
    }
    let total = pagination.total;
    response.insert_header(("X-Total-Count", total.to_string()));
    // react-admin's simple-rest data provider reads the window from
    // Content-Range; it asks with `range=` (and a Range header). Other clients
    // get no Content-Range, which a 200 is not meant to carry.
    let asks_for_range = request.headers().contains_key(header::RANGE)
        || form_urlencoded::parse(request.query_string().as_bytes())
            .any(|(name, _)| name == "range");
    if asks_for_range {
        let range = match count as u64 {
            0 => format!("{} */{total}", resource.name),
            count => format!("{} {offset}-{}/{total}", resource.name, offset + count - 1),
        };
        if let Ok(value) = HeaderValue::from_str(&range) {
            response.insert_header((header::CONTENT_RANGE, value));
        }
    }
    content_type(&mut response, representation);
    response.body(body)
}

/// The home document.
pub fn home(request: &HttpRequest, spec: &Spec, representation: Representation) -> HttpResponse {
    home_body(
        request,
        represent::home(spec, representation),
        representation,
    )
}

/// The home page for browsers, with the collections' counts.
pub fn home_page(request: &HttpRequest, spec: &Spec, counts: &[Option<u64>]) -> HttpResponse {
    let body = represent::html::home(spec, counts).into_bytes();
    home_body(request, body, Representation::Html)
}

fn home_body(request: &HttpRequest, body: Vec<u8>, representation: Representation) -> HttpResponse {
    // It changes only with the spec (and its page with the data): its bytes are its validator.
    let etag = format!("\"{:016x}\"", fingerprint::digest(&body));
    if conditional::not_modified(request, &etag, None) {
        return not_modified(&etag, None);
    }
    let mut response = builder(StatusCode::OK);
    content_type(&mut response, representation);
    response.insert_header((header::ETAG, etag)).body(body)
}

/// Whether `request` is a browser's read, which gets pages (problems included).
pub fn wants_page(request: &HttpRequest, spec: &Spec) -> bool {
    use actix_web::http::Method;
    let offers = [Representation::Json, Representation::Html];
    matches!(*request.method(), Method::GET | Method::HEAD)
        && representation_among(request, spec, &offers).ok() == Some(Representation::Html)
}

/// `problem` as a page: its status and headers, its details as HTML.
pub async fn problem_page(spec: &Spec, problem: &Problem) -> HttpResponse {
    use actix_web::ResponseError;
    let (response, body) = problem.error_response().into_parts();
    let bytes = actix_web::body::to_bytes(body).await.unwrap_or_default();
    let details = serde_json::from_slice(&bytes).unwrap_or_default();
    let mut response = response.set_body(represent::html::problem(spec, &details));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(represent::html::CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::VARY, HeaderValue::from_static("Accept"));
    response.map_into_boxed_body()
}

/// `Content-Type`, and for pages their `Content-Security-Policy`.
pub fn content_type(response: &mut HttpResponseBuilder, representation: Representation) {
    if representation == Representation::Html {
        response.content_type("text/html; charset=utf-8");
        response.insert_header((
            header::CONTENT_SECURITY_POLICY,
            represent::html::CONTENT_SECURITY_POLICY,
        ));
    } else {
        response.content_type(representation.media_type());
    }
}

/// `304 Not Modified`, repeating the validators, `Vary` and `Cache-Control`.
pub fn not_modified(etag: &str, modified: Option<std::time::SystemTime>) -> HttpResponse {
    let mut response = builder(StatusCode::NOT_MODIFIED);
    response.insert_header((header::ETAG, etag.to_string()));
    if let Some(moment) = modified {
        response.insert_header((header::LAST_MODIFIED, httpdate::fmt_http_date(moment)));
    }
    response.finish()
}

/// Request headers cross-origin clients may send.
const CORS_REQUEST_HEADERS: &[&str] = &[
    "Accept",
    "Authorization",
    "Content-Type",
    "If-Match",
    "If-None-Match",
    "If-Modified-Since",
    "If-Unmodified-Since",
    "Prefer",
    "Range",
    "Standin-Session",
];

/// `204` with `Allow` (and, for a CORS preflight, what the route allows), the answer to OPTIONS.
pub fn options(request: &HttpRequest, spec: &Spec, allow: &[&str]) -> HttpResponse {
    let mut response = HttpResponse::NoContent();
    response.insert_header((header::ALLOW, allow.join(", ")));
    let preflight = request.headers().contains_key(header::ORIGIN)
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight && spec.cors != crate::spec::Cors::Off {
        // The CORS middleware adds the origin; the route says what it allows.
        response.insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, allow.join(", ")));
        response.insert_header((
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            CORS_REQUEST_HEADERS.join(", "),
        ));
        response.insert_header((header::ACCESS_CONTROL_MAX_AGE, "3600"));
    }
    if allow.contains(&"POST") {
        response.insert_header(("Accept-Post", super::body::ACCEPT_POST.join(", ")));
    }
    if allow.contains(&"PATCH") {
        response.insert_header(("Accept-Patch", super::body::ACCEPT_PATCH.join(", ")));
    }
    response.finish()
}

/// A permanent redirect to `location`: `301` for GET and HEAD, `308` for
/// other methods.
pub fn moved(method: &actix_web::http::Method, location: &str) -> HttpResponse {
    use actix_web::http::Method;
    let Ok(value) = HeaderValue::from_str(location) else {
        return HttpResponse::NotFound().finish();
    };
    // Clients follow a 301 with a GET; 308 keeps the method and the body.
    let mut response = if matches!(*method, Method::GET | Method::HEAD) {
        HttpResponse::MovedPermanently()
    } else {
        HttpResponse::PermanentRedirect()
    };
    response
        .insert_header((header::LOCATION, value))
        // Permanent, but a spec edit can take it back, and browsers would
        // otherwise keep a 301 for good: caches do not keep it.
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}
