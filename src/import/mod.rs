//! Reading any input standin serves: its own spec format, a json-server
//! `db.json`, or an OpenAPI 3 document. The kind is found from the content,
//! never from the file's name, and every kind becomes the same [`Spec`].

pub mod dbjson;
pub mod openapi;

use std::path::Path;

use serde_json::Value;

use crate::spec::{self, Diagnostic, Spec, SpecErrors};

/// The kinds of input standin recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// standin's own spec format (`standin: 1`).
    Standin,
    /// A json-server `db.json`: an object whose values are arrays or objects.
    DbJson,
    /// An OpenAPI 3.x document.
    OpenApi,
    /// A Swagger 2.0 document, which standin does not read.
    Swagger,
}

/// The kind of input `document` is, judged from its top-level keys.
pub fn detect(document: &Value) -> InputKind {
    let Some(object) = document.as_object() else {
        return InputKind::Standin;
    };
    if object.contains_key("standin") {
        return InputKind::Standin;
    }
    if object.get("openapi").is_some_and(Value::is_string) {
        return InputKind::OpenApi;
    }
    if object.contains_key("swagger") {
        return InputKind::Swagger;
    }
    // json-server 1.0's files name their JSON Schema in `$schema`.
    let data_only = object
        .iter()
        .filter(|(key, _)| key.as_str() != "$schema")
        .all(|(_, value)| value.is_array() || value.is_object());
    if !object.is_empty() && data_only && !object.contains_key("resources") {
        return InputKind::DbJson;
    }
    InputKind::Standin
}

/// Reads and parses the input at `path`, of any kind standin serves.
pub fn load(path: &Path) -> Result<Spec, SpecErrors> {
    let source = spec::read(path)?;
    parse(&path.display().to_string(), &source)
}

/// The standin spec inferred from the json-server db.json or the OpenAPI
/// document at `path`, with what could not be mapped.
pub fn standin_spec(path: &Path) -> Result<(Value, Vec<Diagnostic>), SpecErrors> {
    let source = spec::read(path)?;
    let file = path.display().to_string();
    let document =
        spec::document(&file, &source).map_err(|diagnostic| errors(diagnostic, &source))?;
    match detect(&document) {
        InputKind::DbJson => {}
        InputKind::OpenApi => return openapi::standin_spec(&file, &source, document),
        _ => {
            return Err(errors(
                whole_file(
                    &file,
                    "this is neither a json-server db.json (an object whose values are arrays of records or objects) nor an OpenAPI 3.x document",
                ),
                &source,
            ));
        }
    }
    let db = dbjson::read(&file, &source, &document);
    Ok((dbjson::standin_spec(&file, &db), db.warnings))
}

/// Parses an input's text, of any kind standin serves; `file` names it in diagnostics.
pub fn parse(file: &str, source: &str) -> Result<Spec, SpecErrors> {
    let document = match spec::document(file, source) {
        Ok(document) => document,
        Err(diagnostic) => return Err(errors(diagnostic, source)),
    };
    match detect(&document) {
        InputKind::Standin => spec::parse(file, source),
        InputKind::DbJson => {
            let db = dbjson::read(file, source, &document);
            for warning in &db.warnings {
                tracing::warn!(
                    "{}",
                    warning.to_string().replacen(": error", ": warning", 1)
                );
            }
            dbjson::served_spec(file, &db)
        }
        InputKind::OpenApi => openapi::parse(file, source, document),
        InputKind::Swagger => Err(errors(
            whole_file(
                file,
                "this is a Swagger 2.0 document, which standin does not read: convert it to \
                 OpenAPI 3 first (for example `npx swagger2openapi FILE -o openapi.yaml`), then serve that",
            ),
            source,
        )),
    }
}

/// A hash of an input's text and of every other file it was read from
/// (an OpenAPI document's references), which changes when any of them does.
pub fn input_hash(text: &str, files: &[std::path::PathBuf]) -> String {
    if files.is_empty() {
        return crate::fingerprint::text_hex(text.as_bytes());
    }
    let mut bytes = text.as_bytes().to_vec();
    for file in files {
        bytes.extend(file.display().to_string().bytes());
        bytes.extend(std::fs::read(file).unwrap_or_default());
    }
    crate::fingerprint::text_hex(&bytes)
}

/// A hash of the input `spec` was read from: `text`, and the files it
/// includes as they were read (read again, an OpenAPI document's references).
pub fn spec_hash(text: &str, spec: &Spec) -> String {
    match &spec.dialect {
        crate::spec::Dialect::Standin if !spec.included.files.is_empty() => {
            let mut bytes = text.as_bytes().to_vec();
            for (file, text) in spec.included.files.iter().zip(&spec.included.texts) {
                bytes.extend(file.display().to_string().bytes());
                bytes.extend(text.bytes());
            }
            crate::fingerprint::text_hex(&bytes)
        }
        _ => input_hash(text, &referenced_files(spec)),
    }
}

/// The other files `spec` was read from.
pub fn referenced_files(spec: &Spec) -> Vec<std::path::PathBuf> {
    match &spec.dialect {
        crate::spec::Dialect::OpenApi(api) => api.files.clone(),
        crate::spec::Dialect::Standin => spec.included.files.clone(),
        crate::spec::Dialect::JsonServer => Vec::new(),
    }
}

/// A diagnostic about the whole input rather than one place in it.
fn whole_file(file: &str, message: &str) -> Diagnostic {
    Diagnostic {
        file: file.to_string(),
        position: None,
        path: String::new(),
        message: message.to_string(),
        suggestion: None,
    }
}

/// `diagnostic` as the errors of `source`.
fn errors(diagnostic: Diagnostic, source: &str) -> SpecErrors {
    SpecErrors {
        diagnostics: vec![diagnostic],
        source: source.to_string(),
        included: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_kind_comes_from_the_content() {
        assert_eq!(
            detect(&json!({"standin": 1, "resources": {}})),
            InputKind::Standin
        );
        assert_eq!(
            detect(&json!({"openapi": "3.1.0", "paths": {}})),
            InputKind::OpenApi
        );
        assert_eq!(detect(&json!({"swagger": "2.0"})), InputKind::Swagger);
        assert_eq!(
            detect(&json!({"posts": [], "profile": {"name": "typicode"}})),
            InputKind::DbJson
        );
    }

    #[test]
    fn a_spec_missing_its_version_is_still_a_spec() {
        // Diagnosed as a spec (missing `standin: 1`), not guessed to be data.
        assert_eq!(
            detect(&json!({"resources": {"books": {}}})),
            InputKind::Standin
        );
        assert_eq!(
            detect(&json!({"title": "x", "posts": []})),
            InputKind::Standin
        );
        assert_eq!(detect(&json!({})), InputKind::Standin);
        assert_eq!(detect(&json!([1, 2])), InputKind::Standin);
    }

    #[test]
    fn swagger_two_is_refused_with_what_to_do() {
        let errors = parse("api.json", r#"{"swagger": "2.0", "paths": {}}"#).unwrap_err();
        assert!(errors.diagnostics[0].message.contains("OpenAPI 3"));
    }
}
