//! The spec's keys for HTTP behaviour beyond data: `auth`, `cors`, fault
//! injection (`latency`, `error_rate`), and per resource `require_if_match`,
//! `moved_from`, `transitions` and `async`. Parsed and checked here; applied
//! by the HTTP layer. (States' initial and reachable values: `states`.)

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::{Map, Value};

use super::checker::{Checker, describe, join};
use super::model::Field;
use super::suggest::did_you_mean;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// GET and HEAD.
    Read,
    /// Every other method on the API.
    Write,
    /// The `/_standin` admin API.
    Admin,
}

/// Bearer-token authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auth {
    /// Scopes of each token.
    pub tokens: BTreeMap<String, BTreeSet<Scope>>,
    /// Scopes granted without a token.
    pub anonymous: BTreeSet<Scope>,
}

/// Cross-origin access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cors {
    /// Any origin (the default, for prototyping).
    AnyOrigin,
    /// Only these origins.
    Origins(Vec<String>),
    /// No CORS headers at all.
    Off,
}

/// Injected slowness and failures.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Faults {
    /// Delay before answering, drawn uniformly from the range.
    pub latency: Option<(Duration, Duration)>,
    /// Share of requests answered `500`, from 0 to 1, where set.
    pub error_rate: Option<f64>,
}

impl Faults {
    /// These faults where set, else `fallback`'s.
    pub fn or(self, fallback: Faults) -> Faults {
        Faults {
            latency: self.latency.or(fallback.latency),
            error_rate: self.error_rate.or(fallback.error_rate),
        }
    }
}

/// The real service behind a partial mock: routes the spec does not declare
/// are forwarded to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    /// The base URL (`http://host:port` or `https://host`, maybe with a path prefix), without a trailing slash.
    pub url: String,
    /// How long the upstream may take to answer a forwarded request, body included.
    pub timeout: Duration,
}

/// How long an upstream may take to answer when nothing says otherwise.
pub const DEFAULT_UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);

impl Upstream {
    /// The upstream at `url` (an `http://` or `https://` URL); why not, when it cannot be one.
    pub fn new(url: &str, timeout: Duration) -> Result<Upstream, String> {
        let parsed = reqwest::Url::parse(url).map_err(|error| {
            format!("'{url}' is not a URL ({error}): expected one like http://localhost:9000")
        })?;
        match parsed.scheme() {
            "http" | "https" => {}
            other => {
                return Err(format!(
                    "'{url}' has the scheme '{other}': an upstream is an http:// or https:// URL"
                ));
            }
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(format!("'{url}' names no host"));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(format!(
                "'{url}' has a query or a fragment: an upstream is a base URL, which the request's path and query are appended to"
            ));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(format!(
                "'{url}' carries credentials: the client's own Authorization header is forwarded instead"
            ));
        }
        if timeout.is_zero() {
            return Err("the upstream's timeout must be more than 0".to_string());
        }
        Ok(Upstream {
            url: parsed.as_str().trim_end_matches('/').to_string(),
            timeout,
        })
    }
}

/// Allowed changes of a field's value: `from` state to the states listed.
pub type Transitions = BTreeMap<String, BTreeMap<String, Vec<String>>>;

const SCOPES: &[&str] = &["read", "write", "admin"];
const UPSTREAM_KEYS: &[&str] = &["url", "timeout"];

/// A duration like `20ms`, `2s` or `1.5s` (a bare number is milliseconds).
pub fn duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(position) => text.split_at(position),
        None => (text, "ms"),
    };
    let number: f64 = number
        .trim()
        .parse()
        .ok()
        .filter(|n: &f64| n.is_finite() && *n >= 0.0)?;
    let milliseconds = match unit {
        "ms" => number,
        "s" => number * 1000.0,
        "m" | "min" => number * 60_000.0,
        _ => return None,
    };
    (milliseconds <= 3_600_000.0).then(|| Duration::from_secs_f64(milliseconds / 1000.0))
}

impl Checker {
    fn duration_value(&mut self, path: &str, value: &Value) -> Option<Duration> {
        let text = match value {
            Value::String(text) => text.clone(),
            Value::Number(number) => number.to_string(),
            other => {
                self.error(
                    path,
                    format!(
                        "expected a duration like 200ms or 2s, found {}",
                        describe(other)
                    ),
                );
                return None;
            }
        };
        let parsed = duration(&text);
        if parsed.is_none() {
            self.error(
                path,
                format!(
                    "'{text}' is not a duration: write it like 200ms, 2s or 1.5s (at most an hour)"
                ),
            );
        }
        parsed
    }

    /// `upstream`: a URL, or `{ url, timeout }`.
    pub(super) fn upstream(&mut self, value: &Value) -> Option<Upstream> {
        let (url, timeout) = match value {
            Value::String(url) => (url.as_str(), DEFAULT_UPSTREAM_TIMEOUT),
            Value::Object(map) => {
                self.unknown_keys("upstream", map, UPSTREAM_KEYS);
                let timeout = match map.get("timeout") {
                    Some(value) => self.duration_value("upstream.timeout", value)?,
                    None => DEFAULT_UPSTREAM_TIMEOUT,
                };
                let Some(url) = map.get("url") else {
                    self.error(
                        "upstream",
                        "missing key 'url': the upstream's base URL, like http://localhost:9000",
                    );
                    return None;
                };
                (self.string("upstream.url", url)?, timeout)
            }
            other => {
                self.error(
                    "upstream",
                    format!(
                        "expected a URL or a mapping with url and timeout, found {}",
                        describe(other)
                    ),
                );
                return None;
            }
        };
        let path = if value.is_string() {
            "upstream"
        } else {
            "upstream.url"
        };
        match Upstream::new(url, timeout) {
            Ok(upstream) => Some(upstream),
            Err(message) if message.contains("timeout") => {
                self.error("upstream.timeout", message);
                None
            }
            Err(message) => {
                self.error(path, message);
                None
            }
        }
    }

    /// `latency` and `error_rate` of a resource or of the whole spec.
    pub(super) fn faults(&mut self, path: &str, map: &Map<String, Value>) -> Faults {
        let mut faults = Faults::default();
        if let Some(value) = map.get("latency") {
            let latency_path = join(path, "latency");
            let range = match value.as_str().and_then(|text| text.split_once("..")) {
                Some((low, high)) => {
                    let low = self.duration_value(&latency_path, &Value::from(low));
                    let high = self.duration_value(&latency_path, &Value::from(high));
                    low.zip(high)
                }
                None => self
                    .duration_value(&latency_path, value)
                    .map(|fixed| (fixed, fixed)),
            };
            match range {
                Some((low, high)) if low > high => {
                    self.error(
                        &latency_path,
                        "the range's start is after its end: write it low..high",
                    );
                }
                other => faults.latency = other,
            }
        }
        if let Some(value) = map.get("error_rate") {
            let rate_path = join(path, "error_rate");
            match value.as_f64() {
                Some(rate) if (0.0..=1.0).contains(&rate) => faults.error_rate = Some(rate),
                _ => self.error(
                    &rate_path,
                    format!(
                        "expected a share from 0 to 1 (0.05 is 5%), found {}",
                        describe(value)
                    ),
                ),
            }
        }
        faults
    }

    /// The spec's `auth`.
    pub(super) fn auth(&mut self, value: &Value) -> Option<Auth> {
        let map = self.mapping("auth", value)?;
        self.unknown_keys("auth", map, &["tokens", "anonymous"]);
        let mut auth = Auth {
            tokens: BTreeMap::new(),
            anonymous: BTreeSet::new(),
        };
        if let Some(tokens) = map
            .get("tokens")
            .and_then(|tokens| self.mapping("auth.tokens", tokens))
        {
            for (token, scopes) in tokens {
                let path = join("auth.tokens", token);
                if token.is_empty() || token.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    self.error(&path, "a token cannot be empty or contain spaces");
                    continue;
                }
                auth.tokens
                    .insert(token.clone(), self.scopes(&path, scopes));
            }
        }
        if let Some(scopes) = map.get("anonymous") {
            auth.anonymous = self.scopes("auth.anonymous", scopes);
        }
        if auth.tokens.is_empty() && auth.anonymous.is_empty() {
            self.error(
                "auth",
                "auth grants nothing: give tokens with scopes, or anonymous scopes",
            );
        }
        Some(auth)
    }

    fn scopes(&mut self, path: &str, value: &Value) -> BTreeSet<Scope> {
        let mut scopes = BTreeSet::new();
        let Some(items) = value.as_array() else {
            self.error(
                path,
                format!(
                    "expected a list of scopes (read, write, admin), found {}",
                    describe(value)
                ),
            );
            return scopes;
        };
        for (index, item) in items.iter().enumerate() {
            let item_path = join(path, &index.to_string());
            match item.as_str() {
                Some("read") => scopes.insert(Scope::Read),
                Some("write") => scopes.insert(Scope::Write),
                Some("admin") => scopes.insert(Scope::Admin),
                Some(other) => {
                    let hint = did_you_mean(other, SCOPES.iter().copied());
                    self.error_with(
                        &item_path,
                        format!("unknown scope '{other}': expected read, write or admin"),
                        hint,
                    );
                    false
                }
                None => {
                    self.error(
                        &item_path,
                        format!("expected a scope, found {}", describe(item)),
                    );
                    false
                }
            };
        }
        scopes
    }

    /// The spec's `cors`: `false`, `"*"`, or a list of origins.
    pub(super) fn cors(&mut self, value: &Value) -> Cors {
        match value {
            Value::Bool(false) => Cors::Off,
            Value::Bool(true) => Cors::AnyOrigin,
            Value::String(text) if text == "*" => Cors::AnyOrigin,
            Value::Array(items) => {
                let mut origins = Vec::new();
                for (index, item) in items.iter().enumerate() {
                    let path = join("cors", &index.to_string());
                    match item.as_str() {
                        Some(origin)
                            if origin.starts_with("http://") || origin.starts_with("https://") =>
                        {
                            origins.push(origin.trim_end_matches('/').to_string());
                        }
                        _ => self.error(
                            &path,
                            format!(
                                "expected an origin like https://app.example.com, found {}",
                                describe(item)
                            ),
                        ),
                    }
                }
                Cors::Origins(origins)
            }
            other => {
                self.error(
                    "cors",
                    format!(
                        "expected false, \"*\" or a list of origins, found {}",
                        describe(other)
                    ),
                );
                Cors::AnyOrigin
            }
        }
    }

    /// A resource's `moved_from`: old paths below `base_path`.
    pub(super) fn moved_from(&mut self, path: &str, value: &Value) -> Vec<String> {
        let Some(items) = value.as_array() else {
            self.error(
                path,
                format!(
                    "expected a list of old paths like /volumes, found {}",
                    describe(value)
                ),
            );
            return Vec::new();
        };
        let mut paths = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let item_path = join(path, &index.to_string());
            match item.as_str() {
                Some(old) if old.starts_with('/') && old.len() > 1 && !old.contains(['?', '#']) => {
                    paths.push(old.trim_end_matches('/').to_string());
                }
                _ => self.error(
                    &item_path,
                    format!("expected a path like /volumes, found {}", describe(item)),
                ),
            }
        }
        paths
    }

    /// A resource's `transitions`: `{ field: { from: [to, ...] } }`.
    pub(super) fn transitions(
        &mut self,
        path: &str,
        value: &Value,
        fields: &[Field],
    ) -> Transitions {
        let mut transitions = Transitions::new();
        let Some(map) = self.mapping(path, value) else {
            return transitions;
        };
        for (field_name, states) in map {
            let field_path = join(path, field_name);
            let Some(field) = fields.iter().find(|field| &field.name == field_name) else {
                let hint = did_you_mean(field_name, fields.iter().map(|field| field.name.as_str()));
                self.error_with(&field_path, format!("unknown field '{field_name}'"), hint);
                continue;
            };
            if field.is_computed() {
                self.error_at_key(
                    &field_path,
                    format!(
                        "'{field_name}' is computed by the server: clients never change its state"
                    ),
                );
                continue;
            }
            let Some(states) = self.mapping(&field_path, states) else {
                continue;
            };
            let known: Option<Vec<String>> = field.allowed.as_ref().map(|values| {
                values
                    .iter()
                    .filter_map(|value| value.as_str().map(str::to_string))
                    .collect()
            });
            let mut allowed = BTreeMap::new();
            for (from, targets) in states {
                let from_path = join(&field_path, from);
                self.check_state(&from_path, from, known.as_deref());
                let Some(targets) = targets.as_array() else {
                    self.error(
                        &from_path,
                        format!(
                            "expected a list of the states '{from}' may change to, found {}",
                            describe(targets)
                        ),
                    );
                    continue;
                };
                let mut next = Vec::new();
                for (index, target) in targets.iter().enumerate() {
                    let target_path = join(&from_path, &index.to_string());
                    match target.as_str() {
                        Some(state) => {
                            self.check_state(&target_path, state, known.as_deref());
                            next.push(state.to_string());
                        }
                        None => self.error(
                            &target_path,
                            format!("expected a state, found {}", describe(target)),
                        ),
                    }
                }
                allowed.insert(from.clone(), next);
            }
            transitions.insert(field_name.clone(), allowed);
        }
        transitions
    }

    fn check_state(&mut self, path: &str, state: &str, known: Option<&[String]>) {
        if let Some(known) = known
            && !known.iter().any(|value| value == state)
        {
            let hint = did_you_mean(state, known.iter().map(String::as_str));
            self.error_with(
                path,
                format!(
                    "'{state}' is not one of the field's values ({})",
                    known.join(", ")
                ),
                hint,
            );
        }
    }

    /// A resource's `async`: how long creating takes.
    pub(super) fn async_delay(&mut self, path: &str, value: &Value) -> Option<Duration> {
        self.duration_value(path, value)
    }
}

#[cfg(test)]
mod tests {
    use super::duration;
    use std::time::Duration;

    #[test]
    fn durations_take_units() {
        assert_eq!(duration("20ms"), Some(Duration::from_millis(20)));
        assert_eq!(duration("2s"), Some(Duration::from_secs(2)));
        assert_eq!(duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(duration("150"), Some(Duration::from_millis(150)));
        assert_eq!(duration("soon"), None);
        assert_eq!(duration("-1s"), None);
    }
}
