//! JSON Patch (RFC 6902): every operation, and the status of each failure.

use crate::helpers::{LIBRARY, Storage, error_fields, json, problem, spawn, spawn_with};
use reqwest::Method;
use serde_json::json;

async fn json_patch(
    app: &crate::helpers::TestApp,
    path: &str,
    operations: serde_json::Value,
) -> reqwest::Response {
    app.request(Method::PATCH, path)
        .header("content-type", "application/json-patch+json")
        .body(operations.to_string())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn json_patch_applies_all_six_operations() {
    for storage in Storage::BOTH {
        let app = spawn_with(LIBRARY, storage);
        let before = json(app.get_json("/books/5").await).await;
        let operations = json!([
            { "op": "test", "path": "/title", "value": before["title"] },
            { "op": "replace", "path": "/title", "value": "Patched" },
            { "op": "add", "path": "/tags", "value": ["a", "b"] },
            { "op": "add", "path": "/tags/-", "value": "c" },
            { "op": "remove", "path": "/tags/0" },
            { "op": "copy", "from": "/title", "path": "/tags/0" },
            { "op": "move", "from": "/genre", "path": "/genre" },
        ]);
        let response = json_patch(&app, "/books/5", operations).await;
        assert_eq!(response.status(), 200, "{storage:?}");
        let after = json(response).await;
        assert_eq!(after["title"], "Patched");
        assert_eq!(after["tags"], json!(["Patched", "b", "c"]));
    }
}

#[tokio::test]
async fn json_patch_failures_have_their_own_statuses() {
    let app = spawn(LIBRARY);
    let test_failed = json_patch(
        &app,
        "/books/5",
        json!([{ "op": "test", "path": "/title", "value": "nope" }]),
    )
    .await;
    problem(test_failed, 409).await;
    let bad_path = json_patch(
        &app,
        "/books/5",
        json!([{ "op": "remove", "path": "/nothing/here" }]),
    )
    .await;
    problem(bad_path, 409).await;
    // Replacing the whole record may leave the server-set fields out.
    let whole = json_patch(
        &app,
        "/books/5",
        json!([{ "op": "add", "path": "", "value": { "title": "Whole", "author": 1 } }]),
    )
    .await;
    assert_eq!(whole.status(), 200);
    assert_eq!(json(whole).await["title"], "Whole");
    let not_an_object = json_patch(
        &app,
        "/books/5",
        json!([{ "op": "replace", "path": "", "value": 1 }]),
    )
    .await;
    problem(not_an_object, 422).await;
    // Each add or replace writes its field: a value it can never hold is
    // refused even if a later operation replaces it.
    let passing_through = json_patch(
        &app,
        "/books/5",
        json!([
            { "op": "replace", "path": "/year", "value": "not a year" },
            { "op": "replace", "path": "/year", "value": 1999 }
        ]),
    )
    .await;
    assert_eq!(error_fields(&problem(passing_through, 400).await), ["year"]);
    let server_set = json_patch(
        &app,
        "/books/5",
        json!([{ "op": "replace", "path": "/id", "value": 9 }]),
    )
    .await;
    assert_eq!(error_fields(&problem(server_set, 400).await), ["id"]);
    let invalid = json_patch(
        &app,
        "/books/5",
        json!([{ "op": "replace", "path": "/year", "value": "old" }]),
    )
    .await;
    assert_eq!(error_fields(&problem(invalid, 400).await), ["year"]);
    let malformed = json_patch(&app, "/books/5", json!({ "title": "x" })).await;
    problem(malformed, 400).await;
    let untouched = json(app.get_json("/books/5").await).await;
    assert_ne!(untouched["year"], "old", "a failed patch changes nothing");
}
