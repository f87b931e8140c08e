//! Representations chosen by `Accept`: HAL by default, plain JSON with bare
//! arrays, pagination links in bodies and headers, and the home document.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{LIBRARY, header, json, spawn};

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap()
}

#[tokio::test]
async fn a_hal_item_links_itself_its_collection_and_its_references() {
    let app = spawn(LIBRARY);
    let body = json(app.get("/books/1").await).await;
    insta::assert_snapshot!("hal_item", pretty(&body));
}

#[tokio::test]
async fn a_hal_page_has_paging_links_counts_and_embedded_items() {
    let app = spawn(LIBRARY);
    let response = app.get("/books?page=2&per_page=5").await;
    assert_eq!(header(&response, "x-total-count").as_deref(), Some("25"));
    let body = json(response).await;
    assert_eq!(body["total"], 25);
    assert_eq!(body["page"], 2);
    assert_eq!(body["per_page"], 5);
    assert_eq!(body["pages"], 5);
    assert_eq!(
        body["_links"]["self"]["href"],
        "/api/books?page=2&per_page=5"
    );
    assert_eq!(
        body["_links"]["prev"]["href"],
        "/api/books?page=1&per_page=5"
    );
    assert_eq!(
        body["_links"]["next"]["href"],
        "/api/books?page=3&per_page=5"
    );
    assert_eq!(
        body["_links"]["last"]["href"],
        "/api/books?page=5&per_page=5"
    );
    assert_eq!(
        body["_links"]["find"],
        json!({ "href": "/api/books/{id}", "templated": true })
    );
    let items = body["_embedded"]["books"].as_array().unwrap();
    let ids: Vec<i64> = items
        .iter()
        .map(|item| item["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [6, 7, 8, 9, 10]);
}

#[tokio::test]
async fn the_first_page_has_no_prev_and_the_last_no_next() {
    let app = spawn(LIBRARY);
    let first = json(app.get("/books?per_page=10").await).await;
    assert!(first["_links"].get("prev").is_none());
    assert!(first["_links"].get("next").is_some());
    let last = json(app.get("/books?page=3&per_page=10").await).await;
    assert!(last["_links"].get("next").is_none());
    assert_eq!(last["_embedded"]["books"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn a_page_past_the_last_is_200_and_empty() {
    let app = spawn(LIBRARY);
    let response = app.get_json("/books?page=99").await;
    assert_eq!(response.status(), 200);
    assert_eq!(json(response).await, json!([]));
}

#[tokio::test]
async fn plain_json_pages_are_bare_arrays_with_link_and_total_headers() {
    let app = spawn(LIBRARY);
    let response = app.get_json("/books?page=2&per_page=10").await;
    assert_eq!(
        header(&response, "content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(header(&response, "x-total-count").as_deref(), Some("25"));
    assert_eq!(
        header(&response, "link").as_deref(),
        Some(
            "</api/books?page=1&per_page=10>; rel=\"first\", </api/books?page=1&per_page=10>; rel=\"prev\", \
             </api/books?page=3&per_page=10>; rel=\"next\", </api/books?page=3&per_page=10>; rel=\"last\""
        )
    );
    let body = json(response).await;
    let items = body.as_array().unwrap();
    assert_eq!(items.len(), 10);
    assert!(items[0].get("_links").is_none());
}

#[tokio::test]
async fn a_plain_item_has_no_links() {
    let app = spawn(LIBRARY);
    let body = json(app.get_json("/authors/2").await).await;
    insta::assert_snapshot!("plain_item", pretty(&body));
}

#[tokio::test]
async fn q_values_choose_the_representation() {
    let app = spawn(LIBRARY);
    let response = app
        .request(Method::GET, "/books/1")
        .header(
            "accept",
            "application/hal+json;q=0.5, application/json;q=0.8",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&response, "content-type").as_deref(),
        Some("application/json")
    );
    let response = app
        .request(Method::GET, "/books/1")
        .header("accept", "application/hal+json;q=0, */*")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&response, "content-type").as_deref(),
        Some("application/json")
    );
}

#[tokio::test]
async fn defaults_accept_applies_to_requests_without_accept() {
    let spec = "standin: 1\ndefaults:\n  accept: application/json\nresources:\n  notes:\n    fields: { text: string }\n    count: 3\n";
    let app = spawn(spec);
    for accept in [None, Some("*/*")] {
        let mut request = app.request(Method::GET, "/notes");
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        let response = request.send().await.unwrap();
        assert_eq!(
            header(&response, "content-type").as_deref(),
            Some("application/json")
        );
        assert!(json(response).await.is_array());
    }
    let response = app
        .request(Method::GET, "/notes")
        .header("accept", "application/hal+json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&response, "content-type").as_deref(),
        Some("application/hal+json")
    );
}

#[tokio::test]
async fn the_home_document_links_every_collection_and_item_with_templates() {
    let app = spawn(LIBRARY);
    let response = app.get("").await;
    assert_eq!(response.status(), 200);
    let body = json(response).await;
    insta::assert_snapshot!("hal_home", pretty(&body));
}

#[tokio::test]
async fn collection_json_pages_have_items_links_queries_and_a_template() {
    let app = spawn(LIBRARY);
    let response = app
        .request(Method::GET, "/books?per_page=2")
        .header("accept", "application/vnd.collection+json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&response, "content-type").as_deref(),
        Some("application/vnd.collection+json")
    );
    let body = json(response).await;
    let collection = &body["collection"];
    assert_eq!(collection["version"], "1.0");
    assert_eq!(collection["href"], "/api/books");
    assert_eq!(
        collection["links"][1],
        json!({ "rel": "next", "href": "/api/books?page=2&per_page=2" })
    );
    let item = &collection["items"][0];
    assert_eq!(item["href"], "/api/books/1");
    assert_eq!(item["data"][0], json!({ "name": "id", "value": 1 }));
    assert!(
        item["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|link| link["rel"] == "author")
    );
    assert_eq!(collection["queries"][0]["rel"], "search");
    let template: Vec<&str> = collection["template"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["name"].as_str().unwrap())
        .collect();
    assert_eq!(template, ["title", "year", "genre", "author", "tags"]);
}

#[tokio::test]
async fn collection_json_templates_can_be_posted() {
    let app = spawn(LIBRARY);
    let template = json!({ "template": { "data": [
        { "name": "title", "value": "From a template" },
        { "name": "author", "value": 2 },
    ] } });
    let response = app
        .request(Method::POST, "/books")
        .header("content-type", "application/vnd.collection+json")
        .header("accept", "application/vnd.collection+json")
        .body(template.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body = json(response).await;
    assert_eq!(
        body["collection"]["items"][0]["data"][1],
        json!({ "name": "title", "value": "From a template" })
    );
}

#[tokio::test]
async fn the_home_document_is_also_json_home() {
    let app = spawn(LIBRARY);
    let response = app
        .request(Method::GET, "")
        .header("accept", "application/json-home")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&response, "content-type").as_deref(),
        Some("application/json-home")
    );
    let home = json(response).await;
    assert_eq!(home["api"]["title"], "Library");
    let books = &home["resources"]["urn:standin:rel:books"];
    assert!(
        books["href-template"]
            .as_str()
            .unwrap()
            .starts_with("/api/books{?page,per_page")
    );
    assert_eq!(books["hints"]["allow"], json!(["GET", "HEAD", "POST"]));
    assert_eq!(
        home["resources"]["urn:standin:rel:books-item"]["href-template"],
        "/api/books/{id}"
    );
    let items = app
        .request(Method::GET, "/books")
        .header("accept", "application/json-home")
        .send()
        .await
        .unwrap();
    assert_eq!(
        items.status(),
        406,
        "JSON Home describes only the home route"
    );
}

#[tokio::test]
async fn collection_json_queries_advertise_exactly_what_the_hal_template_names_and_is_accepted() {
    let app = spawn(LIBRARY);
    let cj = json(
        app.request(Method::GET, "/books")
            .header("accept", "application/vnd.collection+json")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let advertised: Vec<String> = cj["collection"]["queries"][0]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["name"].as_str().unwrap().to_string())
        .collect();
    let hal = json(app.get("/books").await).await;
    let template = hal["_links"]["search"]["href"].as_str().unwrap();
    let named = template.split("{?").nth(1).unwrap().trim_end_matches('}');
    assert_eq!(advertised.join(","), named);
    assert!(!advertised.contains(&"tags".to_string()), "{advertised:?}");
    // Each one, given a value of its kind, is accepted.
    let book = json(app.get_json("/books/1").await).await;
    for name in &advertised {
        let value = match name.as_str() {
            "page" | "per_page" => "1".to_string(),
            "sort" | "fields" => "title".to_string(),
            "embed" => "author".to_string(),
            "q" => "a".to_string(),
            field => book[field].to_string().trim_matches('"').to_string(),
        };
        let response = app.get(&format!("/books?{name}={value}")).await;
        assert_eq!(response.status(), 200, "{name}={value}");
    }
}

#[tokio::test]
async fn a_hal_page_in_whole() {
    let app = spawn(LIBRARY);
    let body = json(app.get("/books?page=2&per_page=2&sort=-year").await).await;
    insta::assert_snapshot!("hal_page", pretty(&body));
}

#[tokio::test]
async fn collection_json_in_whole() {
    let app = spawn(LIBRARY);
    for (name, path) in [
        ("collection_json_page", "/books?per_page=2"),
        ("collection_json_item", "/books/1"),
    ] {
        let response = app
            .request(Method::GET, path)
            .header("accept", "application/vnd.collection+json")
            .send()
            .await
            .unwrap();
        insta::assert_snapshot!(name, pretty(&json(response).await));
    }
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
