//! Queries on collections, by capability: filters (`filters`), sorting and
//! paging in every dialect (`sorting_and_paging`), search (`search`),
//! embedding, inverse collections and sparse fieldsets (`embedding`); the
//! books they are tried on, and the helpers they share.

use reqwest::Method;
use serde_json::{Value, json};

mod deep_embedding;
mod embedding;
mod filters;
mod search;
mod sorting_and_paging;

use crate::helpers::{Storage, TestApp, header, json, problem, spawn, spawn_with};

pub const BOOKS: &str = r#"
standin: 1
base_path: /api
page_size: 5
resources:
  authors:
    fields:
      name: { type: string, required: true }
    records:
      - { name: "Frank Herbert" }
      - { name: "Ursula Le Guin" }
      - { name: "Émile Zola" }
  books:
    fields:
      title: { type: string, required: true }
      year: integer
      price: number
      in_print: boolean
      published_on: date
      added_at: datetime
      tags: { type: array, items: { type: string } }
      meta: object
      author: { ref: authors }
    search: [title]
    records:
      - { title: "Dune", year: 1965, price: 9.99, in_print: true, published_on: "1965-08-01", added_at: "2020-01-01T10:00:00Z", tags: [scifi, classic], author: 1 }
      - { title: "Dune Messiah", year: 1969, price: 7.5, in_print: true, published_on: "1969-10-15", added_at: "2020-02-01T10:00:00Z", tags: [scifi], author: 1 }
      - { title: "The Left Hand of Darkness", year: 1969, price: 12, in_print: false, published_on: "1969-03-01", added_at: "2021-01-01T10:00:00Z", tags: [scifi, gender], author: 2 }
      - { title: "The Dispossessed", year: 1974, price: 11.25, in_print: true, published_on: "1974-05-01", added_at: "2021-06-01T10:00:00Z", tags: [], author: 2 }
      - { title: "Germinal", year: 1885, price: 5, in_print: false, published_on: "1885-03-01", added_at: "2019-01-01T10:00:00Z", tags: [classic], author: 3 }
      - { title: "L'Assommoir", year: 1877, in_print: true, author: 3 }
      - { title: "Untitled draft" }
"#;

/// The ids a collection query returns, in order (plain JSON, up to 100).
async fn ids(app: &TestApp, path_and_query: &str) -> Vec<i64> {
    let separator = if path_and_query.contains('?') {
        '&'
    } else {
        '?'
    };
    let response = app
        .get_json(&format!("{path_and_query}{separator}per_page=100"))
        .await;
    assert_eq!(response.status(), 200, "{path_and_query}");
    json(response)
        .await
        .as_array()
        .expect("a bare array")
        .iter()
        .map(|item| item["id"].as_i64().unwrap())
        .collect()
}

/// Asserts that each `(query, ids)` pair selects exactly those ids.
async fn check(app: &TestApp, cases: &[(&str, &[i64])]) {
    for (query, expected) in cases {
        assert_eq!(
            ids(app, &format!("/books?{query}")).await,
            *expected,
            "{query}"
        );
    }
}
