//! The HTTP boundary: the journal stays within its bytes, a request sent too
//! slowly is answered 408 and closed, the admin API is closed to other sites
//! (and to anyone without the admin token, when one is set), and a body in a
//! content coding is refused.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use reqwest::{Client, Method};
use serde_json::json;
use standin::{Options, Server};

use crate::helpers::{LIBRARY, header, json, problem, spawn};

/// A server started with `options`, for tests that need other than the defaults.
fn start(options: Options) -> Server {
    let spec = standin::parse("test.yaml", LIBRARY).expect("the library spec parses");
    Server::start(
        spec,
        Options {
            workers: Some(1),
            ..options
        },
    )
    .expect("the server starts")
}

/// `host:port` of a server.
fn address(server: &Server) -> String {
    let url = server.url().strip_prefix("http://").expect("an http URL");
    url.split('/').next().expect("a host").to_string()
}

/// Sends `request` on a connection of its own and reads until the server
/// closes it, waiting at most `wait`: the answer, and whether it was closed.
fn exchange(address: &str, request: &[u8], wait: Duration) -> (String, bool) {
    let mut stream = TcpStream::connect(address).expect("a connection");
    stream.write_all(request).expect("the request is sent");
    stream.set_read_timeout(Some(wait)).expect("a read timeout");
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    let closed = loop {
        match stream.read(&mut buffer) {
            Ok(0) => break true,
            Ok(read) => answer.extend_from_slice(&buffer[..read]),
            Err(_) => break false,
        }
    };
    (String::from_utf8_lossy(&answer).into_owned(), closed)
}

fn short_timeouts() -> standin::Timeouts {
    standin::Timeouts {
        head: Duration::from_secs(1),
        body_idle: Duration::from_secs(1),
        body_total: Duration::from_secs(3),
    }
}

#[tokio::test]
async fn many_large_bodies_to_a_missing_path_stay_within_the_journal_bound() {
    let app = spawn(LIBRARY);
    let padding = "x".repeat(60 * 1024);
    for n in 0..200 {
        let response = app
            .post("/nowhere", json!({ "n": n, "padding": padding }))
            .await;
        assert_eq!(response.status(), 404);
    }
    let health = json(app.get("/_standin/health").await).await;
    let journal = &health["journal"];
    assert_eq!(journal["max_bytes"], 8 * 1024 * 1024, "{journal}");
    assert!(
        journal["bytes"].as_u64().unwrap() <= journal["max_bytes"].as_u64().unwrap(),
        "{journal}"
    );
    let entries = json(app.get("/_standin/requests").await).await;
    let entries = entries.as_array().unwrap();
    assert_eq!(
        entries.len(),
        journal["requests"].as_u64().unwrap() as usize
    );
    assert!(entries.len() < 200, "the oldest were evicted");
    let newest = entries.last().unwrap();
    assert_eq!(newest["body"]["n"], 199, "bodies come back as JSON");
    assert_eq!(newest["status"], 404);
    let kept: Vec<i64> = entries
        .iter()
        .map(|entry| entry["body"]["n"].as_i64().unwrap())
        .collect();
    assert_eq!(kept, (200 - entries.len() as i64..200).collect::<Vec<_>>());

    assert_eq!(
        app.request(Method::DELETE, "/_standin/requests")
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let health = json(app.get("/_standin/health").await).await;
    assert_eq!(health["journal"]["bytes"], 0);
}

#[tokio::test]
async fn a_body_that_stops_coming_is_408_and_its_connection_closed() {
    let server = start(Options {
        timeouts: short_timeouts(),
        ..Options::default()
    });
    let address = address(&server);
    let stalled = tokio::task::spawn_blocking({
        let address = address.clone();
        move || {
            exchange(
                &address,
                b"POST /api/authors HTTP/1.1\r\nHost: standin\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"name\": ",
                Duration::from_secs(20),
            )
        }
    });
    // Meanwhile another connection is served.
    let books = Client::new()
        .get(format!("{}/books/1", server.url()))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("a GET is answered while a body stalls");
    assert_eq!(books.status(), 200);
    let (answer, closed) = stalled.await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(answer.contains("did not arrive in time"), "{answer}");
    assert!(closed, "the connection is closed: {answer}");
    let journal = server.received_requests();
    assert!(
        journal.iter().any(|entry| entry.status == 408),
        "{journal:?}"
    );
}

#[tokio::test]
async fn a_body_sent_too_slowly_overall_is_408() {
    let server = start(Options {
        timeouts: short_timeouts(),
        ..Options::default()
    });
    let address = address(&server);
    let (answer, closed) = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(&address).expect("a connection");
        stream
            .write_all(
                b"POST /api/authors HTTP/1.1\r\nHost: standin\r\nContent-Length: 1000\r\n\r\n",
            )
            .unwrap();
        // A byte every half second: never idle for long, but far too slow.
        let mut answer = Vec::new();
        stream
            .set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        for _ in 0..40 {
            if stream.write_all(b" ").is_err() {
                break;
            }
            let mut buffer = [0u8; 4096];
            match stream.read(&mut buffer) {
                Ok(0) => return (String::from_utf8_lossy(&answer).into_owned(), true),
                Ok(read) => answer.extend_from_slice(&buffer[..read]),
                Err(_) => {}
            }
        }
        (String::from_utf8_lossy(&answer).into_owned(), false)
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(closed, "the connection is closed: {answer}");
}

#[tokio::test]
async fn headers_that_stop_coming_are_408_and_closed() {
    let server = start(Options {
        timeouts: short_timeouts(),
        ..Options::default()
    });
    let address = address(&server);
    let (answer, closed) = tokio::task::spawn_blocking(move || {
        exchange(
            &address,
            b"GET /api/books HTTP/1.1\r\nHost: standin\r\n",
            Duration::from_secs(20),
        )
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(closed, "the connection is closed: {answer}");
}

#[tokio::test]
async fn a_cross_site_reset_is_refused_and_changes_nothing() {
    let app = spawn(LIBRARY);
    let created = app.post("/authors", json!({ "name": "Kept" })).await;
    assert_eq!(created.status(), 201);
    // What a form or fetch() on another site sends: no preflight for text/plain.
    let response = app
        .request(Method::POST, "/_standin/reset")
        .header("origin", "https://evil.example")
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    assert!(header(&response, "access-control-allow-origin").is_none());
    let body = problem(response, 403).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("https://evil.example"),
        "{body}"
    );
    let response = app
        .request(Method::POST, "/_standin/reset")
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    problem(response, 403).await;
    assert_eq!(app.get("/authors/6").await.status(), 200, "not reset");
}

#[tokio::test]
async fn the_journal_is_never_shared_with_other_origins() {
    let app = spawn(LIBRARY);
    app.post("/authors", json!({ "name": "Private" })).await;
    let own_origin = format!("http://{}", address(&app.server));
    let response = app
        .request(Method::GET, "/_standin/requests")
        .header("origin", &own_origin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        header(&response, "access-control-allow-origin").is_none(),
        "admin answers carry no CORS headers"
    );
    let preflight = app
        .request(Method::OPTIONS, "/_standin/requests")
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "DELETE")
        .send()
        .await
        .unwrap();
    assert!(header(&preflight, "access-control-allow-origin").is_none());
    assert!(header(&preflight, "access-control-allow-methods").is_none());
    let read = app
        .request(Method::GET, "/_standin/requests")
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(header(&read, "access-control-allow-origin").is_none());
    let body = problem(read, 403).await;
    assert!(!body.to_string().contains("Private"), "{body}");
    // The API itself keeps its CORS.
    let books = app
        .request(Method::GET, "/books")
        .header("origin", "https://app.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&books, "access-control-allow-origin").as_deref(),
        Some("*")
    );
}

#[tokio::test]
async fn admin_requests_from_scripts_and_the_same_origin_are_served() {
    let app = spawn(LIBRARY);
    let own_origin = format!("http://{}", address(&app.server));
    for (name, value) in [
        ("x-none", "curl-like"),
        ("origin", own_origin.as_str()),
        ("sec-fetch-site", "same-origin"),
        ("sec-fetch-site", "none"),
    ] {
        let response = app
            .request(Method::POST, "/_standin/reset")
            .header(name, value)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{name}: {value}");
    }
}

#[tokio::test]
async fn the_admin_token_guards_the_admin_api() {
    let server = start(Options {
        admin_token: Some("s3cret-admin".into()),
        ..Options::default()
    });
    let client = Client::new();
    let url = |path: &str| format!("{}{path}", server.url());
    let missing = client.post(url("/_standin/reset")).send().await.unwrap();
    assert_eq!(
        header(&missing, "www-authenticate").as_deref(),
        Some("Bearer realm=\"standin\"")
    );
    problem(missing, 401).await;
    let wrong = client
        .get(url("/_standin/requests"))
        .bearer_auth("guess")
        .send()
        .await
        .unwrap();
    problem(wrong, 401).await;
    let right = client
        .post(url("/_standin/reset"))
        .bearer_auth("s3cret-admin")
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
    // The API and its description stay open; the in-process API too.
    let books = client.get(url("/books/1")).send().await.unwrap();
    assert_eq!(books.status(), 200);
    let description = client
        .get(url("/_standin/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(description.status(), 200);
    assert_eq!(server.received_requests().len(), 1);
    server.reset().unwrap();
}

#[tokio::test]
async fn a_body_in_a_content_coding_is_415() {
    let app = spawn(LIBRARY);
    for coding in ["br", "gzip", "identity, gzip"] {
        let response = app
            .request(Method::POST, "/authors")
            .header("content-type", "application/json")
            .header("content-encoding", coding)
            .body(json!({ "name": "Coded" }).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(
            header(&response, "accept-encoding").as_deref(),
            Some("identity")
        );
        let body = problem(response, 415).await;
        assert!(
            body["detail"].as_str().unwrap().contains(coding),
            "{coding}: {body}"
        );
    }
    let plain = app
        .request(Method::POST, "/authors")
        .header("content-type", "application/json")
        .header("content-encoding", "identity")
        .body(json!({ "name": "Plain" }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 201);
}

/// The `standin` binary serving the todo spec, started through `sh` (so a
/// test can lower a limit first), with its stderr in `log`.
struct Binary {
    child: std::process::Child,
    url: String,
    log: std::path::PathBuf,
    _directory: tempfile::TempDir,
}

impl Binary {
    fn start(shell_prefix: &str, environment: &[(&str, &str)]) -> Binary {
        use std::io::BufRead;
        let directory = tempfile::tempdir().expect("a temporary directory");
        let log = directory.path().join("stderr.log");
        let mut command = std::process::Command::new("sh");
        command
            .arg("-c")
            .arg(format!(
                "{shell_prefix} exec \"$0\" serve specs/todo.yaml --port 0 --workers 1 --no-watch"
            ))
            .arg(env!("CARGO_BIN_EXE_standin"))
            .env_remove("STANDIN_LOG")
            .env_remove("STANDIN_ADMIN_TOKEN")
            .stdout(std::process::Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("a log file"));
        for (name, value) in environment {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("standin starts");
        let mut url = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut url)
            .expect("the URL is printed");
        Binary {
            child,
            url: url.trim().to_string(),
            log,
            _directory: directory,
        }
    }

    fn address(&self) -> String {
        let url = self.url.strip_prefix("http://").expect("an http URL");
        url.split('/').next().expect("a host").to_string()
    }

    /// Stops it with SIGTERM and returns what it logged.
    fn stop(mut self) -> String {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        self.child.wait().expect("standin stops");
        std::fs::read_to_string(&self.log).expect("the log")
    }
}

#[test]
fn malformed_requests_are_answered_without_logging_server_errors() {
    let binary = Binary::start("", &[]);
    let address = binary.address();
    let too_long = format!(
        "GET /{} HTTP/1.1\r\nHost: standin\r\n\r\n",
        "a".repeat(200_000)
    );
    for (request, status) in [
        (
            "POST /todos HTTP/1.1\r\nHost: standin\r\nContent-Length: 1x\r\n\r\n".to_string(),
            "400",
        ),
        (
            "POST /todos HTTP/1.1\r\nHost: standin\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n".to_string(),
            "400",
        ),
        ("GET /todos HTTP/9.9\r\nHost: standin\r\n\r\n".to_string(), "400"),
        (too_long, "431"),
    ] {
        let (answer, _) = exchange(&address, request.as_bytes(), Duration::from_secs(10));
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status}")),
            "{status}: {answer}"
        );
    }
    let (answer, _) = exchange(
        &address,
        b"GET /todos/1 HTTP/1.1\r\nHost: standin\r\nConnection: close\r\n\r\n",
        Duration::from_secs(10),
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let log = binary.stop();
    assert!(log.contains("GET /todos/1 200"), "{log}");
    assert!(!log.contains("ERROR"), "{log}");
}

#[test]
fn the_binary_raises_its_open_file_limit_and_takes_the_admin_token_from_the_environment() {
    let binary = Binary::start("ulimit -Sn 256;", &[("STANDIN_ADMIN_TOKEN", "from-env")]);
    let address = binary.address();
    if let Ok(limits) = std::fs::read_to_string(format!("/proc/{}/limits", binary.child.id())) {
        let open_files = limits
            .lines()
            .find(|line| line.starts_with("Max open files"))
            .expect("a line for open files");
        let numbers: Vec<&str> = open_files.split_whitespace().skip(3).take(2).collect();
        assert_eq!(numbers[0], numbers[1], "soft raised to hard: {open_files}");
    }
    let (refused, _) = exchange(
        &address,
        b"POST /_standin/reset HTTP/1.1\r\nHost: standin\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        Duration::from_secs(10),
    );
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    let (accepted, _) = exchange(
        &address,
        b"POST /_standin/reset HTTP/1.1\r\nHost: standin\r\nAuthorization: Bearer from-env\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        Duration::from_secs(10),
    );
    assert!(accepted.starts_with("HTTP/1.1 200"), "{accepted}");
    let log = binary.stop();
    assert!(
        !log.contains("from-env"),
        "the token is never logged: {log}"
    );
}
