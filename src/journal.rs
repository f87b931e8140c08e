//! The journal of received requests, for tests that assert on what standin
//! was sent: a bounded, in-memory list, newest last. Credentials are redacted
//! before they are recorded.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;
use serde_json::{Map, Value};

/// Default number of requests kept.
pub const DEFAULT_CAPACITY: usize = 1000;
/// Bodies longer than this are recorded cut short.
const BODY_LIMIT: usize = 64 * 1024;

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
    fn matches(&self, entry: &Entry) -> bool {
        self.method
            .as_ref()
            .is_none_or(|method| entry.method.eq_ignore_ascii_case(method))
            && self
                .path
                .as_ref()
                .is_none_or(|path| entry.path.starts_with(path.as_str()))
            && self.status.is_none_or(|status| entry.status == status)
    }
}

/// The bounded journal.
#[derive(Debug)]
pub struct Journal {
    entries: Mutex<(u64, VecDeque<Entry>)>,
    capacity: usize,
}

impl Journal {
    /// A journal keeping the last `capacity` requests.
    pub fn new(capacity: usize) -> Journal {
        Journal {
            entries: Mutex::new((0, VecDeque::with_capacity(capacity.min(4096)))),
            capacity,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, VecDeque<Entry>)> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records a request; its `sequence` is assigned here.
    pub fn record(&self, mut entry: Entry) {
        if self.capacity == 0 {
            return;
        }
        let mut guard = self.lock();
        let (sequence, entries) = &mut *guard;
        *sequence += 1;
        entry.sequence = *sequence;
        if entries.len() == self.capacity {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    /// The recorded requests that `selection` matches, oldest first.
    pub fn entries(&self, selection: &Selection) -> Vec<Entry> {
        self.lock()
            .1
            .iter()
            .filter(|entry| selection.matches(entry))
            .cloned()
            .collect()
    }

    /// Forgets every recorded request.
    pub fn clear(&self) {
        self.lock().1.clear();
    }
}

/// The header value to record: credentials are replaced.
pub fn recorded_header(name: &str, value: &str) -> String {
    match name {
        "authorization" | "proxy-authorization" => match value.split_once(' ') {
            Some((scheme, _)) => format!("{scheme} [redacted]"),
            None => "[redacted]".to_string(),
        },
        "cookie" => "[redacted]".to_string(),
        _ => value.to_string(),
    }
}

/// The body to record: JSON when it parses (and is at most 64 KiB), else
/// (lossy) text cut at 64 KiB.
pub fn recorded_body(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    if bytes.len() <= BODY_LIMIT
        && let Ok(value) = serde_json::from_slice(bytes)
    {
        return value;
    }
    let cut = &bytes[..bytes.len().min(BODY_LIMIT)];
    Value::String(String::from_utf8_lossy(cut).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(method: &str, path: &str, status: u16) -> Entry {
        Entry {
            sequence: 0,
            time: String::new(),
            method: method.into(),
            path: path.into(),
            query: String::new(),
            headers: Map::new(),
            body: Value::Null,
            status,
            duration_ms: 0.0,
        }
    }

    #[test]
    fn keeps_the_newest_within_capacity() {
        let journal = Journal::new(2);
        for path in ["/a", "/b", "/c"] {
            journal.record(entry("GET", path, 200));
        }
        let paths: Vec<String> = journal
            .entries(&Selection::default())
            .into_iter()
            .map(|e| e.path)
            .collect();
        assert_eq!(paths, ["/b", "/c"]);
        assert_eq!(journal.entries(&Selection::default())[1].sequence, 3);
    }

    #[test]
    fn selects_by_method_path_and_status() {
        let journal = Journal::new(10);
        journal.record(entry("GET", "/books/1", 200));
        journal.record(entry("POST", "/books", 201));
        journal.record(entry("GET", "/authors", 404));
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
    fn credentials_are_redacted() {
        assert_eq!(
            recorded_header("authorization", "Bearer admin-secret"),
            "Bearer [redacted]"
        );
        assert_eq!(
            recorded_header("accept", "application/json"),
            "application/json"
        );
    }
}
