//! The read cache serving OpenAPI documents: a kept answer is the one the
//! request would get, never one for another state of the data, another
//! `Prefer` or another shape, and never one that lets a request through
//! that the document's checks (credentials, required parameters) refuse.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{header, json, spawn, spawn_with_options};

const BOOKS: &str = r##"
openapi: 3.0.3
info: { title: Books, version: "1" }
components:
  securitySchemes:
    key: { type: apiKey, in: header, name: X-Key }
  schemas:
    Book:
      type: object
      required: [title]
      properties:
        id: { type: integer }
        title: { type: string }
paths:
  /books:
    get:
      parameters:
        - { name: X-Tenant, in: header, required: true, schema: { type: string } }
      responses:
        "200":
          description: books
          content:
            application/json:
              schema: { type: array, items: { $ref: "#/components/schemas/Book" } }
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema: { $ref: "#/components/schemas/Book" }
      responses:
        "201":
          description: created
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Book" }
  /books/{id}:
    parameters:
      - { name: id, in: path, required: true, schema: { type: integer } }
    get:
      security: [{ key: [] }]
      responses:
        "200":
          description: a book
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Book" }
        "401": { description: no key }
        "404": { description: no such book }
    delete:
      responses:
        "204": { description: deleted }
        "404": { description: no such book }
  /stats:
    get:
      responses:
        "200":
          description: counts
          content:
            application/json:
              schema: { type: object, properties: { books: { type: integer } } }
              examples:
                few: { value: { books: 2 } }
                many: { value: { books: 2000 } }
        "404":
          description: none yet
          content:
            application/json:
              schema: { type: object, required: [message], properties: { message: { type: string } } }
"##;

/// GET `path` with the headers `headers`: status and body text.
async fn read(
    app: &crate::helpers::TestApp,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, String) {
    let mut request = app.request(Method::GET, path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn a_read_answers_the_same_until_a_write_changes_it() {
    let app = spawn(BOOKS);
    let tenant = [("x-tenant", "a")];
    let first = read(&app, "/books", &tenant).await;
    assert_eq!(first.0, 200, "{}", first.1);
    assert_eq!(read(&app, "/books", &tenant).await, first);
    let listed = serde_json::from_str::<serde_json::Value>(&first.1).unwrap();
    let before = listed.as_array().unwrap().len();
    let created = json(app.post("/books", json!({"title": "Dune"})).await).await;
    let after = read(&app, "/books", &tenant).await;
    let after: serde_json::Value = serde_json::from_str(&after.1).unwrap();
    assert_eq!(after.as_array().unwrap().len(), before + 1, "{after}");
    assert!(after.as_array().unwrap().contains(&created));

    let key = [("x-key", "k")];
    let path = format!("/books/{}", created["id"]);
    let kept = read(&app, &path, &key).await;
    assert_eq!(kept.0, 200);
    assert_eq!(read(&app, &path, &key).await, kept);
    let deleted = app.request(Method::DELETE, &path).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(
        read(&app, &path, &key).await.0,
        404,
        "the read kept before the delete is not answered after it"
    );
}

#[tokio::test]
async fn a_kept_answer_never_lets_a_request_without_its_credential_through() {
    let app = spawn_with_options(BOOKS, |options| {
        options.credentials = vec!["right".into()];
    });
    let authorised = read(&app, "/books/1", &[("x-key", "right")]).await;
    assert_eq!(authorised.0, 200, "{}", authorised.1);
    assert_eq!(
        read(&app, "/books/1", &[("x-key", "right")]).await,
        authorised
    );
    assert_eq!(read(&app, "/books/1", &[]).await.0, 401);
    assert_eq!(read(&app, "/books/1", &[("x-key", "wrong")]).await.0, 401);
    // Nor one without a parameter the document requires.
    assert_eq!(read(&app, "/books", &[("x-tenant", "a")]).await.0, 200);
    let (status, body) = read(&app, "/books", &[]).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("X-Tenant"), "{body}");
}

#[tokio::test]
async fn prefer_picks_its_answer_whatever_was_kept() {
    let app = spawn(BOOKS);
    let plain = read(&app, "/stats", &[]).await;
    assert_eq!(plain, (200, json!({"books": 2}).to_string()));
    assert_eq!(read(&app, "/stats", &[]).await, plain);
    let (status, body) = read(&app, "/stats", &[("prefer", "code=404")]).await;
    assert_eq!(status, 404, "{body}");
    let many = read(&app, "/stats", &[("prefer", "example=many")]).await;
    assert_eq!(many, (200, json!({"books": 2000}).to_string()));
    assert_eq!(read(&app, "/stats", &[]).await, plain);
}

#[tokio::test]
async fn a_page_and_json_are_kept_apart() {
    let app = spawn(BOOKS);
    let key = [("x-key", "k")];
    let data = app
        .request(Method::GET, "/books/1")
        .header("x-key", "k")
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&data, "content-type").unwrap(), "application/json");
    let page = app
        .request(Method::GET, "/books/1")
        .header("x-key", "k")
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert!(
        header(&page, "content-type")
            .unwrap()
            .starts_with("text/html"),
        "a browser's read after a JSON one is a page"
    );
    let again = read(&app, "/books/1", &key).await;
    assert!(again.1.starts_with('{'), "{}", again.1);
}
