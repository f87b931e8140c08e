//! The browsable API over HTTP: which requests get pages, what the pages hold,
//! that user data is escaped, and that JSON clients are unaffected. (The
//! pages in a real browser: `clients::the_browsable_api_works_in_chromium`.)

use reqwest::{Method, Response};
use serde_json::json;

use crate::helpers::{LIBRARY, TestApp, header, json, spawn};

/// What Chromium and Firefox send when navigating.
const BROWSER: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

async fn browse(app: &TestApp, path: &str) -> Response {
    app.request(Method::GET, path)
        .header("accept", BROWSER)
        .send()
        .await
        .expect("the request is answered")
}

/// The page at `path`, asserting it is one.
async fn page(app: &TestApp, path: &str) -> String {
    let response = browse(app, path).await;
    assert_eq!(response.status(), 200, "{path}");
    assert_eq!(
        header(&response, "content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    let policy = header(&response, "content-security-policy").expect("a CSP");
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    response.text().await.unwrap()
}

#[tokio::test]
async fn browsers_get_pages_of_home_collections_items_and_inverse_collections() {
    let app = spawn(LIBRARY);
    let home = page(&app, "").await;
    assert!(home.contains("<h1>Library</h1>"), "{home}");
    assert!(home.contains("<a href=\"/api/books\">books</a></td><td class=\"number\">25</td>"));
    let books = page(&app, "/books").await;
    assert!(books.contains("10 records") || books.contains("25 records"));
    let item = page(&app, "/books/1").await;
    assert!(
        item.contains("<a href=\"/api/books/1/reviews\">reviews</a>"),
        "{item}"
    );
    let reviews = page(&app, "/books/1/reviews").await;
    assert!(reviews.contains("<li aria-current=\"page\">/api/books/1/reviews</li>"));
    let admin = page(&app, "/_standin").await;
    assert!(admin.contains("data-admin=\"/api/_standin\""));
}

#[tokio::test]
async fn json_clients_get_json_exactly_as_before() {
    let app = spawn(LIBRARY);
    for accept in [None, Some("*/*"), Some("application/json, text/plain, */*")] {
        let mut request = app.request(Method::GET, "/books/1");
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        let response = request.send().await.unwrap();
        let kind = header(&response, "content-type").unwrap();
        assert!(kind.starts_with("application/"), "{accept:?}: {kind}");
        assert!(header(&response, "content-security-policy").is_none());
        json(response).await;
    }
    // HTML named with a lower q-value than JSON loses.
    let response = app
        .request(Method::GET, "/books")
        .header("accept", "text/html;q=0.5, application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&response, "content-type").as_deref(),
        Some("application/json")
    );
    // Writes never answer pages: a browser's script asks for JSON.
    let response = app
        .request(Method::POST, "/authors")
        .header("accept", "text/html")
        .header("content-type", "application/json")
        .body(json!({ "name": "Ann" }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 406);
}

#[tokio::test]
async fn pages_and_json_are_cached_and_tagged_apart() {
    let app = spawn(LIBRARY);
    for path in ["/books?per_page=5", "/books/2"] {
        let html = browse(&app, path).await;
        let html_tag = header(&html, "etag").unwrap();
        let plain = app.get_json(path).await;
        let plain_tag = header(&plain, "etag").unwrap();
        assert_ne!(html_tag, plain_tag, "{path}");
        assert_eq!(
            header(&plain, "content-type").as_deref(),
            Some("application/json")
        );
        // Again, now from the read cache: each still gets its own.
        let again = browse(&app, path).await;
        assert_eq!(header(&again, "etag").unwrap(), html_tag);
        assert!(
            header(&again, "content-type")
                .unwrap()
                .starts_with("text/html")
        );
        let again = app.get_json(path).await;
        assert_eq!(
            header(&again, "content-type").as_deref(),
            Some("application/json")
        );
        assert_eq!(header(&again, "vary").as_deref(), Some("Accept, Origin"));
    }
}

#[tokio::test]
async fn markup_in_records_is_shown_as_text() {
    let app = spawn(LIBRARY);
    let hostile = "<script>alert(\"x\")</script><img src=x onerror='alert(1)'>";
    let created = app
        .post(
            "/authors",
            json!({ "name": hostile, "email": "a@b.example" }),
        )
        .await;
    assert_eq!(created.status(), 201);
    let id = json(created).await["id"].clone();
    let escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=&#39;alert(1)&#39;&gt;";
    for path in [format!("/authors/{id}"), "/authors?sort=-id".to_string()] {
        let body = page(&app, &path).await;
        assert!(body.contains(escaped), "{path}: {body}");
        assert!(!body.contains("<script>alert"), "{path}");
        assert!(!body.contains("<img src=x"), "{path}");
    }
    // Query parameters shown back in the filter form are escaped too.
    let body = page(&app, "/authors?name__contains=%22%3E%3Cscript%3E").await;
    assert!(
        body.contains("value=\"&quot;&gt;&lt;script&gt;\""),
        "{body}"
    );
    assert!(!body.contains("\"><script>"));
}

#[tokio::test]
async fn a_collection_page_has_paging_sorting_filters_search_and_a_create_form() {
    let app = spawn(LIBRARY);
    let body = page(&app, "/books?page=2&per_page=5&genre=fiction").await;
    // Paging: the page's own links.
    for rel in ["first", "prev", "next", "last"] {
        assert!(body.contains(&format!("rel=\"{rel}\"")), "{rel}: {body}");
    }
    // Sorting by a column keeps the filter and starts again at page 1.
    assert!(
        body.contains("href=\"/api/books?genre=fiction&amp;per_page=5&amp;sort=year\""),
        "{body}"
    );
    // Filters from the fields: an enum is a select showing the value in force,
    // numbers get ranges with the API's operators.
    assert!(body.contains("<select id=\"filter-genre\" name=\"genre\">"));
    assert!(body.contains("<option value=\"fiction\" selected>fiction</option>"));
    assert!(body.contains("name=\"year__gte\"") && body.contains("name=\"year__lte\""));
    assert!(body.contains("name=\"q\""));
    // The create form from the fields: required, bounds, enum choices.
    assert!(body.contains("data-standin-form=\"POST\" data-action=\"/api/books\""));
    assert!(body.contains("name=\"title\" data-type=\"string\""));
    assert!(body.contains("min=\"1450\" max=\"2100\""));
    assert!(body.contains("<option value=\"&quot;science&quot;\">science</option>"));
    assert!(body.contains("data-error-for=\"year\""));
    // Each filter the page offers is one the API accepts.
    for query in [
        "year__gte=1900&year__lte=2000",
        "q=the",
        "genre=history&sort=-year",
    ] {
        let response = browse(&app, &format!("/books?{query}")).await;
        assert_eq!(response.status(), 200, "{query}");
    }
}

#[tokio::test]
async fn an_item_page_links_references_and_carries_the_tag_edits_need() {
    let app = spawn(LIBRARY);
    let plain = app.get_json("/books/3").await;
    let tag = header(&plain, "etag").unwrap();
    let book = json(plain).await;
    let body = page(&app, "/books/3").await;
    let author = format!(
        "<a href=\"/api/authors/{}\">authors {}</a>",
        book["author"], book["author"]
    );
    assert!(body.contains(&author), "{body}");
    // The edit form PATCHes with If-Match: the JSON's entity tag, which the API accepts.
    let escaped_tag = tag.replace('"', "&quot;");
    assert!(
        body.contains(&format!(
            "data-standin-form=\"PATCH\" data-action=\"/api/books/3\" data-etag=\"{escaped_tag}\""
        )),
        "{body}"
    );
    let patched = app
        .request(Method::PATCH, "/books/3")
        .header("content-type", "application/json")
        .header("if-match", tag.as_str())
        .body(json!({ "title": "New" }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    assert!(body.contains("data-standin-delete=\"/api/books/3\""));
}

#[tokio::test]
async fn pages_show_embedded_records_at_every_depth() {
    let app = spawn(LIBRARY);
    let hostile = "<b>Bold</b> & co";
    let created = app
        .post(
            "/authors",
            json!({ "name": hostile, "email": "x@y.example" }),
        )
        .await;
    let author = json(created).await["id"].clone();
    let book = json(
        app.post(
            "/books",
            json!({ "title": "Embedded", "year": 2001, "author": author }),
        )
        .await,
    )
    .await["id"]
        .clone();
    for stars in [2, 5] {
        let review = app
            .post("/reviews", json!({ "book": book, "stars": stars }))
            .await;
        assert_eq!(review.status(), 201);
    }
    let reviews = json(app.get_json(&format!("/books/{book}/reviews")).await).await;
    let review_ids: Vec<String> = reviews
        .as_array()
        .expect("a plain JSON page is an array")
        .iter()
        .map(|review| review["id"].to_string())
        .collect();
    assert_eq!(review_ids.len(), 2, "{reviews}");
    let author_link = format!("<a href=\"/api/authors/{author}\">authors {author}</a>");
    let escaped = "&lt;b&gt;Bold&lt;/b&gt; &amp; co";

    // An item's page: each embedded record in full, a reference and an inverse.
    let item = page(&app, &format!("/books/{book}?embed=author,reviews")).await;
    let embedded = item
        .split_once("<h2 id=\"embedded-heading\">Embedded</h2>")
        .expect("an Embedded section")
        .1;
    assert!(embedded.contains("<dt>author</dt>"), "{item}");
    assert!(embedded.contains(&author_link), "{item}");
    assert!(
        embedded.contains(escaped) && !item.contains(hostile),
        "{item}"
    );
    assert!(embedded.contains("<dt>reviews</dt><dd><ol class=\"embedded\">"));
    for id in &review_ids {
        assert!(
            embedded.contains(&format!("<a href=\"/api/reviews/{id}\">reviews {id}</a>")),
            "{id}: {item}"
        );
    }
    // Two segments deep: the author's books, each with its reviews.
    let deep = page(&app, &format!("/authors/{author}?embed=books.reviews")).await;
    let books = deep.split_once("<dt>books</dt>").expect("the books").1;
    let book_at = books
        .find(&format!("<a href=\"/api/books/{book}\">books {book}</a>"))
        .expect("the book");
    let nested = &books[book_at..];
    assert!(nested.contains("<dt>reviews</dt>"), "{deep}");
    for id in &review_ids {
        assert!(nested.contains(&format!("reviews {id}</a>")), "{deep}");
    }
    // Without embeds, no section.
    let bare = page(&app, &format!("/books/{book}")).await;
    assert!(!bare.contains("embedded-heading"), "{bare}");

    // A collection's table: a column per embed, links in its cells, deeper
    // embeds under each link; the filter form keeps the embed.
    let table = page(&app, "/reviews?embed=book.author&sort=-id&per_page=2").await;
    assert!(
        table.contains("<th scope=\"col\">book <small>embedded</small></th>"),
        "{table}"
    );
    assert!(
        table.contains(&format!(
            "<a href=\"/api/books/{book}\">books {book}</a><ul class=\"embedded\"><li>author: {author_link}</li></ul>"
        )),
        "{table}"
    );
    assert!(
        table.contains("<input type=\"hidden\" name=\"embed\" value=\"book.author\">"),
        "{table}"
    );
    assert!(
        table.contains("href=\"/api/reviews?embed=book.author&amp;per_page=2&amp;sort=stars\""),
        "sorting keeps the embed: {table}"
    );
    let inverse = page(&app, &format!("/authors?embed=books&id={author}")).await;
    assert!(
        inverse.contains("<th scope=\"col\">books <small>embedded</small></th>"),
        "{inverse}"
    );
    assert!(
        inverse.contains(&format!(
            "<td><ul class=\"embedded\"><li><a href=\"/api/books/{book}\">books {book}</a></li></ul></td>"
        )),
        "{inverse}"
    );
}

#[tokio::test]
async fn the_assets_are_served_and_missing_ones_are_404() {
    let app = spawn(LIBRARY);
    let script = app.get("/_standin/assets/standin.js").await;
    assert_eq!(script.status(), 200);
    assert_eq!(
        header(&script, "content-type").as_deref(),
        Some("text/javascript; charset=utf-8")
    );
    let text = script.text().await.unwrap();
    assert!(
        !text.contains("innerHTML"),
        "the script never parses markup"
    );
    let style = app.get("/_standin/assets/standin.css").await;
    assert_eq!(style.status(), 200);
    assert_eq!(app.get("/_standin/assets/nothing.js").await.status(), 404);
    // The admin route itself still answers JSON clients as before.
    assert_eq!(app.get("/_standin").await.status(), 404);
}

#[tokio::test]
async fn problems_answering_a_browser_are_pages_with_their_status() {
    let app = spawn(LIBRARY);
    let response = browse(&app, "/books/999").await;
    assert_eq!(response.status(), 404);
    assert_eq!(
        header(&response, "content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    let body = response.text().await.unwrap();
    assert!(body.contains("<h1>404 Not Found</h1>"), "{body}");
    // Reviews are soft-deleted: a deleted one is 410, as a page too.
    let deleted = app
        .request(Method::DELETE, "/reviews/1")
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let response = browse(&app, "/reviews/1").await;
    assert_eq!(response.status(), 410);
    assert!(response.text().await.unwrap().contains("<h1>410 Gone</h1>"));
    // A bad query parameter's page names it, escaped.
    let response = browse(&app, "/books?%3Cb%3E=1").await;
    assert_eq!(response.status(), 400);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("&lt;b&gt;") && !body.contains("<b>"),
        "{body}"
    );
    // JSON clients still get problem+json.
    crate::helpers::problem(app.get("/books/999").await, 404).await;
    crate::helpers::problem(app.get_json("/reviews/1").await, 410).await;
}

#[tokio::test]
async fn every_collection_and_item_of_the_example_specs_has_a_page() {
    for name in ["blog.yaml", "shop.yaml", "todo.yaml"] {
        let path = format!("{}/specs/{name}", env!("CARGO_MANIFEST_DIR"));
        let app = spawn(&std::fs::read_to_string(path).unwrap());
        let home = json(app.get_json("").await).await;
        page(&app, "").await;
        let collections: Vec<String> = home
            .as_object()
            .map(|home| home.keys().cloned().collect())
            .unwrap_or_default();
        let spec = json(app.get("/_standin/spec").await).await;
        let resources = spec["resources"].as_object().expect("resources").clone();
        assert!(!resources.is_empty(), "{name}: {collections:?}");
        for resource in resources.keys() {
            let body = page(&app, &format!("/{resource}")).await;
            assert!(body.contains("<table>"), "{name} {resource}");
            let items = json(app.get_json(&format!("/{resource}?per_page=1")).await).await;
            if let Some(id) = items[0]["id"]
                .as_str()
                .map(String::from)
                .or(items[0]["id"].as_i64().map(|id| id.to_string()))
            {
                let body = page(&app, &format!("/{resource}/{id}")).await;
                assert!(
                    body.contains("<dl class=\"record\">"),
                    "{name} {resource} {id}"
                );
            }
        }
    }
}

#[tokio::test]
async fn the_admin_page_needs_no_token_but_its_data_does() {
    let app = crate::helpers::spawn_with_options(LIBRARY, |options| {
        options.admin_token = Some("sesame".into());
    });
    let body = page(&app, "/_standin").await;
    assert!(body.contains("<label for=\"admin-token\">"));
    assert_eq!(browse(&app, "/_standin/health").await.status(), 401);
    let health = app
        .request(Method::GET, "/_standin/health")
        .header("authorization", "Bearer sesame")
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    // A page of another site is refused, as before.
    let foreign = app
        .request(Method::POST, "/_standin/reset")
        .header("authorization", "Bearer sesame")
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
}

/// A db.json with enough posts to page, a reference and markup in a value.
fn blog_db_json() -> String {
    let posts: Vec<serde_json::Value> = (1..=12)
        .map(|id| {
            let title = if id == 1 {
                "alpha <b>".to_string()
            } else {
                format!("post {id}")
            };
            json!({"id": id, "title": title, "views": id * 10, "authorId": 1})
        })
        .collect();
    json!({"posts": posts, "authors": [{"id": 1, "name": "Ann"}], "profile": {"name": "me"}})
        .to_string()
}

/// The page at the absolute `url`, asserting it is one.
async fn page_at(client: &reqwest::Client, url: &str) -> String {
    let response = client
        .get(url)
        .header("accept", BROWSER)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{url}");
    assert_eq!(
        header(&response, "content-type").as_deref(),
        Some("text/html; charset=utf-8"),
        "{url}"
    );
    response.text().await.unwrap()
}

#[tokio::test]
async fn db_json_pages_use_json_servers_parameters_and_routes() {
    let db = crate::json_server::serve(&blog_db_json());
    let client = &db.client;
    let home = page_at(client, &db.url("/")).await;
    assert!(
        home.contains("<a href=\"/posts\">posts</a></td><td class=\"number\">12</td>"),
        "{home}"
    );
    let posts = page_at(client, &db.url("/posts")).await;
    assert!(
        posts.contains("Page 1 of 1 · 12 records"),
        "a whole list, as its JSON"
    );
    assert!(posts.contains("<option value=\"\" selected>all</option>"));
    assert!(
        posts.contains("href=\"/posts?_sort=title&amp;_order=asc\""),
        "{posts}"
    );
    for control in [
        "name=\"q\"",
        "name=\"views_gte\"",
        "name=\"views_lte\"",
        "name=\"title_like\"",
        "name=\"_limit\"",
    ] {
        assert!(posts.contains(control), "{control}");
    }
    assert!(posts.contains("<a href=\"/posts/1\">1</a>"));
    assert!(
        posts.contains("<a href=\"/authors/1\">1</a>"),
        "authorId links its author"
    );
    assert!(posts.contains("alpha &lt;b&gt;") && !posts.contains("alpha <b>"));
    assert!(posts.contains("data-standin-form=\"POST\" data-action=\"/posts\""));
    assert!(
        posts.contains("name=\"title\""),
        "the create form has the records' properties"
    );

    let second = page_at(client, &db.url("/posts?_page=2&_limit=5")).await;
    assert!(second.contains("Page 2 of 3 · 12 records"), "{second}");
    assert!(second.contains("rel=\"next\" href=\"/posts?_page=3&amp;_limit=5\""));
    assert!(second.contains("rel=\"prev\" href=\"/posts?_page=1&amp;_limit=5\""));
    let raw = db.body("/posts?_page=2&_limit=5").await;
    let ids: Vec<i64> = raw
        .as_array()
        .unwrap()
        .iter()
        .map(|post| post["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        [6, 7, 8, 9, 10],
        "the JSON of the page's URL is what the page shows"
    );
    for id in ids {
        assert!(second.contains(&format!("<a href=\"/posts/{id}\">{id}</a>")));
    }
    assert!(!second.contains("<a href=\"/posts/11\">"));

    let sorted = page_at(client, &db.url("/posts?_sort=views&_order=desc")).await;
    assert!(
        sorted.contains("aria-sort=\"descending\"><a href=\"/posts?_sort=views&amp;_order=asc\""),
        "{sorted}"
    );
    let first_row = sorted.find("<a href=\"/posts/12\">").unwrap();
    assert!(first_row < sorted.find("<a href=\"/posts/11\">").unwrap());

    let item = page_at(client, &db.url("/posts/1")).await;
    assert!(
        item.contains("<dt>title</dt><dd>alpha &lt;b&gt;</dd>"),
        "{item}"
    );
    assert!(
        item.contains("data-standin-form=\"PATCH\" data-action=\"/posts/1\" data-etag=\"\""),
        "no If-Match"
    );
    assert!(item.contains("data-standin-delete=\"/posts/1\""));
    let profile = page_at(client, &db.url("/profile")).await;
    assert!(profile.contains("<dt>name</dt><dd>me</dd>"), "{profile}");
    assert!(profile.contains("data-standin-form=\"PATCH\" data-action=\"/profile\""));
    assert!(
        !profile.contains("data-standin-delete"),
        "a singular object has no DELETE"
    );
    let missing = client
        .get(db.url("/posts/99"))
        .header("accept", BROWSER)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert!(missing.text().await.unwrap().contains("<h1>404 "));

    let plain = db.get("/posts/1").await;
    assert_eq!(
        header(&plain, "content-type").as_deref(),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(
        json(plain).await["title"],
        "alpha <b>",
        "JSON clients see JSON"
    );
}

#[tokio::test]
async fn openapi_pages_use_the_documents_paths_and_declared_parameters() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/import-cases/openapi/petstore-expanded.yaml"
    ))
    .unwrap();
    let app = spawn(&text);
    assert!(app.url("").ends_with("/v2"), "the banner's browse URL");
    let home = page(&app, "").await;
    assert!(
        home.contains("<a href=\"/v2/pets\">pets</a></td><td class=\"number\">10</td>"),
        "{home}"
    );
    let pets = page(&app, "/pets").await;
    assert!(
        pets.contains("name=\"tags\"") && pets.contains("name=\"limit\""),
        "declared: {pets}"
    );
    assert!(
        !pets.contains("name=\"q\"") && !pets.contains("aria-sort"),
        "nothing undeclared"
    );
    assert!(pets.contains("<a href=\"/v2/pets/1\">1</a>"));
    assert!(pets.contains("data-standin-form=\"POST\" data-action=\"/v2/pets\""));
    let three = page(&app, "/pets?limit=3").await;
    assert!(
        three.contains("<a href=\"/v2/pets/3\">3</a>")
            && !three.contains("<a href=\"/v2/pets/4\">")
    );
    let pet = page(&app, "/pets/1").await;
    assert!(pet.contains("data-standin-delete=\"/v2/pets/1\""), "{pet}");
    assert!(
        !pet.contains("data-standin-form=\"PATCH\""),
        "the document has no PATCH"
    );
    let missing = browse(&app, "/pets/99").await;
    assert_eq!(missing.status(), 404);
    assert!(missing.text().await.unwrap().contains("<h1>404 "));
    let plain = json(app.get("/pets/1").await).await;
    assert_eq!(plain["id"], 1, "JSON clients see the document's JSON");
}
