//! `application/json-home` on the home route: the API's resources (and
//! their records' actions) as link relations with URI templates, their
//! variables and hints (allowed methods, formats, accepted bodies), per
//! draft-nottingham-json-home.

use serde_json::{Map, Value, json};

use super::Representation;
use crate::links;
use crate::spec::{Method, Spec};

const FORMATS: [Representation; 3] = [
    Representation::Hal,
    Representation::Json,
    Representation::CollectionJson,
];

fn formats() -> Value {
    let formats: Map<String, Value> = FORMATS
        .iter()
        .map(|format| (format.media_type().to_string(), json!({})))
        .collect();
    Value::Object(formats)
}

/// The JSON Home document.
pub(super) fn document(spec: &Spec) -> Value {
    let mut resources = Map::new();
    for resource in &spec.resources {
        let collection = links::collection(spec, &resource.name);
        if resource.singular {
            let mut allow: Vec<&str> = vec![];
            for method in [Method::Get, Method::Put, Method::Patch] {
                if resource.allows(method) {
                    allow.push(method.as_str());
                    if method == Method::Get {
                        allow.push("HEAD");
                    }
                }
            }
            resources.insert(
                format!("urn:standin:rel:{}", resource.name),
                json!({
                    "href": collection,
                    "hints": {
                        "allow": allow,
                        "formats": formats(),
                        "accept-patch": ["application/merge-patch+json", "application/json-patch+json"],
                    },
                }),
            );
            continue;
        }
        let template = links::collection_template(spec, resource, &collection);
        let variables: Map<String, Value> = template
            .split_once("{?")
            .map(|(_, rest)| rest.trim_end_matches('}'))
            .unwrap_or_default()
            .split(',')
            .filter(|name| !name.is_empty())
            .map(|name| (name.to_string(), json!(format!("urn:standin:param:{name}"))))
            .collect();
        let mut collection_allow = Vec::new();
        if resource.allows(Method::Get) {
            collection_allow.extend(["GET", "HEAD"]);
        }
        if resource.allows(Method::Post) {
            collection_allow.push("POST");
        }
        resources.insert(
            format!("urn:standin:rel:{}", resource.name),
            json!({
                "href-template": template,
                "href-vars": variables,
                "hints": {
                    "allow": collection_allow,
                    "formats": formats(),
                    "accept-post": ["application/json", "application/vnd.collection+json"],
                },
            }),
        );
        let item_allow: Vec<&str> = [Method::Get, Method::Put, Method::Patch, Method::Delete]
            .into_iter()
            .filter(|method| resource.allows(*method))
            .map(Method::as_str)
            .collect();
        resources.insert(
            format!("urn:standin:rel:{}-item", resource.name),
            json!({
                "href-template": links::item_template(spec, &resource.name),
                "href-vars": { "id": "urn:standin:param:id" },
                "hints": {
                    "allow": item_allow,
                    "formats": formats(),
                    "accept-patch": ["application/merge-patch+json", "application/json-patch+json"],
                    "accept-ranges": [],
                },
            }),
        );
        // Each action's URI: a POST that changes the record's state, where the state allows it.
        for action in &resource.actions {
            resources.insert(
                format!("urn:standin:rel:{}-{}", resource.name, action.name),
                json!({
                    "href-template": format!("{}/{}", links::item_template(spec, &resource.name), action.name),
                    "href-vars": { "id": "urn:standin:param:id" },
                    "hints": {
                        "allow": ["POST"],
                        "formats": formats(),
                    },
                    "title": format!("sets {} to {}", action.field, action.state),
                }),
            );
        }
    }
    for (pattern, template, variables, target) in links::routes(spec) {
        let mut relation = Map::new();
        if variables.is_empty() {
            relation.insert("href".into(), json!(template));
        } else {
            relation.insert("href-template".into(), json!(template));
            let variables: Map<String, Value> = variables
                .into_iter()
                .map(|name| {
                    let value = json!(format!("urn:standin:param:{name}"));
                    (name, value)
                })
                .collect();
            relation.insert("href-vars".into(), Value::Object(variables));
        }
        relation.insert("hints".into(), json!({ "formats": formats() }));
        relation.insert("title".into(), json!(format!("served as {target}")));
        resources.insert(
            format!("urn:standin:route:{pattern}"),
            Value::Object(relation),
        );
    }
    json!({
        "api": { "title": spec.title, "links": { "self": links::home(spec) } },
        "resources": resources,
    })
}
