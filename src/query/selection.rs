//! What a response includes, for lists and items alike: the embeds
//! (`embed`, json-server's `_embed` and `_expand`) and sparse fieldsets
//! (`fields`).

use std::collections::HashSet;

use super::parse::{is_column, suggestion};
use super::{Embed, QueryError};
use crate::spec::{Resource, Spec};

/// The embeds a comma-separated list names: reference fields or inverses.
pub(super) fn embeds(
    spec: &Spec,
    resource: &Resource,
    parameter: &str,
    value: &str,
) -> Result<Vec<Embed>, QueryError> {
    let inverses = spec.inverses(&resource.name);
    let mut found = Vec::new();
    for name in value
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
    {
        // json-server's `_expand=post` names the field `postId` / `post_id`.
        let reference = [name.to_string(), format!("{name}Id"), format!("{name}_id")]
            .into_iter()
            .find_map(|candidate| {
                resource
                    .references()
                    .find(|(field, _)| field.name == candidate)
            });
        if let Some((field, reference)) = reference {
            found.push(Embed::Reference {
                name: name.to_string(),
                field: field.name.clone(),
                resource: reference.resource.clone(),
            });
        } else if let Some(inverse) = inverses.iter().find(|inverse| inverse.name == name) {
            found.push(Embed::Inverse(inverse.clone()));
        } else {
            let mut candidates: Vec<&str> = resource
                .references()
                .map(|(field, _)| field.name.as_str())
                .collect();
            candidates.extend(inverses.iter().map(|inverse| inverse.name.as_str()));
            let hint = suggestion(name, candidates.iter().copied());
            let available = if candidates.is_empty() {
                "nothing".to_string()
            } else {
                candidates.join(", ")
            };
            return Err(QueryError::new(
                parameter,
                format!(
                    "cannot embed '{name}'{hint}: {} can embed {available}",
                    resource.name
                ),
            ));
        }
    }
    Ok(found)
}

pub(super) fn dedup_embeds(embeds: Vec<Embed>) -> Vec<Embed> {
    let mut seen = HashSet::new();
    embeds
        .into_iter()
        .filter(|embed| seen.insert(embed.name().to_string()))
        .collect()
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
