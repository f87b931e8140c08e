//! The journal of received requests, for tests that assert on what standin
//! was sent: an in-memory list, newest last, bounded both in requests
//! (1,000) and in bytes (8 MiB of bodies, headers and paths). Bodies are
//! kept as the bytes received (at most 64 KiB each) and parsed only when the
//! journal is read. Credentials are redacted before they are recorded.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::{Map, Value};

/// Default number of requests kept.
pub const DEFAULT_CAPACITY: usize = 1000;
/// Default bound on the bytes kept (bodies, headers, paths and bookkeeping).
pub const DEFAULT_MAX_BYTES: usize = 8 << 20;
/// Bodies longer than this are recorded cut short.
pub const BODY_LIMIT: usize = 64 * 1024;
/// What an entry costs besides its text: the record itself, its `Arc`, the
/// slot in the list, and the end of each part of its text.
const ENTRY_OVERHEAD: usize = 256;
const PART_OVERHEAD: usize = size_of::<usize>();

/// One received request and the status it was answered with.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// Position in the journal since start (1-based, never reused).
    pub sequence: u64,
    /// When it arrived (RFC 3339).
    pub time: String,
    /// The method.
    pub method: String,
    /// The path, as sent (percent-encoded).
    pub path: String,
    /// The query string, without `?` (empty if none).
    pub query: String,
    /// The headers, names lower-case; repeated headers joined with `, `.
    pub headers: Map<String, Value>,
    /// The body: JSON if it parses, else text; `null` when empty.
    pub body: Value,
    /// The answer's status.
    pub status: u16,
    /// Time to answer, in milliseconds.
    pub duration_ms: f64,
    /// The stub that answered it, if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stub: Option<u64>,
    /// Where it was forwarded to and what the upstream answered, if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forwarded: Option<Forwarded>,
}

/// Where a request was forwarded to (an upstream, `--upstream`) and what it answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Forwarded {
    /// The URL it was forwarded to.
    pub url: String,
    /// The upstream's status; `None` when it did not answer (then the
    /// request's own status is `502`, `504` or `508`).
    pub status: Option<u16>,
}

/// A request's method, path, query and headers as received, in one string
/// (a request is recorded with two allocations, not two a header).
#[derive(Debug, Clone)]
pub struct RequestText {
    text: String,
    /// Where each part of `text` ends: the method, the path, the query, then
    /// each header's name and value.
    ends: Vec<usize>,
}

impl RequestText {
    /// The text of a request with this method, path and query (without
    /// `?`), with room for `headers` headers of `header_bytes` bytes of names
    /// and values (its memory is what the journal counts).
    pub fn new(
        method: &str,
        path: &str,
        query: &str,
        headers: usize,
        header_bytes: usize,
    ) -> RequestText {
        let mut text = RequestText {
            text: String::with_capacity(method.len() + path.len() + query.len() + header_bytes),
            ends: Vec::with_capacity(3 + 2 * headers),
        };
        for part in [method, path, query] {
            text.push(part);
        }
        text
    }

    /// Adds a header (its name lower-case).
    pub fn push_header(&mut self, name: &str, value: &str) {
        self.push(name);
        self.push(value);
    }

    fn push(&mut self, part: &str) {
        self.text.push_str(part);
        self.ends.push(self.text.len());
    }

    fn part(&self, index: usize) -> &str {
        let start = index.checked_sub(1).map_or(0, |before| self.ends[before]);
        &self.text[start..self.ends[index]]
    }

    /// The method.
    pub fn method(&self) -> &str {
        self.part(0)
    }

    /// The path, as sent.
    pub fn path(&self) -> &str {
        self.part(1)
    }

    /// The query string, without `?`.
    pub fn query(&self) -> &str {
        self.part(2)
    }

    /// The headers, in the order received.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        (3..self.ends.len())
            .step_by(2)
            .map(|index| (self.part(index), self.part(index + 1)))
    }

    /// The headers with credentials redacted and repeated ones joined with
    /// `, `, each named once, in the order first received.
    fn headers_as_recorded(&self) -> Vec<(&str, std::borrow::Cow<'_, str>)> {
        let mut headers: Vec<(&str, std::borrow::Cow<'_, str>)> = Vec::new();
        for (name, value) in self.headers() {
            let value = recorded_header(name, value);
            match headers.iter_mut().find(|(existing, _)| *existing == name) {
                Some((_, joined)) => {
                    let joined = joined.to_mut();
                    joined.push_str(", ");
                    joined.push_str(&value);
                }
                None => headers.push((name, value)),
            }
        }
        headers
    }

    /// The same request as it is recorded: see [`RequestText::headers_as_recorded`].
    fn recorded(self) -> RequestText {
        let as_received = self.headers().enumerate().all(|(index, (name, _))| {
            !is_credential(name)
                && !self
                    .headers()
                    .take(index)
                    .any(|(earlier, _)| earlier == name)
        });
        if as_received {
            return self;
        }
        let headers = self.headers_as_recorded();
        let bytes = headers
            .iter()
            .map(|(name, value)| name.len() + value.len())
            .sum();
        let mut recorded = RequestText::new(
            self.method(),
            self.path(),
            self.query(),
            headers.len(),
            bytes,
        );
        for (name, value) in &headers {
            recorded.push_header(name, value);
        }
        recorded
    }

    /// The headers as a JSON object, repeated ones joined with `, `.
    fn headers_object(&self) -> Map<String, Value> {
        let mut headers = Map::new();
        for (name, value) in self.headers() {
            match headers.get_mut(name) {
                Some(Value::String(joined)) => {
                    joined.push_str(", ");
                    joined.push_str(value);
                }
                _ => {
                    headers.insert(name.to_string(), Value::String(value.to_string()));
                }
            }
        }
        headers
    }

    /// The bytes it holds, as counted against the journal's bound.
    fn size(&self) -> usize {
        self.text.capacity() + self.ends.capacity() * PART_OVERHEAD
    }
}

/// A request as observed, to be recorded.
#[derive(Debug, Clone)]
pub struct Observed {
    /// When it arrived.
    pub time: std::time::SystemTime,
    /// Its method, path, query and headers as received (redacted when recorded).
    pub request: RequestText,
    /// The body as read (cut at [`BODY_LIMIT`] when recorded).
    pub body: Vec<u8>,
    /// The answer's status.
    pub status: u16,
    /// Time to answer, in milliseconds.
    pub duration_ms: f64,
    /// The stub that answered it, if one did.
    pub stub: Option<u64>,
    /// Where it was forwarded to, if it was.
    pub forwarded: Option<Forwarded>,
}

impl Observed {
    /// The request as a journal entry (headers as received), to match stubs against.
    pub fn entry(&self) -> Entry {
        Entry {
            sequence: 0,
            time: crate::clock::timestamp_of(self.time),
            method: self.request.method().to_string(),
            path: self.request.path().to_string(),
            query: self.request.query().to_string(),
            headers: self.request.headers_object(),
            body: body_value(&self.body, self.body.len() <= BODY_LIMIT),
            status: self.status,
            duration_ms: self.duration_ms,
            stub: self.stub,
            forwarded: self.forwarded.clone(),
        }
    }
}

/// A recorded request: text as received, the body as bytes.
#[derive(Debug)]
struct Recorded {
    sequence: u64,
    time: std::time::SystemTime,
    /// Credentials redacted, repeated headers joined.
    request: RequestText,
    body: Box<[u8]>,
    /// Whether `body` is the whole body (a cut one is never parsed).
    whole: bool,
    status: u16,
    duration_ms: f64,
    stub: Option<u64>,
    forwarded: Option<Forwarded>,
}

impl Recorded {
    /// The record of `observed`, given its sequence number when it is kept.
    fn new(observed: Observed) -> Recorded {
        let whole = observed.body.len() <= BODY_LIMIT;
        let mut body = observed.body;
        body.truncate(BODY_LIMIT);
        Recorded {
            sequence: 0,
            time: observed.time,
            request: observed.request.recorded(),
            // An exact allocation: nothing of the buffer it was read into is kept.
            body: body.into_boxed_slice(),
            whole,
            status: observed.status,
            duration_ms: observed.duration_ms,
            stub: observed.stub,
            forwarded: observed.forwarded,
        }
    }

    /// The bytes this entry holds, as counted against the journal's bound.
    fn size(&self) -> usize {
        ENTRY_OVERHEAD + crate::clock::TIMESTAMP_LENGTH + self.request.size() + self.body.len()
    }

    fn entry(&self) -> Entry {
        Entry {
            sequence: self.sequence,
            time: crate::clock::timestamp_of(self.time),
            method: self.request.method().to_string(),
            path: self.request.path().to_string(),
            query: self.request.query().to_string(),
            headers: self
                .request
                .headers()
                .map(|(name, value)| (name.to_string(), Value::String(value.to_string())))
                .collect(),
            body: body_value(&self.body, self.whole),
            status: self.status,
            duration_ms: self.duration_ms,
            stub: self.stub,
            forwarded: self.forwarded.clone(),
        }
    }
}

/// A filter on the journal, from `GET /_standin/requests`'s query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Only this method (case-insensitive).
    pub method: Option<String>,
    /// Only paths starting with this.
    pub path: Option<String>,
    /// Only this status.
    pub status: Option<u16>,
}

impl Selection {
    fn matches(&self, entry: &Recorded) -> bool {
        self.method
            .as_ref()
            .is_none_or(|method| entry.request.method().eq_ignore_ascii_case(method))
            && self
                .path
                .as_ref()
                .is_none_or(|path| entry.request.path().starts_with(path.as_str()))
            && self.status.is_none_or(|status| entry.status == status)
    }
}

/// How full the journal is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Requests kept.
    pub requests: usize,
    /// Bytes they hold.
    pub bytes: usize,
    /// The most requests kept.
    pub max_requests: usize,
    /// The most bytes kept.
    pub max_bytes: usize,
}

#[derive(Debug, Default)]
struct Entries {
    /// The last sequence number given.
    sequence: u64,
    /// The bytes `list` holds.
    bytes: usize,
    list: VecDeque<Arc<Recorded>>,
}

/// The bounded journal.
#[derive(Debug)]
pub struct Journal {
    entries: Mutex<Entries>,
    capacity: usize,
    max_bytes: usize,
}

impl Journal {
    /// A journal keeping at most the last `capacity` requests, in at most `max_bytes`.
    pub fn new(capacity: usize, max_bytes: usize) -> Journal {
        Journal {
            entries: Mutex::default(),
            capacity,
            max_bytes,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records a request, evicting the oldest ones to stay within the bounds.
    pub fn record(&self, observed: Observed) {
        if self.capacity == 0 {
            return;
        }
        let mut recorded = Recorded::new(observed);
        let size = recorded.size();
        let mut entries = self.lock();
        entries.sequence += 1;
        if size > self.max_bytes {
            return;
        }
        recorded.sequence = entries.sequence;
        while entries.list.len() >= self.capacity || entries.bytes + size > self.max_bytes {
            let Some(oldest) = entries.list.pop_front() else {
                break;
            };
            entries.bytes -= oldest.size();
        }
        entries.bytes += size;
        entries.list.push_back(Arc::new(recorded));
    }

    /// The recorded requests that `selection` matches, oldest first.
    pub fn entries(&self, selection: &Selection) -> Vec<Entry> {
        self.selected(selection)
            .iter()
            .map(|recorded| recorded.entry())
            .collect()
    }

    /// The recorded requests that `selection` matches as a JSON array, each
    /// body parsed only while it is written.
    pub fn to_json(&self, selection: &Selection) -> Vec<u8> {
        let selected = self.selected(selection);
        let mut out = Vec::with_capacity(selected.iter().map(|entry| entry.size()).sum());
        out.push(b'[');
        for (index, recorded) in selected.iter().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            serde_json::to_writer(&mut out, &recorded.entry())
                .expect("an entry serialises to memory");
        }
        out.push(b']');
        out
    }

    /// The matching entries, shared: the lock is held only to take them.
    fn selected(&self, selection: &Selection) -> Vec<Arc<Recorded>> {
        self.lock()
            .list
            .iter()
            .filter(|recorded| selection.matches(recorded))
            .cloned()
            .collect()
    }

    /// How full the journal is.
    pub fn usage(&self) -> Usage {
        let entries = self.lock();
        Usage {
            requests: entries.list.len(),
            bytes: entries.bytes,
            max_requests: self.capacity,
            max_bytes: self.max_bytes,
        }
    }

    /// Forgets every recorded request and gives their memory back.
    pub fn clear(&self) {
        let mut entries = self.lock();
        entries.list = VecDeque::new();
        entries.bytes = 0;
    }
}

/// Whether a header carries credentials, which are never recorded.
fn is_credential(name: &str) -> bool {
    matches!(name, "authorization" | "proxy-authorization" | "cookie")
}

/// The header value to record: a credential is replaced (an
/// authorization's scheme kept).
fn recorded_header<'a>(name: &str, value: &'a str) -> std::borrow::Cow<'a, str> {
    if !is_credential(name) {
        return value.into();
    }
    match (name, value.split_once(' ')) {
        ("cookie", _) | (_, None) => "[redacted]".into(),
        (_, Some((scheme, _))) => format!("{scheme} [redacted]").into(),
    }
}

/// A recorded body as JSON: the document when a whole body parses, else
/// (lossy) text; `null` when empty.
fn body_value(bytes: &[u8], whole: bool) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    if whole && let Ok(value) = serde_json::from_slice(bytes) {
        return value;
    }
    Value::String(String::from_utf8_lossy(bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observed(method: &str, path: &str, status: u16) -> Observed {
        Observed {
            time: std::time::SystemTime::now(),
            request: RequestText::new(method, path, "", 0, 0),
            body: Vec::new(),
            status,
            duration_ms: 0.0,
            stub: None,
            forwarded: None,
        }
    }

    fn paths(journal: &Journal) -> Vec<String> {
        journal
            .entries(&Selection::default())
            .into_iter()
            .map(|entry| entry.path)
            .collect()
    }

    #[test]
    fn keeps_the_newest_within_capacity() {
        let journal = Journal::new(2, DEFAULT_MAX_BYTES);
        for path in ["/a", "/b", "/c"] {
            journal.record(observed("GET", path, 200));
        }
        assert_eq!(paths(&journal), ["/b", "/c"]);
        assert_eq!(journal.entries(&Selection::default())[1].sequence, 3);
    }

    #[test]
    fn keeps_the_newest_within_its_bytes() {
        let journal = Journal::new(
            100,
            3 * (BODY_LIMIT
                + ENTRY_OVERHEAD
                + crate::clock::TIMESTAMP_LENGTH
                + 3 * PART_OVERHEAD
                + 16),
        );
        for path in ["/a", "/b", "/c", "/d", "/e"] {
            journal.record(Observed {
                body: vec![b'7'; 200_000],
                ..observed("POST", path, 404)
            });
        }
        let usage = journal.usage();
        assert!(usage.bytes <= usage.max_bytes, "{usage:?}");
        assert_eq!(paths(&journal), ["/c", "/d", "/e"]);
        let body = &journal.entries(&Selection::default())[2].body;
        assert_eq!(
            body.as_str().map(str::len),
            Some(BODY_LIMIT),
            "cut, not parsed"
        );
        journal.clear();
        assert_eq!(journal.usage().bytes, 0);
    }

    #[test]
    fn bodies_are_parsed_when_read() {
        let journal = Journal::new(10, DEFAULT_MAX_BYTES);
        for body in [&b"{\"a\": [1, 2]}"[..], b"not json", b""] {
            journal.record(Observed {
                body: body.to_vec(),
                ..observed("POST", "/", 201)
            });
        }
        let bodies: Vec<Value> = journal
            .entries(&Selection::default())
            .into_iter()
            .map(|entry| entry.body)
            .collect();
        assert_eq!(
            bodies,
            [
                serde_json::json!({ "a": [1, 2] }),
                "not json".into(),
                Value::Null
            ]
        );
        let listed: Value = serde_json::from_slice(&journal.to_json(&Selection::default()))
            .expect("the journal lists as JSON");
        assert_eq!(listed[0]["body"]["a"][1], 2);
    }

    #[test]
    fn selects_by_method_path_and_status() {
        let journal = Journal::new(10, DEFAULT_MAX_BYTES);
        journal.record(observed("GET", "/books/1", 200));
        journal.record(observed("POST", "/books", 201));
        journal.record(observed("GET", "/authors", 404));
        let selection = Selection {
            method: Some("get".into()),
            path: Some("/books".into()),
            status: None,
        };
        assert_eq!(journal.entries(&selection).len(), 1);
        let selection = Selection {
            status: Some(404),
            ..Selection::default()
        };
        assert_eq!(journal.entries(&selection)[0].path, "/authors");
    }

    #[test]
    fn credentials_are_redacted_and_repeated_headers_joined() {
        let journal = Journal::new(10, DEFAULT_MAX_BYTES);
        let mut request = RequestText::new("GET", "/", "", 4, 80);
        request.push_header("authorization", "Bearer admin-secret");
        request.push_header("accept", "application/json");
        request.push_header("cookie", "session=1");
        request.push_header("accept", "text/plain");
        let observed = Observed {
            request,
            ..observed("GET", "/", 200)
        };
        assert_eq!(
            observed.entry().headers["authorization"],
            "Bearer admin-secret",
            "stubs match the headers as received"
        );
        journal.record(observed);
        let headers = &journal.entries(&Selection::default())[0].headers;
        assert_eq!(headers["authorization"], "Bearer [redacted]");
        assert_eq!(headers["accept"], "application/json, text/plain");
        assert_eq!(headers["cookie"], "[redacted]");
        let names: Vec<&String> = headers.keys().collect();
        assert_eq!(names.len(), 3, "{names:?}");
    }

    #[test]
    fn a_credential_alone_is_redacted_too() {
        for (name, value, recorded) in [
            ("cookie", "session=s3cret", "[redacted]"),
            ("authorization", "s3cret", "[redacted]"),
            ("proxy-authorization", "s3cret", "[redacted]"),
            ("authorization", "Basic s3cret", "Basic [redacted]"),
        ] {
            let journal = Journal::new(10, DEFAULT_MAX_BYTES);
            let mut request = RequestText::new("GET", "/", "", 1, 64);
            request.push_header(name, value);
            journal.record(Observed {
                request,
                ..observed("GET", "/", 200)
            });
            let entry = &journal.entries(&Selection::default())[0];
            assert_eq!(entry.headers[name], recorded, "{name}: {value}");
            assert!(
                !journal
                    .to_json(&Selection::default())
                    .windows(6)
                    .any(|w| w == b"s3cret")
            );
        }
    }

    #[test]
    fn a_request_without_credentials_or_repeats_is_kept_as_received() {
        let journal = Journal::new(10, DEFAULT_MAX_BYTES);
        let mut request = RequestText::new("PATCH", "/books/1", "x=1&y=2", 3, 40);
        request.push_header("host", "localhost");
        request.push_header("content-type", "application/json");
        request.push_header("x-empty", "");
        journal.record(Observed {
            request,
            ..observed("PATCH", "/", 200)
        });
        let entry = &journal.entries(&Selection::default())[0];
        assert_eq!(
            (
                entry.method.as_str(),
                entry.path.as_str(),
                entry.query.as_str()
            ),
            ("PATCH", "/books/1", "x=1&y=2")
        );
        assert_eq!(
            serde_json::to_value(&entry.headers).ok(),
            Some(
                serde_json::json!({"host": "localhost", "content-type": "application/json", "x-empty": ""})
            )
        );
    }
}
