//! Limits that keep every spec servable: how many resources and fields, how
//! deep array items nest, how many records a resource generates and how big
//! they may grow; and resource names SQLite would confuse (it ignores case in
//! table names, and names a search index's own tables after its resource).

use std::collections::HashMap;

use super::checker::{Checker, join};
use super::generators::{generator_of, longest_text};
use super::model::{Field, FieldType, Resource};
use super::pattern::pattern_bytes;

/// Most resources in a spec: each schema change costs SQLite time in
/// proportion to the tables already made, so start-up grows with their square.
pub const MAX_RESOURCES: usize = 500;
/// Most fields in a resource (SQLite's search index takes at most 2,000 columns).
pub const MAX_FIELDS: usize = 1_000;
/// Most fields in all resources together.
pub const MAX_SPEC_FIELDS: usize = 20_000;
/// Most unique and reference fields in all resources together: each is an index.
pub const MAX_INDEXED_FIELDS: usize = 2_000;
/// How deep `items` may nest (an array of arrays of ...).
pub const MAX_NESTING: usize = 8;
/// Most records a resource generates (`count`).
pub const MAX_COUNT: u64 = 1_000_000;
/// Largest size a generated record may reach, in bytes of JSON.
pub const MAX_RECORD_BYTES: u64 = 64 * 1024;
/// Largest size all generated records together may reach, in bytes.
pub const MAX_GENERATED_BYTES: u64 = 1 << 30;
/// What storing a record costs beyond its fields (id, timestamps, row).
const RECORD_OVERHEAD: u64 = 100;
/// Tables SQLite's full-text index keeps beside its own, named `{index}{suffix}`.
const SEARCH_TABLE_SUFFIXES: &[&str] = &["_data", "_idx", "_config", "_content", "_docsize"];

/// Reports specs with more fields, or indexed fields, than the limits.
pub(super) fn check_totals(checker: &mut Checker, resources: &[Resource]) {
    let fields: usize = resources.iter().map(|resource| resource.fields.len()).sum();
    if fields > MAX_SPEC_FIELDS {
        checker.error_at_key(
            "resources",
            format!("{fields} fields in all: a spec has at most {MAX_SPEC_FIELDS}"),
        );
    }
    let indexed = resources
        .iter()
        .flat_map(|resource| &resource.fields)
        .filter(|field| field.unique || field.reference.is_some())
        .count();
    if indexed > MAX_INDEXED_FIELDS {
        checker.error_at_key(
            "resources",
            format!("{indexed} unique or reference fields in all, each an index: a spec has at most {MAX_INDEXED_FIELDS}"),
        );
    }
}

/// Reports resource names that would name the same SQLite table.
pub(super) fn check_names(checker: &mut Checker, resources: &[Resource]) {
    let mut by_folded: HashMap<String, &str> = HashMap::new();
    for resource in resources {
        let folded = resource.name.to_ascii_lowercase();
        if let Some(other) = by_folded.get(&folded) {
            checker.error_at_key(
                &join("resources", &resource.name),
                format!(
                    "'{}' differs from resource '{other}' only in case, and they would share a table (SQLite ignores case in names): rename one",
                    resource.name
                ),
            );
        } else {
            by_folded.insert(folded, &resource.name);
        }
    }
    for resource in resources {
        let folded = resource.name.to_ascii_lowercase();
        for suffix in SEARCH_TABLE_SUFFIXES {
            if let Some(stem) = folded.strip_suffix(suffix)
                && let Some(other) = by_folded.get(stem)
            {
                checker.error_at_key(
                    &join("resources", &resource.name),
                    format!(
                        "'{}' would share a table with the search index of resource '{other}' (SQLite names it fts_{stem}{suffix}): rename one",
                        resource.name
                    ),
                );
            }
        }
    }
}

/// Reports resources whose generated records could grow too big, alone or together.
pub(super) fn check_sizes(checker: &mut Checker, resources: &[Resource]) {
    let mut total: u64 = 0;
    let mut largest: Option<(&Resource, u64)> = None;
    for resource in resources.iter().filter(|resource| resource.count > 0) {
        if checker.has_problems_under(&join("resources", &resource.name)) {
            continue;
        }
        let bytes = record_bytes(resource);
        if bytes > MAX_RECORD_BYTES {
            let (field, field_bytes) = resource
                .fields
                .iter()
                .map(|field| (field, value_bytes(field)))
                .max_by_key(|(_, bytes)| *bytes)
                .expect("a record over the limit has fields");
            checker.error(
                &join(&join("resources", &resource.name), "count"),
                format!(
                    "a generated record could reach {} (field '{}' alone {}), over the limit of {}: lower minLength, maxLength or pattern repetitions, nest fewer arrays, or give such records as fixed `records`",
                    kib(bytes),
                    field.name,
                    kib(field_bytes),
                    kib(MAX_RECORD_BYTES)
                ),
            );
            continue;
        }
        let bytes = u64::from(resource.count).saturating_mul(bytes + RECORD_OVERHEAD);
        total = total.saturating_add(bytes);
        if largest.is_none_or(|(_, most)| bytes > most) {
            largest = Some((resource, bytes));
        }
    }
    if total > MAX_GENERATED_BYTES
        && let Some((resource, bytes)) = largest
    {
        checker.error(
            &join(&join("resources", &resource.name), "count"),
            format!(
                "the generated records could take up to {} MiB ({} MiB of them here), over the limit of {} MiB: lower the counts",
                total >> 20,
                bytes >> 20,
                MAX_GENERATED_BYTES >> 20
            ),
        );
    }
}

fn kib(bytes: u64) -> String {
    format!("{} KiB", bytes.div_ceil(1024))
}

/// The most bytes of JSON a generated record of `resource` can take.
pub fn record_bytes(resource: &Resource) -> u64 {
    resource
        .fields
        .iter()
        .filter(|field| !field.is_computed())
        .map(|field| field.name.len() as u64 + 4 + value_bytes(field))
        .fold(2, u64::saturating_add)
}

/// The most bytes of JSON a generated value of `field` can take.
fn value_bytes(field: &Field) -> u64 {
    if field.reference.is_some() {
        return 40;
    }
    if let Some(allowed) = &field.allowed {
        return allowed
            .iter()
            .map(|value| value.to_string().len() as u64)
            .max()
            .unwrap_or(0);
    }
    match field.kind {
        FieldType::Boolean => 5,
        FieldType::Integer => 20,
        FieldType::Number => 24,
        FieldType::Date => 12,
        FieldType::DateTime => 26,
        FieldType::Object => 2,
        // At most three elements, as `fake` makes them.
        FieldType::Array => {
            let element = match &field.items {
                Some(items) => value_bytes(items),
                None => longest_text("word") as u64 + 2,
            };
            element
                .saturating_add(1)
                .saturating_mul(3)
                .saturating_add(2)
        }
        FieldType::String => string_bytes(field),
    }
}

/// A generated string: the generator's text or one built from the pattern,
/// padded with words up to `minLength`, cut at `maxLength`, perhaps with a
/// number appended to keep it unique. Generators write ASCII (two bytes a
/// character where escaped); a pattern's characters take six at worst.
fn string_bytes(field: &Field) -> u64 {
    let mut bytes = longest_text(generator_of(field)) as u64;
    let mut per_character = 2;
    if let Some(pattern) = &field.pattern
        && let Ok(hir) = regex_syntax::Parser::new().parse(pattern.as_str())
    {
        bytes = bytes.max(pattern_bytes(&hir));
        per_character = 6;
    }
    bytes = bytes.max(field.min_length.unwrap_or(0)).saturating_add(20);
    if let Some(max) = field.max_length {
        bytes = bytes.min(max.saturating_mul(per_character));
    }
    bytes.saturating_add(10)
}
