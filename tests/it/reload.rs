//! Hot reload: edits of the spec file are served without a restart and
//! without a failed request; data is kept; invalid edits are reported while
//! the old spec keeps serving.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use standin::{Options, Server, SpecFile};

use crate::helpers::{header, json};

const NOTES: &str = "standin: 1\nresources:\n  notes:\n    fields:\n      text: { type: string, required: true }\n    count: 3\n";

struct Watched {
    server: Server,
    path: PathBuf,
    client: reqwest::Client,
    _directory: tempfile::TempDir,
}

fn watched(spec: &str) -> Watched {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("spec.yaml");
    std::fs::write(&path, spec).unwrap();
    let options = Options {
        watch: true,
        workers: Some(2),
        ..Options::default()
    };
    let server = Server::start_with(SpecFile::load(&path).unwrap(), options).unwrap();
    Watched {
        server,
        path,
        client: reqwest::Client::new(),
        _directory: directory,
    }
}

impl Watched {
    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.server.url()))
            .header("accept", "application/json")
            .send()
            .await
            .unwrap()
    }

    /// Waits (up to 10 s) until `path` answers `status`.
    async fn until_status(&self, path: &str, status: u16) -> reqwest::Response {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let response = self.get(path).await;
            if response.status().as_u16() == status {
                return response;
            }
            assert!(Instant::now() < deadline, "{path} never answered {status}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn health(&self) -> Value {
        json(self.get("/_standin/health").await).await
    }

    /// Waits (up to 10 s) until the health document satisfies `reached`, and returns it.
    async fn until_health(&self, what: &str, reached: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let health = self.health().await;
            if reached(&health) {
                return health;
            }
            assert!(
                Instant::now() < deadline,
                "health never showed {what}: {health}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until the spec in force is `text`.
    async fn until_in_force(&self, text: &str) {
        let hash = SpecFile::parse(text).unwrap().hash().to_string();
        self.until_health("the new spec in force", |health| {
            health["spec"]["hash"] == hash.as_str()
        })
        .await;
    }
}

/// Saves like editors that write a temporary file and rename it over the original.
fn save_by_rename(path: &Path, text: &str) {
    let temporary = path.with_extension("yaml.swp");
    std::fs::write(&temporary, text).unwrap();
    std::fs::rename(&temporary, path).unwrap();
}

#[tokio::test]
async fn a_new_resource_is_served_and_seeded() {
    let app = watched(NOTES);
    assert_eq!(app.get("/tags").await.status(), 404);
    std::fs::write(
        &app.path,
        format!("{NOTES}  tags:\n    fields: {{ name: string }}\n    count: 4\n"),
    )
    .unwrap();
    let response = app.until_status("/tags", 200).await;
    assert_eq!(header(&response, "x-total-count").as_deref(), Some("4"));
}

#[tokio::test]
async fn an_edit_made_while_the_server_starts_is_served() {
    // Read, then edited before the watch begins (as while a big seed is
    // stored): no event comes for that edit.
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("spec.yaml");
    std::fs::write(&path, NOTES).unwrap();
    let read = SpecFile::load(&path).unwrap();
    std::fs::write(
        &path,
        format!(
            "{NOTES}  tags:
    fields: {{ name: string }}
    count: 4
"
        ),
    )
    .unwrap();
    let options = Options {
        watch: true,
        workers: Some(2),
        ..Options::default()
    };
    let app = Watched {
        server: Server::start_with(read, options).unwrap(),
        path,
        client: reqwest::Client::new(),
        _directory: directory,
    };
    let response = app.until_status("/tags", 200).await;
    assert_eq!(header(&response, "x-total-count").as_deref(), Some("4"));
    assert_eq!(app.get("/notes").await.status(), 200);
}

#[tokio::test]
async fn editors_that_save_by_rename_or_recreate_are_seen() {
    let app = watched(NOTES);
    save_by_rename(
        &app.path,
        &format!("{NOTES}  tags:\n    fields: {{ name: string }}\n"),
    );
    app.until_status("/tags", 200).await;
    std::fs::remove_file(&app.path).unwrap();
    app.until_health("the deleted file", |health| {
        health["last_reload_error"]["message"]
            .as_str()
            .is_some_and(|message| message.contains("gone"))
    })
    .await;
    assert_eq!(
        app.get("/notes").await.status(),
        200,
        "a deleted file keeps the spec serving"
    );
    std::fs::write(
        &app.path,
        format!("{NOTES}  labels:\n    fields: {{ name: string }}\n"),
    )
    .unwrap();
    app.until_status("/labels", 200).await;
    app.until_status("/tags", 404).await;
}

#[tokio::test]
async fn data_is_kept_and_new_fields_read_as_their_default() {
    let app = watched(NOTES);
    let created = app
        .client
        .post(format!("{}/notes", app.server.url()))
        .json(&json!({ "text": "kept" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let with_colour = NOTES.replace(
        "      text:",
        "      colour: { type: string, default: red }\n      text:",
    );
    std::fs::write(&app.path, &with_colour).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let note = loop {
        let note = json(app.get("/notes/4").await).await;
        if note.get("colour").is_some() || Instant::now() > deadline {
            break note;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(note["text"], "kept");
    assert_eq!(note["colour"], "red");
}

#[tokio::test]
async fn a_removed_resource_comes_back_with_its_data() {
    let app = watched(&format!(
        "{NOTES}  tags:\n    fields: {{ name: string }}\n    count: 2\n"
    ));
    let created = app
        .client
        .post(format!("{}/tags", app.server.url()))
        .json(&json!({ "name": "precious" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    std::fs::write(&app.path, NOTES).unwrap();
    app.until_status("/tags", 404).await;
    std::fs::write(
        &app.path,
        format!("{NOTES}  tags:\n    fields: {{ name: string }}\n    count: 2\n"),
    )
    .unwrap();
    let response = app.until_status("/tags/3", 200).await;
    assert_eq!(json(response).await["name"], "precious");
    assert_eq!(
        header(&app.get("/tags").await, "x-total-count").as_deref(),
        Some("3"),
        "not seeded again"
    );
}

#[tokio::test]
async fn an_invalid_spec_keeps_the_old_one_serving_and_health_shows_why() {
    let app = watched(NOTES);
    std::fs::write(&app.path, NOTES.replace("type: string", "type: strng")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let health = loop {
        let health = app.health().await;
        if health["status"] == "degraded" || Instant::now() > deadline {
            break health;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(health["status"], "degraded");
    let diagnostic = &health["last_reload_error"]["diagnostics"][0];
    assert_eq!(diagnostic["position"], json!({ "line": 5, "column": 21 }));
    assert_eq!(diagnostic["path"], "resources.notes.fields.text.type");
    assert_eq!(
        app.get("/notes/1").await.status(),
        200,
        "the old spec keeps serving"
    );

    std::fs::write(
        &app.path,
        format!("{NOTES}  tags:\n    fields: {{ name: string }}\n"),
    )
    .unwrap();
    app.until_status("/tags", 200).await;
    let health = app.health().await;
    assert_eq!(health["status"], "ok");
    assert_eq!(health["last_reload_error"], Value::Null);
}

#[tokio::test]
async fn no_request_fails_while_the_spec_is_rewritten_twenty_times() {
    let app = Arc::new(watched(NOTES));
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for client in 0..4 {
        let (app, stop, answered) = (app.clone(), stop.clone(), answered.clone());
        clients.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let path = if client % 2 == 0 {
                    "/notes?per_page=5"
                } else {
                    "/notes/1"
                };
                let response = app.get(path).await;
                if !response.status().is_success() {
                    failures.push(format!("{path}: {}", response.status()));
                }
                answered.fetch_add(1, Ordering::Relaxed);
            }
            failures
        }));
    }
    for round in 0..20 {
        let extra = if round % 2 == 1 {
            format!("      note_{round}: {{ type: integer, default: {round} }}\n")
        } else {
            String::new()
        };
        let spec = NOTES.replace("      text:", &format!("{extra}      text:"));
        if round % 3 == 0 {
            save_by_rename(&app.path, &spec);
        } else {
            std::fs::write(&app.path, &spec).unwrap();
        }
        app.until_in_force(&spec).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut failures = Vec::new();
    for client in clients {
        failures.extend(client.await.unwrap());
    }
    assert!(
        failures.is_empty(),
        "{} failed: {failures:?}",
        failures.len()
    );
    assert!(
        answered.load(Ordering::Relaxed) >= 20,
        "the clients kept asking while the spec changed"
    );
    let note = json(app.get("/notes/1").await).await;
    assert_eq!(note["note_19"], json!(19), "the last spec is in force");
}

#[tokio::test]
async fn a_new_fields_default_is_seen_by_filters_too() {
    let app = watched(NOTES);
    let with_flag = NOTES.replace(
        "      text:",
        "      flagged: { type: boolean, default: false }\n      text:",
    );
    std::fs::write(&app.path, &with_flag).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = app.get("/notes?flagged=false").await;
        if response.status() == 200 && header(&response, "x-total-count").as_deref() == Some("3") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the filter never saw the default"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_reset_after_a_reload_keeps_new_defaults_visible_to_filters() {
    let app = watched(NOTES);
    let with_flag = NOTES.replace(
        "      text:",
        "      flagged: { type: boolean, default: false }\n      text:",
    );
    std::fs::write(&app.path, &with_flag).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while header(&app.get("/notes?flagged=false").await, "x-total-count").as_deref() != Some("3") {
        assert!(Instant::now() < deadline, "the reload never came");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.server.reset().unwrap();
    let response = app.get("/notes?flagged=false").await;
    assert_eq!(header(&response, "x-total-count").as_deref(), Some("3"));
}

#[tokio::test]
async fn a_singular_resource_added_by_an_edit_is_served() {
    let app = watched(NOTES);
    assert_eq!(app.get("/profile").await.status(), 404);
    std::fs::write(
        &app.path,
        format!(
            "{NOTES}  profile:\n    singular: true\n    fields: {{ name: string }}\n    record: {{ name: Ada }}\n"
        ),
    )
    .unwrap();
    let response = app.until_status("/profile", 200).await;
    let body = json(response).await;
    assert_eq!(body["name"], "Ada");
    assert_eq!(body.get("id"), None, "{body}");
    assert_eq!(app.get("/profile/1").await.status(), 404);
}

#[tokio::test]
async fn routes_added_by_an_edit_are_applied() {
    let app = watched(NOTES);
    assert_eq!(app.get("/v1/notes/1").await.status(), 404);
    std::fs::write(&app.path, format!("routes:\n  /v1/*: /$1\n{NOTES}")).unwrap();
    let response = app.until_status("/v1/notes/1", 200).await;
    assert!(json(response).await["text"].is_string());
}

#[tokio::test]
async fn an_embed_path_follows_the_references_of_the_spec_in_force() {
    let spec = |users: &str| {
        format!(
            "standin: 1\nresources:\n  companies:\n    fields: {{ name: string }}\n    records: [{{ name: Acme }}]\n  \
             users:\n    fields:\n      name: string\n{users}    records: [{{ name: Ann, company: 1 }}]\n  \
             posts:\n    fields:\n      title: string\n      author: {{ ref: users }}\n    records: [{{ title: t, author: 1 }}]\n"
        )
    };
    let watched = watched(&spec("      company: { ref: companies }\n"));
    let path = "/posts/1?embed=author.company";
    let post = json(watched.until_status(path, 200).await).await;
    assert_eq!(post["author"]["company"]["name"], "Acme");
    // The reference becomes a plain integer: the path no longer goes through.
    std::fs::write(&watched.path, spec("      company: integer\n")).unwrap();
    let body = json(watched.until_status(path, 400).await).await;
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("cannot embed 'company' (in 'author.company')")
            && detail.contains("users can embed posts"),
        "{detail}"
    );
    // It comes back under a new name.
    std::fs::write(
        &watched.path,
        spec("      employer: { ref: companies }\n      company: integer\n"),
    )
    .unwrap();
    let post = json(
        watched
            .until_status("/posts/1?embed=author.employer", 200)
            .await,
    )
    .await;
    assert_eq!(
        post["author"]["employer"],
        Value::Null,
        "Ann has no employer yet"
    );
    assert_eq!(post["author"]["company"], 1);
}

#[tokio::test]
async fn a_reload_adds_an_action_to_the_links_and_the_routes() {
    const POSTS: &str = "standin: 1\nresources:\n  posts:\n    fields:\n      status: { type: string, enum: [draft, published], default: draft }\n    transitions:\n      status: { draft: [published] }\n    records: [{ status: draft }]\n";
    let app = watched(POSTS);
    let hal = |app: &Watched| {
        let request = app
            .client
            .get(format!("{}/posts/1", app.server.url()))
            .header("accept", "application/hal+json");
        async move { json(request.send().await.unwrap()).await }
    };
    assert!(hal(&app).await["_links"]["publish"].is_null());
    let publish = || {
        app.client
            .post(format!("{}/posts/1/publish", app.server.url()))
            .header("accept", "application/json")
            .send()
    };
    assert_eq!(publish().await.unwrap().status(), 404);
    let with_action = format!("{POSTS}    actions:\n      publish: {{ status: published }}\n");
    std::fs::write(&app.path, &with_action).unwrap();
    app.until_in_force(&with_action).await;
    assert_eq!(
        hal(&app).await["_links"]["publish"]["href"],
        "/posts/1/publish"
    );
    let response = publish().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(json(response).await["status"], "published");
    assert!(hal(&app).await["_links"]["publish"].is_null());
}
