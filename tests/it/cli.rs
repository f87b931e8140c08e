//! The command line: `check` exit codes and output, `serve --port 0`'s URL
//! line, and a clean shutdown on SIGTERM.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

fn standin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_standin"))
}

#[test]
fn check_accepts_a_valid_spec() {
    let output = standin()
        .args(["check", "specs/blog.yaml"])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "specs/blog.yaml: ok (3 resources)\n"
    );
}

#[test]
fn check_reports_problems_with_positions_and_fails() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("bad.yaml");
    std::fs::write(
        &path,
        "standin: 1\nresources:\n  books:\n    fields:\n      author: { ref: autors }\n",
    )
    .unwrap();
    let output = standin().arg("check").arg(&path).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let expected = format!(
        "{}:5:22: error at resources.books.fields.author.ref: unknown resource 'autors'",
        path.display()
    );
    assert!(stderr.contains(&expected), "{stderr}");
    assert!(
        stderr.contains("5 |       author: { ref: autors }"),
        "{stderr}"
    );
    assert!(stderr.contains("1 problem in the spec"), "{stderr}");
}

#[test]
fn serve_refuses_a_bad_spec() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("bad.yaml");
    std::fs::write(&path, "standin: 2\n").unwrap();
    let output = standin()
        .arg("serve")
        .arg(&path)
        .args(["--port", "0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unsupported format version 2"));
}

/// `standin serve specs/todo.yaml` on a free port, with its standard output
/// and the URL it printed first; `stderr` says what becomes of its logs.
fn serve_todo(
    stderr: Stdio,
) -> (
    std::process::Child,
    BufReader<std::process::ChildStdout>,
    String,
) {
    let mut child = standin()
        .args(["serve", "specs/todo.yaml", "--port", "0", "--workers", "1"])
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut url = String::new();
    stdout.read_line(&mut url).unwrap();
    (child, stdout, url.trim().to_string())
}

/// Sends SIGTERM to `child`.
fn terminate(child: &std::process::Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn serve_on_port_0_prints_the_url_first_and_stops_on_sigterm() {
    let (mut child, mut stdout, url) = serve_todo(Stdio::null());
    assert!(
        url.starts_with("http://127.0.0.1:") && !url.ends_with(":0"),
        "{url}"
    );
    let mut rest = String::new();
    for _ in 0..3 {
        stdout.read_line(&mut rest).unwrap();
    }
    assert!(rest.contains(&format!("{url}/todos")), "{rest}");
    assert!(rest.contains("(22 records)"), "{rest}");

    terminate(&child);
    let exit = child.wait().unwrap();
    assert!(exit.success(), "a clean exit on SIGTERM: {exit:?}");
    let mut remaining = String::new();
    stdout.read_to_string(&mut remaining).unwrap();
    let banner = rest + &remaining;
    assert!(banner.contains("Plain JSON by default"), "{banner}");
    assert!(
        banner.contains(&format!("Admin API: {url}/_standin/health")),
        "{banner}"
    );
    assert!(
        banner.contains(&format!("Browse the API: open {url} in a web browser")),
        "{banner}"
    );
}

#[test]
fn boolean_options_from_the_environment_accept_what_people_write() {
    for value in ["1", "yes", "true", "on", "0", "no", "false", "off"] {
        let output = standin()
            .args(["serve", "specs/nope.yaml"])
            .env("STANDIN_NO_WATCH", value)
            .env("STANDIN_NO_READ_CACHE", value)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        // Past the options: the spec file is what fails.
        assert!(!stderr.contains("invalid value"), "{value}: {stderr}");
        assert!(stderr.contains("nope.yaml"), "{value}: {stderr}");
    }
}

#[test]
fn logs_to_a_pipe_carry_no_colour_codes() {
    let (child, _stdout, _url) = serve_todo(Stdio::piped());
    terminate(&child);
    let output = child.wait_with_output().unwrap();
    let logs = String::from_utf8_lossy(&output.stderr);
    assert!(logs.contains("INFO"), "{logs}");
    assert!(!logs.contains('\u{1b}'), "{logs:?}");
}

#[test]
fn the_ready_file_gets_the_url_once_serving() {
    let directory = tempfile::tempdir().unwrap();
    let ready = directory.path().join("ready");
    let mut child = standin()
        .args([
            "serve",
            "specs/todo.yaml",
            "--port",
            "0",
            "--workers",
            "1",
            "--no-watch",
            "--ready-file",
        ])
        .arg(&ready)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let url = loop {
        if let Ok(text) = std::fs::read_to_string(&ready)
            && text.ends_with('\n')
        {
            break text.trim().to_string();
        }
        assert!(std::time::Instant::now() < deadline, "no ready file");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let address = url.trim_start_matches("http://");
    let connected = std::net::TcpStream::connect(address);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(connected.is_ok(), "{url} accepts connections");
}

#[test]
fn init_writes_a_starter_spec_that_checks_and_never_overwrites() {
    let directory = tempfile::tempdir().unwrap();
    let output = standin()
        .arg("init")
        .current_dir(directory.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "wrote standin.yaml: serve it with `standin serve standin.yaml`\n"
    );
    let check = standin()
        .arg("check")
        .current_dir(directory.path())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&check.stdout),
        "standin.yaml: ok (2 resources)\n",
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );

    let path = directory.path().join("standin.yaml");
    std::fs::write(&path, "mine").unwrap();
    let again = standin()
        .arg("init")
        .current_dir(directory.path())
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&again.stderr),
        "error: standin.yaml exists; init writes only new files: remove it, or name another (standin init other.yaml)\n"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "mine");
}

#[test]
fn serve_refuses_bad_custom_routes_with_their_position() {
    let directory = tempfile::tempdir().unwrap();
    let routes = directory.path().join("routes.json");
    std::fs::write(
        &routes,
        "{\n  \"/api/*\": \"/$1\",\n  \"/x/:id\": \"/posts/:slug\"\n}\n",
    )
    .unwrap();
    let output = standin()
        .args(["serve", "specs/todo.yaml", "--port", "0", "--routes"])
        .arg(&routes)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let expected = format!("{}:3:3", routes.display());
    assert!(stderr.contains(&expected), "{stderr}");
    assert!(stderr.contains(":slug"), "{stderr}");
}

#[tokio::test]
async fn serve_serves_several_files_side_by_side_each_on_its_own_port() {
    let directory = tempfile::tempdir().unwrap();
    let db_json = directory.path().join("db.json");
    std::fs::write(&db_json, r#"{"posts": [{"id": 1, "title": "hello"}]}"#).unwrap();
    let ready = directory.path().join("ready");
    let mut child = standin()
        .arg("serve")
        .arg("specs/todo.yaml")
        .arg(&db_json)
        .args([
            "--port",
            "0",
            "--workers",
            "1",
            "--no-watch",
            "--ready-file",
        ])
        .arg(&ready)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let urls = loop {
        let text = std::fs::read_to_string(&ready).unwrap_or_default();
        if text.lines().count() == 2 {
            break text.lines().map(str::to_string).collect::<Vec<_>>();
        }
        assert!(std::time::Instant::now() < deadline, "not ready: {text:?}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_ne!(urls[0], urls[1]);
    crate::helpers::tls_provider();
    let client = reqwest::Client::new();
    let todos: serde_json::Value = client
        .get(format!("{}/todos?per_page=1", urls[0]))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(todos.as_array().map(Vec::len), Some(1), "{todos}");
    let posts: serde_json::Value = client
        .get(format!("{}/posts", urls[1]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(posts, serde_json::json!([{"id": 1, "title": "hello"}]));

    terminate(&child);
    let exit = child.wait().unwrap();
    assert!(exit.success(), "a clean exit on SIGTERM: {exit:?}");
    let mut banner = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut banner)
        .unwrap();
    assert!(banner.starts_with(&format!("{}\n", urls[0])), "{banner}");
    assert!(banner.contains(&format!("\n{}\n", urls[1])), "{banner}");
    assert_eq!(
        banner.matches("Press Ctrl-C to stop.").count(),
        1,
        "{banner}"
    );
}

#[test]
fn several_files_with_one_database_are_refused() {
    let output = standin()
        .args(["serve", "specs/todo.yaml", "specs/blog.yaml", "--port", "0"])
        .args(["--db", "never-created.db"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--db applies to one input"), "{stderr}");
    assert!(!std::path::Path::new("never-created.db").exists());
}

#[test]
fn serve_refuses_an_upstream_that_is_not_http_at_start() {
    let output = standin()
        .args(["serve", "specs/todo.yaml", "--port", "0", "--no-watch"])
        .args(["--upstream", "ftp://api.example.com"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--upstream: 'ftp://api.example.com' has the scheme 'ftp'")
            && stderr.contains("an http:// or https:// URL"),
        "{stderr}"
    );
}
