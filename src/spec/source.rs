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

/// How deep `[` and `{` may nest in YAML: the reader refuses deeper
/// documents anyway, but only after a scan that slows down with the square
/// of the depth (minutes for a file of a few hundred kilobytes).
const MAX_DEPTH: usize = 128;

/// Where brackets first nest deeper than [`MAX_DEPTH`], counting every
/// bracket (quoted ones too), so that nothing deeper reaches the reader.
fn too_deep(source: &str) -> Option<Position> {
    let mut depth = 0usize;
    for (number, line) in source.lines().enumerate() {
        for (column, c) in line.chars().enumerate() {
            match c {
                '[' | '{' => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Some(Position {
                            line: number + 1,
                            column: column + 1,
                        });
                    }
                }
                ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    None
}

/// Parses the source as YAML or JSON.
pub fn document(file: &str, source: &str) -> Result<Value, Diagnostic> {
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
        if let Some(position) = too_deep(source) {
            return Err(syntax_error(
                Some(position),
                format!("invalid YAML: brackets nest more than {MAX_DEPTH} deep"),
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
