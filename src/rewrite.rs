//! Custom routes in json-server's `routes.json` format: an object mapping URL
//! patterns to the URLs they are served as (`"/api/*": "/$1"`,
//! `"/blog/:resource/:id/show": "/:resource/:id"`). Patterns are read the way
//! json-server 0.17 reads them (express-urlrewrite over path-to-regexp 1):
//! matched against the path and query as sent, case-insensitively, with an
//! optional trailing slash; every rule applies in turn to what the rules
//! before it made.

use regex::Regex;
use serde_json::{Map, Value};

use crate::spec::{Diagnostic, Position, SpecErrors};

/// The most rules a routes file may hold: each is tried on every request.
pub const MAX_RULES: usize = 100;

/// The longest URL a rewrite may make: longer ones are refused (400).
pub const MAX_REWRITTEN_LENGTH: usize = 8 * 1024;

/// One rule: a pattern and the URL it is served as.
#[derive(Debug, Clone)]
struct Rule {
    /// The pattern as written.
    source: String,
    /// The pattern compiled.
    pattern: Regex,
    /// The names of the pattern's parameters, in capture order (`*` is unnamed).
    names: Vec<Option<String>>,
    /// What a match is rewritten to, with `$1` and `:name` references.
    target: String,
}

/// The custom routes of a routes file, in the file's order.
#[derive(Debug, Clone)]
pub struct CustomRoutes {
    rules: Vec<Rule>,
    /// The file as read, answered by `GET /__rules` as json-server does.
    document: Map<String, Value>,
}

/// Why a rewritten URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the custom routes rewrote the URL to {length} bytes, more than {MAX_REWRITTEN_LENGTH}")]
pub struct TooLong {
    /// How long the rewritten URL was.
    pub length: usize,
}

impl CustomRoutes {
    /// Reads the routes file at `path` (json-server's `routes.json`); failing
    /// to read it is reported like a problem in it.
    pub fn load(path: &std::path::Path) -> Result<CustomRoutes, SpecErrors> {
        let text = crate::spec::read(path)?;
        CustomRoutes::parse(&path.display().to_string(), &text)
    }

    /// Reads the routes file's text; `file` names it in diagnostics.
    pub fn parse(file: &str, source: &str) -> Result<CustomRoutes, SpecErrors> {
        let failure = |path: &str, message: String| SpecErrors {
            diagnostics: vec![Diagnostic {
                file: file.to_string(),
                position: position_of(source, path),
                path: path.to_string(),
                message,
                suggestion: None,
            }],
            source: source.to_string(),
            included: Vec::new(),
        };
        let document: Value = serde_json::from_str(source).map_err(|error| SpecErrors {
            diagnostics: vec![Diagnostic {
                file: file.to_string(),
                position: Some(Position {
                    line: error.line(),
                    column: error.column(),
                }),
                path: String::new(),
                message: format!("invalid JSON: {error}"),
                suggestion: None,
            }],
            source: source.to_string(),
            included: Vec::new(),
        })?;
        let Value::Object(document) = document else {
            return Err(failure(
                "",
                "custom routes are a JSON object of patterns and URLs, like {\"/api/*\": \"/$1\"}"
                    .into(),
            ));
        };
        if document.len() > MAX_RULES {
            return Err(failure(
                "",
                format!("{} custom routes, more than {MAX_RULES}", document.len()),
            ));
        }
        let mut rules = Vec::with_capacity(document.len());
        for (source_pattern, target) in &document {
            let Some(target) = target.as_str() else {
                return Err(failure(
                    source_pattern,
                    format!("the route for '{source_pattern}' must be a string URL"),
                ));
            };
            rules.push(
                rule(source_pattern, target).map_err(|message| failure(source_pattern, message))?,
            );
        }
        Ok(CustomRoutes { rules, document })
    }

    /// Custom routes from rules (pattern, target) that [`check_rule`] accepted, in order.
    pub fn from_checked(rules: &[(String, String)]) -> CustomRoutes {
        let document = rules
            .iter()
            .map(|(pattern, target)| (pattern.clone(), Value::from(target.as_str())))
            .collect();
        let rules = rules
            .iter()
            .filter_map(|(pattern, target)| rule(pattern, target).ok())
            .collect();
        CustomRoutes { rules, document }
    }

    /// The rules as (pattern, target), in the order they apply.
    pub fn rules(&self) -> impl Iterator<Item = (&str, &str)> {
        self.rules
            .iter()
            .map(|rule| (rule.source.as_str(), rule.target.as_str()))
    }

    /// The routes file as read.
    pub fn document(&self) -> &Map<String, Value> {
        &self.document
    }

    /// `url` (path and query, as sent) after every rule; `None` when no rule matched.
    pub fn rewrite(&self, url: &str) -> Result<Option<String>, TooLong> {
        let mut current: Option<String> = None;
        for rule in &self.rules {
            let subject = current.as_deref().unwrap_or(url);
            let Some(captures) = rule.pattern.captures(subject) else {
                continue;
            };
            let rewritten = substitute(&rule.target, &rule.names, &captures);
            if rewritten.len() > MAX_REWRITTEN_LENGTH {
                return Err(TooLong {
                    length: rewritten.len(),
                });
            }
            tracing::trace!(rule = %rule.source, from = subject, to = %rewritten, "custom route");
            current = Some(rewritten);
        }
        Ok(current)
    }
}

/// Checks one rule: the pattern reads as path-to-regexp 1 reads it, and the
/// target is a path referring only to the pattern's parameters.
pub fn check_rule(pattern: &str, target: &str) -> Result<(), String> {
    rule(pattern, target).map(|_| ())
}

fn rule(pattern: &str, target: &str) -> Result<Rule, String> {
    let (compiled, names) = compile(pattern)?;
    if !target.starts_with('/') {
        return Err(format!("'{target}' must be a path starting with '/'"));
    }
    check_references(target, &names)?;
    Ok(Rule {
        source: pattern.to_string(),
        pattern: compiled,
        names,
        target: target.to_string(),
    })
}

/// The name of a `:name` parameter, its `:` already read: the letters,
/// digits and underscores that follow.
fn take_name(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> String {
    let mut name = String::new();
    while let Some(&next) = chars.peek() {
        if !(next.is_ascii_alphanumeric() || next == '_') {
            break;
        }
        name.push(next);
        chars.next();
    }
    name
}

/// A pattern as an RFC 6570 path template (`/blog/:slug` → `/blog/{slug}`,
/// `*` → `{+rest1}`), without any escaped query part, and its variables.
pub fn template(pattern: &str) -> (String, Vec<String>) {
    let mut template = String::new();
    let mut variables = Vec::new();
    let mut chars = pattern.chars().peekable();
    let mut wildcards = 0;
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'?') => break,
            '\\' => template.extend(chars.next()),
            ':' if chars
                .peek()
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_') =>
            {
                let name = take_name(&mut chars);
                if chars.peek() == Some(&'?') {
                    chars.next();
                }
                template.push_str(&format!("{{{name}}}"));
                variables.push(name);
            }
            '*' => {
                wildcards += 1;
                let name = format!("rest{wildcards}");
                template.push_str(&format!("{{+{name}}}"));
                variables.push(name);
            }
            other => template.push(other),
        }
    }
    (template, variables)
}

/// A path pattern (`/orders/:id`, `/api/*`) as a regular expression matching
/// whole paths, as custom routes read it.
pub(crate) fn path_pattern(pattern: &str) -> Result<Regex, String> {
    compile(pattern).map(|(regex, _)| regex)
}

/// The pattern as a regular expression, and its parameters' names in capture order.
fn compile(pattern: &str) -> Result<(Regex, Vec<Option<String>>), String> {
    if !pattern.starts_with('/') {
        return Err(format!("the pattern '{pattern}' must start with '/'"));
    }
    let mut expression = String::from("(?i)^");
    let mut names = Vec::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped) => expression.push_str(&regex::escape(&escaped.to_string())),
                None => return Err(format!("the pattern '{pattern}' ends with a lone '\\'")),
            },
            ':' if chars
                .peek()
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_') =>
            {
                let name = take_name(&mut chars);
                if matches!(chars.peek(), Some('(' | '+' | '*')) {
                    return Err(format!(
                        "the pattern '{pattern}': custom parameter patterns and repeated \
                         parameters (':{name}(...)', ':{name}+', ':{name}*') are not supported"
                    ));
                }
                if chars.peek() == Some(&'?') {
                    chars.next();
                    // path-to-regexp: `/:name?` makes the slash optional with the parameter.
                    if expression.ends_with('/') {
                        expression.pop();
                        expression.push_str("(?:/([^/]+?))?");
                    } else {
                        expression.push_str("([^/]+?)?");
                    }
                } else {
                    expression.push_str("([^/]+?)");
                }
                names.push(Some(name));
            }
            '*' => {
                expression.push_str("(.*)");
                names.push(None);
            }
            '(' => {
                return Err(format!(
                    "the pattern '{pattern}': groups are not supported (escape a literal '(' as '\\\\(')"
                ));
            }
            other => expression.push_str(&regex::escape(&other.to_string())),
        }
    }
    expression.push_str("/?$");
    let regex = Regex::new(&expression)
        .map_err(|error| format!("the pattern '{pattern}' cannot be compiled: {error}"))?;
    Ok((regex, names))
}

/// Refuses references in `target` to parameters the pattern does not have.
fn check_references(target: &str, names: &[Option<String>]) -> Result<(), String> {
    for reference in references().captures_iter(target) {
        if let Some(number) = reference.get(1) {
            let index: usize = number.as_str().parse().unwrap_or(usize::MAX);
            if index == 0 || index > names.len() {
                return Err(format!(
                    "'{target}' refers to ${}, but the pattern has {} parameter(s)",
                    number.as_str(),
                    names.len()
                ));
            }
        } else if let Some(name) = reference.get(2)
            && !names.iter().flatten().any(|known| known == name.as_str())
        {
            return Err(format!(
                "'{target}' refers to :{}, which the pattern does not have",
                name.as_str()
            ));
        }
    }
    Ok(())
}

/// `$1` or `:name` in a target.
fn references() -> &'static Regex {
    static REFERENCES: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    REFERENCES.get_or_init(|| Regex::new(r"\$(\d+)|:(\w+)").expect("a valid pattern"))
}

/// `target` with its references replaced by what `captures` matched (empty for an absent optional one).
fn substitute(target: &str, names: &[Option<String>], captures: &regex::Captures<'_>) -> String {
    references()
        .replace_all(target, |reference: &regex::Captures<'_>| {
            let index = match (reference.get(1), reference.get(2)) {
                (Some(number), _) => number.as_str().parse().unwrap_or(usize::MAX),
                (None, Some(name)) => names
                    .iter()
                    .position(|known| known.as_deref() == Some(name.as_str()))
                    .map_or(usize::MAX, |position| position + 1),
                (None, None) => usize::MAX,
            };
            captures
                .get(index)
                .map_or_else(String::new, |found| found.as_str().to_string())
        })
        .into_owned()
}

/// Where the key `key` is written in a JSON source (its first occurrence).
fn position_of(source: &str, key: &str) -> Option<Position> {
    if key.is_empty() {
        return Some(Position { line: 1, column: 1 });
    }
    let quoted = serde_json::to_string(key).ok()?;
    let offset = source.find(&quoted)?;
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(0, |last| last.chars().count())
        + 1;
    Some(Position { line, column })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes(source: &str) -> CustomRoutes {
        CustomRoutes::parse("routes.json", source).expect("valid routes")
    }

    fn rewrite(source: &str, url: &str) -> Option<String> {
        routes(source).rewrite(url).expect("short enough")
    }

    #[test]
    fn a_wildcard_takes_the_rest_of_the_url_query_included() {
        let source = r#"{"/api/*": "/$1"}"#;
        assert_eq!(rewrite(source, "/api/posts"), Some("/posts".into()));
        assert_eq!(
            rewrite(source, "/api/posts/1?_embed=comments"),
            Some("/posts/1?_embed=comments".into())
        );
        assert_eq!(rewrite(source, "/posts"), None);
    }

    #[test]
    fn named_parameters_are_one_segment_each_and_may_be_reordered() {
        let source = r#"{"/blog/:resource/:id/show": "/:resource/:id", "/:a/by/:b": "/$2/$1"}"#;
        assert_eq!(
            rewrite(source, "/blog/posts/1/show"),
            Some("/posts/1".into())
        );
        assert_eq!(
            rewrite(source, "/blog/posts/1/show/"),
            Some("/posts/1".into())
        );
        assert_eq!(rewrite(source, "/blog/posts/1/2/show"), None);
        assert_eq!(rewrite(source, "/x/by/y"), Some("/y/x".into()));
    }

    #[test]
    fn matching_ignores_case_and_a_query_can_be_matched_when_escaped() {
        let source = r#"{"/articles\\?id=:id": "/posts/:id"}"#;
        assert_eq!(rewrite(source, "/Articles?id=7"), Some("/posts/7".into()));
    }

    #[test]
    fn rules_apply_in_turn_to_what_earlier_rules_made() {
        let source = r#"{"/api/*": "/$1", "/posts/:id/show": "/posts/:id"}"#;
        assert_eq!(
            rewrite(source, "/api/posts/3/show"),
            Some("/posts/3".into())
        );
    }

    #[test]
    fn an_optional_parameter_takes_its_slash_with_it() {
        let source = r#"{"/list/:kind?": "/:kind"}"#;
        assert_eq!(rewrite(source, "/list/posts"), Some("/posts".into()));
        assert_eq!(rewrite(source, "/list"), Some("/".into()));
    }

    #[test]
    fn mistakes_are_reported_at_their_key() {
        let source = "{\n  \"/ok/*\": \"/$1\",\n  \"/bad/:id\": \"/posts/$2\"\n}";
        let errors = CustomRoutes::parse("routes.json", source).unwrap_err();
        let diagnostic = &errors.diagnostics[0];
        assert_eq!(diagnostic.position, Some(Position { line: 3, column: 3 }));
        assert!(diagnostic.message.contains("$2"), "{}", diagnostic.message);
        for (source, expected) in [
            (r#"{"/a/:id": "/b/:other"}"#, ":other"),
            (r#"{"/a": 3}"#, "string"),
            (r#"{"a": "/b"}"#, "start with '/'"),
            (r#"{"/a": "b"}"#, "starting with '/'"),
            (r#"{"/a/(\\d+)": "/b"}"#, "groups"),
            (r#"["/a"]"#, "JSON object"),
            ("{", "invalid JSON"),
        ] {
            let errors = CustomRoutes::parse("routes.json", source).unwrap_err();
            let message = &errors.diagnostics[0].message;
            assert!(message.contains(expected), "{source}: {message}");
        }
    }

    #[test]
    fn patterns_read_as_templates_for_discovery() {
        let cases = [
            ("/blog/:slug", "/blog/{slug}", vec!["slug"]),
            ("/api/v1/*", "/api/v1/{+rest1}", vec!["rest1"]),
            ("/list/:kind?", "/list/{kind}", vec!["kind"]),
            ("/articles\\?id=:id", "/articles", vec![]),
            ("/a\\:b", "/a:b", vec![]),
        ];
        for (pattern, template, variables) in cases {
            assert_eq!(
                super::template(pattern),
                (
                    template.to_string(),
                    variables.iter().map(|v| v.to_string()).collect()
                ),
                "{pattern}"
            );
        }
        assert!(check_rule("/a/:id", "/b/:other").is_err());
        assert!(check_rule("/a/:id", "/b/:id").is_ok());
    }

    #[test]
    fn a_rewrite_may_not_grow_without_bound() {
        let routes = routes(r#"{"/x/*": "/$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1"}"#);
        let url = format!("/x/{}", "a".repeat(1000));
        assert!(routes.rewrite(&url).is_err());
    }
}
