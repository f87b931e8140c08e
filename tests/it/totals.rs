//! A whole collection's total is kept as records come and go (it is not
//! counted for each page): every kind of write, a cascade, a reset and a
//! restart on the same database keep it equal to the records there are.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Storage, TestApp, header, spawn, spawn_on};

const SPEC: &str = r#"
standin: 1
seed: 5
resources:
  authors:
    fields:
      name: string
    count: 3
  posts:
    fields:
      title: string
      author: { ref: authors, on_delete: cascade }
    count: 1200
  notes:
    soft_delete: true
    fields:
      text: string
    count: 4
  slugs:
    id: string
    fields:
      text: string
    records: [{ id: a, text: one }]
"#;

/// The total of `path` and the number of records in the whole collection,
/// read page by page.
async fn total_and_records(app: &TestApp, path: &str) -> (u64, u64) {
    let response = app.get_json(&format!("{path}?per_page=1")).await;
    assert_eq!(response.status(), 200, "{path}");
    let total: u64 = header(&response, "x-total-count")
        .expect("a total")
        .parse()
        .expect("a number");
    let mut records = 0;
    for page in 1.. {
        let response = app
            .get_json(&format!("{path}?per_page=100&page={page}"))
            .await;
        let items: Vec<serde_json::Value> = response.json().await.expect("a JSON array");
        if items.is_empty() {
            break;
        }
        records += items.len() as u64;
    }
    (total, records)
}

async fn assert_totals(app: &TestApp, expected: [u64; 4], when: &str) {
    for (path, expected) in ["/authors", "/posts", "/notes", "/slugs"]
        .into_iter()
        .zip(expected)
    {
        let (total, records) = total_and_records(app, path).await;
        assert_eq!((total, records), (expected, expected), "{path} {when}");
    }
}

#[tokio::test]
async fn totals_follow_every_write_reset_and_restart() {
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("data.db");
    for storage in Storage::BOTH {
        let app = match storage {
            Storage::Memory => spawn(SPEC),
            Storage::File => spawn_on(SPEC, &db),
        };
        assert_totals(&app, [3, 1200, 4, 1], "seeded").await;
        let posts_of_author_1 = {
            let response = app.get_json("/posts?author=1&per_page=1").await;
            header(&response, "x-total-count")
                .unwrap()
                .parse::<u64>()
                .unwrap()
        };
        assert!(posts_of_author_1 > 0);
        assert_eq!(
            app.post("/posts", json!({ "title": "new", "author": 2 }))
                .await
                .status(),
            201
        );
        assert_eq!(
            app.post("/notes", json!({ "text": "new" })).await.status(),
            201
        );
        let put = app
            .send_json(Method::PUT, "/slugs/b", json!({ "text": "two" }))
            .await;
        assert_eq!(put.status(), 201);
        let put = app
            .send_json(Method::PUT, "/slugs/b", json!({ "text": "again" }))
            .await;
        assert_eq!(put.status(), 200);
        assert_totals(&app, [3, 1201, 5, 2], "after creates").await;
        for path in ["/posts/1201", "/notes/2", "/slugs/a"] {
            let deleted = app.request(Method::DELETE, path).send().await.unwrap();
            assert_eq!(deleted.status(), 204, "{path}");
        }
        // Deleting again changes nothing.
        let again = app
            .request(Method::DELETE, "/notes/2")
            .send()
            .await
            .unwrap();
        assert_ne!(again.status(), 204);
        assert_totals(&app, [3, 1200, 4, 1], "after deletes").await;
        let deleted = app
            .request(Method::DELETE, "/authors/1")
            .send()
            .await
            .unwrap();
        assert_eq!(deleted.status(), 204);
        assert_totals(&app, [2, 1200 - posts_of_author_1, 4, 1], "after a cascade").await;
        app.server.reset().expect("the reset succeeds");
        assert_totals(&app, [3, 1200, 4, 1], "after a reset").await;
        assert_eq!(
            app.post("/posts", json!({ "title": "kept", "author": 2 }))
                .await
                .status(),
            201
        );
        if storage == Storage::File {
            drop(app);
            let restarted = spawn_on(SPEC, &db);
            assert_totals(&restarted, [3, 1201, 4, 1], "after a restart").await;
        }
    }
}

/// The ids of a page of `path`.
async fn page_ids(app: &TestApp, path: &str) -> Vec<i64> {
    let response = app.get_json(path).await;
    assert_eq!(response.status(), 200, "{path}");
    let items: Vec<serde_json::Value> = response.json().await.expect("a JSON array");
    items
        .iter()
        .map(|item| item["id"].as_i64().expect("an integer id"))
        .collect()
}

#[tokio::test]
async fn deep_pages_in_id_order_hold_the_records_at_their_offset() {
    let app = spawn(SPEC);
    // Posts 1..=1200 are live; pages at any depth, both ways, then after a
    // gap (a deleted post) and past the end.
    let expected = |live: &[i64], descending: bool, page: usize, per_page: usize| {
        let mut ids = live.to_vec();
        if descending {
            ids.reverse();
        }
        ids.into_iter()
            .skip((page - 1) * per_page)
            .take(per_page)
            .collect::<Vec<_>>()
    };
    let mut live: Vec<i64> = (1..=1200).collect();
    for round in 0..2 {
        for (page, per_page) in [
            (1, 20),
            (2, 20),
            (40, 20),
            (60, 20),
            (61, 20),
            (7, 7),
            (400, 3),
            (401, 3),
        ] {
            for (sort, descending) in [("", false), ("&sort=id", false), ("&sort=-id", true)] {
                let path = format!("/posts?page={page}&per_page={per_page}{sort}");
                assert_eq!(
                    page_ids(&app, &path).await,
                    expected(&live, descending, page, per_page),
                    "{path} (round {round})"
                );
            }
        }
        let id = 500 + round;
        let deleted = app
            .request(Method::DELETE, &format!("/posts/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(deleted.status(), 204);
        live.retain(|live| *live != id);
    }
    // A soft-deleted record leaves a gap too.
    for id in [2, 3] {
        let deleted = app
            .request(Method::DELETE, &format!("/notes/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(deleted.status(), 204);
    }
    assert_eq!(page_ids(&app, "/notes?page=2&per_page=1").await, [4]);
    assert_eq!(
        page_ids(&app, "/notes?page=2&per_page=1&sort=-id").await,
        [1]
    );
}
