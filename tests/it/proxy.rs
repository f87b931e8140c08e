//! A partial mock in front of a real API: a second standin plays the real
//! backend (both on 127.0.0.1); routes the front spec declares are served by
//! it, the others forwarded, journaled as forwarded, and recorded.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use standin::{Options, Server, Upstream};

use crate::helpers::{TestApp, header, json, problem, spawn, spawn_with_options};

/// The "real" backend: users, and a resource that answers slowly.
const BACKEND: &str = "standin: 1
defaults: { accept: application/json }
resources:
  users:
    fields: { name: string }
    records:
      - { name: Ada }
      - { name: Bob }
    count: 0
  reports:
    fields: { title: string }
    count: 1
    latency: 2s
  posts:
    fields: { title: string, author: { ref: users } }
    records:
      - { title: First, author: 1 }
      - { title: Second, author: 2 }
    count: 0
";

/// The partial mock: only orders are declared.
const FRONT: &str = "standin: 1
defaults: { accept: application/json }
resources:
  orders:
    fields: { total: number }
    count: 2
";

fn upstream(backend: &TestApp, timeout: Duration) -> Option<Upstream> {
    Some(Upstream::new(backend.server.url(), timeout).expect("an http upstream"))
}

fn front_of(backend: &TestApp) -> TestApp {
    spawn_with_options(FRONT, |options| {
        options.upstream = upstream(backend, Duration::from_secs(10));
    })
}

async fn journal(app: &TestApp) -> Vec<Value> {
    let response = app.get("/_standin/requests").await;
    json(response).await.as_array().expect("a list").clone()
}

#[tokio::test]
async fn declared_routes_are_served_here_and_the_others_forwarded_as_they_are() {
    let backend = spawn(BACKEND);
    let front = front_of(&backend);

    // Declared: the front's own orders; the backend never hears of them.
    let orders = json(front.get("/orders").await).await;
    assert_eq!(orders.as_array().map(Vec::len), Some(2), "{orders}");

    // Undeclared: the backend's answer, status, headers and body as they were.
    let direct = backend.get("/users/1").await;
    let direct_etag = header(&direct, "etag");
    let direct_body = direct.text().await.unwrap();
    let through = front
        .request(Method::GET, "/users/1")
        .header("x-trace", "t-1")
        // Hop-by-hop: for this connection only, never forwarded.
        .header("connection", "keep-alive, x-hop")
        .header("x-hop", "1")
        .header("te", "trailers")
        .send()
        .await
        .unwrap();
    assert_eq!(through.status(), 200);
    assert_eq!(header(&through, "etag"), direct_etag);
    assert!(direct_etag.is_some());
    assert_eq!(through.text().await.unwrap(), direct_body);

    // A HEAD: the GET's length, no body.
    let head = front
        .request(Method::HEAD, "/users/1")
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(
        header(&head, "content-length"),
        Some(direct_body.len().to_string())
    );

    // The query and a write's body go through; the backend's Location comes back.
    let filtered = json(front.get("/users?name=Bob").await).await;
    assert_eq!(filtered, json!([backend_user(&backend, 2).await]));
    let created = front.post("/users", json!({"name": "Cy"})).await;
    assert_eq!(created.status(), 201);
    assert_eq!(header(&created, "location").as_deref(), Some("/users/3"));
    assert_eq!(backend_user(&backend, 3).await["name"], "Cy");

    // The backend's own 404 is passed back as it answered it.
    let missing = problem(front.get("/nothing").await, 404).await;
    assert!(
        missing["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains("no resource 'nothing'")),
        "{missing}"
    );

    // What the backend received: the client's headers, a Via, and no orders.
    let received = journal(&backend).await;
    let first = received
        .iter()
        .find(|entry| entry["headers"]["x-trace"] == "t-1")
        .expect("the forwarded request");
    assert_eq!(first["path"], "/users/1");
    assert_eq!(first["headers"]["via"], "1.1 standin");
    for hop in ["x-hop", "te", "connection"] {
        assert!(first["headers"].get(hop).is_none(), "{hop}: {first}");
    }
    assert!(received.iter().any(|entry| entry["query"] == "name=Bob"));
    assert!(!received.iter().any(|entry| entry["path"] == "/orders"));
}

async fn backend_user(backend: &TestApp, id: u64) -> Value {
    json(backend.get(&format!("/users/{id}")).await).await
}

#[tokio::test]
async fn the_home_document_and_the_admin_api_stay_standins() {
    let backend = spawn(BACKEND);
    let front = front_of(&backend);
    let home = json(front.get("/").await).await;
    let home = home.to_string();
    assert!(home.contains("orders") && !home.contains("users"), "{home}");
    let health = json(front.get("/_standin/health").await).await;
    assert!(health["resources"].get("orders").is_some(), "{health}");
    assert_eq!(health["upstream"]["url"], backend.server.url());
    assert_eq!(health["upstream"]["timeout_ms"], 10_000);
    assert_eq!(health["upstream"]["recording"], Value::Null);
    assert!(journal(&backend).await.is_empty());
}

#[tokio::test]
async fn forwarded_requests_are_journaled_and_verified() {
    let backend = spawn(BACKEND);
    let front = front_of(&backend);
    assert_eq!(
        front.post("/users", json!({"name": "Dee"})).await.status(),
        201
    );
    assert_eq!(front.get("/orders/1").await.status(), 200);

    // A stub answers ahead of the upstream, for a route the spec does not declare.
    let stub = front
        .post(
            "/_standin/stubs",
            json!({"request": {"method": "GET", "path": "/users/9"}, "response": {"status": 418}, "times": 1}),
        )
        .await;
    assert_eq!(stub.status(), 201);
    assert_eq!(front.get("/users/9").await.status(), 418);
    assert!(
        !journal(&backend)
            .await
            .iter()
            .any(|entry| entry["path"] == "/users/9")
    );

    let entries = front.server.received_requests();
    assert_eq!(entries.len(), 3);
    assert!(entries[2].forwarded.is_none() && entries[2].stub.is_some());
    let forwarded = entries[0].forwarded.as_ref().expect("marked as forwarded");
    assert_eq!(forwarded.status, Some(201));
    assert_eq!(forwarded.url, format!("{}/users", backend.server.url()));
    assert_eq!(entries[0].status, 201);
    assert!(entries[1].forwarded.is_none(), "{:?}", entries[1]);

    let listed = journal(&front).await;
    assert_eq!(listed[0]["forwarded"]["status"], 201);
    assert!(listed[1].get("forwarded").is_none());

    let verification = front
        .post(
            "/_standin/requests/match",
            json!({"method": "POST", "path": "/users", "body": {"name": "Dee"}}),
        )
        .await;
    let verification = json(verification).await;
    assert_eq!(verification["count"], 1, "{verification}");
    assert_eq!(verification["requests"][0]["forwarded"]["status"], 201);
}

#[tokio::test]
async fn an_unreachable_upstream_is_a_502_naming_it() {
    // A port that was free a moment ago: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let front = spawn_with_options(FRONT, |options| {
        options.upstream = Some(Upstream::new(&url, Duration::from_secs(5)).unwrap());
    });
    let body = problem(front.get("/users").await, 502).await;
    assert_eq!(body["type"], "urn:standin:problem:upstream-unreachable");
    assert_eq!(body["upstream"], url.as_str());
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("cannot connect") && detail.contains(&url),
        "{detail}"
    );
    let entries = front.server.received_requests();
    assert_eq!(entries[0].status, 502);
    assert_eq!(entries[0].forwarded.as_ref().unwrap().status, None);
    // Declared routes do not need the upstream.
    assert_eq!(front.get("/orders").await.status(), 200);
}

#[tokio::test]
async fn an_https_upstream_that_fails_tls_is_a_502_saying_so() {
    // The backend speaks plain HTTP: a TLS client's handshake with it fails.
    let backend = spawn(BACKEND);
    let url = backend.server.url().replacen("http://", "https://", 1);
    let front = spawn_with_options(FRONT, |options| {
        options.upstream = Some(Upstream::new(&url, Duration::from_secs(5)).unwrap());
    });
    let body = problem(front.get("/users/1").await, 502).await;
    assert_eq!(body["type"], "urn:standin:problem:upstream-unreachable");
    assert_eq!(body["upstream"], url.as_str());
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("TLS with the upstream {url} failed"))
            && detail.contains("handshake"),
        "{detail}"
    );
    assert_eq!(front.server.received_requests()[0].status, 502);
    // The backend never saw a request: the handshake failed before one.
    assert!(backend.server.received_requests().is_empty());
}

#[test]
fn check_accepts_an_https_upstream_and_refuses_other_schemes_where_they_are() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("front.yaml");
    std::fs::write(&path, format!("{FRONT}upstream: https://api.example.com\n")).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_standin"))
        .arg("check")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::write(&path, format!("{FRONT}upstream: ftp://api.example.com\n")).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_standin"))
        .arg("check")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = FRONT.lines().count() + 1;
    assert!(
        stderr.contains(&format!("{}:{line}:11:", path.display()))
            && stderr.contains("has the scheme 'ftp': an upstream is an http:// or https:// URL"),
        "{stderr}"
    );
}

#[tokio::test]
async fn an_upstream_slower_than_the_timeout_is_a_504() {
    // The backend's reports take 2 s (spec latency); the front waits 100 ms.
    let backend = spawn(BACKEND);
    let front = spawn_with_options(FRONT, |options| {
        options.upstream = upstream(&backend, Duration::from_millis(100));
    });
    let body = problem(front.get("/reports").await, 504).await;
    assert_eq!(body["type"], "urn:standin:problem:upstream-timeout");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains(backend.server.url()) && detail.contains("within 100ms"),
        "{detail}"
    );
    assert_eq!(front.server.received_requests()[0].status, 504);
}

#[tokio::test]
async fn the_spec_can_name_the_upstream() {
    let backend = spawn(BACKEND);
    let spec = format!(
        "{FRONT}upstream:\n  url: {}\n  timeout: 5s\n",
        backend.server.url()
    );
    let front = spawn(&spec);
    assert_eq!(json(front.get("/users/2").await).await["name"], "Bob");
}

#[tokio::test]
async fn recorded_answers_are_served_with_the_upstream_switched_off() {
    let directory = tempfile::tempdir().unwrap();
    let recording = directory.path().join("recorded.json");
    let backend = spawn(BACKEND);
    let front = spawn_with_options(FRONT, |options| {
        options.upstream = upstream(&backend, Duration::from_secs(10));
        options.record = Some(recording.clone());
    });
    let users = json(front.get("/users").await).await;
    let bob = json(front.get("/users/2").await).await;
    let bobs_posts = json(front.get("/users/2/posts").await).await;
    assert_eq!(bobs_posts.as_array().map(Vec::len), Some(1), "{bobs_posts}");
    // Writes and answers other than records are not recorded.
    assert_eq!(
        front.post("/users", json!({"name": "Cy"})).await.status(),
        201
    );
    assert_eq!(front.get("/nothing").await.status(), 404);
    drop(front);
    drop(backend);

    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&recording).unwrap()).unwrap();
    // A nested list's records point at their parent as json-server's do.
    let mut recorded_posts = bobs_posts.clone();
    recorded_posts[0]["userId"] = json!(2);
    assert_eq!(written, json!({ "users": users, "posts": recorded_posts }));

    // The recording is a db.json: served as it is, no upstream needed.
    let replay = Server::start_from_file(&recording).expect("the recording serves");
    let client = reqwest::Client::new();
    let get = |path: &str| client.get(format!("{}{path}", replay.url())).send();
    let replayed = get("/users/2").await.unwrap();
    assert_eq!(replayed.status(), 200);
    assert_eq!(json(replayed).await, bob);
    assert_eq!(json(get("/users").await.unwrap()).await, users);
    assert_eq!(
        json(get("/users/2/posts").await.unwrap()).await,
        recorded_posts
    );
}

#[tokio::test]
async fn record_mode_without_an_upstream_does_not_start() {
    let directory = tempfile::tempdir().unwrap();
    let spec = standin::parse("front.yaml", FRONT).unwrap();
    let options = Options {
        record: Some(directory.path().join("recorded.json")),
        ..Options::default()
    };
    let Err(error) = Server::start(spec, options) else {
        panic!("record mode without an upstream started");
    };
    assert!(error.to_string().contains("no upstream"), "{error}");
}

#[tokio::test]
async fn an_openapi_document_or_a_db_json_serves_its_own_paths_and_forwards_the_rest() {
    let backend = spawn(BACKEND);
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
components:
  schemas:
    Pet: { type: object, properties: { id: { type: integer }, name: { type: string } } }
"##;
    let db_json = r#"{"posts": [{"id": 1, "title": "Hello"}], "profile": {"name": "me"}}"#;
    for (front, own) in [(document, "/pets"), (db_json, "/posts/1")] {
        let front = spawn_with_options(front, |options| {
            options.upstream = upstream(&backend, Duration::from_secs(10));
        });
        assert_eq!(front.get(own).await.status(), 200, "{own}");
        assert!(front.server.received_requests()[0].forwarded.is_none());
        assert_eq!(json(front.get("/users/1").await).await["name"], "Ada");
        assert!(front.server.received_requests()[1].forwarded.is_some());
    }
}

/// A TLS backend on 127.0.0.1 with the certificate `tests/tls/localhost.pem`
/// (for 127.0.0.1 and localhost, issued by the test CA `tests/tls/ca.pem`,
/// in no system's roots): it answers every request `{"from": "tls"}` and
/// sends each request line it read down the channel.
fn tls_backend() -> (String, std::sync::mpsc::Receiver<String>) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use std::io::{BufRead, BufReader, Write};

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tls");
    let certificates = CertificateDer::pem_file_iter(root.join("localhost.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(root.join("localhost.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certificates, key)
    .unwrap();
    let config = std::sync::Arc::new(config);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let (heard, hearing) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let connection = rustls::ServerConnection::new(std::sync::Arc::clone(&config)).unwrap();
            let mut reader = BufReader::new(rustls::StreamOwned::new(connection, stream));
            // A handshake the client refuses ends here, with an error.
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|read| read > 2) {
                line.clear();
            }
            let _ = heard.send(request_line.trim_end().to_string());
            let body = r#"{"from": "tls"}"#;
            let stream = reader.get_mut();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.flush();
        }
    });
    (url, hearing)
}

#[tokio::test]
async fn an_https_upstream_whose_certificate_is_not_trusted_is_a_502_saying_so() {
    let (url, hearing) = tls_backend();
    let front = spawn_with_options(FRONT, |options| {
        options.upstream = Some(Upstream::new(&url, Duration::from_secs(5)).unwrap());
    });
    let body = problem(front.get("/users/1").await, 502).await;
    assert_eq!(body["type"], "urn:standin:problem:upstream-unreachable");
    assert_eq!(body["upstream"], url.as_str());
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("TLS with the upstream {url} failed"))
            && detail
                .contains("its certificate is not trusted (verified against the system's roots)")
            && detail.contains("UnknownIssuer"),
        "{detail}"
    );
    assert!(hearing.try_recv().is_err(), "no request was sent");
}

#[tokio::test]
async fn an_https_upstream_whose_certificate_the_roots_trust_is_forwarded_to() {
    // The system's roots, for this process only: the test CA (SSL_CERT_FILE).
    let (url, hearing) = tls_backend();
    let directory = tempfile::tempdir().unwrap();
    let ready = directory.path().join("ready");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_standin"))
        .current_dir(root)
        .env("SSL_CERT_FILE", root.join("tests/tls/ca.pem"))
        .env_remove("SSL_CERT_DIR")
        .args(["serve", "specs/todo.yaml", "--port", "0", "--no-watch"])
        .args(["--upstream", &url, "--ready-file"])
        .arg(&ready)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let front = loop {
        let text = std::fs::read_to_string(&ready).unwrap_or_default();
        if let Some(line) = text.lines().next() {
            break line.to_string();
        }
        assert!(std::time::Instant::now() < deadline, "not ready");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    crate::helpers::tls_provider();
    let answer = reqwest::get(format!("{front}/users/1?x=1")).await.unwrap();
    let status = answer.status();
    let body = answer.text().await.unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, r#"{"from": "tls"}"#);
    assert_eq!(hearing.try_recv().unwrap(), "GET /users/1?x=1 HTTP/1.1");
}
