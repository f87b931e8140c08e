//! The admin API and the library's test-double features: health, reset,
//! the request journal, the normalised spec.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{LIBRARY, Storage, TestApp, header, json, problem, spawn, spawn_with};

async fn dump(app: &TestApp) -> String {
    let mut all = String::new();
    for resource in ["authors", "books", "reviews"] {
        let body = app
            .get_json(&format!("/{resource}?per_page=100"))
            .await
            .text()
            .await
            .unwrap();
        all.push_str(&body);
    }
    all
}

#[tokio::test]
async fn reset_restores_exactly_the_seeded_records() {
    for storage in Storage::BOTH {
        let app = spawn_with(LIBRARY, storage);
        let seeded = dump(&app).await;
        assert_eq!(
            app.post("/authors", json!({ "name": "New" }))
                .await
                .status(),
            201
        );
        assert_eq!(
            app.send_json(Method::PATCH, "/books/1", json!({ "title": "Changed" }))
                .await
                .status(),
            200
        );
        assert_eq!(
            app.request(Method::DELETE, "/reviews/1")
                .send()
                .await
                .unwrap()
                .status(),
            204
        );
        assert_ne!(dump(&app).await, seeded);

        let response = app
            .request(Method::POST, "/_standin/reset")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let report = json(response).await;
        assert_eq!(report["restored"], json!(["authors", "books", "reviews"]));
        assert_eq!(dump(&app).await, seeded, "{storage:?}");

        let created = json(app.post("/authors", json!({ "name": "After" })).await).await;
        assert_eq!(created["id"], 6, "ids count on from the seeded ones");
    }
}

#[tokio::test]
async fn reset_also_resets_search() {
    let app = spawn(LIBRARY);
    let created = json(
        app.post("/books", json!({ "title": "Zanzibar", "author": 1 }))
            .await,
    )
    .await;
    assert_eq!(created["id"], 26);
    app.request(Method::POST, "/_standin/reset")
        .send()
        .await
        .unwrap();
    let found = json(app.get_json("/books?q=zanzibar").await).await;
    assert_eq!(found, json!([]));
}

#[tokio::test]
async fn the_library_resets_and_reads_the_journal() {
    let app = spawn(LIBRARY);
    assert_eq!(
        app.post("/authors", json!({ "name": "New" }))
            .await
            .status(),
        201
    );
    app.get("/books/1").await;
    let received = app.server.received_requests();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].method, "POST");
    assert_eq!(received[0].body, json!({ "name": "New" }));
    assert_eq!(received[1].path, "/api/books/1");
    assert_eq!(received[1].status, 200);
    app.server.reset().unwrap();
    assert_eq!(app.get("/authors/6").await.status(), 404);
    app.server.clear_requests();
    assert!(app.server.received_requests().is_empty());
}

#[tokio::test]
async fn the_journal_lists_requests_newest_last_and_filters_them() {
    let app = spawn(LIBRARY);
    app.post("/authors", json!({ "name": "A" })).await;
    app.request(Method::GET, "/books?page=2")
        .header("authorization", "Bearer secret")
        .send()
        .await
        .unwrap();
    app.get("/books/999").await;
    let all = json(app.get("/_standin/requests").await).await;
    let entries = all.as_array().unwrap();
    assert_eq!(entries.len(), 3, "admin requests are not journaled: {all}");
    assert_eq!(entries[0]["method"], "POST");
    assert_eq!(entries[0]["body"], json!({ "name": "A" }));
    assert_eq!(entries[0]["status"], 201);
    assert_eq!(entries[1]["query"], "page=2");
    assert_eq!(entries[1]["headers"]["authorization"], "Bearer [redacted]");
    assert!(entries[2]["duration_ms"].is_number() && entries[2]["time"].is_string());
    for (query, count) in [
        ("method=get", 2),
        ("path=/api/books", 2),
        ("status=404", 1),
        ("method=GET&status=200", 1),
    ] {
        let found = json(app.get(&format!("/_standin/requests?{query}")).await).await;
        assert_eq!(found.as_array().unwrap().len(), count, "{query}");
    }
    assert_eq!(
        app.request(Method::DELETE, "/_standin/requests")
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(json(app.get("/_standin/requests").await).await, json!([]));
    problem(app.get("/_standin/requests?status=teapot").await, 400).await;
    problem(app.get("/_standin/requests?verb=GET").await, 400).await;
}

#[tokio::test]
async fn health_reports_the_spec_storage_and_counts() {
    let app = spawn(LIBRARY);
    let health = json(app.get("/_standin/health").await).await;
    assert_eq!(health["status"], "ok");
    assert_eq!(health["storage"], "memory");
    assert_eq!(
        health["resources"],
        json!({ "authors": 5, "books": 25, "reviews": 10 })
    );
    assert_eq!(health["spec"]["hash"].as_str().unwrap().len(), 16);
    assert_eq!(health["last_reload_error"], Value::Null);
}

#[tokio::test]
async fn the_spec_route_shows_the_normalised_spec() {
    let app = spawn(LIBRARY);
    let spec = json(app.get("/_standin/spec").await).await;
    assert_eq!(spec["base_path"], "/api");
    assert_eq!(spec["page_size"], 10);
    assert_eq!(spec["resources"]["books"]["id"], "integer");
    assert_eq!(
        spec["resources"]["books"]["fields"]["author"]["ref"],
        "authors"
    );
    assert_eq!(
        spec["resources"]["books"]["fields"]["author"]["on_delete"],
        "restrict"
    );
    assert_eq!(
        spec["resources"]["books"]["fields"]["genre"]["default"],
        "fiction"
    );
    assert_eq!(
        spec["resources"]["authors"]["methods"],
        json!(["GET", "POST", "PUT", "PATCH", "DELETE"])
    );
}

#[tokio::test]
async fn admin_routes_answer_methods_and_mistakes_precisely() {
    let app = spawn(LIBRARY);
    let response = app
        .request(Method::GET, "/_standin/reset")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&response, "allow").as_deref(), Some("POST, OPTIONS"));
    problem(response, 405).await;
    let body = problem(app.get("/_standin/helth").await, 404).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("did you mean 'health'?"),
        "{body}"
    );
    assert_eq!(
        app.request(Method::HEAD, "/_standin/health")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    problem(app.get("/_standin/health?x=1").await, 400).await;
}

#[tokio::test]
async fn the_journal_keeps_large_bodies_short() {
    let app = spawn(LIBRARY);
    let long = "x".repeat(200_000);
    app.post("/authors", json!({ "name": long })).await;
    let entries = json(app.get("/_standin/requests").await).await;
    let body = entries[0]["body"]
        .as_str()
        .expect("a large body is kept as text");
    assert_eq!(body.len(), 64 * 1024);
}

#[tokio::test]
async fn matching_requests_counts_them_and_lists_near_misses() {
    let app = spawn(LIBRARY);
    app.post("/authors", json!({ "name": "Ann", "country": "NO" }))
        .await;
    app.post("/authors", json!({ "name": "Bo" })).await;
    app.get("/books?page=2").await;
    let matched = |pattern: Value| {
        let app = &app;
        async move {
            json(
                app.send_json(Method::POST, "/_standin/requests/match", pattern)
                    .await,
            )
            .await
        }
    };

    let found =
        matched(json!({"method": "POST", "path": "/api/authors", "body": {"name": "Ann"}})).await;
    assert_eq!(found["count"], 1, "{found}");
    assert_eq!(found["requests"][0]["body"]["country"], "NO");
    assert_eq!(
        found["near_misses"][0]["request"]["body"],
        json!({"name": "Bo"})
    );
    assert_eq!(
        found["near_misses"][0]["differences"],
        json!(["body.name: expected \"Ann\", found \"Bo\""])
    );

    let pages = matched(json!({"path": "/api/:collection", "query": {"page": "2"}})).await;
    assert_eq!(pages["count"], 1, "{pages}");
    let none = matched(json!({"method": "DELETE"})).await;
    assert_eq!(none["count"], 0);
    assert_eq!(none["near_misses"].as_array().map(Vec::len), Some(3));

    // The same from Rust.
    let verification = app
        .server
        .verify(standin::RequestPattern {
            method: Some("POST".into()),
            body: Some(json!({"name": "Bo"})),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(verification.count, 1);

    // Mistakes are named.
    let mistake = problem(
        app.send_json(
            Method::POST,
            "/_standin/requests/match",
            json!({"verb": "GET"}),
        )
        .await,
        400,
    )
    .await;
    assert!(
        mistake["detail"].as_str().unwrap().contains("verb"),
        "{mistake}"
    );
    problem(
        app.send_json(
            Method::POST,
            "/_standin/requests/match",
            json!({"path": "books"}),
        )
        .await,
        400,
    )
    .await;
    // Matching is not itself a received request.
    assert_eq!(app.server.received_requests().len(), 3);
}

#[tokio::test]
async fn stubs_answer_the_next_matching_requests_ahead_of_the_spec() {
    let app = spawn(LIBRARY);
    let created = app
        .send_json(
            Method::POST,
            "/_standin/stubs",
            json!({
                "request": {"method": "POST", "path": "/api/authors"},
                "response": {"status": 503, "headers": {"Retry-After": "2"}, "body": {"error": "down"}},
                "times": 1
            }),
        )
        .await;
    assert_eq!(created.status(), 201);
    let location = header(&created, "location").unwrap();
    let stub = json(created).await;
    assert!(
        location.ends_with(&format!("/_standin/stubs/{}", stub["id"])),
        "{location}"
    );
    assert_eq!(stub["remaining"], 1);

    let stubbed = app.post("/authors", json!({ "name": "Ann" })).await;
    assert_eq!(stubbed.status(), 503);
    assert_eq!(header(&stubbed, "retry-after").as_deref(), Some("2"));
    assert_eq!(json(stubbed).await, json!({"error": "down"}));
    // Used up: the spec answers again.
    assert_eq!(
        app.post("/authors", json!({ "name": "Ann" }))
            .await
            .status(),
        201
    );
    assert_eq!(json(app.get("/_standin/stubs").await).await, json!([]));

    // A route the spec does not have, every time, after a delay.
    let forever = app.server.stub(
        serde_json::from_value(json!({
            "request": {"path": "/api/legacy/*"},
            "response": {"body": "still here", "delay_ms": 20}
        }))
        .unwrap(),
    );
    let forever = forever.unwrap();
    for _ in 0..2 {
        let answered = app.get("/legacy/report").await;
        assert_eq!(answered.status(), 200);
        assert_eq!(
            header(&answered, "content-type").as_deref(),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(answered.text().await.unwrap(), "still here");
    }
    let listed = json(app.get(&format!("/_standin/stubs/{}", forever.id)).await).await;
    assert_eq!(listed["remaining"], Value::Null);

    // The journal says which stub answered.
    let journal = app.server.received_requests();
    assert_eq!(journal[0].stub, Some(stub["id"].as_u64().unwrap()));
    assert_eq!(journal[1].stub, None);
    assert_eq!(journal[2].stub, Some(forever.id));

    let removed = app
        .request(Method::DELETE, &format!("/_standin/stubs/{}", forever.id))
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 204);
    assert_eq!(app.get("/legacy/report").await.status(), 404);
    problem(
        app.get(&format!("/_standin/stubs/{}", forever.id)).await,
        404,
    )
    .await;

    // Mistakes are named.
    let mistake = problem(
        app.send_json(
            Method::POST,
            "/_standin/stubs",
            json!({"response": {"status": 1000}}),
        )
        .await,
        400,
    )
    .await;
    assert!(
        mistake["detail"].as_str().unwrap().contains("status"),
        "{mistake}"
    );
    problem(
        app.send_json(Method::POST, "/_standin/stubs", json!({"answer": {}}))
            .await,
        400,
    )
    .await;
}

#[tokio::test]
async fn a_stub_can_drop_the_connection_unanswered() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = spawn(LIBRARY);
    app.server
        .stub(
            serde_json::from_value(json!({
                "request": {"path": "/api/books/1"},
                "response": {"drop_connection": true},
                "times": 1
            }))
            .unwrap(),
        )
        .unwrap();
    let address = app
        .server
        .url()
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let mut connection = tokio::net::TcpStream::connect(&address).await.unwrap();
    connection
        .write_all(format!("GET /api/books/1 HTTP/1.1\r\nHost: {address}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut answer = Vec::new();
    // Closed (an end of file, or a reset: either way) with not a byte of an answer.
    let _ = connection.read_to_end(&mut answer).await;
    assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
    // Used up: the next request is answered as the spec says.
    assert_eq!(app.get("/books/1").await.status(), 200);
}

#[tokio::test]
async fn a_stub_or_a_request_pattern_must_be_a_json_object() {
    // serde reads a struct from an array of its fields: `[]` was a stub
    // matching every request.
    let app = spawn(LIBRARY);
    for path in ["/_standin/stubs", "/_standin/requests/match"] {
        let body = problem(app.post(path, json!([])).await, 400).await;
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("it must be a JSON object"),
            "{path}: {body}"
        );
    }
    let stubs = json(app.get("/_standin/stubs").await).await;
    assert_eq!(stubs, json!([]), "no stub was added");
}
