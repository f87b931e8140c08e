//! Custom routes declared in the spec (`routes:`): json-server's rewrites,
//! applied after `--routes`, checked with positions, listed in the home
//! documents and the OpenAPI export.

use std::sync::Arc;

use reqwest::Method;
use serde_json::json;
use standin::CustomRoutes;

use crate::helpers::{json, problem, spawn, spawn_with_options};
use crate::spec_check::diagnostics_of;

const SPEC: &str = "standin: 1
routes:
  /api/v1/*: /$1
  /blog/:slug: /posts?slug=:slug
resources:
  posts:
    fields: { slug: string, title: string }
    records:
      - { slug: hello, title: Hello }
      - { slug: bye, title: Bye }
";

#[tokio::test]
async fn requests_are_served_as_the_routes_map_them() {
    let app = spawn(SPEC);
    let found = json(app.get_json("/blog/bye").await).await;
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");
    assert_eq!(found[0]["title"], "Bye");
    let item = json(app.get_json("/api/v1/posts/1").await).await;
    assert_eq!(item["slug"], "hello");
    let response = app
        .send_json(Method::PATCH, "/api/v1/posts/1", json!({ "title": "Hi" }))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(json(app.get_json("/posts/1").await).await["title"], "Hi");
    // What no rule matches is routed as it is.
    problem(app.get_json("/blogs/bye").await, 404).await;
}

#[tokio::test]
async fn the_command_lines_routes_apply_first_then_the_specs() {
    let routes = CustomRoutes::parse("routes.json", r#"{"/legacy/*": "/api/v1/$1"}"#).unwrap();
    let app = spawn_with_options(SPEC, |options| {
        options.custom_routes = Some(Arc::new(routes));
    });
    let item = json(app.get_json("/legacy/posts/2").await).await;
    assert_eq!(item["slug"], "bye");
    // The spec's own routes still apply without the command line's.
    let item = json(app.get_json("/api/v1/posts/2").await).await;
    assert_eq!(item["slug"], "bye");
    // `/__rules` lists both, in the order they apply.
    let rules = json(app.get("/__rules").await).await;
    assert_eq!(
        rules.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["/legacy/*", "/api/v1/*", "/blog/:slug"],
        "{rules}"
    );
    assert_eq!(rules["/blog/:slug"], "/posts?slug=:slug");
    let only_the_specs = json(spawn(SPEC).get("/__rules").await).await;
    assert_eq!(
        only_the_specs,
        json!({ "/api/v1/*": "/$1", "/blog/:slug": "/posts?slug=:slug" })
    );
}

#[tokio::test]
async fn the_home_documents_and_the_openapi_export_list_them() {
    let app = spawn(SPEC);
    let hal = json(app.get("/").await).await;
    assert_eq!(
        hal["_links"]["routes"][1],
        json!({ "href": "/blog/{slug}", "templated": true, "name": "/blog/:slug", "title": "served as /posts?slug=:slug" })
    );
    let plain = json(app.get_json("/").await).await;
    assert_eq!(
        plain["routes"],
        json!({ "/api/v1/*": "/$1", "/blog/:slug": "/posts?slug=:slug" })
    );
    let home = app
        .request(Method::GET, "/")
        .header("accept", "application/json-home")
        .send()
        .await
        .unwrap();
    let home = json(home).await;
    assert_eq!(
        home["resources"]["urn:standin:route:/api/v1/*"]["href-template"],
        "/api/v1/{+rest1}"
    );
    let spec = standin::parse("test.yaml", SPEC).unwrap();
    let document = standin::openapi_document(&spec);
    let blog = &document["paths"]["/blog/{slug}"];
    assert_eq!(blog["parameters"][0]["name"], "slug");
    assert_eq!(blog["get"]["summary"], "Served as /posts?slug=:slug");
    assert!(document["paths"].get("/api/v1/{rest1}").is_some());
}

#[test]
fn bad_patterns_and_targets_naming_no_resource_are_positioned() {
    let source = "standin: 1
base_path: /api
route: {}
routes:
  /old/*: /api/$1
  /blog/:slug: /api/post?slug=:slug
  /x/:id: /api/posts/$2
  /y/(\\d+): /api/posts
  /z: /elsewhere
  /w: 3
resources:
  posts:
    fields: { slug: string }
";
    assert_eq!(
        diagnostics_of("spec.yaml", source),
        "spec.yaml:3:1: error at route: unknown key 'route' (did you mean 'routes'?)\n\
         spec.yaml:6:16: error at routes./blog/:slug: '/api/post?slug=:slug' names no resource: there is no resource 'post' (did you mean 'posts'?)\n\
         spec.yaml:7:11: error at routes./x/:id: '/api/posts/$2' refers to $2, but the pattern has 1 parameter(s)\n\
         spec.yaml:8:3: error at routes./y/(\\d+): the pattern '/y/(\\d+)': groups are not supported (escape a literal '(' as '\\\\(')\n\
         spec.yaml:9:7: error at routes./z: '/elsewhere' is outside the API at /api: targets are paths as sent, like /api/posts\n\
         spec.yaml:10:7: error at routes./w: expected the path '/w' is served as, like /posts, found the number 3"
    );
}
