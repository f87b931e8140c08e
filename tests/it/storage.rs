//! Durable storage with `--db`: data survives a restart, including `kill -9`,
//! and seeding never writes on top of existing data.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::json;
use standin::{Options, Server};

use crate::helpers::{header, json};

const NOTES: &str = "standin: 1\nresources:\n  notes:\n    fields:\n      text: { type: string, required: true }\n    count: 3\n";

fn start_on(db: &std::path::Path) -> Server {
    let spec = standin::parse("notes.yaml", NOTES).unwrap();
    let options = Options {
        db: Some(db.to_path_buf()),
        workers: Some(1),
        ..Options::default()
    };
    Server::start(spec, options).unwrap()
}

#[tokio::test]
async fn data_survives_a_restart_and_is_not_reseeded() {
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("notes.db");
    let client = reqwest::Client::new();
    {
        let server = start_on(&db);
        let response = client
            .post(format!("{}/notes", server.url()))
            .json(&json!({ "text": "kept" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let response = client
            .delete(format!("{}/notes/1", server.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
    }
    let server = start_on(&db);
    let response = client
        .get(format!("{}/notes", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&response, "x-total-count").as_deref(),
        Some("3"),
        "2 seeded + 1 created, none reseeded"
    );
    let note = json(
        client
            .get(format!("{}/notes/4", server.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(note["text"], "kept");
    let gone = client
        .get(format!("{}/notes/1", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404, "a deleted seeded record stays deleted");
}

/// A `standin serve` process on a free port; returns it and its URL.
fn serve(arguments: &[&str]) -> (Child, String) {
    let (child, url, _) = serve_keeping_stdout(arguments);
    (child, url)
}

fn serve_keeping_stdout(
    arguments: &[&str],
) -> (Child, String, BufReader<std::process::ChildStdout>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_standin"))
        .arg("serve")
        .args(arguments)
        .args(["--port", "0", "--workers", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    (child, line.trim().to_string(), stdout)
}

#[tokio::test]
async fn acknowledged_writes_survive_kill_9() {
    let directory = tempfile::tempdir().unwrap();
    let spec_path = directory.path().join("notes.yaml");
    std::fs::write(&spec_path, NOTES).unwrap();
    let db = directory.path().join("notes.db");
    let arguments = [spec_path.to_str().unwrap(), "--db", db.to_str().unwrap()];
    let client = reqwest::Client::new();

    // The first server's stdout is dropped early: the server must keep serving.
    let (mut child, url) = serve(&arguments);
    for index in 0..20 {
        let response = client
            .post(format!("{url}/notes"))
            .json(&json!({ "text": format!("note {index}") }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }
    // Surviving SIGKILL shows the commits reached the operating system; that
    // they reach the disk before the answer rests on these settings.
    let health: serde_json::Value = client
        .get(format!("{url}/_standin/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        health["durability"],
        json!({ "journal_mode": "wal", "synchronous": "full" })
    );
    child.kill().unwrap(); // SIGKILL: no chance to flush anything
    child.wait().unwrap();

    let (mut child, url, _stdout) = serve_keeping_stdout(&arguments);
    let response = client
        .get(format!("{url}/notes?per_page=100"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&response, "x-total-count").as_deref(), Some("23"));
    let notes = json(response).await;
    assert_eq!(notes[22]["text"], "note 19");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test]
async fn a_changed_id_kind_over_existing_data_is_refused() {
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("notes.db");
    drop(start_on(&db));
    let spec = standin::parse(
        "notes.yaml",
        &NOTES.replace("  notes:\n", "  notes:\n    id: uuid\n"),
    )
    .unwrap();
    let options = Options {
        db: Some(db),
        ..Options::default()
    };
    let error = Server::start(spec, options).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("the stored notes have integer ids but the spec says `id: uuid`"),
        "{error}"
    );
}

#[tokio::test]
async fn replacing_a_record_keeps_fields_the_spec_no_longer_has() {
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("notes.db");
    let with_colour = NOTES.replace("      text:", "      colour: string\n      text:");
    let start = |source: &str| {
        let spec = standin::parse("notes.yaml", source).unwrap();
        Server::start(
            spec,
            Options {
                db: Some(db.clone()),
                workers: Some(1),
                ..Options::default()
            },
        )
        .unwrap()
    };
    let client = reqwest::Client::new();
    {
        let server = start(&with_colour);
        let url = format!("{}/notes/1", server.url());
        let response = client
            .put(&url)
            .json(&json!({ "text": "a", "colour": "red" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    {
        let server = start(NOTES);
        let url = format!("{}/notes/1", server.url());
        let response = client
            .put(&url)
            .json(&json!({ "text": "b" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert!(json(response).await.get("colour").is_none());
    }
    let server = start(&with_colour);
    let note = json(
        client
            .get(format!("{}/notes/1", server.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(note["text"], "b");
    assert_eq!(note["colour"], "red", "the hidden field came back");
}

/// A search index written by an earlier layout (layout 1 also indexed
/// soft-deleted records) is rebuilt when the store opens.
#[tokio::test]
async fn a_search_index_of_an_earlier_layout_is_rebuilt() {
    const SPEC: &str = "standin: 1\nresources:\n  notes:\n    soft_delete: true\n    fields:\n      text: { type: string, required: true }\n    search: [text]\n    records:\n      - { text: zanzibar one }\n      - { text: zanzibar two }\n";
    let start = |db: &std::path::Path| {
        let spec = standin::parse("notes.yaml", SPEC).unwrap();
        let options = Options {
            db: Some(db.to_path_buf()),
            workers: Some(1),
            ..Options::default()
        };
        Server::start(spec, options).unwrap()
    };
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("notes.db");
    let client = reqwest::Client::new();
    {
        let server = start(&db);
        // The index is made by the first search.
        let searched = client
            .get(format!("{}/notes?q=zanzibar", server.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(searched.status(), 200);
        let response = client
            .delete(format!("{}/notes/1", server.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
    }
    // The earlier layout: the record's text copied in, every row indexed.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch(
            r#"DROP TRIGGER fts_notes_inserted; DROP TRIGGER fts_notes_updated; DROP TRIGGER fts_notes_deleted;
               DROP TABLE fts_notes;
               CREATE VIRTUAL TABLE fts_notes USING fts5("text", tokenize = 'unicode61 remove_diacritics 2');
               INSERT INTO fts_notes (rowid, "text") SELECT rowid, json_extract(data, '$.text') FROM res_notes;
               CREATE TRIGGER fts_notes_inserted AFTER INSERT ON res_notes BEGIN
                   INSERT INTO fts_notes (rowid, "text") VALUES (new.rowid, json_extract(new.data, '$.text'));
               END;
               CREATE TRIGGER fts_notes_updated AFTER UPDATE OF data ON res_notes BEGIN
                   DELETE FROM fts_notes WHERE rowid = old.rowid;
                   INSERT INTO fts_notes (rowid, "text") VALUES (new.rowid, json_extract(new.data, '$.text'));
               END;
               CREATE TRIGGER fts_notes_deleted AFTER DELETE ON res_notes BEGIN
                   DELETE FROM fts_notes WHERE rowid = old.rowid;
               END;
               UPDATE _standin_search SET fields = 'text' WHERE resource = 'notes';"#,
        )
        .unwrap();
    let server = start(&db);
    let response = client
        .get(format!("{}/notes?q=zanzibar", server.url()))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&response, "x-total-count").as_deref(), Some("1"));
    let found = json(response).await;
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");
    assert_eq!(found[0]["text"], "zanzibar two");
}

#[test]
fn a_database_that_cannot_be_opened_is_named_in_the_error() {
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("no-such-directory").join("data.db");
    let options = Options {
        db: Some(db.clone()),
        ..Options::default()
    };
    let Err(error) = Server::start_with(standin::SpecFile::parse(NOTES).unwrap(), options) else {
        panic!("a database in a missing directory was opened");
    };
    assert!(
        matches!(error, standin::StartError::Storage { .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains(&db.display().to_string()),
        "{error}"
    );
}
