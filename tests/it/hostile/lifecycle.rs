//! The server's life: reloads that panic, swap links, lose the file or add
//! `unique` over duplicates; reloads that seed for long; asynchronous creates
//! across a restart; two servers on one database file.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use standin::{Options, Server, SpecFile};

use crate::helpers::{header, json};

const NOTES: &str = "standin: 1\nresources:\n  notes:\n    fields:\n      text: { type: string, required: true }\n    count: 3\n";

/// NOTES and a second resource, `tags`.
fn with_tags() -> String {
    format!("{NOTES}  tags:\n    fields: {{ label: string }}\n    count: 2\n")
}

/// A server watching its spec file at `path`.
fn watching(path: &Path) -> Server {
    let options = Options {
        watch: true,
        workers: Some(2),
        ..Options::default()
    };
    Server::start_with(SpecFile::load(path).unwrap(), options).unwrap()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn get(server: &Server, path: &str) -> reqwest::Response {
    client()
        .get(format!("{}{path}", server.url()))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap()
}

async fn health(server: &Server) -> Value {
    json(get(server, "/_standin/health").await).await
}

/// Waits (up to 20 s) until `done` holds for the server's health.
async fn until_health(server: &Server, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let health = health(server).await;
        if done(&health) {
            return health;
        }
        assert!(Instant::now() < deadline, "never {what}: {health}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits (up to 20 s) until `path` answers 200.
async fn until_served(server: &Server, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while get(server, path).await.status() != 200 {
        assert!(Instant::now() < deadline, "{path} was never served");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn reload_error(health: &Value) -> &str {
    health["last_reload_error"]["message"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test]
async fn a_reload_that_panics_leaves_the_watcher_alive() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("spec.yaml");
    std::fs::write(&path, NOTES).unwrap();
    let server = watching(&path);
    // Finite bounds whose width is not: drawing a value once panicked.
    let extreme = format!(
        "{NOTES}  gauges:\n    fields:\n      level: {{ type: number, minimum: -1e308, maximum: 1e308 }}\n    count: 3\n"
    );
    std::fs::write(&path, &extreme).unwrap();
    let seen = |health: &Value| {
        !health["last_reload_error"].is_null() || health["resources"]["gauges"].is_number()
    };
    until_health(&server, "saw the edit", seen).await;
    let created = client()
        .post(format!("{}/notes", server.url()))
        .json(&json!({ "text": "after the panic" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "the store is still usable");
    std::fs::write(&path, with_tags()).unwrap();
    until_served(&server, "/tags").await;
}

#[tokio::test]
async fn a_kubernetes_configmap_update_is_reloaded() {
    // What the kubelet does: the spec links through `..data`, a link to a
    // timestamped directory, and an update swaps `..data` by renaming a new link over it.
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path();
    std::fs::create_dir(root.join("..2026_11_28_10_00_00.1")).unwrap();
    std::fs::write(root.join("..2026_11_28_10_00_00.1/spec.yaml"), NOTES).unwrap();
    std::os::unix::fs::symlink("..2026_11_28_10_00_00.1", root.join("..data")).unwrap();
    std::os::unix::fs::symlink("..data/spec.yaml", root.join("spec.yaml")).unwrap();
    let server = watching(&root.join("spec.yaml"));
    assert_eq!(get(&server, "/tags").await.status(), 404);

    std::fs::create_dir(root.join("..2026_11_28_10_05_00.2")).unwrap();
    std::fs::write(root.join("..2026_11_28_10_05_00.2/spec.yaml"), with_tags()).unwrap();
    std::os::unix::fs::symlink("..2026_11_28_10_05_00.2", root.join("..data_tmp")).unwrap();
    std::fs::rename(root.join("..data_tmp"), root.join("..data")).unwrap();
    std::fs::remove_dir_all(root.join("..2026_11_28_10_00_00.1")).unwrap();
    until_served(&server, "/tags").await;
}

#[tokio::test]
async fn a_deleted_spec_file_shows_in_health_until_it_is_back() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("spec.yaml");
    std::fs::write(&path, NOTES).unwrap();
    let server = watching(&path);
    std::fs::remove_file(&path).unwrap();
    let health = until_health(&server, "reported the file gone", |health| {
        reload_error(health).contains("gone")
    })
    .await;
    assert_eq!(health["status"], "degraded");
    assert!(reload_error(&health).contains("spec.yaml"), "{health}");
    assert_eq!(
        get(&server, "/notes").await.status(),
        200,
        "the old spec serves"
    );
    std::fs::write(&path, NOTES).unwrap();
    until_health(&server, "cleared the error", |health| {
        health["last_reload_error"].is_null()
    })
    .await;
}

#[tokio::test]
async fn unique_added_over_duplicates_is_refused_naming_the_value() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("spec.yaml");
    std::fs::write(&path, NOTES).unwrap();
    let server = watching(&path);
    for _ in 0..2 {
        let created = client()
            .post(format!("{}/notes", server.url()))
            .json(&json!({ "text": "twice" }))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
    }
    let hash = health(&server).await["spec"]["hash"].clone();
    std::fs::write(
        &path,
        NOTES.replace("required: true", "required: true, unique: true"),
    )
    .unwrap();
    let health = until_health(&server, "refused the reload", |health| {
        !health["last_reload_error"].is_null()
    })
    .await;
    let message = reload_error(&health);
    assert!(
        message.contains("resources.notes.fields.text") && message.contains("\"twice\""),
        "{message}"
    );
    assert_eq!(health["spec"]["hash"], hash, "the old spec keeps serving");
}

#[tokio::test]
async fn health_is_answered_while_a_reload_seeds_a_large_resource() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("spec.yaml");
    std::fs::write(&path, NOTES).unwrap();
    let server = watching(&path);
    let large =
        format!("{NOTES}  readings:\n    fields: {{ value: integer }}\n    count: 300000\n");
    std::fs::write(&path, large).unwrap();
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let answer = impatient
            .get(format!("{}/_standin/health", server.url()))
            .send()
            .await
            .expect("health is answered within 3 s during the reload");
        let health = json(answer).await;
        if health["resources"]["readings"] == 300000 {
            break;
        }
        assert!(health["last_reload_error"].is_null(), "{health}");
        assert!(Instant::now() < deadline, "the reload never finished");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

const REPORTS: &str = "standin: 1\nresources:\n  reports:\n    fields: { name: { type: string, required: true } }\n    async: 2s\n";

fn start_on(db: &Path) -> Result<Server, standin::StartError> {
    let spec = standin::parse("test.yaml", REPORTS).unwrap();
    let options = Options {
        db: Some(db.to_path_buf()),
        workers: Some(1),
        ..Options::default()
    };
    Server::start(spec, options)
}

async fn create_report(server: &Server, name: &str) -> String {
    let response = client()
        .post(format!("{}/reports", server.url()))
        .json(&json!({ "name": name }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    header(&response, "location").unwrap()
}

#[tokio::test]
async fn a_pending_async_create_survives_a_restart_and_its_number_is_not_reused() {
    let directory = tempfile::tempdir().unwrap();
    let db: PathBuf = directory.path().join("data.db");
    let server = start_on(&db).unwrap();
    let monitor = create_report(&server, "quarterly").await;
    drop(server); // before the record is due

    let server = start_on(&db).unwrap();
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let origin = server.url().to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    let done = loop {
        let response = no_redirects
            .get(format!("{origin}{monitor}"))
            .send()
            .await
            .unwrap();
        if response.status() == 303 {
            break response;
        }
        assert_eq!(response.status(), 200, "the monitor of {monitor} is kept");
        assert!(Instant::now() < deadline, "{monitor} never finished");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let record = header(&done, "location").unwrap();
    assert_eq!(json(get(&server, &record).await).await["name"], "quarterly");
    let second = create_report(&server, "annual").await;
    assert_ne!(second, monitor, "job numbers are never reused");
}

#[tokio::test]
async fn a_second_server_on_the_same_database_file_is_refused() {
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("data.db");
    let first = start_on(&db).unwrap();
    let refused = start_on(&db).expect_err("a second server on data.db is refused");
    let message = refused.to_string();
    assert!(
        message.contains("data.db") && message.contains("another standin"),
        "{message}"
    );
    drop(first);
    start_on(&db).expect("the file is free once the first server stopped");
}

#[tokio::test]
async fn requests_during_a_long_reset_are_answered_503_at_once_not_held() {
    let app = crate::helpers::spawn(
        "standin: 1\nresources:\n  notes:\n    fields: { text: string, n: integer }\n    count: 30000\n",
    );
    let reset = tokio::spawn(app.client.post(app.url("/_standin/reset")).send());
    let mut refused = None;
    while !reset.is_finished() {
        let response = app.get("/notes/1").await;
        if response.status() == 503 {
            refused = Some(response);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let refused = refused.expect("a request during the reset is refused, not held");
    assert_eq!(
        crate::helpers::header(&refused, "retry-after").as_deref(),
        Some("1")
    );
    let body = crate::helpers::problem(refused, 503).await;
    assert_eq!(body["type"], "urn:standin:problem:resetting");
    assert_eq!(reset.await.unwrap().unwrap().status(), 200);
    assert_eq!(app.get("/notes/1").await.status(), 200);
}

#[test]
fn a_graceful_shutdown_lets_the_request_in_flight_finish() {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    let options = Options {
        port: 0,
        workers: Some(1),
        ..Options::default()
    };
    // Every answer waits a second, so the request is still being answered
    // when the stop comes.
    let spec = format!("latency: 1s\n{NOTES}");
    let prepared = standin::Prepared::new(SpecFile::parse(&spec).unwrap(), &options).unwrap();
    let listener = options.bind().unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(prepared.serve(listener, Some(1), async move {
            let _ = stopped.await;
        }))
    });

    // The server is answering this request once it asks for its body.
    let body = r#"{"text": "written during the shutdown"}"#;
    let mut client = TcpStream::connect(address).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        client,
        "POST /notes HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        body.len()
    )
    .unwrap();
    let mut interim = [0u8; 25];
    client.read_exact(&mut interim).unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");

    // Stop, and wait until the server has stopped taking connections.
    stop.send(()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(address).is_ok() {
        assert!(Instant::now() < deadline, "still accepting connections");
        std::thread::sleep(Duration::from_millis(10));
    }

    // The request begun before the stop is still served in full.
    client.write_all(body.as_bytes()).unwrap();
    let mut answer = String::new();
    client.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 201 Created"), "{answer}");
    assert!(answer.contains("written during the shutdown"), "{answer}");
    serving.join().unwrap().unwrap();
}
