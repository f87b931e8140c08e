//! Several files (`include:`) and reusable definitions (`definitions:`):
//! served over HTTP, exported to OpenAPI, checked with positions in the file
//! each problem is in, and reloaded when an included file changes.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use standin::{Options, Server, SpecFile};

use crate::helpers::{json, problem, spawn_file};

const MAIN: &str = "standin: 1
title: Shop
include:
  - shared.yaml
  - parts/*.yaml
resources:
  customers:
    fields:
      name: { type: string, required: true }
      $use: [Address]
    count: 3
";

const SHARED: &str = "definitions:
  Address:
    fields:
      street: string
      city: { type: string, required: true }
  Status: { enum: [draft, published, archived] }
";

const CATALOG: &str = "resources:
  products:
    fields:
      name: { type: string, required: true }
      status: { $ref: Status, default: draft }
    records:
      - { name: Kettle }
    count: 2
";

/// Writes `files` (path relative to a new directory, text) and returns the directory.
fn files(files: &[(&str, &str)]) -> tempfile::TempDir {
    let directory = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = directory.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    directory
}

fn shop() -> tempfile::TempDir {
    files(&[
        ("spec.yaml", MAIN),
        ("shared.yaml", SHARED),
        ("parts/catalog.yaml", CATALOG),
    ])
}

/// Every diagnostic of the spec at `path`, one per line, as `standin check` prints them.
fn diagnostics(path: &Path) -> String {
    match standin::load(path) {
        Ok(_) => "ok".to_string(),
        Err(errors) => errors
            .diagnostics
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

#[tokio::test]
async fn included_resources_and_definitions_are_served() {
    let directory = shop();
    let app = spawn_file(&directory.path().join("spec.yaml"));
    let customers = json(app.get_json("/customers").await).await;
    let first = &customers[0];
    assert!(
        first["city"].is_string(),
        "the spread set's fields: {first}"
    );
    assert!(first.get("street").is_some(), "{first}");
    let products = json(app.get_json("/products").await).await;
    assert_eq!(products[0]["name"], "Kettle");
    assert_eq!(
        products[0]["status"], "draft",
        "the default given beside $ref"
    );
    let created = app
        .post("/products", json!({ "name": "Pot", "status": "sold" }))
        .await;
    let body = problem(created, 400).await;
    assert_eq!(crate::helpers::error_fields(&body), ["status"]);
    let created = app
        .post(
            "/customers",
            json!({ "name": "Ada", "street": "1 Main St" }),
        )
        .await;
    let body = problem(created, 400).await;
    assert_eq!(
        crate::helpers::error_fields(&body),
        ["city"],
        "required by the set"
    );
    let created = app
        .post("/products", json!({ "name": "Pot", "status": "published" }))
        .await;
    assert_eq!(created.status(), 201);
}

#[tokio::test]
async fn the_openapi_export_covers_included_resources() {
    let directory = shop();
    let app = spawn_file(&directory.path().join("spec.yaml"));
    let document = json(app.get("/_standin/openapi.json").await).await;
    let paths = document["paths"].as_object().unwrap();
    assert!(paths.contains_key("/products"), "{:?}", paths.keys());
    assert!(paths.contains_key("/customers/{id}"), "{:?}", paths.keys());
    let text = document["components"].to_string();
    assert!(
        text.contains(r#""enum":["draft","published","archived""#),
        "the enum of the definition: {text}"
    );
    assert!(text.contains(r#""city""#), "the set's fields: {text}");
    let spec = json(app.get("/_standin/spec").await).await;
    assert_eq!(
        spec["resources"]["customers"]["fields"]["city"]["required"],
        true
    );
}

/// Fixtures in files of their own: records for resources defined elsewhere.
const FIXTURES: &str = "records:
  products:
    - { name: Teapot, status: published }
    - { name: Mug }
  customers:
    - { name: Grace, city: Arlington }
";

#[tokio::test]
async fn an_included_file_adds_records_to_resources_defined_in_other_files() {
    let directory = shop();
    std::fs::write(
        directory.path().join("spec.yaml"),
        MAIN.replace("  - parts/*.yaml", "  - parts/*.yaml\n  - fixtures.yaml"),
    )
    .unwrap();
    std::fs::write(directory.path().join("fixtures.yaml"), FIXTURES).unwrap();
    let app = spawn_file(&directory.path().join("spec.yaml"));
    // The resource's own records first, then the included ones, then the generated.
    let products = json(app.get_json("/products?sort=id").await).await;
    let names: Vec<&str> = products
        .as_array()
        .unwrap()
        .iter()
        .map(|product| product["name"].as_str().unwrap())
        .collect();
    assert_eq!(names[..3], ["Kettle", "Teapot", "Mug"], "{products}");
    assert_eq!(products[1]["status"], "published");
    assert_eq!(products[2]["status"], "draft", "the field's default");
    let customers = json(app.get_json("/customers?name=Grace").await).await;
    assert_eq!(customers[0]["city"], "Arlington", "{customers}");
    // The normalised spec has them in their resources, and parses again.
    let spec = json(app.get("/_standin/spec").await).await;
    assert_eq!(
        spec["resources"]["products"]["records"][1]["name"],
        "Teapot"
    );
    let again = standin::parse("export.json", &spec.to_string()).expect("it parses");
    assert!(again.resource("products").is_some());
}

#[test]
fn a_problem_in_included_records_names_the_file_they_are_written_in() {
    let directory = shop();
    std::fs::write(
        directory.path().join("spec.yaml"),
        MAIN.replace("  - parts/*.yaml", "  - parts/*.yaml\n  - fixtures.yaml"),
    )
    .unwrap();
    let fixtures = directory.path().join("fixtures.yaml");
    // A record breaking its resource's rules, and records of no resource.
    std::fs::write(
        &fixtures,
        FIXTURES.replace("{ name: Mug }", "{ name: Mug, status: sold }")
            + "  prodcts:\n    - { name: Lost }\n",
    )
    .unwrap();
    let found = diagnostics(&directory.path().join("spec.yaml"));
    let fixtures = fixtures.display();
    assert!(
        found.contains(&format!(
            "{fixtures}:4:20: error at resources.products.records.2.status: \"sold\" is not one of"
        )),
        "the record, where it is written: {found}"
    );
    assert!(
        found.contains(&format!(
            "{fixtures}:7:3: error at records.prodcts: records for 'prodcts', which no file defines as a resource (did you mean 'products'?)"
        )),
        "{found}"
    );
}

#[test]
fn a_problem_in_an_included_file_names_that_file_and_position() {
    let directory = shop();
    let catalog = directory.path().join("parts/catalog.yaml");
    std::fs::write(
        &catalog,
        CATALOG.replace("name: { type: string, required: true }", "name: strng"),
    )
    .unwrap();
    let main = directory.path().join("spec.yaml");
    let found = diagnostics(&main);
    assert_eq!(
        found,
        format!(
            "{}:4:13: error at resources.products.fields.name: unknown type 'strng': expected one of string, integer, number, boolean, date, datetime, object, array (did you mean 'string'?)",
            catalog.display()
        )
    );
    // `standin check` prints the included file's own line under it.
    let output = Command::new(env!("CARGO_BIN_EXE_standin"))
        .arg("check")
        .arg(&main)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let printed = String::from_utf8_lossy(&output.stderr);
    assert!(
        printed.contains("4 |       name: strng\n  |             ^"),
        "{printed}"
    );
}

#[test]
fn an_unknown_definition_is_reported_with_a_suggestion() {
    let directory = shop();
    let catalog = directory.path().join("parts/catalog.yaml");
    std::fs::write(&catalog, CATALOG.replace("$ref: Status", "$ref: Stauts")).unwrap();
    let found = diagnostics(&directory.path().join("spec.yaml"));
    assert!(
        found.contains(&format!(
            "{}:5:23: error at resources.products.fields.status.$ref: unknown definition 'Stauts' (did you mean 'Status'?)",
            catalog.display()
        )),
        "{found}"
    );
    let main = directory.path().join("spec.yaml");
    std::fs::write(&main, MAIN.replace("$use: [Address]", "$use: [Adress]")).unwrap();
    let found = diagnostics(&main);
    assert!(
        found.contains(&format!(
            "{}:10:14: error at resources.customers.fields.$use.0: unknown definition 'Adress' (did you mean 'Address'?)",
            main.display()
        )),
        "{found}"
    );
}

#[test]
fn a_problem_inside_a_definition_points_at_the_definition() {
    let directory = shop();
    let shared = directory.path().join("shared.yaml");
    std::fs::write(
        &shared,
        SHARED.replace("city: { type: string", "city: { type: sting"),
    )
    .unwrap();
    let found = diagnostics(&directory.path().join("spec.yaml"));
    assert_eq!(
        found,
        format!(
            "{}:5:21: error at resources.customers.fields.city.type: unknown type 'sting': expected one of string, integer, number, boolean, date, datetime, object, array (did you mean 'string'?)",
            shared.display()
        )
    );
}

#[test]
fn a_cycle_of_includes_is_reported_with_its_chain() {
    let directory = files(&[
        ("spec.yaml", "standin: 1\ninclude: a.yaml\n"),
        (
            "a.yaml",
            "include: [b.yaml]\nresources:\n  notes: { fields: { text: string } }\n",
        ),
        ("b.yaml", "include: [a.yaml]\n"),
    ]);
    let root = directory.path();
    let found = diagnostics(&root.join("spec.yaml"));
    let canonical = |name: &str| std::fs::canonicalize(root.join(name)).unwrap();
    assert_eq!(
        found,
        format!(
            "{}:1:11: error at include.0: files include each other in a cycle: {} -> {} -> {}",
            root.join("b.yaml").display(),
            canonical("a.yaml").display(),
            canonical("b.yaml").display(),
            canonical("a.yaml").display(),
        )
    );
}

#[test]
fn a_resource_defined_twice_names_both_places() {
    let directory = shop();
    std::fs::write(
        directory.path().join("parts/more.yaml"),
        "resources:\n  customers:\n    fields: { name: string }\n",
    )
    .unwrap();
    let main = directory.path().join("spec.yaml");
    let found = diagnostics(&main);
    assert_eq!(
        found,
        format!(
            "{}:2:3: error at resources.customers: resource 'customers' is defined twice: here and at {}:7:3",
            directory.path().join("parts/more.yaml").display(),
            main.display()
        )
    );
}

#[test]
fn a_file_without_end_is_refused_at_the_size_limit() {
    let directory = files(&[("spec.yaml", "standin: 1\ninclude: /dev/zero\n")]);
    let main = directory.path().join("spec.yaml").display().to_string();
    let found = diagnostics(&directory.path().join("spec.yaml"));
    assert!(
        found.contains(&format!(
            "{main}:2:10: error at include: cannot read the included file '/dev/zero': it is larger than 256 MiB"
        )),
        "{found}"
    );
}

#[test]
fn missing_files_unmatched_globs_and_misplaced_keys_are_reported_where_written() {
    let directory = files(&[
        (
            "spec.yaml",
            "standin: 1\ninclude:\n  - gone.yaml\n  - parts/*.json\n  - part.yaml\n",
        ),
        (
            "part.yaml",
            "title: Part\nresorces: {}\nresources:\n  notes: { fields: { text: string } }\n",
        ),
    ]);
    let root = directory.path();
    let main = root.join("spec.yaml").display().to_string();
    let part = root.join("part.yaml").display().to_string();
    let found = diagnostics(&root.join("spec.yaml"));
    let lines: Vec<&str> = found.lines().collect();
    assert_eq!(lines.len(), 4, "{found}");
    assert!(
        lines[0].starts_with(&format!(
            "{main}:3:5: error at include.0: cannot read the included file"
        )),
        "{found}"
    );
    assert!(
        lines[1].starts_with(&format!(
            "{main}:4:5: error at include.1: 'parts/*.json' matches no file"
        )),
        "{found}"
    );
    assert!(
        lines[2].starts_with(&format!(
            "{part}:1:1: error at title: unknown key 'title' ('title' is set in the main spec file"
        )),
        "{found}"
    );
    assert_eq!(
        lines[3],
        format!(
            "{part}:2:1: error at resorces: unknown key 'resorces' (did you mean 'resources'?)"
        )
    );
}

/// A server watching `directory/spec.yaml`.
fn watched(directory: &Path) -> (Server, reqwest::Client) {
    let options = Options {
        watch: true,
        workers: Some(2),
        ..Options::default()
    };
    let spec = SpecFile::load(&directory.join("spec.yaml")).unwrap();
    (
        Server::start_with(spec, options).unwrap(),
        reqwest::Client::new(),
    )
}

/// Waits (up to 10 s) until GET `path` answers `status`, and returns its body.
async fn until(server: &Server, client: &reqwest::Client, path: &str, status: u16) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = client
            .get(format!("{}{path}", server.url()))
            .header("accept", "application/json")
            .send()
            .await
            .unwrap();
        if response.status().as_u16() == status {
            return response.json().await.unwrap_or(Value::Null);
        }
        assert!(Instant::now() < deadline, "{path} never answered {status}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn write(path: PathBuf, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[tokio::test]
async fn a_change_to_an_included_file_is_reloaded_and_new_includes_are_watched() {
    let directory = shop();
    let root = directory.path();
    let (server, client) = watched(root);
    until(&server, &client, "/products", 200).await;
    // An included file edited: its new resource is served.
    write(
        root.join("parts/catalog.yaml"),
        &format!("{CATALOG}  tags:\n    fields: {{ label: string }}\n    count: 2\n"),
    );
    let tags = until(&server, &client, "/tags", 200).await;
    assert_eq!(tags.as_array().map(Vec::len), Some(2));
    // A new file the glob matches.
    write(
        root.join("parts/labels.yaml"),
        "resources:\n  labels:\n    fields: { text: string }\n",
    );
    until(&server, &client, "/labels", 200).await;
    // A definition changed in the shared file reaches the fields using it.
    write(
        root.join("shared.yaml"),
        &SHARED.replace(
            "[draft, published, archived]",
            "[draft, published, archived, sold]",
        ),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let created = client
            .post(format!("{}/products", server.url()))
            .header("content-type", "application/json")
            .body(json!({ "name": "Pot", "status": "sold" }).to_string())
            .send()
            .await
            .unwrap();
        if created.status() == 201 {
            break;
        }
        let body = created.text().await.unwrap();
        let health = client
            .get(format!("{}/_standin/health", server.url()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let body = format!("{body} {health}");
        assert!(
            Instant::now() < deadline,
            "the new enum value never applied: {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A file in a directory not watched before, included by an edit of the main file...
    write(
        root.join("extra/more.yaml"),
        "resources:\n  notes:\n    fields: { text: string }\n",
    );
    write(
        root.join("spec.yaml"),
        &MAIN.replace(
            "  - parts/*.yaml\n",
            "  - parts/*.yaml\n  - extra/more.yaml\n",
        ),
    );
    until(&server, &client, "/notes", 200).await;
    // ...is watched from then on.
    write(
        root.join("extra/more.yaml"),
        "resources:\n  notes:\n    fields: { text: string }\n  memos:\n    fields: { text: string }\n",
    );
    until(&server, &client, "/memos", 200).await;
    // An invalid edit of an included file is refused, naming that file.
    write(
        root.join("extra/more.yaml"),
        "resources:\n  notes:\n    fields: { text: strin }\n",
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let health = loop {
        let health: Value = client
            .get(format!("{}/_standin/health", server.url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        // (A read between the truncation and the write sees an empty file.)
        let reported = health["last_reload_error"]["diagnostics"][0]["message"]
            .as_str()
            .is_some_and(|message| message.contains("strin"));
        if reported {
            break health;
        }
        assert!(
            Instant::now() < deadline,
            "the invalid edit was never reported"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let diagnostic = &health["last_reload_error"]["diagnostics"][0];
    assert!(
        diagnostic["file"]
            .as_str()
            .is_some_and(|file| file.ends_with("extra/more.yaml")),
        "{health}"
    );
    assert_eq!(diagnostic["position"], json!({ "line": 3, "column": 21 }));
    until(&server, &client, "/memos", 200).await;
    // Fixed, the spec is in force again.
    write(
        root.join("extra/more.yaml"),
        "resources:\n  notes:\n    fields: { text: string }\n",
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let health: Value = client
            .get(format!("{}/_standin/health", server.url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if health["last_reload_error"].is_null() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the fix was never seen: {health}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    until(&server, &client, "/memos", 404).await;
    // A file in a new directory, invalid when first included: its fix is seen.
    write(
        root.join("late/late.yaml"),
        "resources:\n  reminders:\n    fields: { due: dat }\n",
    );
    write(
        root.join("spec.yaml"),
        &MAIN.replace(
            "  - parts/*.yaml\n",
            "  - parts/*.yaml\n  - extra/more.yaml\n  - late/late.yaml\n",
        ),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let health: Value = client
            .get(format!("{}/_standin/health", server.url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let refused = health["last_reload_error"]["diagnostics"][0]["message"]
            .as_str()
            .is_some_and(|message| message.contains("'dat'"));
        if refused {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the invalid include was never reported: {health}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    write(
        root.join("late/late.yaml"),
        "resources:\n  reminders:\n    fields: { due: date }\n",
    );
    until(&server, &client, "/reminders", 200).await;
}
