//! Real, independently written clients driven against standin: react-admin's
//! data providers and axios (Node), halchemy and collection-json (Python),
//! schemathesis, and the REDbot HTTP linter. They need tools beyond Rust
//! (Node, npm and PyPI packages), so they are ignored by a plain
//! `cargo test`; `.ci/run` installs what they need and runs them with
//! `cargo test --test it -- --ignored`.

use std::process::Command;

use crate::helpers::spawn;

/// Runs `tests/node/{script}` with `arguments`, asserting it succeeds and prints `expected`.
fn node(script: &str, arguments: &[&str], expected: &[&str]) {
    let script = format!("{}/tests/node/{script}", env!("CARGO_MANIFEST_DIR"));
    let output = Command::new("node")
        .arg(&script)
        .args(arguments)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script} {arguments:?}\n{stdout}\n{stderr}"
    );
    for line in expected {
        assert!(stdout.contains(line), "{script} {arguments:?}: {stdout}");
    }
}

fn example_spec(name: &str) -> String {
    std::fs::read_to_string(format!("{}/specs/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

const PROVIDERS_OK: &[&str] = &["ra-data-json-server: ok", "ra-data-simple-rest: ok"];

#[tokio::test]
#[ignore = "needs Node and the npm packages of tests/node (.ci/run installs them)"]
async fn react_admin_data_providers_work_unchanged() {
    let app = spawn(&example_spec("todo.yaml"));
    node("react-admin.mjs", &[app.server.url()], PROVIDERS_OK);
}

#[tokio::test]
#[ignore = "needs Node and the npm packages of tests/node (.ci/run installs them)"]
async fn react_admin_works_with_defaults_accept_alone() {
    let spec = example_spec("todo.yaml").replace("  prefer: return=representation\n", "");
    assert!(!spec.contains("prefer:"));
    let app = spawn(&spec);
    node("react-admin.mjs", &[app.server.url()], PROVIDERS_OK);
}

#[tokio::test]
#[ignore = "needs Node and the npm packages of tests/node (.ci/run installs them)"]
async fn react_admin_works_with_an_accept_header_alone() {
    let spec = example_spec("todo.yaml").replace(
        "defaults:\n  accept: application/json\n  prefer: return=representation\n",
        "",
    );
    assert!(!spec.contains("defaults:"));
    let app = spawn(&spec);
    node(
        "react-admin.mjs",
        &[app.server.url(), "accept-json"],
        PROVIDERS_OK,
    );
}

#[tokio::test]
#[ignore = "needs Node and the npm packages of tests/node (.ci/run installs them)"]
async fn axios_gets_plain_json_with_its_default_accept() {
    let app = spawn(&example_spec("blog.yaml"));
    node("axios.mjs", &[app.server.url()], &["axios: ok"]);
}

#[tokio::test]
#[ignore = "needs Debian's chromium and playwright-core from tests/node (.ci/run installs them)"]
async fn the_browsable_api_works_in_chromium() {
    // Home, a collection (filter, sort, page), an item, create with a
    // validation error then fixed, edit, a stale edit (412), an action
    // taken by its button, delete (410), escaping, the admin page. STANDIN_SCREENSHOTS=docs/images refreshes
    // the README's screenshots.
    let app = spawn(&example_spec("blog.yaml"));
    let screenshots = std::env::var("STANDIN_SCREENSHOTS").unwrap_or_default();
    let mut arguments = vec![app.server.url()];
    if !screenshots.is_empty() {
        arguments.push(&screenshots);
    }
    node("browser.mjs", &arguments, &["browser: ok"]);
}

#[tokio::test]
#[ignore = "needs Chromium (Debian's chromium) and the npm packages of tests/node"]
async fn the_browsable_api_works_in_chromium_on_a_db_json() {
    // Home, a collection (page by _page/_limit, sort by _sort/_order, filter
    // and search), an item, create, edit, delete and the 404 after, all in
    // json-server's routes and parameters.
    let posts: Vec<serde_json::Value> = (1..=12)
        .map(|id| {
            let title = if id == 1 {
                "alpha <b>".to_string()
            } else {
                format!("post {id}")
            };
            serde_json::json!({"id": id, "title": title, "views": id * 10, "authorId": 1})
        })
        .collect();
    let db = serde_json::json!({"posts": posts, "authors": [{"id": 1, "name": "Ann"}], "profile": {"name": "me"}});
    let app = crate::json_server::serve(&db.to_string());
    let screenshots = std::env::var("STANDIN_SCREENSHOTS").unwrap_or_default();
    let mut arguments = vec![app.server.url()];
    if !screenshots.is_empty() {
        arguments.push(&screenshots);
    }
    node(
        "browser-dbjson.mjs",
        &arguments,
        &["browser on a db.json: ok"],
    );
}

#[tokio::test]
#[ignore = "needs Chromium (Debian's chromium) and the npm packages of tests/node"]
async fn the_browsable_api_works_in_chromium_on_an_openapi_document() {
    // Home at the base path, the list with the declared limit, a create
    // refused with the document's error then fixed, the item, delete, 404.
    let document = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/import-cases/openapi/petstore-expanded.yaml"
    ))
    .unwrap();
    let app = spawn(&document);
    node(
        "browser-openapi.mjs",
        &[app.server.url()],
        &["browser on an OpenAPI document: ok"],
    );
}

#[tokio::test]
#[ignore = "needs Node and the npm packages of tests/node (.ci/run installs them)"]
async fn react_admins_json_server_provider_works_on_a_db_json() {
    let books: Vec<serde_json::Value> = (1..=12)
        .map(|id| serde_json::json!({"id": id, "title": format!("Book {id}"), "authorId": id % 3 + 1}))
        .collect();
    let db = serde_json::json!({
        "books": books,
        "authors": [{"id": 1, "name": "Ann"}, {"id": 2, "name": "Bo"}, {"id": 3, "name": "Cy"}]
    });
    let app = crate::json_server::serve(&db.to_string());
    node(
        "react-admin-dbjson.mjs",
        &[app.server.url()],
        &["ra-data-json-server on a db.json: ok"],
    );
}

#[tokio::test]
#[ignore = "needs halchemy and collection-json from PyPI (.ci/run installs them)"]
async fn a_python_hal_client_and_a_collection_json_client_work_unchanged() {
    let app = spawn(&example_spec("blog.yaml"));
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/hal_and_collection_json.py"
    );
    let url = app.server.url().to_string();
    let (passed, output) =
        tokio::task::spawn_blocking(move || run(Command::new("python3").args([script, &url])))
            .await
            .unwrap();
    assert!(passed, "{output}");
    assert!(
        output.contains("halchemy: ok") && output.contains("collection-json: ok"),
        "{output}"
    );
}

/// The notes REDbot rates as errors or warnings ("BAD", "WARN") for `url`.
fn redbot_findings(url: &str) -> Vec<String> {
    let output = Command::new("redbot")
        .args(["-o", "har", url])
        .output()
        .expect("redbot runs");
    let har: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "redbot's HAR for {url} ({error}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    let entries = har["log"]["entries"].as_array().expect("HAR entries");
    assert!(!entries.is_empty(), "redbot checked {url}");
    entries
        .iter()
        .flat_map(|entry| {
            entry["_red_messages"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter(|note| note["level"] == "BAD" || note["level"] == "WARN")
        .map(|note| format!("{}: {}", note["subject"], note["summary"]))
        .collect()
}

#[tokio::test]
#[ignore = "needs REDbot from PyPI (.ci/run installs it)"]
async fn redbot_finds_no_errors_or_warnings_on_items_collections_home_and_redirects() {
    let spec =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/specs/blog.yaml")).unwrap();
    let app = spawn(&spec);
    for path in [
        "",
        "/posts/1",
        "/posts?page=2&per_page=5",
        "/authors/1/posts",
        "/posts/",
    ] {
        let url = app.url(path);
        let errors = tokio::task::spawn_blocking(move || redbot_findings(&url))
            .await
            .unwrap();
        assert!(errors.is_empty(), "{path}: {errors:?}");
    }
}

fn run(command: &mut Command) -> (bool, String) {
    let output = command.output().expect("the tool runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[tokio::test]
#[ignore = "needs schemathesis and openapi-spec-validator from PyPI (.ci/run installs them)"]
async fn every_example_spec_is_described_truly_per_schemathesis() {
    for path in crate::helpers::example_specs() {
        let app = crate::helpers::spawn_file(&path);
        let description = app.url("/_standin/openapi.json");
        let document = reqwest::get(&description)
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), &document).unwrap();
        let validate = format!(
            "import json; from openapi_spec_validator import validate; validate(json.load(open({:?})))",
            file.path().display().to_string()
        );
        let (valid, output) = tokio::task::spawn_blocking(move || {
            run(Command::new("python3").args(["-c", &validate]))
        })
        .await
        .unwrap();
        assert!(
            valid,
            "{}: not valid OpenAPI 3.1:\n{output}",
            path.display()
        );
        let (passed, output) = tokio::task::spawn_blocking(move || {
            run(Command::new("st").args([
                "--config-file",
                concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/tests/schemathesis/schemathesis.toml"
                ),
                "run",
                &description,
                "--checks",
                "all",
                "--max-time",
                "40",
                "--seed",
                "1",
                "--workers",
                "1",
            ]))
        })
        .await
        .unwrap();
        assert!(
            passed,
            "{}: schemathesis found failures:\n{output}",
            path.display()
        );
    }
}
