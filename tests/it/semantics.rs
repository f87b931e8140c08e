//! HTTP done right: conditional requests, JSON Patch, redirects of moved
//! paths, state transitions, auth, fault injection, CORS settings.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{LIBRARY, Storage, error_fields, header, json, problem, spawn, spawn_with};

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

#[tokio::test]
async fn moved_paths_redirect_to_the_new_collection() {
    let spec = LIBRARY.replace(
        "    count: 25\n",
        "    count: 25\n    moved_from: [/volumes, /old/books]\n",
    );
    let app = spawn(&spec);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (old, new) in [
        ("/volumes", "/api/books"),
        ("/volumes/7?embed=author", "/api/books/7?embed=author"),
        ("/old/books?page=2", "/api/books?page=2"),
    ] {
        let response = client.get(app.url(old)).send().await.unwrap();
        assert_eq!(response.status(), 301, "{old}");
        assert_eq!(header(&response, "location").as_deref(), Some(new));
    }
    assert_eq!(
        client
            .get(app.url("/volumesx"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

const ORDERS: &str = r#"
standin: 1
resources:
  orders:
    fields:
      status: { type: string, enum: [pending, paid, shipped, cancelled], default: pending }
      note: string
    transitions:
      status: { pending: [paid, cancelled], paid: [shipped, cancelled] }
    records: [{ note: first }]
"#;

#[tokio::test]
async fn transitions_allow_only_the_listed_changes() {
    for storage in Storage::BOTH {
        let app = spawn_with(ORDERS, storage);
        let response = app
            .send_json(Method::PATCH, "/orders/1", json!({ "status": "shipped" }))
            .await;
        let body = problem(response, 409).await;
        let detail = body["detail"].as_str().unwrap();
        assert!(
            detail.contains("from 'pending' it may change to paid, cancelled"),
            "{detail}"
        );
        assert_eq!(error_fields(&body), ["status"]);
        assert_eq!(
            app.send_json(Method::PATCH, "/orders/1", json!({ "status": "paid" }))
                .await
                .status(),
            200
        );
        assert_eq!(
            app.send_json(
                Method::PATCH,
                "/orders/1",
                json!({ "note": "other fields change freely" })
            )
            .await
            .status(),
            200
        );
        let response = app
            .send_json(Method::PUT, "/orders/1", json!({ "status": "pending" }))
            .await;
        problem(response, 409).await;
        assert_eq!(
            app.send_json(Method::PUT, "/orders/1", json!({ "status": "shipped" }))
                .await
                .status(),
            200
        );
        let body = problem(
            app.send_json(Method::PATCH, "/orders/1", json!({ "status": "paid" }))
                .await,
            409,
        )
        .await;
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("'shipped' is final"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_record_starts_in_an_initial_state_the_first_by_default() {
    let app = spawn(ORDERS);
    let created = app.post("/orders", json!({ "note": "new" })).await;
    assert_eq!(created.status(), 201);
    assert_eq!(json(created).await["status"], "pending");
    for path in ["/orders"] {
        let body = problem(app.post(path, json!({ "status": "shipped" })).await, 409).await;
        assert_eq!(error_fields(&body), ["status"]);
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("a record starts as pending"),
            "{body}"
        );
    }
    // A record without a state may take only an initial one.
    let spec = ORDERS.replace(", default: pending }", " }");
    let app = spawn(&spec);
    let bare = json(app.post("/orders", json!({ "note": "bare" })).await).await;
    let path = format!("/orders/{}", bare["id"]);
    problem(
        app.send_json(Method::PATCH, &path, json!({ "status": "paid" }))
            .await,
        409,
    )
    .await;
    let response = app
        .send_json(Method::PATCH, &path, json!({ "status": "pending" }))
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn initial_states_can_be_listed_and_generated_records_are_in_reachable_states() {
    let spec = ORDERS
        .replace(
            "status: { pending: [paid, cancelled], paid: [shipped, cancelled] }",
            "status: { pending: [paid, cancelled], paid: [shipped], held: [cancelled] }\n    initial_states: { status: [pending, paid] }",
        )
        .replace("[pending, paid, shipped, cancelled]", "[pending, paid, shipped, cancelled, held]")
        .replace("records: [{ note: first }]", "count: 60");
    let app = spawn(&spec);
    assert_eq!(
        app.post("/orders", json!({ "status": "paid" }))
            .await
            .status(),
        201
    );
    let body = problem(app.post("/orders", json!({ "status": "held" })).await, 409).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("a record starts as pending or paid"),
        "{body}"
    );
    // `held` is a state, but no record can reach it: none is generated in it.
    let orders = json(app.get_json("/orders?per_page=100").await).await;
    let states: std::collections::BTreeSet<&str> = orders
        .as_array()
        .unwrap()
        .iter()
        .map(|order| order["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        states.into_iter().collect::<Vec<_>>(),
        ["cancelled", "paid", "pending", "shipped"]
    );
}

#[test]
fn initial_states_are_checked_against_the_transitions_and_the_default() {
    let spec = ORDERS.replace(
        "    records: [{ note: first }]",
        "    initial_states: { status: [paid, shiped] }\n    records: [{ note: first }]",
    );
    let errors = standin::spec::parse("t.yaml", &spec)
        .unwrap_err()
        .to_string();
    assert!(
        errors.contains("'shiped' is not a state of status's transitions"),
        "{errors}"
    );
    assert!(errors.contains("did you mean 'shipped'?"), "{errors}");
    assert!(
        errors.contains("its default 'pending' is not a state a record may start in (paid)"),
        "{errors}"
    );
}

#[test]
fn transitions_are_checked_against_the_field() {
    let errors = standin::spec::parse("t.yaml", &ORDERS.replace("paid: [shipped", "paid: [shiped"))
        .unwrap_err();
    assert!(
        errors
            .to_string()
            .contains("'shiped' is not one of the field's values"),
        "{errors}"
    );
    assert!(
        errors.to_string().contains("did you mean 'shipped'?"),
        "{errors}"
    );
}

const SECURED: &str = r#"
standin: 1
auth:
  tokens: { admin-secret: [read, write, admin], writer-secret: [read, write], reader-secret: [read] }
resources:
  notes:
    fields: { text: string }
    count: 2
"#;

#[tokio::test]
async fn auth_answers_401_and_403_by_scope() {
    let app = spawn(SECURED);
    let response = app.get("/notes").await;
    assert_eq!(
        header(&response, "www-authenticate").as_deref(),
        Some("Bearer realm=\"standin\"")
    );
    problem(response, 401).await;
    let unknown = app
        .request(Method::GET, "/notes")
        .bearer_auth("guess")
        .send()
        .await
        .unwrap();
    problem(unknown, 401).await;
    let read = app
        .request(Method::GET, "/notes")
        .bearer_auth("reader-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    let write = app
        .request(Method::POST, "/notes")
        .bearer_auth("reader-secret")
        .json(&json!({ "text": "x" }))
        .send()
        .await
        .unwrap();
    problem(write, 403).await;
    let write = app
        .request(Method::POST, "/notes")
        .bearer_auth("writer-secret")
        .json(&json!({ "text": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(write.status(), 201);
    let admin = app
        .request(Method::GET, "/_standin/health")
        .bearer_auth("writer-secret")
        .send()
        .await
        .unwrap();
    problem(admin, 403).await;
    let admin = app
        .request(Method::GET, "/_standin/requests")
        .bearer_auth("admin-secret")
        .send()
        .await
        .unwrap();
    let journal = admin.text().await.unwrap();
    assert!(
        !journal.contains("secret"),
        "tokens never reach the journal: {journal}"
    );
}

#[tokio::test]
async fn anonymous_scopes_open_reads() {
    let app = spawn(&SECURED.replace("  tokens:", "  anonymous: [read]\n  tokens:"));
    assert_eq!(app.get("/notes").await.status(), 200);
    problem(app.post("/notes", json!({ "text": "x" })).await, 401).await;
}

#[tokio::test]
async fn prefer_status_injects_that_status() {
    let app = spawn(LIBRARY);
    for (preference, status) in [
        ("status=503", 503),
        ("code=404", 404),
        ("return=minimal, status=500", 500),
    ] {
        let response = app
            .request(Method::GET, "/books/1")
            .header("prefer", preference)
            .send()
            .await
            .unwrap();
        let body = problem(response, status).await;
        assert_eq!(body["type"], "urn:standin:problem:injected");
    }
    let response = app
        .request(Method::GET, "/books/1")
        .header("prefer", "status=200")
        .send()
        .await
        .unwrap();
    problem(response, 400).await;
}

#[tokio::test]
async fn error_rate_fails_a_seeded_share_of_requests() {
    let spec = "standin: 1\nseed: 5\nresources:\n  notes:\n    fields: { text: string }\n    count: 1\n    error_rate: 0.5\n    latency: 1ms..3ms\n";
    let pattern = |app: crate::helpers::TestApp| async move {
        let mut statuses = Vec::new();
        for _ in 0..40 {
            statuses.push(app.get("/notes/1").await.status().as_u16());
        }
        statuses
    };
    let first = pattern(spawn(spec)).await;
    let second = pattern(spawn(spec)).await;
    assert_eq!(first, second, "the same seed fails the same requests");
    let failures = first.iter().filter(|status| **status == 500).count();
    assert!((5..=35).contains(&failures), "{failures} of 40 failed");
    assert!(first.iter().all(|status| *status == 200 || *status == 500));
}

#[tokio::test]
async fn cors_headers_are_deterministic_and_vary_names_preflight_headers_only_on_preflights() {
    let app = spawn(LIBRARY);
    let plain = app.get("/books/1").await;
    let vary = header(&plain, "vary").unwrap();
    assert!(!vary.contains("Access-Control-Request"), "{vary}");
    assert!(vary.contains("Accept") && vary.contains("Origin"), "{vary}");
    let mut exposed = Vec::new();
    for _ in 0..6 {
        let response = app
            .request(Method::GET, "/books/1")
            .header("origin", "http://app.example")
            .send()
            .await
            .unwrap();
        exposed.push(header(&response, "access-control-expose-headers").unwrap());
    }
    assert_eq!(
        exposed[0],
        "content-range, etag, last-modified, link, location, preference-applied, x-total-count"
    );
    assert!(
        exposed.iter().all(|value| value == &exposed[0]),
        "{exposed:?}"
    );
    let preflight = app
        .request(Method::OPTIONS, "/books/1")
        .header("origin", "http://app.example")
        .header("access-control-request-method", "PATCH")
        .send()
        .await
        .unwrap();
    let vary = header(&preflight, "vary").unwrap();
    assert!(vary.contains("Access-Control-Request-Method"), "{vary}");
}

#[tokio::test]
async fn cors_can_be_limited_to_origins() {
    let app = spawn(&format!("{LIBRARY}cors: [https://app.example.com]\n"));
    let allowed = app
        .request(Method::GET, "/books")
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&allowed, "access-control-allow-origin").as_deref(),
        Some("https://app.example.com")
    );
    let other = app
        .request(Method::GET, "/books")
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(header(&other, "access-control-allow-origin").is_none());
    let off = spawn(&format!("{LIBRARY}cors: false\n"));
    let response = off
        .request(Method::GET, "/books")
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert!(header(&response, "access-control-allow-origin").is_none());
}

#[tokio::test]
async fn an_async_resource_answers_202_then_its_monitor_303() {
    // `reports` stays pending for the whole test; `exports` ends at once.
    let spec = "standin: 1\nresources:\n  reports:\n    fields: { name: { type: string, required: true } }\n    async: 60s\n  exports:\n    fields: { name: { type: string, required: true } }\n    async: 10ms\n";
    let app = spawn(spec);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = app.post("/reports", json!({ "name": "quarterly" })).await;
    assert_eq!(response.status(), 202);
    let monitor = header(&response, "location").unwrap();
    assert!(monitor.starts_with("/_jobs/"), "{monitor}");
    let origin = app.url("");
    let pending = client
        .get(format!("{origin}{monitor}"))
        .send()
        .await
        .unwrap();
    assert_eq!(pending.status(), 200);
    assert!(header(&pending, "retry-after").is_some());
    assert_eq!(json(pending).await["status"], "pending");
    let response = app.post("/exports", json!({ "name": "quarterly" })).await;
    assert_eq!(response.status(), 202);
    let monitor = header(&response, "location").unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let done = loop {
        let response = client
            .get(format!("{origin}{monitor}"))
            .send()
            .await
            .unwrap();
        if response.status() == 303 {
            break response;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the job never finished"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(header(&done, "location").as_deref(), Some("/exports/1"));
    assert_eq!(json(app.get("/exports/1").await).await["name"], "quarterly");
    assert_eq!(app.get("/reports/1").await.status(), 404, "still pending");
    problem(app.post("/reports", json!({})).await, 400).await;
    problem(
        client
            .get(format!("{origin}/_jobs/999"))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
}

#[tokio::test]
async fn a_preflight_is_answered_with_the_methods_the_route_allows() {
    let spec = "standin: 1\nauth:\n  tokens: { t: [read] }\nresources:\n  logs:\n    fields: { line: string }\n    methods: [GET, POST]\n";
    let app = spawn(spec);
    let preflight = |path: &str| {
        app.request(Method::OPTIONS, path)
            .header("origin", "http://localhost:3000")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type, prefer")
    };
    let response = preflight("/logs").send().await.unwrap();
    assert!(
        response.status().is_success(),
        "preflights need no token: {}",
        response.status()
    );
    assert_eq!(
        header(&response, "access-control-allow-methods").as_deref(),
        Some("GET, HEAD, POST, OPTIONS")
    );
    assert_eq!(
        header(&response, "access-control-allow-origin").as_deref(),
        Some("*")
    );
    assert!(
        header(&response, "access-control-allow-headers")
            .unwrap()
            .contains("Prefer")
    );
    let response = preflight("/logs/1").send().await.unwrap();
    assert_eq!(
        header(&response, "access-control-allow-methods").as_deref(),
        Some("GET, HEAD, OPTIONS")
    );
}

#[tokio::test]
async fn options_names_the_accepted_bodies() {
    let app = spawn(LIBRARY);
    let item = app
        .request(Method::OPTIONS, "/books/1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&item, "accept-patch").as_deref(),
        Some("application/merge-patch+json, application/json-patch+json, application/json")
    );
    let collection = app.request(Method::OPTIONS, "/books").send().await.unwrap();
    assert_eq!(
        header(&collection, "accept-post").as_deref(),
        Some("application/json, application/vnd.collection+json")
    );
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
async fn a_collection_json_item_is_a_collection_of_one() {
    let app = spawn(LIBRARY);
    let response = app
        .request(Method::GET, "/books/2")
        .header("accept", "application/vnd.collection+json")
        .send()
        .await
        .unwrap();
    assert!(header(&response, "etag").is_some());
    let body = json(response).await;
    assert_eq!(body["collection"]["items"].as_array().unwrap().len(), 1);
    assert_eq!(body["collection"]["items"][0]["href"], "/api/books/2");
    assert!(body["collection"]["template"]["data"].is_array());
}

#[tokio::test]
async fn latency_and_error_rate_are_checked_in_the_spec() {
    for (setting, fragment) in [
        ("latency: soon", "is not a duration"),
        ("latency: 200ms..20ms", "start is after its end"),
        ("error_rate: 2", "expected a share from 0 to 1"),
    ] {
        let spec = format!(
            "standin: 1\n{setting}\nresources:\n  notes:\n    fields: {{ text: string }}\n"
        );
        let errors = standin::spec::parse("f.yaml", &spec)
            .unwrap_err()
            .to_string();
        assert!(errors.contains(fragment), "{setting}: {errors}");
    }
    let app = spawn(
        "standin: 1\nlatency: 1ms..2ms\nresources:\n  notes:\n    fields: { text: string }\n    count: 1\n",
    );
    assert_eq!(app.get("/notes/1").await.status(), 200);
}

#[tokio::test]
async fn clearing_a_final_state_is_a_disallowed_transition() {
    let spec = ORDERS.replace("      status: { type: string, enum: [pending, paid, shipped, cancelled], default: pending }", "      status: { type: string, enum: [pending, paid, shipped, cancelled] }");
    let app = spawn(&spec.replace(
        "records: [{ note: first }]",
        "records: [{ note: first, status: shipped }]",
    ));
    problem(
        app.send_json(Method::PATCH, "/orders/1", json!({ "status": null }))
            .await,
        409,
    )
    .await;
    let created = json(app.post("/orders", json!({ "note": "no state yet" })).await).await;
    let path = format!("/orders/{}", created["id"]);
    let skipping = app
        .send_json(Method::PATCH, &path, json!({ "status": "paid" }))
        .await;
    problem(skipping, 409).await;
    let response = app
        .send_json(Method::PATCH, &path, json!({ "status": "pending" }))
        .await;
    assert_eq!(response.status(), 200, "a first state is an initial one");
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

#[tokio::test]
async fn a_resource_can_turn_a_global_error_rate_off() {
    let spec = "standin: 1\nerror_rate: 1\nresources:\n  notes:\n    fields: { text: string }\n    count: 1\n    error_rate: 0\n  tags:\n    fields: { name: string }\n    count: 1\n";
    let app = spawn(spec);
    assert_eq!(app.get("/notes/1").await.status(), 200);
    problem(app.get("/tags/1").await, 500).await;
}

#[tokio::test]
async fn the_description_needs_only_the_read_scope() {
    let app = spawn(SECURED);
    let response = app
        .request(Method::GET, "/_standin/openapi.json")
        .bearer_auth("reader-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}
