//! Sorting and paging: orders with ties, pages that never overlap, json-server's
//! and react-admin's windows, templates and the paging headers CORS exposes.

use super::*;

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
