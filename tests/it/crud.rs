//! Creating, reading, replacing, patching and deleting records, with the
//! status codes and headers DESIGN.md promises, in both storage modes.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{LIBRARY, Storage, error_fields, header, json, problem, spawn, spawn_with};

#[tokio::test]
async fn creating_a_record_is_201_with_location_and_the_item() {
    for storage in Storage::BOTH {
        let app = spawn_with(LIBRARY, storage);
        let response = app
            .post(
                "/books",
                json!({ "title": "Dune", "year": 1965, "author": 1 }),
            )
            .await;
        assert_eq!(response.status(), 201);
        assert_eq!(
            header(&response, "location").as_deref(),
            Some("/api/books/26")
        );
        assert!(header(&response, "etag").is_some_and(|etag| etag.starts_with('"')));
        assert!(header(&response, "last-modified").is_some());
        let body = json(response).await;
        assert_eq!(body["id"], 26);
        assert_eq!(body["title"], "Dune");
        assert_eq!(body["genre"], "fiction", "the default applies");
        assert!(
            body["created_at"]
                .as_str()
                .is_some_and(|at| at.ends_with('Z'))
        );
        assert_eq!(body["_links"]["self"]["href"], "/api/books/26");
        assert_eq!(body["_links"]["author"]["href"], "/api/authors/1");

        let fetched = json(app.get("/books/26").await).await;
        assert_eq!(
            fetched, body,
            "{storage:?}: the created record reads back the same"
        );
    }
}

#[tokio::test]
async fn reading_an_item_has_etag_last_modified_and_vary() {
    let app = spawn(LIBRARY);
    let response = app.get("/books/3").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "content-type").as_deref(),
        Some("application/hal+json")
    );
    let vary = header(&response, "vary").unwrap();
    assert!(vary.split(", ").any(|name| name == "Accept"), "{vary}");
    assert!(header(&response, "etag").is_some());
    assert_eq!(
        header(&response, "last-modified").as_deref(),
        Some("Wed, 01 Jan 2025 00:02:00 GMT")
    );
    let body = json(response).await;
    assert_eq!(body["_links"]["collection"]["href"], "/api/books");
}

#[tokio::test]
async fn a_missing_record_is_404() {
    for storage in Storage::BOTH {
        let app = spawn_with(LIBRARY, storage);
        let body = problem(app.get("/books/999").await, 404).await;
        assert!(body["detail"].as_str().unwrap().contains("no record"));
    }
}

#[tokio::test]
async fn an_unknown_resource_is_404_with_a_suggestion() {
    let app = spawn(LIBRARY);
    let body = problem(app.get("/autors").await, 404).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("did you mean 'authors'?"),
        "{body}"
    );
}

#[tokio::test]
async fn a_path_outside_the_base_path_is_404() {
    let app = spawn(LIBRARY);
    let url = app.url("").replace("/api", "/books");
    let response = app.client.get(url).send().await.unwrap();
    problem(response, 404).await;
}

#[tokio::test]
async fn replacing_a_record_is_200_and_drops_omitted_fields() {
    for storage in Storage::BOTH {
        let app = spawn_with(LIBRARY, storage);
        let response = app
            .send_json(
                Method::PUT,
                "/books/2",
                json!({ "title": "New", "author": 2, "tags": ["a"] }),
            )
            .await;
        assert_eq!(response.status(), 200);
        let body = json(response).await;
        assert_eq!(body["title"], "New");
        assert_eq!(
            body["year"],
            json!(null),
            "omitted optional fields are cleared"
        );
        assert_eq!(body["genre"], "fiction", "defaults apply to a replacement");
        assert_eq!(body["tags"], json!(["a"]));
        assert_eq!(
            body["created_at"], "2025-01-01T00:01:00.000Z",
            "created_at is kept"
        );
        assert_ne!(body["updated_at"], body["created_at"]);
    }
}

#[tokio::test]
async fn replacing_a_missing_record_with_server_ids_is_404() {
    let app = spawn(LIBRARY);
    let response = app
        .send_json(
            Method::PUT,
            "/books/500",
            json!({ "title": "New", "author": 2 }),
        )
        .await;
    problem(response, 404).await;
}

#[tokio::test]
async fn put_creates_where_ids_are_client_assigned() {
    let spec =
        "standin: 1\nresources:\n  pages:\n    id: string\n    fields:\n      body: string\n";
    for storage in Storage::BOTH {
        let app = spawn_with(spec, storage);
        let response = app
            .send_json(Method::PUT, "/pages/about-us", json!({ "body": "hi" }))
            .await;
        assert_eq!(response.status(), 201);
        assert_eq!(
            header(&response, "location").as_deref(),
            Some("/pages/about-us")
        );
        let response = app
            .send_json(Method::PUT, "/pages/about-us", json!({ "body": "hello" }))
            .await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            json(app.get("/pages/about-us").await).await["body"],
            "hello"
        );
    }
}

#[tokio::test]
async fn client_assigned_ids_are_taken_from_a_post_body() {
    let spec =
        "standin: 1\nresources:\n  pages:\n    id: string\n    fields:\n      body: string\n";
    let app = spawn(spec);
    let response = app
        .post("/pages", json!({ "id": "home page", "body": "x" }))
        .await;
    assert_eq!(response.status(), 201);
    assert_eq!(
        header(&response, "location").as_deref(),
        Some("/pages/home%20page")
    );
    assert_eq!(app.get("/pages/home%20page").await.status(), 200);
    let duplicate = app.post("/pages", json!({ "id": "home page" })).await;
    problem(duplicate, 409).await;
    let missing = app.post("/pages", json!({ "body": "x" })).await;
    assert_eq!(error_fields(&problem(missing, 400).await), ["id"]);
}

#[tokio::test]
async fn patching_merges_the_changes() {
    for storage in Storage::BOTH {
        let app = spawn_with(LIBRARY, storage);
        let before = json(app.get("/books/4").await).await;
        let response = app
            .request(Method::PATCH, "/books/4")
            .header("content-type", "application/merge-patch+json")
            .body(json!({ "year": 2001, "tags": null }).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let after = json(response).await;
        assert_eq!(after["year"], 2001);
        assert_eq!(after["tags"], json!(null), "null removes a field");
        assert_eq!(after["title"], before["title"], "other fields are kept");
    }
}

#[tokio::test]
async fn patching_with_plain_json_is_a_merge_patch() {
    let app = spawn(LIBRARY);
    let response = app
        .send_json(Method::PATCH, "/books/4", json!({ "genre": "science" }))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(json(response).await["genre"], "science");
}

#[tokio::test]
async fn a_merge_patch_naming_an_unknown_field_is_400_even_with_null() {
    let app = spawn(LIBRARY);
    let before = json(app.get_json("/books/4").await).await;
    for value in [json!(null), json!(1)] {
        let response = app
            .request(Method::PATCH, "/books/4")
            .header("content-type", "application/merge-patch+json")
            .body(json!({ "nope": value, "year": 2001 }).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(error_fields(&problem(response, 400).await), ["nope"]);
    }
    assert_eq!(json(app.get_json("/books/4").await).await, before);
}

#[tokio::test]
async fn patching_a_required_field_away_is_400() {
    let app = spawn(LIBRARY);
    let response = app
        .send_json(Method::PATCH, "/books/4", json!({ "title": null }))
        .await;
    assert_eq!(error_fields(&problem(response, 400).await), ["title"]);
}

#[tokio::test]
async fn deleting_answers_plain_json_clients_with_the_deleted_record() {
    let app = spawn(LIBRARY);
    let book = json(app.get_json("/books/7").await).await;
    let response = app
        .request(Method::DELETE, "/books/7")
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(json(response).await, book);
    // The same for a spec whose clients get plain JSON by default.
    let spec = LIBRARY.replace(
        "page_size: 10",
        "page_size: 10\ndefaults: { accept: application/json }",
    );
    let app = spawn(&spec);
    let response = app
        .request(Method::DELETE, "/books/7")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(json(response).await["id"], 7);
}

#[tokio::test]
async fn deleting_is_204_then_404() {
    for storage in Storage::BOTH {
        let app = spawn_with(LIBRARY, storage);
        let response = app
            .request(Method::DELETE, "/books/7")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
        assert!(response.bytes().await.unwrap().is_empty());
        problem(app.get("/books/7").await, 404).await;
        problem(
            app.request(Method::DELETE, "/books/7")
                .send()
                .await
                .unwrap(),
            404,
        )
        .await;
    }
}

#[tokio::test]
async fn deleting_with_return_representation_is_200_with_the_record() {
    let app = spawn(LIBRARY);
    let response = app
        .request(Method::DELETE, "/books/8")
        .header("prefer", "return=representation")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "preference-applied").as_deref(),
        Some("return=representation")
    );
    assert_eq!(json(response).await["id"], 8);
}

#[tokio::test]
async fn defaults_prefer_makes_deletes_answer_the_record() {
    let spec = "standin: 1\ndefaults:\n  prefer: return=representation\nresources:\n  notes:\n    fields: { text: string }\n    count: 2\n";
    let app = spawn(spec);
    let response = app
        .request(Method::DELETE, "/notes/1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(json(response).await["id"], 1);
}

#[tokio::test]
async fn return_minimal_makes_a_create_204_with_location() {
    let app = spawn(LIBRARY);
    let response = app
        .request(Method::POST, "/authors")
        .header("content-type", "application/json")
        .header("prefer", "return=minimal")
        .body(json!({ "name": "Le Guin" }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(
        header(&response, "location").as_deref(),
        Some("/api/authors/6")
    );
    assert_eq!(
        header(&response, "preference-applied").as_deref(),
        Some("return=minimal")
    );
}

#[tokio::test]
async fn a_unique_clash_is_409_naming_the_field() {
    for storage in Storage::BOTH {
        let app = spawn_with(LIBRARY, storage);
        let first = json(app.get("/authors/1").await).await;
        let response = app
            .post("/authors", json!({ "name": "X", "email": first["email"] }))
            .await;
        assert_eq!(error_fields(&problem(response, 409).await), ["email"]);
    }
}

#[tokio::test]
async fn a_reference_to_a_missing_record_is_409() {
    for storage in Storage::BOTH {
        let app = spawn_with(LIBRARY, storage);
        let response = app
            .post("/books", json!({ "title": "Orphan", "author": 404 }))
            .await;
        let body = problem(response, 409).await;
        assert_eq!(error_fields(&body), ["author"]);
    }
}

#[tokio::test]
async fn a_restrict_delete_with_dependants_is_409() {
    for storage in Storage::BOTH {
        let app = spawn_with(LIBRARY, storage);
        let book = json(app.get("/books/1").await).await;
        let author = book["author"].as_i64().unwrap();
        let response = app
            .request(Method::DELETE, &format!("/authors/{author}"))
            .send()
            .await
            .unwrap();
        let body = problem(response, 409).await;
        assert!(body["detail"].as_str().unwrap().contains("books"), "{body}");
        assert_eq!(
            app.get(&format!("/authors/{author}")).await.status(),
            200,
            "nothing was deleted"
        );
    }
}

#[tokio::test]
async fn a_cascade_delete_removes_the_dependants() {
    let app = spawn(LIBRARY);
    let review = json(app.get("/reviews/1").await).await;
    let book = review["book"].as_i64().unwrap();
    let response = app
        .request(Method::DELETE, &format!("/books/{book}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(
        app.get("/reviews/1").await.status(),
        410,
        "the review went with its book"
    );
}

#[tokio::test]
async fn set_null_clears_the_reference() {
    let spec = r#"
standin: 1
resources:
  lists:
    fields: { name: string }
    count: 1
  todos:
    fields:
      title: string
      list: { ref: lists, on_delete: set_null }
    records:
      - { title: a, list: 1 }
"#;
    let app = spawn(spec);
    assert_eq!(
        app.request(Method::DELETE, "/lists/1")
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let todo = json(app.get("/todos/1").await).await;
    assert_eq!(todo["list"], json!(null));
    assert!(todo["_links"].get("list").is_none());
}

#[tokio::test]
async fn a_soft_deleted_record_is_410() {
    for storage in Storage::BOTH {
        let app = spawn_with(LIBRARY, storage);
        assert_eq!(
            app.request(Method::DELETE, "/reviews/2")
                .send()
                .await
                .unwrap()
                .status(),
            204
        );
        problem(app.get("/reviews/2").await, 410).await;
        problem(
            app.send_json(Method::PATCH, "/reviews/2", json!({ "stars": 1 }))
                .await,
            410,
        )
        .await;
        let page = json(app.get("/reviews").await).await;
        assert_eq!(page["total"], 9, "the deleted review is not listed");
    }
}

#[tokio::test]
async fn a_method_outside_methods_is_405_with_allow() {
    let spec = "standin: 1\nresources:\n  logs:\n    fields: { line: string }\n    methods: [GET, POST]\n    count: 1\n";
    let app = spawn(spec);
    let response = app.request(Method::DELETE, "/logs/1").send().await.unwrap();
    assert_eq!(
        header(&response, "allow").as_deref(),
        Some("GET, HEAD, OPTIONS")
    );
    problem(response, 405).await;
    let response = app.request(Method::PUT, "/logs").send().await.unwrap();
    assert_eq!(
        header(&response, "allow").as_deref(),
        Some("GET, HEAD, POST, OPTIONS")
    );
    problem(response, 405).await;
}

#[tokio::test]
async fn an_unknown_method_is_405() {
    let app = spawn(LIBRARY);
    let method = Method::from_bytes(b"BREW").unwrap();
    let response = app.request(method, "/books").send().await.unwrap();
    assert!(header(&response, "allow").is_some());
    problem(response, 405).await;
}

#[tokio::test]
async fn options_lists_the_allowed_methods() {
    let app = spawn(LIBRARY);
    let response = app
        .request(Method::OPTIONS, "/books/1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(
        header(&response, "allow").as_deref(),
        Some("GET, HEAD, PUT, PATCH, DELETE, OPTIONS")
    );
    let response = app.request(Method::OPTIONS, "").send().await.unwrap();
    assert_eq!(
        header(&response, "allow").as_deref(),
        Some("GET, HEAD, OPTIONS")
    );
}

#[tokio::test]
async fn head_answers_like_get_without_a_body() {
    let app = spawn(LIBRARY);
    for path in ["", "/books", "/books/1"] {
        let get = app.get(path).await;
        let head = app.request(Method::HEAD, path).send().await.unwrap();
        assert_eq!(head.status(), 200, "HEAD {path}");
        assert_eq!(header(&head, "etag"), header(&get, "etag"));
        assert_eq!(
            header(&head, "x-total-count"),
            header(&get, "x-total-count")
        );
        assert!(head.bytes().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_trailing_slash_is_301_to_the_canonical_path() {
    let app = spawn(LIBRARY);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client.get(app.url("/books/?page=2")).send().await.unwrap();
    assert_eq!(response.status(), 301);
    assert_eq!(
        header(&response, "location").as_deref(),
        Some("/api/books?page=2")
    );
    let response = client.get(app.url("/")).send().await.unwrap();
    assert_eq!(header(&response, "location").as_deref(), Some("/api"));
    // The server's root leads to the API, under its base path.
    let root = app.url("").replace("/api", "/");
    let response = client.get(root).send().await.unwrap();
    assert_eq!(response.status(), 301);
    assert_eq!(header(&response, "location").as_deref(), Some("/api"));
}

#[tokio::test]
async fn a_write_to_a_trailing_slash_is_308_and_a_client_following_it_creates() {
    let app = spawn(LIBRARY);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let body = json!({ "title": "Slashed", "author": 1 });
    let response = client
        .post(app.url("/books/"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 308);
    assert_eq!(header(&response, "location").as_deref(), Some("/api/books"));
    assert_eq!(
        header(&response, "cache-control").as_deref(),
        Some("no-store")
    );
    // A client that follows redirects repeats the POST, body and all.
    let response = app.post("/books/", body).await;
    assert_eq!(response.status(), 201);
    assert_eq!(json(response).await["title"], "Slashed");
}

#[tokio::test]
async fn server_set_fields_sent_back_are_ignored() {
    let app = spawn(LIBRARY);
    let mut book = json(app.get_json("/books/3").await).await;
    book["title"] = json!("Round trip");
    book["created_at"] = json!("1999-01-01T00:00:00.000Z");
    let response = app.send_json(Method::PUT, "/books/3", book).await;
    assert_eq!(response.status(), 200);
    let body = json(response).await;
    assert_eq!(body["title"], "Round trip");
    assert_eq!(body["created_at"], "2025-01-01T00:02:00.000Z");
}

#[tokio::test]
async fn an_id_in_the_body_that_differs_from_the_url_is_400() {
    let app = spawn(LIBRARY);
    let response = app
        .send_json(
            Method::PUT,
            "/books/3",
            json!({ "id": 4, "title": "x", "author": 1 }),
        )
        .await;
    assert_eq!(error_fields(&problem(response, 400).await), ["id"]);
}

#[tokio::test]
async fn a_trailing_slash_redirect_never_leaves_the_site() {
    let app = spawn(LIBRARY);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let origin = app.url("").replace("/api", "");
    let response = client
        .get(format!("{origin}//evil.example/"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 301);
    assert_eq!(
        header(&response, "location").as_deref(),
        Some("/evil.example")
    );
}

#[tokio::test]
async fn uuid_references_match_whatever_their_case() {
    let spec = r#"
standin: 1
resources:
  authors:
    id: uuid
    fields: { name: string }
    count: 1
  books:
    fields:
      author: { ref: authors, required: true, on_delete: restrict }
"#;
    for storage in Storage::BOTH {
        let app = spawn_with(spec, storage);
        let authors = json(app.get_json("/authors").await).await;
        let id = authors[0]["id"].as_str().unwrap().to_string();
        let response = app
            .post("/books", json!({ "author": id.to_uppercase() }))
            .await;
        assert_eq!(response.status(), 201);
        assert_eq!(
            json(response).await["author"],
            id.as_str(),
            "stored in canonical form"
        );
        let response = app
            .request(Method::DELETE, &format!("/authors/{}", id.to_uppercase()))
            .send()
            .await
            .unwrap();
        problem(response, 409).await;
    }
}

#[tokio::test]
async fn multi_level_cascades_and_restricts_reached_through_them() {
    let spec = r#"
standin: 1
resources:
  users:
    fields: { name: string }
    records: [{ name: a }]
  posts:
    fields:
      user: { ref: users, on_delete: cascade }
    records: [{ user: 1 }]
  comments:
    fields:
      post: { ref: posts, on_delete: cascade }
    records: [{ post: 1 }]
  flags:
    fields:
      comment: { ref: comments, on_delete: restrict }
    records: [{ comment: 1 }]
"#;
    for storage in Storage::BOTH {
        let app = spawn_with(spec, storage);
        let response = app
            .request(Method::DELETE, "/users/1")
            .send()
            .await
            .unwrap();
        problem(response, 409).await;
        for path in ["/users/1", "/posts/1", "/comments/1"] {
            assert_eq!(
                app.get(path).await.status(),
                200,
                "{storage:?}: {path} is kept when the delete is refused"
            );
        }
        assert_eq!(
            app.request(Method::DELETE, "/flags/1")
                .send()
                .await
                .unwrap()
                .status(),
            204
        );
        assert_eq!(
            app.request(Method::DELETE, "/users/1")
                .send()
                .await
                .unwrap()
                .status(),
            204
        );
        for path in ["/users/1", "/posts/1", "/comments/1"] {
            assert_eq!(
                app.get(path).await.status(),
                404,
                "{storage:?}: {path} went with the user"
            );
        }
    }
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
