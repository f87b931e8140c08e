//! One-off stubs: answers programmed by a test for the next requests that
//! match a pattern ("the next POST /payments gets a 503, then behave
//! normally"), ahead of everything the spec says. The most recently added
//! stub that matches answers; a stub given `times` answers that many requests
//! and is then gone.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::journal::Entry;
use crate::matcher::{Matcher, RequestPattern};

/// The most stubs kept at once.
pub const MAX_STUBS: usize = 1_000;
/// The longest delay a stub may ask for, in milliseconds.
pub const MAX_DELAY_MS: u64 = 60_000;

/// A stub as a test writes it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StubDefinition {
    /// The requests it answers.
    #[serde(default, deserialize_with = "from_object")]
    pub request: RequestPattern,
    /// What it answers.
    #[serde(default, deserialize_with = "from_object")]
    pub response: StubResponse,
    /// How many requests it answers before it is gone; every one without.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
}

/// What a stub answers.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StubResponse {
    /// The status (200 unless given).
    #[serde(default = "ok")]
    pub status: u16,
    /// Headers to send.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// The body: a string is sent as it is (`text/plain` unless a
    /// `Content-Type` header says otherwise), any other JSON value as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// How long to wait before answering, in milliseconds.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub delay_ms: u64,
    /// End the connection without answering (after the delay), as a crashed
    /// or unreachable server would.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub drop_connection: bool,
}

/// A `T` read only from a JSON object: serde reads a struct from an array of
/// its fields too, and `"request": []` would match every request.
fn from_object<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    use serde::de::Error;
    let value = Value::deserialize(deserializer)?;
    let kind = match value {
        Value::Object(_) => return T::deserialize(value).map_err(D::Error::custom),
        Value::Array(_) => "an array",
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a boolean",
        Value::Null => "null",
    };
    Err(D::Error::custom(format!(
        "request and response must each be a JSON object, not {kind}"
    )))
}

fn ok() -> u16 {
    200
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

impl Default for StubResponse {
    fn default() -> StubResponse {
        StubResponse {
            status: ok(),
            headers: BTreeMap::new(),
            body: None,
            delay_ms: 0,
            drop_connection: false,
        }
    }
}

/// A stub in place, as listed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stub {
    /// Its number (1-based, never reused).
    pub id: u64,
    /// The requests it answers.
    pub request: RequestPattern,
    /// What it answers.
    pub response: StubResponse,
    /// How many more requests it answers (`None`: every one).
    pub remaining: Option<u32>,
}

#[derive(Debug)]
struct Armed {
    stub: Stub,
    matcher: Matcher,
}

#[derive(Debug, Default)]
struct Kept {
    next_id: u64,
    stubs: Vec<Armed>,
}

/// The stubs in place.
#[derive(Debug, Default)]
pub struct Stubs {
    kept: std::sync::Mutex<Kept>,
    /// Whether any stub is in place, read without the lock on every request.
    any: std::sync::atomic::AtomicBool,
}

impl Stubs {
    fn kept(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.kept
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn note_count(&self, kept: &Kept) {
        self.any
            .store(!kept.stubs.is_empty(), std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether no stub is in place.
    pub fn is_empty(&self) -> bool {
        !self.any.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Puts `definition` in place; why not, when it cannot be.
    pub fn add(&self, definition: StubDefinition) -> Result<Stub, String> {
        let response = &definition.response;
        if !(100..=599).contains(&response.status) {
            return Err(format!(
                "response.status must be an HTTP status from 100 to 599, not {}",
                response.status
            ));
        }
        if response.delay_ms > MAX_DELAY_MS {
            return Err(format!(
                "response.delay_ms may be at most {MAX_DELAY_MS}, not {}",
                response.delay_ms
            ));
        }
        for (name, value) in &response.headers {
            if actix_web::http::header::HeaderName::try_from(name.as_str()).is_err()
                || actix_web::http::header::HeaderValue::try_from(value.as_str()).is_err()
            {
                return Err(format!(
                    "response.headers: '{name}: {value}' is not a header"
                ));
            }
        }
        if definition.times == Some(0) {
            return Err("times must be at least 1 (leave it out for every request)".into());
        }
        let matcher = Matcher::new(definition.request.clone())?;
        let mut kept = self.kept();
        if kept.stubs.len() >= MAX_STUBS {
            return Err(format!(
                "at most {MAX_STUBS} stubs are kept: remove some (DELETE /_standin/stubs removes all)"
            ));
        }
        kept.next_id += 1;
        let stub = Stub {
            id: kept.next_id,
            request: definition.request,
            response: definition.response,
            remaining: definition.times,
        };
        kept.stubs.push(Armed {
            stub: stub.clone(),
            matcher,
        });
        self.note_count(&kept);
        Ok(stub)
    }

    /// The stubs in place, oldest first.
    pub fn list(&self) -> Vec<Stub> {
        self.kept()
            .stubs
            .iter()
            .map(|armed| armed.stub.clone())
            .collect()
    }

    /// The stub numbered `id`.
    pub fn get(&self, id: u64) -> Option<Stub> {
        self.kept()
            .stubs
            .iter()
            .find(|armed| armed.stub.id == id)
            .map(|armed| armed.stub.clone())
    }

    /// Removes the stub numbered `id`; whether there was one.
    pub fn remove(&self, id: u64) -> bool {
        let mut kept = self.kept();
        let before = kept.stubs.len();
        kept.stubs.retain(|armed| armed.stub.id != id);
        self.note_count(&kept);
        kept.stubs.len() != before
    }

    /// Removes every stub.
    pub fn clear(&self) {
        let mut kept = self.kept();
        kept.stubs.clear();
        self.note_count(&kept);
    }

    /// The stub that answers `request` (the newest that matches), counted
    /// as used: its number and response.
    pub fn answer(&self, request: &Entry) -> Option<(u64, StubResponse)> {
        if !self.any.load(std::sync::atomic::Ordering::SeqCst) {
            return None;
        }
        let mut kept = self.kept();
        let index = kept
            .stubs
            .iter()
            .rposition(|armed| armed.matcher.differences(request).is_empty())?;
        let stub = &mut kept.stubs[index].stub;
        let answer = (stub.id, stub.response.clone());
        match &mut stub.remaining {
            Some(1) => {
                kept.stubs.remove(index);
                self.note_count(&kept);
            }
            Some(remaining) => *remaining -= 1,
            None => {}
        }
        Some(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn definition(value: Value) -> StubDefinition {
        serde_json::from_value(value).expect("a stub")
    }

    fn request(method: &str, path: &str) -> Entry {
        Entry {
            sequence: 0,
            time: String::new(),
            method: method.into(),
            path: path.into(),
            query: String::new(),
            headers: serde_json::Map::new(),
            body: Value::Null,
            status: 0,
            duration_ms: 0.0,
            stub: None,
            forwarded: None,
        }
    }

    #[test]
    fn a_stub_answers_as_many_times_as_it_was_told_then_is_gone() {
        let stubs = Stubs::default();
        let stub = stubs
            .add(definition(json!({
                "request": {"method": "POST", "path": "/payments"},
                "response": {"status": 503},
                "times": 2
            })))
            .expect("added");
        let post = request("POST", "/payments");
        assert_eq!(stubs.answer(&request("GET", "/payments")), None);
        assert_eq!(
            stubs.answer(&post).map(|(id, r)| (id, r.status)),
            Some((stub.id, 503))
        );
        assert_eq!(stubs.get(stub.id).and_then(|stub| stub.remaining), Some(1));
        assert!(stubs.answer(&post).is_some());
        assert_eq!(stubs.answer(&post), None);
        assert!(stubs.list().is_empty());
    }

    #[test]
    fn the_newest_matching_stub_answers_and_removal_restores_the_older() {
        let stubs = Stubs::default();
        let older = stubs
            .add(definition(
                json!({"request": {"path": "/a"}, "response": {"status": 500}}),
            ))
            .expect("added");
        let newer = stubs
            .add(definition(
                json!({"request": {"path": "/a"}, "response": {"status": 418}}),
            ))
            .expect("added");
        let get = request("GET", "/a");
        assert_eq!(stubs.answer(&get).map(|(id, _)| id), Some(newer.id));
        assert!(stubs.remove(newer.id));
        assert!(!stubs.remove(newer.id));
        assert_eq!(stubs.answer(&get).map(|(id, _)| id), Some(older.id));
        stubs.clear();
        assert_eq!(stubs.answer(&get), None);
    }

    #[test]
    fn impossible_stubs_are_refused_with_why() {
        let stubs = Stubs::default();
        for (bad, why) in [
            (json!({"response": {"status": 99}}), "status"),
            (json!({"response": {"delay_ms": 600_000}}), "delay_ms"),
            (
                json!({"response": {"headers": {"bad name": "x"}}}),
                "headers",
            ),
            (json!({"times": 0}), "times"),
            (
                json!({"request": {"path": "no-slash"}}),
                "must start with '/'",
            ),
        ] {
            let error = stubs.add(definition(bad.clone())).expect_err("refused");
            assert!(error.contains(why), "{bad}: {error}");
        }
        assert!(serde_json::from_value::<StubDefinition>(json!({"reply": {}})).is_err());
        for array in [json!({"request": []}), json!({"response": [404]})] {
            assert!(
                serde_json::from_value::<StubDefinition>(array.clone()).is_err(),
                "{array}"
            );
        }
    }
}
