//! Who may do what: bearer-token scopes (401, 403) and cross-origin access (CORS).

use crate::helpers::{LIBRARY, header, problem, spawn};
use reqwest::Method;
use serde_json::json;

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
    assert_eq!(vary.matches("Origin").count(), 1, "{vary}");
    // No page of another origin may read the admin API's answers (its
    // refusal of a foreign origin included).
    let admin = app
        .request(Method::GET, "/_standin/health")
        .header("origin", "http://app.example")
        .send()
        .await
        .unwrap();
    assert_eq!(admin.status(), 403);
    let cors: Vec<&str> = admin
        .headers()
        .keys()
        .map(|name| name.as_str())
        .filter(|name| name.starts_with("access-control-"))
        .collect();
    assert!(cors.is_empty(), "{cors:?}");
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
    assert!(header(&response, "access-control-expose-headers").is_none());
    assert_eq!(header(&response, "vary").as_deref(), Some("Accept"));
}

#[tokio::test]
async fn answers_decided_before_the_app_carry_cors_too() {
    // A front end whose test stubs a failure must be able to read it.
    let app = spawn(&format!("{LIBRARY}cors: [https://app.example.com]\n"));
    let stub = json!({
        "request": { "method": "GET", "path": "/api/books/1" },
        "response": { "status": 503, "headers": { "Retry-After": "30" }, "body": { "down": true } }
    });
    assert_eq!(app.post("/_standin/stubs", stub).await.status(), 201);
    let from = |origin: &'static str, path: &'static str| {
        app.request(Method::GET, path)
            .header("origin", origin)
            .header("accept", "application/json")
            .send()
    };
    let stubbed = from("https://app.example.com", "/books/1").await.unwrap();
    assert_eq!(stubbed.status(), 503);
    assert_eq!(
        header(&stubbed, "access-control-allow-origin").as_deref(),
        Some("https://app.example.com")
    );
    // What it was programmed to send is readable, beside the usual.
    let exposed = header(&stubbed, "access-control-expose-headers").unwrap();
    assert!(
        exposed.starts_with("content-range, etag") && exposed.ends_with(", retry-after"),
        "{exposed}"
    );
    assert!(header(&stubbed, "vary").is_some_and(|vary| vary.contains("Origin")));
    assert_eq!(
        stubbed.json::<serde_json::Value>().await.unwrap(),
        json!({ "down": true })
    );
    // As limited as any other answer.
    let foreign = from("https://evil.example", "/books/1").await.unwrap();
    assert_eq!(foreign.status(), 503);
    assert!(header(&foreign, "access-control-allow-origin").is_none());
    // A session refused.
    let refused = app
        .request(Method::GET, "/books")
        .header("origin", "https://app.example.com")
        .header("standin-session", "no spaces")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&refused, "access-control-allow-origin").as_deref(),
        Some("https://app.example.com")
    );
    problem(refused, 400).await;
    // ...but never the admin API's refusal, however its path is spelled.
    let root = app.url("").trim_end_matches("/api").to_string();
    for path in [
        "/api/_standin/health",
        "/api/%5Fstandin/health",
        "/_session/a/api/_standin/health",
    ] {
        let admin = app
            .client
            .get(format!("{root}{path}"))
            .header("origin", "https://app.example.com")
            .header("standin-session", "no spaces")
            .send()
            .await
            .unwrap();
        assert_eq!(admin.status(), 400, "{path}");
        assert!(
            header(&admin, "access-control-allow-origin").is_none(),
            "{path}"
        );
    }
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
