//! Computed fields: a count of an inverse collection and a template of other
//! fields, computed as records are read, so always current; read-only to
//! clients (a value sent is ignored, a JSON patch changing one is `400`);
//! filterable and sortable; seen by the read cache; marked `readOnly` in the
//! OpenAPI export; checked with positions; added by a hot reload.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use standin::{Options, Server, SpecFile};

use crate::helpers::{Storage, TestApp, error_fields, json, problem, spawn, spawn_with};
use crate::spec_check::diagnostics_of;

const SPEC: &str = r#"
standin: 1
resources:
  people:
    fields:
      first_name: string
      last_name: string
      age: integer
      admin: boolean
      full_name: { template: "{first_name} {last_name}" }
      label: { template: "{{{last_name}}}, {age}, {admin}" }
    records:
      - { first_name: Ada, last_name: Lovelace, age: 36, admin: true }
      - { first_name: Grace }
  posts:
    fields:
      title: string
      comment_count: { count: comments }
    records: [{ title: first }, { title: second }, { title: third }]
  comments:
    soft_delete: true
    fields:
      text: string
      post: { ref: posts, on_delete: cascade }
    records:
      - { text: a, post: 1 }
      - { text: b, post: 1 }
      - { text: c, post: 2 }
"#;

async fn body(app: &TestApp, path: &str) -> Value {
    let response = app.get_json(path).await;
    assert_eq!(response.status(), 200, "{path}");
    json(response).await
}

async fn counts(app: &TestApp) -> Vec<i64> {
    let page = body(app, "/posts?sort=id").await;
    page.as_array()
        .expect("a page")
        .iter()
        .map(|post| post["comment_count"].as_i64().expect("a count"))
        .collect()
}

async fn write(
    app: &TestApp,
    method: Method,
    path: &str,
    content_type: &str,
    body: Value,
) -> Value {
    let response = app
        .request(method, path)
        .header("content-type", content_type)
        .header("accept", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("the request is answered");
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    json(response).await
}

#[tokio::test]
async fn a_count_follows_creates_deletes_and_moves_of_the_counted_records() {
    let app = spawn(SPEC);
    assert_eq!(counts(&app).await, [2, 1, 0]);
    // A create counts at once, in the item and in pages.
    let created = json(
        app.post("/comments", json!({ "text": "d", "post": 3 }))
            .await,
    )
    .await;
    assert_eq!(counts(&app).await, [2, 1, 1]);
    assert_eq!(body(&app, "/posts/3").await["comment_count"], 1);
    // A move (the reference changed) counts for the new post only.
    let id = created["id"].as_i64().unwrap();
    write(
        &app,
        Method::PATCH,
        &format!("/comments/{id}"),
        "application/merge-patch+json",
        json!({ "post": 1 }),
    )
    .await;
    assert_eq!(counts(&app).await, [3, 1, 0]);
    // A (soft) delete no longer counts; the inverse collection agrees.
    assert_eq!(
        app.request(Method::DELETE, "/comments/1")
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(counts(&app).await, [2, 1, 0]);
    assert_eq!(
        body(&app, "/posts/1/comments")
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // A post's count shows in embeds of it too.
    assert_eq!(
        body(&app, "/comments/3?embed=post").await["post"]["comment_count"],
        1
    );
}

#[tokio::test]
async fn a_template_is_built_from_the_record_and_kept_current_on_every_write() {
    let app = spawn(SPEC);
    let ada = body(&app, "/people/1").await;
    assert_eq!(ada["full_name"], "Ada Lovelace");
    // Braces written twice are braces; numbers and booleans read as JSON writes them.
    assert_eq!(ada["label"], "{Lovelace}, 36, true");
    // A field without a value reads as empty text.
    let grace = body(&app, "/people/2").await;
    assert_eq!(grace["full_name"], "Grace ");
    assert_eq!(grace["label"], "{}, , ");
    let patched = write(
        &app,
        Method::PATCH,
        "/people/2",
        "application/merge-patch+json",
        json!({ "last_name": "Hopper" }),
    )
    .await;
    assert_eq!(patched["full_name"], "Grace Hopper");
    assert_eq!(body(&app, "/people/2").await["full_name"], "Grace Hopper");
    let replaced = write(
        &app,
        Method::PUT,
        "/people/1",
        "application/json",
        json!({ "first_name": "Augusta", "admin": false }),
    )
    .await;
    assert_eq!(replaced["full_name"], "Augusta ");
    assert_eq!(replaced["label"], "{}, , false");
    let created = json(
        app.post(
            "/people",
            json!({ "first_name": "Alan", "last_name": "Turing" }),
        )
        .await,
    )
    .await;
    assert_eq!(created["full_name"], "Alan Turing");
}

#[tokio::test]
async fn values_clients_send_for_computed_fields_are_ignored_as_timestamps_are() {
    let app = spawn(SPEC);
    let created = json(
        app.post("/posts", json!({ "title": "new", "comment_count": 99 }))
            .await,
    )
    .await;
    assert_eq!(created["comment_count"], 0);
    let replaced = write(
        &app,
        Method::PUT,
        "/posts/1",
        "application/json",
        json!({ "title": "x", "comment_count": 7 }),
    )
    .await;
    assert_eq!(replaced["comment_count"], 2);
    let patched = write(
        &app,
        Method::PATCH,
        "/people/1",
        "application/merge-patch+json",
        json!({ "full_name": "Someone Else", "age": 37 }),
    )
    .await;
    assert_eq!(patched["full_name"], "Ada Lovelace");
    assert_eq!(patched["age"], 37);
    // What a client GOT, PUT back, is accepted.
    let mut got = body(&app, "/people/1").await;
    got["first_name"] = json!("Ada A.");
    let put = write(&app, Method::PUT, "/people/1", "application/json", got).await;
    assert_eq!(put["full_name"], "Ada A. Lovelace");
    // A JSON patch may test a computed value, not change it.
    let tested = write(
        &app,
        Method::PATCH,
        "/posts/1",
        "application/json-patch+json",
        json!([{ "op": "test", "path": "/comment_count", "value": 2 }, { "op": "replace", "path": "/title", "value": "y" }]),
    )
    .await;
    assert_eq!(tested["title"], "y");
    let refused = app
        .request(Method::PATCH, "/posts/1")
        .header("content-type", "application/json-patch+json")
        .body(json!([{ "op": "replace", "path": "/comment_count", "value": 5 }]).to_string())
        .send()
        .await
        .unwrap();
    let refused = problem(refused, 400).await;
    assert_eq!(error_fields(&refused), ["comment_count"]);
    assert_eq!(body(&app, "/posts/1").await["comment_count"], 2);
}

#[tokio::test]
async fn computed_fields_filter_and_sort_like_stored_ones() {
    let app = spawn(SPEC);
    let ids = |page: Value| -> Vec<i64> {
        page.as_array()
            .unwrap()
            .iter()
            .map(|item| item["id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(
        ids(body(&app, "/posts?sort=-comment_count").await),
        [1, 2, 3]
    );
    assert_eq!(
        ids(body(&app, "/posts?sort=comment_count").await),
        [3, 2, 1]
    );
    assert_eq!(ids(body(&app, "/posts?comment_count__gte=1").await), [1, 2]);
    assert_eq!(ids(body(&app, "/posts?comment_count=0").await), [3]);
    let filtered = app.get_json("/posts?comment_count__gte=1").await;
    assert_eq!(filtered.headers()["x-total-count"], "2");
    // A filtered total follows the counted records too.
    app.post("/comments", json!({ "text": "e", "post": 3 }))
        .await;
    let filtered = app.get_json("/posts?comment_count__gte=1").await;
    assert_eq!(filtered.headers()["x-total-count"], "3");
    assert_eq!(
        ids(body(&app, "/people?full_name__startswith=ada").await),
        [1]
    );
    assert_eq!(ids(body(&app, "/people?sort=-full_name").await), [2, 1]);
    // A count is an integer, typed as one.
    let bad = problem(app.get_json("/posts?comment_count__gte=many").await, 400).await;
    assert!(
        bad["detail"].as_str().unwrap().contains("comment_count"),
        "{bad}"
    );
}

/// Changes a post's title in the database file, without standin knowing.
fn retitle_behind_its_back(app: &TestApp, title: &str) {
    let db = app.database_file().expect("a --db server");
    rusqlite::Connection::open(db)
        .expect("the database opens")
        .execute(
            "UPDATE res_posts SET data = json_set(data, '$.title', ?1) WHERE id = 1",
            [title],
        )
        .expect("the post is changed");
}

#[tokio::test]
async fn a_cached_answer_with_a_count_is_dropped_when_the_counted_records_change() {
    let app = spawn_with(SPEC, Storage::File);
    assert_eq!(body(&app, "/posts/1").await["comment_count"], 2);
    assert_eq!(body(&app, "/posts?page=1").await[0]["comment_count"], 2);
    retitle_behind_its_back(&app, "changed behind");
    // Still from the cache: the answers are cached.
    assert_eq!(body(&app, "/posts/1").await["title"], "first");
    // A write to a resource the posts do not count keeps them.
    app.post("/people", json!({ "first_name": "Kay" })).await;
    assert_eq!(body(&app, "/posts/1").await["title"], "first");
    // A new comment of post 1 changes its count: both answers are read again.
    assert_eq!(
        app.post("/comments", json!({ "text": "n", "post": 1 }))
            .await
            .status(),
        201
    );
    let post = body(&app, "/posts/1").await;
    assert_eq!(
        (post["comment_count"].clone(), post["title"].clone()),
        (json!(3), json!("changed behind"))
    );
    assert_eq!(body(&app, "/posts?page=1").await[0]["comment_count"], 3);
}

#[tokio::test]
async fn an_item_with_a_count_is_validated_by_its_etag_alone() {
    let app = spawn(SPEC);
    let post = app.get_json("/posts/1").await;
    let etag = post.headers()["etag"].to_str().unwrap().to_string();
    // Its count changes without its own `updated_at`: no `Last-Modified`
    // for `If-Modified-Since` to find unchanged.
    assert!(post.headers().get("last-modified").is_none());
    let person = app.get_json("/people/1").await;
    assert!(person.headers().get("last-modified").is_some());
    // Nor an item that embeds a record with a count.
    let comment = app.get_json("/comments/1?embed=post").await;
    assert_eq!(comment.status(), 200);
    assert!(comment.headers().get("last-modified").is_none());
    let comment = app.get_json("/comments/1").await;
    assert!(comment.headers().get("last-modified").is_some());
    let unchanged = app
        .request(Method::GET, "/posts/1")
        .header("accept", "application/json")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(unchanged.status(), 304);
    app.post("/comments", json!({ "text": "n", "post": 1 }))
        .await;
    let changed = app
        .request(Method::GET, "/posts/1")
        .header("accept", "application/json")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    assert_eq!(json(changed).await["comment_count"], 3);
}

#[tokio::test]
async fn every_representation_shows_computed_fields() {
    let app = spawn(SPEC);
    let hal = json(app.get("/posts/1").await).await;
    assert_eq!(hal["comment_count"], 2);
    let page = json(app.get("/posts").await).await;
    assert_eq!(page["_embedded"]["posts"][0]["comment_count"], 2);
    let collection_json = json(
        app.request(Method::GET, "/people/1")
            .header("accept", "application/vnd.collection+json")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let data = &collection_json["collection"]["items"][0]["data"];
    assert!(
        data.as_array()
            .unwrap()
            .contains(&json!({ "name": "full_name", "value": "Ada Lovelace" })),
        "{data}"
    );
    // The write template leaves them out: clients do not write them.
    let template = collection_json["collection"]["template"]["data"].to_string();
    assert!(
        template.contains("first_name") && !template.contains("full_name"),
        "{template}"
    );
    let html = app
        .request(Method::GET, "/people/1")
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Ada Lovelace"),
        "the item page shows the template's value"
    );
}

#[tokio::test]
async fn the_openapi_export_marks_computed_fields_read_only_and_leaves_them_out_of_writes() {
    let app = spawn(SPEC);
    let document = json(app.get("/_standin/openapi.json").await).await;
    let schemas = &document["components"]["schemas"];
    let count = &schemas["Posts"]["properties"]["comment_count"];
    assert_eq!(count["readOnly"], true, "{count}");
    assert_eq!(count["type"], "integer");
    assert_eq!(
        schemas["People"]["properties"]["full_name"]["readOnly"],
        true
    );
    for write in ["PostsWrite", "PostsCreate", "PostsMergePatch"] {
        let properties = &schemas[write]["properties"];
        assert!(properties["title"].is_object(), "{write}: {properties}");
        assert!(
            properties.get("comment_count").is_none(),
            "{write}: {properties}"
        );
    }
    // The normalised spec shows them in their long form, which serves as a spec again.
    let spec = json(app.get("/_standin/spec").await).await;
    assert_eq!(
        spec["resources"]["people"]["fields"]["label"],
        json!({ "type": "string", "template": "{{{last_name}}}, {age}, {admin}" })
    );
}

#[tokio::test]
async fn generated_records_get_counts_of_their_generated_dependants() {
    let app = spawn(
        "standin: 1\nresources:\n  posts:\n    fields:\n      title: string\n      comment_count: { count: comments }\n      shout: { template: \"{title}!\" }\n    count: 5\n  comments:\n    fields:\n      post: { ref: posts, required: true }\n    count: 40\n",
    );
    let posts = body(&app, "/posts?per_page=5").await;
    let mut total = 0;
    for post in posts.as_array().unwrap() {
        let id = post["id"].as_i64().unwrap();
        let listed = app.get_json(&format!("/posts/{id}/comments")).await;
        let listed: i64 = listed.headers()["x-total-count"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(post["comment_count"], listed, "{post}");
        assert_eq!(
            post["shout"],
            format!("{}!", post["title"].as_str().unwrap())
        );
        total += listed;
    }
    assert_eq!(total, 40);
}

#[test]
fn problems_with_computed_fields_are_reported_with_their_positions() {
    let source = r#"standin: 1
resources:
  posts:
    fields:
      title: string
      tags: { type: array, items: { type: string } }
      comment_count: { count: coments }
      tag_count: { count: tags }
      heading: { template: "{titel}: {comment_count} {tags}" }
      broken: { template: "{title" }
      both: { count: comments, template: "{title}" }
      given: { count: comments, required: true, default: 3, type: string }
    records:
      - { title: a, comment_count: 4 }
  comments:
    fields:
      post: { ref: posts }
  tags:
    fields:
      name: string
      post_count: { count: posts }
"#;
    assert_eq!(
        diagnostics_of("spec.yaml", source),
        "spec.yaml:7:31: error at resources.posts.fields.comment_count.count: 'coments' is not an inverse collection of posts: expected one of comments (did you mean 'comments'?)\n\
         spec.yaml:8:27: error at resources.posts.fields.tag_count.count: 'tags' is not an inverse collection of posts: expected one of comments\n\
         spec.yaml:9:28: error at resources.posts.fields.heading.template: unknown field 'titel' in the template (did you mean 'title'?)\n\
         spec.yaml:9:28: error at resources.posts.fields.heading.template: 'comment_count' is computed too: a template names stored fields only\n\
         spec.yaml:9:28: error at resources.posts.fields.heading.template: 'tags' is an array field: a template names scalar fields only\n\
         spec.yaml:10:27: error at resources.posts.fields.broken.template: '{title' is not closed: write {field}, or {{ for a brace\n\
         spec.yaml:11:32: error at resources.posts.fields.both.template: a field is either a count or a template, not both\n\
         spec.yaml:12:33: error at resources.posts.fields.given.required: a computed field has no 'required': the server computes its value, and clients never write it\n\
         spec.yaml:12:49: error at resources.posts.fields.given.default: a computed field has no 'default': the server computes its value, and clients never write it\n\
         spec.yaml:12:67: error at resources.posts.fields.given.type: a count's type is integer: remove 'type' or make it integer\n\
         spec.yaml:14:21: error at resources.posts.records.0.comment_count: 'comment_count' is computed by the server: remove it from the record\n\
         spec.yaml:21:28: error at resources.tags.fields.post_count.count: 'posts' is not an inverse collection of tags: no resource references it (a count counts the records whose 'ref: tags' field names the record)"
    );
}

#[test]
fn computed_fields_are_neither_searched_nor_given_transitions() {
    let source = r#"standin: 1
resources:
  posts:
    fields:
      title: string
      loud: { template: "{title}!" }
      comment_count: { count: comments }
    search: [title, loud]
    sort: [-comment_count]
    transitions: { loud: { a: [b] } }
  comments:
    fields:
      post: { ref: posts }
"#;
    assert_eq!(
        diagnostics_of("spec.yaml", source),
        "spec.yaml:8:21: error at resources.posts.search.1: 'loud' is computed: only stored text can be searched\n\
         spec.yaml:10:20: error at resources.posts.transitions.loud: 'loud' is computed by the server: clients never change its state"
    );
}

#[tokio::test]
async fn a_templates_text_is_taken_as_written_and_a_resource_may_count_its_own_records() {
    let app = spawn(
        "standin: 1\nresources:\n  nodes:\n    fields:\n      name: string\n      parent: { ref: nodes }\n      children: { count: nodes }\n      quoted: { template: \"it's {name}'; --\" }\n    records: [{ name: \"o'k\" }, { parent: 1 }, { parent: 1 }, { parent: 2 }]\n",
    );
    let root = body(&app, "/nodes/1").await;
    assert_eq!(root["quoted"], "it's o'k'; --");
    assert_eq!(root["children"], 2);
    let ids: Vec<i64> = body(&app, "/nodes?sort=-children,id")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|node| node["children"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [2, 1, 0, 0]);
}

#[tokio::test]
async fn a_reload_adding_a_computed_field_serves_it_at_once_for_stored_records() {
    let before = "standin: 1\nresources:\n  posts:\n    fields:\n      title: string\n    records: [{ title: a }]\n  comments:\n    fields:\n      post: { ref: posts }\n    records: [{ post: 1 }, { post: 1 }]\n";
    let after = before.replace(
        "      title: string\n",
        "      title: string\n      comment_count: { count: comments }\n      loud: { template: \"{title}!\" }\n",
    );
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("spec.yaml");
    std::fs::write(&path, before).unwrap();
    let options = Options {
        watch: true,
        workers: Some(2),
        ..Options::default()
    };
    let server = Server::start_with(SpecFile::load(&path).unwrap(), options).unwrap();
    let client = reqwest::Client::new();
    let get = || async {
        let response = client
            .get(format!("{}/posts/1", server.url()))
            .header("accept", "application/json")
            .send()
            .await
            .unwrap();
        json(response).await
    };
    assert!(get().await.get("comment_count").is_none());
    std::fs::write(&path, &after).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let post = loop {
        let post = get().await;
        if post.get("comment_count").is_some() {
            break post;
        }
        assert!(
            Instant::now() < deadline,
            "the reload never served the count: {post}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(post["comment_count"], 2);
    assert_eq!(post["loud"], "a!");
}
