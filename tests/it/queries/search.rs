//! Full-text search: word prefixes, accents, every write followed, live counts.

use super::*;

#[tokio::test]
async fn search_matches_word_prefixes_ignoring_case_and_accents() {
    for storage in Storage::BOTH {
        let app = spawn_with(BOOKS, storage);
        check(
            &app,
            &[
                ("q=dune", &[1, 2]),
                ("q=DUN", &[1, 2]),
                ("q=dune%20mess", &[2]),
                ("q=darkness", &[3]),
                ("q=dune&year=1969", &[2]),
                ("q=dune&sort=-id", &[2, 1]),
                ("q=zzz", &[]),
            ],
        )
        .await;
        assert_eq!(
            ids(&app, "/authors?q=emile").await,
            [3],
            "every text field by default; accents ignored"
        );
        assert_eq!(ids(&app, "/authors?q=le%20guin").await, [2]);
    }
}

#[tokio::test]
async fn search_follows_every_write() {
    for storage in Storage::BOTH {
        let app = spawn_with(BOOKS, storage);
        let created = json(
            app.post("/books", json!({ "title": "Dune Chronicles" }))
                .await,
        )
        .await;
        let id = created["id"].as_i64().unwrap();
        assert_eq!(ids(&app, "/books?q=chronicles").await, [id]);
        let response = app
            .send_json(
                Method::PATCH,
                &format!("/books/{id}"),
                json!({ "title": "Sandworms" }),
            )
            .await;
        assert_eq!(response.status(), 200);
        assert_eq!(ids(&app, "/books?q=chronicles").await, Vec::<i64>::new());
        assert_eq!(ids(&app, "/books?q=sandworms").await, [id]);
        // A write of an unsearched field leaves the record's words as they were.
        let response = app
            .send_json(
                Method::PATCH,
                &format!("/books/{id}"),
                json!({ "year": 1985 }),
            )
            .await;
        assert_eq!(response.status(), 200);
        assert_eq!(ids(&app, "/books?q=sandworms").await, [id]);
        assert_eq!(ids(&app, "/books?q=chronicles").await, Vec::<i64>::new());
        let response = app
            .send_json(Method::PUT, "/books/1", json!({ "title": "Renamed" }))
            .await;
        assert_eq!(response.status(), 200);
        assert_eq!(ids(&app, "/books?q=dune").await, [2]);
        assert_eq!(
            app.request(Method::DELETE, "/books/2")
                .send()
                .await
                .unwrap()
                .status(),
            204
        );
        assert_eq!(ids(&app, "/books?q=dune").await, Vec::<i64>::new());
    }
}

/// Notes in folders, kept when deleted, searched through pages; labels with string ids.
const NOTES: &str = r#"
standin: 1
page_size: 2
resources:
  folders:
    fields:
      name: { type: string, required: true }
    records:
      - { name: inbox }
      - { name: archive }
  notes:
    soft_delete: true
    fields:
      text: { type: string, required: true }
      pinned: boolean
      rank: integer
      folder: { ref: folders }
    search: [text]
    records:
      - { text: "alpha one", pinned: true, rank: 3, folder: 1 }
      - { text: "alpha two", rank: 1, folder: 2 }
      - { text: "beta three", pinned: true, rank: 5, folder: 1 }
      - { text: "alpha four", pinned: true, rank: 2, folder: 1 }
      - { text: "alpha five", rank: 4, folder: 2 }
  labels:
    id: string
    fields:
      name: { type: string, required: true }
    search: [name]
    records:
      - { id: zeta, name: "alpha red" }
      - { id: beta, name: "blue" }
      - { id: alpha, name: "alpha green" }
"#;

#[tokio::test]
async fn search_pages_and_counts_live_matches_only() {
    for storage in Storage::BOTH {
        let app = spawn_with(NOTES, storage);
        let page = |query: &'static str| {
            let app = &app;
            async move {
                let response = app.get_json(&format!("/notes?{query}")).await;
                assert_eq!(response.status(), 200, "{query}");
                let total = header(&response, "x-total-count").unwrap();
                let ids: Vec<i64> = json(response)
                    .await
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|note| note["id"].as_i64().unwrap())
                    .collect();
                (ids, total)
            }
        };
        assert_eq!(page("q=alpha").await, (vec![1, 2], "4".into()));
        assert_eq!(page("q=alpha&page=2").await, (vec![4, 5], "4".into()));
        assert_eq!(page("q=alpha&sort=-id").await, (vec![5, 4], "4".into()));
        assert_eq!(page("q=alpha&pinned=true").await, (vec![1, 4], "2".into()));
        assert_eq!(page("q=alpha&sort=rank").await, (vec![2, 4], "4".into()));
        assert_eq!(
            page("q=alpha&sort=-rank&page=2").await,
            (vec![4, 2], "4".into())
        );
        let response = app.get_json("/folders/1/notes?q=alpha").await;
        assert_eq!(header(&response, "x-total-count").as_deref(), Some("2"));
        let in_folder: Vec<Value> = json(response).await.as_array().unwrap().to_vec();
        assert_eq!(
            in_folder
                .iter()
                .map(|note| note["id"].clone())
                .collect::<Vec<_>>(),
            [json!(1), json!(4)],
            "search within an inverse collection"
        );
        let response = app
            .request(Method::DELETE, "/notes/2")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
        assert_eq!(page("q=alpha").await, (vec![1, 4], "3".into()));
        assert_eq!(page("q=alpha&page=2").await, (vec![5], "3".into()));
        assert_eq!(page("q=two").await, (vec![], "0".into()));
        let response = app
            .request(Method::POST, "/_standin/reset")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(page("q=alpha").await, (vec![1, 2], "4".into()));

        let response = app.get_json("/labels?q=alpha").await;
        assert_eq!(header(&response, "x-total-count").as_deref(), Some("2"));
        let names: Vec<Value> = json(response)
            .await
            .as_array()
            .unwrap()
            .iter()
            .map(|label| label["id"].clone())
            .collect();
        assert_eq!(
            names,
            [json!("alpha"), json!("zeta")],
            "ordered by id, not by insertion"
        );
        let descending: Vec<Value> = json(app.get_json("/labels?q=alpha&sort=-id").await)
            .await
            .as_array()
            .unwrap()
            .iter()
            .map(|label| label["id"].clone())
            .collect();
        assert_eq!(descending, [json!("zeta"), json!("alpha")]);
    }
}

#[tokio::test]
async fn search_without_text_fields_is_400() {
    let app = spawn("standin: 1\nresources:\n  counters:\n    fields: { value: integer }\n");
    let body = problem(app.get("/counters?q=x").await, 400).await;
    assert_eq!(body["parameter"], "q");
}
