//! Answers to reads, kept until a write changes what they read: a GET of an
//! item or a page is a function of the data, the spec and the request, so
//! while neither the data it reads nor the spec changes, the same request
//! gets the same bytes without touching the store. Each answer is kept with
//! the version it was computed at (the generation of the resources it reads,
//! or of all the data, and the spec's) and, for an item or a page of one
//! resource's records, what it read ([`Basis`]): it is served while a
//! request computes the same version, or while the writes since changed
//! nothing it read ([`Generation::holds`]); a page of every record whose
//! records hold but whose total grew is given back to be sent with the new
//! total. Conditional requests and anything but a plain 200 are never cached.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

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
    /// The latest generation the answer is known to hold at (from its
    /// version's on, it holds at every one).
    holds_at: AtomicU64,
    /// What the answer read, where known.
    basis: Option<Basis>,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
}

pub use crate::service::Version;
use crate::store::{Basis, Carried, Generation};

/// A kept answer to a read.
pub enum Hit {
    /// The answer as it was kept.
    Kept(HttpResponse),
    /// A page's body as it was kept, whose records now total `total`: its
    /// body holds, what tells the total does not.
    Retotalled {
        /// The page's body.
        body: Bytes,
        /// The body's entity tag, as it was sent.
        etag: Option<String>,
        /// How many records the page is of now.
        total: u64,
        /// What the page read.
        basis: Basis,
    },
}

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
    changes: &'a Generation,
    slot: Option<(Version, String)>,
}

impl<'a> CachedRead<'a> {
    /// A read of `request` in `representation`, cacheable at `version`
    /// (none: not cacheable), of data whose writes `changes` tells.
    pub fn begin(
        cache: &'a ResponseCache,
        changes: &'a Generation,
        version: Option<Version>,
        request: &HttpRequest,
        representation: &str,
    ) -> Self {
        let slot = version.zip(key(request, representation));
        CachedRead {
            cache,
            changes,
            slot,
        }
    }

    /// The kept answer, if there is one that holds.
    pub fn hit(&self) -> Option<Hit> {
        let (version, key) = self.slot.as_ref()?;
        self.cache.get(*version, key, self.changes)
    }

    /// Keeps `response` (if it may be kept), with what it read (where
    /// known), and gives it back.
    pub fn keep(self, response: HttpResponse, basis: Option<Basis>) -> HttpResponse {
        match self.slot {
            Some((version, key)) => self.cache.put(version, key, response, basis),
            None => response,
        }
    }
}

impl ResponseCache {
    /// The cached answer for `key` at `version`, if it holds there.
    fn get(&self, version: Version, key: &str, changes: &Generation) -> Option<Hit> {
        let entry = self.kept.read().get(key)?.clone();
        if entry.version.spec != version.spec {
            return None;
        }
        let holds_at = entry.holds_at.load(Ordering::Acquire);
        // A request begun before the answer was read: it may be of an older state.
        if version.generation < entry.version.generation {
            return None;
        }
        if version.generation > holds_at {
            // Writes since: served if they changed nothing it read.
            match changes.holds(entry.basis.as_ref()?, holds_at)? {
                Carried::AsItWas => {
                    entry
                        .holds_at
                        .fetch_max(version.generation, Ordering::AcqRel);
                }
                Carried::WithTotal(total) => {
                    let etag = entry
                        .headers
                        .iter()
                        .find(|(name, _)| *name == header::ETAG)
                        .and_then(|(_, value)| value.to_str().ok())
                        .map(str::to_string);
                    return Some(Hit::Retotalled {
                        body: entry.body.clone(),
                        etag,
                        total,
                        basis: entry.basis.clone()?,
                    });
                }
            }
        }
        let mut response = HttpResponse::build(StatusCode::OK);
        for (name, value) in &entry.headers {
            response.append_header((name.clone(), value.clone()));
        }
        Some(Hit::Kept(response.body(entry.body.clone())))
    }

    /// Keeps a 200 answer for `key` at `version`, which read `basis` (where
    /// known), and gives it back.
    fn put(
        &self,
        version: Version,
        key: String,
        response: HttpResponse,
        basis: Option<Basis>,
    ) -> HttpResponse {
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
            let newer = |kept: &Entry| {
                (kept.version.spec, kept.holds_at.load(Ordering::Acquire))
                    > (version.spec, version.generation)
            };
            if kept.get(&key).is_some_and(|entry| newer(entry)) {
                return head.set_body(body).map_into_boxed_body();
            }
            if kept.len() >= CAPACITY && !kept.contains_key(&key) {
                kept.clear();
            }
            kept.insert(
                key,
                Arc::new(Entry {
                    version,
                    holds_at: AtomicU64::new(version.generation),
                    basis,
                    headers,
                    body: body.clone(),
                }),
            );
        }
        head.set_body(body).map_into_boxed_body()
    }
}
