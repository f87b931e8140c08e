//! A bounded fuzz of the query parser and the SQL it leads to: random query
//! strings made of real and near-miss parameter names, operators and awkward
//! values. The parser never panics, and every query it accepts runs in the
//! store without a database error (the kind that would be a 500), its
//! embeds (paths too) included.
//! `PROPTEST_CASES` raises the number of cases (256 by default).

use crate::query::parse_list;
use crate::store::{Location, Store, StoreError};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// The spec the queries run against: authors, books and reviews.
const LIBRARY: &str = r#"
standin: 1
title: Library
base_path: /api
seed: 42
page_size: 10
resources:
  authors:
    fields:
      name: { type: string, required: true, maxLength: 80 }
      email: { type: string, format: email, unique: true }
    count: 5
  books:
    fields:
      title: { type: string, required: true, minLength: 1 }
      year: { type: integer, minimum: 1450, maximum: 2100 }
      genre: { type: string, enum: [fiction, science, history], default: fiction }
      author: { ref: authors, required: true, on_delete: restrict }
      tags: { type: array, items: { type: string } }
    count: 25
  reviews:
    fields:
      book: { ref: books, required: true, on_delete: cascade }
      stars: { type: integer, minimum: 1, maximum: 5 }
    count: 10
    soft_delete: true
"#;

const NAMES: &[&str] = &[
    "title",
    "year",
    "genre",
    "author",
    "tags",
    "id",
    "created_at",
    "updated_at",
    "nope",
    "stars",
    "book",
    "TITLE",
    "",
];
const SUFFIXES: &[&str] = &[
    "",
    "__ne",
    "__lt",
    "__lte",
    "__gt",
    "__gte",
    "__in",
    "__contains",
    "__startswith",
    "__isnull",
    "__like",
    "_gte",
    "_lte",
    "_ne",
    "_like",
    "__",
    "__bogus",
    "__in__in",
];
const OPTIONS: &[&str] = &[
    "page",
    "per_page",
    "_page",
    "_per_page",
    "_limit",
    "_start",
    "_end",
    "range",
    "sort",
    "_sort",
    "_order",
    "q",
    "embed",
    "_embed",
    "_expand",
    "fields",
    "filter",
];
const VALUES: &[&str] = &[
    "",
    "0",
    "1",
    "-1",
    "2",
    "1.5",
    "82.0",
    "1e308",
    "-1e308",
    "NaN",
    "inf",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "true",
    "false",
    "null",
    "fiction",
    "science,history",
    "1,2,3",
    ",",
    "2024-01-01",
    "2024-01-01T00:00:00Z",
    "2024-13-45",
    "[0,24]",
    "[24,0]",
    "[0,18446744073709551615]",
    "[\"title\",\"ASC\"]",
    "[\"title\",\"UP\"]",
    "{\"q\":\"x\"}",
    "{\"id\":[1,2]}",
    "{\"id\":[]}",
    "{\"year__gte\":2000}",
    "{}",
    "[]",
    "-year,title",
    "+title",
    "-",
    "--year",
    "asc",
    "desc",
    "author",
    "books",
    "reviews",
    "author,author",
    "id,title",
    "(",
    ".*",
    "a{1000}{1000}",
    "\\",
    "%",
    "_",
    "'",
    "\"",
    "é",
    "\u{0}",
    "ſ",
    "title,-title,year",
    "dune*",
    "\"dune\"",
    "NEAR(a b)",
    "a OR b",
];

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(VALUES).prop_map(str::to_string),
        1 => "\\PC{0,12}",
    ]
}

/// A parameter that is usually well-formed, with a value of its kind.
fn plausible_parameter() -> impl Strategy<Value = (String, String)> {
    let text = || {
        prop_oneof![
            proptest::sample::select(VALUES).prop_map(str::to_string),
            "\\PC{0,12}"
        ]
    };
    let number = || {
        prop_oneof![
            (-3000i64..3000).prop_map(|n| n.to_string()),
            proptest::sample::select(VALUES).prop_map(str::to_string)
        ]
    };
    let pair = |name: &'static str, value: BoxedStrategy<String>| {
        value.prop_map(move |value| (name.to_string(), value))
    };
    prop_oneof![
        pair("title__contains", text().boxed()),
        pair("title__startswith", text().boxed()),
        pair("title_like", text().boxed()),
        pair("title", text().boxed()),
        pair("q", text().boxed()),
        pair("year__gte", number().boxed()),
        pair("year__lt", number().boxed()),
        pair("year__ne", number().boxed()),
        pair(
            "year__in",
            proptest::collection::vec(-3000i64..3000, 0..5)
                .prop_map(|years| years
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(","))
                .boxed()
        ),
        pair("id", number().boxed()),
        pair("author", number().boxed()),
        pair(
            "genre",
            proptest::sample::select(&["fiction", "science", "history", "poetry"][..])
                .prop_map(str::to_string)
                .boxed()
        ),
        pair("tags__contains", text().boxed()),
        pair(
            "year__isnull",
            proptest::sample::select(&["true", "false"][..])
                .prop_map(str::to_string)
                .boxed()
        ),
        pair(
            "created_at__gte",
            proptest::sample::select(
                &[
                    "2024-01-01",
                    "2020-02-29T10:00:00+02:00",
                    "1999-12-31T23:59:59Z"
                ][..]
            )
            .prop_map(str::to_string)
            .boxed()
        ),
        pair(
            "sort",
            proptest::sample::select(
                &[
                    "-year,title",
                    "title",
                    "-id",
                    "genre,-created_at",
                    "author,year,-title"
                ][..]
            )
            .prop_map(str::to_string)
            .boxed()
        ),
        pair("page", (0u32..6).prop_map(|page| page.to_string()).boxed()),
        pair(
            "per_page",
            (0u32..120).prop_map(|size| size.to_string()).boxed()
        ),
        pair(
            "embed",
            proptest::sample::select(
                &[
                    "author",
                    "reviews",
                    "author,reviews",
                    "author.books",
                    "reviews.book.author",
                    "books.reviews.book",
                    "author..books",
                    "author.books.reviews.book",
                    "reviews.boko"
                ][..]
            )
            .prop_map(str::to_string)
            .boxed()
        ),
        pair(
            "fields",
            proptest::sample::select(&["id,title", "year", "title,author,tags"][..])
                .prop_map(str::to_string)
                .boxed()
        ),
        pair(
            "filter",
            proptest::sample::select(
                &[
                    "{\"q\":\"a\"}",
                    "{\"id\":[1,2]}",
                    "{\"id\":[]}",
                    "{\"year__gte\":2000}"
                ][..]
            )
            .prop_map(str::to_string)
            .boxed()
        ),
    ]
}

/// Any parameter: real and near-miss names, with awkward values.
fn parameter() -> impl Strategy<Value = (String, String)> {
    let filter = (
        proptest::sample::select(NAMES),
        proptest::sample::select(SUFFIXES),
    )
        .prop_map(|(name, suffix)| format!("{name}{suffix}"));
    let name = prop_oneof![
        2 => filter,
        2 => proptest::sample::select(OPTIONS).prop_map(str::to_string),
        1 => "\\PC{0,8}",
    ];
    prop_oneof![
        4 => plausible_parameter(),
        1 => (name, value()),
    ]
}

fn query_string() -> impl Strategy<Value = String> {
    proptest::collection::vec(parameter(), 0..6).prop_map(|parameters| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in &parameters {
            query.append_pair(name, value);
        }
        query.finish()
    })
}

#[test]
fn every_query_the_parser_accepts_runs_without_a_database_error() {
    let spec = LIBRARY.replace("    count: 25", "    count: 25\n    search: [title]");
    let spec = crate::spec::parse("test.yaml", &spec).expect("the spec is valid");
    let store = Store::open(Location::Memory).expect("an in-memory store");
    store.prepare(&spec).expect("tables");
    store.seed(&spec, 42).expect("seeded");
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(256);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let accepted = std::cell::Cell::new(0u32);
    let outcome = runner.run(
        &(0..spec.resources.len(), query_string()),
        |(index, query)| {
            let resource = &spec.resources[index];
            if let Ok(parsed) = parse_list(&spec, resource, &query) {
                accepted.set(accepted.get() + 1);
                let embedded = store.list(resource, &parsed, &[]).and_then(|page| {
                    store.embedded(&spec, &page.records, &parsed.embed, spec.max_page_size)
                });
                if let Err(StoreError::Database(error)) = embedded {
                    return Err(TestCaseError::fail(format!(
                        "{} ?{query}: {error}",
                        resource.name
                    )));
                }
            }
            Ok(())
        },
    );
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
    // The generator must reach the store, not only the parser's refusals.
    assert!(
        accepted.get() >= cases / 5,
        "only {} of {cases} queries were accepted",
        accepted.get()
    );
}
