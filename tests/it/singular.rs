//! Singular resources in standin's own spec format (`singular: true`): one
//! record at `/profile`, read, replaced and changed, never listed, created or
//! deleted; checked, linked, listed in the home document and exported.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{error_fields, header, json, problem, spawn};
use crate::spec_check::diagnostics_of;

const SPEC: &str = "standin: 1
base_path: /api
resources:
  users:
    fields: { name: string }
    count: 2
  profile:
    singular: true
    fields:
      name: { type: string, required: true }
      age: { type: integer, minimum: 0 }
    record: { name: Ada, age: 36 }
  settings:
    singular: true
    methods: [GET]
    fields:
      theme: { type: string, enum: [light, dark] }
";

#[tokio::test]
async fn a_singular_resource_serves_its_one_record_with_a_self_link() {
    let app = spawn(SPEC);
    let response = app.get("/profile").await;
    assert_eq!(response.status(), 200);
    let body = json(response).await;
    assert_eq!(body["name"], "Ada");
    assert_eq!(body["age"], 36);
    assert_eq!(body.get("id"), None, "{body}");
    assert_eq!(body["_links"]["self"]["href"], "/api/profile");
    assert_eq!(body["_links"].get("collection"), None, "{body}");
    // Without a `record`, one is generated from the fields.
    let settings = json(app.get_json("/settings").await).await;
    assert!(
        ["light", "dark"].contains(&settings["theme"].as_str().unwrap_or_default()),
        "{settings}"
    );
}

#[tokio::test]
async fn put_and_patch_are_validated_against_the_fields() {
    let app = spawn(SPEC);
    let response = app
        .send_json(Method::PATCH, "/profile", json!({ "age": -1 }))
        .await;
    assert_eq!(error_fields(&problem(response, 400).await), ["age"]);
    let response = app
        .send_json(Method::PUT, "/profile", json!({ "age": 3 }))
        .await;
    assert_eq!(error_fields(&problem(response, 400).await), ["name"]);
    let response = app
        .send_json(Method::PATCH, "/profile", json!({ "age": 37 }))
        .await;
    assert_eq!(response.status(), 200);
    let response = app
        .send_json(Method::PUT, "/profile", json!({ "name": "Grace" }))
        .await;
    assert_eq!(response.status(), 200);
    let body = json(app.get("/profile").await).await;
    assert_eq!(
        (&body["name"], &body["age"]),
        (&json!("Grace"), &Value::Null)
    );
}

#[tokio::test]
async fn post_delete_and_item_paths_are_refused() {
    let app = spawn(SPEC);
    for method in [Method::POST, Method::DELETE] {
        let response = app.send_json(method.clone(), "/profile", json!({})).await;
        assert_eq!(
            header(&response, "allow").as_deref(),
            Some("GET, HEAD, PUT, PATCH, OPTIONS"),
            "{method}"
        );
        problem(response, 405).await;
    }
    let response = app
        .send_json(Method::PATCH, "/settings", json!({ "theme": "dark" }))
        .await;
    assert_eq!(
        header(&response, "allow").as_deref(),
        Some("GET, HEAD, OPTIONS")
    );
    problem(response, 405).await;
    let body = problem(app.get("/profile/1").await, 404).await;
    assert!(
        body["detail"].as_str().unwrap().contains("singular"),
        "{body}"
    );
}

#[tokio::test]
async fn conditional_requests_work_as_for_items() {
    let app = spawn(SPEC);
    let etag = header(&app.get("/profile").await, "etag").expect("an ETag");
    let response = app
        .request(Method::GET, "/profile")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 304);
    let stale = app
        .request(Method::PATCH, "/profile")
        .header("content-type", "application/merge-patch+json")
        .header("if-match", "\"stale\"")
        .body(r#"{"age":1}"#)
        .send()
        .await
        .unwrap();
    problem(stale, 412).await;
    let fresh = app
        .request(Method::PATCH, "/profile")
        .header("content-type", "application/merge-patch+json")
        .header("if-match", &etag)
        .body(r#"{"age":1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.status(), 200);
    assert_ne!(header(&fresh, "etag"), Some(etag));
}

#[tokio::test]
async fn the_home_documents_and_the_openapi_export_list_it() {
    let app = spawn(SPEC);
    let hal = json(app.get("").await).await;
    assert_eq!(hal["_links"]["profile"], json!({ "href": "/api/profile" }));
    assert_eq!(hal["_links"].get("profile_item"), None);
    let plain = json(app.get_json("").await).await;
    assert_eq!(plain["collections"]["profile"]["href"], "/api/profile");
    let home = app
        .request(Method::GET, "")
        .header("accept", "application/json-home")
        .send()
        .await
        .unwrap();
    let home = json(home).await;
    let relation = &home["resources"]["urn:standin:rel:profile"];
    assert_eq!(relation["href"], "/api/profile");
    assert_eq!(
        relation["hints"]["allow"],
        json!(["GET", "HEAD", "PUT", "PATCH"])
    );
    let spec = standin::parse("test.yaml", SPEC).unwrap();
    let document = standin::openapi_document(&spec);
    let paths = document["paths"].as_object().unwrap();
    assert!(paths.contains_key("/profile"));
    assert!(!paths.contains_key("/profile/{id}"));
    let profile = &paths["/profile"];
    assert!(profile.get("get").is_some() && profile.get("put").is_some());
    assert!(profile.get("post").is_none() && profile.get("delete").is_none());
    assert!(profile.get("parameters").is_none(), "{profile}");
    assert!(paths["/settings"].get("patch").is_none());
    assert_eq!(
        document["components"]["schemas"]["Profile"]["properties"].get("id"),
        None
    );
}

#[test]
fn the_checker_positions_every_misuse() {
    let source = "standin: 1
resources:
  users:
    fields:
      name: string
      prof: { ref: profile }
    record: { name: x }
  profile:
    singular: true
    singulr: true
    id: string
    count: 3
    methods: [GET, POST]
    fields:
      name: { type: string, required: true }
    record: { id: 3, age: 4 }
";
    assert_eq!(
        diagnostics_of("spec.yaml", source),
        "spec.yaml:6:20: error at resources.users.fields.prof.ref: 'profile' is a singular resource: it has no ids to reference\n\
         spec.yaml:7:5: error at resources.users.record: 'record' is the one record of a singular resource: add 'singular: true', or list records under 'records'\n\
         spec.yaml:10:5: error at resources.profile.singulr: unknown key 'singulr' (did you mean 'singular'?)\n\
         spec.yaml:11:5: error at resources.profile.id: a singular resource has no 'id': its one record has no id in its path\n\
         spec.yaml:12:5: error at resources.profile.count: a singular resource has no 'count': it has exactly one record\n\
         spec.yaml:13:20: error at resources.profile.methods.1: POST is not allowed: a singular resource has one record, read, replaced and changed with GET, PUT and PATCH\n\
         spec.yaml:16:5: error at resources.profile.record.name: is required\n\
         spec.yaml:16:15: error at resources.profile.record.id: a singular resource's record has no id\n\
         spec.yaml:16:22: error at resources.profile.record.age: is not a field of this resource"
    );
}
