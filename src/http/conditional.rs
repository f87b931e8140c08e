//! Conditional requests (RFC 9110 §13): `If-None-Match` and
//! `If-Modified-Since` turn reads into `304 Not Modified`; `If-Match`,
//! `If-None-Match: *` and `If-Unmodified-Since` guard writes against lost
//! updates (`412`), checked inside the write's transaction.

use std::time::SystemTime;

use actix_web::HttpRequest;
use actix_web::http::header::{self, HeaderName};

use super::problem::Problem;
use crate::clock;
use crate::represent::{self, Representation};
use crate::spec::Resource;
use crate::store::{Record, StoreError};

/// An entity-tag condition: `*` or a list of tags.
#[derive(Debug, Clone, PartialEq, Eq)]
enum TagCondition {
    Any,
    Tags(Vec<String>),
}

fn tag_condition(request: &HttpRequest, name: HeaderName) -> Option<TagCondition> {
    let values: Vec<&str> = request
        .headers()
        .get_all(name)
        .filter_map(|value| value.to_str().ok())
        .collect();
    if values.is_empty() {
        return None;
    }
    let tags: Vec<String> = values
        .iter()
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim().to_string())
        .filter(|tag| !tag.is_empty())
        .collect();
    if tags.iter().any(|tag| tag == "*") {
        Some(TagCondition::Any)
    } else {
        Some(TagCondition::Tags(tags))
    }
}

fn date(request: &HttpRequest, name: HeaderName) -> Option<SystemTime> {
    let value = request.headers().get(name)?.to_str().ok()?;
    httpdate::parse_http_date(value).ok()
}

/// Seconds since the epoch: HTTP dates have no finer precision.
fn seconds(moment: SystemTime) -> u64 {
    moment
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
}

fn weak_equal(a: &str, b: &str) -> bool {
    a.trim_start_matches("W/") == b.trim_start_matches("W/")
}

/// Whether a read names a validator (`If-None-Match`, `If-Modified-Since`)
/// that may make it `304 Not Modified`.
pub fn is_conditional_read(request: &HttpRequest) -> bool {
    let headers = request.headers();
    headers.contains_key(header::IF_NONE_MATCH) || headers.contains_key(header::IF_MODIFIED_SINCE)
}

/// Whether a GET or HEAD answering `etag` (modified at `modified`) may be
/// answered `304 Not Modified`. `If-None-Match` wins over `If-Modified-Since`.
pub fn not_modified(request: &HttpRequest, etag: &str, modified: Option<SystemTime>) -> bool {
    match tag_condition(request, header::IF_NONE_MATCH) {
        Some(TagCondition::Any) => true,
        Some(TagCondition::Tags(tags)) => tags.iter().any(|tag| weak_equal(tag, etag)),
        None => match (date(request, header::IF_MODIFIED_SINCE), modified) {
            (Some(since), Some(modified)) => seconds(modified) <= seconds(since),
            _ => false,
        },
    }
}

/// The preconditions of a write.
#[derive(Debug, Clone, Default)]
pub struct WriteConditions {
    if_match: Option<TagCondition>,
    if_none_match: Option<TagCondition>,
    if_unmodified_since: Option<SystemTime>,
}

impl WriteConditions {
    /// The write preconditions of a request; `428` where the resource requires `If-Match`.
    pub fn of(request: &HttpRequest, resource: &Resource) -> Result<WriteConditions, Problem> {
        let conditions = WriteConditions {
            if_match: tag_condition(request, header::IF_MATCH),
            if_none_match: tag_condition(request, header::IF_NONE_MATCH),
            if_unmodified_since: date(request, header::IF_UNMODIFIED_SINCE),
        };
        // A create-only PUT (If-None-Match: *) states its precondition too.
        let create_only = conditions.if_none_match == Some(TagCondition::Any);
        if resource.require_if_match && conditions.if_match.is_none() && !create_only {
            return Err(Problem::PreconditionRequired);
        }
        Ok(conditions)
    }

    /// Checks the conditions against the record as it is (`None`: absent).
    /// A record's tag in any representation matches, strongly compared.
    pub fn check(&self, resource: &Resource, current: Option<&Record>) -> Result<(), StoreError> {
        let failed = |detail: &str| Err(StoreError::PreconditionFailed(detail.to_string()));
        let tags = || -> Vec<String> {
            current
                .map(|record| {
                    Representation::ALL
                        .iter()
                        .map(|representation| represent::etag(resource, record, *representation))
                        .collect()
                })
                .unwrap_or_default()
        };
        match (&self.if_match, current) {
            (Some(_), None) => return failed("If-Match: the record does not exist"),
            (Some(TagCondition::Tags(expected)), Some(_)) => {
                let current_tags = tags();
                let matches = expected
                    .iter()
                    .any(|tag| !tag.starts_with("W/") && current_tags.contains(tag));
                if !matches {
                    return failed(
                        "If-Match: the record has changed since that ETag; GET it again",
                    );
                }
            }
            _ => {}
        }
        match (&self.if_none_match, current) {
            (Some(TagCondition::Any), Some(_)) => {
                return failed("If-None-Match: * but the record exists");
            }
            (Some(TagCondition::Tags(unwanted)), Some(_)) => {
                let current_tags = tags();
                if unwanted
                    .iter()
                    .any(|tag| current_tags.iter().any(|own| weak_equal(tag, own)))
                {
                    return failed("If-None-Match: the record still has that ETag");
                }
            }
            _ => {}
        }
        if self.if_match.is_none()
            && let (Some(since), Some(record)) = (self.if_unmodified_since, current)
            && let Some(modified) = clock::parse_timestamp(&record.updated_at)
            && seconds(modified) > seconds(since)
        {
            return failed("If-Unmodified-Since: the record has changed since then");
        }
        Ok(())
    }
}
