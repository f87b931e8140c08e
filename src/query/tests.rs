//! Table tests of the query parser: what each parameter of standin's,
//! json-server's and react-admin's dialects means, and why bad ones are refused.

use serde_json::{Value, json};

use super::*;
use crate::spec::Spec;

const SPEC: &str = "standin: 1
page_size: 20
max_page_size: 100
resources:
  authors:
    fields: { name: string }
  books:
    fields:
      title: string
      year: integer
      published: date
      genre: { type: string, enum: [fiction, history] }
      tags: { type: array, items: { type: string } }
      author: { ref: authors }
  reviews:
    fields:
      stars: integer
      book: { ref: books }
";

fn spec() -> Spec {
    crate::spec::parse("test.yaml", SPEC).expect("a valid spec")
}

fn list(query: &str) -> Result<ListQuery, QueryError> {
    let spec = spec();
    let books = spec.resource("books").expect("books");
    parse_list(&spec, books, query)
}

fn filter(column: &str, operator: Operator, values: Vec<Value>) -> Filter {
    Filter {
        column: Column::named(column),
        operator,
        values,
        as_instants: false,
    }
}

fn sort(column: &str, descending: bool) -> Sort {
    Sort {
        column: Column::named(column),
        descending,
        as_instants: false,
    }
}

#[test]
fn filters_of_every_dialect() {
    let cases: Vec<(&str, Vec<Filter>)> = vec![
        ("", vec![]),
        (
            "year=1965",
            vec![filter("year", Operator::Eq, vec![json!(1965)])],
        ),
        (
            "year=82.0",
            vec![filter("year", Operator::Eq, vec![json!(82)])],
        ),
        (
            "genre=fiction&genre=history",
            vec![filter(
                "genre",
                Operator::Eq,
                vec![json!("fiction"), json!("history")],
            )],
        ),
        (
            "year__in=1965,1969",
            vec![filter("year", Operator::Eq, vec![json!(1965), json!(1969)])],
        ),
        (
            "year__gte=2000",
            vec![filter("year", Operator::Gte, vec![json!(2000)])],
        ),
        (
            "year_gte=2000",
            vec![filter("year", Operator::Gte, vec![json!(2000)])],
        ),
        (
            "year_ne=2000",
            vec![filter("year", Operator::Ne, vec![json!(2000)])],
        ),
        (
            "title__contains=dune",
            vec![filter("title", Operator::Contains, vec![json!("dune")])],
        ),
        (
            "tags__contains=classic",
            vec![filter("tags", Operator::Includes, vec![json!("classic")])],
        ),
        (
            "title__startswith=the",
            vec![filter("title", Operator::StartsWith, vec![json!("the")])],
        ),
        (
            "title_like=^dun",
            vec![filter("title", Operator::Like, vec![json!("^dun")])],
        ),
        (
            "year__isnull=true",
            vec![filter("year", Operator::IsNull, vec![json!(true)])],
        ),
        (
            "author=3",
            vec![filter("author", Operator::Eq, vec![json!(3)])],
        ),
        (
            "id=1&id=2",
            vec![filter("id", Operator::Eq, vec![json!(1), json!(2)])],
        ),
        (
            r#"filter={"genre":"fiction","id":[1,2]}"#,
            vec![
                filter("genre", Operator::Eq, vec![json!("fiction")]),
                filter("id", Operator::Eq, vec![json!(1), json!(2)]),
            ],
        ),
    ];
    for (query, expected) in cases {
        let parsed = list(query).unwrap_or_else(|error| panic!("{query}: {error}"));
        assert_eq!(parsed.filters, expected, "{query}");
    }
}

#[test]
fn paging_and_sorting_of_every_dialect() {
    let cases: Vec<(&str, u64, u32, Vec<Sort>)> = vec![
        ("", 0, 20, vec![]),
        ("page=3&per_page=5", 10, 5, vec![]),
        ("_page=2&_limit=10", 10, 10, vec![]),
        ("_page=2&_per_page=10", 10, 10, vec![]),
        ("_start=10&_end=20", 10, 10, vec![]),
        ("_start=10&_limit=5", 10, 5, vec![]),
        ("range=[0,24]", 0, 25, vec![]),
        (
            "sort=-year,title",
            0,
            20,
            vec![sort("year", true), sort("title", false)],
        ),
        (
            "_sort=title,year&_order=asc,desc",
            0,
            20,
            vec![sort("title", false), sort("year", true)],
        ),
        ("_sort=-year", 0, 20, vec![sort("year", true)]),
        (r#"sort=["title","DESC"]"#, 0, 20, vec![sort("title", true)]),
    ];
    for (query, offset, limit, expected_sort) in cases {
        let parsed = list(query).unwrap_or_else(|error| panic!("{query}: {error}"));
        assert_eq!((parsed.offset, parsed.limit), (offset, limit), "{query}");
        assert_eq!(parsed.sort, expected_sort, "{query}");
    }
}

#[test]
fn search_embeds_and_fields() {
    let parsed = list("q=dune%20messiah&embed=author,reviews&fields=id,title").expect("valid");
    assert_eq!(parsed.search.as_deref(), Some("dune messiah"));
    let embedded: Vec<&str> = parsed.embed.iter().map(Embed::name).collect();
    assert_eq!(embedded, ["author", "reviews"]);
    assert_eq!(
        parsed.fields,
        Some(vec!["id".to_string(), "title".to_string()])
    );
    let parsed = list("_expand=author&_embed=reviews").expect("valid");
    let embedded: Vec<&str> = parsed.embed.iter().map(Embed::name).collect();
    assert_eq!(embedded, ["author", "reviews"]);
}

/// An embed tree as text: `name(nested,...)`.
fn tree(embeds: &[Embed]) -> String {
    embeds
        .iter()
        .map(|embed| match embed.nested() {
            [] => embed.name().to_string(),
            nested => format!("{}({})", embed.name(), tree(nested)),
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[test]
fn embed_paths_go_through_references_and_inverses_and_merge() {
    let parsed =
        list("embed=reviews.book.author,author,reviews&embed=author.books.reviews").expect("valid");
    assert_eq!(
        tree(&parsed.embed),
        "reviews(book(author)),author(books(reviews))"
    );
    assert_eq!(
        parsed
            .embed
            .iter()
            .flat_map(Embed::resources)
            .collect::<Vec<_>>(),
        ["reviews", "books", "authors", "authors", "books", "reviews"]
    );
    let spec = spec();
    let authors = spec.resource("authors").expect("authors");
    let item = parse_item(&spec, authors, "embed=books.reviews&_embed=books").expect("valid");
    assert_eq!(tree(&item.embed), "books(reviews)");
    let paths = embed_paths(&spec, authors, 2, 100).expect("few");
    assert_eq!(paths, ["books", "books.author", "books.reviews"]);
    assert_eq!(embed_paths(&spec, authors, 3, 3), None);
}

#[test]
fn an_embed_path_too_deep_or_with_an_unknown_segment_is_refused() {
    let cases = [
        (
            "embed=author.books.reviews.book",
            "cannot embed 'author.books.reviews.book': it is 4 levels deep, and embeds go at most 3 levels deep",
        ),
        (
            "embed=author.bokos",
            "cannot embed 'bokos' (in 'author.bokos') (did you mean 'books'?): authors can embed books",
        ),
        (
            "embed=reviews.book.autor",
            "cannot embed 'autor' (in 'reviews.book.autor') (did you mean 'author'?): books can embed author, reviews",
        ),
        ("embed=author..books", "segments"),
        ("embed=author.", "segments"),
    ];
    for (query, message) in cases {
        let error = list(query).expect_err(query);
        assert_eq!(error.parameter, "embed", "{query}");
        assert!(
            error.message.contains(message),
            "{query}: {}",
            error.message
        );
    }
}

#[test]
fn refusals_name_the_parameter_and_say_why() {
    let cases = [
        ("yaer=2000", "yaer", "did you mean 'year'?"),
        ("year=abc", "year", "whole number"),
        ("year__gte=x", "year__gte", "whole number"),
        ("year__between=1", "year__between", "operator"),
        ("tags=x", "tags", ""),
        ("sort=tags", "sort", "array"),
        ("sort=nope", "sort", "unknown field"),
        ("per_page=0", "per_page", ""),
        ("per_page=101", "per_page", "100"),
        ("page=0", "page", ""),
        ("embed=publisher", "embed", ""),
        ("fields=nope", "fields", ""),
        ("year__in=1,,2", "year__in", "empty"),
        ("published=2024-13-01", "published", "date"),
    ];
    for (query, parameter, message) in cases {
        let error = list(query).expect_err(query);
        assert_eq!(error.parameter, parameter, "{query}: {error}");
        assert!(error.message.contains(message), "{query}: {error}");
    }
}

#[test]
fn queries_are_bounded_before_they_reach_sql() {
    let keys = vec!["title"; MAX_SORT_KEYS + 1].join(",");
    assert_eq!(
        list(&format!("sort={keys}"))
            .expect_err("too many keys")
            .parameter,
        "sort"
    );
    let words = vec!["w"; MAX_SEARCH_WORDS + 1].join("+");
    assert_eq!(
        list(&format!("q={words}"))
            .expect_err("too many words")
            .parameter,
        "q"
    );
    let values = (0..=MAX_FILTER_VALUES)
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(",");
    assert!(list(&format!("year__in={values}")).is_err());
}

#[test]
fn items_take_embeds_and_fields_only() {
    let spec = spec();
    let books = spec.resource("books").expect("books");
    let parsed = parse_item(&spec, books, "embed=author&fields=title").expect("valid");
    assert_eq!(parsed.embed.len(), 1);
    assert_eq!(parsed.fields, Some(vec!["title".to_string()]));
    let error = parse_item(&spec, books, "page=2").expect_err("no paging on items");
    assert_eq!(error.parameter, "page");
}
