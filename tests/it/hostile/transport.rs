//! Below standin's service: heads actix-http rejects (malformed, too large)
//! are answered as problem+json, every request's head on a kept-alive
//! connection is timed, and well-formed traffic (keep-alive, pipelining,
//! bodies holding an empty line, `Expect: 100-continue`) is left alone.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde_json::Value;
use standin::{Options, Server};

use crate::helpers::LIBRARY;

/// A server whose heads may take one second each.
fn start() -> Server {
    let spec = standin::parse("test.yaml", LIBRARY).expect("the library spec parses");
    let options = Options {
        workers: Some(1),
        timeouts: standin::Timeouts {
            head: Duration::from_secs(1),
            ..standin::Timeouts::default()
        },
        ..Options::default()
    };
    Server::start(spec, options).expect("the server starts")
}

/// A connection to `server`, whose reads give up after ten seconds.
fn connect(server: &Server) -> TcpStream {
    let url = server.url();
    let address = url
        .strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
        .expect("an http URL");
    let stream = TcpStream::connect(address).expect("a connection");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a read timeout");
    stream
}

/// One response: its status, its head's lines, its body.
struct Answer {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }

    fn problem(&self) -> Value {
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{}",
            self.head
        );
        let body: Value = serde_json::from_slice(&self.body).expect("a JSON body");
        assert_eq!(body["status"], self.status, "{body}");
        body
    }
}

/// Reads one response off `stream` (without a body after a HEAD request).
fn read_answer(stream: &mut TcpStream, head_request: bool) -> Answer {
    let mut bytes = Vec::new();
    let mut byte = [0u8; 1];
    while !bytes.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => bytes.push(byte[0]),
            other => panic!(
                "the head ended early ({other:?}): {}",
                String::from_utf8_lossy(&bytes)
            ),
        }
    }
    let head = String::from_utf8(bytes).expect("a UTF-8 head");
    let status = head[9..12].parse().expect("a status");
    let mut answer = Answer {
        status,
        head,
        body: Vec::new(),
    };
    let length: usize = answer
        .header("content-length")
        .map_or(0, |length| length.parse().expect("a length"));
    if !head_request {
        answer.body = vec![0; length];
        stream.read_exact(&mut answer.body).expect("the body");
    }
    answer
}

/// Whether the server closed `stream` (end of stream or reset) within `wait`.
fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    stream.set_read_timeout(Some(wait)).expect("a read timeout");
    let mut buffer = [0u8; 256];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(error) => return error.kind() == ErrorKind::ConnectionReset,
        }
    }
}

/// Sends `request` on a connection of its own: the answer, and whether the
/// connection was then closed.
fn rejected(server: &Server, request: &[u8]) -> (Answer, bool) {
    let mut stream = connect(server);
    // A very large head may be cut off by the server's answer.
    let _ = stream.write_all(request);
    let answer = read_answer(&mut stream, false);
    let closed = closed_within(&mut stream, Duration::from_secs(5));
    (answer, closed)
}

#[test]
fn heads_actix_http_rejects_are_400_problem_json_and_closed() {
    let server = start();
    for (what, request) in [
        (
            "a Content-Length that is no number",
            b"POST /api/authors HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n".as_slice(),
        ),
        (
            "Content-Length with Transfer-Encoding",
            b"POST /api/authors HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        ),
        (
            "an unknown HTTP version",
            b"GET /api/authors HTTP/9.9\r\nHost: a\r\n\r\n",
        ),
        (
            "a header line without a colon",
            b"GET /api/authors HTTP/1.1\r\nHost: a\r\nno colon here\r\n\r\n",
        ),
    ] {
        let (answer, closed) = rejected(&server, request);
        assert_eq!(answer.status, 400, "{what}: {}", answer.head);
        let problem = answer.problem();
        assert_eq!(problem["type"], "urn:standin:problem:bad-request", "{what}");
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(
            detail.starts_with("the request's head is malformed"),
            "{what}: {detail}"
        );
        assert!(closed, "{what}: the connection is closed");
    }
}

#[test]
fn heads_over_actix_http_limits_are_431_problem_json() {
    let server = start();
    let long_url = format!(
        "GET /api/authors?q={} HTTP/1.1\r\nHost: a\r\n\r\n",
        "a".repeat(132 * 1024)
    );
    let many_headers = format!(
        "GET /api/authors HTTP/1.1\r\nHost: a\r\n{}\r\n",
        (0..120)
            .map(|n| format!("X-{n}: 1\r\n"))
            .collect::<String>()
    );
    for (what, request) in [("a long URL", long_url), ("120 headers", many_headers)] {
        let (answer, closed) = rejected(&server, request.as_bytes());
        assert_eq!(answer.status, 431, "{what}: {}", answer.head);
        let problem = answer.problem();
        assert_eq!(problem["type"], "urn:standin:problem:head-too-large");
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(
            detail.contains("131072 bytes") && detail.contains("96 header lines"),
            "{what}: {detail}"
        );
        assert!(closed, "{what}: the connection is closed");
    }
}

#[test]
fn a_later_head_sent_byte_by_byte_is_408_problem_json_and_closed() {
    let server = start();
    let mut stream = connect(&server);
    stream
        .write_all(b"GET /api/authors/1 HTTP/1.1\r\nHost: a\r\n\r\n")
        .expect("the first request is sent");
    assert_eq!(read_answer(&mut stream, false).status, 200);
    // The second head, a byte every 400 ms: 13 s in all, the limit is 1 s.
    let started = Instant::now();
    let mut writer = stream.try_clone().expect("a second handle");
    let trickle = std::thread::spawn(move || {
        for byte in b"GET /api/authors/2 HTTP/1.1\r\nHost: a\r\n\r\n" {
            if writer.write_all(&[*byte]).is_err() {
                return;
            }
            sleep(Duration::from_millis(400));
        }
    });
    let answer = read_answer(&mut stream, false);
    let took = started.elapsed();
    assert_eq!(answer.status, 408, "{}", answer.head);
    assert_eq!(answer.header("connection"), Some("close"));
    let problem = answer.problem();
    assert_eq!(problem["type"], "urn:standin:problem:request-timeout");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains("within 1s")),
        "{problem}"
    );
    assert!(took < Duration::from_secs(3), "answered after {took:?}");
    assert!(closed_within(&mut stream, Duration::from_secs(2)));
    trickle.join().expect("the trickle ends");
}

#[test]
fn kept_alive_connections_serve_slow_clients_within_the_limit() {
    let server = start();
    let mut stream = connect(&server);
    let get = b"GET /api/authors/1 HTTP/1.1\r\nHost: a\r\n\r\n";
    stream.write_all(get).expect("sent");
    assert_eq!(read_answer(&mut stream, false).status, 200);
    // Idle between requests for longer than a head may take: only the head is timed.
    sleep(Duration::from_millis(1500));
    stream.write_all(get).expect("sent");
    assert_eq!(read_answer(&mut stream, false).status, 200);
    // A head in two pieces, well within the limit.
    stream
        .write_all(b"HEAD /api/authors/1 HTTP/1.1\r\n")
        .expect("sent");
    sleep(Duration::from_millis(300));
    stream.write_all(b"Host: a\r\n\r\n").expect("sent");
    let head = read_answer(&mut stream, true);
    assert_eq!(head.status, 200);
    // A HEAD answer has the GET's content type and length, and no body.
    assert_eq!(head.header("content-type"), Some("application/hal+json"));
    // A conditional GET answered 304, then a 404 of standin's own.
    let etag = head.header("etag").expect("an ETag").to_string();
    let conditional =
        format!("GET /api/authors/1 HTTP/1.1\r\nHost: a\r\nIf-None-Match: {etag}\r\n\r\n");
    stream.write_all(conditional.as_bytes()).expect("sent");
    let not_modified = read_answer(&mut stream, false);
    assert_eq!(not_modified.status, 304, "{}", not_modified.head);
    assert!(not_modified.body.is_empty());
    stream
        .write_all(b"GET /api/nothing HTTP/1.1\r\nHost: a\r\n\r\n")
        .expect("sent");
    let missing = read_answer(&mut stream, false);
    assert_eq!(missing.status, 404);
    assert_eq!(missing.problem()["type"], "urn:standin:problem:not-found");
    stream.write_all(get).expect("sent");
    assert_eq!(read_answer(&mut stream, false).status, 200);
}

#[test]
fn pipelined_requests_and_bodies_with_empty_lines_are_served() {
    let server = start();
    let mut stream = connect(&server);
    let body = "{\"name\": \"Two\\r\\n\\r\\nlines\"}\r\n\r\n";
    let post = format!(
        "POST /api/authors HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let pipelined = format!(
        "GET /api/authors/1 HTTP/1.1\r\nHost: a\r\n\r\n{post}GET /api/authors/2 HTTP/1.1\r\nHost: a\r\n\r\n"
    );
    stream.write_all(pipelined.as_bytes()).expect("sent");
    assert_eq!(read_answer(&mut stream, false).status, 200);
    let created = read_answer(&mut stream, false);
    assert_eq!(
        created.status,
        201,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    assert_eq!(read_answer(&mut stream, false).status, 200);
    // The same POST with its body coming later than a head may take.
    let (head, body) = post.split_at(post.len() - body.len());
    stream.write_all(head.as_bytes()).expect("sent");
    sleep(Duration::from_millis(1500));
    stream.write_all(body.as_bytes()).expect("sent");
    assert_eq!(read_answer(&mut stream, false).status, 201);
}

#[test]
fn a_body_sent_after_100_continue_is_not_timed_as_a_head() {
    let server = start();
    let mut stream = connect(&server);
    let body = "{\"name\": \"Patient\"}";
    let head = format!(
        "POST /api/authors HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("sent");
    assert_eq!(read_answer(&mut stream, true).status, 100);
    sleep(Duration::from_millis(1500));
    stream.write_all(body.as_bytes()).expect("sent");
    let created = read_answer(&mut stream, false);
    assert_eq!(
        created.status,
        201,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
}
