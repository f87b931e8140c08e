//! The test double's admin routes (verification, stubs, sessions) answer as
//! the server's own OpenAPI document describes them: every status answered
//! is declared for its operation, every body sent and answered is valid
//! against the schema declared for it, and the server refuses (400) exactly
//! the bodies those schemas refuse. The other admin routes' refusals are
//! declared too.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{LIBRARY, TestApp, header, json, spawn, spawn_with_options};

/// The document a server serves, read as a contract.
struct Described {
    document: Value,
}

impl Described {
    async fn of(app: &TestApp) -> Described {
        Described {
            document: json(app.get("/_standin/openapi.json").await).await,
        }
    }

    fn operation(&self, template: &str, method: &Method) -> &Value {
        let operation = &self.document["paths"][template][method.as_str().to_lowercase()];
        assert!(
            operation.is_object(),
            "{method} {template} is not described"
        );
        operation
    }

    /// A validator of `schema` (a part of the document), its `$ref`s resolved
    /// against the document's components.
    fn validator(&self, schema: &Value) -> jsonschema::Validator {
        let mut root = schema.clone();
        root["components"] = self.document["components"].clone();
        jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&root)
            .unwrap_or_else(|error| panic!("{schema} compiles: {error}"))
    }

    /// The validator of the JSON body `method template` takes.
    fn request_body(&self, template: &str, method: &Method) -> jsonschema::Validator {
        let body = &self.operation(template, method)["requestBody"];
        assert_eq!(body["required"], true, "{method} {template}");
        self.validator(&body["content"]["application/json"]["schema"])
    }
}

/// Why `validator` refuses `value` (empty when it accepts it).
fn errors(validator: &jsonschema::Validator, value: &Value) -> Vec<String> {
    validator
        .iter_errors(value)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect()
}

/// One request to an admin route and what the document says of it.
struct Exchange<'a> {
    method: Method,
    /// The route's path template in the document.
    template: &'a str,
    /// The path requested (relative to the base path).
    path: String,
    body: Option<Value>,
    session: Option<&'a str>,
    headers: Vec<(&'a str, &'a str)>,
}

impl<'a> Exchange<'a> {
    fn new(method: Method, template: &'a str, path: impl Into<String>) -> Exchange<'a> {
        Exchange {
            method,
            template,
            path: path.into(),
            body: None,
            session: None,
            headers: Vec::new(),
        }
    }

    fn header(mut self, name: &'a str, value: &'a str) -> Exchange<'a> {
        self.headers.push((name, value));
        self
    }

    fn body(mut self, body: Value) -> Exchange<'a> {
        self.body = Some(body);
        self
    }

    fn session(mut self, key: &'a str) -> Exchange<'a> {
        self.session = Some(key);
        self
    }

    /// Sends the request, asserts that the status answered is declared with
    /// the content type, required headers and body schema the answer has,
    /// and returns the status and the body (`null` when empty).
    async fn send(self, app: &TestApp, described: &Described) -> (u16, Value) {
        let Exchange {
            method,
            template,
            path,
            body,
            session,
            headers,
        } = self;
        let mut request = app.request(method.clone(), &path);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        if let Some(body) = &body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        if let Some(key) = session {
            request = request.header("standin-session", key);
        }
        let response = request.send().await.expect("answered");
        let status = response.status().as_u16();
        let place = format!("{method} {path} answered {status}");
        let declared = &described.operation(template, &method)["responses"][status.to_string()];
        assert!(
            declared.is_object(),
            "{place}, which {template} does not declare"
        );
        for (name, header_object) in declared["headers"].as_object().into_iter().flatten() {
            if header_object["required"] == true {
                assert!(header(&response, name).is_some(), "{place} without {name}");
            }
        }
        let content_type = header(&response, "content-type");
        let text = response.text().await.expect("a body");
        let Some(content) = declared["content"].as_object() else {
            assert!(
                text.is_empty(),
                "{place} with a body it does not declare: {text}"
            );
            return (status, Value::Null);
        };
        let content_type = content_type.unwrap_or_else(|| panic!("{place} without a content type"));
        let media = content
            .get(content_type.as_str())
            .unwrap_or_else(|| panic!("{place} as {content_type}, which is not declared"));
        let answered: Value = serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("{place}: not JSON ({error}): {text}"));
        let wrong = errors(&described.validator(&media["schema"]), &answered);
        assert!(
            wrong.is_empty(),
            "{place}: {answered}\nnot as declared: {wrong:?}"
        );
        (status, answered)
    }
}

/// DELETE of `path` answers 204, then GET and DELETE answer 404, each as described at `template`.
async fn deleted_then_gone(app: &TestApp, described: &Described, template: &str, path: &str) {
    for (method, expected) in [
        (Method::DELETE, 204),
        (Method::GET, 404),
        (Method::DELETE, 404),
    ] {
        let (status, _) = Exchange::new(method.clone(), template, path)
            .send(app, described)
            .await;
        assert_eq!(status, expected, "{method} {path}");
    }
}

#[tokio::test]
async fn stubs_are_added_listed_read_and_removed_as_described() {
    let app = spawn(LIBRARY);
    let described = Described::of(&app).await;
    let stubs = "/_standin/stubs";
    let one = "/_standin/stubs/{id}";
    let full = json!({
        "request": { "method": "get", "path": "/api/books/:id", "query": { "x": "1" }, "headers": { "X-Test": "a" }, "body": null },
        "response": { "status": 418, "headers": { "X-Stub": "yes" }, "body": { "teapot": true }, "delay_ms": 1, "drop_connection": false },
        "times": 2
    });
    let sparse = json!({ "request": { "path": null, "method": null }, "response": { "body": "text" }, "times": null });
    let takes = described.request_body(stubs, &Method::POST);
    for body in [&full, &sparse] {
        assert!(
            errors(&takes, body).is_empty(),
            "{body}: {:?}",
            errors(&takes, body)
        );
    }
    let (status, created) = Exchange::new(Method::POST, stubs, stubs)
        .body(full)
        .send(&app, &described)
        .await;
    assert_eq!((status, &created["remaining"]), (201, &json!(2)));
    // In force: it answers a request it matches.
    let stubbed = app
        .request(Method::GET, "/books/3?x=1")
        .header("x-test", "a")
        .send()
        .await
        .unwrap();
    assert_eq!(stubbed.status(), 418);
    let (status, _) = Exchange::new(Method::POST, stubs, stubs)
        .body(sparse)
        .send(&app, &described)
        .await;
    assert_eq!(status, 201);

    let (status, listed) = Exchange::new(Method::GET, stubs, stubs)
        .send(&app, &described)
        .await;
    assert_eq!((status, listed.as_array().map(Vec::len)), (200, Some(2)));
    let path = format!("{stubs}/{}", created["id"]);
    let (status, read) = Exchange::new(Method::GET, one, &path)
        .send(&app, &described)
        .await;
    assert_eq!((status, &read["remaining"]), (200, &json!(1)));
    deleted_then_gone(&app, &described, one, &path).await;
    for method in [Method::GET, Method::DELETE] {
        let (status, _) = Exchange::new(method.clone(), stubs, format!("{stubs}?all=1"))
            .send(&app, &described)
            .await;
        assert_eq!(status, 400, "{method} with a query parameter");
    }
    let (status, _) = Exchange::new(Method::DELETE, stubs, stubs)
        .send(&app, &described)
        .await;
    assert_eq!(status, 204);
    let (_, listed) = Exchange::new(Method::GET, stubs, stubs)
        .send(&app, &described)
        .await;
    assert_eq!(listed, json!([]));
}

#[tokio::test]
async fn verification_answers_matches_and_near_misses_as_described() {
    let app = spawn(LIBRARY);
    let described = Described::of(&app).await;
    let (status, stub) = Exchange::new(Method::POST, "/_standin/stubs", "/_standin/stubs")
        .body(json!({ "request": { "path": "/api/nowhere" }, "response": { "status": 503 } }))
        .send(&app, &described)
        .await;
    assert_eq!(status, 201);
    assert_eq!(app.get("/nowhere").await.status(), 503);
    let created = app
        .post("/books", json!({ "title": "Dune", "author": 1 }))
        .await;
    assert_eq!(created.status(), 201);
    let other = app
        .post("/books", json!({ "title": "Emma", "author": 2 }))
        .await;
    assert_eq!(other.status(), 201);

    let matching = "/_standin/requests/match";
    let pattern = json!({ "method": "POST", "path": "/api/books", "body": { "title": "Dune" } });
    let takes = described.request_body(matching, &Method::POST);
    assert!(errors(&takes, &pattern).is_empty());
    let (status, verification) = Exchange::new(Method::POST, matching, matching)
        .body(pattern)
        .send(&app, &described)
        .await;
    assert_eq!((status, &verification["count"]), (200, &json!(1)));
    let misses = verification["near_misses"].as_array().unwrap();
    assert_eq!(
        misses[0]["request"]["body"]["title"], "Emma",
        "{verification}"
    );

    // A stub's answer is journaled with the stub's id.
    let (status, stubbed) = Exchange::new(Method::POST, matching, matching)
        .body(json!({ "path": "/api/nowhere" }))
        .send(&app, &described)
        .await;
    assert_eq!(status, 200);
    assert_eq!(stubbed["requests"][0]["stub"], stub["id"], "{stubbed}");
    let (status, journal) = Exchange::new(Method::GET, "/_standin/requests", "/_standin/requests")
        .send(&app, &described)
        .await;
    assert_eq!((status, journal.as_array().map(Vec::len)), (200, Some(3)));
    let (status, _) = Exchange::new(Method::POST, matching, format!("{matching}?all=1"))
        .body(json!({}))
        .send(&app, &described)
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn sessions_are_listed_read_and_ended_as_described() {
    let app = spawn_with_options(LIBRARY, |options| {
        options.sessions = standin::SessionLimits {
            max: 1,
            ..standin::SessionLimits::default()
        };
    });
    let described = Described::of(&app).await;
    let sessions = "/_standin/sessions";
    let one = "/_standin/sessions/{key}";
    let started = app
        .request(Method::GET, "/books")
        .header("standin-session", "t1")
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 200);
    // The session's own stubs, described as the shared ones.
    let (status, _) = Exchange::new(Method::POST, "/_standin/stubs", "/_standin/stubs")
        .body(json!({ "request": { "path": "/api/books" }, "times": 1 }))
        .session("t1")
        .send(&app, &described)
        .await;
    assert_eq!(status, 201);
    let (status, _) = Exchange::new(Method::GET, "/_standin/stubs", "/_standin/stubs")
        .session("t1")
        .send(&app, &described)
        .await;
    assert_eq!(status, 200);
    // A key standin does not take, and one more session than allowed.
    for (key, expected) in [("no spaces", 400), ("t2", 503)] {
        let (status, _) = Exchange::new(Method::GET, "/_standin/stubs", "/_standin/stubs")
            .session(key)
            .send(&app, &described)
            .await;
        assert_eq!(status, expected, "{key}");
    }

    let (status, listed) = Exchange::new(Method::GET, sessions, sessions)
        .send(&app, &described)
        .await;
    assert_eq!((status, &listed["sessions"][0]["key"]), (200, &json!("t1")));
    assert_eq!(listed["sessions"][0]["requests"], 1, "{listed}");
    let path = format!("{sessions}/t1");
    let (status, session) = Exchange::new(Method::GET, one, &path)
        .send(&app, &described)
        .await;
    assert_eq!((status, &session["key"]), (200, &json!("t1")));
    deleted_then_gone(&app, &described, one, &path).await;
    for (method, path, expected) in [
        (Method::GET, format!("{sessions}?all=1"), 400),
        (Method::DELETE, format!("{sessions}?all=1"), 400),
        (Method::DELETE, sessions.to_string(), 204),
    ] {
        let (status, _) = Exchange::new(method, sessions, path)
            .send(&app, &described)
            .await;
        assert_eq!(status, expected);
    }
}

/// Bodies of `POST template` and whether its request schema accepts them:
/// the server must answer `accepted` to exactly those, and 400 to the others.
async fn agree(app: &TestApp, template: &str, accepted: u16, cases: &[(Value, bool)]) {
    let described = Described::of(app).await;
    let takes = described.request_body(template, &Method::POST);
    for (body, valid) in cases {
        let refused = errors(&takes, body);
        assert_eq!(
            refused.is_empty(),
            *valid,
            "{body}: the schema says {refused:?}"
        );
        let (status, answered) = Exchange::new(Method::POST, template, template)
            .body(body.clone())
            .send(app, &described)
            .await;
        let expected = if *valid { accepted } else { 400 };
        assert_eq!(status, expected, "{body}: {answered}");
        app.request(Method::DELETE, "/_standin/stubs")
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn the_server_refuses_exactly_the_stubs_the_schema_refuses() {
    let app = spawn(LIBRARY);
    let stub = |request: Value| json!({ "request": request });
    let respond = |response: Value| json!({ "response": response });
    let cases = [
        (json!({}), true),
        (
            stub(json!({ "path": null, "method": null, "body": null })),
            true,
        ),
        (stub(json!({ "path": "/api/books/:id?" })), true),
        (stub(json!({ "path": "/api/\\(draft\\)/*" })), true),
        (stub(json!({ "path": "/api/a:" })), true),
        (stub(json!({ "path": "/api/:id?+" })), true),
        (
            respond(
                json!({ "status": 599, "delay_ms": 60000, "headers": { "X-A": "b\tc é", "\"odd\"": "" } }),
            ),
            true,
        ),
        (json!({ "times": 4_294_967_295_u64 }), true),
        (json!([]), false),
        (json!({ "reply": {} }), false),
        (stub(json!([])), false),
        (stub(Value::Null), false),
        (stub(json!({ "verb": "GET" })), false),
        (stub(json!({ "path": "api/books" })), false),
        (stub(json!({ "path": "/api/books\\" })), false),
        (stub(json!({ "path": "/api/(books)" })), false),
        (stub(json!({ "path": "/api/:id+" })), false),
        (stub(json!({ "path": "/api/:id*" })), false),
        (stub(json!({ "path": "/api/:id(\\d+)" })), false),
        (stub(json!({ "query": { "page": 2 } })), false),
        (stub(json!({ "method": 5 })), false),
        (respond(json!([404])), false),
        (respond(json!({ "status": 99 })), false),
        (respond(json!({ "status": 600 })), false),
        (respond(json!({ "status": null })), false),
        (respond(json!({ "delay_ms": 60001 })), false),
        (respond(json!({ "headers": { "bad name": "x" } })), false),
        (respond(json!({ "headers": { "": "x" } })), false),
        (respond(json!({ "headers": { "x-a": "a\nb" } })), false),
        (respond(json!({ "drop_connection": "yes" })), false),
        (json!({ "times": 0 }), false),
        (json!({ "times": 4_294_967_296_u64 }), false),
    ];
    agree(&app, "/_standin/stubs", 201, &cases).await;
}

#[tokio::test]
async fn the_server_refuses_exactly_the_request_patterns_the_schema_refuses() {
    let app = spawn(LIBRARY);
    let cases = [
        (json!({}), true),
        (json!({ "method": null, "path": null, "body": null }), true),
        (
            json!({ "path": "/api/*", "headers": { "any name": "x" }, "body": [1] }),
            true,
        ),
        (json!([]), false),
        (json!({ "verb": "GET" }), false),
        (json!({ "path": "api" }), false),
        (json!({ "path": "/api/(x" }), false),
        (json!({ "headers": { "x-a": 1 } }), false),
    ];
    agree(&app, "/_standin/requests/match", 200, &cases).await;
}

#[tokio::test]
async fn the_test_double_routes_are_tagged_apart() {
    let app = spawn(LIBRARY);
    let described = Described::of(&app).await;
    let tags = &described.document["tags"];
    assert_eq!(tags[0]["name"], "test-double", "{tags}");
    let mut tagged = Vec::new();
    for (path, item) in described.document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if operation["tags"] == json!(["test-double"]) {
                tagged.push(format!("{method} {path}"));
            }
        }
    }
    tagged.sort();
    assert_eq!(
        tagged,
        [
            "delete /_standin/sessions",
            "delete /_standin/sessions/{key}",
            "delete /_standin/stubs",
            "delete /_standin/stubs/{id}",
            "get /_standin/sessions",
            "get /_standin/sessions/{key}",
            "get /_standin/stubs",
            "get /_standin/stubs/{id}",
            "post /_standin/requests/match",
            "post /_standin/stubs",
        ]
    );
}

#[tokio::test]
async fn the_service_routes_refusals_are_described() {
    let app = spawn_with_options(LIBRARY, |options| {
        options.admin_token = Some("sesame".into());
    });
    let described = Described::of(&app).await;
    let token = "Bearer sesame";
    for (method, template) in [
        (Method::GET, "/_standin/health"),
        (Method::GET, "/_standin/spec"),
        (Method::GET, "/_standin/requests"),
        (Method::DELETE, "/_standin/requests"),
        (Method::POST, "/_standin/reset"),
    ] {
        let refusals = [
            (Exchange::new(method.clone(), template, template), 401),
            (
                Exchange::new(method.clone(), template, template)
                    .header("authorization", "Bearer other"),
                401,
            ),
            (
                Exchange::new(method.clone(), template, format!("{template}?unknown=1"))
                    .header("authorization", token),
                400,
            ),
            (
                Exchange::new(method.clone(), template, template)
                    .header("authorization", token)
                    .session("not a key!"),
                400,
            ),
            (
                Exchange::new(method.clone(), template, template)
                    .header("authorization", token)
                    .header("origin", "https://elsewhere.example"),
                403,
            ),
        ];
        for (exchange, expected) in refusals {
            let (status, _) = exchange.send(&app, &described).await;
            assert_eq!(status, expected, "{method} {template}");
        }
        let (status, _) = Exchange::new(method.clone(), template, template)
            .header("authorization", token)
            .session("described")
            .send(&app, &described)
            .await;
        assert!(status < 300, "{method} {template} answered {status}");
    }
    // The document is every client's: no admin token, no same-site rule.
    let document = "/_standin/openapi.json";
    for (exchange, expected) in [
        (Exchange::new(Method::GET, document, document), 200),
        (
            Exchange::new(Method::GET, document, document)
                .header("origin", "https://elsewhere.example"),
            200,
        ),
        (
            Exchange::new(Method::GET, document, format!("{document}?unknown=1")),
            400,
        ),
        (
            Exchange::new(Method::GET, document, document).session("not a key!"),
            400,
        ),
    ] {
        let (status, _) = exchange.send(&app, &described).await;
        assert_eq!(status, expected);
    }
    let (status, _) = Exchange::new(
        Method::GET,
        "/_standin/requests",
        "/_standin/requests?status=99",
    )
    .header("authorization", token)
    .send(&app, &described)
    .await;
    assert_eq!(status, 400);
}
