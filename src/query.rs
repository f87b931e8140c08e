//! Query strings of collection requests, typed against the spec. Every
//! parameter is either understood or rejected with its name; nothing is
//! silently ignored.

use crate::spec::{Resource, Spec, did_you_mean};

/// A rejected query parameter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct QueryError {
    /// The parameter's name.
    pub parameter: String,
    /// What is wrong with it.
    pub message: String,
}

impl QueryError {
    fn new(parameter: &str, message: impl Into<String>) -> QueryError {
        QueryError {
            parameter: parameter.to_string(),
            message: message.into(),
        }
    }
}

/// What a collection request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// 1-based page number.
    pub page: u64,
    /// Records per page.
    pub per_page: u32,
    /// Parameters other than paging, kept for links.
    pub other: Vec<(String, String)>,
}

/// Parameters a collection understands.
const PARAMETERS: &[&str] = &["page", "per_page"];

/// Parses a collection's query string.
pub fn parse(spec: &Spec, resource: &Resource, query: &str) -> Result<ListQuery, QueryError> {
    let mut list = ListQuery {
        page: 1,
        per_page: spec.page_size,
        other: Vec::new(),
    };
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        match name.as_ref() {
            "page" => list.page = whole_number(&name, &value, 1, u64::from(u32::MAX))?,
            "per_page" => {
                list.per_page =
                    whole_number(&name, &value, 1, u64::from(spec.max_page_size))? as u32;
            }
            other => {
                let mut candidates: Vec<&str> = PARAMETERS.to_vec();
                candidates.extend(resource.fields.iter().map(|field| field.name.as_str()));
                let hint = did_you_mean(other, candidates)
                    .map(|hint| format!(" ({hint})"))
                    .unwrap_or_default();
                return Err(QueryError::new(
                    other,
                    format!(
                        "unknown query parameter '{other}'{hint}; this collection takes page and per_page"
                    ),
                ));
            }
        }
    }
    Ok(list)
}

fn whole_number(name: &str, value: &str, min: u64, max: u64) -> Result<u64, QueryError> {
    match value.parse::<u64>() {
        Ok(number) if (min..=max).contains(&number) => Ok(number),
        _ => Err(QueryError::new(
            name,
            format!("{name} must be a whole number from {min} to {max}, not '{value}'"),
        )),
    }
}
