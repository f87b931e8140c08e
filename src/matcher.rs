//! Which received requests a test means: a method, a path pattern, query
//! parameters, headers and a JSON body subset; whether a journaled request
//! matches, and if not, how it differs (for near misses).

use std::collections::BTreeMap;

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::journal::Entry;

/// How many near misses a verification lists at most.
pub const MAX_NEAR_MISSES: usize = 3;

/// What a test expects of requests; every part given must hold.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RequestPattern {
    /// The method (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The path as sent, base path included: exact, or a pattern with
    /// `:name` (one segment) and `*` (anything), as custom routes read them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Query parameters each request has (one of its values, if repeated).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub query: BTreeMap<String, String>,
    /// Headers each request has (names case-insensitive; values exact).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// A JSON value the body contains: objects may have more keys, arrays
    /// and scalars are equal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

/// A [`RequestPattern`] ready to match.
#[derive(Debug, Clone)]
pub struct Matcher {
    pattern: RequestPattern,
    path: Option<Regex>,
}

/// A request that did not match, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NearMiss {
    /// The request.
    pub request: Entry,
    /// Each part of the pattern it does not satisfy.
    pub differences: Vec<String>,
}

/// The requests a pattern matches, and the closest of the others.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verification {
    /// How many requests match.
    pub count: usize,
    /// The matching requests, oldest first.
    pub requests: Vec<Entry>,
    /// Up to three requests that do not match, fewest differences first.
    pub near_misses: Vec<NearMiss>,
}

impl Matcher {
    /// Checks `pattern` (a path pattern that cannot be read is refused, with why).
    pub fn new(pattern: RequestPattern) -> Result<Matcher, String> {
        let path = match &pattern.path {
            Some(path) => Some(crate::rewrite::path_pattern(path)?),
            None => None,
        };
        Ok(Matcher { pattern, path })
    }

    /// How `entry` differs from the pattern; empty when it matches.
    pub fn differences(&self, entry: &Entry) -> Vec<String> {
        let mut differences = Vec::new();
        if let Some(method) = &self.pattern.method
            && !entry.method.eq_ignore_ascii_case(method)
        {
            differences.push(format!("method: expected {method}, found {}", entry.method));
        }
        if let (Some(path), Some(regex)) = (&self.pattern.path, &self.path)
            && !regex.is_match(&entry.path)
        {
            differences.push(format!("path: expected {path}, found {}", entry.path));
        }
        for (name, expected) in &self.pattern.query {
            let found: Vec<String> = form_urlencoded::parse(entry.query.as_bytes())
                .filter(|(key, _)| key == name)
                .map(|(_, value)| value.into_owned())
                .collect();
            if !found.iter().any(|value| value == expected) {
                differences.push(match found.as_slice() {
                    [] => format!("query {name}: expected {expected}, found none"),
                    _ => format!(
                        "query {name}: expected {expected}, found {}",
                        found.join(", ")
                    ),
                });
            }
        }
        for (name, expected) in &self.pattern.headers {
            let found = entry
                .headers
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| {
                    value
                        .as_str()
                        .map_or_else(|| value.to_string(), str::to_string)
                });
            match found {
                Some(value) if value == *expected => {}
                Some(value) => {
                    differences.push(format!("header {name}: expected {expected}, found {value}"))
                }
                None => differences.push(format!("header {name}: expected {expected}, found none")),
            }
        }
        if let Some(expected) = &self.pattern.body {
            contains("body", expected, &entry.body, &mut differences);
        }
        differences
    }

    /// The requests of `entries` (oldest first) this matches, and near misses.
    pub fn verify(&self, entries: Vec<Entry>) -> Verification {
        let mut requests = Vec::new();
        let mut misses = Vec::new();
        for entry in entries {
            let differences = self.differences(&entry);
            if differences.is_empty() {
                requests.push(entry);
            } else {
                misses.push(NearMiss {
                    request: entry,
                    differences,
                });
            }
        }
        // Fewest differences first; among equals, the newest.
        misses.reverse();
        misses.sort_by_key(|miss| miss.differences.len());
        misses.truncate(MAX_NEAR_MISSES);
        Verification {
            count: requests.len(),
            requests,
            near_misses: misses,
        }
    }
}

/// Records in `differences` where `found` (at `path`) does not contain `expected`.
fn contains(path: &str, expected: &Value, found: &Value, differences: &mut Vec<String>) {
    match (expected, found) {
        (Value::Object(expected), Value::Object(found)) => {
            for (key, value) in expected {
                let at = format!("{path}.{key}");
                match found.get(key) {
                    Some(inner) => contains(&at, value, inner, differences),
                    None => differences.push(format!("{at}: expected {value}, found none")),
                }
            }
        }
        (Value::Array(expected), Value::Array(found)) if expected.len() == found.len() => {
            for (index, (value, inner)) in expected.iter().zip(found).enumerate() {
                contains(&format!("{path}[{index}]"), value, inner, differences);
            }
        }
        _ if expected == found => {}
        _ => differences.push(format!("{path}: expected {expected}, found {found}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(method: &str, path: &str, query: &str, body: Value) -> Entry {
        Entry {
            sequence: 1,
            time: String::new(),
            method: method.into(),
            path: path.into(),
            query: query.into(),
            headers: json!({"content-type": "application/json", "x-tenant": "a"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            body,
            status: 201,
            duration_ms: 0.0,
            stub: None,
            forwarded: None,
        }
    }

    fn matcher(pattern: Value) -> Matcher {
        Matcher::new(serde_json::from_value(pattern).expect("a pattern")).expect("a matcher")
    }

    #[test]
    fn every_part_given_must_hold() {
        let order = entry(
            "POST",
            "/api/orders",
            "dry_run=0&tag=a&tag=b",
            json!({"sku": "A1", "lines": [{"n": 1}], "note": "x"}),
        );
        let cases = [
            (json!({}), 0),
            (json!({"method": "post", "path": "/api/orders"}), 0),
            (json!({"path": "/api/*"}), 0),
            (json!({"path": "/api/:collection"}), 0),
            (json!({"path": "/api/orders/:id"}), 1),
            (json!({"query": {"tag": "b"}}), 0),
            (json!({"query": {"tag": "c", "page": "1"}}), 2),
            (json!({"headers": {"X-Tenant": "a"}}), 0),
            (json!({"headers": {"x-tenant": "b"}}), 1),
            (json!({"body": {"sku": "A1"}}), 0),
            (json!({"body": {"lines": [{"n": 1}]}}), 0),
            (json!({"body": {"sku": "B2", "lines": []}}), 2),
            (json!({"method": "PUT", "body": {"missing": true}}), 2),
        ];
        for (pattern, expected) in cases {
            let differences = matcher(pattern.clone()).differences(&order);
            assert_eq!(differences.len(), expected, "{pattern}: {differences:?}");
        }
    }

    #[test]
    fn differences_name_what_was_expected_and_found() {
        let order = entry("POST", "/orders", "", json!({"sku": "B2"}));
        let differences =
            matcher(json!({"method": "PUT", "body": {"sku": "A1", "qty": 1}})).differences(&order);
        assert_eq!(
            differences,
            [
                "method: expected PUT, found POST",
                "body.sku: expected \"A1\", found \"B2\"",
                "body.qty: expected 1, found none",
            ]
        );
    }

    #[test]
    fn near_misses_are_the_closest_requests_newest_first() {
        let entries = vec![
            entry("GET", "/orders", "", Value::Null),
            entry("POST", "/orders", "", json!({"sku": "B2"})),
            entry("POST", "/orders", "", json!({"sku": "A1"})),
            entry("POST", "/orders", "", json!({"sku": "C3"})),
        ];
        let verification =
            matcher(json!({"method": "POST", "body": {"sku": "A1"}})).verify(entries);
        assert_eq!(verification.count, 1);
        let misses: Vec<&Value> = verification
            .near_misses
            .iter()
            .map(|miss| &miss.request.body)
            .collect();
        assert_eq!(
            misses,
            [&json!({"sku": "C3"}), &json!({"sku": "B2"}), &Value::Null]
        );
    }

    #[test]
    fn unknown_keys_and_bad_paths_are_refused() {
        assert!(serde_json::from_value::<RequestPattern>(json!({"verb": "GET"})).is_err());
        let bad = RequestPattern {
            path: Some("orders".into()),
            ..RequestPattern::default()
        };
        assert!(Matcher::new(bad).is_err());
    }
}
