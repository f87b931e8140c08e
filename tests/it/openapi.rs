//! The OpenAPI description tells the truth: every route the server answers is
//! in it, every status it answers is documented for that operation; and the
//! JSON Schema of the spec format accepts the example specs.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{LIBRARY, TestApp, json, spawn};

const FULL: &str = r#"
standin: 1
base_path: /api
auth:
  tokens: { admin: [read, write, admin], reader: [read] }
  anonymous: [read]
resources:
  authors:
    fields:
      name: { type: string, required: true }
      email: { type: string, unique: true }
    records: [{ name: A, email: a@x.io }, { name: B }]
  books:
    fields:
      title: { type: string, required: true }
      status: { type: string, enum: [draft, done], default: draft }
      author: { ref: authors, required: true, on_delete: restrict }
    transitions: { status: { draft: [done] } }
    soft_delete: true
    records: [{ title: T, author: 1 }]
  reports:
    id: string
    fields: { body: string }
    async: 10ms
    require_if_match: true
"#;

/// The documented path template and operation a request path and method meet.
fn operation<'a>(document: &'a Value, path: &str, method: &str) -> Option<(String, &'a Value)> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let paths = document["paths"].as_object()?;
    paths.iter().find_map(|(template, item)| {
        let parts: Vec<&str> = template.trim_start_matches('/').split('/').collect();
        let matches = parts.len() == segments.len()
            && parts
                .iter()
                .zip(&segments)
                .all(|(part, segment)| part.starts_with('{') || part == segment);
        let operation = item.get(method.to_ascii_lowercase())?;
        matches.then(|| (template.clone(), operation))
    })
}

async fn documented(
    app: &TestApp,
    document: &Value,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> u16 {
    let mut request = app.request(method.clone(), path);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let route = path.split('?').next().unwrap();
    let (template, operation) = operation(document, route, method.as_str())
        .unwrap_or_else(|| panic!("{method} {route} is not in the description"));
    assert!(
        operation["responses"].get(status.to_string()).is_some(),
        "{method} {path} answered {status}, which {template} does not document"
    );
    status
}

/// A request (method, path, token, body) and the status it must get.
type Case<'a> = (Method, &'a str, Option<&'a str>, Option<Value>, u16);

#[tokio::test]
async fn every_route_and_status_the_server_answers_is_documented() {
    let app = spawn(FULL);
    let document = json(
        app.request(Method::GET, "/_standin/openapi.json")
            .bearer_auth("admin")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(document["servers"][0]["url"], "/api");
    let admin = Some("admin");
    let reader = Some("reader");
    let cases: Vec<Case> = vec![
        (Method::GET, "/", None, None, 200),
        (Method::GET, "/books", None, None, 200),
        (Method::GET, "/books?yaer=1", None, None, 400),
        (Method::GET, "/books/1", None, None, 200),
        (Method::GET, "/books/1?embed=nope", None, None, 400),
        (Method::GET, "/books/99", None, None, 404),
        (Method::GET, "/authors/1/books", None, None, 200),
        (Method::GET, "/authors/99/books", None, None, 404),
        (
            Method::POST,
            "/books",
            None,
            Some(json!({ "title": "x", "author": 1 })),
            401,
        ),
        (
            Method::POST,
            "/books",
            reader,
            Some(json!({ "title": "x", "author": 1 })),
            403,
        ),
        (
            Method::POST,
            "/books",
            admin,
            Some(json!({ "title": "x", "author": 1 })),
            201,
        ),
        (
            Method::POST,
            "/books",
            admin,
            Some(json!({ "title": 5 })),
            400,
        ),
        (
            Method::POST,
            "/books",
            admin,
            Some(json!({ "title": "x", "author": 9 })),
            409,
        ),
        (
            Method::POST,
            "/authors/2/books",
            admin,
            Some(json!({ "title": "y" })),
            201,
        ),
        (
            Method::PATCH,
            "/books/1",
            admin,
            Some(json!({ "status": "done" })),
            200,
        ),
        (
            Method::PATCH,
            "/books/1",
            admin,
            Some(json!({ "status": "draft" })),
            409,
        ),
        (
            Method::PUT,
            "/books/1",
            admin,
            Some(json!({ "title": "z", "author": 1, "status": "done" })),
            200,
        ),
        (Method::DELETE, "/authors/1", admin, None, 409),
        (Method::DELETE, "/books/1", admin, None, 204),
        (Method::GET, "/books/1", None, None, 410),
        (
            Method::POST,
            "/reports",
            admin,
            Some(json!({ "id": "r1", "body": "b" })),
            202,
        ),
        (
            Method::PUT,
            "/reports/r2",
            admin,
            Some(json!({ "body": "b" })),
            428,
        ),
        (Method::GET, "/_standin/health", reader, None, 403),
        (Method::GET, "/_standin/health", admin, None, 200),
        (Method::GET, "/_standin/spec", admin, None, 200),
        (
            Method::GET,
            "/_standin/requests?status=nope",
            admin,
            None,
            400,
        ),
        (Method::POST, "/_standin/reset", admin, None, 200),
    ];
    for (method, path, token, body, expected) in cases {
        let status = documented(&app, &document, method.clone(), path, token, body).await;
        assert_eq!(status, expected, "{method} {path}");
    }
    let job = app.request(Method::GET, "/_jobs/1").send().await.unwrap();
    assert!(
        document["paths"]["/_jobs/{job}"]["get"]["responses"]
            .get(job.status().as_str())
            .is_some()
    );
}

#[tokio::test]
async fn every_resource_route_and_method_is_described() {
    let app = spawn(LIBRARY);
    let document = json(app.get("/_standin/openapi.json").await).await;
    let paths = document["paths"].as_object().unwrap();
    let mut routes: Vec<&str> = paths.keys().map(String::as_str).collect();
    routes.sort();
    assert_eq!(
        routes,
        [
            "/",
            "/_standin/health",
            "/_standin/openapi.json",
            "/_standin/requests",
            "/_standin/requests/match",
            "/_standin/reset",
            "/_standin/sessions",
            "/_standin/sessions/{key}",
            "/_standin/spec",
            "/_standin/stubs",
            "/_standin/stubs/{id}",
            "/authors",
            "/authors/{id}",
            "/authors/{id}/books",
            "/books",
            "/books/{id}",
            "/books/{id}/reviews",
            "/reviews",
            "/reviews/{id}",
        ]
    );
    let item = &paths["/books/{id}"];
    for method in ["get", "put", "patch", "delete"] {
        assert!(item.get(method).is_some(), "{method}");
    }
    let created = &paths["/books"]["post"]["responses"]["201"];
    assert_eq!(
        created["links"]["get_books"]["parameters"]["id"],
        "$response.body#/id"
    );
    assert_eq!(created["headers"]["Location"]["required"], true);
    let list = &paths["/books"]["get"];
    let names: Vec<&str> = list["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in [
        "page",
        "per_page",
        "sort",
        "q",
        "embed",
        "fields",
        "year",
        "year__gte",
        "title__contains",
        "author",
        "genre__in",
        "tags__contains",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    let patch = &paths["/books/{id}"]["patch"]["requestBody"]["content"];
    assert!(
        patch.get("application/json-patch+json").is_some()
            && patch.get("application/merge-patch+json").is_some()
    );
}

#[tokio::test]
async fn resources_named_as_standins_own_shapes_keep_their_schemas() {
    let app = spawn(
        "standin: 1\nresources:\n  problem:\n    fields: { kind: string }\n  job:\n    singular: true\n    fields: { state: string }\n",
    );
    let document = json(app.get("/_standin/openapi.json").await).await;
    let schemas = &document["components"]["schemas"];
    assert!(
        schemas["Problem"]["properties"]["kind"].is_object(),
        "the resource's own: {}",
        schemas["Problem"]
    );
    assert!(
        schemas["Job"]["properties"]["state"].is_object(),
        "{}",
        schemas["Job"]
    );
    assert_eq!(
        schemas["standin.Problem"]["description"],
        "An RFC 9457 problem."
    );
    // Every problem answer names standin's problem, not the resource.
    let not_found = &document["paths"]["/problem/{id}"]["get"]["responses"]["404"];
    assert_eq!(
        not_found["content"]["application/problem+json"]["schema"]["$ref"],
        "#/components/schemas/standin.Problem",
        "{not_found}"
    );
}

#[tokio::test]
async fn home_and_items_link_to_the_description() {
    let app = spawn(LIBRARY);
    let home = json(app.get("").await).await;
    assert_eq!(
        home["_links"]["describedby"]["href"],
        "/api/_standin/openapi.json"
    );
    let item = json(app.get("/books/1").await).await;
    assert_eq!(
        item["_links"]["describedby"]["href"],
        "/api/_standin/openapi.json"
    );
}

fn spec_schema() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/schema/standin.schema.json"
        ))
        .unwrap(),
    )
    .unwrap();
    jsonschema::draft202012::new(&schema).expect("the schema compiles")
}

#[test]
fn the_committed_schema_is_what_standin_schema_prints() {
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/schema/standin.schema.json"
        ))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        committed,
        standin::spec_format_schema(),
        "run: standin schema > schema/standin.schema.json"
    );
}

#[test]
fn the_spec_schema_accepts_every_example_spec_and_rejects_a_broken_one() {
    let validator = spec_schema();
    for path in crate::helpers::example_specs() {
        let spec: Value = serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&spec)
            .map(|error| error.to_string())
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
    }
    // The files a spec includes are fragments, described by $defs/fragment.
    let mut schema: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/schema/standin.schema.json"
        ))
        .unwrap(),
    )
    .unwrap();
    schema["$ref"] = json!("#/$defs/fragment");
    for key in ["type", "required", "additionalProperties", "properties"] {
        schema.as_object_mut().unwrap().remove(key);
    }
    let fragments = jsonschema::draft202012::new(&schema).expect("the schema compiles");
    let library = concat!(env!("CARGO_MANIFEST_DIR"), "/specs/library");
    for file in [
        "shared.yaml",
        "resources/catalogue.yaml",
        "resources/members.yaml",
    ] {
        let path = std::path::Path::new(library).join(file);
        let fragment: Value =
            serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let errors: Vec<String> = fragments
            .iter_errors(&fragment)
            .map(|error| error.to_string())
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
    }
    let misplaced: Value = serde_yaml::from_str(
        "title: x
resources: {}
",
    )
    .unwrap();
    assert!(!fragments.is_valid(&misplaced));
    let broken: Value =
        serde_yaml::from_str("standin: 1\nresources:\n  books:\n    feilds: {}\n").unwrap();
    assert!(!validator.is_valid(&broken));
    let wrong_type: Value =
        serde_yaml::from_str("standin: 1\nresources:\n  books:\n    fields: { title: strng }\n")
            .unwrap();
    assert!(!validator.is_valid(&wrong_type));
}

#[tokio::test]
async fn a_json_patch_sets_an_optional_formatted_field_to_its_format_or_null_as_described() {
    // Described as `anyOf` (its schema, or null) rather than a list of types,
    // which schemathesis fills with "" for want of the format.
    let app = spawn(
        "standin: 1\nresources:\n  orders:\n    fields:\n      ordered_at: { type: string, format: date-time }\n    records: [{ ordered_at: '2025-01-01T00:00:00Z' }]\n",
    );
    let document = json(app.get("/_standin/openapi.json").await).await;
    let mut schema = document["components"]["schemas"]["OrdersJsonPatch"].clone();
    let set = schema["items"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .find(|operation| operation["properties"]["op"]["enum"] == json!(["add", "replace"]))
        .unwrap();
    assert_eq!(
        set["properties"]["value"],
        json!({ "anyOf": [{ "type": "string", "format": "date-time" }, { "type": "null" }] })
    );
    schema["components"] = document["components"].clone();
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the schema compiles");
    for (value, valid) in [
        (json!("2026-01-02T03:04:05Z"), true),
        (Value::Null, true),
        (json!(""), false),
        (json!(5), false),
    ] {
        let patch = json!([{ "op": "replace", "path": "/ordered_at", "value": value }]);
        assert_eq!(validator.is_valid(&patch), valid, "{patch}");
        let status = app
            .request(Method::PATCH, "/orders/1")
            .header("content-type", "application/json-patch+json")
            .body(patch.to_string())
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status.is_success(), valid, "{patch}: {status}");
    }
}
