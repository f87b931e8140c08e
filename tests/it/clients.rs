//! Real, independently written clients driven against standin: react-admin's
//! data providers and the REDbot HTTP linter. They need tools beyond Rust
//! (Node, npm and PyPI packages), so they are ignored by a plain
//! `cargo test`; `.ci/run` installs what they need and runs them with
//! `cargo test --test it -- --ignored`.

use std::process::Command;

use crate::helpers::spawn;

#[tokio::test]
#[ignore = "needs Node and the npm packages of tests/node (.ci/run installs them)"]
async fn react_admin_data_providers_work_unchanged() {
    let spec =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/specs/todo.yaml")).unwrap();
    let app = spawn(&spec);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/node/react-admin.mjs");
    let output = Command::new("node")
        .arg(script)
        .arg(app.server.url())
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("ra-data-json-server: ok") && stdout.contains("ra-data-simple-rest: ok"),
        "{stdout}"
    );
}

/// The notes REDbot rates as errors ("BAD") for `url`.
fn redbot_errors(url: &str) -> Vec<String> {
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
        .filter(|note| note["level"] == "BAD")
        .map(|note| format!("{}: {}", note["subject"], note["summary"]))
        .collect()
}

#[tokio::test]
#[ignore = "needs REDbot from PyPI (.ci/run installs it)"]
async fn redbot_finds_no_errors_on_items_collections_and_home() {
    let spec =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/specs/blog.yaml")).unwrap();
    let app = spawn(&spec);
    for path in [
        "",
        "/posts/1",
        "/posts?page=2&per_page=5",
        "/authors/1/posts",
    ] {
        let url = app.url(path);
        let errors = tokio::task::spawn_blocking(move || redbot_errors(&url))
            .await
            .unwrap();
        assert!(errors.is_empty(), "{path}: {errors:?}");
    }
}
