//! The read cache keeps an answer until a write changes what it reads: a
//! write to one resource keeps the answers that read only others, and drops
//! those that embed or scope by the resource written. Whether an answer came
//! from the cache shows when the data changes behind standin's back (a
//! second connection to its `--db` file): the cache still gives the old value.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Storage, TestApp, json, spawn_with};

const SPEC: &str = r#"
standin: 1
resources:
  authors:
    fields:
      name: string
    records: [{ name: Ann }]
  posts:
    fields:
      title: string
      author: { ref: authors, on_delete: cascade }
    records: [{ title: first, author: 1 }]
  comments:
    fields:
      text: string
      post: { ref: posts, on_delete: cascade }
  tags:
    fields:
      label: string
    records: [{ label: one }]
"#;

/// Changes a post's title in the database file, without standin knowing.
fn retitle_behind_its_back(app: &TestApp, id: i64, title: &str) {
    let db = app.database_file().expect("a --db server");
    rusqlite::Connection::open(db)
        .expect("the database opens")
        .execute(
            "UPDATE res_posts SET data = json_set(data, '$.title', ?1) WHERE id = ?2",
            (title, id),
        )
        .expect("the post is changed");
}

async fn body(app: &TestApp, path: &str) -> Value {
    let response = app.get_json(path).await;
    assert_eq!(response.status(), 200, "{path}");
    json(response).await
}

#[tokio::test]
async fn a_write_to_one_resource_keeps_the_cached_answers_of_others() {
    let app = spawn_with(SPEC, Storage::File);
    assert_eq!(body(&app, "/posts/1").await["title"], "first");
    assert_eq!(body(&app, "/posts?page=1").await[0]["title"], "first");
    retitle_behind_its_back(&app, 1, "changed behind");
    // From the cache.
    assert_eq!(body(&app, "/posts/1").await["title"], "first");
    // Writes to other resources (one referencing posts among them) keep it.
    let created = app
        .post("/comments", json!({ "text": "hi", "post": 1 }))
        .await;
    assert_eq!(created.status(), 201);
    let patched = app
        .send_json(Method::PATCH, "/tags/1", json!({ "label": "two" }))
        .await;
    assert_eq!(patched.status(), 200);
    assert_eq!(body(&app, "/posts/1").await["title"], "first");
    assert_eq!(body(&app, "/posts?page=1").await[0]["title"], "first");
    // A write to posts drops them.
    let created = app
        .post("/posts", json!({ "title": "second", "author": 1 }))
        .await;
    assert_eq!(created.status(), 201);
    assert_eq!(body(&app, "/posts/1").await["title"], "changed behind");
    assert_eq!(
        body(&app, "/posts?page=1").await[0]["title"],
        "changed behind"
    );
}

#[tokio::test]
async fn answers_that_embed_or_scope_by_a_resource_change_with_its_writes() {
    for storage in Storage::BOTH {
        let app = spawn_with(SPEC, storage);
        let comments_of = |post: &Value| post["comments"].as_array().map(Vec::len);
        assert_eq!(
            comments_of(&body(&app, "/posts/1?embed=comments").await),
            Some(0)
        );
        assert_eq!(body(&app, "/posts/1/comments").await, json!([]));
        assert_eq!(
            comments_of(&body(&app, "/posts?embed=comments").await[0]),
            Some(0)
        );
        assert_eq!(body(&app, "/comments").await, json!([]));
        let created = app
            .post("/comments", json!({ "text": "hi", "post": 1 }))
            .await;
        assert_eq!(created.status(), 201, "{storage:?}");
        assert_eq!(
            comments_of(&body(&app, "/posts/1?embed=comments").await),
            Some(1)
        );
        assert_eq!(body(&app, "/posts/1/comments").await[0]["text"], "hi");
        assert_eq!(
            comments_of(&body(&app, "/posts?embed=comments").await[0]),
            Some(1)
        );
        // The reference embedded: a write to posts changes comments' answers.
        assert_eq!(
            body(&app, "/comments/1?embed=post").await["post"]["title"],
            "first"
        );
        assert_eq!(
            body(&app, "/comments?embed=post").await[0]["post"]["title"],
            "first"
        );
        let patched = app
            .send_json(Method::PATCH, "/posts/1", json!({ "title": "renamed" }))
            .await;
        assert_eq!(patched.status(), 200);
        assert_eq!(
            body(&app, "/comments/1?embed=post").await["post"]["title"],
            "renamed"
        );
        assert_eq!(
            body(&app, "/comments?embed=post").await[0]["post"]["title"],
            "renamed"
        );
        // A delete reaches what references the record, however far:
        // deleting the author cascades to the post and its comment.
        assert_eq!(
            body(&app, "/comments").await.as_array().map(Vec::len),
            Some(1)
        );
        let deleted = app
            .request(Method::DELETE, "/authors/1")
            .send()
            .await
            .unwrap();
        assert_eq!(deleted.status(), 204);
        assert_eq!(body(&app, "/comments").await, json!([]));
        assert_eq!(app.get_json("/posts/1").await.status(), 404);
        // A reset drops every answer.
        assert_eq!(body(&app, "/tags/1").await["label"], "one");
        let patched = app
            .send_json(Method::PATCH, "/tags/1", json!({ "label": "two" }))
            .await;
        assert_eq!(patched.status(), 200);
        assert_eq!(body(&app, "/tags/1").await["label"], "two");
        app.server.reset().expect("the reset succeeds");
        assert_eq!(body(&app, "/tags/1").await["label"], "one");
        assert_eq!(body(&app, "/posts/1").await["title"], "first");
    }
}
