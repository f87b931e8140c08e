//! Real, independently written clients driven against standin. They need
//! tools beyond Rust (Node and npm packages), so they are ignored by a plain
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
