//! Custom routes in json-server's routes.json format (`--routes`): requests
//! are served as the URL they are mapped to.

use std::sync::Arc;

use serde_json::json;
use standin::CustomRoutes;

use crate::helpers::{TestApp, header, json, problem, spawn_with_options};

const SPEC: &str = r#"
standin: 1
resources:
  posts:
    fields:
      title: { type: string, required: true }
    records:
      - { id: 1, title: "first" }
      - { id: 2, title: "second" }
  comments:
    fields:
      body: { type: string }
      post: { ref: posts }
    records:
      - { id: 1, body: "nice", post: 1 }
"#;

fn serve(routes: &str) -> TestApp {
    let routes =
        CustomRoutes::parse("routes.json", routes).unwrap_or_else(|errors| panic!("{errors}"));
    spawn_with_options(SPEC, |options| {
        options.custom_routes = Some(Arc::new(routes))
    })
}

#[tokio::test]
async fn a_prefix_is_stripped_with_the_query_kept() {
    let app = serve(r#"{"/api/*": "/$1"}"#);
    let through_api = json(app.get_json("/api/posts?title=second").await).await;
    let direct = json(app.get_json("/posts?title=second").await).await;
    assert_eq!(through_api, direct);
    assert_eq!(through_api.as_array().map(Vec::len), Some(1));
    let created = app.post("/api/posts", json!({"title": "third"})).await;
    assert_eq!(created.status(), 201);
    assert_eq!(json(app.get_json("/posts/3").await).await["title"], "third");
}

#[tokio::test]
async fn parameters_move_into_the_served_url() {
    let app = serve(
        r#"{"/blog/:resource/:id/show": "/:resource/:id", "/posts/:id/notes": "/posts/$1/comments"}"#,
    );
    let post = json(app.get_json("/blog/posts/2/show").await).await;
    assert_eq!(post["title"], "second");
    let comments = json(app.get_json("/posts/1/notes").await).await;
    assert_eq!(comments[0]["body"], "nice");
    // A URL no rule matches is served as sent.
    assert_eq!(app.get_json("/posts/1").await.status(), 200);
}

#[tokio::test]
async fn the_rules_are_listed_as_json_server_lists_them() {
    let app = serve(r#"{"/api/*": "/$1"}"#);
    let rules = json(app.get("/__rules").await).await;
    assert_eq!(rules, json!({"/api/*": "/$1"}));
}

#[tokio::test]
async fn the_admin_api_is_never_rewritten_and_the_journal_keeps_the_sent_url() {
    let app = serve(r#"{"/*": "/posts"}"#);
    assert_eq!(app.get("/_standin/health").await.status(), 200);
    assert_eq!(app.get_json("/anything").await.status(), 200);
    let received = app.server.received_requests();
    let paths: Vec<&str> = received.iter().map(|entry| entry.path.as_str()).collect();
    assert!(paths.contains(&"/anything"), "{paths:?}");
}

#[tokio::test]
async fn a_rewrite_that_explodes_is_refused() {
    let app = serve(r#"{"/x/*": "/$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1"}"#);
    let long = format!("/x/{}", "a".repeat(1000));
    let body = problem(app.get_json(&long).await, 400).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("custom routes"),
        "{body}"
    );
}

#[tokio::test]
async fn what_the_routes_answer_themselves_passes_through_cors() {
    let app = serve(r#"{"/x/*": "/$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1"}"#);
    let from_a_page = |path: &str| {
        app.request(reqwest::Method::GET, path)
            .header("Origin", "http://localhost:5173")
            .header("Accept", "application/json")
            .send()
    };
    let rules = from_a_page("/__rules").await.expect("the rules");
    assert_eq!(rules.status(), 200);
    assert_eq!(
        header(&rules, "access-control-allow-origin").as_deref(),
        Some("*")
    );
    let refused = from_a_page(&format!("/x/{}", "a".repeat(1000)))
        .await
        .expect("an answer");
    assert_eq!(
        header(&refused, "access-control-allow-origin").as_deref(),
        Some("*")
    );
    problem(refused, 400).await;
}
