//! Turns a spec document (already parsed into a JSON value) into the model:
//! the top-level keys and `defaults` here, resources in `resources`, with a
//! [`Checker`] collecting every problem instead of stopping at the first.

use serde_json::Value;

use super::checker::Checker;
use super::diagnostic::SpecErrors;
use super::model::{Defaults, Dialect, Return, Spec};
use super::suggest::did_you_mean;

pub(super) const TOP_LEVEL_KEYS: &[&str] = &[
    "standin",
    "include",
    "definitions",
    "title",
    "base_path",
    "seed",
    "page_size",
    "max_page_size",
    "defaults",
    "resources",
    "auth",
    "cors",
    "latency",
    "error_rate",
    "upstream",
    "routes",
    "$schema",
];
/// Top-level keys configured for later capabilities, kept verbatim.
const TOP_LEVEL_EXTENSIONS: &[&str] = &["auth", "cors", "latency", "error_rate", "upstream"];
const DEFAULTS_KEYS: &[&str] = &["accept", "prefer"];
/// Media types `defaults.accept` may name.
pub const SERVABLE_MEDIA_TYPES: &[&str] = &["application/hal+json", "application/json"];

/// Parses and validates a spec from its source text; `file` names it in
/// diagnostics, and the files it includes are read relative to it.
pub fn parse(file: &str, source: &str) -> Result<Spec, SpecErrors> {
    let mut checker = Checker::new(file, source);
    let mut document = match super::source::document(file, source) {
        Ok(document) => document,
        Err(diagnostic) => {
            return Err(SpecErrors {
                diagnostics: vec![diagnostic],
                source: source.to_string(),
                included: Vec::new(),
            });
        }
    };
    let included = checker.include(&mut document, std::path::Path::new(file));
    checker.expand_definitions(&mut document);
    let spec = checker
        .spec(&document)
        .map(|spec| Spec { included, ..spec });
    match spec {
        Some(spec) if checker.diagnostics.is_empty() => Ok(spec),
        _ => Err(checker.finish()),
    }
}

impl Checker {
    fn spec(&mut self, document: &Value) -> Option<Spec> {
        let top = self.mapping("", document)?;
        self.unknown_keys("", top, TOP_LEVEL_KEYS);
        match top.get("standin") {
            None => self.error(
                "",
                "missing key 'standin' (the format version): add `standin: 1`",
            ),
            Some(version) => {
                if version.as_u64() != Some(1) {
                    self.error(
                        "standin",
                        format!("unsupported format version {version}: expected 1"),
                    );
                }
            }
        }
        let title = match top.get("title") {
            Some(value) => self.string("title", value).unwrap_or_default().to_string(),
            None => "standin API".to_string(),
        };
        let base_path = top
            .get("base_path")
            .and_then(|value| self.base_path(value))
            .unwrap_or_default();
        let seed = match top.get("seed") {
            Some(value) => self.unsigned("seed", value, (0, u64::MAX)).unwrap_or(0),
            None => 0,
        };
        let max_page_size = match top.get("max_page_size") {
            Some(value) => self
                .unsigned("max_page_size", value, (1, 10_000))
                .unwrap_or(100),
            None => 100,
        } as u32;
        let page_size = match top.get("page_size") {
            Some(value) => self
                .unsigned("page_size", value, (1, u64::from(max_page_size)))
                .unwrap_or(20),
            None => 20.min(u64::from(max_page_size)),
        } as u32;
        let defaults = self.defaults(top.get("defaults"));
        let resources = match top.get("resources") {
            Some(value) => self.resources(value),
            None => {
                self.error(
                    "",
                    "missing key 'resources': a spec describes at least one resource",
                );
                Vec::new()
            }
        };
        let extensions = top
            .iter()
            .filter(|(key, _)| TOP_LEVEL_EXTENSIONS.contains(&key.as_str()))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        let auth = top.get("auth").and_then(|value| self.auth(value));
        let cors = match top.get("cors") {
            Some(value) => self.cors(value),
            None => super::behaviour::Cors::AnyOrigin,
        };
        let faults = self.faults("", top);
        let upstream = top.get("upstream").and_then(|value| self.upstream(value));
        let routes = top
            .get("routes")
            .and_then(|value| self.routes(value, &base_path, &resources))
            .filter(|routes| routes.rules().next().is_some())
            .map(std::sync::Arc::new);
        Some(Spec {
            title,
            base_path,
            seed,
            page_size,
            max_page_size,
            defaults,
            resources,
            auth,
            cors,
            faults,
            upstream,
            routes,
            extensions,
            dialect: Dialect::Standin,
            included: Default::default(),
        })
    }

    fn base_path(&mut self, value: &Value) -> Option<String> {
        let text = self.string("base_path", value)?;
        let trimmed = text.trim_end_matches('/');
        let valid_segment = |segment: &str| {
            !segment.is_empty()
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c))
        };
        if !text.starts_with('/') || !trimmed.split('/').skip(1).all(valid_segment) {
            self.error(
                "base_path",
                format!("'{text}' is not a path: expected something like /api or /v1/shop"),
            );
            return None;
        }
        Some(trimmed.to_string())
    }

    fn defaults(&mut self, value: Option<&Value>) -> Defaults {
        let mut defaults = Defaults {
            accept: "application/hal+json".to_string(),
            prefer: None,
        };
        let Some(map) = value.and_then(|value| self.mapping("defaults", value)) else {
            return defaults;
        };
        self.unknown_keys("defaults", map, DEFAULTS_KEYS);
        if let Some(value) = map.get("accept")
            && let Some(accept) = self.string("defaults.accept", value)
        {
            if SERVABLE_MEDIA_TYPES.contains(&accept) {
                defaults.accept = accept.to_string();
            } else {
                let hint = did_you_mean(accept, SERVABLE_MEDIA_TYPES.iter().copied());
                let message = format!(
                    "'{accept}' is not a media type standin serves: expected one of {}",
                    SERVABLE_MEDIA_TYPES.join(", ")
                );
                self.error_with("defaults.accept", message, hint);
            }
        }
        if let Some(value) = map.get("prefer")
            && let Some(prefer) = self.string("defaults.prefer", value)
        {
            match prefer {
                "return=representation" => defaults.prefer = Some(Return::Representation),
                "return=minimal" => defaults.prefer = Some(Return::Minimal),
                other => self.error(
                    "defaults.prefer",
                    format!("'{other}' is not supported: expected return=representation or return=minimal"),
                ),
            }
        }
        defaults
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(source: &str) -> Vec<String> {
        match parse("spec.yaml", source) {
            Ok(_) => Vec::new(),
            Err(errors) => errors.diagnostics.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn a_minimal_spec_parses() {
        let spec = parse(
            "spec.yaml",
            "standin: 1\nresources:\n  todos:\n    fields:\n      title: string\n",
        )
        .unwrap();
        assert_eq!(spec.resources[0].name, "todos");
        assert_eq!(spec.page_size, 20);
        assert_eq!(spec.defaults.accept, "application/hal+json");
    }

    #[test]
    fn unknown_keys_are_reported_with_a_suggestion() {
        let found =
            problems("standin: 1\nresources:\n  todos:\n    feilds:\n      title: string\n");
        assert!(
            found
                .iter()
                .any(|p| p.contains("spec.yaml:4:5") && p.contains("did you mean 'fields'?")),
            "{found:?}"
        );
    }

    #[test]
    fn an_upstream_is_a_url_or_a_url_and_a_timeout() {
        let resources = "resources:\n  todos:\n    fields:\n      title: string\n";
        let spec = parse(
            "spec.yaml",
            &format!("standin: 1\nupstream: http://localhost:9000/\n{resources}"),
        )
        .unwrap();
        let upstream = spec.upstream.expect("an upstream");
        assert_eq!(upstream.url, "http://localhost:9000");
        assert_eq!(upstream.timeout, super::super::DEFAULT_UPSTREAM_TIMEOUT);
        let spec = parse(
            "spec.yaml",
            &format!(
                "standin: 1\nupstream:\n  url: http://127.0.0.1:9000/v2\n  timeout: 1.5s\n{resources}"
            ),
        )
        .unwrap();
        let upstream = spec.upstream.expect("an upstream");
        assert_eq!(upstream.url, "http://127.0.0.1:9000/v2");
        assert_eq!(upstream.timeout, std::time::Duration::from_millis(1500));
        let spec = parse(
            "spec.yaml",
            &format!("standin: 1\nupstream: https://api.example.com/\n{resources}"),
        )
        .unwrap();
        assert_eq!(
            spec.upstream.expect("an upstream").url,
            "https://api.example.com"
        );
    }

    #[test]
    fn a_bad_upstream_is_reported_where_it_is() {
        let resources = "resources:\n  todos:\n    fields:\n      title: string\n";
        let cases = [
            (
                "upstream: ftp://api.example.com\n",
                "spec.yaml:2:11",
                "scheme 'ftp': an upstream is an http:// or https:// URL",
            ),
            (
                "upstream:\n  url: ftp://api.example.com\n",
                "spec.yaml:3:8",
                "scheme 'ftp'",
            ),
            (
                "upstream: localhost:9000\n",
                "spec.yaml:2:11",
                "scheme 'localhost'",
            ),
            (
                "upstream:\n  url: http://a\n  timout: 2s\n",
                "spec.yaml:4:3",
                "did you mean 'timeout'?",
            ),
            (
                "upstream:\n  url: http://a\n  timeout: soon\n",
                "spec.yaml:4:12",
                "not a duration",
            ),
            (
                "upstream: { timeout: 2s }\n",
                "spec.yaml:2",
                "missing key 'url'",
            ),
            ("upstream: http://a?x=1\n", "spec.yaml:2:11", "query"),
            (
                "upstreams: http://a\n",
                "spec.yaml:2:1",
                "did you mean 'upstream'?",
            ),
        ];
        for (text, position, message) in cases {
            let found = problems(&format!("standin: 1\n{text}{resources}"));
            assert!(
                found
                    .iter()
                    .any(|p| p.contains(position) && p.contains(message)),
                "{text}: {found:?}"
            );
        }
    }
}
