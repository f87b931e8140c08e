//! The OpenAPI 3.1 description of exactly what a spec serves: every route and
//! method, every query parameter, request and response bodies for each
//! representation, every status with its headers, security when `auth` is
//! set, and links from a created item to the operations on it. Served at
//! `/_standin/openapi.json` and printed by `standin openapi`.

mod admin;
mod parameters;
mod schemas;

use serde_json::{Map, Value, json};

use crate::spec::{Method, Resource, Spec};

use schemas::{name, reference};

const HAL: &str = "application/hal+json";
const JSON: &str = "application/json";
const COLLECTION_JSON: &str = "application/vnd.collection+json";
const PROBLEM: &str = "application/problem+json";

fn header(description: &str, required: bool) -> Value {
    json!({ "description": description, "required": required, "schema": { "type": "string" } })
}

fn problem(description: &str) -> Value {
    json!({ "description": description, "content": { PROBLEM: { "schema": reference("standin.Problem") } } })
}

/// Bodies of one record in each representation.
fn item_content(resource: &Resource) -> Value {
    json!({
        HAL: { "schema": reference(&name(&resource.name, "Hal")) },
        JSON: { "schema": reference(&name(&resource.name, "")) },
        COLLECTION_JSON: { "schema": reference("standin.CollectionJson") },
    })
}

fn item_headers(resource: &Resource, location: bool) -> Value {
    let mut headers = Map::new();
    headers.insert(
        "ETag".into(),
        header("the record's entity tag in this representation", true),
    );
    // An item with a count field has no Last-Modified (its count changes
    // with other records).
    if resource.counted_resources().next().is_none() {
        headers.insert(
            "Last-Modified".into(),
            header("when the record last changed", true),
        );
    }
    if location {
        headers.insert("Location".into(), header("the record's URI", true));
    }
    Value::Object(headers)
}

/// Whether an embed path of at most `depth` segments from `resource` reaches
/// a resource with a count field.
fn embeds_reach_counts(spec: &Spec, resource: &Resource, depth: usize) -> bool {
    if depth == 0 {
        return false;
    }
    let referenced: Vec<String> = resource
        .references()
        .map(|(_, reference)| reference.resource.clone())
        .collect();
    let inverses = spec
        .inverses(&resource.name)
        .into_iter()
        .map(|inverse| inverse.resource);
    referenced
        .into_iter()
        .chain(inverses)
        .filter_map(|name| spec.resource(&name))
        .any(|next| {
            next.counted_resources().next().is_some() || embeds_reach_counts(spec, next, depth - 1)
        })
}

/// Statuses every operation of a spec may answer, besides its own.
fn common(spec: &Spec, responses: &mut Map<String, Value>, reads: bool) {
    responses.insert("406".into(), problem("no acceptable representation"));
    let injects_errors = spec.faults.error_rate.is_some()
        || spec
            .resources
            .iter()
            .any(|resource| resource.faults.error_rate.is_some());
    if injects_errors {
        responses.insert("500".into(), problem("an injected error (error_rate)"));
    }
    responses.insert(
        "503".into(),
        problem("the request ran past its query budget and was stopped, or a reset is restoring the seeded data (Retry-After)"),
    );
    if spec.auth.is_some() {
        let mut unauthorized = problem("no token, or an unknown one");
        unauthorized["headers"] =
            json!({ "WWW-Authenticate": header("Bearer realm=\"standin\"", true) });
        responses.insert("401".into(), unauthorized);
        responses.insert("403".into(), problem("the token lacks the scope"));
    }
    if !reads {
        responses.insert("413".into(), problem("the body is over 1 MiB"));
        responses.insert("415".into(), problem("unsupported Content-Type"));
    }
}

fn operation(
    id: String,
    summary: String,
    tag: &str,
    responses: Map<String, Value>,
) -> Map<String, Value> {
    let mut operation = Map::new();
    operation.insert("operationId".into(), json!(id));
    operation.insert("summary".into(), json!(summary));
    operation.insert("tags".into(), json!([tag]));
    operation.insert("responses".into(), Value::Object(responses));
    operation
}

/// The body of a create or replace; `omit` is a field the URL sets. (A
/// filled-in Collection+JSON template is accepted too, but not described:
/// tools generating bodies from an OpenAPI document mix the members of two
/// media types' schemas into one body, which the server rightly refuses.)
fn write_body(resource: &Resource, create: bool, omit: Option<&str>) -> Value {
    let schema = match omit {
        Some(_) => schemas::write(resource, create, omit),
        None => reference(&name(
            &resource.name,
            if create { "Create" } else { "Write" },
        )),
    };
    json!({ "required": true, "content": { JSON: { "schema": schema } } })
}

/// Links from a created or read record to the operations on it.
fn item_links(resource: &Resource) -> Value {
    let mut links = Map::new();
    for (method, verb) in [
        (Method::Get, "get"),
        (Method::Put, "replace"),
        (Method::Patch, "patch"),
        (Method::Delete, "delete"),
    ] {
        if resource.allows(method) {
            let mut link = json!({ "operationId": format!("{verb}_{}", resource.name) });
            if !resource.singular {
                link["parameters"] = json!({ "id": "$response.body#/id" });
            }
            links.insert(format!("{verb}_{}", resource.name), link);
        }
    }
    for action in &resource.actions {
        let id = action_operation(resource, &action.name);
        links.insert(
            id.clone(),
            json!({ "operationId": id, "parameters": { "id": "$response.body#/id" } }),
        );
    }
    Value::Object(links)
}

fn list(
    spec: &Spec,
    resource: &Resource,
    id: String,
    summary: String,
    scoped: bool,
) -> Map<String, Value> {
    let mut responses = Map::new();
    let mut headers = Map::new();
    headers.insert("ETag".into(), header("a weak entity tag of the page", true));
    headers.insert(
        "Link".into(),
        header("first, prev, next and last pages (RFC 8288)", true),
    );
    headers.insert("X-Total-Count".into(), json!({ "description": "records in the whole collection", "required": true, "schema": { "type": "integer" } }));
    headers.insert(
        "Content-Range".into(),
        header("with range=: the window, like posts 0-24/319", false),
    );
    responses.insert("200".into(), json!({
        "description": "a page of the collection",
        "headers": headers,
        "content": {
            HAL: { "schema": reference(&name(&resource.name, "Page")) },
            JSON: { "schema": { "type": "array", "items": reference(&name(&resource.name, "")) } },
            COLLECTION_JSON: { "schema": reference("standin.CollectionJson") },
        },
    }));
    responses.insert("304".into(), json!({ "description": "not modified since the ETag sent", "headers": { "ETag": header("the page's entity tag", true) } }));
    responses.insert(
        "400".into(),
        problem("a query parameter is unknown or has a bad value"),
    );
    if scoped {
        responses.insert(
            "404".into(),
            problem("no such record to list the references of"),
        );
        responses.insert("410".into(), problem("that record was deleted"));
    }
    common(spec, &mut responses, true);
    let mut operation = operation(id, summary, &resource.name, responses);
    operation.insert(
        "parameters".into(),
        Value::Array(parameters::collection(spec, resource)),
    );
    operation
}

/// A create; `scope` is the reference field an inverse collection's URL sets.
fn create(
    spec: &Spec,
    resource: &Resource,
    id: String,
    summary: String,
    scope: Option<&str>,
) -> Map<String, Value> {
    let mut responses = Map::new();
    responses.insert(
        "201".into(),
        json!({
            "description": "created",
            "headers": item_headers(resource, true),
            "content": item_content(resource),
            "links": item_links(resource),
        }),
    );
    responses.insert(
        "204".into(),
        json!({ "description": "created (Prefer: return=minimal)", "headers": item_headers(resource, true) }),
    );
    if resource.async_delay.is_some() {
        responses.insert("202".into(), json!({
            "description": "accepted: the record is created later; Location is the status monitor",
            "headers": { "Location": header("the job's status monitor", true) },
            "content": { JSON: { "schema": reference("standin.Job") } },
        }));
    }
    responses.insert("400".into(), problem("malformed JSON or invalid fields"));
    responses.insert(
        "409".into(),
        problem("a unique value is taken, or a reference names a missing record"),
    );
    if scope.is_some() {
        responses.insert("404".into(), problem("no such record to reference"));
        responses.insert("410".into(), problem("that record was deleted"));
    }
    common(spec, &mut responses, false);
    let mut operation = operation(id, summary, &resource.name, responses);
    operation.insert("requestBody".into(), write_body(resource, true, scope));
    operation
}

/// Statuses of operations on an existing item.
/// The operationId of an action: `act_posts_publish`.
fn action_operation(resource: &Resource, action: &str) -> String {
    format!("act_{}_{action}", resource.name)
}

/// The path of each action of `resource`: `POST /posts/{id}/publish`.
fn action_paths(spec: &Spec, resource: &Resource, paths: &mut Map<String, Value>) {
    let label = &resource.name;
    for action in &resource.actions {
        let parameter = json!({ "name": "id", "in": "path", "required": true, "schema": schemas::id_schema(resource.id) });
        let mut responses = Map::new();
        responses.insert("200".into(), json!({ "description": format!("taken: the record with {} set to {}", action.field, action.state), "headers": item_headers(resource, false), "content": item_content(resource), "links": item_links(resource) }));
        responses.insert("204".into(), json!({ "description": "taken (Prefer: return=minimal)", "headers": item_headers(resource, false) }));
        responses.insert("409".into(), problem(&format!("the record's {} does not allow '{}' now: the problem names its state and the actions allowed", action.field, action.name)));
        item_responses(spec, resource, &mut responses, false);
        responses.remove("413");
        responses.remove("415");
        let mut post = operation(
            action_operation(resource, &action.name),
            format!(
                "{}: set {} of one of {label} to {}",
                action.name, action.field, action.state
            ),
            label,
            responses,
        );
        post.insert("description".into(), json!(format!(
            "Takes the action '{}' (no body): allowed while the record's transitions let {} change to '{}', which each record's HAL `_links` and Collection+JSON `links` show by listing the action.",
            action.name, action.field, action.state
        )));
        paths.insert(
            format!("/{label}/{{id}}/{}", action.name),
            json!({ "parameters": [parameter], "post": post }),
        );
    }
}

fn item_responses(
    spec: &Spec,
    resource: &Resource,
    responses: &mut Map<String, Value>,
    reads: bool,
) {
    responses.insert("400".into(), problem("bad input"));
    if !resource.singular {
        responses.insert("404".into(), problem("no record with this id"));
    }
    if resource.soft_delete {
        responses.insert("410".into(), problem("the record was deleted"));
    }
    if !reads {
        responses.insert(
            "412".into(),
            problem("If-Match, If-None-Match or If-Unmodified-Since does not hold"),
        );
        if resource.require_if_match {
            responses.insert("428".into(), problem("this resource requires If-Match"));
        }
    }
    common(spec, responses, reads);
}

/// How summaries name one record of `resource`: `one of books`, `the profile`.
fn one(resource: &Resource) -> String {
    if resource.singular {
        format!("the {}", resource.name)
    } else {
        format!("one of {}", resource.name)
    }
}

fn item_path(spec: &Spec, resource: &Resource) -> Map<String, Value> {
    let mut path = Map::new();
    if !resource.singular {
        let parameter = json!({ "name": "id", "in": "path", "required": true, "schema": schemas::id_schema(resource.id) });
        path.insert("parameters".into(), json!([parameter]));
    }
    let label = &resource.name;
    if resource.allows(Method::Get) {
        let mut responses = Map::new();
        let mut headers = item_headers(resource, false);
        if embeds_reach_counts(spec, resource, crate::query::MAX_EMBED_DEPTH) {
            // Embedding a record with a count leaves Last-Modified out.
            if let Some(modified) = headers.get_mut("Last-Modified") {
                modified["required"] = json!(false);
            }
        }
        responses.insert("200".into(), json!({ "description": "the record", "headers": headers, "content": item_content(resource), "links": item_links(resource) }));
        responses.insert("304".into(), json!({ "description": "not modified", "headers": { "ETag": header("the record's entity tag", true) } }));
        item_responses(spec, resource, &mut responses, true);
        let mut get = operation(
            format!("get_{label}"),
            format!("Read {}", one(resource)),
            label,
            responses,
        );
        get.insert(
            "parameters".into(),
            Value::Array(parameters::item(spec, resource)),
        );
        path.insert("get".into(), Value::Object(get));
    }
    if resource.allows(Method::Put) {
        let mut responses = Map::new();
        responses.insert("200".into(), json!({ "description": "replaced", "headers": item_headers(resource, false), "content": item_content(resource) }));
        responses.insert("204".into(), json!({ "description": "replaced (Prefer: return=minimal)", "headers": item_headers(resource, false) }));
        if resource.id == crate::spec::IdKind::String {
            responses.insert("201".into(), json!({ "description": "created with the client's id", "headers": item_headers(resource, true), "content": item_content(resource) }));
        }
        responses.insert("409".into(), problem("a unique value is taken, a reference is missing, or the change of state is not allowed"));
        item_responses(spec, resource, &mut responses, false);
        let mut put = operation(
            format!("replace_{label}"),
            format!("Replace {}", one(resource)),
            label,
            responses,
        );
        put.insert("requestBody".into(), write_body(resource, false, None));
        path.insert("put".into(), Value::Object(put));
    }
    if resource.allows(Method::Patch) {
        let mut responses = Map::new();
        responses.insert("200".into(), json!({ "description": "changed", "headers": item_headers(resource, false), "content": item_content(resource) }));
        responses.insert("204".into(), json!({ "description": "changed (Prefer: return=minimal)", "headers": item_headers(resource, false) }));
        responses.insert("409".into(), problem("a unique value is taken, a reference is missing, a JSON patch test failed or names a path the record does not have, or the change of state is not allowed"));
        responses.insert(
            "422".into(),
            problem("a JSON patch whose result is not an object"),
        );
        item_responses(spec, resource, &mut responses, false);
        let mut patch = operation(
            format!("patch_{label}"),
            format!("Change {}", one(resource)),
            label,
            responses,
        );
        patch.insert("requestBody".into(), json!({
            "required": true,
            "content": {
                "application/merge-patch+json": { "schema": reference(&name(label, "MergePatch")) },
                "application/json-patch+json": { "schema": reference(&name(label, "JsonPatch")) },
                JSON: { "schema": reference(&name(label, "MergePatch")) },
            },
        }));
        path.insert("patch".into(), Value::Object(patch));
    }
    if resource.allows(Method::Delete) {
        let mut responses = Map::new();
        responses.insert("204".into(), json!({ "description": "deleted" }));
        responses.insert("200".into(), json!({ "description": "deleted, answered with the record as it was (plain JSON clients, or Prefer: return=representation)", "headers": item_headers(resource, false), "content": item_content(resource) }));
        responses.insert(
            "409".into(),
            problem("records reference this one and its on_delete is restrict"),
        );
        item_responses(spec, resource, &mut responses, false);
        responses.remove("413");
        responses.remove("415");
        path.insert(
            "delete".into(),
            Value::Object(operation(
                format!("delete_{label}"),
                format!("Delete one of {label}"),
                label,
                responses,
            )),
        );
    }
    path
}

/// The spec's custom routes, each a path served as its target (below the
/// base path; one that is not, or that is already a path, is left out).
fn route_paths(spec: &Spec, paths: &mut Map<String, Value>) {
    for (index, (pattern, template, variables, target)) in
        crate::links::routes(spec).into_iter().enumerate()
    {
        let Some(path) = template
            .strip_prefix(spec.base_path.as_str())
            .filter(|path| path.starts_with('/'))
        else {
            continue;
        };
        let path = path.replace("{+", "{");
        if paths.contains_key(&path) {
            continue;
        }
        let parameters: Vec<Value> = variables
            .iter()
            .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
            .collect();
        let description = format!(
            "Custom route '{pattern}': every request is served as {target}, with the parameters put in."
        );
        let mut get = Map::new();
        get.insert("operationId".into(), json!(format!("route_{}", index + 1)));
        get.insert("summary".into(), json!(format!("Served as {target}")));
        get.insert("description".into(), json!(description));
        get.insert("tags".into(), json!(["routes"]));
        get.insert(
            "responses".into(),
            json!({ "default": { "description": format!("what {target} answers") } }),
        );
        let mut item = Map::new();
        if !parameters.is_empty() {
            item.insert("parameters".into(), Value::Array(parameters));
        }
        item.insert("description".into(), json!(description));
        item.insert("get".into(), Value::Object(get));
        paths.insert(path, Value::Object(item));
    }
}

/// The OpenAPI 3.1 document of what `spec` serves.
pub fn document(spec: &Spec) -> Value {
    let mut paths = Map::new();
    let mut home = Map::new();
    home.insert(
        "200".into(),
        json!({
            "description": "the home document: every collection and item route",
            "content": {
                HAL: { "schema": reference("standin.Object") },
                JSON: { "schema": reference("standin.Object") },
                "application/json-home": { "schema": reference("standin.Object") },
            },
        }),
    );
    common(spec, &mut home, true);
    paths.insert(
        "/".into(),
        json!({ "get": operation("home".into(), "The home document".into(), "home", home) }),
    );
    for resource in &spec.resources {
        let label = &resource.name;
        if resource.singular {
            // One record at the resource's own path: no collection, no id.
            paths.insert(
                format!("/{label}"),
                Value::Object(item_path(spec, resource)),
            );
            continue;
        }
        let mut collection = Map::new();
        if resource.allows(Method::Get) {
            collection.insert(
                "get".into(),
                Value::Object(list(
                    spec,
                    resource,
                    format!("list_{label}"),
                    format!("List {label}"),
                    false,
                )),
            );
        }
        if resource.allows(Method::Post) {
            collection.insert(
                "post".into(),
                Value::Object(create(
                    spec,
                    resource,
                    format!("create_{label}"),
                    format!("Create one of {label}"),
                    None,
                )),
            );
        }
        paths.insert(format!("/{label}"), Value::Object(collection));
        paths.insert(
            format!("/{label}/{{id}}"),
            Value::Object(item_path(spec, resource)),
        );
        for inverse in spec.inverses(label) {
            let Some(dependant) = spec.resource(&inverse.resource) else {
                continue;
            };
            let mut path = Map::new();
            let parameter = json!({ "name": "id", "in": "path", "required": true, "schema": schemas::id_schema(resource.id) });
            path.insert("parameters".into(), json!([parameter]));
            if dependant.allows(Method::Get) {
                let summary = format!("List the {} of one of {label}", inverse.name);
                path.insert(
                    "get".into(),
                    Value::Object(list(
                        spec,
                        dependant,
                        format!("list_{label}_{}", inverse.name),
                        summary,
                        true,
                    )),
                );
            }
            if dependant.allows(Method::Post) {
                let summary = format!(
                    "Create one of {} referencing one of {label}",
                    dependant.name
                );
                path.insert(
                    "post".into(),
                    Value::Object(create(
                        spec,
                        dependant,
                        format!("create_{label}_{}", inverse.name),
                        summary,
                        Some(&inverse.field),
                    )),
                );
            }
            paths.insert(
                format!("/{label}/{{id}}/{}", inverse.name),
                Value::Object(path),
            );
        }
        action_paths(spec, resource, &mut paths);
    }
    if spec
        .resources
        .iter()
        .any(|resource| resource.async_delay.is_some())
    {
        paths.insert("/_jobs/{job}".into(), json!({
            "get": {
                "operationId": "job",
                "summary": "The status of an asynchronous create",
                "tags": ["jobs"],
                "parameters": [{ "name": "job", "in": "path", "required": true, "schema": { "type": "integer", "minimum": 1 } }],
                "responses": {
                    "200": { "description": "pending (with Retry-After) or failed", "headers": { "Retry-After": header("seconds to wait", false) }, "content": { JSON: { "schema": reference("standin.Job") } } },
                    "303": { "description": "done: Location is the created record", "headers": { "Location": header("the record", true) } },
                    "404": problem("no such job"),
                },
            },
        }));
    }
    route_paths(spec, &mut paths);
    admin::paths(spec, &mut paths);
    let mut schemas = schemas::components(spec);
    admin::components(&mut schemas);
    let mut components = Map::new();
    components.insert("schemas".into(), Value::Object(schemas));
    let mut document = json!({
        "openapi": "3.1.0",
        "info": {
            "title": spec.title,
            "version": "1.0.0",
            "description": "Served by standin from a resource description.",
        },
        "servers": [{ "url": if spec.base_path.is_empty() { "/" } else { spec.base_path.as_str() } }],
        "tags": admin::tags(),
        "paths": paths,
        "components": components,
    });
    if spec.auth.is_some() {
        document["components"]["securitySchemes"] =
            json!({ "bearer": { "type": "http", "scheme": "bearer" } });
        document["security"] = json!([{ "bearer": [] }]);
    }
    document
}
