//! Actions: named changes of state at `POST /{resource}/{id}/{action}`,
//! advertised on each record only while its transitions allow them.

use crate::helpers::{TestApp, error_fields, header, json, problem, spawn};
use crate::spec_check::diagnostics_of;
use reqwest::Method;
use serde_json::{Value, json};

const POSTS: &str = r#"
standin: 1
base_path: /api
resources:
  posts:
    fields:
      title: { type: string, required: true }
      status: { type: string, enum: [draft, published, archived], default: draft }
    transitions:
      status: { draft: [published], published: [archived, draft] }
    actions:
      publish: { status: published }
      unpublish: { status: draft }
      archive: { status: archived }
    records:
      - { title: "A draft" }
      - { title: "Out", status: published }
      - { title: "Old", status: archived }
  comments:
    fields:
      post: { ref: posts, on_delete: cascade }
      body: string
"#;

async fn hal(app: &TestApp, path: &str) -> Value {
    let response = app
        .request(Method::GET, path)
        .header("accept", "application/hal+json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    json(response).await
}

async fn act(app: &TestApp, path: &str) -> reqwest::Response {
    app.request(Method::POST, path)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap()
}

/// The action names among an item's HAL `_links`.
fn hal_actions(item: &Value) -> Vec<String> {
    let links = item["_links"].as_object().expect("_links");
    ["publish", "unpublish", "archive"]
        .into_iter()
        .filter(|name| links.contains_key(*name))
        .map(String::from)
        .collect()
}

#[tokio::test]
async fn hal_links_name_exactly_the_actions_the_state_allows() {
    let app = spawn(POSTS);
    let draft = hal(&app, "/posts/1").await;
    assert_eq!(hal_actions(&draft), ["publish"]);
    assert_eq!(draft["_links"]["publish"]["href"], "/api/posts/1/publish");
    assert_eq!(draft["_links"]["publish"]["name"], "publish");
    assert!(
        draft["_links"]["publish"]["title"]
            .as_str()
            .unwrap()
            .contains("POST"),
        "{draft}"
    );
    // The inverse collection is still linked beside the actions.
    assert_eq!(draft["_links"]["comments"]["href"], "/api/posts/1/comments");
    assert_eq!(
        hal_actions(&hal(&app, "/posts/2").await),
        ["unpublish", "archive"]
    );
    assert!(hal_actions(&hal(&app, "/posts/3").await).is_empty());
    // Items inside a page carry them too, each by its own state.
    let page = hal(&app, "/posts?sort=id").await;
    let items = page["_embedded"]["posts"].as_array().unwrap();
    let shown: Vec<Vec<String>> = items.iter().map(hal_actions).collect();
    assert_eq!(
        shown,
        [
            vec!["publish".to_string()],
            vec!["unpublish".into(), "archive".into()],
            vec![]
        ]
    );
}

#[tokio::test]
async fn collection_json_items_link_their_actions() {
    let app = spawn(POSTS);
    let response = app
        .request(Method::GET, "/posts?sort=id")
        .header("accept", "application/vnd.collection+json")
        .send()
        .await
        .unwrap();
    let body = json(response).await;
    let rels = |item: &Value| -> Vec<String> {
        item["links"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|link| link["render"] == "link" && link["prompt"].is_string())
            .map(|link| link["rel"].as_str().unwrap().to_string())
            .collect()
    };
    let items = body["collection"]["items"].as_array().unwrap();
    assert_eq!(rels(&items[0]), ["publish"]);
    assert_eq!(rels(&items[1]), ["unpublish", "archive"]);
    assert!(rels(&items[2]).is_empty());
    let publish = items[0]["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|link| link["rel"] == "publish")
        .unwrap();
    assert_eq!(publish["href"], "/api/posts/1/publish");
}

#[tokio::test]
async fn posting_an_allowed_action_changes_the_state_and_the_links() {
    let app = spawn(POSTS);
    // Read first, so that a cached answer would show if it went stale.
    assert_eq!(hal_actions(&hal(&app, "/posts/1").await), ["publish"]);
    assert_eq!(
        hal_actions(&hal(&app, "/posts?id=1").await["_embedded"]["posts"][0]),
        ["publish"]
    );
    let response = act(&app, "/posts/1/publish").await;
    assert_eq!(response.status(), 200);
    assert!(header(&response, "etag").is_some());
    let record = json(response).await;
    assert_eq!(record["status"], "published");
    assert_eq!(record["title"], "A draft");
    assert_ne!(record["updated_at"], record["created_at"]);
    assert_eq!(
        hal_actions(&hal(&app, "/posts/1").await),
        ["unpublish", "archive"]
    );
    // A page read before the action is not served again from the cache.
    let page = hal(&app, "/posts?id=1").await;
    assert_eq!(
        hal_actions(&page["_embedded"]["posts"][0]),
        ["unpublish", "archive"]
    );
    // The answer is in the negotiated representation.
    let response = app
        .request(Method::POST, "/posts/1/archive")
        .header("accept", "application/hal+json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let record = json(response).await;
    assert_eq!(record["status"], "archived");
    assert!(hal_actions(&record).is_empty(), "{record}");
    assert!(record["_links"]["self"].is_object());
}

#[tokio::test]
async fn an_action_the_state_does_not_allow_is_409_naming_the_state_and_the_allowed_ones() {
    let app = spawn(POSTS);
    let body = problem(act(&app, "/posts/2/publish").await, 409).await;
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("status is 'published'"), "{detail}");
    assert!(
        detail.contains("the actions allowed now are: unpublish, archive"),
        "{detail}"
    );
    assert_eq!(error_fields(&body), ["status"]);
    let body = problem(act(&app, "/posts/3/unpublish").await, 409).await;
    assert!(
        body["detail"].as_str().unwrap().contains("are: none"),
        "{body}"
    );
    // Nothing changed.
    let record = json(app.get_json("/posts/2").await).await;
    assert_eq!(record["status"], "published");
}

#[tokio::test]
async fn unknown_records_actions_and_other_methods_are_refused() {
    let app = spawn(POSTS);
    problem(act(&app, "/posts/99/publish").await, 404).await;
    let body = problem(act(&app, "/posts/1/publsh").await, 404).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("did you mean 'publish'?"),
        "{body}"
    );
    for method in [Method::GET, Method::PUT, Method::PATCH, Method::DELETE] {
        let response = app
            .request(method.clone(), "/posts/1/publish")
            .send()
            .await
            .unwrap();
        assert_eq!(header(&response, "allow").as_deref(), Some("POST, OPTIONS"));
        problem(response, 405).await;
    }
    let response = app
        .request(Method::OPTIONS, "/posts/1/publish")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(header(&response, "allow").as_deref(), Some("POST, OPTIONS"));
    // An action takes neither a body nor a query.
    let body = problem(
        app.post("/posts/1/publish", json!({ "status": "archived" }))
            .await,
        400,
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap().contains("takes no body"),
        "{body}"
    );
    problem(act(&app, "/posts/1/publish?now=1").await, 400).await;
    // The inverse collection beside the actions is unaffected.
    assert_eq!(app.get_json("/posts/1/comments").await.status(), 200);
    let record = json(app.get_json("/posts/1").await).await;
    assert_eq!(record["status"], "draft");
}

#[tokio::test]
async fn an_action_in_a_session_changes_only_the_sessions_data() {
    let app = spawn(POSTS);
    let response = app
        .request(Method::POST, "/posts/1/publish")
        .header("accept", "application/json")
        .header("standin-session", "one")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let in_session = app
        .request(Method::GET, "/posts/1")
        .header("accept", "application/hal+json")
        .header("standin-session", "one")
        .send()
        .await
        .unwrap();
    assert_eq!(
        hal_actions(&json(in_session).await),
        ["unpublish", "archive"]
    );
    assert_eq!(hal_actions(&hal(&app, "/posts/1").await), ["publish"]);
}

#[tokio::test]
async fn if_match_is_a_precondition_of_an_action() {
    let app = spawn(POSTS);
    let read = app.get_json("/posts/1").await;
    let etag = header(&read, "etag").unwrap();
    let response = app
        .request(Method::POST, "/posts/1/publish")
        .header("accept", "application/json")
        .header("if-match", "\"stale\"")
        .send()
        .await
        .unwrap();
    problem(response, 412).await;
    let response = app
        .request(Method::POST, "/posts/1/publish")
        .header("accept", "application/json")
        .header("if-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn require_if_match_applies_to_actions() {
    let app = spawn(&POSTS.replace(
        "    actions:\n",
        "    require_if_match: true\n    actions:\n",
    ));
    problem(act(&app, "/posts/1/publish").await, 428).await;
}

#[tokio::test]
async fn the_openapi_description_has_an_operation_per_action() {
    let app = spawn(POSTS);
    let document = json(app.get_json("/_standin/openapi.json").await).await;
    let post = &document["paths"]["/posts/{id}/publish"]["post"];
    assert_eq!(post["operationId"], "act_posts_publish");
    for status in ["200", "404", "409", "412"] {
        assert!(post["responses"][status].is_object(), "{status}: {post}");
    }
    assert!(document["paths"]["/posts/{id}/archive"]["post"].is_object());
    assert!(document["paths"]["/posts/{id}/publish"]["get"].is_null());
    assert_eq!(
        document["paths"]["/posts/{id}"]["get"]["responses"]["200"]["links"]["act_posts_publish"]["operationId"],
        "act_posts_publish"
    );
    assert!(document["paths"]["/comments/{id}/publish"].is_null());
    // The normalised spec keeps them, and parses again with them.
    let mut exported = json(app.get_json("/_standin/spec").await).await;
    // (The export's `prefer: null` does not parse again: not the actions' doing.)
    exported["defaults"]
        .as_object_mut()
        .unwrap()
        .remove("prefer");
    assert_eq!(
        exported["resources"]["posts"]["actions"]["publish"],
        json!({ "status": "published" })
    );
    let again = standin::parse("export.json", &exported.to_string()).expect("it parses");
    let posts = again.resource("posts").unwrap();
    assert_eq!(posts.action("archive").unwrap().state, "archived");
}

#[tokio::test]
async fn the_home_document_has_a_relation_per_action() {
    let app = spawn(POSTS);
    let response = app
        .request(Method::GET, "/")
        .header("accept", "application/json-home")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let home = json(response).await;
    let resources = home["resources"].as_object().expect("resources");
    let publish = &resources["urn:standin:rel:posts-publish"];
    assert_eq!(
        publish["href-template"], "/api/posts/{id}/publish",
        "{home}"
    );
    assert_eq!(publish["href-vars"]["id"], "urn:standin:param:id");
    assert_eq!(publish["hints"]["allow"], json!(["POST"]));
    assert_eq!(publish["title"], "sets status to published");
    for action in ["unpublish", "archive"] {
        assert!(resources.contains_key(&format!("urn:standin:rel:posts-{action}")));
    }
    assert!(
        !resources
            .keys()
            .any(|key| key.starts_with("urn:standin:rel:comments-")
                && key != "urn:standin:rel:comments-item")
    );
    // The template, filled in, is the action's URI.
    let uri = publish["href-template"]
        .as_str()
        .unwrap()
        .replace("{id}", "1")
        .replace("/api", "");
    assert_eq!(act(&app, &uri).await.status(), 200);
}

#[tokio::test]
async fn the_item_page_has_a_button_per_allowed_action() {
    let app = spawn(POSTS);
    let page = |path: &'static str| {
        let request = app.request(Method::GET, path).header("accept", "text/html");
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let draft = page("/posts/1").await;
    assert!(
        draft.contains("data-standin-action=\"/api/posts/1/publish\""),
        "{draft}"
    );
    assert!(!draft.contains("/api/posts/1/archive"), "{draft}");
    let archived = page("/posts/3").await;
    assert!(!archived.contains("data-standin-action="), "{archived}");
    assert!(archived.contains("allows no action"), "{archived}");
}

#[test]
fn bad_actions_are_reported_with_positions_and_suggestions() {
    let source = "standin: 1
resources:
  posts:
    fields:
      status: { type: string, enum: [draft, published, archived] }
      kind: string
    transitions:
      status: { draft: [published], published: [archived] }
    actions:
      publish: { status: publishd }
      archive: { stats: archived }
      comments: { status: published }
      redraft: { status: draft }
      kind: { kind: x }
      \"go now\": { status: published }
  comments:
    fields:
      post: { ref: posts }
";
    assert_eq!(
        diagnostics_of("spec.yaml", source),
        "spec.yaml:10:26: error at resources.posts.actions.publish.status: 'publishd' is not a state of status's transitions (archived, draft, published) (did you mean 'published'?)\n\
         spec.yaml:11:18: error at resources.posts.actions.archive.stats: 'stats' has no transitions: an action changes a field that lists them (status) (did you mean 'status'?)\n\
         spec.yaml:12:7: error at resources.posts.actions.comments: the action 'comments' has the path of the inverse collection posts/{id}/comments (comments whose post is the record): rename the action\n\
         spec.yaml:13:26: error at resources.posts.actions.redraft.status: no transition of status leads to 'draft', so the action could never be taken\n\
         spec.yaml:14:15: error at resources.posts.actions.kind.kind: 'kind' has no transitions: an action changes a field that lists them (status)\n\
         spec.yaml:15:7: error at resources.posts.actions.go now: 'go now' cannot be an action name: it is a path segment, so use letters, digits, '_' and '-', starting with a letter"
    );
    let read_only = "standin: 1
resources:
  posts:
    fields:
      status: { type: string, enum: [draft, published] }
    methods: [GET]
    transitions:
      status: { draft: [published] }
    actions:
      publish: { status: published }
";
    let singular = "standin: 1
resources:
  profile:
    singular: true
    fields:
      status: { type: string, enum: [draft, published], default: draft }
    transitions:
      status: { draft: [published] }
    actions:
      publish: { status: published }
";
    assert_eq!(
        diagnostics_of("spec.yaml", singular),
        "spec.yaml:9:5: error at resources.profile.actions: a singular resource has no 'actions': actions are served below the items of a collection (/posts/7/publish)"
    );
    assert_eq!(
        diagnostics_of("spec.yaml", read_only),
        "spec.yaml:9:5: error at resources.posts.actions: actions change records as PATCH does, which this resource's methods leave out: add PATCH to methods"
    );
}
