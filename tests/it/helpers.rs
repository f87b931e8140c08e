//! The one way tests start standin: a real server on port 0 from a spec
//! string, in memory or on a SQLite file, with an HTTP client pointed at it.

use reqwest::{Client, Method, RequestBuilder, Response};
use serde_json::Value;
use standin::{Options, Server};

/// Where a test server keeps its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    Memory,
    File,
}

impl Storage {
    /// Both storage modes: behaviour tests run against each.
    pub const BOTH: [Storage; 2] = [Storage::Memory, Storage::File];
}

/// A running server and a client for it.
pub struct TestApp {
    pub server: Server,
    pub client: Client,
    _directory: Option<tempfile::TempDir>,
}

/// Gives reqwest, built without a TLS provider of its own, rustls's ring
/// provider, for a client built before any server here starts (a server
/// installs it too).
pub fn tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Starts a server for `spec` in memory.
pub fn spawn(spec: &str) -> TestApp {
    spawn_with(spec, Storage::Memory)
}

/// Starts a server for `spec` in memory, with options changed by `adjust`.
pub fn spawn_with_options(spec: &str, adjust: impl FnOnce(&mut Options)) -> TestApp {
    let spec = standin::parse("test.yaml", spec).unwrap_or_else(|errors| panic!("{errors}"));
    let mut options = Options {
        workers: Some(1),
        ..Options::default()
    };
    adjust(&mut options);
    TestApp {
        server: Server::start(spec, options).expect("the server starts"),
        client: Client::new(),
        _directory: None,
    }
}

/// Starts a server in memory for the spec file at `path` (read with the files it includes).
pub fn spawn_file(path: &std::path::Path) -> TestApp {
    let spec = standin::load(path).unwrap_or_else(|errors| panic!("{errors}"));
    let options = Options {
        workers: Some(1),
        ..Options::default()
    };
    TestApp {
        server: Server::start(spec, options).expect("the server starts"),
        client: Client::new(),
        _directory: None,
    }
}

/// The example specs: every file in `specs/`, and `spec.yaml` of every directory there.
pub fn example_specs() -> Vec<std::path::PathBuf> {
    let directory = concat!(env!("CARGO_MANIFEST_DIR"), "/specs");
    let mut specs: Vec<_> = std::fs::read_dir(directory)
        .expect("specs/")
        .map(|entry| entry.expect("an entry").path())
        .map(|path| {
            if path.is_dir() {
                path.join("spec.yaml")
            } else {
                path
            }
        })
        .collect();
    specs.sort();
    specs
}

/// Starts a server for `spec` with the given storage.
pub fn spawn_with(spec: &str, storage: Storage) -> TestApp {
    let spec = standin::parse("test.yaml", spec).unwrap_or_else(|errors| panic!("{errors}"));
    let directory =
        (storage == Storage::File).then(|| tempfile::tempdir().expect("a temporary directory"));
    let options = Options {
        db: directory
            .as_ref()
            .map(|directory| directory.path().join("data.db")),
        workers: Some(1),
        ..Options::default()
    };
    let server = Server::start(spec, options).expect("the server starts");
    TestApp {
        server,
        client: Client::new(),
        _directory: directory,
    }
}

/// Starts a server for `spec` on the SQLite file `db`, which outlives it.
pub fn spawn_on(spec: &str, db: &std::path::Path) -> TestApp {
    let spec = standin::parse("test.yaml", spec).unwrap_or_else(|errors| panic!("{errors}"));
    let options = Options {
        db: Some(db.to_path_buf()),
        workers: Some(1),
        ..Options::default()
    };
    TestApp {
        server: Server::start(spec, options).expect("the server starts"),
        client: Client::new(),
        _directory: None,
    }
}

impl TestApp {
    /// The SQLite file of a server started with [`Storage::File`].
    pub fn database_file(&self) -> Option<std::path::PathBuf> {
        self._directory
            .as_ref()
            .map(|directory| directory.path().join("data.db"))
    }

    /// The absolute URL of `path` (relative to the API's base).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    /// A request to `path` (relative to the API's base).
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path)
            .send()
            .await
            .expect("the request is answered")
    }

    pub async fn get_json(&self, path: &str) -> Response {
        self.request(Method::GET, path)
            .header("accept", "application/json")
            .send()
            .await
            .expect("the request is answered")
    }

    pub async fn send_json(&self, method: Method, path: &str, body: Value) -> Response {
        self.request(method, path)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("the request is answered")
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.send_json(Method::POST, path, body).await
    }
}

/// The response's header `name` as text.
pub fn header(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|value| value.to_str().expect("an ASCII header").to_string())
}

/// Reads a response body as JSON.
pub async fn json(response: Response) -> Value {
    let text = response.text().await.expect("a body");
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("not JSON ({error}): {text}"))
}

/// Asserts a problem+json response of `status`, returning its body.
pub async fn problem(response: Response, status: u16) -> Value {
    assert_eq!(
        response.status().as_u16(),
        status,
        "status of {}",
        response.url()
    );
    assert_eq!(
        header(&response, "content-type").as_deref(),
        Some("application/problem+json")
    );
    let body = json(response).await;
    assert_eq!(body["status"], status);
    assert!(
        body["type"]
            .as_str()
            .is_some_and(|kind| kind.starts_with("urn:standin:problem:"))
    );
    assert!(
        body["title"].is_string() && body["detail"].is_string(),
        "{body}"
    );
    body
}

/// The fields named in a problem's `errors` list.
pub fn error_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|error| error["field"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// A small library spec used by many tests.
pub const LIBRARY: &str = r#"
standin: 1
title: Library
base_path: /api
seed: 42
page_size: 10
resources:
  authors:
    fields:
      name: { type: string, required: true, maxLength: 80 }
      email: { type: string, format: email, unique: true }
    count: 5
  books:
    fields:
      title: { type: string, required: true, minLength: 1 }
      year: { type: integer, minimum: 1450, maximum: 2100 }
      genre: { type: string, enum: [fiction, science, history], default: fiction }
      author: { ref: authors, required: true, on_delete: restrict }
      tags: { type: array, items: { type: string } }
    count: 25
  reviews:
    fields:
      book: { ref: books, required: true, on_delete: cascade }
      stars: { type: integer, minimum: 1, maximum: 5 }
    count: 10
    soft_delete: true
"#;
