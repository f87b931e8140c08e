//! Spec problems are reported all at once, each with `file:line:column`, the
//! path in the spec and a did-you-mean suggestion where one helps.

use standin::parse;

/// Every diagnostic of `source`, one per line, as `standin check` prints them (without source excerpts).
fn diagnostics(source: &str) -> String {
    diagnostics_of("spec.yaml", source)
}

/// Every diagnostic of `source` read from `file`, one per line; `ok` if none.
pub(crate) fn diagnostics_of(file: &str, source: &str) -> String {
    match parse(file, source) {
        Ok(_) => "ok".to_string(),
        Err(errors) => errors
            .diagnostics
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

fn check(source: &str, expected: &str) {
    assert_eq!(diagnostics(source), expected);
}

#[test]
fn every_problem_is_reported_with_its_position_and_path() {
    let source = r#"standin: 1
title: Shop
resources:
  authors:
    fields:
      name: strng
      email: { type: string, format: emial }
  books:
    feilds:
      title: string
    count: many
  reviews:
    fields:
      book: { ref: boks, on_delete: explode }
      stars: { type: integer, minimum: 5, maximum: 1 }
"#;
    check(
        source,
        "spec.yaml:6:13: error at resources.authors.fields.name: unknown type 'strng': expected one of string, integer, number, boolean, date, datetime, object, array (did you mean 'string'?)\n\
         spec.yaml:7:38: error at resources.authors.fields.email.format: unknown format 'emial': expected one of email, uri, uuid, date, date-time (did you mean 'email'?)\n\
         spec.yaml:8:3: error at resources.books: resource 'books' has no 'fields'\n\
         spec.yaml:9:5: error at resources.books.feilds: unknown key 'feilds' (did you mean 'fields'?)\n\
         spec.yaml:11:12: error at resources.books.count: expected a whole number, found the string 'many'\n\
         spec.yaml:14:20: error at resources.reviews.fields.book.ref: unknown resource 'boks' (did you mean 'books'?)\n\
         spec.yaml:14:37: error at resources.reviews.fields.book.on_delete: unknown on_delete 'explode': expected restrict, cascade or set_null\n\
         spec.yaml:15:52: error at resources.reviews.fields.stars.maximum: maximum 1 is below minimum 5",
    );
}

#[test]
fn a_yaml_syntax_error_has_its_position() {
    let found = diagnostics("standin: 1\nresources:\n  books:\n    fields: { title: string\n");
    assert!(
        found.starts_with("spec.yaml:5:1: error: invalid YAML"),
        "{found}"
    );
}

#[test]
fn a_json_syntax_error_has_its_position() {
    let found = diagnostics_of("spec.json", "{\n  \"standin\": 1,\n  \"resources\": {,}\n}");
    assert!(
        found.starts_with("spec.json:3:17: error: invalid JSON"),
        "{found}"
    );
}

#[test]
fn json_specs_get_positions_too() {
    let source = "{\n  \"standin\": 1,\n  \"resources\": {\n    \"todos\": { \"fields\": { \"done\": \"bool\" } }\n  }\n}";
    assert_eq!(
        diagnostics_of("spec.json", source),
        "spec.json:4:36: error at resources.todos.fields.done: unknown type 'bool': expected one of string, integer, number, boolean, date, datetime, object, array (did you mean 'boolean'?)"
    );
}

#[test]
fn a_missing_version_and_unknown_top_level_keys_are_reported() {
    check(
        "title: x\nresorces: {}\n",
        "spec.yaml:1:1: error: missing key 'standin' (the format version): add `standin: 1`\n\
         spec.yaml:1:1: error: missing key 'resources': a spec describes at least one resource\n\
         spec.yaml:2:1: error at resorces: unknown key 'resorces' (did you mean 'resources'?)",
    );
}

#[test]
fn invalid_fixed_records_are_reported_at_the_record() {
    let source = r#"standin: 1
resources:
  authors:
    fields:
      name: { type: string, required: true }
    records:
      - { name: Ada }
      - { nme: Bob }
  books:
    fields:
      author: { ref: authors }
    records:
      - { author: 3 }
"#;
    check(
        source,
        "spec.yaml:8:9: error at resources.authors.records.1.name: is required\n\
         spec.yaml:8:11: error at resources.authors.records.1.nme: is not a field of this resource\n\
         spec.yaml:13:19: error at resources.books.records.0.author: no authors record with id 3 will exist",
    );
}

#[test]
fn constraints_that_do_not_fit_the_type_are_reported() {
    let source = "standin: 1\nresources:\n  things:\n    fields:\n      flag: { type: boolean, maxLength: 3, unique: true }\n      size: { type: integer, default: big }\n      code: { type: string, pattern: \"([a-z\" }\n";
    let found = diagnostics(source);
    assert!(found.contains("spec.yaml:5:30: error at resources.things.fields.flag.maxLength: maxLength applies only to string fields"), "{found}");
    assert!(
        found.contains("resources.things.fields.flag.unique: unique applies only to scalar fields"),
        "{found}"
    );
    assert!(found.contains("spec.yaml:6:39: error at resources.things.fields.size.default: default \"big\" is not valid"), "{found}");
    assert!(
        found.contains("resources.things.fields.code.pattern: invalid pattern"),
        "{found}"
    );
}

#[test]
fn reserved_and_misspelt_names_are_reported() {
    let source = "standin: 1\nresources:\n  notes:\n    id: uid\n    fields:\n      id: string\n      text: { type: string, fake: sentense }\n    methods: [GET, FETCH]\n";
    check(
        source,
        "spec.yaml:4:9: error at resources.notes.id: unknown id kind 'uid': expected integer, uuid or string (did you mean 'uuid'?)\n\
         spec.yaml:6:11: error at resources.notes.fields.id: 'id' is set by the server on every record and cannot be a field\n\
         spec.yaml:7:35: error at resources.notes.fields.text.fake: unknown generator 'sentense' (did you mean 'sentence'?)\n\
         spec.yaml:8:20: error at resources.notes.methods.1: unknown method 'FETCH': expected one of GET, POST, PUT, PATCH, DELETE",
    );
}

#[test]
fn the_rendered_report_shows_the_line_and_a_caret() {
    let errors = parse(
        "spec.yaml",
        "standin: 1\nresources:\n  notes:\n    fields:\n      text: strin\n",
    )
    .unwrap_err();
    insta::assert_snapshot!("rendered_diagnostic", errors.to_string());
}

#[test]
fn every_example_spec_is_valid() {
    for path in crate::helpers::example_specs() {
        if let Err(errors) = standin::load(&path) {
            panic!("{}: {errors}", path.display());
        }
    }
}

#[test]
fn fixed_records_that_clash_are_reported() {
    let source = r#"standin: 1
resources:
  people:
    fields:
      email: { type: string, unique: true }
    records:
      - { email: a@x.io }
      - { id: 1, email: b@x.io }
      - { email: a@x.io }
      - { id: 9007199254740993 }
"#;
    check(
        source,
        "spec.yaml:8:15: error at resources.people.records.1.id: id 1 is used by an earlier record\n\
         spec.yaml:9:11: error at resources.people.records.2.email: \"a@x.io\" is also the email of records.0, and email is unique\n\
         spec.yaml:10:15: error at resources.people.records.3.id: expected a whole number from 1 to 9007199254740991",
    );
}

#[test]
fn link_names_cannot_be_fields() {
    let found = diagnostics("standin: 1\nresources:\n  a:\n    fields:\n      self: { ref: a }\n");
    assert_eq!(
        found,
        "spec.yaml:5:7: error at resources.a.fields.self: 'self' is the name of a link every item has and cannot be a field"
    );
}

#[test]
fn keys_from_json_schema_or_the_wrong_level_get_advice_not_a_near_name() {
    let source = "standin: 1\nresources:\n  posts:\n    required: [title]\n    fields:\n      title: string\n      status: { type: enum, values: [draft, published], transitions: { draft: [published] } }\n";
    check(
        source,
        "spec.yaml:4:5: error at resources.posts.required: unknown key 'required' (JSON Schema lists required fields on the object; here each field says so: name: { type: string, required: true })\n\
         spec.yaml:7:23: error at resources.posts.fields.status.type: unknown type 'enum': expected one of string, integer, number, boolean, date, datetime, object, array (there is no type 'enum': give the values' type and list them under 'enum', as in { type: string, enum: [draft, published] })\n\
         spec.yaml:7:29: error at resources.posts.fields.status.values: unknown key 'values' (list the allowed values under 'enum': { type: string, enum: [a, b] })\n\
         spec.yaml:7:57: error at resources.posts.fields.status.transitions: unknown key 'transitions' ('transitions' belongs to the resource, beside 'fields', not to a field)",
    );
}

#[test]
fn a_misspelt_reference_is_reported_once_at_its_cause_as_the_docs_show() {
    let blog = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/specs/blog.yaml"))
        .unwrap()
        .replace("author: { ref: authors,", "author: { ref: autors,");
    let errors = parse("specs/blog.yaml", &blog).unwrap_err().to_string();
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/spec-format.md"))
        .unwrap();
    let shown = docs
        .split("```text\n")
        .find(|block| block.starts_with("specs/blog.yaml:27:22"))
        .and_then(|block| block.split("```").next())
        .expect("docs/spec-format.md shows the check's output");
    assert_eq!(errors.trim_end(), shown.trim_end());
}
