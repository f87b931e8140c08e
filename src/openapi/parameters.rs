//! Query parameters of the OpenAPI document: paging, sort, search, embed,
//! sparse fields, and a filter per field with each operator it takes, each
//! described as exactly what the query parser accepts. json-server's and
//! react-admin's dialects are accepted too but not described: they are
//! aliases, and some combinations of them exclude each other.

use serde_json::{Value, json};

use crate::query::{self, Column, ColumnKind, MAX_EMBED_DEPTH, Operator};
use crate::spec::{Resource, SortKey, Spec};

fn parameter(name: &str, schema: Value, description: &str) -> Value {
    json!({ "name": name, "in": "query", "required": false, "schema": schema, "description": description })
}

/// A comma-separated list of `names` (`style: form`, not exploded). An
/// optional list (no `max`) may be empty, and `name=` on the wire reads as
/// an empty list or as one empty item alike, so the empty item is allowed
/// too: both mean none, as the server reads them.
fn list_of(name: &str, mut names: Vec<String>, max: Option<usize>, description: &str) -> Value {
    if max.is_none() {
        names.push(String::new());
    }
    let mut schema = json!({ "type": "array", "items": { "enum": names } });
    if let Some(max) = max {
        schema["minItems"] = json!(1);
        schema["maxItems"] = json!(max);
    }
    let mut parameter = parameter(name, schema, description);
    parameter["style"] = json!("form");
    parameter["explode"] = json!(false);
    parameter
}

/// The schema of one value compared with a column of `kind`.
fn value_schema(kind: &ColumnKind) -> Value {
    match kind {
        ColumnKind::Integer => {
            json!({ "type": "integer", "minimum": i64::MIN, "maximum": i64::MAX })
        }
        ColumnKind::Number => json!({ "type": "number" }),
        ColumnKind::Boolean => json!({ "type": "boolean" }),
        ColumnKind::Date => json!({ "type": "string", "format": "date" }),
        ColumnKind::DateTime | ColumnKind::Timestamp => json!({
            "anyOf": [
                { "type": "string", "format": "date-time" },
                { "type": "string", "format": "date" },
            ],
        }),
        ColumnKind::Array(inner) => value_schema(inner),
        ColumnKind::Text | ColumnKind::Object => json!({ "type": "string" }),
    }
}

/// The names `fields=` takes, and those `sort=` orders by.
fn columns(resource: &Resource) -> Vec<String> {
    let mut names: Vec<String> = ["id", "created_at", "updated_at"]
        .map(String::from)
        .to_vec();
    names.extend(resource.fields.iter().map(|field| field.name.clone()));
    names
}

/// Every query parameter a collection of `resource` takes.
pub fn collection(spec: &Spec, resource: &Resource) -> Vec<Value> {
    let mut parameters = vec![
        parameter(
            "page",
            json!({ "type": "integer", "minimum": 1, "maximum": u32::MAX }),
            "1-based page number",
        ),
        parameter(
            "per_page",
            json!({ "type": "integer", "minimum": 1, "maximum": spec.max_page_size }),
            "records per page",
        ),
    ];
    let sort_keys: Vec<String> = columns(resource)
        .into_iter()
        .filter(|name| SortKey::column_error(name, &resource.fields).is_none())
        .flat_map(|name| [format!("-{name}"), name])
        .collect();
    parameters.push(list_of(
        "sort",
        sort_keys,
        Some(query::MAX_SORT_KEYS),
        "order, like -year,title (- descends); ties are broken by id",
    ));
    if !resource.search.is_empty() {
        parameters.push(parameter(
            "q",
            json!({ "type": "string", "maxLength": query::MAX_SEARCH_LENGTH }),
            "words to find in the search fields (at most 32)",
        ));
    }
    parameters.extend(item_parameters(spec, resource));
    for name in columns(resource) {
        parameters.extend(filters(spec, resource, &name));
    }
    parameters
}

/// The filters on the column `name`: equality, and each operator its kind takes.
fn filters(spec: &Spec, resource: &Resource, name: &str) -> Vec<Value> {
    let kind = query::column_kind(spec, resource, &Column::named(name));
    let value = value_schema(&kind);
    let takes = |operator| query::check_operator(name, &kind, operator).is_ok();
    let mut parameters = Vec::new();
    if takes(Operator::Eq) {
        let mut equality = parameter(
            name,
            json!({ "type": "array", "items": value }),
            "equal to any of the values",
        );
        equality["style"] = json!("form");
        equality["explode"] = json!(true);
        parameters.push(equality);
    }
    for (suffix, operator) in Operator::SUFFIXES {
        // `like` is json-server's dialect (`_like`); `__in` is equality's list.
        if operator == Operator::Like || !takes(operator) {
            continue;
        }
        let schema = match (suffix, operator) {
            ("in", _) => {
                let mut item = value.clone();
                if item["type"] == "string" {
                    // Commas separate the values: none can hold one.
                    item["pattern"] = json!("^[^,]+$");
                }
                json!({ "type": "array", "items": item, "minItems": 1 })
            }
            (_, Operator::IsNull) => json!({ "type": "boolean" }),
            _ => value.clone(),
        };
        let mut filter = parameter(
            &format!("{name}__{suffix}"),
            schema,
            &format!("{name} {suffix}"),
        );
        if suffix == "in" {
            filter["style"] = json!("form");
            filter["explode"] = json!(false);
        }
        parameters.push(filter);
    }
    parameters
}

/// The most embed paths the document lists for one resource.
const EMBED_PATHS: usize = 200;

/// `fields` and, where the resource has references or inverses, `embed`: its paths.
fn item_parameters(spec: &Spec, resource: &Resource) -> Vec<Value> {
    let mut parameters = vec![list_of(
        "fields",
        columns(resource),
        None,
        "fields to keep in each item",
    )];
    // Every path up to the depth limit; past that many, the one-level names
    // and a pattern (a resource reaching many others would list thousands).
    match query::embed_paths(spec, resource, MAX_EMBED_DEPTH, EMBED_PATHS) {
        Some(paths) if paths.is_empty() => {}
        Some(paths) => parameters.push(list_of(
            "embed",
            paths,
            None,
            &format!(
                "references or inverses to embed; a dotted path (`author.company`) embeds in the embedded records, at most {MAX_EMBED_DEPTH} levels deep"
            ),
        )),
        None => {
            let first = query::embed_paths(spec, resource, 1, usize::MAX).unwrap_or_default();
            let mut embed = list_of(
                "embed",
                Vec::new(),
                None,
                &format!(
                    "references or inverses to embed ({}); a dotted path (`author.company`) embeds in the embedded records, at most {MAX_EMBED_DEPTH} levels deep",
                    first.join(", ")
                ),
            );
            embed["schema"]["items"] = json!({
                "type": "string",
                // The empty item too, as in `list_of`.
                "pattern": format!("^([^.,]+(\\.[^.,]+){{0,{}}})?$", MAX_EMBED_DEPTH - 1),
            });
            parameters.push(embed);
        }
    }
    parameters
}

/// The query parameters of an item of `resource`.
pub fn item(spec: &Spec, resource: &Resource) -> Vec<Value> {
    item_parameters(spec, resource)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn embed_of(yaml: &str, resource: &str) -> Value {
        let spec = crate::spec::parse("test.yaml", yaml).expect("a valid spec");
        let resource = spec.resource(resource).expect("the resource");
        item(&spec, resource)
            .into_iter()
            .find(|parameter| parameter["name"] == "embed")
            .expect("an embed parameter")
    }

    #[test]
    fn embed_lists_its_paths_or_past_the_bound_a_pattern() {
        let few = embed_of(
            "standin: 1\nresources:\n  users:\n    fields: { name: string }\n  \
             posts:\n    fields:\n      author: { ref: users }\n",
            "posts",
        );
        assert_eq!(
            few["schema"]["items"]["enum"],
            json!(["author", "author.posts", "author.posts.author", ""]),
            "the empty item too: `embed=` reads as none"
        );
        let mut yaml = String::from("standin: 1\nresources:\n  nodes:\n    fields:\n");
        for link in ["a", "b", "c", "d", "e", "f"] {
            yaml.push_str(&format!("      {link}: {{ ref: nodes }}\n"));
        }
        let many = embed_of(&yaml, "nodes");
        let items = &many["schema"]["items"];
        assert!(items.get("enum").is_none(), "{items}");
        assert_eq!(items["pattern"], "^([^.,]+(\\.[^.,]+){0,2})?$");
        let description = many["description"].as_str().expect("a description");
        assert!(
            description.contains("(a, b, c, d, e, f, nodes_by_a,"),
            "{description}"
        );
    }
}
