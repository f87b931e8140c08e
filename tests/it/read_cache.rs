//! The read cache keeps an answer until a write changes what it reads: a
//! write to one resource keeps the answers that read only others, and drops
//! those that embed or scope by the resource written. Whether an answer came
//! from the cache shows when the data changes behind standin's back (a
//! second connection to its `--db` file): the cache still gives the old value.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Storage, TestApp, header, json, spawn_with};

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
    // A post created keeps the other post's answer, and drops the page it joins.
    let created = app
        .post("/posts", json!({ "title": "second", "author": 1 }))
        .await;
    assert_eq!(created.status(), 201);
    assert_eq!(body(&app, "/posts/1").await["title"], "first");
    assert_eq!(
        body(&app, "/posts?page=1").await[0]["title"],
        "changed behind"
    );
    // A write to the post drops its answer.
    let patched = app
        .send_json(Method::PATCH, "/posts/1", json!({ "author": 1 }))
        .await;
    assert_eq!(patched.status(), 200);
    assert_eq!(body(&app, "/posts/1").await["title"], "changed behind");
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

/// Posts 1 to 25, odd ones drafts and even ones published, each with as
/// many views as its id, and a note no search reads; a page holds 10.
fn posts_spec() -> String {
    let records: Vec<String> = (1..=25)
        .map(|id| {
            let status = if id % 2 == 1 { "draft" } else { "published" };
            format!(
                "      - {{ title: post {id}, status: {status}, views: {id}, note: original }}\n"
            )
        })
        .collect();
    format!(
        "standin: 1\npage_size: 10\nresources:\n  posts:\n    fields:\n      \
         title: string\n      status: {{ type: string, enum: [draft, published] }}\n      \
         views: integer\n      note: string\n    search: [title]\n    records:\n{}",
        records.concat()
    )
}

/// Changes every post's note to `note` in the database file, without standin knowing.
fn renote_all_behind_its_back(app: &TestApp, note: &str) {
    let db = app.database_file().expect("a --db server");
    rusqlite::Connection::open(db)
        .expect("the database opens")
        .execute(
            "UPDATE res_posts SET data = json_set(data, '$.note', ?1)",
            [note],
        )
        .expect("the posts are changed");
}

/// The notes of the posts `path` answers, and its total.
async fn notes(app: &TestApp, path: &str) -> (Vec<String>, Option<String>) {
    let response = app.get_json(path).await;
    assert_eq!(response.status(), 200, "{path}");
    let total = header(&response, "x-total-count");
    let notes = json(response)
        .await
        .as_array()
        .expect("a page")
        .iter()
        .map(|post| post["note"].as_str().expect("a note").to_string())
        .collect();
    (notes, total)
}

/// Whether the answers to reads show what changed behind standin's back
/// (the cache did not answer) tells which answers writes kept.
#[tokio::test]
async fn answers_are_kept_across_writes_that_leave_them_as_they_were() {
    let app = spawn_with(&posts_spec(), Storage::File);
    let pages = [
        "/posts?page=1",
        "/posts?page=3",
        "/posts?status=draft",
        "/posts?status=published",
        "/posts?sort=-views&per_page=5",
        "/posts?q=post",
    ];
    let mut kept = std::collections::HashMap::new();
    for path in pages {
        kept.insert(path, notes(&app, path).await);
    }
    assert_eq!(body(&app, "/posts/1").await["note"], "original");
    renote_all_behind_its_back(&app, "changed behind");
    let behind = |count: usize| vec!["changed behind".to_string(); count];

    // A post's views changed: what shows it or orders by views is read again.
    let patched = app
        .send_json(Method::PATCH, "/posts/22", json!({ "views": 0 }))
        .await;
    assert_eq!(patched.status(), 200);
    assert_eq!(body(&app, "/posts/1").await["note"], "original");
    for path in [
        "/posts?page=1",
        "/posts?status=draft",
        "/posts?status=published",
        "/posts?q=post",
    ] {
        assert_eq!(notes(&app, path).await, kept[path], "{path}");
    }
    assert_eq!(notes(&app, "/posts?page=3").await.0, behind(5));
    assert_eq!(
        notes(&app, "/posts?sort=-views&per_page=5").await.0,
        behind(5)
    );

    // A published post created: the drafts and the search (which it does
    // not match) are kept; the first page keeps its records with the new
    // total; the published posts are read again.
    let created = app
        .post(
            "/posts",
            json!({ "title": "new", "status": "published", "views": 3, "note": "new" }),
        )
        .await;
    assert_eq!(created.status(), 201);
    assert_eq!(body(&app, "/posts/1").await["note"], "original");
    for path in ["/posts?status=draft", "/posts?q=post"] {
        assert_eq!(notes(&app, path).await, kept[path], "{path}");
    }
    let first = notes(&app, "/posts?page=1").await;
    assert_eq!(first, (kept["/posts?page=1"].0.clone(), Some("26".into())));
    let response = app.get_json("/posts?page=1").await;
    let link = header(&response, "link").unwrap_or_default();
    assert!(
        link.contains("page=3&per_page=10>; rel=\"last\""),
        "the last page's link follows the total: {link}"
    );
    assert_eq!(
        notes(&app, "/posts?status=published").await,
        (behind(10), Some("13".into()))
    );

    // The first post retitled: it, the first page and the search are read again.
    let patched = app
        .send_json(Method::PATCH, "/posts/1", json!({ "title": "renamed" }))
        .await;
    assert_eq!(patched.status(), 200);
    assert_eq!(body(&app, "/posts/1").await["note"], "changed behind");
    assert_eq!(notes(&app, "/posts?page=1").await.0, behind(10));
    assert_eq!(
        notes(&app, "/posts?q=post").await,
        (behind(10), Some("24".into()))
    );

    // A delete may change any answer of the collection's.
    assert_eq!(notes(&app, "/posts?status=draft").await.0, behind(10));
    renote_all_behind_its_back(&app, "changed again");
    assert_eq!(notes(&app, "/posts?status=draft").await.0, behind(10));
    let deleted = app
        .request(Method::DELETE, "/posts/26")
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(
        notes(&app, "/posts?status=draft").await.0,
        vec!["changed again".to_string(); 10]
    );
}

/// What a read answered, as a client compares it.
#[derive(Debug, PartialEq)]
struct Answer {
    status: u16,
    headers: Vec<Option<String>>,
    body: String,
}

async fn answer(app: &TestApp, path: &str, media: &str, fresh: bool) -> Answer {
    let mut request = app.request(Method::GET, path).header("accept", media);
    if fresh {
        // A conditional request is never answered from the cache.
        request = request.header("if-none-match", "\"none\"");
    }
    let response = request.send().await.expect("the request is answered");
    Answer {
        status: response.status().as_u16(),
        headers: ["etag", "link", "x-total-count", "content-type"]
            .iter()
            .map(|name| header(&response, name))
            .collect(),
        body: response.text().await.expect("a body"),
    }
}

/// Random writes between reads of a set of items and pages: every answer
/// the cache gives (kept across the writes that cannot have changed it) is
/// the one the store computes afresh.
#[tokio::test]
async fn a_kept_answer_is_always_the_one_computed_afresh() {
    use rand::{RngExt, SeedableRng};
    let spec = posts_spec().replace("page_size: 10", "page_size: 10\nmax_page_size: 50");
    let mut paths: Vec<String> = (1..=30).map(|id| format!("/posts/{id}")).collect();
    paths.extend((1..=4).map(|page| format!("/posts?page={page}")));
    paths.extend((1..=3).map(|page| format!("/posts?page={page}&per_page=7&sort=id")));
    paths.extend(
        [
            "/posts?per_page=50",
            "/posts?sort=-id&per_page=5",
            "/posts?status=draft&per_page=5",
            "/posts?status=published&per_page=5&page=2",
            "/posts?status=draft&sort=-views&per_page=5",
            "/posts?sort=-created_at&per_page=5&page=2",
            "/posts?sort=updated_at&per_page=5",
            "/posts?q=post&per_page=5",
            "/posts?q=alpha&per_page=5",
            "/posts?q=post&status=published&per_page=5",
            "/posts?views__gte=20&per_page=5",
        ]
        .map(String::from),
    );
    for storage in Storage::BOTH {
        let app = spawn_with(&spec, storage);
        let mut random = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for step in 0..150 {
            let id = random.random_range(1..=32);
            let status = ["draft", "published"][random.random_range(0..2)];
            let title = ["post new", "alpha", "beta gamma"][random.random_range(0..3)];
            let views = random.random_range(0..40);
            let (method, path, sent) = match random.random_range(0..10) {
                0..=2 => (
                    Method::POST,
                    "/posts".to_string(),
                    json!({ "title": title, "status": status, "views": views }),
                ),
                3..=5 => (
                    Method::PATCH,
                    format!("/posts/{id}"),
                    json!({ "views": views }),
                ),
                6 => (
                    Method::PATCH,
                    format!("/posts/{id}"),
                    json!({ "status": status }),
                ),
                7 => (
                    Method::PATCH,
                    format!("/posts/{id}"),
                    json!({ "title": title }),
                ),
                8 => (
                    Method::PUT,
                    format!("/posts/{id}"),
                    json!({ "title": title, "status": status, "views": views, "note": "put" }),
                ),
                _ => (Method::DELETE, format!("/posts/{id}"), Value::Null),
            };
            let written = match method {
                Method::DELETE => app.request(Method::DELETE, &path).send().await.unwrap(),
                _ => app.send_json(method.clone(), &path, sent).await,
            };
            assert!(
                [200, 201, 204, 404].contains(&written.status().as_u16()),
                "{method} {path}: {}",
                written.status()
            );
            for _ in 0..12 {
                let path = &paths[random.random_range(0..paths.len())];
                let media = ["application/json", "application/hal+json"][random.random_range(0..2)];
                let given = answer(&app, path, media, false).await;
                let afresh = answer(&app, path, media, true).await;
                assert_eq!(given, afresh, "{storage:?}, step {step}: {path} as {media}");
            }
        }
    }
}
