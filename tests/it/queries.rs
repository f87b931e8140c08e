//! Queries on collections: filters and operators on every field type, sort,
//! search, embedding, inverse collections, sparse fieldsets, json-server's
//! and react-admin's parameters, and every rejection.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Storage, TestApp, header, json, problem, spawn, spawn_with};

pub const BOOKS: &str = r#"
standin: 1
base_path: /api
page_size: 5
resources:
  authors:
    fields:
      name: { type: string, required: true }
    records:
      - { name: "Frank Herbert" }
      - { name: "Ursula Le Guin" }
      - { name: "Émile Zola" }
  books:
    fields:
      title: { type: string, required: true }
      year: integer
      price: number
      in_print: boolean
      published_on: date
      added_at: datetime
      tags: { type: array, items: { type: string } }
      meta: object
      author: { ref: authors }
    search: [title]
    records:
      - { title: "Dune", year: 1965, price: 9.99, in_print: true, published_on: "1965-08-01", added_at: "2020-01-01T10:00:00Z", tags: [scifi, classic], author: 1 }
      - { title: "Dune Messiah", year: 1969, price: 7.5, in_print: true, published_on: "1969-10-15", added_at: "2020-02-01T10:00:00Z", tags: [scifi], author: 1 }
      - { title: "The Left Hand of Darkness", year: 1969, price: 12, in_print: false, published_on: "1969-03-01", added_at: "2021-01-01T10:00:00Z", tags: [scifi, gender], author: 2 }
      - { title: "The Dispossessed", year: 1974, price: 11.25, in_print: true, published_on: "1974-05-01", added_at: "2021-06-01T10:00:00Z", tags: [], author: 2 }
      - { title: "Germinal", year: 1885, price: 5, in_print: false, published_on: "1885-03-01", added_at: "2019-01-01T10:00:00Z", tags: [classic], author: 3 }
      - { title: "L'Assommoir", year: 1877, in_print: true, author: 3 }
      - { title: "Untitled draft" }
"#;

/// The ids a collection query returns, in order (plain JSON, up to 100).
async fn ids(app: &TestApp, path_and_query: &str) -> Vec<i64> {
    let separator = if path_and_query.contains('?') {
        '&'
    } else {
        '?'
    };
    let response = app
        .get_json(&format!("{path_and_query}{separator}per_page=100"))
        .await;
    assert_eq!(response.status(), 200, "{path_and_query}");
    json(response)
        .await
        .as_array()
        .expect("a bare array")
        .iter()
        .map(|item| item["id"].as_i64().unwrap())
        .collect()
}

/// Asserts that each `(query, ids)` pair selects exactly those ids.
async fn check(app: &TestApp, cases: &[(&str, &[i64])]) {
    for (query, expected) in cases {
        assert_eq!(
            ids(app, &format!("/books?{query}")).await,
            *expected,
            "{query}"
        );
    }
}

#[tokio::test]
async fn equality_filters_work_on_every_field_type() {
    for storage in Storage::BOTH {
        let app = spawn_with(BOOKS, storage);
        check(
            &app,
            &[
                ("year=1969", &[2, 3]),
                ("year=1969.0", &[2, 3]),
                ("price=7.5", &[2]),
                ("price=12", &[3]),
                ("in_print=false", &[3, 5]),
                ("published_on=1965-08-01", &[1]),
                ("added_at=2020-01-01T10:00:00Z", &[1]),
                ("title=Dune", &[1]),
                ("author=3", &[5, 6]),
                ("id=1&id=3", &[1, 3]),
            ],
        )
        .await;
    }
}

#[tokio::test]
async fn repeating_a_parameter_means_any_of_its_values() {
    let app = spawn(BOOKS);
    check(
        &app,
        &[
            ("year=1969&year=1974", &[2, 3, 4]),
            ("author=1&author=2&year=1969", &[2, 3]),
        ],
    )
    .await;
}

#[tokio::test]
async fn comparison_operators_are_typed_by_the_field() {
    for storage in Storage::BOTH {
        let app = spawn_with(BOOKS, storage);
        check(
            &app,
            &[
                ("year__lt=1900", &[5, 6]),
                ("year__lte=1965", &[1, 5, 6]),
                ("year__gt=1969", &[4]),
                ("year__gte=1969", &[2, 3, 4]),
                ("price__gt=9.99", &[3, 4]),
                ("price__lte=7.5", &[2, 5]),
                ("published_on__lt=1969-05-01", &[1, 3, 5]),
                ("added_at__gte=2021-01-01", &[3, 4]),
                ("title__gt=T", &[3, 4, 7]),
                ("id__gt=5", &[6, 7]),
                ("created_at__lt=2025-01-01T00:02:00Z", &[1, 2]),
            ],
        )
        .await;
    }
}

#[tokio::test]
async fn ne_in_contains_startswith_and_isnull() {
    for storage in Storage::BOTH {
        let app = spawn_with(BOOKS, storage);
        check(
            &app,
            &[
                ("year__ne=1969", &[1, 4, 5, 6, 7]),
                ("year__in=1965,1974", &[1, 4]),
                ("author__in=1,3", &[1, 2, 5, 6]),
                ("title__contains=DUNE", &[1, 2]),
                ("title__contains=ASSOMM", &[6]),
                ("tags__contains=classic", &[1, 5]),
                ("title__startswith=the", &[3, 4]),
                ("year__isnull=true", &[7]),
                ("author__isnull=false", &[1, 2, 3, 4, 5, 6]),
                ("meta__isnull=true", &[1, 2, 3, 4, 5, 6, 7]),
                ("tags__isnull=true", &[6, 7]),
            ],
        )
        .await;
    }
}

#[tokio::test]
async fn text_operators_ignore_case_beyond_ascii() {
    let app = spawn(BOOKS);
    assert_eq!(ids(&app, "/authors?name__startswith=émile").await, [3]);
    assert_eq!(ids(&app, "/authors?name__contains=ÉMILE").await, [3]);
}

#[tokio::test]
async fn json_server_operators_map_onto_the_same_filters() {
    let app = spawn(BOOKS);
    check(
        &app,
        &[
            ("year_gte=1969&year_lte=1970", &[2, 3]),
            ("year_ne=1969", &[1, 4, 5, 6, 7]),
            ("title_like=^dune", &[1, 2]),
            ("title_like=ness$", &[3]),
        ],
    )
    .await;
}

#[tokio::test]
async fn bad_filters_are_400_naming_the_parameter() {
    let app = spawn(BOOKS);
    for (query, parameter, fragment) in [
        ("year=abc", "year", "must be a whole number"),
        ("year=1969.5", "year", "must be a whole number"),
        ("price=cheap", "price", "must be a number"),
        ("in_print=maybe", "in_print", "must be true or false"),
        ("published_on=1969-13-01", "published_on", "must be a date"),
        (
            "added_at__gte=yesterday",
            "added_at__gte",
            "must be a date-time",
        ),
        ("author=x", "author", "must be a whole number"),
        ("tags=x", "tags", "array fields take __contains"),
        (
            "meta__contains=x",
            "meta__contains",
            "object fields take only __isnull",
        ),
        ("year__contains=1", "year__contains", "apply to text"),
        ("in_print__gt=true", "in_print__gt", "boolean fields"),
        (
            "year__isnull=maybe",
            "year__isnull",
            "must be true or false",
        ),
        ("title_like=[", "title_like", "must be a regular expression"),
        ("yaer=1", "yaer", "did you mean 'year'?"),
        ("yaer__gte=1", "yaer__gte", "did you mean 'year'?"),
        ("year__gtee=1", "year__gtee", "did you mean 'gte'?"),
        ("colour=red", "colour", "not a field of books"),
    ] {
        let body = problem(app.get(&format!("/books?{query}")).await, 400).await;
        assert_eq!(body["parameter"], parameter, "{query}: {body}");
        assert!(
            body["detail"].as_str().unwrap().contains(fragment),
            "{query}: {body}"
        );
    }
}

#[tokio::test]
async fn sort_orders_with_ties_broken_by_id() {
    for storage in Storage::BOTH {
        let app = spawn_with(BOOKS, storage);
        check(
            &app,
            &[
                ("sort=year", &[7, 6, 5, 1, 2, 3, 4]),
                ("sort=-year", &[4, 2, 3, 1, 5, 6, 7]),
                ("sort=-year,title", &[4, 2, 3, 1, 5, 6, 7]),
                ("sort=-year,-title", &[4, 3, 2, 1, 5, 6, 7]),
                ("sort=title", &[1, 2, 5, 6, 4, 3, 7]),
                ("sort=-id", &[7, 6, 5, 4, 3, 2, 1]),
                ("sort=in_print", &[7, 3, 5, 1, 2, 4, 6]),
            ],
        )
        .await;
    }
}

#[tokio::test]
async fn pages_of_a_sorted_collection_never_overlap_or_skip() {
    let app = spawn(BOOKS);
    let full = ids(&app, "/books?sort=in_print").await;
    let mut paged = Vec::new();
    for page in 1..=4 {
        let response = app
            .get_json(&format!("/books?sort=in_print&per_page=2&page={page}"))
            .await;
        let items = json(response).await;
        paged.extend(
            items
                .as_array()
                .unwrap()
                .iter()
                .map(|item| item["id"].as_i64().unwrap()),
        );
    }
    assert_eq!(paged, full);
}

#[tokio::test]
async fn the_spec_sets_the_default_order() {
    let app = spawn(&BOOKS.replace(
        "    search: [title]\n",
        "    search: [title]\n    sort: -year\n",
    ));
    assert_eq!(ids(&app, "/books").await, [4, 2, 3, 1, 5, 6, 7]);
    assert_eq!(
        ids(&app, "/books?sort=id").await,
        [1, 2, 3, 4, 5, 6, 7],
        "a request's sort wins"
    );
}

#[tokio::test]
async fn bad_sorts_are_400() {
    let app = spawn(BOOKS);
    for (query, parameter, fragment) in [
        ("sort=yaer", "sort", "did you mean 'year'?"),
        ("sort=tags", "sort", "cannot be sorted on"),
        ("_order=desc", "_order", "needs _sort"),
        ("_sort=year&_order=sideways", "_order", "asc or desc"),
        (
            "sort=%5B%22title%22%5D",
            "sort",
            "[\"field\", \"ASC\" or \"DESC\"]",
        ),
    ] {
        let body = problem(app.get(&format!("/books?{query}")).await, 400).await;
        assert_eq!(body["parameter"], parameter, "{query}: {body}");
        assert!(
            body["detail"].as_str().unwrap().contains(fragment),
            "{query}: {body}"
        );
    }
}

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
async fn json_server_paging_and_sorting_parameters_work() {
    let app = spawn(BOOKS);
    let cases: &[(&str, &[i64])] = &[
        ("_page=2&_limit=2", &[3, 4]),
        ("_page=2&_per_page=2", &[3, 4]),
        ("_start=1&_end=3", &[2, 3]),
        ("_start=1&_limit=2", &[2, 3]),
        ("_sort=year&_order=desc&_start=0&_end=3", &[4, 2, 3]),
        ("_sort=-year&_limit=2", &[4, 2]),
        ("_sort=year,title&_order=desc,asc&_limit=3", &[4, 2, 3]),
    ];
    for (query, expected) in cases {
        let items = json(app.get_json(&format!("/books?{query}")).await).await;
        let found: Vec<i64> = items
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["id"].as_i64().unwrap())
            .collect();
        assert_eq!(found, *expected, "{query}");
    }
    let response = app.get_json("/books?_start=0&_end=2").await;
    assert_eq!(header(&response, "x-total-count").as_deref(), Some("7"));
}

#[tokio::test]
async fn react_admin_simple_rest_parameters_work_and_get_content_range() {
    let app = spawn(BOOKS);
    let query =
        "sort=%5B%22title%22,%22DESC%22%5D&range=%5B0,2%5D&filter=%7B%22author%22:%5B1,2%5D%7D";
    let response = app.get_json(&format!("/books?{query}")).await;
    assert_eq!(
        header(&response, "content-range").as_deref(),
        Some("books 0-2/4")
    );
    let items = json(response).await;
    let found: Vec<i64> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_i64().unwrap())
        .collect();
    assert_eq!(found, [3, 4, 2]);
    assert_eq!(
        ids(&app, "/books?filter=%7B%22q%22:%22dune%22%7D").await,
        [1, 2]
    );
    assert_eq!(
        ids(&app, "/books?filter=%7B%22id%22:%5B1,3%5D%7D").await,
        [1, 3]
    );
    assert_eq!(
        ids(&app, "/books?filter=%7B%22id%22:%5B%5D%7D").await,
        Vec::<i64>::new()
    );
    let empty = app.get_json("/books?range=%5B10,14%5D").await;
    assert_eq!(
        header(&empty, "content-range").as_deref(),
        Some("books */7")
    );
}

#[tokio::test]
async fn an_unknown_range_unit_header_is_ignored() {
    let app = spawn(BOOKS);
    let response = app
        .request(Method::GET, "/books")
        .header("range", "items=0-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(json(response).await["total"], 7);
}

#[tokio::test]
async fn bad_windows_are_400() {
    let app = spawn(BOOKS);
    for (query, parameter) in [
        ("page=0", "page"),
        ("per_page=101", "per_page"),
        ("_limit=0", "_limit"),
        ("_start=5&_end=1", "_end"),
        ("_start=0&_end=500", "_end"),
        ("range=%5B5,1%5D", "range"),
        ("range=nope", "range"),
        ("filter=%5B1%5D", "filter"),
    ] {
        let body = problem(app.get(&format!("/books?{query}")).await, 400).await;
        assert_eq!(body["parameter"], parameter, "{query}: {body}");
    }
}

#[tokio::test]
async fn templates_name_the_real_parameters() {
    let app = spawn(BOOKS);
    let home = json(app.get("").await).await;
    assert_eq!(
        home["_links"]["books"]["href"],
        "/api/books{?page,per_page,sort,q,embed,fields,id,title,year,price,in_print,published_on,added_at,author}"
    );
    let page = json(app.get("/books").await).await;
    assert_eq!(page["_links"]["search"]["templated"], true);
    assert!(
        page["_links"]["search"]["href"]
            .as_str()
            .unwrap()
            .starts_with("/api/books{?page,")
    );
    let inverse = json(app.get("/authors/1/books").await).await;
    assert!(
        inverse["_links"]["search"]["href"]
            .as_str()
            .unwrap()
            .starts_with("/api/authors/1/books{?")
    );
}

#[tokio::test]
async fn cors_is_open_and_exposes_the_paging_headers() {
    let app = spawn(BOOKS);
    let response = app
        .request(Method::GET, "/books")
        .header("origin", "http://localhost:3000")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&response, "access-control-allow-origin").as_deref(),
        Some("*")
    );
    let exposed = header(&response, "access-control-expose-headers")
        .unwrap()
        .to_ascii_lowercase();
    for name in ["x-total-count", "content-range", "link", "location", "etag"] {
        assert!(exposed.contains(name), "{name} in {exposed}");
    }
    let preflight = app
        .request(Method::OPTIONS, "/books/1")
        .header("origin", "http://localhost:3000")
        .header("access-control-request-method", "DELETE")
        .header("access-control-request-headers", "prefer, content-type")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert!(
        header(&preflight, "access-control-allow-methods")
            .unwrap()
            .contains("DELETE")
    );
}

#[tokio::test]
async fn expand_adds_the_record_beside_a_json_server_style_id_field() {
    let spec = "standin: 1\nresources:\n  posts:\n    fields: { title: string }\n    records: [{ title: a }]\n  comments:\n    fields:\n      postId: { ref: posts }\n    records: [{ postId: 1 }]\n";
    let app = spawn(spec);
    let comment = json(app.get_json("/comments/1?_expand=post").await).await;
    assert_eq!(comment["postId"], 1);
    assert_eq!(comment["post"]["title"], "a");
}

#[tokio::test]
async fn an_unaligned_window_links_to_windows_of_its_size() {
    let app = spawn(BOOKS);
    let response = app.get("/books?_start=1&_end=3").await;
    let page = json(response).await;
    assert_eq!(
        page["_links"]["next"]["href"],
        "/api/books?_start=3&_limit=2"
    );
    assert_eq!(
        page["_links"]["prev"]["href"],
        "/api/books?_start=0&_limit=2"
    );
}

#[tokio::test]
async fn two_ways_of_paging_or_sorting_at_once_are_400() {
    let app = spawn(BOOKS);
    for (query, parameter) in [
        ("sort=year&_sort=title", "_sort"),
        ("page=2&_start=3", "page"),
        ("per_page=5&_end=9", "per_page"),
    ] {
        let body = problem(app.get(&format!("/books?{query}")).await, 400).await;
        assert_eq!(body["parameter"], parameter, "{query}");
    }
}

#[tokio::test]
async fn a_huge_like_pattern_is_400_not_500() {
    let app = spawn(BOOKS);
    problem(app.get("/books?title_like=k%7B5000%7D").await, 400).await;
    problem(app.get("/books?title_like=k%7B40000%7D").await, 400).await;
}

#[tokio::test]
async fn date_times_sort_as_points_in_time() {
    let spec = "standin: 1\nresources:\n  events:\n    fields: { at: datetime }\n    records:\n      - { at: \"2024-01-01T10:00:00+05:00\" }\n      - { at: \"2024-01-01T06:00:00Z\" }\n      - { at: \"2024-01-01T04:00:00Z\" }\n";
    let app = spawn(spec);
    let events = json(app.get_json("/events?sort=at").await).await;
    let ids: Vec<i64> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [3, 1, 2], "05:00Z, 05:00Z+, 06:00Z");
    let late = json(app.get_json("/events?at__gte=2024-01-01t05:30:00z").await).await;
    assert_eq!(late.as_array().unwrap().len(), 1);
    problem(app.get("/events?at__gte=%2B2024-01-01").await, 400).await;
}
