//! Embed paths (`embed=author.company`, `embed=comments.author`): nested in
//! every representation, refused past the depth limit or at an unknown
//! segment, and cached answers that see writes to the deepest resource.

use super::*;

const BLOG: &str = r#"
standin: 1
base_path: /api
resources:
  companies:
    fields:
      name: string
    records: [{ name: Acme }, { name: Globex }]
  users:
    fields:
      name: string
      company: { ref: companies }
    records:
      - { name: Ann, company: 1 }
      - { name: Bob, company: 2 }
      - { name: Cy }
  posts:
    fields:
      title: string
      author: { ref: users }
    records:
      - { title: first, author: 1 }
      - { title: second, author: 2 }
      - { title: third, author: 3 }
  comments:
    fields:
      text: string
      post: { ref: posts }
      author: { ref: users }
    records:
      - { text: c1, post: 1, author: 2 }
      - { text: c2, post: 1, author: 3 }
      - { text: c3, post: 2, author: 1 }
"#;

/// The names of the authors of each comment embedded in `post` (plain JSON).
fn commenters(post: &Value) -> Vec<&str> {
    post["comments"]
        .as_array()
        .expect("comments")
        .iter()
        .map(|comment| comment["author"]["name"].as_str().expect("a name"))
        .collect()
}

#[tokio::test]
async fn a_path_embeds_through_inverses_and_references_in_plain_json() {
    let app = spawn(BLOG);
    // An inverse, then a reference.
    let posts = json(app.get_json("/posts?embed=comments.author").await).await;
    assert_eq!(commenters(&posts[0]), ["Bob", "Cy"]);
    assert_eq!(commenters(&posts[1]), ["Ann"]);
    assert_eq!(posts[2]["comments"], json!([]));
    assert_eq!(
        posts[0]["author"], 1,
        "the post's own reference is not embedded"
    );
    // A reference, then a reference; a null one stays null.
    let posts = json(app.get_json("/posts?embed=author.company").await).await;
    assert_eq!(posts[0]["author"]["company"]["name"], "Acme");
    assert_eq!(posts[1]["author"]["company"]["name"], "Globex");
    assert_eq!(posts[2]["author"]["name"], "Cy");
    assert_eq!(posts[2]["author"]["company"], Value::Null);
    // A reference, then an inverse, on an item.
    let comment = json(app.get_json("/comments/3?embed=post.comments").await).await;
    assert_eq!(comment["post"]["title"], "second");
    assert_eq!(comment["post"]["comments"][0]["text"], "c3");
    // An inverse, then an inverse, three levels.
    let company = json(
        app.get_json("/companies/1?embed=users.posts.comments")
            .await,
    )
    .await;
    let ann = &company["users"][0];
    assert_eq!(ann["name"], "Ann");
    assert_eq!(ann["posts"][0]["title"], "first");
    let texts: Vec<&Value> = ann["posts"][0]["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|comment| &comment["text"])
        .collect();
    assert_eq!(texts, ["c1", "c2"]);
}

#[tokio::test]
async fn several_paths_merge_where_they_share_a_start() {
    let app = spawn(BLOG);
    let post = json(
        app.get_json("/posts/1?embed=author.company,comments.author,comments&_embed=comments.post")
            .await,
    )
    .await;
    assert_eq!(post["author"]["company"]["name"], "Acme");
    assert_eq!(commenters(&post), ["Bob", "Cy"]);
    assert_eq!(post["comments"][0]["post"]["title"], "first");
    assert_eq!(post["comments"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn hal_nests_embedded_records_each_with_its_links() {
    let app = spawn(BLOG);
    let page = json(app.get("/posts?embed=comments.author,author.company").await).await;
    let first = &page["_embedded"]["posts"][0];
    let comment = &first["_embedded"]["comments"][0];
    assert_eq!(comment["_links"]["self"]["href"], "/api/comments/1");
    assert_eq!(comment["author"], 2, "the reference keeps its id in HAL");
    let author = &comment["_embedded"]["author"];
    assert_eq!(author["name"], "Bob");
    assert_eq!(author["_links"]["self"]["href"], "/api/users/2");
    assert!(
        author.get("_embedded").is_none(),
        "the path ends at the author: {author}"
    );
    let company = &first["_embedded"]["author"]["_embedded"]["company"];
    assert_eq!(company["name"], "Acme");
    assert_eq!(company["_links"]["self"]["href"], "/api/companies/1");
}

#[tokio::test]
async fn collection_json_links_every_embedded_record_by_its_path() {
    let app = spawn(BLOG);
    let embedded_links = |body: &Value| -> Vec<(String, String)> {
        body["collection"]["items"][0]["links"]
            .as_array()
            .expect("links")
            .iter()
            .filter(|link| {
                link["rel"]
                    .as_str()
                    .is_some_and(|rel| rel.starts_with("comments"))
            })
            .filter(|link| {
                link["href"]
                    .as_str()
                    .is_some_and(|href| !href.starts_with("/api/posts/"))
            })
            .map(|link| {
                (
                    link["rel"].as_str().unwrap().into(),
                    link["href"].as_str().unwrap().into(),
                )
            })
            .collect()
    };
    let link = |rel: &str, href: &str| (rel.to_string(), href.to_string());
    for (query, expected) in [
        ("", vec![]),
        (
            "embed=comments",
            vec![
                link("comments", "/api/comments/1"),
                link("comments", "/api/comments/2"),
            ],
        ),
        (
            "embed=comments.author.company",
            vec![
                link("comments", "/api/comments/1"),
                link("comments.author", "/api/users/2"),
                link("comments.author.company", "/api/companies/2"),
                link("comments", "/api/comments/2"),
                link("comments.author", "/api/users/3"),
            ],
        ),
    ] {
        let response = app
            .request(Method::GET, &format!("/posts/1?{query}"))
            .header("accept", "application/vnd.collection+json")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{query}");
        let body = json(response).await;
        assert_eq!(
            body["collection"]["items"][0]["href"], "/api/posts/1",
            "{query}"
        );
        assert_eq!(embedded_links(&body), expected, "{query}");
    }
    // Pages too.
    let response = app
        .request(Method::GET, "/posts?embed=author.company")
        .header("accept", "application/vnd.collection+json")
        .send()
        .await
        .unwrap();
    let body = json(response).await;
    let rels: Vec<&str> = body["collection"]["items"][0]["links"]
        .as_array()
        .expect("links")
        .iter()
        .filter_map(|link| link["rel"].as_str())
        .collect();
    assert!(rels.contains(&"author.company"), "{rels:?}");
}

#[tokio::test]
async fn a_path_too_deep_is_400_naming_the_limit() {
    let app = spawn(BLOG);
    let body = problem(
        app.get("/posts?embed=comments.author.posts.comments").await,
        400,
    )
    .await;
    assert_eq!(body["parameter"], "embed");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("'comments.author.posts.comments'") && detail.contains("at most 3 levels"),
        "{detail}"
    );
    let response = app.get("/posts/1?embed=comments.author.posts").await;
    assert_eq!(response.status(), 200, "three levels are allowed");
}

#[tokio::test]
async fn an_unknown_segment_is_400_naming_it_and_its_resource() {
    let app = spawn(BLOG);
    let body = problem(app.get("/posts?embed=author.compnay").await, 400).await;
    assert_eq!(body["parameter"], "embed");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("cannot embed 'compnay' (in 'author.compnay')")
            && detail.contains("did you mean 'company'?")
            && detail.contains("users can embed company, posts, comments"),
        "{detail}"
    );
    let body = problem(app.get("/posts/1?embed=comments..author").await, 400).await;
    assert_eq!(body["parameter"], "embed");
}

#[tokio::test]
async fn a_cached_page_sees_a_write_to_the_deepest_resource_of_a_path() {
    for storage in Storage::BOTH {
        let app = spawn_with(BLOG, storage);
        let page = "/posts?embed=comments.author.company";
        let first = |posts: Value| posts[0]["comments"][0]["author"]["company"]["name"].clone();
        assert_eq!(first(json(app.get_json(page).await).await), "Globex");
        assert_eq!(first(json(app.get_json(page).await).await), "Globex");
        let patched = app
            .send_json(Method::PATCH, "/companies/2", json!({ "name": "Initech" }))
            .await;
        assert_eq!(patched.status(), 200);
        assert_eq!(
            first(json(app.get_json(page).await).await),
            "Initech",
            "{storage:?}"
        );
        // And an item's validators change with it.
        let item = "/posts/1?embed=comments.author";
        let response = app.get_json(item).await;
        let etag = header(&response, "etag").expect("an ETag");
        assert_eq!(commenters(&json(response).await), ["Bob", "Cy"]);
        let patched = app
            .send_json(Method::PATCH, "/users/3", json!({ "name": "Cyd" }))
            .await;
        assert_eq!(patched.status(), 200);
        let response = app
            .request(Method::GET, item)
            .header("accept", "application/json")
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "the old tag no longer matches");
        assert_ne!(header(&response, "etag"), Some(etag));
        assert_eq!(commenters(&json(response).await), ["Bob", "Cyd"]);
    }
}

#[tokio::test]
async fn the_openapi_document_lists_the_embed_paths() {
    let app = spawn(BLOG);
    let document = json(app.get("/_standin/openapi.json").await).await;
    let parameters = document["paths"]["/posts"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let embed = parameters
        .iter()
        .find(|parameter| parameter["name"] == "embed")
        .expect("an embed parameter");
    let paths: Vec<&str> = embed["schema"]["items"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|path| path.as_str().unwrap())
        .collect();
    for path in [
        "author",
        "comments",
        "author.company",
        "comments.author",
        "comments.author.company",
    ] {
        assert!(paths.contains(&path), "{path} in {paths:?}");
    }
    assert!(!paths.iter().any(|path| path.split('.').count() > 3));
}

#[tokio::test]
async fn an_answer_holds_at_most_ten_thousand_embedded_records() {
    // One author of 120 posts: each of a page's posts embeds the author, who
    // embeds 100 posts. The queries read 101 records; the answer would hold
    // 100 copies of them.
    let app = spawn(
        "standin: 1\nmax_page_size: 100\nresources:\n  users:\n    fields: { name: string }\n    count: 1\n  \
         posts:\n    fields: { title: string, author: { ref: users, required: true } }\n    count: 120\n",
    );
    let body = problem(
        app.get_json("/posts?per_page=100&embed=author.posts").await,
        400,
    )
    .await;
    assert_eq!(body["parameter"], "embed", "{body}");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("more than 10000 records") && detail.contains("per_page"),
        "{detail}"
    );
    // 99 copies of 101 records fit.
    let page = json(app.get_json("/posts?per_page=99&embed=author.posts").await).await;
    assert_eq!(
        page[0]["author"]["posts"].as_array().map(Vec::len),
        Some(100)
    );
}
