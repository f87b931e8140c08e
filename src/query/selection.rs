//! What a response includes, for lists and items alike: the embeds
//! (`embed`, json-server's `_embed` and `_expand`) and sparse fieldsets
//! (`fields`).

use super::parse::{is_column, suggestion};
use super::{Embed, MAX_EMBED_DEPTH, QueryError};
use crate::spec::{Resource, Spec};

/// The embeds a comma-separated list names: paths of reference fields or
/// inverses, each segment one of the resource the path has reached.
pub(super) fn embeds(
    spec: &Spec,
    resource: &Resource,
    parameter: &str,
    value: &str,
) -> Result<Vec<Embed>, QueryError> {
    let mut found = Vec::new();
    for path in value
        .split(',')
        .map(str::trim)
        .filter(|path| !path.is_empty())
    {
        let segments: Vec<&str> = path.split('.').map(str::trim).collect();
        if segments.len() > MAX_EMBED_DEPTH {
            return Err(QueryError::new(
                parameter,
                format!(
                    "cannot embed '{path}': it is {} levels deep, and embeds go at most {MAX_EMBED_DEPTH} levels deep",
                    segments.len()
                ),
            ));
        }
        if segments.iter().any(|segment| segment.is_empty()) {
            return Err(QueryError::new(
                parameter,
                format!("cannot embed '{path}': a path's segments are names joined by single dots"),
            ));
        }
        found.push(embed_path(spec, resource, parameter, path, &segments)?);
    }
    Ok(found)
}

/// The embed of one path's segments, starting at `resource`.
fn embed_path(
    spec: &Spec,
    resource: &Resource,
    parameter: &str,
    path: &str,
    segments: &[&str],
) -> Result<Embed, QueryError> {
    let (name, rest) = segments.split_first().expect("a path has a segment");
    let step = step(spec, resource, name).map_err(|candidates| {
        let hint = suggestion(name, candidates.iter().map(String::as_str));
        let available = if candidates.is_empty() {
            "nothing".to_string()
        } else {
            candidates.join(", ")
        };
        let within = if path.contains('.') {
            format!(" (in '{path}')")
        } else {
            String::new()
        };
        QueryError::new(
            parameter,
            format!(
                "cannot embed '{name}'{within}{hint}: {} can embed {available}",
                resource.name
            ),
        )
    })?;
    let nested = match rest {
        [] => Vec::new(),
        rest => {
            let target = spec
                .resource(step.resource())
                .expect("references and inverses name resources of the spec");
            vec![embed_path(spec, target, parameter, path, rest)?]
        }
    };
    Ok(match step {
        Embed::Reference {
            name,
            field,
            resource,
            ..
        } => Embed::Reference {
            name,
            field,
            resource,
            nested,
        },
        Embed::Inverse { inverse, .. } => Embed::Inverse { inverse, nested },
    })
}

/// The one-level embed `name` names on `resource`, or the names it could have.
fn step(spec: &Spec, resource: &Resource, name: &str) -> Result<Embed, Vec<String>> {
    // json-server's `_expand=post` names the field `postId` / `post_id`.
    let reference = [name.to_string(), format!("{name}Id"), format!("{name}_id")]
        .into_iter()
        .find_map(|candidate| {
            resource
                .references()
                .find(|(field, _)| field.name == candidate)
        });
    if let Some((field, reference)) = reference {
        return Ok(Embed::Reference {
            name: name.to_string(),
            field: field.name.clone(),
            resource: reference.resource.clone(),
            nested: Vec::new(),
        });
    }
    let inverses = spec.inverses(&resource.name);
    if let Some(inverse) = inverses.iter().find(|inverse| inverse.name == name) {
        return Ok(Embed::Inverse {
            inverse: inverse.clone(),
            nested: Vec::new(),
        });
    }
    Err(one_level(spec, resource))
}

/// The names `resource` can embed one level deep: its reference fields, then its inverses.
fn one_level(spec: &Spec, resource: &Resource) -> Vec<String> {
    resource
        .references()
        .map(|(field, _)| field.name.clone())
        .chain(
            spec.inverses(&resource.name)
                .into_iter()
                .map(|inverse| inverse.name),
        )
        .collect()
}

/// Every embed path `resource` takes, at most `depth` segments long, shortest
/// first; `None` when there are more than `limit`.
pub fn embed_paths(
    spec: &Spec,
    resource: &Resource,
    depth: usize,
    limit: usize,
) -> Option<Vec<String>> {
    let mut paths = Vec::new();
    let mut frontier: Vec<(String, &Resource)> = vec![(String::new(), resource)];
    for _ in 0..depth {
        let mut next = Vec::new();
        for (prefix, at) in &frontier {
            for name in one_level(spec, at) {
                let Ok(step) = step(spec, at, &name) else {
                    continue;
                };
                let Some(target) = spec.resource(step.resource()) else {
                    continue;
                };
                let path = if prefix.is_empty() {
                    name
                } else {
                    format!("{prefix}.{name}")
                };
                paths.push(path.clone());
                if paths.len() > limit {
                    return None;
                }
                next.push((path, target));
            }
        }
        frontier = next;
    }
    Some(paths)
}

/// The embeds with those of the same name merged, their nested embeds too,
/// in the order each name first came.
pub(super) fn dedup_embeds(embeds: Vec<Embed>) -> Vec<Embed> {
    let mut merged: Vec<Embed> = Vec::new();
    for embed in embeds {
        match merged
            .iter_mut()
            .find(|existing| existing.name() == embed.name())
        {
            Some(existing) => {
                let incoming = match embed {
                    Embed::Reference { nested, .. } | Embed::Inverse { nested, .. } => nested,
                };
                let (Embed::Reference { nested, .. } | Embed::Inverse { nested, .. }) = existing;
                let mut all = std::mem::take(nested);
                all.extend(incoming);
                *nested = dedup_embeds(all);
            }
            None => merged.push(embed),
        }
    }
    merged
}

/// The field names of a sparse fieldset.
pub(super) fn fields(
    resource: &Resource,
    parameter: &str,
    value: &str,
) -> Result<Vec<String>, QueryError> {
    let mut names = Vec::new();
    for name in value
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
    {
        if !is_column(resource, name) {
            let mut candidates = vec!["id", "created_at", "updated_at"];
            candidates.extend(resource.fields.iter().map(|field| field.name.as_str()));
            let hint = suggestion(name, candidates);
            return Err(QueryError::new(
                parameter,
                format!("unknown field '{name}'{hint}"),
            ));
        }
        names.push(name.to_string());
    }
    Ok(names)
}
