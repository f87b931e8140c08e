//! A db.json as a file: changes written back atomically (every acknowledged
//! write kept, even when many arrive at once, and never mistaken for a hand
//! edit), hand edits reloaded, and `standin import` writing a spec that serves.

use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::json_server::{DbJson, import_case, serve_with};

fn file_contents(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).expect("the file is whole JSON")
}

/// Creates a post titled `title`, which must be answered `201`.
async fn create_post(app: &DbJson, title: &str) {
    let created = app
        .send(Method::POST, "/posts", json!({ "title": title }))
        .await;
    assert_eq!(created.status(), 201, "{title}");
}

/// Resets the data, which must succeed.
async fn reset(app: &DbJson) {
    let reset = app
        .client
        .post(app.url("/_standin/reset"))
        .send()
        .await
        .unwrap();
    assert!(reset.status().is_success(), "{}", reset.status());
}

#[actix_web::test]
async fn concurrent_writes_are_all_written_back_and_not_taken_for_edits() {
    let app = serve_with(&import_case("json-server-0.17.4-example.json"), |options| {
        options.watch = true;
    });
    let loaded_at = app.body("/_standin/health").await["spec"]["loaded_at"].clone();
    // Loading times are written to the millisecond: a reload would change it.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let writes = (0..24).map(|n| {
        let app = &app;
        async move {
            create_post(app, &format!("post {n}")).await;
            let patched = app
                .send(Method::PATCH, "/profile", json!({format!("k{n}"): n}))
                .await;
            assert_eq!(patched.status(), 200);
        }
    });
    futures_util::future::join_all(writes).await;
    let written = file_contents(&app.path);
    let posts = written["posts"].as_array().unwrap();
    assert_eq!(posts.len(), 25);
    let mut ids: Vec<i64> = posts
        .iter()
        .map(|post| post["id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, (1..=25).collect::<Vec<_>>());
    assert_eq!(written["profile"].as_object().unwrap().len(), 25);
    let directory = app.path.parent().unwrap();
    assert_eq!(
        std::fs::read_dir(directory).unwrap().count(),
        1,
        "no temporary file stays"
    );
    // The watcher sees standin's own writes and leaves the data alone.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let health = app.body("/_standin/health").await;
    assert_eq!(
        health["spec"]["loaded_at"], loaded_at,
        "no reload: {health}"
    );
    assert_eq!(app.body("/posts").await.as_array().unwrap().len(), 25);
    assert_eq!(app.body("/db").await, written);
}

/// Lists answer from parsed records that each write changes in place:
/// after every kind of write, and json-server's removal of dependants, they
/// hold what json-server's would, in its order; so do the records read one
/// by one from the store, and the file.
#[actix_web::test]
async fn lists_follow_every_write_in_json_servers_order() {
    let db = json!({
        "posts": [{"id": 1, "title": "a"}, {"id": 2, "title": "b"}, {"id": 3, "title": "c"}],
        "comments": [{"id": 1, "postId": 1, "body": "on a"}, {"id": 2, "postId": 2, "body": "on b"}],
        "profile": {"name": "p"}
    });
    let app = serve_with(&db.to_string(), |_| {});
    let mut expected = db.clone();
    let steps: Vec<(Method, &str, Value, ModelChange)> = vec![
        (Method::POST, "/posts", json!({"title": "d"}), |db| {
            push(db, "posts", json!({"title": "d", "id": 4}))
        }),
        (Method::PATCH, "/posts/1", json!({"title": "a2"}), |db| {
            db["posts"][0]["title"] = json!("a2")
        }),
        (Method::PUT, "/posts/2", json!({"title": "b2"}), |db| {
            db["posts"][1] = json!({"id": 2, "title": "b2"})
        }),
        (
            Method::POST,
            "/posts/1/comments",
            json!({"body": "c"}),
            |db| push(db, "comments", json!({"body": "c", "postId": 1, "id": 3})),
        ),
        (Method::PATCH, "/profile", json!({"age": 3}), |db| {
            db["profile"]["age"] = json!(3)
        }),
        // Its comments go with it.
        (Method::DELETE, "/posts/1", json!({}), |db| {
            retain(db, "posts", |post| post["id"] != 1);
            retain(db, "comments", |comment| comment["postId"] != 1);
        }),
        (
            Method::POST,
            "/posts",
            json!({"id": 10, "title": "e"}),
            |db| push(db, "posts", json!({"id": 10, "title": "e"})),
        ),
        (Method::DELETE, "/comments/2", json!({}), |db| {
            retain(db, "comments", |comment| comment["id"] != 2)
        }),
        (Method::PATCH, "/posts/10", json!({"views": 1}), |db| {
            db["posts"][3]["views"] = json!(1)
        }),
        // New ids follow the largest, kept from write to write.
        (Method::POST, "/posts", json!({"title": "f"}), |db| {
            push(db, "posts", json!({"title": "f", "id": 11}))
        }),
        (Method::DELETE, "/posts/11", json!({}), |db| {
            retain(db, "posts", |post| post["id"] != 11)
        }),
        (Method::DELETE, "/posts/10", json!({}), |db| {
            retain(db, "posts", |post| post["id"] != 10)
        }),
        (Method::POST, "/posts", json!({"title": "g"}), |db| {
            push(db, "posts", json!({"title": "g", "id": 5}))
        }),
        (Method::PATCH, "/posts/5", json!({"views": 2}), |db| {
            db["posts"][3]["views"] = json!(2)
        }),
    ];
    for (method, path, body, change) in steps {
        // Read first, so that each write finds the records parsed.
        assert_eq!(app.body("/posts").await, expected["posts"]);
        let answer = app.send(method.clone(), path, body).await;
        assert!(answer.status().is_success(), "{method} {path}");
        change(&mut expected);
        let step = format!("after {method} {path}");
        assert_eq!(app.body("/db").await, expected, "{step}");
        assert_eq!(file_contents(&app.path), expected, "{step}");
        // Sorted off the store's thread, from the same records.
        let mut descending = expected["posts"].as_array().unwrap().clone();
        descending.reverse();
        let sorted = app.body("/posts?_sort=id&_order=desc").await;
        assert_eq!(sorted, Value::Array(descending), "{step}");
        for post in expected["posts"].as_array().unwrap() {
            let one = app.body(&format!("/posts/{}", post["id"])).await;
            assert_eq!(&one, post, "{step}");
        }
    }
}

/// An id written `1.0` is the id `1`, as JavaScript reads it: a POST of it
/// conflicts with the record read from the file, and the list, the file and
/// the record read alone stay one and the same.
#[actix_web::test]
async fn ids_that_javascript_reads_alike_are_one_id() {
    let app = serve_with(r#"{"posts": [{"id": 1.0, "t": "a"}]}"#, |_| {});
    assert_eq!(app.body("/posts").await, json!([{"id": 1.0, "t": "a"}]));
    let again = app
        .send(Method::POST, "/posts", json!({"id": 1.0, "t": "b"}))
        .await;
    assert_eq!(again.status(), 409);
    let replaced = app.send(Method::PUT, "/posts/1", json!({"t": "c"})).await;
    assert_eq!(replaced.status(), 200);
    let expected = json!([{"id": 1.0, "t": "c"}]);
    assert_eq!(app.body("/posts").await, expected);
    assert_eq!(app.body("/posts/1").await, expected[0]);
    assert_eq!(file_contents(&app.path)["posts"], expected);
}

/// What a step does to the test's model of the database.
type ModelChange = fn(&mut Value);

fn push(db: &mut Value, collection: &str, record: Value) {
    db[collection].as_array_mut().unwrap().push(record);
}

fn retain(db: &mut Value, collection: &str, keep: impl Fn(&Value) -> bool) {
    db[collection].as_array_mut().unwrap().retain(keep);
}

#[actix_web::test]
async fn a_hand_edit_of_the_file_replaces_the_data() {
    let app = serve_with(&import_case("json-server-0.17.4-example.json"), |options| {
        options.watch = true;
    });
    app.send(
        Method::POST,
        "/posts",
        json!({"title": "made before the edit"}),
    )
    .await;
    // Read once, so that a list kept from before the edit would show.
    assert_eq!(app.body("/posts").await.as_array().unwrap().len(), 2);
    let edited = json!({
        "posts": [{"id": 50, "title": "edited by hand"}],
        "comments": [],
        "profile": {"name": "edited"}
    });
    let temporary = app.path.with_extension("tmp");
    std::fs::write(&temporary, serde_json::to_string_pretty(&edited).unwrap()).unwrap();
    std::fs::rename(&temporary, &app.path).unwrap();
    // Resources are reloaded one after another: wait for the last.
    let started = Instant::now();
    let mut served = app.body("/db").await;
    while served != edited {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the edit was never reloaded: {served}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        served = app.body("/db").await;
    }
    assert_eq!(app.body("/posts").await, edited["posts"]);
    assert_eq!(app.body("/posts").await, edited["posts"]);
}

#[actix_web::test]
async fn without_write_back_the_file_is_left_as_it_was() {
    let text = import_case("json-server-0.17.4-example.json");
    let app = serve_with(&text, |options| options.write_back = false);
    let response = app
        .send(Method::POST, "/posts", json!({"title": "kept in memory"}))
        .await;
    assert_eq!(response.status(), 201);
    assert_eq!(app.body("/posts").await.as_array().unwrap().len(), 2);
    assert_eq!(std::fs::read_to_string(&app.path).unwrap(), text);
}

#[actix_web::test]
async fn the_imported_spec_is_a_standin_spec_that_serves() {
    let directory = tempfile::tempdir().unwrap();
    for name in [
        "json-server-0.17.4-example.json",
        "json-server-1.0-readme-db.json",
        "json-server-1.0-fixtures-db.json",
        "confusion-react-db.json",
    ] {
        let path = directory.path().join(name);
        std::fs::write(&path, import_case(name)).unwrap();
        let output = Command::new(env!("CARGO_BIN_EXE_standin"))
            .arg("import")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let yaml = String::from_utf8(output.stdout).unwrap();
        let spec = standin::parse("spec.yaml", &yaml)
            .unwrap_or_else(|errors| panic!("{name}: {errors}\n{yaml}"));
        assert_eq!(spec.kind(), standin::SpecKind::Standin);
    }
    let path = directory.path().join("json-server-0.17.4-example.json");
    let (document, warnings) = standin::import_spec(&path).unwrap();
    assert!(warnings.is_empty());
    assert_eq!(
        document["resources"]["comments"]["fields"]["postId"]["ref"],
        "posts"
    );
    let app = crate::helpers::spawn(&serde_yaml::to_string(&document).unwrap());
    let comments = app.get_json("/posts/1/comments").await;
    assert_eq!(comments.status(), 200);
    let body = crate::helpers::json(comments).await;
    assert!(body.to_string().contains("some comment"), "{body}");
}

#[test]
fn check_reports_what_is_left_out_with_its_place() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("db.json");
    std::fs::write(
        &path,
        "{\n  \"posts\": [\n    {\"id\": 1},\n    \"not a record\"\n  ]\n}\n",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_standin"))
        .arg("check")
        .arg(&path)
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "db.json:4:5: warning at posts.1: left out: a record of 'posts' must be an object"
        ),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("ok (1 resources)"));
}

#[actix_web::test]
async fn a_reset_restores_the_file_too() {
    let text = import_case("json-server-0.17.4-example.json");
    let app = serve_with(&text, |_| {});
    create_post(&app, "gone after the reset").await;
    assert_eq!(
        file_contents(&app.path)["posts"].as_array().unwrap().len(),
        2
    );
    reset(&app).await;
    let original: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(app.body("/db").await, original);
    assert_eq!(file_contents(&app.path), original);
}

/// Snapshots written on their own thread never leave the file behind the
/// data: a reset among concurrent writes, then the last snapshot written,
/// and the file holds what `/db` answers.
#[actix_web::test]
async fn writes_and_a_reset_among_them_leave_the_file_as_the_data() {
    let app = serve_with(&import_case("json-server-0.17.4-example.json"), |_| {});
    let writes = (0..30).map(|n| {
        let app = &app;
        async move {
            if n == 15 {
                return reset(app).await;
            }
            let title = format!("post {n}");
            let created = app
                .send(Method::POST, "/posts", json!({ "title": title }))
                .await;
            // Refused while the reset runs, as every request for data is.
            assert!([201, 503].contains(&created.status().as_u16()), "{title}");
        }
    });
    futures_util::future::join_all(writes).await;
    let served = app.body("/db").await;
    assert_eq!(file_contents(&app.path), served);
    create_post(&app, "the last").await;
    let written = file_contents(&app.path);
    assert_eq!(written, app.body("/db").await);
    assert_eq!(
        written["posts"].as_array().unwrap().last().unwrap()["title"],
        "the last"
    );
}

/// A hand edit that is not JSON is refused; standin's next write replaces
/// it, and from then on its own writes are not taken for edits (a reload
/// of its own text would drop the writes its file does not hold yet).
#[actix_web::test]
async fn after_a_refused_edit_standins_own_writes_are_not_reloaded() {
    let app = serve_with(&import_case("json-server-0.17.4-example.json"), |options| {
        options.watch = true;
    });
    let loaded_at = app.body("/_standin/health").await["spec"]["loaded_at"].clone();
    std::fs::write(&app.path, "{ not json").unwrap();
    let started = Instant::now();
    while app.body("/_standin/health").await["last_reload_error"].is_null() {
        assert!(started.elapsed() < Duration::from_secs(10), "never refused");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let titles: Vec<String> = (0..12).map(|n| format!("after {n}")).collect();
    futures_util::future::join_all(titles.iter().map(|title| create_post(&app, title))).await;
    // Whatever the watcher makes of the writes, it has made by now.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let health = app.body("/_standin/health").await;
    assert_eq!(
        health["spec"]["loaded_at"], loaded_at,
        "no reload: {health}"
    );
    assert_eq!(health["last_reload_error"], Value::Null, "{health}");
    let served = app.body("/db").await;
    assert_eq!(served["posts"].as_array().unwrap().len(), 13);
    assert_eq!(file_contents(&app.path), served);
}

#[actix_web::test]
async fn an_edit_saved_just_before_a_write_is_reloaded_not_written_over() {
    let app = serve_with(&import_case("json-server-0.17.4-example.json"), |options| {
        options.watch = true;
    });
    for round in 0..3 {
        let mut edited = file_contents(&app.path);
        let title = format!("edited by hand {round}");
        push(
            &mut edited,
            "posts",
            json!({"id": 1000 * (round + 1), "title": title}),
        );
        std::fs::write(&app.path, serde_json::to_string_pretty(&edited).unwrap()).unwrap();
        // Well within the watcher's wait for the file to be quiet.
        let created = app
            .send(Method::POST, "/posts", json!({"title": "through the API"}))
            .await;
        assert_eq!(created.status(), 201);
        let started = Instant::now();
        loop {
            let served = app.body("/posts").await;
            let titles: Vec<&str> = served
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|post| post["title"].as_str())
                .collect();
            if titles.contains(&title.as_str()) {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the edit was written over: {served}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // The next write goes into the file with the edit.
        create_post(&app, "after the edit").await;
        let written = file_contents(&app.path);
        assert!(written.to_string().contains(&title), "{written}");
        assert_eq!(written, app.body("/db").await);
    }
}

/// A db.json that becomes a standin spec by hand is the user's spec from
/// then on: a reset restores its data but writes nothing over the file,
/// and its globs include new files; made a db.json again, it is written
/// back to again.
#[actix_web::test]
async fn a_db_json_edited_into_a_spec_is_never_written_over() {
    let app = serve_with(&import_case("json-server-0.17.4-example.json"), |options| {
        options.watch = true;
    });
    create_post(&app, "made before the edit").await;
    let parts = app.path.with_file_name("parts");
    std::fs::create_dir(&parts).unwrap();
    std::fs::write(
        parts.join("tags.yaml"),
        "resources:\n  tags: { fields: { name: string } }\n",
    )
    .unwrap();
    let spec = "{\"standin\": 1, \"include\": [\"parts/*.yaml\"], \"resources\": {\"notes\": {\"fields\": {\"text\": \"string\"}, \"count\": 2}}}\n";
    let temporary = app.path.with_extension("tmp");
    std::fs::write(&temporary, spec).unwrap();
    std::fs::rename(&temporary, &app.path).unwrap();
    let started = Instant::now();
    while app.get("/notes").await.status() != 200 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the spec was never reloaded"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    reset(&app).await;
    assert_eq!(app.get("/notes").await.status(), 200);
    assert_eq!(std::fs::read_to_string(&app.path).unwrap(), spec);
    // A file its glob matches now is included, as in any spec.
    std::fs::write(
        parts.join("labels.yaml"),
        "resources:\n  labels: { fields: { name: string } }\n",
    )
    .unwrap();
    while app.get("/labels").await.status() != 200 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the new included file was never read"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Edited back into a db.json: written back to again.
    let db = json!({"posts": [{"id": 1, "title": "a db.json again"}]});
    std::fs::write(&temporary, db.to_string()).unwrap();
    std::fs::rename(&temporary, &app.path).unwrap();
    while app.get("/posts/1").await.status() != 200 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the db.json was never reloaded"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    create_post(&app, "written back").await;
    assert_eq!(
        file_contents(&app.path)["posts"][1]["title"],
        "written back"
    );
}
