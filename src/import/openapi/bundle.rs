//! References to other files (`$ref: ./schemas/pet.yaml#/Pet`), resolved
//! into the document before anything reads it: each target is copied in
//! place, its own references (local to its file, or to further files)
//! resolved the same way, cycles and depth bounded. References inside `x-`
//! extensions are never followed. The files read are kept for hot reload.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde_json::{Map, Value};

use super::api::Note;

/// How many references to other files a chain may follow.
const MAX_DEPTH: usize = 16;
/// How many files one document may reference in all.
const MAX_FILES: usize = 100;

/// Resolves the references to other files in `document` (read from a file in
/// `directory`); returns the files read.
pub fn bundle(document: &mut Value, directory: &Path, notes: &mut Vec<Note>) -> Vec<PathBuf> {
    let mut bundler = Bundler {
        files: HashMap::new(),
        order: Vec::new(),
        notes,
        chain: Vec::new(),
    };
    bundler.walk(document, directory, None, String::new());
    bundler.order
}

struct Bundler<'a> {
    files: HashMap<PathBuf, Option<Rc<Value>>>,
    order: Vec<PathBuf>,
    notes: &'a mut Vec<Note>,
    chain: Vec<String>,
}

impl Bundler<'_> {
    /// Resolves references in `value`, found in the file `own` (the main
    /// document where `None`, whose local references stay as they are).
    fn walk(
        &mut self,
        value: &mut Value,
        directory: &Path,
        own: Option<(&Path, Rc<Value>)>,
        pointer: String,
    ) {
        match value {
            Value::Object(object) => {
                if let Some(reference) = object
                    .get("$ref")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                {
                    let local = reference.starts_with('#');
                    if !local || own.is_some() {
                        *value = self.target(&reference, directory, own, &pointer);
                        return;
                    }
                }
                for (key, member) in object.iter_mut() {
                    if key.starts_with("x-") {
                        continue;
                    }
                    let own = own
                        .as_ref()
                        .map(|(path, document)| (*path, Rc::clone(document)));
                    let pointer = format!("{pointer}/{}", super::api::escape(key));
                    self.walk(member, directory, own, pointer);
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter_mut().enumerate() {
                    let own = own
                        .as_ref()
                        .map(|(path, document)| (*path, Rc::clone(document)));
                    self.walk(item, directory, own, format!("{pointer}/{index}"));
                }
            }
            _ => {}
        }
    }

    /// The value `reference` names, its own references resolved.
    fn target(
        &mut self,
        reference: &str,
        directory: &Path,
        own: Option<(&Path, Rc<Value>)>,
        pointer: &str,
    ) -> Value {
        let (file, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        let (path, document) = if file.is_empty() {
            match own {
                Some((path, document)) => (path.to_path_buf(), Some(document)),
                None => return Value::Object(Map::new()),
            }
        } else {
            let path = directory.join(file);
            let document = self.load(&path, pointer);
            (path, document)
        };
        let Some(document) = document else {
            return Value::Object(Map::new());
        };
        let key = format!("{}#{fragment}", path.display());
        if self.chain.contains(&key) || self.chain.len() >= MAX_DEPTH {
            return Value::Object(Map::new());
        }
        let decoded = percent_encoding::percent_decode_str(fragment)
            .decode_utf8_lossy()
            .into_owned();
        let Some(found) = document.pointer(&decoded) else {
            self.notes.push(Note {
                pointer: pointer.to_string(),
                message: format!(
                    "the reference {reference} names nothing in {}",
                    path.display()
                ),
            });
            return Value::Object(Map::new());
        };
        let mut found = found.clone();
        let next = path.parent().map(Path::to_path_buf).unwrap_or_default();
        self.chain.push(key);
        self.walk(
            &mut found,
            &next,
            Some((&path, Rc::clone(&document))),
            pointer.to_string(),
        );
        self.chain.pop();
        found
    }

    fn load(&mut self, path: &Path, pointer: &str) -> Option<Rc<Value>> {
        if let Some(loaded) = self.files.get(path) {
            return loaded.clone();
        }
        if self.files.len() >= MAX_FILES {
            return None;
        }
        let read = std::fs::read_to_string(path)
            .map_err(|error| error.to_string())
            .and_then(|text| {
                crate::spec::document(&path.display().to_string(), &text)
                    .map_err(|error| error.message)
            });
        let loaded = match read {
            Ok(document) => Some(Rc::new(document)),
            Err(why) => {
                self.notes.push(Note {
                    pointer: pointer.to_string(),
                    message: format!("cannot read the referenced file {}: {why}", path.display()),
                });
                None
            }
        };
        self.files.insert(path.to_path_buf(), loaded.clone());
        self.order.push(path.to_path_buf());
        loaded
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_to_other_files_are_copied_in() {
        let directory = tempfile::tempdir().unwrap();
        std::fs::create_dir(directory.path().join("schemas")).unwrap();
        std::fs::write(
            directory.path().join("schemas/pet.yaml"),
            "Pet:\n  type: object\n  properties:\n    owner: { $ref: '#/Owner' }\n    tag: { $ref: 'tag.json' }\nOwner: { type: string }\n",
        )
        .unwrap();
        std::fs::write(
            directory.path().join("schemas/tag.json"),
            r#"{"type": "integer"}"#,
        )
        .unwrap();
        let mut document = json!({
            "info": {"x-docs": {"$ref": "./missing.md"}},
            "components": {"schemas": {"Pet": {"$ref": "schemas/pet.yaml#/Pet"}, "Local": {"$ref": "#/components/schemas/Pet"}}}
        });
        let mut notes = Vec::new();
        let files = bundle(&mut document, directory.path(), &mut notes);
        assert_eq!(
            document["components"]["schemas"]["Pet"],
            json!({"type": "object", "properties": {"owner": {"type": "string"}, "tag": {"type": "integer"}}})
        );
        assert_eq!(
            document["components"]["schemas"]["Local"],
            json!({"$ref": "#/components/schemas/Pet"})
        );
        assert_eq!(
            document["info"]["x-docs"],
            json!({"$ref": "./missing.md"}),
            "x- extensions are not followed"
        );
        assert_eq!(files.len(), 2);
        assert!(notes.is_empty(), "{notes:?}");
    }
}
