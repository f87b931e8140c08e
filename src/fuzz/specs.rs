//! A bounded fuzz of the spec checker: random specs (and random edits of
//! them) made of real and awkward types, constraints, generators and
//! references. The checker never panics, and every spec it accepts can be
//! prepared and seeded. `PROPTEST_CASES` raises the number of cases (64 by
//! default).

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::store::{Location, Store};

const TYPES: &[&str] = &[
    "string", "integer", "number", "boolean", "date", "datetime", "object", "array",
];
const NUMBERS: &[f64] = &[
    -1e308, -1e19, -1000.0, -1.0, 0.0, 0.5, 1.0, 3.0, 2100.0, 1e19, 1e308,
];
const LENGTHS: &[u64] = &[0, 1, 2, 3, 12, 40, 70_000];
const PATTERNS: &[&str] = &[
    "^[a-z]+$",
    "^[ab]$",
    "^a{5}$",
    "[0-9]{3}",
    "^(x|y)[0-9]{2}$",
    r"^\d{4}-\d{2}$",
    "a^b",
    "^.{0,3}$",
    "^[a-z]*$",
    r"\bword\b",
    "^[^a-z]+$",
    "^(ab|a)(bc|c)$",
];
const FORMATS: &[&str] = &["email", "uri", "uuid", "date", "date-time"];
const GENERATORS: &[&str] = &["name", "email", "paragraph", "word", "uuid", "date_past"];
const FIELD_NAMES: &[&str] = &[
    "title",
    "name",
    "email",
    "year",
    "price",
    "Title",
    "tags",
    "code",
    "rating",
    "body",
    "age",
    "city",
    "status",
    "published_on",
    "homepage",
];
const RESOURCE_NAMES: &[&str] = &[
    "books",
    "authors",
    "tags",
    "people",
    "orders",
    "items",
    "Books",
    "books_data",
];
const COUNTS: &[u64] = &[0, 0, 1, 2, 5, 40, 300];
const VALUES: &[&str] = &[
    "1",
    "2",
    "a",
    "abc",
    "null",
    "true",
    "1e308",
    "a@example.com",
    "2024-01-01",
];

fn pick<T: Clone + std::fmt::Debug + 'static>(pool: &'static [T]) -> BoxedStrategy<T> {
    prop::sample::select(pool).boxed()
}

fn sometimes<T: std::fmt::Debug + 'static>(strategy: BoxedStrategy<T>) -> BoxedStrategy<Option<T>> {
    prop::option::weighted(0.3, strategy).boxed()
}

/// A field definition of random type and constraints, extreme values included.
fn field_definition() -> BoxedStrategy<Value> {
    let scalar = (
        pick(TYPES),
        (sometimes(pick(NUMBERS)), sometimes(pick(NUMBERS))),
        (sometimes(pick(LENGTHS)), sometimes(pick(LENGTHS))),
        (sometimes(pick(PATTERNS)), sometimes(pick(FORMATS))),
        sometimes((0..4usize).boxed()),
        (
            any::<bool>(),
            prop::bool::weighted(0.2),
            sometimes(pick(GENERATORS)),
        ),
        prop_oneof![3 => 0..3usize, 1 => 0..11usize],
    )
        .prop_map(
            |(
                kind,
                (minimum, maximum),
                (min_length, max_length),
                (pattern, format),
                choices,
                (unique, required, fake),
                depth,
            )| {
                let numeric = matches!(kind, "integer" | "number");
                let mut field = Map::new();
                field.insert("type".into(), json!(kind));
                let mut set = |key: &str, value: Option<Value>| {
                    if let Some(value) = value {
                        field.insert(key.into(), value);
                    }
                };
                set("minimum", minimum.filter(|_| numeric).map(|n| json!(n)));
                set("maximum", maximum.filter(|_| numeric).map(|n| json!(n)));
                let textual = kind == "string";
                set(
                    "minLength",
                    min_length.filter(|_| textual).map(|n| json!(n)),
                );
                set(
                    "maxLength",
                    max_length.filter(|_| textual).map(|n| json!(n)),
                );
                set("pattern", pattern.filter(|_| textual).map(|p| json!(p)));
                set("format", format.filter(|_| textual).map(|f| json!(f)));
                set("fake", fake.filter(|_| textual).map(|f| json!(f)));
                let listed = match kind {
                    "string" => json!([
                        ["a", "b"],
                        ["abc"],
                        ["x1", "y22", "z333"],
                        ["a@example.com"]
                    ]),
                    "integer" | "number" => json!([[1, 2, 3], [0], [2024, 1e19], [-1, 1.5]]),
                    _ => Value::Null,
                };
                set("enum", choices.and_then(|index| listed.get(index).cloned()));
                let distinct = !matches!(kind, "boolean" | "object" | "array");
                set("unique", (unique && distinct).then(|| json!(true)));
                set("required", required.then(|| json!(true)));
                if kind == "array" {
                    let mut items =
                        json!({ "type": if depth % 2 == 0 { "string" } else { "integer" } });
                    for _ in 0..depth {
                        items = json!({ "type": "array", "items": items });
                    }
                    field.insert("items".into(), items);
                }
                Value::Object(field)
            },
        );
    // The target is chosen among the spec's resources once they are known.
    let reference = (0..4usize, any::<bool>(), any::<bool>()).prop_map(
        |(target, required, unique)| json!({ "ref": target, "required": required, "unique": unique }),
    );
    prop_oneof![4 => scalar, 1 => reference].boxed()
}

/// A resource: random fields, count, id kind and fixed records.
fn resource() -> BoxedStrategy<Value> {
    (
        prop::collection::vec((pick(FIELD_NAMES), field_definition()), 1..5),
        pick(COUNTS),
        pick(&["integer", "uuid", "string"]),
        prop_oneof![
            2 => Just(Vec::new()),
            1 => prop::collection::vec(prop::collection::vec((0..5usize, pick(VALUES)), 0..3), 1..3),
        ],
    )
        .prop_map(|(fields, count, id, records)| {
            let fields: Map<String, Value> = fields
                .into_iter()
                .map(|(name, definition)| (name.to_string(), definition))
                .collect();
            let names: Vec<&String> = fields.keys().collect();
            let records: Vec<Value> = records
                .into_iter()
                .enumerate()
                .map(|(index, values)| {
                    let mut record: Map<String, Value> = values
                        .into_iter()
                        .map(|(field, value)| {
                            let value = serde_json::from_str(value).unwrap_or(json!(value));
                            (names[field % names.len()].clone(), value)
                        })
                        .collect();
                    if id == "string" {
                        record.insert("id".into(), json!(format!("r{index}")));
                    }
                    Value::Object(record)
                })
                .collect();
            json!({ "id": id, "fields": fields, "count": count, "records": records })
        })
        .boxed()
}

/// A whole spec as YAML text.
fn spec_text() -> BoxedStrategy<String> {
    (
        prop::sample::subsequence(RESOURCE_NAMES, 1..=4),
        prop::collection::vec(resource(), 4),
        0..4u64,
    )
        .prop_map(|(names, mut resources, seed)| {
            for resource in &mut resources {
                for field in resource["fields"].as_object_mut().unwrap().values_mut() {
                    if let Some(target) = field.get_mut("ref") {
                        let index = target.as_u64().unwrap() as usize;
                        *target = json!(names[index % names.len()]);
                    }
                }
            }
            let resources: Map<String, Value> = names
                .into_iter()
                .zip(resources)
                .map(|(name, resource)| (name.to_string(), resource))
                .collect();
            let spec = json!({ "standin": 1, "seed": seed, "resources": resources });
            serde_yaml::to_string(&spec).expect("JSON values write as YAML")
        })
        .boxed()
}

/// Prepares and seeds `text` in memory if the checker accepts it, and small enough to be quick.
fn seed_if_accepted(text: &str) -> Result<(), String> {
    let Ok(spec) = crate::spec::parse("spec.yaml", text) else {
        return Ok(());
    };
    if spec
        .resources
        .iter()
        .map(|r| u64::from(r.count))
        .sum::<u64>()
        > 5_000
    {
        return Ok(());
    }
    let store = Store::open(Location::Memory).map_err(|error| error.to_string())?;
    store
        .prepare(&spec)
        .map_err(|error| format!("prepare: {error}"))?;
    store
        .seed(&spec, spec.seed)
        .map_err(|error| format!("seed: {error}"))?;
    store.counts_hold(&spec)
}

const SNIPPETS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    "- ",
    "\n",
    "  ",
    "&a ",
    "*a",
    "!!binary ",
    "'",
    "\"",
    "1e308",
    "-1",
    "99999999999999999999",
    "\t",
    "#",
    "? ",
    "|",
    "~",
    "null",
    "{type: array, items: ",
    "ref: ",
    "\u{0}",
    "é",
    "pattern: '(",
    "count: 1\n",
];

/// `text` with `edits` applied: insertions, deletions, duplicated lines.
fn mutate(text: &str, edits: &[(usize, u8, &str)]) -> String {
    let mut text = text.to_string();
    for (position, kind, snippet) in edits {
        let mut at = position % (text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        match kind % 3 {
            0 => text.insert_str(at, snippet),
            1 => {
                let mut end = (at + 1 + position % 12).min(text.len());
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                text.replace_range(at..end, "");
            }
            _ => {
                let start = text[..at].rfind('\n').map_or(0, |n| n + 1);
                let end = text[at..].find('\n').map_or(text.len(), |n| at + n + 1);
                let line = text[start..end].to_string();
                text.insert_str(start, &line);
            }
        }
    }
    text
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(64);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_specs_the_check_accepts_are_seeded_without_error(text in spec_text()) {
        let seeded = seed_if_accepted(&text);
        prop_assert!(seeded.is_ok(), "{}\n{}", seeded.unwrap_err(), text);
    }

    #[test]
    fn random_text_never_makes_the_check_panic(
        text in spec_text(),
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), pick(SNIPPETS)), 1..8),
    ) {
        let mutated = mutate(&text, &edits);
        let seeded = seed_if_accepted(&mutated);
        prop_assert!(seeded.is_ok(), "{}\n{}", seeded.unwrap_err(), mutated);
    }
}
