//! Bad input never panics and never answers 500: each case is a precise 4xx
//! problem, and the server keeps serving afterwards.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{LIBRARY, error_fields, header, json, problem, spawn};

async fn post_raw(app: &crate::helpers::TestApp, body: Vec<u8>) -> reqwest::Response {
    app.request(Method::POST, "/books")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn malformed_json_is_400() {
    let app = spawn(LIBRARY);
    let body = problem(post_raw(&app, b"{\"title\": ".to_vec()).await, 400).await;
    assert!(
        body["detail"].as_str().unwrap().contains("not valid JSON"),
        "{body}"
    );
}

#[tokio::test]
async fn a_body_that_is_not_an_object_is_400() {
    let app = spawn(LIBRARY);
    for body in ["[1, 2]", "\"text\"", "42", "null", ""] {
        problem(post_raw(&app, body.as_bytes().to_vec()).await, 400).await;
    }
}

#[tokio::test]
async fn invalid_utf8_is_400() {
    let app = spawn(LIBRARY);
    problem(
        post_raw(&app, b"{\"title\": \"\xff\xfe\", \"author\": 1}".to_vec()).await,
        400,
    )
    .await;
}

#[tokio::test]
async fn deep_nesting_is_400() {
    let app = spawn(LIBRARY);
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let body = format!("{{\"title\": \"x\", \"author\": 1, \"tags\": {deep}}}");
    problem(post_raw(&app, body.into_bytes()).await, 400).await;
}

#[tokio::test]
async fn huge_numbers_are_400() {
    let app = spawn(LIBRARY);
    for year in ["1e400", "99999999999999999999999", "-1e300"] {
        let body = format!("{{\"title\": \"x\", \"author\": 1, \"year\": {year}}}");
        problem(post_raw(&app, body.into_bytes()).await, 400).await;
    }
}

#[tokio::test]
async fn every_invalid_field_is_listed() {
    let app = spawn(LIBRARY);
    let response = app
        .post(
            "/books",
            json!({ "year": "old", "genre": "poetry", "colour": "red", "tags": [1] }),
        )
        .await;
    let body = problem(response, 400).await;
    let mut fields = error_fields(&body);
    fields.sort();
    assert_eq!(
        fields,
        ["author", "colour", "genre", "tags/0", "title", "year"],
        "{body}"
    );
}

#[tokio::test]
async fn integral_floats_are_valid_integers() {
    let app = spawn(LIBRARY);
    let response = app
        .post(
            "/books",
            json!({ "title": "x", "author": 1.0, "year": 1982.0 }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let body = json(response).await;
    assert_eq!(body["year"].to_string(), "1982");
    let response = app
        .post(
            "/books",
            json!({ "title": "x", "author": 1, "year": 1982.5 }),
        )
        .await;
    assert_eq!(error_fields(&problem(response, 400).await), ["year"]);
}

#[tokio::test]
async fn sql_looking_strings_are_just_strings() {
    let app = spawn(LIBRARY);
    let title = "x'); DROP TABLE \"res_books\"; --";
    let response = app
        .post("/books", json!({ "title": title, "author": 1 }))
        .await;
    assert_eq!(response.status(), 201);
    let id = json(response).await["id"].as_i64().unwrap();
    assert_eq!(
        json(app.get(&format!("/books/{id}")).await).await["title"],
        title
    );
    let response = app.get("/books/1%27%20OR%201=1").await;
    problem(response, 404).await;
    assert_eq!(app.get("/books").await.status(), 200);
}

#[tokio::test]
async fn ids_of_the_wrong_type_are_404() {
    let app = spawn(LIBRARY);
    for id in ["abc", "0", "-1", "1.5", "01", "99999999999999999999999"] {
        let body = problem(app.get(&format!("/books/{id}")).await, 404).await;
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("positive integers"),
            "{id}: {body}"
        );
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let app = spawn(LIBRARY);
    let title = "x".repeat(1_100_000);
    let response = app
        .post("/books", json!({ "title": title, "author": 1 }))
        .await;
    problem(response, 413).await;
    assert_eq!(
        app.get("/books/1").await.status(),
        200,
        "the server keeps serving"
    );
}

#[tokio::test]
async fn an_unsupported_content_type_is_415_with_accept_post() {
    let app = spawn(LIBRARY);
    let response = app
        .request(Method::POST, "/books")
        .header("content-type", "text/plain")
        .body("title=x")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&response, "accept-post").as_deref(),
        Some("application/json, application/vnd.collection+json")
    );
    problem(response, 415).await;
    let response = app
        .request(Method::PATCH, "/books/1")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("title=x")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&response, "accept-patch").as_deref(),
        Some("application/merge-patch+json, application/json-patch+json, application/json")
    );
    problem(response, 415).await;
}

#[tokio::test]
async fn an_unacceptable_accept_is_406_listing_what_is_available() {
    let app = spawn(LIBRARY);
    let response = app
        .request(Method::GET, "/books")
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    let body = problem(response, 406).await;
    assert_eq!(
        body["available"],
        json!([
            "application/hal+json",
            "application/json",
            "application/vnd.collection+json",
            "text/html"
        ])
    );
}

#[tokio::test]
async fn bad_paging_parameters_are_400_naming_the_parameter() {
    let app = spawn(LIBRARY);
    for (query, parameter) in [
        ("page=0", "page"),
        ("page=x", "page"),
        ("per_page=101", "per_page"),
        ("per_page=-1", "per_page"),
        ("pagesize=5", "pagesize"),
    ] {
        let body = problem(app.get(&format!("/books?{query}")).await, 400).await;
        assert_eq!(body["parameter"], parameter, "{query}: {body}");
    }
    let body = problem(app.get("/books?pge=2").await, 400).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("did you mean 'page'?"),
        "{body}"
    );
}

#[tokio::test]
async fn an_unparsable_accept_is_406() {
    let app = spawn(LIBRARY);
    for accept in ["json", "application/json;q=2"] {
        let response = app
            .request(Method::GET, "/books/1")
            .header("accept", accept)
            .send()
            .await
            .unwrap();
        problem(response, 406).await;
    }
}

#[tokio::test]
async fn writes_with_query_parameters_are_400_like_reads() {
    let app = spawn(LIBRARY);
    let before = json(app.get_json("/books?per_page=100").await).await;
    let book = json!({ "title": "Queried", "author": 1 });
    for (method, path) in [
        (Method::POST, "/books?foo=1"),
        (Method::PUT, "/books/1?foo=1"),
        (Method::PATCH, "/books/1?foo=1"),
        (Method::DELETE, "/books/2?foo=1"),
    ] {
        let response = app.send_json(method.clone(), path, book.clone()).await;
        let body = problem(response, 400).await;
        assert_eq!(body["parameter"], "foo", "{method} {path}");
    }
    assert_eq!(
        json(app.get_json("/books?per_page=100").await).await,
        before
    );
}
