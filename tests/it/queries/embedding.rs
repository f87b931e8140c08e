//! Embedding references and inverses, inverse collections, sparse fieldsets.

use super::*;

#[tokio::test]
async fn embedding_a_reference_includes_the_referenced_record() {
    let app = spawn(BOOKS);
    let page = json(app.get("/books?embed=author&per_page=2").await).await;
    let first = &page["_embedded"]["books"][0];
    assert_eq!(first["author"], 1, "the reference keeps its id in HAL");
    assert_eq!(first["_embedded"]["author"]["name"], "Frank Herbert");
    assert_eq!(
        first["_embedded"]["author"]["_links"]["self"]["href"],
        "/api/authors/1"
    );
    let plain = json(app.get_json("/books/7?embed=author").await).await;
    assert_eq!(plain["author"], Value::Null);
    let plain = json(app.get_json("/books/5?_expand=author").await).await;
    assert_eq!(
        plain["author"]["name"], "Émile Zola",
        "plain JSON replaces the id, like json-server"
    );
}

#[tokio::test]
async fn embedding_an_inverse_includes_the_referencing_records() {
    let app = spawn(BOOKS);
    let authors = json(app.get_json("/authors?embed=books").await).await;
    let titles: Vec<&str> = authors[0]["books"]
        .as_array()
        .unwrap()
        .iter()
        .map(|book| book["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Dune", "Dune Messiah"]);
    let author = json(app.get("/authors/2?_embed=books").await).await;
    let books = author["_embedded"]["books"].as_array().unwrap();
    assert_eq!(books.len(), 2);
    assert_eq!(books[0]["_links"]["self"]["href"], "/api/books/3");
}

#[tokio::test]
async fn an_unknown_embed_is_400_listing_what_can_be_embedded() {
    let app = spawn(BOOKS);
    let body = problem(app.get("/books?embed=autor").await, 400).await;
    assert_eq!(body["parameter"], "embed");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("did you mean 'author'?") && detail.contains("books can embed author"),
        "{detail}"
    );
    problem(app.get("/books/1?embed=nothing").await, 400).await;
}

#[tokio::test]
async fn an_inverse_collection_is_a_filtered_view_with_its_own_links() {
    for storage in Storage::BOTH {
        let app = spawn_with(BOOKS, storage);
        assert_eq!(ids(&app, "/authors/1/books").await, [1, 2]);
        assert_eq!(ids(&app, "/authors/1/books?year=1969").await, [2]);
        let response = app.get("/authors/2/books?per_page=1").await;
        assert_eq!(header(&response, "x-total-count").as_deref(), Some("2"));
        let page = json(response).await;
        assert_eq!(
            page["_links"]["next"]["href"],
            "/api/authors/2/books?page=2&per_page=1"
        );
        assert_eq!(
            page["_links"]["self"]["href"],
            "/api/authors/2/books?page=1&per_page=1"
        );
        let author = json(app.get("/authors/3").await).await;
        assert_eq!(author["_links"]["books"]["href"], "/api/authors/3/books");
    }
}

#[tokio::test]
async fn an_inverse_collection_of_a_missing_record_is_404() {
    let app = spawn(BOOKS);
    problem(app.get("/authors/99/books").await, 404).await;
    let body = problem(app.get("/authors/1/bokos").await, 404).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("did you mean 'books'?"),
        "{body}"
    );
}

#[tokio::test]
async fn posting_to_an_inverse_collection_sets_the_reference() {
    for storage in Storage::BOTH {
        let app = spawn_with(BOOKS, storage);
        let response = app
            .post("/authors/2/books", json!({ "title": "Lathe of Heaven" }))
            .await;
        assert_eq!(response.status(), 201);
        assert_eq!(
            header(&response, "location").as_deref(),
            Some("/api/books/8")
        );
        assert_eq!(json(response).await["author"], 2);
        let response = app
            .post("/authors/2/books", json!({ "title": "x", "author": 1 }))
            .await;
        let body = problem(response, 400).await;
        assert_eq!(body["errors"][0]["field"], "author");
        problem(
            app.post("/authors/99/books", json!({ "title": "x" })).await,
            404,
        )
        .await;
    }
}

#[tokio::test]
async fn sparse_fieldsets_keep_only_the_named_fields() {
    let app = spawn(BOOKS);
    let plain = json(app.get_json("/books?fields=id,title&per_page=1").await).await;
    assert_eq!(plain, json!([{ "id": 1, "title": "Dune" }]));
    let hal = json(app.get("/books/2?fields=title").await).await;
    let keys: Vec<&str> = hal
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["title", "_links"]);
    let body = problem(app.get("/books?fields=id,titel").await, 400).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("did you mean 'title'?"),
        "{body}"
    );
}

#[tokio::test]
async fn an_item_takes_only_embed_and_fields() {
    let app = spawn(BOOKS);
    let body = problem(app.get("/books/1?page=2").await, 400).await;
    assert_eq!(body["parameter"], "page");
}

#[tokio::test]
async fn expand_adds_the_record_beside_a_json_server_style_id_field() {
    let spec = "standin: 1\nresources:\n  posts:\n    fields: { title: string }\n    records: [{ title: a }]\n  comments:\n    fields:\n      postId: { ref: posts }\n    records: [{ postId: 1 }]\n";
    let app = spawn(spec);
    let comment = json(app.get_json("/comments/1?_expand=post").await).await;
    assert_eq!(comment["postId"], 1);
    assert_eq!(comment["post"]["title"], "a");
}
