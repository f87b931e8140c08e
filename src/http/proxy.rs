//! A partial mock in front of a real API: with an upstream configured
//! (`--upstream`, or the spec's `upstream`), a request for a route the spec
//! does not declare is forwarded to it (method, path, query, headers but the
//! hop-by-hop ones, body), and its answer passed back (status, headers, body).
//! An upstream that cannot be reached is answered `502`, one that answers too
//! late `504`, both as problems naming it. An `https://` upstream is reached
//! with rustls (ring provider), its certificate verified against the
//! system's roots; a failed handshake or verification is a `502` saying so.
//! With a recorder (`--record`), answers to reads are kept as records
//! (`crate::record`).

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use percent_encoding::percent_decode_str;

use super::{AppState, Problem};
use crate::journal::Forwarded;
use crate::record::Recorder;
use crate::spec::{Dialect, Spec, Upstream};

/// Largest answer taken from an upstream (it is held whole, to be recorded).
pub const MAX_ANSWER_BYTES: usize = 64 << 20;
/// Standin hops a request may already have made before one more is refused
/// as a loop (a proxy whose upstream forwards back to it).
const MAX_HOPS: usize = 8;
/// What standin adds to `Via` when it forwards.
const VIA: &str = "1.1 standin";

/// Headers that belong to one connection, never forwarded (RFC 9110, section 7.6.1).
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    // Set anew for the next hop.
    "host",
    "content-length",
];

/// Forwarding's settings and its HTTP client, fixed at start.
#[derive(Debug, Default)]
pub struct Proxy {
    /// The upstream given at start (`--upstream`), ahead of the spec's.
    pub upstream: Option<Upstream>,
    /// Where answers are recorded (`--record`), if anywhere.
    pub recorder: Option<Arc<Recorder>>,
    client: std::sync::OnceLock<reqwest::Client>,
}

impl Proxy {
    /// Forwarding to `upstream` (when given, else the spec's), recording with `recorder`.
    pub fn new(upstream: Option<Upstream>, recorder: Option<Arc<Recorder>>) -> Proxy {
        install_tls_provider();
        Proxy {
            upstream,
            recorder,
            client: std::sync::OnceLock::new(),
        }
    }

    /// The upstream requests of `spec` are forwarded to, if any.
    pub fn upstream<'a>(&'a self, spec: &'a Spec) -> Option<&'a Upstream> {
        self.upstream.as_ref().or(spec.upstream.as_ref())
    }

    fn client(&self) -> Result<&reqwest::Client, String> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        install_tls_provider();
        // No pooled connections: a connection belongs to the worker's runtime
        // that opened it, and workers have one each.
        let client = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(0)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| error.to_string())?;
        Ok(self.client.get_or_init(|| client))
    }
}

/// Makes rustls's ring provider the process's default, unless one already is.
///
/// reqwest is built without a provider of its own (its default, aws-lc-rs,
/// is slow to build) and takes the process's: every reqwest client in the
/// process, standin's and any built after a server starts, needs one.
pub fn install_tls_provider() {
    // An error only says another provider was installed first; it serves as well.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Whether `spec` declares the route of `request`, which standin then
/// answers itself: the home document, the admin API, and every path below a
/// resource (or a document's operation); any other is the upstream's.
pub fn declares(spec: &Spec, request: &HttpRequest) -> bool {
    let path = request.path();
    let base = match &spec.dialect {
        Dialect::OpenApi(api) => api.base_path.as_str(),
        _ => spec.base_path.as_str(),
    };
    if path == "/" {
        return true;
    }
    let Some(rest) = path.strip_prefix(base) else {
        return false;
    };
    if rest.is_empty() || rest == "/" {
        return true;
    }
    let Some(rest) = rest.strip_prefix('/') else {
        return false;
    };
    let first = percent_decode_str(rest.split('/').next().unwrap_or_default()).decode_utf8_lossy();
    if first == "_standin" {
        return true;
    }
    match &spec.dialect {
        Dialect::OpenApi(api) => !matches!(
            super::openapi::find(api, request.method().as_str(), &format!("/{rest}")),
            super::openapi::Matched::None
        ),
        dialect => {
            first == "_jobs"
                || (*dialect == Dialect::JsonServer && first == "db")
                || spec.resources.iter().any(|resource| resource.name == first)
                || super::route::moved(spec, rest, "").is_some()
        }
    }
}

/// Forwards `request` to `upstream` and passes its answer back (or a problem
/// saying why there is none), marked for the journal.
pub async fn forward(
    request: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    spec: &Spec,
    upstream: &Upstream,
) -> HttpResponse {
    let path_and_query = request
        .uri()
        .path_and_query()
        .map_or(request.path(), |whole| whole.as_str());
    let url = format!("{}{path_and_query}", upstream.url);
    let (mut response, status) = match exchange(request, payload, state, upstream, &url).await {
        Ok((response, status, body)) => {
            if let Some(recorder) = &state.proxy.recorder
                && request.method() == actix_web::http::Method::GET
                && status == 200
                && is_json(&response)
            {
                record(recorder, spec, request.path(), body).await;
            }
            (response, Some(status))
        }
        Err(problem) => (problem.error_response(), None),
    };
    response.extensions_mut().insert(Forwarded { url, status });
    response
}

/// Sends the request on and reads the whole answer: the answer to pass
/// back, its status and its body.
async fn exchange(
    request: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    upstream: &Upstream,
    url: &str,
) -> Result<(HttpResponse, u16, web::Bytes), Problem> {
    let hops = request
        .headers()
        .get_all("via")
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter(|hop| hop.trim() == VIA)
        .count();
    if hops >= MAX_HOPS {
        return Err(Problem::Upstream {
            status: StatusCode::LOOP_DETECTED,
            upstream: upstream.url.clone(),
            detail: format!(
                "the request went through standin {hops} times (Via): the upstream {} forwards back to it",
                upstream.url
            ),
        });
    }
    let body = payload
        .to_bytes_limited(state.body_limit)
        .await
        .map_err(|_| Problem::PayloadTooLarge {
            limit: state.body_limit,
        })?
        .map_err(|error| Problem::bad_request(format!("cannot read the body: {error}")))?;
    let failed = |detail: String| Problem::Upstream {
        status: StatusCode::BAD_GATEWAY,
        upstream: upstream.url.clone(),
        detail,
    };
    let client = state
        .proxy
        .client()
        .map_err(|error| failed(format!("cannot make an HTTP client: {error}")))?;
    let method = reqwest::Method::from_bytes(request.method().as_str().as_bytes())
        .map_err(|_| Problem::bad_request(format!("'{}' is not a method", request.method())))?;
    let mut headers = reqwest::header::HeaderMap::new();
    let named_in_connection = connection_tokens(request.headers());
    for (name, value) in request.headers() {
        if is_hop_by_hop(name.as_str(), &named_in_connection) {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            reqwest::header::HeaderName::from_bytes(name.as_str().as_bytes()),
            reqwest::header::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            headers.append(name, value);
        }
    }
    headers.append(
        reqwest::header::VIA,
        reqwest::header::HeaderValue::from_static(VIA),
    );
    let sent = client
        .request(method, url)
        .headers(headers)
        .body(body.to_vec())
        .timeout(upstream.timeout)
        .send();
    let mut answer = sent
        .await
        .map_err(|error| upstream_failure(&error, upstream, url))?;
    let status = answer.status().as_u16();
    let mut response = HttpResponse::build(
        StatusCode::from_u16(status)
            .map_err(|_| failed(format!("it answered the status {status}")))?,
    );
    let named_in_connection: Vec<String> = answer
        .headers()
        .get_all(reqwest::header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|token| token.trim().to_ascii_lowercase())
        .collect();
    for (name, value) in answer.headers() {
        if is_hop_by_hop(name.as_str(), &named_in_connection) {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_str().as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            response.append_header((name, value));
        }
    }
    // A HEAD's answer has no body, and the length of the GET's it stands for.
    let head_length = answer
        .headers()
        .get(reqwest::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.parse::<u64>().ok())
        .filter(|_| request.method() == actix_web::http::Method::HEAD);
    let mut body = web::BytesMut::new();
    while let Some(chunk) = answer
        .chunk()
        .await
        .map_err(|error| upstream_failure(&error, upstream, url))?
    {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(failed(format!(
                "its answer to {url} is larger than {MAX_ANSWER_BYTES} bytes, more than standin passes on"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    let body = body.freeze();
    if let Some(length) = head_length {
        return Ok((response.body(Unsent(length)), status, body));
    }
    Ok((response.body(body.clone()), status, body))
}

/// The body of a forwarded HEAD's answer: its length, never sent.
struct Unsent(u64);

impl actix_web::body::MessageBody for Unsent {
    type Error = std::convert::Infallible;

    fn size(&self) -> actix_web::body::BodySize {
        actix_web::body::BodySize::Sized(self.0)
    }

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<web::Bytes, Self::Error>>> {
        std::task::Poll::Ready(None)
    }
}

/// The `502` or `504` of a request to the upstream that failed.
fn upstream_failure(error: &reqwest::Error, upstream: &Upstream, url: &str) -> Problem {
    if error.is_timeout() {
        return Problem::Upstream {
            status: StatusCode::GATEWAY_TIMEOUT,
            upstream: upstream.url.clone(),
            detail: format!(
                "the upstream {} did not answer {url} within {} (its timeout)",
                upstream.url,
                describe(upstream.timeout)
            ),
        };
    }
    // reqwest's own message is terse; its causes say what happened.
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    let why = match causes.last() {
        Some(cause) => cause.clone(),
        None => error.to_string(),
    };
    if let Some(tls) = tls_failure(error) {
        let trust = match tls {
            rustls::Error::InvalidCertificate(_) => {
                "its certificate is not trusted (verified against the system's roots): "
            }
            _ => "",
        };
        return Problem::Upstream {
            status: StatusCode::BAD_GATEWAY,
            upstream: upstream.url.clone(),
            detail: format!(
                "TLS with the upstream {} failed, in the handshake for {url}: {trust}{tls}",
                upstream.url
            ),
        };
    }
    let what = if error.is_connect() {
        "cannot connect to the upstream"
    } else {
        "the request to the upstream failed:"
    };
    Problem::Upstream {
        status: StatusCode::BAD_GATEWAY,
        upstream: upstream.url.clone(),
        detail: format!("{what} {} ({url}): {why}", upstream.url).replace(": :", ":"),
    }
}

/// The TLS error behind `error`, when the connection failed in TLS.
fn tls_failure(error: &reqwest::Error) -> Option<&rustls::Error> {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        // An I/O error (maybe in another) hides the error it wraps from `source`.
        let mut inner: Option<&(dyn std::error::Error + 'static)> = Some(cause);
        while let Some(error) = inner {
            if let Some(tls) = error.downcast_ref::<rustls::Error>() {
                return Some(tls);
            }
            inner = error
                .downcast_ref::<std::io::Error>()
                .and_then(std::io::Error::get_ref)
                .map(|wrapped| wrapped as &(dyn std::error::Error + 'static));
        }
        source = cause.source();
    }
    None
}

fn describe(duration: Duration) -> String {
    match duration.as_millis() {
        millis if millis % 1000 == 0 => format!("{}s", millis / 1000),
        millis => format!("{millis}ms"),
    }
}

fn connection_tokens(headers: &actix_web::http::header::HeaderMap) -> Vec<String> {
    headers
        .get_all(actix_web::http::header::CONNECTION)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|token| token.trim().to_ascii_lowercase())
        .collect()
}

fn is_hop_by_hop(name: &str, named_in_connection: &[String]) -> bool {
    HOP_BY_HOP.contains(&name) || named_in_connection.iter().any(|token| token == name)
}

fn is_json(response: &HttpResponse) -> bool {
    response
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media_type| {
            let media_type = media_type.trim().to_ascii_lowercase();
            media_type == "application/json" || media_type.ends_with("+json")
        })
}

/// Records a `GET`'s JSON answer below the spec's base path, off the worker.
async fn record(recorder: &Arc<Recorder>, spec: &Spec, path: &str, body: web::Bytes) {
    let below = match path.strip_prefix(spec.base_path.as_str()) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => rest,
        _ => path,
    };
    let segments: Vec<String> = below
        .split('/')
        .filter(|segment| !segment.is_empty())
        .map(|segment| percent_decode_str(segment).decode_utf8_lossy().into_owned())
        .collect();
    let recorder = Arc::clone(recorder);
    let path = path.to_string();
    match web::block(move || {
        recorder
            .record(&segments, &body)
            .map(|done| (done, recorder))
    })
    .await
    {
        Ok(Ok((Some(recorded), recorder))) => {
            let what = match recorded {
                crate::record::Recorded::Records(name, count) => {
                    format!("{count} record(s) of {name}")
                }
                crate::record::Recorded::Singular(name) => format!("the singular {name}"),
            };
            tracing::info!(
                "recorded {what} from the upstream's answer to GET {path} into {}",
                recorder.path().display()
            );
        }
        Ok(Ok((None, _))) => {
            tracing::debug!("GET {path}: the upstream's answer is not records; not recorded");
        }
        Ok(Err(error)) => tracing::error!("cannot record the answer to GET {path}: {error}"),
        Err(error) => tracing::error!("cannot record the answer to GET {path}: {error}"),
    }
}
