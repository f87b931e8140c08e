//! Serving OpenAPI documents: resources inferred from their paths, answers in
//! the documents' own shapes and statuses, requests checked against them.
//! The documents are public ones (tests/import-cases/openapi/README.md).

use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, header, json, spawn, spawn_with_options};

fn import_case(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/import-cases/openapi/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn petstore_expanded() -> TestApp {
    spawn(&import_case("petstore-expanded.yaml"))
}

#[tokio::test]
async fn a_list_is_the_bare_array_the_document_declares() {
    let app = petstore_expanded();
    assert!(
        app.url("/pets").ends_with("/v2/pets"),
        "base path from servers"
    );
    let response = app.get("/pets?limit=3").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "content-type").unwrap(),
        "application/json"
    );
    let pets = json(response).await;
    let pets = pets.as_array().expect("a bare array");
    assert_eq!(pets.len(), 3);
    assert_eq!(pets[0]["id"], 1);
    assert!(pets[0]["name"].is_string());
    assert!(pets[0].get("created_at").is_none() && pets[0].get("_links").is_none());
    let all = json(app.get("/pets").await).await;
    assert_eq!(
        all.as_array().unwrap().len(),
        10,
        "without a limit, every record"
    );
}

#[tokio::test]
async fn writes_answer_the_declared_statuses_and_persist() {
    let app = petstore_expanded();
    let created = app
        .post("/pets", json!({"name": "Rex", "tag": "dog"}))
        .await;
    assert_eq!(created.status(), 200, "the document declares 200 on create");
    let pet = json(created).await;
    assert_eq!(pet, json!({"id": 11, "name": "Rex", "tag": "dog"}));
    assert_eq!(json(app.get("/pets/11").await).await, pet);
    let tagged = json(app.get("/pets?tags=dog").await).await;
    assert_eq!(tagged, json!([pet]), "tags filters by the tag field");
    let deleted = app
        .request(Method::DELETE, "/pets/11")
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let gone = app.get("/pets/11").await;
    assert_eq!(gone.status(), 404);
    assert_eq!(header(&gone, "content-type").unwrap(), "application/json");
    let error = json(gone).await;
    assert_eq!(
        error["code"], 404,
        "problems take the document's Error shape: {error}"
    );
    assert!(error["message"].is_string());
}

#[tokio::test]
async fn requests_are_checked_against_the_document() {
    let app = petstore_expanded();
    let missing = app.post("/pets", json!({"tag": "dog"})).await;
    assert_eq!(missing.status(), 400);
    let error = json(missing).await;
    assert!(
        error["message"].as_str().unwrap().contains("name"),
        "{error}"
    );
    let bad_limit = app.get("/pets?limit=many").await;
    assert_eq!(bad_limit.status(), 400);
    assert!(
        json(bad_limit).await["message"]
            .as_str()
            .unwrap()
            .contains("limit")
    );
    let out_of_range = app.get("/pets?limit=2147483648").await;
    assert_eq!(out_of_range.status(), 400, "int32 bounds the limit");
    let bad_id = app.get("/pets/abc").await;
    assert_eq!(bad_id.status(), 400);
    let text = app
        .request(Method::POST, "/pets")
        .header("content-type", "text/plain")
        .body("Rex")
        .send()
        .await
        .unwrap();
    assert_eq!(text.status(), 415);
    let method = app.request(Method::PUT, "/pets").send().await.unwrap();
    assert_eq!(method.status(), 405);
    assert_eq!(header(&method, "allow").unwrap(), "GET, POST");
}

#[tokio::test]
async fn other_paths_of_a_resource_list_replace_and_need_credentials() {
    let app = spawn(&import_case("swagger-petstore-v3.yaml"));
    let pet = json!({"id": 3, "name": "Rex", "photoUrls": [], "status": "sold"});
    let put = |body: serde_json::Value| {
        app.request(Method::PUT, "/pet")
            .header("authorization", "Bearer token")
            .json(&body)
            .send()
    };
    let anonymous = app.send_json(Method::PUT, "/pet", pet.clone()).await;
    assert_eq!(anonymous.status(), 401, "petstore_auth is required");
    let replaced = put(pet.clone()).await.unwrap();
    assert_eq!(
        replaced.status(),
        200,
        "PUT /pet replaces the pet its body names"
    );
    assert_eq!(json(replaced).await, pet);
    let sold = app
        .request(Method::GET, "/pet/findByStatus?status=sold")
        .header("authorization", "Bearer token")
        .send()
        .await
        .unwrap();
    let sold = json(sold).await;
    let sold = sold.as_array().unwrap();
    assert!(
        sold.contains(&pet),
        "findByStatus filters by the status field"
    );
    assert!(sold.iter().all(|pet| pet["status"] == "sold"));
    let post = |body: serde_json::Value| {
        app.request(Method::POST, "/pet")
            .header("authorization", "Bearer token")
            .json(&body)
            .send()
    };
    let chosen = json(
        post(json!({"id": 500, "name": "Kept", "photoUrls": []}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(chosen["id"], 500, "a free client id is kept");
    let taken = json(
        post(json!({"id": 500, "name": "Again", "photoUrls": []}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        taken["id"], 501,
        "a taken one is replaced by the store's: {taken}"
    );
    let huge = json!({"id": 9_223_372_036_854_775_807_i64, "name": "Max", "photoUrls": []});
    let replaced_id = json(post(huge).await.unwrap()).await;
    assert_eq!(
        replaced_id["id"], 502,
        "ids near the 64-bit limit are not kept"
    );
    let next = post(json!({"name": "Next", "photoUrls": []}))
        .await
        .unwrap();
    assert_eq!(next.status(), 200, "and the store's ids do not run out");
    let unknown = put(json!({"id": 999, "name": "x", "photoUrls": []}))
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let anonymous = app.get("/store/inventory").await;
    assert_eq!(anonymous.status(), 401, "api_key is required");
    let with_key = app
        .request(Method::GET, "/store/inventory")
        .header("api_key", "special-key")
        .send()
        .await
        .unwrap();
    assert_eq!(with_key.status(), 200);
    assert!(json(with_key).await.is_object());
}

#[tokio::test]
async fn operations_outside_resources_answer_from_their_declarations() {
    let app = spawn(&import_case("swagger-petstore-v3.yaml"));
    let login = app.get("/user/login?username=a&password=b").await;
    assert_eq!(login.status(), 200);
    assert!(
        header(&login, "x-rate-limit").is_some(),
        "declared headers are sent"
    );
    assert!(json(login).await.is_string());
    let refused = app
        .request(Method::GET, "/user/login")
        .header("prefer", "code=400")
        .send()
        .await
        .unwrap();
    assert_eq!(
        refused.status(),
        400,
        "Prefer: code= picks a declared response"
    );
}

#[tokio::test]
async fn configured_credentials_are_the_only_ones_accepted() {
    let app = spawn_with_options(&import_case("swagger-petstore-v3.yaml"), |options| {
        options.credentials = vec!["special-key".into()];
    });
    let inventory = |key: &'static str| {
        app.request(Method::GET, "/store/inventory")
            .header("api_key", key)
            .send()
    };
    assert_eq!(inventory("special-key").await.unwrap().status(), 200);
    assert_eq!(inventory("guessed").await.unwrap().status(), 401);
}

#[tokio::test]
async fn a_declared_error_without_content_is_sent_empty_unlike_a_malformed_head() {
    let app = spawn_with_options(&import_case("swagger-petstore-v3.yaml"), |options| {
        options.credentials = vec!["special-key".into()];
    });
    // `GET /pet/{petId}` declares `400: Invalid ID supplied` with no content.
    let response = app
        .request(Method::GET, "/pet/not-a-number")
        .header("api_key", "special-key")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(header(&response, "content-type"), None);
    assert_eq!(header(&response, "x-standin-own-answer"), None);
    assert_eq!(response.bytes().await.unwrap().len(), 0);
    // A head actix-http itself rejects is still answered as problem+json.
    let url = app.url("/pet/1");
    let address = url
        .strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
        .unwrap()
        .to_string();
    let answer = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        stream
            .write_all(b"GET /api/v3/pet/1 HTTP/1.1\r\nHost: a\r\nno colon here\r\n\r\n")
            .unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        String::from_utf8(answer).unwrap()
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.contains("content-type: application/problem+json"),
        "{answer}"
    );
    assert!(
        answer.contains("the request's head is malformed"),
        "{answer}"
    );
}

#[tokio::test]
async fn the_seed_decides_the_generated_records() {
    let pets = |seed: u64| async move {
        let app = spawn_with_options(&import_case("petstore-expanded.yaml"), |options| {
            options.seed = Some(seed);
        });
        let response = app.get("/pets?limit=20").await;
        assert_eq!(response.status(), 200);
        json(response).await
    };
    let (first, again, second) = (pets(1).await, pets(1).await, pets(2).await);
    assert!(
        first.as_array().is_some_and(|pets| !pets.is_empty()),
        "{first}"
    );
    assert_eq!(first, again, "the same seed gives the same records");
    assert_ne!(first, second, "another seed gives other records");
}

#[tokio::test]
async fn the_documents_examples_that_fit_are_seed_records() {
    // train-travel's list and read of bookings show John Doe's and Jane
    // Smith's bookings; the other eight seed records are generated.
    let travel = spawn(&import_case("train-travel.yaml"));
    let list = travel
        .request(Method::GET, "/bookings")
        .header("Authorization", "Bearer any")
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 200);
    let bookings = json(list).await["data"].as_array().unwrap().clone();
    assert_eq!(bookings.len(), 10);
    let passengers: Vec<&str> = bookings
        .iter()
        .filter_map(|booking| booking["passenger_name"].as_str())
        .collect();
    assert!(passengers.contains(&"John Doe"), "{passengers:?}");
    assert!(passengers.contains(&"Jane Smith"), "{passengers:?}");
    // The read example is the list's first booking: one record, with the example's id.
    assert_eq!(
        passengers
            .iter()
            .filter(|name| **name == "John Doe")
            .count(),
        1
    );
    let john = travel
        .request(
            Method::GET,
            "/bookings/efdbb9d1-02c2-4bc3-afb7-6788d8782b1e",
        )
        .header("Authorization", "Bearer any")
        .send()
        .await
        .unwrap();
    assert_eq!(john.status(), 200);
    let john = json(john).await;
    assert_eq!(john["passenger_name"], "John Doe");
    assert_eq!(john["has_dog"], true);
    // Jane's example leaves out `links`, an object the document never lets be null.
    let jane = travel
        .request(
            Method::GET,
            "/bookings/b2e783e1-c824-4d63-b37a-d8d698862f1d",
        )
        .header("Authorization", "Bearer any")
        .send()
        .await
        .unwrap();
    let jane = json(jane).await;
    assert_eq!(jane["passenger_name"], "Jane Smith");
    assert!(jane.get("links").is_none(), "{jane}");
}

#[tokio::test]
async fn a_missing_item_is_refused_below_it_only_where_the_document_says_how() {
    // `POST /bookings/{bookingId}/payment` declares 200 and 400, no 404.
    let travel = spawn(&import_case("train-travel.yaml"));
    let payment = json!({
        "amount": 49.99,
        "currency": "gbp",
        "source": {
            "object": "card", "name": "J. Doe", "number": "4242424242424242",
            "cvc": "123", "exp_month": 12, "exp_year": 2025, "address_country": "gb"
        }
    });
    let response = travel
        .request(
            Method::POST,
            "/bookings/00000000-0000-4000-8000-000000000000/payment",
        )
        .header("Authorization", "Bearer any")
        .json(&payment)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(json(response).await["amount"].is_number());
    // `POST /pet/{petId}/uploadImage` declares 404 "Pet not found".
    let petstore = spawn(&import_case("swagger-petstore-v3.yaml"));
    let upload = |id: u32| {
        petstore
            .request(Method::POST, &format!("/pet/{id}/uploadImage"))
            .header("Authorization", "Bearer any")
            .header("content-type", "application/octet-stream")
            .body("image bytes")
            .send()
    };
    assert_eq!(upload(999_999).await.unwrap().status(), 404);
    assert_eq!(upload(1).await.unwrap().status(), 200);
}

#[tokio::test]
async fn the_imported_spec_is_a_standin_spec_that_serves() {
    let directory = tempfile::tempdir().unwrap();
    let import = |name: &str| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_standin"))
            .arg("import")
            .arg(format!(
                "{}/tests/import-cases/openapi/{name}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        (
            output.status.success(),
            String::from_utf8(output.stdout).unwrap(),
            stderr,
        )
    };
    for name in [
        "petstore-expanded.yaml",
        "swagger-petstore-v3.yaml",
        "train-travel.yaml",
        "realworld-conduit.yaml",
    ] {
        let (success, yaml, stderr) = import(name);
        assert!(success, "{name}: {stderr}");
        let path = directory.path().join(name);
        std::fs::write(&path, &yaml).unwrap();
        let check = std::process::Command::new(env!("CARGO_BIN_EXE_standin"))
            .arg("check")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "{name}: {}\n{yaml}",
            String::from_utf8_lossy(&check.stderr)
        );
        let spec = standin::parse("spec.yaml", &yaml).unwrap();
        assert_eq!(spec.kind(), standin::SpecKind::Standin, "{name}");
    }
    // What a spec cannot say is warned about, with its place.
    let (_, _, stderr) = import("train-travel.yaml");
    assert!(
        stderr.contains(
            "warning at /paths/~1bookings~1{bookingId}~1payment/post: POST /bookings/{bookingId}/payment is not an operation on a resource"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("security requirements are left out"),
        "{stderr}"
    );
    // A document without resources has nothing to import.
    let (success, _, stderr) = import("uspto.yaml");
    assert!(!success);
    assert!(stderr.contains("no resource is inferred"), "{stderr}");
    // The spec serves the document's resources, their records and base path.
    let (_, yaml, _) = import("swagger-petstore-v3.yaml");
    let app = spawn(&yaml);
    assert!(app.url("/pet").ends_with("/api/v3/pet"));
    let pets = json(app.get("/pet").await).await;
    assert_eq!(pets.as_array().map(Vec::len), Some(10), "{pets}");
    let created = app
        .post("/pet", json!({"name": "Rex", "photoUrls": []}))
        .await;
    assert_eq!(created.status(), 201);
}

#[tokio::test]
async fn xml_and_form_bodies_are_read_as_the_schema_says() {
    let app = spawn(&import_case("swagger-petstore-v3.yaml"));
    let xml = app
        .request(Method::POST, "/user")
        .header("content-type", "application/xml")
        .body("<user><username>ada</username><userStatus>2</userStatus></user>")
        .send()
        .await
        .unwrap();
    assert_eq!(xml.status(), 200);
    let user = json(xml).await;
    assert_eq!(
        (user["username"].as_str(), user["userStatus"].as_i64()),
        (Some("ada"), Some(2))
    );
    let form = app
        .request(Method::POST, "/store/order")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("petId=3&quantity=2&complete=true")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 200);
    let order = json(form).await;
    assert_eq!(
        (order["quantity"].as_i64(), order["complete"].as_bool()),
        (Some(2), Some(true))
    );
    let broken = app
        .request(Method::POST, "/user")
        .header("content-type", "application/xml")
        .body("<user><username>ada</user>")
        .send()
        .await
        .unwrap();
    assert_eq!(broken.status(), 400);
    // A wrapped array's element holding text, or other elements, holds no array.
    for tags in ["<tags>AAA</tags>", "<tags><id>1</id></tags>"] {
        let pet = app
            .request(Method::POST, "/pet")
            .header("authorization", "Bearer any")
            .header("content-type", "application/xml")
            .body(format!(
                "<pet><name>Rex</name><photoUrls></photoUrls>{tags}</pet>"
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(pet.status(), 400, "{tags}");
    }
    let pet = app
        .request(Method::POST, "/pet")
        .header("authorization", "Bearer any")
        .header("content-type", "application/xml")
        .body("<pet><name>Rex</name><photoUrls></photoUrls><tags></tags></pet>")
        .send()
        .await
        .unwrap();
    assert_eq!(pet.status(), 200);
    assert_eq!(json(pet).await["tags"], json!([]));
}

#[tokio::test]
async fn a_key_no_item_path_can_name_is_still_a_key_and_the_empty_one_ends_in_a_slash() {
    let app = spawn(&import_case("swagger-petstore-v3.yaml"));
    for username in ["", ".."] {
        let created = app
            .post("/user", json!({"username": username, "firstName": "Ada"}))
            .await;
        assert_eq!(created.status(), 200, "{username:?}");
        assert!(created.headers().get("location").is_none(), "{username:?}");
        assert_eq!(json(created).await["username"], json!(username));
        let again = app.post("/user", json!({"username": username})).await;
        assert_eq!(again.status(), 409, "{username:?}");
    }
    let named = app.post("/user", json!({"username": "ada"})).await;
    assert_eq!(named.headers().get("location").unwrap(), "/api/v3/user/ada");
    // `/user/` is `/user/{username}` with the name empty (`/user` itself
    // has only POST): the user named "".
    let empty = app.get("/user/").await;
    assert_eq!(empty.status(), 200);
    assert_eq!(json(empty).await["firstName"], json!("Ada"));
    let replaced = app
        .request(Method::PUT, "/user/")
        .json(&json!({"username": "", "firstName": "Bea"}))
        .send()
        .await
        .unwrap();
    assert_eq!(replaced.status(), 200);
    assert_eq!(
        json(app.get("/user/").await).await["firstName"],
        json!("Bea")
    );
    let deleted = app.request(Method::DELETE, "/user/").send().await.unwrap();
    assert!(deleted.status().is_success(), "{}", deleted.status());
    assert_eq!(app.get("/user/").await.status(), 404);
    let put = app.request(Method::PUT, "/user").send().await.unwrap();
    assert_eq!(put.status(), 405, "without the slash, /user has no PUT");
}

#[test]
fn check_prints_what_was_inferred() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_standin"))
        .args([
            "check",
            "tests/import-cases/openapi/swagger-petstore-v3.yaml",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("resource user (id: username"), "{stdout}");
    assert!(
        stdout.contains("GET /api/v3/pet/findByStatus  (list)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("served from examples and schemas:\n  POST /api/v3/pet/{petId}\n"),
        "{stdout}"
    );
}

/// The import cases schemathesis finds no failure in, run with the document
/// itself as the schema, each with the credential headers its security needs
/// (how, and what tests/schemathesis/ leaves out and why, is in docs/importing.md).
const CONFORMING_CASES: &[(&str, &[&str])] = &[
    ("petstore-expanded.yaml", &[]),
    ("uspto.yaml", &[]),
    ("realworld-conduit.yaml", &["Authorization: Token standin"]),
    ("train-travel.yaml", &["Authorization: Bearer standin"]),
    (
        "swagger-petstore-v3.yaml",
        &["Authorization: Bearer standin", "api_key: standin"],
    ),
];

/// Runs every check of schemathesis (tests/schemathesis/import.toml enables
/// them all) with seed 1, or the seed in `STANDIN_SCHEMATHESIS_SEED`.
#[tokio::test]
#[ignore = "needs schemathesis from PyPI (.ci/run installs it)"]
async fn served_documents_conform_to_themselves_per_schemathesis() {
    let seed = std::env::var("STANDIN_SCHEMATHESIS_SEED").unwrap_or_else(|_| "1".into());
    for (case, headers) in CONFORMING_CASES {
        let app = spawn_with_options(&import_case(case), |options| {
            options.credentials = vec!["standin".into()];
        });
        let base = app.url("");
        let document = format!(
            "{}/tests/import-cases/openapi/{case}",
            env!("CARGO_MANIFEST_DIR")
        );
        let config = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/schemathesis/import.toml"
        );
        let hooks = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/schemathesis/import_hooks.py"
        );
        let run_seed = seed.clone();
        let output = tokio::task::spawn_blocking(move || {
            let mut command = std::process::Command::new("st");
            command.env("SCHEMATHESIS_HOOKS", hooks).args([
                "--config-file",
                config,
                "run",
                &document,
                "--url",
                &base,
            ]);
            for header in *headers {
                command.args(["-H", header]);
            }
            command
                .args(["--max-time", "40", "--seed", &run_seed, "--workers", "1"])
                .output()
                .expect("schemathesis runs")
        })
        .await
        .unwrap();
        assert!(
            output.status.success(),
            "{case}: schemathesis found failures (seed {seed}):\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[tokio::test]
async fn an_edited_document_is_reloaded() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("openapi.yaml");
    let original = import_case("petstore-expanded.yaml");
    std::fs::write(&path, &original).unwrap();
    let options = standin::Options {
        watch: true,
        workers: Some(1),
        ..standin::Options::default()
    };
    let server =
        standin::Server::start_with(standin::SpecFile::load(&path).unwrap(), options).unwrap();
    let url = |path: &str| format!("{}{path}", server.url());
    assert_eq!(reqwest::get(url("/pets")).await.unwrap().status(), 200);
    let temporary = path.with_extension("swp");
    std::fs::write(&temporary, original.replace("/pets", "/animals")).unwrap();
    std::fs::rename(&temporary, &path).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while reqwest::get(url("/animals")).await.unwrap().status() != 200 {
        assert!(std::time::Instant::now() < deadline, "never reloaded");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let animals = json(reqwest::get(url("/animals")).await.unwrap()).await;
    assert_eq!(animals.as_array().unwrap().len(), 10);
    assert_eq!(reqwest::get(url("/pets")).await.unwrap().status(), 404);
}

#[tokio::test]
async fn referenced_files_are_read_and_watched() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("openapi.yaml");
    let document = import_case("petstore-expanded.yaml").replace(
        "    NewPet:\n      type: object\n      required:\n        - name  \n      properties:\n        name:\n          type: string\n        tag:\n          type: string    \n",
        "    NewPet:\n      $ref: './schemas/new-pet.yaml'\n",
    );
    assert!(
        document.contains("new-pet.yaml"),
        "the variant references a file"
    );
    std::fs::write(&path, document).unwrap();
    std::fs::create_dir(directory.path().join("schemas")).unwrap();
    let schema = directory.path().join("schemas/new-pet.yaml");
    let new_pet = "type: object\nrequired: [name]\nproperties:\n  name: { type: string }\n  tag: { type: string }\n";
    std::fs::write(&schema, new_pet).unwrap();
    let options = standin::Options {
        watch: true,
        workers: Some(1),
        ..standin::Options::default()
    };
    let server =
        standin::Server::start_with(standin::SpecFile::load(&path).unwrap(), options).unwrap();
    let client = reqwest::Client::new();
    let create = || {
        client
            .post(format!("{}/pets", server.url()))
            .json(&json!({"name": "Rex"}))
            .send()
    };
    assert_eq!(create().await.unwrap().status(), 200);
    let temporary = schema.with_extension("swp");
    std::fs::write(&temporary, new_pet.replace("[name]", "[name, age]")).unwrap();
    std::fs::rename(&temporary, &schema).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while create().await.unwrap().status() != 400 {
        assert!(
            std::time::Instant::now() < deadline,
            "the referenced file's change never reloaded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A document written for this test: an envelope list with page, per_page and sort.
const BOOKS: &str = r##"
openapi: 3.1.0
info: { title: Books, version: "1" }
servers: [{ url: "http://localhost/api" }]
paths:
  /books:
    get:
      parameters:
        - { name: page, in: query, schema: { type: integer, minimum: 1 } }
        - { name: per_page, in: query, schema: { type: integer, default: 2 } }
        - { name: sort, in: query, schema: { type: string } }
      responses:
        "200":
          description: a page
          content:
            application/json:
              schema:
                type: object
                required: [data, total]
                properties:
                  data: { type: array, items: { $ref: "#/components/schemas/Book" } }
                  total: { type: integer }
                  page: { type: integer }
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema: { $ref: "#/components/schemas/Book" }
      responses:
        "201":
          description: created
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Book" }
  /books/{id}:
    get:
      parameters: [{ name: id, in: path, required: true, schema: { type: integer } }]
      responses:
        "200":
          description: a book
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Book" }
components:
  schemas:
    Book:
      type: object
      required: [title, year]
      properties:
        id: { type: integer, readOnly: true }
        title: { type: string, minLength: 1 }
        year: { type: integer, minimum: 1450, maximum: 2100 }
"##;

#[tokio::test]
async fn an_envelope_is_filled_from_the_store_with_its_page_and_order() {
    let app = spawn(BOOKS);
    let first = json(app.get("/books").await).await;
    assert_eq!(first["total"], 10, "{first}");
    assert_eq!(first["page"], 1);
    assert_eq!(
        first["data"].as_array().unwrap().len(),
        2,
        "per_page's default"
    );
    let created = app
        .post("/books", json!({"title": "Dune", "year": 1965}))
        .await;
    assert_eq!(created.status(), 201, "the declared 201");
    let page = json(app.get("/books?page=2&per_page=3&sort=-year").await).await;
    assert_eq!(page["total"], 11);
    assert_eq!(page["page"], 2);
    let years: Vec<i64> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|book| book["year"].as_i64().unwrap())
        .collect();
    assert_eq!(years.len(), 3);
    assert!(years.windows(2).all(|pair| pair[0] >= pair[1]), "{years:?}");
    let everything = json(app.get("/books?per_page=100&sort=-year").await).await;
    let all: Vec<i64> = everything["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|book| book["year"].as_i64().unwrap())
        .collect();
    assert_eq!(
        &all[3..6],
        years.as_slice(),
        "page 2 of 3 is the 4th to 6th"
    );
}

/// A document written for this test: an operation with named examples.
const SEARCH: &str = r##"
openapi: 3.0.3
info: { title: Search, version: "1" }
paths:
  /search:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema: { type: object, required: [q], properties: { q: { type: string } } }
      responses:
        "200":
          description: hits
          content:
            application/json:
              schema: { type: array, items: { type: string } }
              examples:
                few: { value: [dune] }
                none: { value: [] }
        "404":
          description: nothing
          content:
            application/json:
              schema: { type: object, required: [message], properties: { message: { type: string } } }
"##;

#[tokio::test]
async fn other_operations_validate_then_answer_the_example_asked_for() {
    let app = spawn(SEARCH);
    let search = |prefer: &'static str| {
        app.request(Method::POST, "/search")
            .header("prefer", prefer)
            .json(&json!({"q": "dune"}))
            .send()
    };
    assert_eq!(
        json(app.post("/search", json!({"q": "x"})).await).await,
        json!(["dune"])
    );
    assert_eq!(json(search("example=none").await.unwrap()).await, json!([]));
    let missing = search("code=404").await.unwrap();
    assert_eq!(missing.status(), 404);
    assert!(json(missing).await["message"].is_string());
    // Refused; the document declares no 400 or 422, so its own refusal (404) answers.
    let invalid = app.post("/search", json!({"query": "x"})).await;
    assert_eq!(invalid.status(), 404);
    let message = json(invalid).await["message"].as_str().unwrap().to_string();
    assert!(message.contains("invalid field: q"), "{message}");
}

#[tokio::test]
async fn comments_nested_in_an_article_are_stored_with_it() {
    let app = spawn(&import_case("realworld-conduit.yaml"));
    let with_token = |method: Method, path: &str| {
        app.request(method, path)
            .header("authorization", "Token standin")
    };
    let article = with_token(Method::POST, "/articles")
        .json(&json!({"article": {"title": "Dune", "description": "sand", "body": "spice"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(article.status(), 201);
    let slug = json(article).await["article"]["slug"]
        .as_str()
        .unwrap()
        .to_string();
    let comments = format!("/articles/{slug}/comments");
    let fresh = json(app.get(&comments).await).await;
    assert_eq!(fresh, json!({"comments": []}), "a new article has none");
    let mut ids = Vec::new();
    for text in ["first", "second"] {
        let created = with_token(Method::POST, &comments)
            .json(&json!({"comment": {"body": text}}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 200, "the document declares 200");
        let comment = json(created).await["comment"].clone();
        assert_eq!(comment["body"], text);
        assert!(comment["author"].is_object() && comment["createdAt"].is_string());
        assert!(
            comment.get("slug").is_none(),
            "the reference to the article is standin's own: {comment}"
        );
        ids.push(comment["id"].as_i64().unwrap());
    }
    let listed = json(app.get(&comments).await).await;
    let bodies: Vec<&str> = listed["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|comment| comment["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["first", "second"], "only this article's: {listed}");
    // Another article's comments are not these, and these cannot be deleted through it.
    // The new article's slug is random, so it may be listed first.
    let listed = json(app.get("/articles?limit=2").await).await;
    let other = listed["articles"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|article| article["slug"].as_str())
        .find(|other| *other != slug)
        .unwrap()
        .to_string();
    let others = json(app.get(&format!("/articles/{other}/comments")).await).await;
    assert!(
        others["comments"]
            .as_array()
            .unwrap()
            .iter()
            .all(|comment| !ids.contains(&comment["id"].as_i64().unwrap())),
        "{others}"
    );
    let elsewhere = with_token(
        Method::DELETE,
        &format!("/articles/{other}/comments/{}", ids[0]),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(elsewhere.status(), 422, "not this article's comment");
    let deleted = with_token(Method::DELETE, &format!("{comments}/{}", ids[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let left = json(app.get(&comments).await).await;
    assert_eq!(left["comments"].as_array().unwrap().len(), 1, "{left}");
    assert_eq!(left["comments"][0]["id"], ids[1]);
    // A missing article: the document's generic error (it declares no 404).
    let missing = app
        .get("/articles/00000000-0000-4000-8000-000000000000/comments")
        .await;
    assert_eq!(missing.status(), 422);
    assert!(json(missing).await["errors"]["body"].is_array());
    // Deleting the article deletes its comments.
    let gone = with_token(Method::DELETE, &format!("/articles/{slug}"))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 204);
    assert_eq!(app.get(&comments).await.status(), 422);
}

/// A document written for this test: orders nested in users, whose items
/// carry the user's id.
const SHOP: &str = r##"
openapi: 3.0.3
info: { title: Shop, version: "1" }
paths:
  /users:
    get:
      responses:
        "200":
          description: users
          content:
            application/json:
              schema: { type: array, items: { $ref: "#/components/schemas/User" } }
  /users/{id}:
    parameters: [{ name: id, in: path, required: true, schema: { type: integer } }]
    get:
      responses:
        "200":
          description: a user
          content:
            application/json:
              schema: { $ref: "#/components/schemas/User" }
        "404": { $ref: "#/components/responses/NotFound" }
    delete:
      responses:
        "204": { description: deleted }
        "404": { $ref: "#/components/responses/NotFound" }
  /orders/recent:
    get:
      responses:
        "200":
          description: orders of every user, from the document
          content:
            application/json:
              schema: { type: array, items: { $ref: "#/components/schemas/Order" } }
  /users/{userId}/orders:
    parameters: [{ name: userId, in: path, required: true, schema: { type: integer } }]
    get:
      responses:
        "200":
          description: the user's orders
          content:
            application/json:
              schema: { type: array, items: { $ref: "#/components/schemas/Order" } }
        "404": { $ref: "#/components/responses/NotFound" }
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema: { $ref: "#/components/schemas/Order" }
      responses:
        "201":
          description: created
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Order" }
        "404": { $ref: "#/components/responses/NotFound" }
  /users/{userId}/orders/{orderId}:
    parameters:
      - { name: userId, in: path, required: true, schema: { type: integer } }
      - { name: orderId, in: path, required: true, schema: { type: integer } }
    get:
      responses:
        "200":
          description: an order
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Order" }
        "404": { $ref: "#/components/responses/NotFound" }
    patch:
      requestBody:
        required: true
        content:
          application/json:
            schema: { type: object, properties: { item: { type: string }, userId: { type: integer } } }
      responses:
        "200":
          description: changed
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Order" }
        "404": { $ref: "#/components/responses/NotFound" }
    delete:
      responses:
        "204": { description: deleted }
        "404": { $ref: "#/components/responses/NotFound" }
components:
  responses:
    NotFound:
      description: not found
      content:
        application/json:
          schema:
            type: object
            required: [error]
            properties: { error: { type: string } }
  schemas:
    User:
      type: object
      required: [id, name]
      properties:
        id: { type: integer }
        name: { type: string }
    Order:
      type: object
      required: [item]
      properties:
        id: { type: integer, readOnly: true }
        userId: { type: integer, readOnly: true }
        item: { type: string, minLength: 1 }
"##;

#[tokio::test]
async fn a_nested_collection_is_its_parents_records_of_another_resource() {
    let app = spawn(SHOP);
    let seeded = json(app.get("/users/2/orders").await).await;
    assert!(
        seeded
            .as_array()
            .unwrap()
            .iter()
            .all(|order| order["userId"] == 2),
        "seeded orders are shared out among users: {seeded}"
    );
    let created = app
        .post("/users/3/orders", json!({"item": "tea", "userId": 7}))
        .await;
    assert_eq!(created.status(), 201);
    let order = json(created).await;
    let id = order["id"].as_i64().unwrap();
    assert_eq!(order["userId"], 3, "the path's user, not the body's");
    let created_again = app.post("/users/3/orders", json!({"item": "jam"})).await;
    assert_eq!(
        header(&created_again, "location").unwrap(),
        format!("/users/3/orders/{}", id + 1)
    );
    let listed = json(app.get("/users/3/orders").await).await;
    let listed = listed.as_array().unwrap();
    assert!(listed.iter().all(|order| order["userId"] == 3));
    assert!(listed.iter().any(|order| order["id"] == id));
    assert_eq!(
        json(app.get(&format!("/users/3/orders/{id}")).await).await,
        order
    );
    assert_eq!(
        app.get(&format!("/users/2/orders/{id}")).await.status(),
        404
    );
    let moved = app
        .send_json(
            Method::PATCH,
            &format!("/users/3/orders/{id}"),
            json!({"item": "coffee", "userId": 2}),
        )
        .await;
    assert_eq!(moved.status(), 200);
    assert_eq!(
        json(moved).await,
        json!({"id": id, "userId": 3, "item": "coffee"}),
        "an order stays with the user its path names"
    );
    let recent = app.get("/orders/recent").await;
    assert_eq!(
        recent.status(),
        200,
        "not a list of one user's orders: answered from the document"
    );
    let missing = app.get("/users/99/orders").await;
    assert_eq!(missing.status(), 404);
    assert!(
        json(missing).await["error"].is_string(),
        "the declared shape"
    );
    assert_eq!(
        app.post("/users/99/orders", json!({"item": "tea"}))
            .await
            .status(),
        404
    );
    let deleted = app
        .request(Method::DELETE, &format!("/users/3/orders/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(
        app.get(&format!("/users/3/orders/{id}")).await.status(),
        404
    );
}

/// A document written for this test: one list paged by a cursor in its
/// envelope, the same records listed by a cursor in a `Link` header.
const EVENTS: &str = r##"
openapi: 3.1.0
info: { title: Events, version: "1" }
paths:
  /events:
    get:
      parameters:
        - { name: limit, in: query, schema: { type: integer, default: 4 } }
        - { name: cursor, in: query, schema: { type: string } }
      responses:
        "200":
          description: a page
          content:
            application/json:
              schema:
                type: object
                required: [data, has_more, next_cursor]
                properties:
                  data: { type: array, items: { $ref: "#/components/schemas/Event" } }
                  has_more: { type: boolean }
                  next_cursor: { type: [string, "null"] }
        "400":
          description: refused
          content:
            application/json:
              schema: { type: object, required: [message], properties: { message: { type: string } } }
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema: { $ref: "#/components/schemas/Event" }
      responses:
        "201":
          description: created
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Event" }
  /events/{id}:
    get:
      parameters: [{ name: id, in: path, required: true, schema: { type: integer } }]
      responses:
        "200":
          description: an event
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Event" }
  /feed:
    get:
      parameters:
        - { name: limit, in: query, schema: { type: integer, default: 6 } }
        - { name: after, in: query, schema: { type: string } }
      responses:
        "200":
          description: a page, the next one linked
          headers:
            Link: { schema: { type: string } }
          content:
            application/json:
              schema: { type: array, items: { $ref: "#/components/schemas/Event" } }
components:
  schemas:
    Event:
      type: object
      required: [name]
      properties:
        id: { type: integer, readOnly: true }
        name: { type: string, minLength: 1 }
"##;

#[tokio::test]
async fn a_cursor_in_the_envelope_pages_through_the_store() {
    let app = spawn(EVENTS);
    for number in 0..2 {
        let created = app
            .post("/events", json!({"name": format!("extra {number}")}))
            .await;
        assert_eq!(created.status(), 201);
    }
    let mut seen = Vec::new();
    let mut path = "/events?limit=5".to_string();
    let mut pages = 0;
    loop {
        let page = json(app.get(&path).await).await;
        pages += 1;
        for event in page["data"].as_array().unwrap() {
            seen.push(event["id"].as_i64().unwrap());
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                assert_eq!(page["has_more"], true, "{page}");
                assert!(
                    !cursor.chars().all(|c| c.is_ascii_digit()),
                    "the cursor is opaque: {cursor}"
                );
                path = format!("/events?limit=5&cursor={cursor}");
            }
            None => {
                assert_eq!(page["has_more"], false, "{page}");
                assert!(page["next_cursor"].is_null(), "declared nullable: {page}");
                break;
            }
        }
        assert!(pages < 10, "the cursors never ended: {seen:?}");
    }
    assert_eq!(pages, 3, "12 records, 5 a page");
    assert_eq!(
        seen,
        (1..=12).collect::<Vec<_>>(),
        "every record once, in order"
    );
    let forged = app.get("/events?cursor=page-2").await;
    assert_eq!(forged.status(), 400);
    let message = json(forged).await["message"].as_str().unwrap().to_string();
    assert!(message.contains("cursor"), "{message}");
}

#[tokio::test]
async fn a_cursor_in_a_declared_link_header_leads_to_the_next_page() {
    let app = spawn(EVENTS);
    let first = app.get("/feed").await;
    let link = header(&first, "link").expect("the declared Link header");
    let first = json(first).await;
    assert_eq!(first.as_array().unwrap().len(), 6);
    let next = link
        .strip_prefix('<')
        .and_then(|rest| rest.strip_suffix(">; rel=\"next\""))
        .unwrap_or_else(|| panic!("a next link: {link}"));
    assert!(
        next.starts_with("/feed?") && next.contains("after="),
        "{next}"
    );
    // The document declares no servers: paths are the API's own.
    let second = app.get(next).await;
    assert!(
        header(&second, "link").is_none(),
        "the last page links to no next one"
    );
    let ids: Vec<i64> = json(second)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, (7..=10).collect::<Vec<_>>());
}

/// A document written for this test: tasks nested in projects nested in teams.
const TEAMS: &str = r##"
openapi: 3.0.3
info: { title: Teams, version: "1" }
paths:
  /teams:
    get:
      responses:
        "200": { description: teams, content: { application/json: { schema: { type: array, items: { $ref: "#/components/schemas/Named" } } } } }
  /teams/{teamId}:
    get:
      parameters: [{ name: teamId, in: path, required: true, schema: { type: integer } }]
      responses:
        "200": { description: a team, content: { application/json: { schema: { $ref: "#/components/schemas/Named" } } } }
  /teams/{teamId}/projects:
    get:
      parameters: [{ name: teamId, in: path, required: true, schema: { type: integer } }]
      responses:
        "200": { description: projects, content: { application/json: { schema: { type: array, items: { $ref: "#/components/schemas/Named" } } } } }
  /teams/{teamId}/projects/{projectId}:
    get:
      parameters:
        - { name: teamId, in: path, required: true, schema: { type: integer } }
        - { name: projectId, in: path, required: true, schema: { type: integer } }
      responses:
        "200": { description: a project, content: { application/json: { schema: { $ref: "#/components/schemas/Named" } } } }
  /teams/{teamId}/projects/{projectId}/tasks:
    parameters:
      - { name: teamId, in: path, required: true, schema: { type: integer } }
      - { name: projectId, in: path, required: true, schema: { type: integer } }
    get:
      responses:
        "200": { description: tasks, content: { application/json: { schema: { type: array, items: { $ref: "#/components/schemas/Named" } } } } }
        "404": { description: no such project }
    post:
      requestBody: { required: true, content: { application/json: { schema: { $ref: "#/components/schemas/Named" } } } }
      responses:
        "201": { description: created, content: { application/json: { schema: { $ref: "#/components/schemas/Named" } } } }
        "404": { description: no such project }
  /teams/{teamId}/projects/{projectId}/tasks/{taskId}:
    get:
      parameters:
        - { name: teamId, in: path, required: true, schema: { type: integer } }
        - { name: projectId, in: path, required: true, schema: { type: integer } }
        - { name: taskId, in: path, required: true, schema: { type: integer } }
      responses:
        "200": { description: a task, content: { application/json: { schema: { $ref: "#/components/schemas/Named" } } } }
        "404": { description: no such task }
components:
  schemas:
    Named:
      type: object
      required: [name]
      properties:
        id: { type: integer, readOnly: true }
        name: { type: string, minLength: 1 }
"##;

#[tokio::test]
async fn collections_nest_in_nested_collections() {
    let app = spawn(TEAMS);
    // Seeded projects are shared out among teams in turn: project 1 is team 1's.
    assert_eq!(app.get("/teams/1/projects/1").await.status(), 200);
    assert_eq!(app.get("/teams/2/projects/1").await.status(), 404);
    let created = app
        .post("/teams/1/projects/1/tasks", json!({"name": "plan"}))
        .await;
    assert_eq!(created.status(), 201);
    let task = json(created).await;
    let id = task["id"].as_i64().unwrap();
    let tasks = json(app.get("/teams/1/projects/1/tasks").await).await;
    assert!(tasks.as_array().unwrap().contains(&task), "{tasks}");
    assert_eq!(
        app.get(&format!("/teams/1/projects/1/tasks/{id}"))
            .await
            .status(),
        200
    );
    for wrong in [
        "/teams/2/projects/1/tasks".to_string(),
        format!("/teams/2/projects/1/tasks/{id}"),
        format!("/teams/1/projects/2/tasks/{id}"),
    ] {
        assert_eq!(app.get(&wrong).await.status(), 404, "{wrong}");
    }
}

const PETS_BY_KIND: &str = r##"
openapi: 3.0.3
info: { title: Pets by kind, version: "1" }
paths:
  /pets:
    get:
      responses:
        "200":
          description: pets
          content:
            application/json:
              schema: { type: array, items: { $ref: "#/components/schemas/Pet" } }
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema: { $ref: "#/components/schemas/Pet" }
      responses:
        "201":
          description: created
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Pet" }
        "400": { description: refused }
  /pets/{id}:
    parameters: [{ name: id, in: path, required: true, schema: { type: integer } }]
    get:
      responses:
        "200":
          description: a pet
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Pet" }
        "404": { description: not found }
components:
  schemas:
    Pet:
      oneOf: [{ $ref: "#/components/schemas/Cat" }, { $ref: "#/components/schemas/Dog" }]
      discriminator: { propertyName: kind, mapping: { dog: "#/components/schemas/Dog" } }
    Cat:
      type: object
      required: [kind, lives]
      properties:
        id: { type: integer, readOnly: true }
        kind: { type: string }
        lives: { type: integer, minimum: 1, maximum: 9 }
    Dog:
      type: object
      required: [kind, barks]
      properties:
        id: { type: integer, readOnly: true }
        kind: { type: string }
        barks: { type: boolean }
"##;

#[tokio::test]
async fn a_discriminator_decides_which_branch_a_body_must_match() {
    let app = spawn(PETS_BY_KIND);
    // Seed records are generated from the first branch, and say so.
    let seeded = json(app.get("/pets").await).await;
    let seeded = seeded.as_array().unwrap();
    assert!(!seeded.is_empty());
    assert!(seeded.iter().all(|pet| pet["kind"] == "Cat"), "{seeded:?}");
    // A dog that barks is a dog, though it would pass for a cat as well.
    let dog = app
        .post("/pets", json!({"kind": "dog", "barks": true, "lives": 3}))
        .await;
    assert_eq!(dog.status(), 201);
    // Valid as a cat, but it says it is a dog, and dogs bark.
    let not_a_dog = app.post("/pets", json!({"kind": "dog", "lives": 3})).await;
    assert_eq!(not_a_dog.status(), 400);
    let unknown = app.post("/pets", json!({"kind": "Fish", "lives": 1})).await;
    assert_eq!(unknown.status(), 400);
}

#[tokio::test]
async fn a_nested_collections_page_links_each_item_below_its_parent() {
    let app = spawn(SHOP);
    let orders = json(app.get("/users/2/orders").await).await;
    let first = orders.as_array().unwrap()[0]["id"].as_i64().unwrap();
    let page = app
        .request(Method::GET, "/users/2/orders")
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let href = format!("href=\"/users/2/orders/{first}\"");
    assert!(html.contains(&href), "{href} in {html}");
    let item = app
        .request(Method::GET, &format!("/users/2/orders/{first}"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(item.status(), 200);
}

/// A document written for this test: a user's orders are listed and
/// created below the user, with no path for one order.
const ORDERS_WITHOUT_ITEMS: &str = r##"
openapi: 3.0.3
info: { title: Orders, version: "1" }
paths:
  /users:
    get:
      responses:
        "200":
          description: users
          content:
            application/json:
              schema: { type: array, items: { $ref: "#/components/schemas/User" } }
  /users/{id}:
    parameters: [{ name: id, in: path, required: true, schema: { type: integer } }]
    get:
      responses:
        "200":
          description: a user
          content:
            application/json:
              schema: { $ref: "#/components/schemas/User" }
        "404": { description: no such user }
    delete:
      responses:
        "204": { description: deleted }
        "404": { description: no such user }
  /users/{userId}/orders:
    parameters: [{ name: userId, in: path, required: true, schema: { type: integer } }]
    get:
      responses:
        "200":
          description: the user's orders
          content:
            application/json:
              schema: { type: array, items: { $ref: "#/components/schemas/Order" } }
        "404": { description: no such user }
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema: { $ref: "#/components/schemas/Order" }
      responses:
        "201":
          description: created
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Order" }
        "404": { description: no such user }
components:
  schemas:
    User:
      type: object
      required: [id, name]
      properties:
        id: { type: integer }
        name: { type: string }
    Order:
      type: object
      required: [item]
      additionalProperties: false
      properties:
        orderId: { type: integer, readOnly: true }
        item: { type: string, minLength: 1 }
"##;

#[tokio::test]
async fn a_nested_collection_without_an_item_path_is_stored_with_its_parent() {
    let app = spawn(ORDERS_WITHOUT_ITEMS);
    let before = json(app.get("/users/3/orders").await).await;
    let before = before.as_array().unwrap().clone();
    assert!(
        before
            .iter()
            .all(|order| order["orderId"].is_i64() && order.as_object().unwrap().len() == 2),
        "stored orders in the document's shape, the user left out: {before:?}"
    );
    let created = app.post("/users/3/orders", json!({"item": "tea"})).await;
    assert_eq!(created.status(), 201);
    assert!(
        header(&created, "location").is_none(),
        "no path names one order"
    );
    let order = json(created).await;
    assert_eq!(order["item"], "tea");
    let listed = json(app.get("/users/3/orders").await).await;
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), before.len() + 1, "{listed:?}");
    assert!(listed.contains(&order));
    let others = json(app.get("/users/2/orders").await).await;
    assert!(
        !others.as_array().unwrap().contains(&order),
        "another user's orders are not this one's: {others}"
    );
    assert_eq!(
        app.post("/users/99/orders", json!({"item": "tea"}))
            .await
            .status(),
        404,
        "no order for a user who does not exist"
    );
    assert_eq!(app.get("/users/99/orders").await.status(), 404);
    let deleted = app
        .request(Method::DELETE, "/users/3")
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(app.get("/users/3/orders").await.status(), 404);
}

#[test]
fn check_shows_a_nested_collection_without_an_item_path() {
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("orders.yaml");
    std::fs::write(&file, ORDERS_WITHOUT_ITEMS).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_standin"))
        .arg("check")
        .arg(&file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains(
            "resource orders (id: orderId, Integer, 10 seeded records)\n  \
             GET /users/{userId}/orders  (list)\n  POST /users/{userId}/orders  (create)\n"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("nested in users: userId holds"), "{stdout}");
}

/// What `standin check` says of each real document in tests/import-cases:
/// the resources inferred and the operations answered from the document.
#[test]
fn the_import_cases_infer_their_resources() {
    let cases: &[(&str, &[&str])] = &[
        (
            "petstore-expanded.yaml",
            &["ok (1 resources)", "resource pets (id: id"],
        ),
        (
            "realworld-conduit.yaml",
            &[
                "ok (2 resources)",
                "resource articles (id: slug",
                "resource comments (id: id",
                "served from examples and schemas:\n  POST /api/users/login\n  POST /api/users\n  \
                 GET /api/user\n  PUT /api/user\n  GET /api/profiles/{username}\n  \
                 POST /api/profiles/{username}/follow\n  DELETE /api/profiles/{username}/follow\n  \
                 GET /api/articles/feed\n  POST /api/articles/{slug}/favorite\n  \
                 DELETE /api/articles/{slug}/favorite\n  GET /api/tags\n",
            ],
        ),
        (
            "swagger-petstore-v3.yaml",
            &[
                "ok (3 resources)",
                "resource pet (id: id",
                "resource order (id: id",
                "resource user (id: username",
            ],
        ),
        (
            "train-travel.yaml",
            &[
                "ok (1 resources)",
                "resource bookings (id: id",
                "served from examples and schemas:\n  GET /rest/Train+Travel+API/1.0.0/stations\n  \
                 GET /rest/Train+Travel+API/1.0.0/trips\n  \
                 POST /rest/Train+Travel+API/1.0.0/bookings/{bookingId}/payment\n",
            ],
        ),
        ("uspto.yaml", &["ok (0 resources)"]),
    ];
    for (name, expected) in cases {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_standin"))
            .arg("check")
            .arg(format!("tests/import-cases/openapi/{name}"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{name}: {stdout}");
        for text in *expected {
            assert!(stdout.contains(text), "{name} lacks {text:?}:\n{stdout}");
        }
    }
}
