//! Requests that once cost unbounded work: a JSON patch that doubles an array
//! with every operation, queries too large to plan, a search of thousands of
//! words, a scan past its time budget, and ids that are not UTF-8.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{LIBRARY, json, problem, spawn, spawn_with_options};

async fn json_patch(app: &crate::helpers::TestApp, path: &str, patch: Value) -> reqwest::Response {
    app.request(Method::PATCH, path)
        .header("content-type", "application/json-patch+json")
        .body(patch.to_string())
        .send()
        .await
        .expect("the request is answered")
}

#[tokio::test]
async fn a_json_patch_that_doubles_an_array_is_413_and_changes_nothing() {
    let app = spawn(LIBRARY);
    let before = json(app.get_json("/books/1").await).await;
    // 1.2 KB of patch: 24 doublings would make 2^24 copies of the tags.
    let doubling = json!({"op": "copy", "from": "/tags", "path": "/tags/-"});
    let mut operations = vec![json!({"op": "add", "path": "/tags", "value": ["x"]})];
    operations.extend(std::iter::repeat_n(doubling, 24));
    let body = problem(
        json_patch(&app, "/books/1", Value::Array(operations)).await,
        413,
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap().contains("1048576 bytes"),
        "{body}"
    );
    assert_eq!(json(app.get_json("/books/1").await).await, before);
}

#[tokio::test]
async fn a_json_patch_of_more_than_a_thousand_operations_is_400() {
    let app = spawn(LIBRARY);
    let test = json!({"op": "test", "path": "/id", "value": 1});
    let patch = Value::Array(vec![test; 1001]);
    let body = problem(json_patch(&app, "/books/1", patch).await, 400).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("at most 1000 operations")
    );
}

#[tokio::test]
async fn a_json_patch_that_copies_within_the_limit_applies() {
    let app = spawn(LIBRARY);
    let patch = json!([
        {"op": "add", "path": "/tags", "value": ["a", "b"]},
        {"op": "copy", "from": "/tags/0", "path": "/tags/-"},
        {"op": "copy", "from": "/tags/1", "path": "/tags/0"},
    ]);
    let response = json_patch(&app, "/books/1", patch).await;
    assert_eq!(response.status(), 200);
    let book = json(app.get_json("/books/1").await).await;
    assert_eq!(book["tags"], json!(["b", "a", "b", "a"]));
}

#[tokio::test]
async fn sorting_by_thousands_of_keys_is_400_naming_the_limit() {
    let app = spawn(LIBRARY);
    let keys = vec!["title"; 2001].join(",");
    for parameter in ["sort", "_sort"] {
        let body = problem(app.get(&format!("/books?{parameter}={keys}")).await, 400).await;
        assert_eq!(body["parameter"], parameter);
        assert!(
            body["detail"].as_str().unwrap().contains("at most 16 keys"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn more_than_500_filters_are_400_naming_the_limit_and_500_run() {
    let app = spawn(LIBRARY);
    let filters = vec!["title__contains=a"; 501].join("&");
    let body = problem(app.get(&format!("/books?{filters}")).await, 400).await;
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("at most 500 filters"), "{body}");
    assert!(!detail.contains("Expression tree"));
    // As many as the limit allows run (SQLite's expression depth is no bound).
    let filters = vec!["title__contains=e&year__ne=1"; 250].join("&");
    let response = app.get(&format!("/books?{filters}")).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn thousands_of_listed_values_are_400_naming_the_limit() {
    let app = spawn(LIBRARY);
    let ids: Vec<String> = (1..=1001).map(|id| format!("id={id}")).collect();
    let body = problem(app.get(&format!("/books?{}", ids.join("&"))).await, 400).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("at most 1000 values"),
        "{body}"
    );
    // Many values within the limit still work (react-admin's getMany).
    let ids: Vec<String> = (1..=300).map(|id| format!("id={id}")).collect();
    let response = app.get_json(&format!("/books?{}", ids.join("&"))).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_search_of_thousands_of_words_is_400() {
    let spec = LIBRARY.replace(
        "      tags: { type: array, items: { type: string } }\n    count: 25",
        "      tags: { type: array, items: { type: string } }\n    count: 25\n    search: [title]",
    );
    let app = spawn(&spec);
    let words = vec!["a"; 30_000].join("+");
    let body = problem(app.get(&format!("/books?q={words}")).await, 400).await;
    assert_eq!(body["parameter"], "q");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("at most 32 words"),
        "{body}"
    );
    let response = app.get("/books?q=a+b+c").await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_query_past_its_time_budget_is_503_and_the_server_goes_on() {
    // A budget of a nanosecond: any scan runs past it, at SQLite's first check.
    let spec = LIBRARY.replace("    count: 25", "    count: 400");
    let app = spawn_with_options(&spec, |options| {
        options.query_budget = std::time::Duration::from_nanos(1);
    });
    let response = app.get("/books?title__contains=e&sort=-title").await;
    let body = problem(response, 503).await;
    assert_eq!(body["type"], "urn:standin:problem:over-budget");
    assert!(body["detail"].as_str().unwrap().contains("query budget"));
    // A reset takes no budget: the store is unharmed and serves on.
    let reset = app
        .request(Method::POST, "/_standin/reset")
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 200);
}

#[tokio::test]
async fn ids_that_are_not_utf8_are_400_and_never_collide() {
    let spec = r#"
standin: 1
resources:
  rooms:
    id: string
    fields:
      name: string
"#;
    let app = spawn(spec);
    let created = app
        .send_json(Method::PUT, "/rooms/%C3%A9", json!({"name": "é"}))
        .await;
    assert_eq!(created.status(), 201);
    for path in ["/rooms/%FE", "/rooms/%FF", "/rooms/%C3"] {
        let body = problem(
            app.send_json(Method::PUT, path, json!({"name": "x"})).await,
            400,
        )
        .await;
        assert!(
            body["detail"].as_str().unwrap().contains("not UTF-8"),
            "{body}"
        );
    }
    let rooms = json(app.get_json("/rooms").await).await;
    let ids: Vec<&Value> = rooms
        .as_array()
        .unwrap()
        .iter()
        .map(|room| &room["id"])
        .collect();
    assert_eq!(ids, [&json!("é")]);
}
