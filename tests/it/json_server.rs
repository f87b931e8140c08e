//! A json-server db.json served the way json-server 0.17 serves it: the
//! import cases serve whole, records come back as stored, json-server's
//! query parameters, routes, writes, headers, `_delay`, forms and CORS.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use standin::{Options, Server, SpecFile};

use crate::helpers::{header, json, problem};

/// A server for a db.json written to a temporary file.
pub struct DbJson {
    pub server: Server,
    pub client: reqwest::Client,
    pub path: PathBuf,
    _directory: tempfile::TempDir,
}

/// The text of one of the copied import cases.
pub fn import_case(name: &str) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/import-cases/dbjson/");
    std::fs::read_to_string(format!("{path}{name}")).expect("the import case is copied into tests/")
}

/// Serves `text` as a db.json file, with options changed by `adjust`.
pub fn serve_with(text: &str, adjust: impl FnOnce(&mut Options)) -> DbJson {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("db.json");
    std::fs::write(&path, text).unwrap();
    let mut options = Options {
        workers: Some(2),
        ..Options::default()
    };
    adjust(&mut options);
    let spec_file = SpecFile::load(&path).unwrap_or_else(|errors| panic!("{errors}"));
    DbJson {
        server: Server::start_with(spec_file, options).expect("the server starts"),
        client: reqwest::Client::new(),
        path,
        _directory: directory,
    }
}

/// Serves `text` as a db.json file.
pub fn serve(text: &str) -> DbJson {
    serve_with(text, |_| {})
}

impl DbJson {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn body(&self, path: &str) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        json(response).await
    }

    pub async fn send(&self, method: Method, path: &str, body: Value) -> reqwest::Response {
        self.client
            .request(method, self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    fn ids(value: &Value) -> Vec<Value> {
        value
            .as_array()
            .unwrap()
            .iter()
            .map(|record| record["id"].clone())
            .collect()
    }
}

const BOOKS: &str = r#"{
  "books": [
    {"id": 1, "title": "Photography basics", "views": 100, "author": {"name": "Zoe"}},
    {"id": 2, "title": "Cooking", "views": 20, "author": {"name": "Adam"}, "tags": ["kitchen"]},
    {"id": 3, "title": "Gardening", "author": {"name": "Mia"}}
  ],
  "reviews": [
    {"id": 1, "bookId": 1, "stars": 5},
    {"id": 2, "bookId": 1, "stars": 3},
    {"id": 3, "bookId": 2, "stars": 4}
  ],
  "profile": {"name": "typicode"}
}"#;

#[actix_web::test]
async fn every_import_case_serves_whole() {
    for name in [
        "json-server-0.17.4-example.json",
        "json-server-1.0-readme-db.json",
        "json-server-1.0-fixtures-db.json",
        "confusion-react-db.json",
    ] {
        let text = import_case(name);
        let app = serve_with(&text, |options| options.write_back = false);
        let mut expected: Value = serde_json::from_str(&text).unwrap();
        expected.as_object_mut().unwrap().remove("$schema");
        assert_eq!(app.body("/db").await, expected, "{name}: GET /db");
        for (key, value) in expected.as_object().unwrap() {
            assert_eq!(
                &app.body(&format!("/{key}")).await,
                value,
                "{name}: GET /{key}"
            );
            if let Some(first) = value.as_array().and_then(|records| records.first()) {
                let id = first["id"].to_string().trim_matches('"').to_string();
                assert_eq!(
                    &app.body(&format!("/{key}/{id}")).await,
                    first,
                    "{name}: /{key}/{id}"
                );
            }
        }
    }
}

#[actix_web::test]
async fn ids_from_zero_and_dish_id_references_work() {
    let app = serve_with(&import_case("confusion-react-db.json"), |options| {
        options.write_back = false
    });
    let dish = app.body("/dishes/0?_embed=comments").await;
    assert_eq!(dish["name"], "Uthappizza");
    assert!(
        dish["comments"]
            .as_array()
            .unwrap()
            .iter()
            .all(|comment| comment["dishId"] == 0)
    );
    let nested = app.body("/dishes/0/comments").await;
    assert_eq!(nested, dish["comments"]);
    let comment = app.body("/comments/0?_expand=dish").await;
    assert_eq!(comment["dish"]["id"], 0);
    let created = app
        .send(Method::POST, "/dishes/0/comments", json!({"rating": 2}))
        .await;
    assert_eq!(created.status(), 201);
    let created = json(created).await;
    assert_eq!(created["dishId"], json!(0));
    assert_eq!(created["id"], json!(21));
}

#[actix_web::test]
async fn records_come_back_exactly_as_stored() {
    let app = serve(BOOKS);
    let created = app
        .send(Method::POST, "/books", json!({"title": "New"}))
        .await;
    assert_eq!(created.status(), 201);
    assert_eq!(header(&created, "location"), Some(app.url("/books/4")));
    assert_eq!(json(created).await, json!({"title": "New", "id": 4}));
    assert_eq!(app.body("/books/4").await, json!({"title": "New", "id": 4}));
    assert_eq!(
        app.body("/books/3").await,
        json!({"id": 3, "title": "Gardening", "author": {"name": "Mia"}})
    );
}

#[actix_web::test]
async fn lists_are_whole_unless_a_window_or_page_is_asked_for() {
    let records: Vec<Value> = (1..=25).map(|id| json!({"id": id, "n": id % 3})).collect();
    let app = serve(&json!({"items": records}).to_string());
    let all = app.get("/items").await;
    assert_eq!(header(&all, "x-total-count"), None);
    assert_eq!(json(all).await.as_array().unwrap().len(), 25);
    let page = app.get("/items?_page=2").await;
    assert_eq!(header(&page, "x-total-count").as_deref(), Some("25"));
    let link = header(&page, "link").unwrap();
    for rel in ["first", "prev", "next", "last"] {
        assert!(link.contains(&format!("rel=\"{rel}\"")), "{link}");
    }
    assert!(link.contains("_page=3>; rel=\"next\""), "{link}");
    assert_eq!(
        DbJson::ids(&json(page).await),
        (11..=20).map(Value::from).collect::<Vec<_>>()
    );
    let limited = app.body("/items?_limit=200").await;
    assert_eq!(limited.as_array().unwrap().len(), 25);
    let window = app.get("/items?_start=20&_end=30").await;
    assert_eq!(header(&window, "x-total-count").as_deref(), Some("25"));
    assert_eq!(
        DbJson::ids(&json(window).await),
        (21..=25).map(Value::from).collect::<Vec<_>>()
    );
    let sliced = app.body("/items?_start=5&_limit=2").await;
    assert_eq!(DbJson::ids(&sliced), [json!(6), json!(7)]);
}

#[actix_web::test]
async fn filters_search_and_sort_as_json_server_does() {
    let app = serve(BOOKS);
    let ids = |value: Value| DbJson::ids(&value);
    // A parameter no record has is dropped, as json-server drops it.
    assert_eq!(ids(app.body("/books?nosuch=1").await).len(), 3);
    assert_eq!(ids(app.body("/books?_=1712345&callback=cb").await).len(), 3);
    assert_eq!(ids(app.body("/books?views=100").await), [json!(1)]);
    assert_eq!(ids(app.body("/books?views=999").await), Vec::<Value>::new());
    assert_eq!(
        ids(app.body("/books?title_like=^cook&title_like=garden").await),
        [json!(2), json!(3)]
    );
    assert_eq!(ids(app.body("/books?q=graph&q=cooking").await), [json!(1)]);
    assert_eq!(ids(app.body("/books?q=kitch").await), [json!(2)]);
    assert_eq!(ids(app.body("/books?q=adam").await), [json!(2)]);
    assert_eq!(ids(app.body("/books?author.name=Mia").await), [json!(3)]);
    assert_eq!(
        ids(app.body("/books?_sort=author.name").await),
        [json!(2), json!(3), json!(1)]
    );
    assert_eq!(
        ids(app.body("/books?_sort=views&_order=desc").await),
        [json!(3), json!(1), json!(2)]
    );
    assert_eq!(ids(app.body("/books?views_gte=50").await), [json!(1)]);
    assert_eq!(ids(app.body("/books?views_ne=20").await), [json!(1)]);
    let bad = app.get("/books?title_like=(").await;
    let body = problem(bad, 400).await;
    assert!(body.to_string().contains("title_like"), "{body}");
}

#[actix_web::test]
async fn writes_answer_as_json_server_does() {
    let app = serve(BOOKS);
    let deleted = app.send(Method::DELETE, "/books/1", json!(null)).await;
    assert_eq!(deleted.status(), 200);
    assert_eq!(json(deleted).await, json!({}));
    // Its reviews go with it, as json-server removes dependants.
    assert_eq!(DbJson::ids(&app.body("/reviews").await), [json!(3)]);
    assert_eq!(
        app.send(Method::PUT, "/books/99", json!({"title": "x"}))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.send(Method::PATCH, "/books/99", json!({"title": "x"}))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.send(Method::DELETE, "/books/99", json!(null))
            .await
            .status(),
        404
    );
    let patched = json(
        app.send(Method::PATCH, "/books/2", json!({"views": 21, "id": 7}))
            .await,
    )
    .await;
    assert_eq!(patched["views"], 21);
    assert_eq!(patched["id"], 2);
    assert_eq!(patched["tags"], json!(["kitchen"]));
    let replaced = json(
        app.send(Method::PUT, "/books/2", json!({"title": "Baking"}))
            .await,
    )
    .await;
    assert_eq!(replaced, json!({"title": "Baking", "id": 2}));
    let created = json(
        app.send(Method::POST, "/books/2/reviews", json!({"stars": 1}))
            .await,
    )
    .await;
    assert_eq!(
        (created["bookId"].clone(), created["id"].clone()),
        (json!(2), json!(4))
    );
}

#[actix_web::test]
async fn string_ids_stay_strings_and_new_ones_are_random_strings() {
    let app = serve_with(
        &import_case("json-server-1.0-fixtures-db.json"),
        |options| {
            options.write_back = false;
        },
    );
    let created = json(
        app.send(Method::POST, "/posts", json!({"title": "t"}))
            .await,
    )
    .await;
    let id = created["id"].as_str().expect("a string id");
    assert_eq!(id.len(), 7);
    assert_eq!(app.body(&format!("/posts/{id}")).await, created);
    let comment = json(
        app.send(Method::POST, "/posts/1/comments", json!({"text": "c"}))
            .await,
    )
    .await;
    assert_eq!(comment["postId"], json!("1"));
    assert_eq!(
        app.body("/posts/1/comments")
            .await
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[actix_web::test]
async fn the_singular_resource_reads_and_changes_whole() {
    let app = serve(BOOKS);
    assert_eq!(app.body("/profile").await, json!({"name": "typicode"}));
    let patched = json(app.send(Method::PATCH, "/profile", json!({"age": 3})).await).await;
    assert_eq!(patched, json!({"name": "typicode", "age": 3}));
    let replaced = json(
        app.send(Method::PUT, "/profile", json!({"name": "x"}))
            .await,
    )
    .await;
    assert_eq!(replaced, json!({"name": "x"}));
    assert_eq!(app.body("/profile").await, json!({"name": "x"}));
    assert_eq!(
        app.send(Method::DELETE, "/profile", json!(null))
            .await
            .status(),
        405
    );
}

#[actix_web::test]
async fn db_delay_forms_and_cors_as_json_server_does() {
    let app = serve(BOOKS);
    let db = app.body("/db").await;
    assert_eq!(db["profile"], json!({"name": "typicode"}));
    assert_eq!(db["books"].as_array().unwrap().len(), 3);
    let started = Instant::now();
    app.body("/books/1?_delay=300").await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    let form = app
        .client
        .post(app.url("/books"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("title=Form+book&tag=a&tag=b")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 201);
    assert_eq!(
        json(form).await,
        json!({"title": "Form book", "tag": ["a", "b"], "id": 4})
    );
    let cors = app
        .client
        .get(app.url("/books"))
        .header("origin", "http://app.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&cors, "access-control-allow-origin").as_deref(),
        Some("http://app.example")
    );
    assert_eq!(
        header(&cors, "access-control-allow-credentials").as_deref(),
        Some("true")
    );
    let preflight = app
        .client
        .request(Method::OPTIONS, app.url("/books/1"))
        .header("origin", "http://app.example")
        .header("access-control-request-method", "DELETE")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    assert_eq!(
        header(&preflight, "access-control-allow-origin").as_deref(),
        Some("http://app.example")
    );
    let invalid = app
        .client
        .post(app.url("/books"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    problem(invalid, 400).await;
    // A stub programmed for a preflight answers it as programmed.
    let stub = json!({
        "request": { "method": "OPTIONS", "path": "/books" },
        "response": { "status": 418 },
        "times": 1
    });
    assert_eq!(
        app.send(Method::POST, "/_standin/stubs", stub)
            .await
            .status(),
        201
    );
    let stubbed = app
        .client
        .request(Method::OPTIONS, app.url("/books"))
        .header("origin", "http://app.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(stubbed.status(), 418);
}

#[actix_web::test]
async fn what_cannot_be_mapped_is_left_out_and_the_rest_serves() {
    let app = serve(
        r#"{"posts": [{"id": 1}, 7, {"id": 1}, {"title": "no id"}], "bad name": [], "tags": []}"#,
    );
    assert_eq!(
        app.body("/posts").await,
        json!([{"id": 1}, {"title": "no id", "id": 2}])
    );
    assert_eq!(app.body("/tags").await, json!([]));
    let created = json(app.send(Method::POST, "/tags", json!({"label": "x"})).await).await;
    assert_eq!(created, json!({"label": "x", "id": 1}));
}

#[test]
fn standin_specs_keep_their_own_behaviour() {
    let spec = standin::parse(
        "spec.yaml",
        "standin: 1\nresources:\n  books:\n    fields: { title: string }\n",
    )
    .unwrap();
    assert_eq!(spec.kind(), standin::SpecKind::Standin);
    let db = standin::parse("db.json", BOOKS).unwrap();
    assert_eq!(db.kind(), standin::SpecKind::DbJson);
}
