//! Reading a spec file's text into a JSON value: YAML or JSON, chosen by the
//! file's extension and else by its content. Syntax errors become diagnostics
//! with the position the parser reports.

use serde_json::Value;

use super::diagnostic::{Diagnostic, Position};

/// Whether the file is JSON (by extension, else by its first character).
fn is_json(file: &str, source: &str) -> bool {
    let lower = file.to_ascii_lowercase();
    if lower.ends_with(".json") {
        return true;
    }
    if lower.ends_with(".yaml") || lower.ends_with(".yml") {
        return false;
    }
    source.trim_start().starts_with('{')
}

/// Parses the source as YAML or JSON.
pub(super) fn document(file: &str, source: &str) -> Result<Value, Diagnostic> {
    let syntax_error = |position: Option<Position>, message: String| Diagnostic {
        file: file.to_string(),
        position,
        path: String::new(),
        message,
        suggestion: None,
    };
    if is_json(file, source) {
        serde_json::from_str(source).map_err(|error| {
            let position = Position {
                line: error.line(),
                column: error.column(),
            };
            syntax_error(Some(position), format!("invalid JSON: {error}"))
        })
    } else {
        if source.trim().is_empty() {
            return Err(syntax_error(
                None,
                "the file is empty: a spec needs `standin: 1` and `resources`".into(),
            ));
        }
        serde_yaml::from_str(source).map_err(|error| {
            let position = error.location().map(|location| Position {
                line: location.line(),
                column: location.column(),
            });
            syntax_error(position, format!("invalid YAML: {error}"))
        })
    }
}
