//! Answers to reads, kept until a write changes what they read: a GET of an
//! item or a page is a function of the data, the spec and the request, so
//! while neither the data it reads nor the spec changes, the same request
//! gets the same bytes without touching the store. Each answer is kept with
//! the version it was computed at (the generation of the resources it reads,
//! or of all the data, and the spec's), and is served only while a request
//! computes the same version. Conditional requests and anything but a plain
//! 200 are never cached.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};

/// Entries kept at most; the cache is emptied when full.
const CAPACITY: usize = 4096;
/// Largest body kept.
const LARGEST: usize = 256 * 1024;

struct Entry {
    version: Version,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
}

pub use crate::service::Version;

/// The cache of answers to reads, each with its version; readers look up in parallel.
#[derive(Default)]
pub struct ResponseCache {
    kept: parking_lot::RwLock<HashMap<String, Arc<Entry>>>,
}

impl std::fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResponseCache")
    }
}

/// The cache key of a request answered in `representation`, if it may be cached.
fn key(request: &HttpRequest, representation: &str) -> Option<String> {
    let headers = request.headers();
    let conditional = headers.contains_key(header::IF_NONE_MATCH)
        || headers.contains_key(header::IF_MODIFIED_SINCE);
    let cacheable_method = matches!(*request.method(), Method::GET | Method::HEAD);
    // A Range header changes the answer's headers (Content-Range).
    (cacheable_method && !conditional && !headers.contains_key(header::RANGE)).then(|| {
        format!(
            "{representation} {}?{}",
            request.path(),
            request.query_string()
        )
    })
}

/// A read that may be answered from the cache, and whose answer may be kept.
pub struct CachedRead<'a> {
    cache: &'a ResponseCache,
    slot: Option<(Version, String)>,
}

impl<'a> CachedRead<'a> {
    /// A read of `request` in `representation`, cacheable at `version` (none: not cacheable).
    pub fn begin(
        cache: &'a ResponseCache,
        version: Option<Version>,
        request: &HttpRequest,
        representation: &str,
    ) -> Self {
        let slot = version.zip(key(request, representation));
        CachedRead { cache, slot }
    }

    /// The kept answer, if there is one.
    pub fn hit(&self) -> Option<HttpResponse> {
        let (version, key) = self.slot.as_ref()?;
        self.cache.get(*version, key)
    }

    /// Keeps `response` (if it may be kept) and gives it back.
    pub fn keep(self, response: HttpResponse) -> HttpResponse {
        match self.slot {
            Some((version, key)) => self.cache.put(version, key, response),
            None => response,
        }
    }
}

impl ResponseCache {
    /// The cached answer for `key` at `version`.
    fn get(&self, version: Version, key: &str) -> Option<HttpResponse> {
        let entry = self.kept.read().get(key)?.clone();
        if entry.version != version {
            return None;
        }
        let mut response = HttpResponse::build(StatusCode::OK);
        for (name, value) in &entry.headers {
            response.append_header((name.clone(), value.clone()));
        }
        Some(response.body(entry.body.clone()))
    }

    /// Keeps a 200 answer for `key` at `version`, and gives it back.
    fn put(&self, version: Version, key: String, response: HttpResponse) -> HttpResponse {
        if response.status() != StatusCode::OK {
            return response;
        }
        let (head, body) = response.into_parts();
        let body = match body.try_into_bytes() {
            Ok(bytes) => bytes,
            Err(body) => return head.set_body(body),
        };
        let headers: Vec<(HeaderName, HeaderValue)> = head
            .headers()
            .iter()
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        if body.len() <= LARGEST {
            let mut kept = self.kept.write();
            // A slow reader's answer to an older state: not worth keeping.
            // (A later spec may compute generations of other resources.)
            let newer =
                |kept: &Version| (kept.spec, kept.generation) > (version.spec, version.generation);
            if kept.get(&key).is_some_and(|entry| newer(&entry.version)) {
                return head.set_body(body).map_into_boxed_body();
            }
            if kept.len() >= CAPACITY && !kept.contains_key(&key) {
                kept.clear();
            }
            kept.insert(
                key,
                Arc::new(Entry {
                    version,
                    headers,
                    body: body.clone(),
                }),
            );
        }
        head.set_body(body).map_into_boxed_body()
    }
}
