//! Routing: maps a request path onto what it names (the home document, a
//! collection, an item, the admin API) or a redirect. Paths are matched
//! against the current spec, so a reloaded spec routes without re-registering.

use percent_encoding::percent_decode_str;

use super::problem::Problem;
use crate::spec::{IdKind, Spec, did_you_mean};
use crate::store::RecordId;

/// What a request path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The home document.
    Home,
    /// A collection: the index of its resource in the spec.
    Collection(usize),
    /// An item: the index of its resource and the id.
    Item(usize, RecordId),
    /// The admin API, with the path below `/_standin/`.
    Admin(String),
    /// A permanent redirect to this location.
    Redirect(String),
}

/// Resolves `path` (still percent-encoded) with `query` against `spec`.
pub fn resolve(spec: &Spec, path: &str, query: &str) -> Result<Target, Problem> {
    let home = if spec.base_path.is_empty() {
        "/"
    } else {
        spec.base_path.as_str()
    };
    if path.len() > 1 && path.ends_with('/') {
        let trimmed = path.trim_end_matches('/');
        let location = if trimmed.is_empty() { "/" } else { trimmed };
        let location = if query.is_empty() {
            location.to_string()
        } else {
            format!("{location}?{query}")
        };
        return Ok(Target::Redirect(location));
    }
    let rest = if path == home {
        ""
    } else if let Some(rest) = path
        .strip_prefix(spec.base_path.as_str())
        .and_then(|rest| rest.strip_prefix('/'))
    {
        rest
    } else {
        return Err(Problem::not_found(format!(
            "no route {path}: the API is at {home}"
        )));
    };
    if rest.is_empty() {
        return Ok(Target::Home);
    }
    let segments: Vec<String> = rest
        .split('/')
        .map(|segment| percent_decode_str(segment).decode_utf8_lossy().into_owned())
        .collect();
    if segments[0] == "_standin" {
        return Ok(Target::Admin(segments[1..].join("/")));
    }
    if segments.iter().any(String::is_empty) {
        return Err(Problem::not_found(format!(
            "no route {path}: it has an empty segment"
        )));
    }
    let name = &segments[0];
    let Some(index) = spec
        .resources
        .iter()
        .position(|resource| &resource.name == name)
    else {
        let hint = did_you_mean(
            name,
            spec.resources.iter().map(|resource| resource.name.as_str()),
        )
        .map(|hint| format!(" ({hint})"))
        .unwrap_or_default();
        return Err(Problem::not_found(format!("no resource '{name}'{hint}")));
    };
    let resource = &spec.resources[index];
    match segments.len() {
        1 => Ok(Target::Collection(index)),
        2 => match RecordId::parse(resource.id, &segments[1]) {
            Some(id) => Ok(Target::Item(index, id)),
            None => {
                let expected = match resource.id {
                    IdKind::Integer => "positive integers",
                    IdKind::Uuid => "UUIDs",
                    IdKind::String => "non-empty strings",
                };
                Err(Problem::not_found(format!(
                    "no {name} record has id '{}': ids of {name} are {expected}",
                    segments[1]
                )))
            }
        },
        _ => Err(Problem::not_found(format!("no route {path}"))),
    }
}
