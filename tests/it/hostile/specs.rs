//! Hostile specs: a spec `standin check` accepts never takes the server
//! down, and `check` reports what `serve` would refuse. Checks are asserted
//! on the diagnostics, seeding on a real server. (The property tests that
//! feed random specs to the checker are the library's `fuzz::specs`.)

use std::time::{Duration, Instant};

use serde_json::Value;
use standin::{Options, Server, SpecFile};

use crate::helpers::{json, spawn};

/// Every diagnostic of `source`, one per line, without source excerpts; `ok` if none.
fn check(source: &str) -> String {
    crate::spec_check::diagnostics_of("test.yaml", source)
}

/// A spec of one resource `things` with the given fields, generating `count` records.
fn things(fields: &str, count: u64) -> String {
    format!("standin: 1\nresources:\n  things:\n    fields:\n{fields}    count: {count}\n")
}

/// A field `x`: arrays nested `depth` deep around strings.
fn nested_arrays(depth: usize) -> String {
    let mut items = "{ type: string }".to_string();
    for _ in 0..depth {
        items = format!("{{ type: array, items: {items} }}");
    }
    format!("      x: {items}\n")
}

#[test]
fn arrays_nested_more_than_eight_deep_are_refused_by_the_check() {
    assert_eq!(check(&things(&nested_arrays(8), 0)), "ok");
    assert_eq!(
        check(&things(&nested_arrays(9), 0)),
        "test.yaml:5:201: error at resources.things.fields.x.items.items.items.items.items.items.items.items.items: arrays nest more than 8 deep here: flatten the structure"
    );
}

#[test]
fn yaml_brackets_nested_past_128_are_refused_before_they_are_read() {
    // The YAML reader took seconds at 20,000 levels and minutes at 200,000.
    let deep = format!(
        "standin: 1\nresources: {}{}\n",
        "[".repeat(2000),
        "]".repeat(2000)
    );
    assert_eq!(
        check(&deep),
        "test.yaml:2:140: error: invalid YAML: brackets nest more than 128 deep"
    );
}

#[test]
fn a_generated_record_that_could_outgrow_64_kib_is_refused_by_the_check() {
    let huge = "      x: { type: string, minLength: 100000 }\n";
    assert_eq!(
        check(&things(huge, 1)),
        "test.yaml:6:12: error at resources.things.count: a generated record could reach 98 KiB (field 'x' alone 98 KiB), over the limit of 64 KiB: lower minLength, maxLength or pattern repetitions, nest fewer arrays, or give such records as fixed `records`"
    );
    assert_eq!(
        check(&things(huge, 0)),
        "ok",
        "clients may still write them"
    );
    // Three items per array at most, eight levels: 3^8 strings.
    assert!(
        check(&things(&nested_arrays(8), 1)).contains("a generated record could reach 849 KiB")
    );
}

#[test]
fn generated_records_over_a_gibibyte_in_all_are_refused_by_the_check() {
    let spec = "standin: 1\nresources:\n  a:\n    fields: { body: { type: string, minLength: 1000 } }\n    count: 1000000\n  b:\n    fields: { body: { type: string, minLength: 1000 } }\n    count: 1000000\n";
    assert_eq!(
        check(spec),
        "test.yaml:5:12: error at resources.a.count: the generated records could take up to 2174 MiB (1087 MiB of them here), over the limit of 1024 MiB: lower the counts"
    );
    assert_eq!(
        check(&things("      x: string\n", 1_000_001)),
        "test.yaml:6:12: error at resources.things.count: 1000001 is out of range: expected 0 to 1000000"
    );
}

#[test]
fn too_many_resources_or_fields_are_refused_by_the_check() {
    let fields: String = (0..1001).map(|n| format!("      f{n}: string\n")).collect();
    assert_eq!(
        check(&things(&fields, 0)),
        "test.yaml:4:5: error at resources.things.fields: 1001 fields: a resource has at most 1000"
    );
    let resources = |count: usize, fields: &str| -> String {
        let resources: String = (0..count)
            .map(|n| format!("  r{n}:\n    fields: {fields}\n"))
            .collect();
        format!("standin: 1\nresources:\n{resources}")
    };
    assert_eq!(
        check(&resources(501, "{ x: string }")),
        "test.yaml:2:1: error at resources: 501 resources: a spec describes at most 500"
    );
    let fields: String = (0..41).map(|n| format!("f{n}: string, ")).collect();
    assert_eq!(
        check(&resources(500, &format!("{{ {fields}}}"))),
        "test.yaml:2:1: error at resources: 20500 fields in all: a spec has at most 20000"
    );
    let indexed = "{ a: { type: string, unique: true }, b: { type: string, unique: true }, c: { type: string, unique: true }, d: { type: string, unique: true }, e: { type: string, unique: true } }";
    assert_eq!(
        check(&resources(401, indexed)),
        "test.yaml:2:1: error at resources: 2005 unique or reference fields in all, each an index: a spec has at most 2000"
    );
}

#[test]
fn names_sqlite_would_confuse_are_refused_by_the_check() {
    let cased = "standin: 1\nresources:\n  Items:\n    fields: { a: string }\n  items:\n    fields: { b: string }\n";
    assert_eq!(
        check(cased),
        "test.yaml:5:3: error at resources.items: 'items' differs from resource 'Items' only in case, and they would share a table (SQLite ignores case in names): rename one"
    );
    let shadowing = "standin: 1\nresources:\n  r:\n    fields: { a: string }\n  r_data:\n    fields: { b: string }\n";
    assert_eq!(
        check(shadowing),
        "test.yaml:5:3: error at resources.r_data: 'r_data' would share a table with the search index of resource 'r' (SQLite names it fts_r_data): rename one"
    );
    assert_eq!(
        check(&things("      title: string\n      Title: string\n", 0)),
        "test.yaml:6:7: error at resources.things.fields.Title: 'Title' differs from field 'title' only in case, and they would share an index (SQLite ignores case in names): rename one"
    );
}

#[test]
fn constraints_no_generated_value_can_meet_are_refused_by_the_check() {
    assert_eq!(
        check(&things(
            "      x: { type: integer, minimum: 0.5, maximum: 0.7 }\n",
            0
        )),
        "test.yaml:5:50: error at resources.things.fields.x.maximum: no integer lies between minimum 0.5 and maximum 0.7"
    );
    assert_eq!(
        check(&things("      x: { type: integer, minimum: 1e300 }\n", 0)),
        "test.yaml:5:36: error at resources.things.fields.x.minimum: minimum 1e+300 is above the largest integer standin stores (2^63 - 1)"
    );
    assert_eq!(
        check(&things(
            "      x: { type: string, enum: [ab, abc], maxLength: 2 }\n",
            0
        )),
        "test.yaml:5:37: error at resources.things.fields.x.enum.1: \"abc\" breaks the field's other constraints: \"abc\" is longer than 2 characters"
    );
    let unsatisfiable = "standin cannot generate a value that satisfies this field's constraints (pattern, lengths, format): loosen them, or set count: 0 and give fixed `records`";
    assert_eq!(
        check(&things(
            "      code: { type: string, pattern: '^a{5}$', maxLength: 3 }\n",
            1
        )),
        format!("test.yaml:5:7: error at resources.things.fields.code: {unsatisfiable}")
    );
    assert_eq!(
        check(&things(
            "      mail: { type: string, format: email, maxLength: 6 }\n",
            1
        )),
        format!("test.yaml:5:7: error at resources.things.fields.mail: {unsatisfiable}")
    );
}

#[test]
fn a_unique_pattern_with_too_few_strings_is_refused_by_the_check() {
    assert_eq!(
        check(&things(
            "      code: { type: string, pattern: '^[ab]$', unique: true }\n",
            3
        )),
        "test.yaml:5:7: error at resources.things.fields.code: standin can generate only 2 distinct values for this unique field, and things needs 3 (0 fixed, count 3): lower the count or widen the field's constraints"
    );
}

#[test]
fn required_references_seeding_cannot_fill_are_refused_by_the_check() {
    let cycle = "standin: 1\nresources:\n  a:\n    fields: { b: { ref: b, required: true } }\n    count: 2\n  b:\n    fields: { a: { ref: a, required: true } }\n    count: 2\n";
    assert_eq!(
        check(cycle),
        "test.yaml:4:15: error at resources.a.fields.b: a records are generated before any b record exists (their references form a cycle: a → b → a), and this reference is required: make it optional (required: false), or make a reference back optional"
    );
    let to_itself = "standin: 1\nresources:\n  people:\n    fields:\n      manager: { ref: people, required: true }\n    count: 5\n";
    assert_eq!(
        check(to_itself),
        "test.yaml:5:7: error at resources.people.fields.manager: the first generated people record has no people record to reference (a required reference to its own resource): give people fixed `records` to start from, or make it optional (required: false)"
    );
    let to_nothing = "standin: 1\nresources:\n  authors:\n    fields: { name: string }\n  books:\n    fields:\n      author: { ref: authors, required: true }\n    count: 3\n";
    assert_eq!(
        check(to_nothing),
        "test.yaml:7:7: error at resources.books.fields.author: no authors records will exist to reference: give authors a count or records, or make this reference optional (required: false)"
    );
    let unique = "standin: 1\nresources:\n  authors:\n    fields: { name: string }\n    count: 2\n  profiles:\n    fields:\n      author: { ref: authors, required: true, unique: true }\n    count: 3\n";
    assert_eq!(
        check(unique),
        "test.yaml:8:7: error at resources.profiles.fields.author: 3 generated records need one authors record each (the reference is unique), but only 2 will be free: lower the count, or make it optional (required: false)"
    );
}

#[test]
fn fixed_records_cannot_reference_records_stored_after_them() {
    let later = "standin: 1\nresources:\n  people:\n    fields:\n      name: string\n      manager: { ref: people }\n    records:\n      - { name: a, manager: 2 }\n      - { name: b, manager: 1 }\n";
    assert_eq!(
        check(later),
        "test.yaml:8:29: error at resources.people.records.0.manager: 2 is stored after this record (records are stored in order, fixed ones first): a record can reference itself or an earlier one"
    );
    let cycle = "standin: 1\nresources:\n  a:\n    fields: { b: { ref: b } }\n    records:\n      - { b: 1 }\n  b:\n    fields: { a: { ref: a } }\n    records:\n      - { a: 1 }\n";
    assert_eq!(
        check(cycle),
        "test.yaml:6:14: error at resources.a.records.0.b: b records are stored after a records (their references form a cycle: a → b → a), so this record cannot reference one: leave 'b' out here and set it with a request later"
    );
}

/// The records of `things` as the plain JSON list.
async fn all_things(app: &crate::helpers::TestApp, count: usize) -> Vec<Value> {
    let mut records = Vec::new();
    for page in 1..=count.div_ceil(100) {
        let response = app
            .get_json(&format!("/things?per_page=100&page={page}"))
            .await;
        assert_eq!(response.status(), 200);
        records.extend(json(response).await.as_array().unwrap().clone());
    }
    records
}

#[tokio::test]
async fn extreme_number_bounds_seed_without_panicking() {
    let app = spawn(&things(
        "      wide: { type: number, minimum: -1e308, maximum: 1e308 }\n      top: { type: number, minimum: 1e308 }\n      whole: { type: integer, minimum: -1e19, maximum: 1e19 }\n",
        20,
    ));
    let records = all_things(&app, 20).await;
    assert_eq!(records.len(), 20);
    for record in records {
        let wide = record["wide"].as_f64().unwrap();
        assert!((-1e308..=1e308).contains(&wide), "{record}");
        assert!(record["top"].as_f64().unwrap() >= 1e308, "{record}");
        assert!(record["whole"].is_i64(), "{record}");
    }
}

#[tokio::test]
async fn a_unique_year_gets_distinct_values_beyond_its_usual_range() {
    // Years are drawn from 1950 to 2025: 76 values for 200 records.
    let app = spawn(&things(
        "      year: { type: integer, unique: true }\n",
        200,
    ));
    let records = all_things(&app, 200).await;
    let mut years: Vec<i64> = records
        .iter()
        .map(|r| r["year"].as_i64().unwrap())
        .collect();
    years.sort_unstable();
    years.dedup();
    assert_eq!(years.len(), 200);
}

#[tokio::test]
async fn a_pattern_random_strings_keep_missing_still_seeds() {
    // Random text is cut or padded with words, which the pattern refuses.
    let app = spawn(&things(
        "      code: { type: string, pattern: '^[a-z]*$', minLength: 12 }\n",
        3,
    ));
    let pattern = regex::Regex::new("^[a-z]{12,}$").unwrap();
    for record in all_things(&app, 3).await {
        assert!(
            pattern.is_match(record["code"].as_str().unwrap()),
            "{record}"
        );
    }
}

#[tokio::test]
async fn a_fixed_record_of_a_uuid_resource_may_leave_its_id_to_the_server() {
    let app = spawn(
        "standin: 1\nresources:\n  things:\n    id: uuid\n    fields: { name: string }\n    records:\n      - { name: fixed }\n    count: 2\n",
    );
    let records = all_things(&app, 3).await;
    assert_eq!(records.len(), 3);
    assert!(records.iter().any(|record| record["name"] == "fixed"));
    for record in records {
        assert_eq!(record["id"].as_str().map(str::len), Some(36), "{record}");
    }
}

#[tokio::test]
async fn a_spec_edit_with_deeply_nested_arrays_leaves_the_server_answering() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("spec.yaml");
    let notes = "standin: 1\nresources:\n  notes:\n    fields: { text: string }\n    count: 2\n";
    std::fs::write(&path, notes).unwrap();
    let options = Options {
        watch: true,
        workers: Some(2),
        ..Options::default()
    };
    let server = Server::start_with(SpecFile::load(&path).unwrap(), options).unwrap();
    // A new resource is seeded by the reload: its records once took 778 KB
    // each at depth 26, and at 50 seeding never finished.
    let deep = things(&nested_arrays(50), 20).replace("standin: 1\nresources:\n", "");
    std::fs::write(&path, format!("{notes}{deep}")).unwrap();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let health = loop {
        let response = client
            .get(format!("{}/_standin/health", server.url()))
            .send()
            .await
            .expect("health answers while a spec edit is applied");
        let health = json(response).await;
        if !health["last_reload_error"].is_null() || Instant::now() > deadline {
            break health;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let diagnostics = health["last_reload_error"]["diagnostics"].to_string();
    assert!(
        diagnostics.contains("arrays nest more than 8 deep"),
        "{health}"
    );
    let listed = client
        .get(format!("{}/notes", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
}
