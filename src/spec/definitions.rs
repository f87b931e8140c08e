//! Reusable definitions: `definitions:` names fields (`Status: { enum: [a, b] }`)
//! and field sets (`Address: { fields: { ... } }`); a field uses the one with
//! `$ref: Status` (its own keys win), a resource's `fields` spread the other
//! with `$use: [Address]`. Both are expanded here, before anything else reads
//! the fields, so everything downstream sees plain fields; a problem in an
//! expanded part is reported where the definition is written.

use serde_json::{Map, Value};

use super::checker::{Checker, describe, join};
use super::fields::{FIELD_KEYS, field_type};
use super::suggest::did_you_mean;

/// The keys of a field set.
const SET_KEYS: &[&str] = &["fields", "description"];
/// How deep definitions may use one another.
const MAX_DEPTH: usize = 16;

/// The definitions by name, as written.
type Definitions = Map<String, Value>;

impl Checker {
    /// Expands every `$ref` and `$use` in the resources' fields, and checks the definitions.
    pub(super) fn expand_definitions(&mut self, document: &mut Value) {
        let Some(top) = document.as_object_mut() else {
            return;
        };
        let definitions = match top.remove("definitions") {
            None => Map::new(),
            Some(Value::Object(map)) => map,
            Some(other) => {
                self.error(
                    "definitions",
                    format!("expected a mapping, found {}", describe(&other)),
                );
                Map::new()
            }
        };
        for (name, definition) in &definitions {
            let path = join("definitions", name);
            if !is_definition_name(name) {
                self.error_at_key(
                    &path,
                    format!("'{name}' cannot be a definition name: use letters, digits, '_' and '-', starting with a letter"),
                );
            }
            if let Value::Object(map) = definition
                && map.contains_key("fields")
            {
                self.unknown_keys(&path, map, SET_KEYS);
                if !map["fields"].is_object() {
                    self.error(
                        &join(&path, "fields"),
                        format!("expected a mapping, found {}", describe(&map["fields"])),
                    );
                }
            } else if let Value::Object(map) = definition {
                // Checked here too, so that a definition nothing uses yet is
                // checked as far as it can be alone (once where it is used).
                self.unknown_keys(&path, map, FIELD_KEYS);
                if let Some(Value::String(kind)) = map.get("type") {
                    field_type(self, &join(&path, "type"), kind);
                }
            } else if let Value::String(kind) = definition {
                field_type(self, &path, kind);
            } else {
                self.error(
                    &path,
                    format!(
                        "expected a field (a type, or a mapping like {{ enum: [a, b] }}) or a field set ({{ fields: {{ ... }} }}), found {}",
                        describe(definition)
                    ),
                );
            }
        }
        let Some(Value::Object(resources)) = top.get_mut("resources") else {
            return;
        };
        for (name, resource) in resources.iter_mut() {
            let Some(Value::Object(fields)) = resource.get_mut("fields") else {
                continue;
            };
            let path = join(&join("resources", name), "fields");
            let expanded = self.expand_fields(&definitions, &path, fields, &mut Vec::new());
            *fields = expanded;
        }
    }

    /// A `fields` mapping at `path` with its `$use` spread and its fields' `$ref`s expanded.
    fn expand_fields(
        &mut self,
        definitions: &Definitions,
        path: &str,
        fields: &Map<String, Value>,
        using: &mut Vec<String>,
    ) -> Map<String, Value> {
        let mut expanded = Map::new();
        for (name, value) in fields {
            let field_path = join(path, name);
            if name == "$use" {
                self.spread(definitions, path, value, &mut expanded, using);
                continue;
            }
            let field = self.expand_field(definitions, &field_path, value, &mut Vec::new());
            if expanded.contains_key(name) {
                self.error_at_key(
                    &field_path,
                    format!("field '{name}' is also given by a field set this resource uses ($use): rename one"),
                );
                continue;
            }
            expanded.insert(name.clone(), field);
        }
        expanded
    }

    /// Adds the fields of the sets that `$use` (at `path.$use`) names to `expanded`.
    fn spread(
        &mut self,
        definitions: &Definitions,
        path: &str,
        value: &Value,
        expanded: &mut Map<String, Value>,
        using: &mut Vec<String>,
    ) {
        let use_path = join(path, "$use");
        let names: Vec<(String, &str)> = match value {
            Value::String(name) => vec![(use_path.clone(), name.as_str())],
            Value::Array(items) => items
                .iter()
                .enumerate()
                .filter_map(|(index, item)| {
                    let item_path = join(&use_path, &index.to_string());
                    let name = self.string(&item_path, item)?;
                    Some((item_path, name))
                })
                .collect(),
            other => {
                self.error(
                    &use_path,
                    format!(
                        "expected the name of a field set or a list of them, found {}",
                        describe(other)
                    ),
                );
                return;
            }
        };
        for (name_path, name) in names {
            let Some(definition) = self.definition(definitions, &name_path, name) else {
                continue;
            };
            let Some(set) = definition.get("fields").and_then(Value::as_object) else {
                self.error(
                    &name_path,
                    format!(
                        "'{name}' is a field, not a field set: use it as one field, like `{}: {{ $ref: {name} }}`",
                        name.to_lowercase()
                    ),
                );
                continue;
            };
            if using.iter().any(|seen| seen == name) || using.len() >= MAX_DEPTH {
                let mut chain = using.clone();
                chain.push(name.to_string());
                self.error(
                    &name_path,
                    format!(
                        "field sets use each other in a cycle: {}",
                        chain.join(" -> ")
                    ),
                );
                continue;
            }
            using.push(name.to_string());
            let set_path = join(&join("definitions", name), "fields");
            let (file, original) = self.resolve(&set_path);
            // The set's fields, expanded where it is written: a problem in
            // them is reported there.
            let fields = self.expand_fields(definitions, &set_path, set, using);
            using.pop();
            for (field, value) in fields {
                let target = join(path, &field);
                if expanded.contains_key(&field) {
                    self.error(
                        &name_path,
                        format!("field '{field}' of '{name}' is already a field here: rename one"),
                    );
                    continue;
                }
                self.add_origin(&target, file, &join(&original, &field));
                self.copy_origins(&join(&set_path, &field), &target);
                expanded.insert(field, value);
            }
        }
    }

    /// One field at `path` with its `$ref` (and its `items`' ones) expanded.
    fn expand_field(
        &mut self,
        definitions: &Definitions,
        path: &str,
        value: &Value,
        referring: &mut Vec<String>,
    ) -> Value {
        let Value::Object(map) = value else {
            return value.clone();
        };
        let mut field = Map::new();
        if let Some(reference) = map.get("$ref") {
            let ref_path = join(path, "$ref");
            if let Some(name) = self.string(&ref_path, reference)
                && let Some(definition) = self.definition(definitions, &ref_path, name)
            {
                if definition.get("fields").is_some() {
                    self.error_with(
                        &ref_path,
                        format!("'{name}' is a field set, not a field"),
                        Some(format!(
                            "spread its fields into the resource's with `$use: [{name}]`"
                        )),
                    );
                } else if referring.iter().any(|seen| seen == name) || referring.len() >= MAX_DEPTH
                {
                    let mut chain = referring.clone();
                    chain.push(name.to_string());
                    self.error(
                        &ref_path,
                        format!(
                            "definitions refer to each other in a cycle: {}",
                            chain.join(" -> ")
                        ),
                    );
                } else {
                    referring.push(name.to_string());
                    let definition_path = join("definitions", name);
                    let inner =
                        self.expand_field(definitions, &definition_path, definition, referring);
                    referring.pop();
                    let inner = match inner {
                        Value::String(kind) => {
                            Map::from_iter([("type".to_string(), Value::String(kind))])
                        }
                        Value::Object(inner) => inner,
                        _ => Map::new(),
                    };
                    let (file, original) = self.resolve(&definition_path);
                    for (key, value) in inner {
                        if map.contains_key(&key) {
                            continue;
                        }
                        let target = join(path, &key);
                        self.add_origin(&target, file, &join(&original, &key));
                        self.copy_origins(&join(&definition_path, &key), &target);
                        field.insert(key, value);
                    }
                }
            }
        }
        for (key, value) in map {
            if key == "$ref" {
                continue;
            }
            let value = if key == "items" {
                self.expand_field(definitions, &join(path, "items"), value, &mut Vec::new())
            } else {
                value.clone()
            };
            field.insert(key.clone(), value);
        }
        Value::Object(field)
    }

    /// The definition `name` (named at `path`), or a diagnostic with a suggestion.
    fn definition<'d>(
        &mut self,
        definitions: &'d Definitions,
        path: &str,
        name: &str,
    ) -> Option<&'d Value> {
        let found = definitions.get(name);
        if found.is_none() {
            let hint = did_you_mean(name, definitions.keys().map(String::as_str));
            let message = if definitions.is_empty() {
                format!("unknown definition '{name}': there is no 'definitions' section")
            } else {
                format!("unknown definition '{name}'")
            };
            self.error_with(path, message, hint);
        }
        found
    }
}

fn is_definition_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && name.len() <= 64
}

#[cfg(test)]
mod tests {
    use super::super::parse;

    fn problems(source: &str) -> Vec<String> {
        match parse("spec.yaml", source) {
            Ok(_) => Vec::new(),
            Err(errors) => errors.diagnostics.iter().map(ToString::to_string).collect(),
        }
    }

    const DEFINITIONS: &str = "standin: 1
definitions:
  Address:
    fields:
      street: string
      city: { type: string, required: true }
  Status: { enum: [draft, published, archived] }
";

    #[test]
    fn definitions_expand_into_plain_fields() {
        let spec = parse(
            "spec.yaml",
            &format!(
                "{DEFINITIONS}resources:\n  users:\n    fields:\n      $use: [Address]\n      name: string\n      status: {{ $ref: Status, default: draft }}\n"
            ),
        )
        .unwrap();
        let users = &spec.resources[0];
        let names: Vec<&str> = users.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["street", "city", "name", "status"]);
        assert!(users.field("city").unwrap().required);
        let status = users.field("status").unwrap();
        assert_eq!(status.default, Some(serde_json::json!("draft")));
        assert_eq!(status.allowed.as_ref().map(Vec::len), Some(3));
    }

    #[test]
    fn problems_in_definitions_point_at_them() {
        let cases = [
            (
                "      status: { $ref: Statu }\n",
                "spec.yaml:12:23",
                "did you mean 'Status'?",
            ),
            (
                "      $use: [Adress]\n",
                "spec.yaml:12:14",
                "did you mean 'Address'?",
            ),
            (
                "      address: { $ref: Address }\n",
                "spec.yaml:12:24",
                "$use: [Address]",
            ),
            (
                "      status: { $ref: Status, default: gone }\n",
                "spec.yaml:12:40",
                "not valid",
            ),
            ("      $use: Status\n", "spec.yaml:12:13", "not a field set"),
            (
                "      city: string\n      $use: Address\n",
                "spec.yaml:13:13",
                "'city' of 'Address' is already",
            ),
            (
                "      $uses: [Address]\n",
                "spec.yaml:12:14",
                "did you mean '$use'?",
            ),
            (
                "      status: { $rf: Status }\n",
                "spec.yaml:12:17",
                "did you mean '$ref'?",
            ),
        ];
        for (fields, position, message) in cases {
            let found = problems(&format!(
                "{DEFINITIONS}resources:\n  users:\n    fields:\n      name: string\n{fields}"
            ));
            assert!(
                found
                    .iter()
                    .any(|p| p.contains(position) && p.contains(message)),
                "{fields}: {found:?}"
            );
        }
        // Its keys and type are checked even when nothing uses it.
        let found = problems(
            "standin: 1\ndefinitions:\n  Money: { tpye: number }\n  Size: nubmer\nresources:\n  items:\n    fields:\n      name: string\n",
        );
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains("spec.yaml:3:12") && found[0].contains("did you mean 'type'?"));
        assert!(found[1].contains("spec.yaml:4:9") && found[1].contains("did you mean 'number'?"));
        // A problem inside a definition is reported where the definition is written.
        let found = problems(
            "standin: 1\ndefinitions:\n  Money: { type: nubmer }\nresources:\n  items:\n    fields:\n      price: { $ref: Money }\n",
        );
        assert!(
            found
                .iter()
                .any(|p| p.contains("spec.yaml:3:18") && p.contains("did you mean 'number'?")),
            "{found:?}"
        );
        assert_eq!(
            found.len(),
            1,
            "reported once, not again where used: {found:?}"
        );
        let found = problems(
            "standin: 1\ndefinitions:\n  A: { fields: { $use: B } }\n  B: { fields: { $use: A } }\nresources:\n  items:\n    fields:\n      $use: A\n",
        );
        assert!(
            found.iter().any(|p| p.contains("cycle: A -> B -> A")),
            "{found:?}"
        );
    }
}
