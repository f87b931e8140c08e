//! Isolated sessions: a request with a session key (the `Standin-Session`
//! header, or the `/_session/{key}` prefix) sees and changes only that
//! session's copy of the seeded data; the shared data is untouched.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Storage, TestApp, json, problem, spawn, spawn_with, spawn_with_options};

const NOTES: &str =
    "standin: 1\nresources:\n  notes:\n    fields:\n      text: { type: string }\n    count: 5\n";

/// Sends `method path` within session `key` (none: the shared data).
async fn send(
    app: &TestApp,
    key: Option<&str>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = app
        .request(method, path)
        .header("accept", "application/json");
    if let Some(key) = key {
        request = request.header("Standin-Session", key);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    request.send().await.expect("the request is answered")
}

/// The texts of every note `key` sees.
async fn texts(app: &TestApp, key: Option<&str>) -> Vec<String> {
    let page = json(send(app, key, Method::GET, "/notes?per_page=100", None).await).await;
    let items = page["_embedded"]["notes"]
        .as_array()
        .or_else(|| page.as_array())
        .unwrap_or_else(|| panic!("a list: {page}"))
        .clone();
    items
        .iter()
        .map(|note| note["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

async fn create(app: &TestApp, key: Option<&str>, text: &str) {
    let created = send(
        app,
        key,
        Method::POST,
        "/notes",
        Some(json!({ "text": text })),
    )
    .await;
    assert_eq!(created.status(), 201, "{:?}", created.text().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sessions_and_the_shared_data_never_see_each_others_writes() {
    for storage in Storage::BOTH {
        let app = std::sync::Arc::new(spawn_with(NOTES, storage));
        let seeded = texts(&app, None).await;
        assert_eq!(seeded.len(), 5);
        let writers: Vec<_> = [None, Some("a"), Some("b"), Some("c")]
            .into_iter()
            .map(|key| {
                let app = std::sync::Arc::clone(&app);
                tokio::spawn(async move {
                    let owner = key.unwrap_or("shared");
                    for round in 0..10 {
                        create(&app, key, &format!("{owner}-{round}")).await;
                        let seen = texts(&app, key).await;
                        assert_eq!(seen.len(), 5 + round + 1, "{owner} sees {seen:?}");
                        assert!(
                            seen.iter()
                                .skip(5)
                                .all(|text| text.starts_with(&format!("{owner}-"))),
                            "{owner} sees another's write: {seen:?}"
                        );
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.await.expect("the writer's assertions hold");
        }
        assert_eq!(
            texts(&app, Some("a")).await[..5],
            seeded[..],
            "sessions start as the seeded data"
        );
        assert_eq!(texts(&app, None).await.len(), 15);
    }
}

#[tokio::test]
async fn a_sessions_reads_are_never_answered_from_the_shared_cache() {
    let app = spawn(NOTES);
    create(&app, Some("s"), "only in s").await;
    assert_eq!(texts(&app, None).await.len(), 5);
    assert_eq!(texts(&app, Some("s")).await.len(), 6);
    assert_eq!(texts(&app, None).await.len(), 5);
    assert_eq!(texts(&app, Some("other")).await.len(), 5);
}

#[tokio::test]
async fn the_path_prefix_names_the_same_session_as_the_header() {
    let app = spawn(NOTES);
    create(&app, Some("p1"), "by header").await;
    let origin = app.server.url().to_string();
    let listed = app
        .client
        .get(format!("{origin}/_session/p1/notes?per_page=100"))
        .header("accept", "application/json")
        .send()
        .await
        .expect("answered");
    assert_eq!(listed.status(), 200);
    assert!(json(listed).await.to_string().contains("by header"));
    let created = app
        .client
        .post(format!("{origin}/_session/p1/notes"))
        .header("content-type", "application/json")
        .body(json!({ "text": "by prefix" }).to_string())
        .send()
        .await
        .expect("answered");
    assert_eq!(created.status(), 201);
    let location = crate::helpers::header(&created, "location").expect("a Location");
    assert!(location.starts_with("/_session/p1/notes/"), "{location}");
    let followed = app
        .client
        .get(format!("{}{location}", origin.trim_end_matches('/')))
        .header("accept", "application/json")
        .send()
        .await
        .expect("answered");
    assert_eq!(json(followed).await["text"], "by prefix");
    let seen = texts(&app, Some("p1")).await;
    assert!(seen.contains(&"by prefix".to_string()), "{seen:?}");
    assert_eq!(texts(&app, None).await.len(), 5);
    // Two different keys in one request are refused.
    let both = app
        .client
        .get(format!("{origin}/_session/p1/notes"))
        .header("Standin-Session", "p2")
        .send()
        .await
        .expect("answered");
    let body = problem(both, 400).await;
    assert!(
        body["detail"].as_str().unwrap().contains("two sessions"),
        "{body}"
    );
}

#[tokio::test]
async fn a_key_standin_does_not_take_is_refused() {
    let app = spawn(NOTES);
    let refused = send(&app, Some("no spaces"), Method::GET, "/notes", None).await;
    let body = problem(refused, 400).await;
    assert!(
        body["detail"].as_str().unwrap().contains("'no spaces'"),
        "{body}"
    );
    let long = "k".repeat(65);
    problem(
        send(&app, Some(&long), Method::GET, "/notes", None).await,
        400,
    )
    .await;
}

#[tokio::test]
async fn a_sessions_reset_leaves_the_others_and_the_shared_data() {
    let app = spawn(NOTES);
    for key in [None, Some("a"), Some("b")] {
        create(&app, key, "extra").await;
    }
    let reset = send(&app, Some("a"), Method::POST, "/_standin/reset", None).await;
    assert_eq!(reset.status(), 200);
    assert_eq!(texts(&app, Some("a")).await.len(), 5);
    assert_eq!(texts(&app, Some("b")).await.len(), 6);
    assert_eq!(texts(&app, None).await.len(), 6);
    let shared_reset = send(&app, None, Method::POST, "/_standin/reset", None).await;
    assert_eq!(shared_reset.status(), 200);
    assert_eq!(texts(&app, None).await.len(), 5);
    assert_eq!(texts(&app, Some("b")).await.len(), 6);
}

#[tokio::test]
async fn sessions_are_listed_and_delete_ends_one() {
    let app = spawn(NOTES);
    create(&app, Some("a"), "in a").await;
    create(&app, Some("b"), "in b").await;
    let listed = json(send(&app, None, Method::GET, "/_standin/sessions", None).await).await;
    let keys: Vec<&str> = listed["sessions"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|session| session["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["a", "b"]);
    assert_eq!(listed["sessions"][0]["requests"], 1, "{listed}");
    assert_eq!(listed["limits"]["max_sessions"], 64);
    let ended = send(&app, None, Method::DELETE, "/_standin/sessions/a", None).await;
    assert_eq!(ended.status(), 204);
    let listed = json(send(&app, None, Method::GET, "/_standin/sessions", None).await).await;
    assert_eq!(listed["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(listed["sessions"][0]["key"], "b");
    problem(
        send(&app, None, Method::DELETE, "/_standin/sessions/a", None).await,
        404,
    )
    .await;
    // The key starts a new session, from the seeded data.
    assert_eq!(texts(&app, Some("a")).await.len(), 5);
    assert_eq!(texts(&app, Some("b")).await.len(), 6);
    // Listing with a key starts no session.
    send(&app, Some("z"), Method::GET, "/_standin/sessions", None).await;
    let listed = json(send(&app, None, Method::GET, "/_standin/sessions", None).await).await;
    assert_eq!(listed["sessions"].as_array().unwrap().len(), 2, "{listed}");
}

#[tokio::test]
async fn no_session_starts_beyond_the_bounds() {
    let app = spawn_with_options(NOTES, |options| options.sessions.max = 2);
    create(&app, Some("a"), "x").await;
    create(&app, Some("b"), "x").await;
    let refused = send(&app, Some("c"), Method::GET, "/notes", None).await;
    let body = problem(refused, 503).await;
    assert_eq!(body["type"], "urn:standin:problem:sessions-exhausted");
    assert!(
        body["detail"].as_str().unwrap().contains("--max-sessions"),
        "{body}"
    );
    // Those alive go on; ending one makes room.
    assert_eq!(texts(&app, Some("a")).await.len(), 6);
    send(&app, None, Method::DELETE, "/_standin/sessions/b", None).await;
    assert_eq!(texts(&app, Some("c")).await.len(), 5);

    let app = spawn_with_options(NOTES, |options| options.sessions.memory = 1024);
    let refused = send(&app, Some("a"), Method::GET, "/notes", None).await;
    let body = problem(refused, 503).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("--session-memory-mb"),
        "{body}"
    );
    assert_eq!(
        texts(&app, None).await.len(),
        5,
        "the shared data is served"
    );
}

#[tokio::test]
async fn each_session_has_its_own_journal() {
    let app = spawn(NOTES);
    create(&app, Some("a"), "in a").await;
    send(&app, Some("b"), Method::GET, "/notes/1", None).await;
    send(&app, None, Method::GET, "/notes/2", None).await;
    let journal_of = |key| {
        let app = &app;
        async move {
            let entries = json(send(app, key, Method::GET, "/_standin/requests", None).await).await;
            entries
                .as_array()
                .expect("a list")
                .iter()
                .map(|entry| {
                    format!(
                        "{} {}",
                        entry["method"].as_str().unwrap(),
                        entry["path"].as_str().unwrap()
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(journal_of(Some("a")).await, ["POST /notes"]);
    assert_eq!(journal_of(Some("b")).await, ["GET /notes/1"]);
    assert_eq!(journal_of(None).await, ["GET /notes/2"]);
    let cleared = send(&app, Some("a"), Method::DELETE, "/_standin/requests", None).await;
    assert_eq!(cleared.status(), 204);
    assert!(journal_of(Some("a")).await.is_empty());
    assert_eq!(journal_of(Some("b")).await, ["GET /notes/1"]);
}

#[tokio::test]
async fn the_library_gives_a_session_its_own_url_and_header() {
    let app = spawn(NOTES);
    let session = app.server.session().expect("a session");
    let created = app
        .client
        .post(format!("{}/notes", session.url()))
        .header("content-type", "application/json")
        .body(json!({ "text": "by url" }).to_string())
        .send()
        .await
        .expect("answered");
    assert_eq!(created.status(), 201);
    let (name, value) = session.header();
    let listed = app
        .client
        .get(app.url("/notes?per_page=100"))
        .header(name, value)
        .header("accept", "application/json")
        .send()
        .await
        .expect("answered");
    assert!(json(listed).await.to_string().contains("by url"));
    assert_eq!(texts(&app, None).await.len(), 5);
    let received = session.received_requests();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].method, "POST");
    assert!(
        app.server
            .received_requests()
            .iter()
            .all(|entry| entry.path != "/notes" || entry.method != "POST")
    );
    session.reset().expect("reset");
    assert_eq!(texts(&app, Some(session.key())).await.len(), 5);
    let key = session.key().to_string();
    drop(session);
    assert!(
        app.server.sessions().iter().all(|alive| alive.key != key),
        "dropping the handle ends it"
    );
}

#[tokio::test]
async fn an_idle_session_expires() {
    let app = spawn_with_options(NOTES, |options| {
        options.sessions.idle = Duration::from_secs(60)
    });
    create(&app, Some("idle"), "x").await;
    create(&app, Some("busy"), "x").await;
    app.server.advance_session_clock(Duration::from_secs(40));
    create(&app, Some("busy"), "y").await;
    app.server.advance_session_clock(Duration::from_secs(40));
    let alive: Vec<String> = app
        .server
        .sessions()
        .into_iter()
        .map(|session| session.key)
        .collect();
    assert_eq!(alive, ["busy"], "idle for 80 s ends, used 40 s ago stays");
    assert_eq!(
        texts(&app, Some("idle")).await.len(),
        5,
        "the key starts afresh"
    );
    assert_eq!(texts(&app, Some("busy")).await.len(), 7);
}

/// The bytes `GET /_standin/sessions` says session `key` takes.
async fn session_bytes(app: &TestApp, key: &str) -> usize {
    let listed = json(send(app, None, Method::GET, "/_standin/sessions", None).await).await;
    let session = listed["sessions"]
        .as_array()
        .and_then(|sessions| sessions.iter().find(|session| session["key"] == key))
        .unwrap_or_else(|| panic!("session {key} is listed: {listed}"));
    usize::try_from(session["bytes"].as_u64().expect("bytes")).expect("a size")
}

#[tokio::test]
async fn the_memory_bound_counts_what_sessions_grow_by() {
    let probe = spawn(NOTES);
    create(&probe, Some("probe"), "x").await;
    let seeded = session_bytes(&probe, "probe").await;
    // Room for three sessions as seeded, not four.
    let app = spawn_with_options(NOTES, |options| {
        options.sessions.memory = seeded * 3 + seeded / 2
    });
    create(&app, Some("a"), "x").await;
    create(&app, Some("b"), "x").await;
    // Session a grows by more than a seeded session's size...
    let text = "y".repeat(4000);
    let mut notes = 0;
    while session_bytes(&app, "a").await < seeded * 2 + seeded / 4 {
        create(&app, Some("a"), &text).await;
        notes += 1;
        assert!(notes < 5_000, "a grows");
    }
    // ...so a third session no longer fits.
    let refused = send(&app, Some("c"), Method::GET, "/notes", None).await;
    let body = problem(refused, 503).await;
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("--session-memory-mb") && detail.contains("2 sessions take"),
        "{detail}"
    );
    // Ending the one that grew makes room.
    send(&app, None, Method::DELETE, "/_standin/sessions/a", None).await;
    assert_eq!(texts(&app, Some("c")).await.len(), 5);
}

#[tokio::test]
async fn an_idle_session_ends_without_any_request_to_sweep_it() {
    let app = spawn_with_options(NOTES, |options| {
        options.sessions.idle = Duration::from_millis(200)
    });
    create(&app, Some("idle"), "x").await;
    assert_eq!(texts(&app, Some("idle")).await.len(), 6);
    // No request at all while it idles: only the server's own sweep can end it.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Reading the session with its key would restart an ended session, not
    // keep an idle one: had nothing swept, its write would still be there.
    assert_eq!(
        texts(&app, Some("idle")).await.len(),
        5,
        "ended when idle, the key starts afresh"
    );
}

#[tokio::test]
async fn a_db_json_refuses_sessions_clearly() {
    let directory = tempfile::tempdir().expect("a directory");
    let file = directory.path().join("db.json");
    std::fs::write(&file, r#"{"posts": [{"id": 1, "title": "a"}]}"#).expect("written");
    let server = standin::Server::start_from_file(&file).expect("started");
    let refused = reqwest::Client::new()
        .get(format!("{}/posts", server.url()))
        .header("Standin-Session", "a")
        .send()
        .await
        .expect("answered");
    let body = problem(refused, 400).await;
    assert!(
        body["detail"].as_str().unwrap().contains("db.json"),
        "{body}"
    );
}

#[tokio::test]
async fn a_sessions_stubs_answer_only_within_it() {
    let app = spawn(NOTES);
    let stub = json!({
        "request": { "method": "GET", "path": "/notes/1" },
        "response": { "status": 503 },
    });
    let added = send(&app, Some("a"), Method::POST, "/_standin/stubs", Some(stub)).await;
    assert_eq!(added.status(), 201);
    assert_eq!(
        send(&app, Some("a"), Method::GET, "/notes/1", None)
            .await
            .status(),
        503
    );
    assert_eq!(
        send(&app, Some("b"), Method::GET, "/notes/1", None)
            .await
            .status(),
        200
    );
    assert_eq!(
        send(&app, None, Method::GET, "/notes/1", None)
            .await
            .status(),
        200
    );
    let shared = json(send(&app, None, Method::GET, "/_standin/stubs", None).await).await;
    assert_eq!(shared, json!([]));
}

#[tokio::test]
async fn an_openapi_documents_data_is_per_session_too() {
    let document = r##"openapi: 3.0.3
info: { title: Pets, version: "1" }
paths:
  /pets:
    get:
      responses:
        "200":
          description: the pets
          content:
            application/json:
              schema: { type: array, items: { $ref: "#/components/schemas/Pet" } }
    post:
      requestBody:
        content:
          application/json:
            schema: { $ref: "#/components/schemas/Pet" }
      responses:
        "201":
          description: created
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Pet" }
  /pets/{id}:
    get:
      parameters:
        - { name: id, in: path, required: true, schema: { type: integer } }
      responses:
        "200":
          description: a pet
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Pet" }
components:
  schemas:
    Pet: { type: object, properties: { id: { type: integer }, name: { type: string } } }
"##;
    let app = spawn(document);
    let count = |key: Option<&'static str>| {
        let app = &app;
        async move {
            let pets = json(send(app, key, Method::GET, "/pets", None).await).await;
            pets.as_array()
                .unwrap_or_else(|| panic!("a list: {pets}"))
                .len()
        }
    };
    let shared = count(None).await;
    let created = send(
        &app,
        Some("a"),
        Method::POST,
        "/pets",
        Some(json!({ "name": "Rex" })),
    )
    .await;
    assert_eq!(created.status(), 201, "{:?}", created.text().await);
    assert_eq!(count(Some("a")).await, shared + 1);
    assert_eq!(count(None).await, shared);
    assert_eq!(count(Some("b")).await, shared);
}
