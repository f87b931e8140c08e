//! Conditional requests: ETags and Last-Modified on items, pages and the
//! home document; 304 for reads, 412 and 428 guarding writes.

use crate::helpers::{LIBRARY, Storage, header, json, problem, spawn, spawn_with};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn if_none_match_on_an_item_is_304_with_its_validators() {
    let app = spawn(LIBRARY);
    let first = app.get("/books/1").await;
    let etag = header(&first, "etag").unwrap();
    let response = app
        .request(Method::GET, "/books/1")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 304);
    assert_eq!(header(&response, "etag"), Some(etag.clone()));
    assert!(header(&response, "vary").unwrap().contains("Accept"));
    assert_eq!(
        header(&response, "cache-control").as_deref(),
        Some("no-cache")
    );
    let other = app
        .request(Method::GET, "/books/1")
        .header("if-none-match", &etag)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200, "each representation has its own ETag");
    let head = app
        .request(Method::HEAD, "/books/1")
        .header("if-none-match", "*")
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 304);
}

#[tokio::test]
async fn if_modified_since_is_304_until_the_record_changes() {
    let app = spawn(LIBRARY);
    let modified = header(&app.get("/books/2").await, "last-modified").unwrap();
    let conditional = || {
        app.request(Method::GET, "/books/2")
            .header("if-modified-since", &modified)
    };
    assert_eq!(conditional().send().await.unwrap().status(), 304);
    app.send_json(Method::PATCH, "/books/2", json!({ "year": 1999 }))
        .await;
    assert_eq!(conditional().send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn pages_have_weak_etags_and_answer_304() {
    let app = spawn(LIBRARY);
    let etag = header(&app.get("/books?page=2").await, "etag").unwrap();
    assert!(etag.starts_with("W/\""), "{etag}");
    let response = app
        .request(Method::GET, "/books?page=2")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 304);
    app.post("/books", json!({ "title": "New", "author": 1 }))
        .await;
    let response = app
        .request(Method::GET, "/books?page=2")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "X-Total-Count and links changed");
}

#[tokio::test]
async fn the_home_document_has_an_etag_per_representation_and_answers_304() {
    let app = spawn(LIBRARY);
    let hal = header(&app.get("").await, "etag").unwrap();
    let home = app
        .request(Method::GET, "")
        .header("accept", "application/json-home")
        .send()
        .await
        .unwrap();
    let json_home = header(&home, "etag").unwrap();
    assert_ne!(hal, json_home);
    let response = app
        .request(Method::GET, "")
        .header("if-none-match", &hal)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 304);
    assert_eq!(header(&response, "etag").as_deref(), Some(hal.as_str()));
}

#[tokio::test]
async fn if_match_guards_writes_against_lost_updates() {
    for storage in Storage::BOTH {
        let app = spawn_with(LIBRARY, storage);
        let etag = header(&app.get("/books/3").await, "etag").unwrap();
        let patch = |etag: &str| {
            app.request(Method::PATCH, "/books/3")
                .header("content-type", "application/json")
                .header("if-match", etag.to_string())
                .body(json!({ "year": 2000 }).to_string())
        };
        let response = patch(&etag).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let stale = patch(&etag).send().await.unwrap();
        problem(stale, 412).await;
        let fresh = header(&app.get("/books/3").await, "etag").unwrap();
        let delete = app
            .request(Method::DELETE, "/books/3")
            .header("if-match", "\"nope\"")
            .send()
            .await
            .unwrap();
        problem(delete, 412).await;
        let delete = app
            .request(Method::DELETE, "/books/3")
            .header("if-match", &fresh)
            .send()
            .await
            .unwrap();
        assert_eq!(delete.status(), 204, "{storage:?}");
    }
}

#[tokio::test]
async fn if_none_match_star_makes_put_create_only() {
    let app =
        spawn("standin: 1\nresources:\n  pages:\n    id: string\n    fields: { body: string }\n");
    let put = || {
        app.request(Method::PUT, "/pages/home")
            .header("content-type", "application/json")
            .header("if-none-match", "*")
            .body(json!({ "body": "x" }).to_string())
    };
    assert_eq!(put().send().await.unwrap().status(), 201);
    problem(put().send().await.unwrap(), 412).await;
}

#[tokio::test]
async fn require_if_match_makes_writes_without_it_428() {
    let spec = LIBRARY.replace(
        "    count: 25\n",
        "    count: 25\n    require_if_match: true\n",
    );
    let app = spawn(&spec);
    let response = app
        .send_json(Method::PATCH, "/books/1", json!({ "year": 2001 }))
        .await;
    problem(response, 428).await;
    problem(
        app.request(Method::DELETE, "/books/1")
            .send()
            .await
            .unwrap(),
        428,
    )
    .await;
    let etag = header(&app.get("/books/1").await, "etag").unwrap();
    let response = app
        .request(Method::PATCH, "/books/1")
        .header("content-type", "application/json")
        .header("if-match", etag)
        .body(json!({ "year": 2001 }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn if_unmodified_since_guards_writes() {
    let app = spawn(LIBRARY);
    let response = app
        .request(Method::DELETE, "/books/4")
        .header("if-unmodified-since", "Mon, 01 Jan 2001 00:00:00 GMT")
        .send()
        .await
        .unwrap();
    problem(response, 412).await;
    let response = app
        .request(Method::DELETE, "/books/4")
        .header("if-unmodified-since", "Wed, 01 Jan 2025 00:10:00 GMT")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
}

#[tokio::test]
async fn an_embedded_change_changes_the_items_etag() {
    let app = spawn(LIBRARY);
    let first = app.get("/books/1?embed=author").await;
    let etag = header(&first, "etag").unwrap();
    let author = json(first).await["author"].as_i64().unwrap();
    app.send_json(
        Method::PATCH,
        &format!("/authors/{author}"),
        json!({ "name": "Renamed" }),
    )
    .await;
    let again = app
        .request(Method::GET, "/books/1?embed=author")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200, "the embedded author changed");
    assert_eq!(json(again).await["_embedded"]["author"]["name"], "Renamed");
}

#[tokio::test]
async fn a_create_only_put_satisfies_require_if_match() {
    let spec = "standin: 1\nresources:\n  pages:\n    id: string\n    fields: { body: string }\n    require_if_match: true\n";
    let app = spawn(spec);
    let response = app
        .request(Method::PUT, "/pages/home")
        .header("content-type", "application/json")
        .header("if-none-match", "*")
        .body(json!({ "body": "x" }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
}

const VALUES: &str = r#"
standin: 1
resources:
  notes:
    fields:
      title: string
      score: number
      count: integer
      tags: { type: array, items: { type: string } }
      meta: { type: object }
      kind: { type: string, default: plain }
"#;

#[tokio::test]
async fn a_plain_read_answers_the_bytes_and_etag_its_write_answered() {
    let app = spawn(VALUES);
    let body = json!({
        "title": "quote \" backslash \\ tab \t é ✓ \u{7f}",
        "score": 0.1,
        "count": -12345678901234_i64,
        "tags": ["a", "b \"c\""],
        "meta": { "nested": [1, 2.5, { "deep": null }], "empty": {} },
    });
    let created = app
        .request(Method::POST, "/notes")
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let written_etag = header(&created, "etag").unwrap();
    let written = created.bytes().await.unwrap();
    let read = app.get_json("/notes/1").await;
    assert_eq!(header(&read, "etag"), Some(written_etag));
    assert_eq!(read.bytes().await.unwrap(), written, "the same bytes");
    let page = app.get_json("/notes").await;
    let page = page.bytes().await.unwrap();
    assert_eq!(page, [&b"["[..], &written, &b"]"[..]].concat());
    let object: serde_json::Value = serde_json::from_slice(&written).unwrap();
    assert_eq!(
        object["kind"], "plain",
        "the default, written with the record"
    );
    assert_eq!(object["meta"], body["meta"]);
}
