//! Seeded data: fixed records first, then generated ones; deterministic for
//! a spec and seed; always within the fields' constraints.

use regex::Regex;
use serde_json::Value;

use crate::helpers::{Storage, TestApp, json, spawn, spawn_with};

const CONSTRAINED: &str = r#"
standin: 1
seed: 9
resources:
  people:
    fields:
      name: { type: string, required: true, maxLength: 12 }
      email: { type: string, format: email, unique: true }
      city: string
      website: { type: string, format: uri }
      code: { type: string, pattern: "^[A-Z]{3}-[0-9]{4}$", unique: true }
      age: { type: integer, minimum: 18, maximum: 30 }
      score: { type: number, minimum: 0.5, maximum: 1.5 }
      level: { type: string, enum: [junior, senior] }
      bio: { type: string, minLength: 40, maxLength: 60 }
      born_on: date
      seen_at: datetime
      tags: { type: array, items: { type: string, enum: [a, b] } }
      token: { type: string, format: uuid }
    records:
      - { name: Fixed, email: fixed@example.com, code: "FIX-0001" }
    count: 60
  pets:
    fields:
      owner: { ref: people, required: true }
      name: { type: string, fake: first_name }
    count: 40
"#;

async fn all(app: &TestApp, resource: &str) -> Vec<Value> {
    let body = json(app.get_json(&format!("/{resource}?per_page=100")).await).await;
    body.as_array().expect("a bare array").clone()
}

#[tokio::test]
async fn fixed_records_come_first_then_the_count() {
    let app = spawn(CONSTRAINED);
    let people = all(&app, "people").await;
    assert_eq!(people.len(), 61);
    assert_eq!(people[0]["name"], "Fixed");
    assert_eq!(people[0]["id"], 1);
}

#[tokio::test]
async fn the_same_spec_and_seed_give_identical_data() {
    for storage in Storage::BOTH {
        let first = spawn_with(CONSTRAINED, storage);
        let second = spawn_with(CONSTRAINED, storage);
        for path in ["/people?per_page=100", "/pets?per_page=100"] {
            let a = first.get_json(path).await.bytes().await.unwrap();
            let b = second.get_json(path).await.bytes().await.unwrap();
            assert_eq!(a, b, "{storage:?} {path}");
        }
    }
}

#[tokio::test]
async fn another_seed_gives_other_data() {
    let first = spawn(CONSTRAINED);
    let second = spawn(&CONSTRAINED.replace("seed: 9", "seed: 10"));
    assert_ne!(all(&first, "people").await, all(&second, "people").await);
}

#[tokio::test]
async fn generated_values_satisfy_the_constraints() {
    let app = spawn(CONSTRAINED);
    let people = all(&app, "people").await;
    let code = Regex::new("^[A-Z]{3}-[0-9]{4}$").unwrap();
    let uuid = Regex::new("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        .unwrap();
    let date = Regex::new(r"^\d{4}-\d{2}-\d{2}$").unwrap();
    let datetime = Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$").unwrap();
    for person in &people[1..] {
        let text = |field: &str| {
            person[field]
                .as_str()
                .unwrap_or_else(|| panic!("{field} in {person}"))
        };
        assert!(text("name").chars().count() <= 12, "{person}");
        assert!(text("email").contains('@'), "{person}");
        assert!(text("website").starts_with("https://"), "{person}");
        assert!(code.is_match(text("code")), "{person}");
        assert!(
            (18..=30).contains(&person["age"].as_i64().unwrap()),
            "{person}"
        );
        assert!(
            (0.5..=1.5).contains(&person["score"].as_f64().unwrap()),
            "{person}"
        );
        assert!(["junior", "senior"].contains(&text("level")), "{person}");
        assert!((40..=60).contains(&text("bio").chars().count()), "{person}");
        assert!(date.is_match(text("born_on")), "{person}");
        assert!(datetime.is_match(text("seen_at")), "{person}");
        assert!(uuid.is_match(text("token")), "{person}");
        for tag in person["tags"].as_array().unwrap() {
            assert!(tag == "a" || tag == "b", "{person}");
        }
    }
    let mut emails: Vec<&str> = people
        .iter()
        .map(|p| p["email"].as_str().unwrap())
        .collect();
    emails.sort();
    emails.dedup();
    assert_eq!(emails.len(), people.len(), "unique emails");
}

#[tokio::test]
async fn generated_references_point_at_existing_records() {
    let app = spawn(CONSTRAINED);
    for pet in all(&app, "pets").await {
        let owner = pet["owner"].as_i64().unwrap();
        assert!((1..=61).contains(&owner), "{pet}");
    }
}

#[tokio::test]
async fn names_pick_their_generators() {
    let app = spawn(CONSTRAINED);
    let people = all(&app, "people").await;
    let cities: Vec<&str> = people[1..]
        .iter()
        .map(|p| p["city"].as_str().unwrap())
        .collect();
    assert!(
        cities.iter().all(|city| !city.contains('.')),
        "cities are not sentences: {cities:?}"
    );
}

#[tokio::test]
async fn the_seed_option_overrides_the_spec() {
    let spec = standin::parse("x.yaml", CONSTRAINED).unwrap();
    let options = standin::Options {
        seed: Some(10),
        ..standin::Options::default()
    };
    let server = standin::Server::start(spec, options).unwrap();
    let by_option = reqwest::get(format!("{}/people/2", server.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let by_spec = spawn(&CONSTRAINED.replace("seed: 9", "seed: 10"));
    let expected = by_spec.get("/people/2").await.text().await.unwrap();
    assert_eq!(by_option, expected);
}

#[test]
fn a_unique_field_that_cannot_get_enough_values_is_refused_by_the_check() {
    let spec = "standin: 1\nresources:\n  tags:\n    fields:\n      name: { type: string, enum: [a, b], unique: true }\n    count: 3\n";
    let error = standin::parse("tags.yaml", spec).unwrap_err();
    assert!(
        error.to_string().contains(
            "tags.yaml:5:7: error at resources.tags.fields.name: standin can generate only 2 distinct values for this unique field, and tags needs 3"
        ),
        "{error}"
    );
}

#[tokio::test]
async fn unique_references_take_each_target_once() {
    let spec = r#"
standin: 1
resources:
  users:
    fields: { name: string }
    count: 12
  profiles:
    fields:
      user: { ref: users, unique: true, required: true }
    count: 12
"#;
    let app = spawn(spec);
    let profiles = all(&app, "profiles").await;
    let mut users: Vec<i64> = profiles
        .iter()
        .map(|profile| profile["user"].as_i64().unwrap())
        .collect();
    users.sort();
    assert_eq!(users, (1..=12).collect::<Vec<_>>());
}

#[tokio::test]
async fn one_sided_bounds_are_respected() {
    let spec = "standin: 1\nresources:\n  things:\n    fields:\n      year: { type: integer, minimum: 2030 }\n      cold: { type: number, maximum: -10 }\n      small: { type: integer, maximum: -5 }\n    count: 30\n";
    let app = spawn(spec);
    for thing in all(&app, "things").await {
        let year = thing["year"].as_i64().unwrap();
        assert!((2030..=3030).contains(&year), "{thing}");
        assert!(thing["cold"].as_f64().unwrap() <= -10.0, "{thing}");
        assert!(thing["small"].as_i64().unwrap() <= -5, "{thing}");
    }
}
