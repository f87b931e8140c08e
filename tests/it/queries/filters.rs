//! Filters: operators on every field type, repeated parameters, json-server's
//! operators, and every rejection naming its parameter.

use super::*;

#[tokio::test]
async fn equality_filters_work_on_every_field_type() {
    for storage in Storage::BOTH {
        let app = spawn_with(BOOKS, storage);
        check(
            &app,
            &[
                ("year=1969", &[2, 3]),
                ("year=1969.0", &[2, 3]),
                ("price=7.5", &[2]),
                ("price=12", &[3]),
                ("in_print=false", &[3, 5]),
                ("published_on=1965-08-01", &[1]),
                ("added_at=2020-01-01T10:00:00Z", &[1]),
                ("title=Dune", &[1]),
                ("author=3", &[5, 6]),
                ("id=1&id=3", &[1, 3]),
            ],
        )
        .await;
    }
}

#[tokio::test]
async fn repeating_a_parameter_means_any_of_its_values() {
    let app = spawn(BOOKS);
    check(
        &app,
        &[
            ("year=1969&year=1974", &[2, 3, 4]),
            ("author=1&author=2&year=1969", &[2, 3]),
        ],
    )
    .await;
}

#[tokio::test]
async fn comparison_operators_are_typed_by_the_field() {
    for storage in Storage::BOTH {
        let app = spawn_with(BOOKS, storage);
        check(
            &app,
            &[
                ("year__lt=1900", &[5, 6]),
                ("year__lte=1965", &[1, 5, 6]),
                ("year__gt=1969", &[4]),
                ("year__gte=1969", &[2, 3, 4]),
                ("price__gt=9.99", &[3, 4]),
                ("price__lte=7.5", &[2, 5]),
                ("published_on__lt=1969-05-01", &[1, 3, 5]),
                ("added_at__gte=2021-01-01", &[3, 4]),
                ("title__gt=T", &[3, 4, 7]),
                ("id__gt=5", &[6, 7]),
                ("created_at__lt=2025-01-01T00:02:00Z", &[1, 2]),
            ],
        )
        .await;
    }
}

#[tokio::test]
async fn ne_in_contains_startswith_and_isnull() {
    for storage in Storage::BOTH {
        let app = spawn_with(BOOKS, storage);
        check(
            &app,
            &[
                ("year__ne=1969", &[1, 4, 5, 6, 7]),
                ("year__in=1965,1974", &[1, 4]),
                ("author__in=1,3", &[1, 2, 5, 6]),
                ("title__contains=DUNE", &[1, 2]),
                ("title__contains=ASSOMM", &[6]),
                ("tags__contains=classic", &[1, 5]),
                ("title__startswith=the", &[3, 4]),
                ("year__isnull=true", &[7]),
                ("author__isnull=false", &[1, 2, 3, 4, 5, 6]),
                ("meta__isnull=true", &[1, 2, 3, 4, 5, 6, 7]),
                ("tags__isnull=true", &[6, 7]),
            ],
        )
        .await;
    }
}

#[tokio::test]
async fn text_operators_ignore_case_beyond_ascii() {
    let app = spawn(BOOKS);
    assert_eq!(ids(&app, "/authors?name__startswith=émile").await, [3]);
    assert_eq!(ids(&app, "/authors?name__contains=ÉMILE").await, [3]);
}

#[tokio::test]
async fn json_server_operators_map_onto_the_same_filters() {
    let app = spawn(BOOKS);
    check(
        &app,
        &[
            ("year_gte=1969&year_lte=1970", &[2, 3]),
            ("year_ne=1969", &[1, 4, 5, 6, 7]),
            ("title_like=^dune", &[1, 2]),
            ("title_like=ness$", &[3]),
        ],
    )
    .await;
}

#[tokio::test]
async fn bad_filters_are_400_naming_the_parameter() {
    let app = spawn(BOOKS);
    for (query, parameter, fragment) in [
        ("year=abc", "year", "must be a whole number"),
        ("year=1969.5", "year", "must be a whole number"),
        ("price=cheap", "price", "must be a number"),
        ("in_print=maybe", "in_print", "must be true or false"),
        ("published_on=1969-13-01", "published_on", "must be a date"),
        (
            "added_at__gte=yesterday",
            "added_at__gte",
            "must be a date-time",
        ),
        ("author=x", "author", "must be a whole number"),
        ("tags=x", "tags", "array fields take __contains"),
        (
            "meta__contains=x",
            "meta__contains",
            "object fields take only __isnull",
        ),
        ("year__contains=1", "year__contains", "apply to text"),
        ("in_print__gt=true", "in_print__gt", "boolean fields"),
        (
            "year__isnull=maybe",
            "year__isnull",
            "must be true or false",
        ),
        ("title_like=[", "title_like", "must be a regular expression"),
        ("yaer=1", "yaer", "did you mean 'year'?"),
        ("yaer__gte=1", "yaer__gte", "did you mean 'year'?"),
        ("year__gtee=1", "year__gtee", "did you mean 'gte'?"),
        ("colour=red", "colour", "not a field of books"),
    ] {
        let body = problem(app.get(&format!("/books?{query}")).await, 400).await;
        assert_eq!(body["parameter"], parameter, "{query}: {body}");
        assert!(
            body["detail"].as_str().unwrap().contains(fragment),
            "{query}: {body}"
        );
    }
}

#[tokio::test]
async fn a_huge_like_pattern_is_400_not_500() {
    let app = spawn(BOOKS);
    problem(app.get("/books?title_like=k%7B5000%7D").await, 400).await;
    problem(app.get("/books?title_like=k%7B40000%7D").await, 400).await;
}
