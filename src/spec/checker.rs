//! The checker that walks a spec document: it collects every problem with
//! its spec path instead of stopping at the first, and looks positions up
//! from the source afterwards; with the small readers every part of the
//! spec uses (mappings, strings, numbers, unknown keys).

use regex::Regex;
use serde_json::{Map, Value};

use super::diagnostic::{Diagnostic, SpecErrors};
use super::locate::Locations;
use super::resources::RESOURCE_KEYS;
use super::suggest::did_you_mean;

/// Advice for a key written where another format, or another level of the
/// spec, would have it: better than the nearest known key's name.
fn misplaced(key: &str, known: &[&str]) -> Option<String> {
    let in_field = known.contains(&"type") && known.contains(&"required");
    let in_resource = known == RESOURCE_KEYS;
    let advice = match key {
        "required" if in_resource => {
            "JSON Schema lists required fields on the object; here each field says so: name: { type: string, required: true }".to_string()
        }
        "properties" if in_resource => "a resource lists its fields under 'fields'".to_string(),
        "values" | "options" | "choices" if in_field => {
            "list the allowed values under 'enum': { type: string, enum: [a, b] }".to_string()
        }
        key if in_field && RESOURCE_KEYS.contains(&key) => format!(
            "'{key}' belongs to the resource, beside 'fields', not to a field"
        ),
        _ => return None,
    };
    Some(advice)
}

/// One file a spec was read from: the main file, or one it includes.
pub(super) struct SourceFile {
    /// The name diagnostics give it (its path as the user wrote it, joined).
    pub(super) name: String,
    pub(super) source: String,
    pub(super) locations: Locations,
}

/// Where the part of the merged document below `prefix` was written: in
/// file `file`, at `original` (an included resource, a spread definition).
pub(super) struct Origin {
    prefix: String,
    file: usize,
    original: String,
}

/// Collects diagnostics while walking a spec document.
pub(super) struct Checker {
    /// The main file first, then every included file in the order read.
    pub(super) files: Vec<SourceFile>,
    origins: Vec<Origin>,
    pub(super) diagnostics: Vec<Diagnostic>,
}

impl Checker {
    pub(super) fn new(file: &str, source: &str) -> Checker {
        Checker {
            files: vec![SourceFile {
                name: file.to_string(),
                source: source.to_string(),
                locations: Locations::of(source),
            }],
            origins: Vec::new(),
            diagnostics: Vec::new(),
        }
    }

    pub(super) fn finish(mut self) -> SpecErrors {
        let rank: std::collections::HashMap<String, usize> = self
            .files
            .iter()
            .enumerate()
            .map(|(index, file)| (file.name.clone(), index))
            .collect();
        self.diagnostics.sort_by_key(|diagnostic| {
            (
                rank.get(&diagnostic.file).copied().unwrap_or(0),
                diagnostic.position.map(|p| (p.line, p.column)),
            )
        });
        // A definition used in several places reports its problem once.
        let mut seen = std::collections::HashSet::new();
        self.diagnostics.retain(|diagnostic| {
            diagnostic.position.is_none()
                || seen.insert((
                    diagnostic.file.clone(),
                    diagnostic.position,
                    diagnostic.message.clone(),
                ))
        });
        let mut files = self.files.into_iter();
        let main = files.next().map(|file| file.source).unwrap_or_default();
        SpecErrors {
            diagnostics: self.diagnostics,
            source: main,
            included: files.map(|file| (file.name, file.source)).collect(),
        }
    }

    /// Records that the merged document's `prefix` was written in `file` at `original`.
    pub(super) fn add_origin(&mut self, prefix: &str, file: usize, original: &str) {
        self.origins.push(Origin {
            prefix: prefix.to_string(),
            file,
            original: original.to_string(),
        });
    }

    /// Gives the merged document's parts below `to` the origins of those below `from`.
    pub(super) fn copy_origins(&mut self, from: &str, to: &str) {
        let copies: Vec<Origin> = self
            .origins
            .iter()
            .filter_map(|origin| {
                let rest = origin.prefix.strip_prefix(from)?;
                (rest.is_empty() || rest.starts_with('.')).then(|| Origin {
                    prefix: format!("{to}{rest}"),
                    file: origin.file,
                    original: origin.original.clone(),
                })
            })
            .collect();
        self.origins.extend(copies);
    }

    /// The file and the path in it where the merged document's `path` was written.
    pub(super) fn resolve(&self, path: &str) -> (usize, String) {
        let best = self
            .origins
            .iter()
            .filter(|origin| {
                path.strip_prefix(origin.prefix.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
            })
            .max_by_key(|origin| origin.prefix.len());
        match best {
            Some(origin) => (
                origin.file,
                format!("{}{}", origin.original, &path[origin.prefix.len()..]),
            ),
            None => (0, path.to_string()),
        }
    }

    /// Reports a problem at `path` of file `file` itself (not of the merged document).
    pub(super) fn report_in(
        &mut self,
        file: usize,
        path: &str,
        message: String,
        suggestion: Option<String>,
        at_key: bool,
    ) {
        let source = &self.files[file];
        let position = if at_key {
            source.locations.key(path)
        } else {
            source.locations.value(path)
        };
        self.diagnostics.push(Diagnostic {
            file: source.name.clone(),
            position,
            path: path.to_string(),
            message,
            suggestion,
        });
    }

    /// Whether a problem was reported at `path` or below it.
    pub(super) fn has_problems_under(&self, path: &str) -> bool {
        self.diagnostics.iter().any(|diagnostic| {
            diagnostic
                .path
                .strip_prefix(path)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
        })
    }

    /// Reports a problem with the value at `path`.
    pub(super) fn error(&mut self, path: &str, message: impl Into<String>) {
        self.report(path, message.into(), None, false);
    }

    /// Reports a problem with the key of `path` (it is misplaced, or lacks something).
    pub(super) fn error_at_key(&mut self, path: &str, message: impl Into<String>) {
        self.report(path, message.into(), None, true);
    }

    /// Reports a problem with the value at `path`, with a suggested fix.
    pub(super) fn error_with(
        &mut self,
        path: &str,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        self.report(path, message.into(), hint, false);
    }

    pub(super) fn report(
        &mut self,
        path: &str,
        message: String,
        suggestion: Option<String>,
        at_key: bool,
    ) {
        let (file, original) = self.resolve(path);
        let source = &self.files[file];
        let position = if at_key {
            source.locations.key(&original)
        } else {
            source.locations.value(&original)
        };
        self.diagnostics.push(Diagnostic {
            file: source.name.clone(),
            position,
            path: path.to_string(),
            message,
            suggestion,
        });
    }

    /// Reports every key of `map` not in `known`, with a suggestion.
    pub(super) fn unknown_keys(&mut self, path: &str, map: &Map<String, Value>, known: &[&str]) {
        for key in map.keys().filter(|key| !known.contains(&key.as_str())) {
            let hint = misplaced(key, known).or_else(|| did_you_mean(key, known.iter().copied()));
            let key_path = join(path, key);
            self.report(&key_path, format!("unknown key '{key}'"), hint, true);
        }
    }

    /// The value as a mapping, or a diagnostic.
    pub(super) fn mapping<'v>(
        &mut self,
        path: &str,
        value: &'v Value,
    ) -> Option<&'v Map<String, Value>> {
        let map = value.as_object();
        if map.is_none() {
            self.error(
                path,
                format!("expected a mapping, found {}", describe(value)),
            );
        }
        map
    }

    pub(super) fn string<'v>(&mut self, path: &str, value: &'v Value) -> Option<&'v str> {
        let text = value.as_str();
        if text.is_none() {
            self.error(
                path,
                format!("expected a string, found {}", describe(value)),
            );
        }
        text
    }

    pub(super) fn boolean(&mut self, path: &str, value: &Value) -> Option<bool> {
        let flag = value.as_bool();
        if flag.is_none() {
            self.error(
                path,
                format!("expected true or false, found {}", describe(value)),
            );
        }
        flag
    }

    pub(super) fn unsigned(&mut self, path: &str, value: &Value, range: (u64, u64)) -> Option<u64> {
        let number = value.as_u64().or_else(|| {
            value
                .as_f64()
                .filter(|float| float.fract() == 0.0 && *float >= 0.0 && *float < 1.8e19)
                .map(|float| float as u64)
        });
        match number {
            Some(number) if number >= range.0 && number <= range.1 => Some(number),
            Some(number) => {
                self.error(
                    path,
                    format!(
                        "{number} is out of range: expected {} to {}",
                        range.0, range.1
                    ),
                );
                None
            }
            None => {
                self.error(
                    path,
                    format!("expected a whole number, found {}", describe(value)),
                );
                None
            }
        }
    }

    pub(super) fn number(&mut self, path: &str, value: &Value) -> Option<f64> {
        let number = value.as_f64();
        if number.is_none() {
            self.error(
                path,
                format!("expected a number, found {}", describe(value)),
            );
        }
        number
    }
}

/// `parent.child`, or `child` at the top.
pub(super) fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_string()
    } else {
        format!("{parent}.{child}")
    }
}

/// A short description of a value's type for messages.
pub(super) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "nothing (null)".to_string(),
        Value::Bool(flag) => format!("the boolean {flag}"),
        Value::Number(number) => format!("the number {number}"),
        Value::String(text) => format!("the string '{text}'"),
        Value::Array(_) => "a list".to_string(),
        Value::Object(_) => "a mapping".to_string(),
    }
}

/// A pattern compiled for fake-data generation, if `pattern` is a valid regex.
pub(super) fn compile_pattern(pattern: &str) -> Result<Regex, String> {
    Regex::new(pattern).map_err(|error| format!("invalid pattern: {error}"))
}
