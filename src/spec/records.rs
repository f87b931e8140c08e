//! Checks of the spec's fixed `records`: each must be a valid record of its
//! resource, carry an id of the right kind where ids are client-assigned, and
//! reference records that seeding will create.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::checker::{Checker, join};
use super::model::{IdKind, Resource};
use super::validate::strip_server_set;

/// The ids seeding will give a resource's records that can be known in
/// advance: the fixed records', and the generated ones' where ids count up.
struct PlannedIds {
    fixed: HashSet<String>,
    generated: std::ops::Range<i64>,
}

impl PlannedIds {
    fn contains(&self, value: &Value) -> bool {
        self.fixed.contains(&id_text(value))
            || value
                .as_i64()
                .is_some_and(|id| self.generated.contains(&id))
    }
}

fn planned_ids(resource: &Resource) -> PlannedIds {
    match resource.id {
        IdKind::Integer => {
            let mut fixed = HashSet::new();
            let mut next: i64 = 1;
            for record in &resource.records {
                let id = record.get("id").and_then(Value::as_i64).unwrap_or(next);
                fixed.insert(id.to_string());
                next = next.max(id.saturating_add(1));
            }
            PlannedIds {
                fixed,
                generated: next..next.saturating_add(i64::from(resource.count)),
            }
        }
        // Other uuids are drawn at random: no record can name them in advance.
        IdKind::Uuid | IdKind::String => PlannedIds {
            fixed: resource
                .records
                .iter()
                .filter_map(|record| record.get("id"))
                .map(id_text)
                .collect(),
            generated: 0..0,
        },
    }
}

fn id_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Reports every invalid fixed record of every resource.
pub(super) fn check_fixed_records(checker: &mut Checker, resources: &[Resource]) {
    let plans: HashMap<&str, PlannedIds> = resources
        .iter()
        .map(|resource| (resource.name.as_str(), planned_ids(resource)))
        .collect();
    for resource in resources {
        let mut seen = HashSet::new();
        let mut next_id: i64 = 1;
        let mut unique_values: HashMap<(&str, String), usize> = HashMap::new();
        for (index, record) in resource.records.iter().enumerate() {
            let path = if resource.singular {
                format!("resources.{}.record", resource.name)
            } else {
                format!("resources.{}.records.{index}", resource.name)
            };
            let mut fields = record.clone();
            let id = strip_server_set(&mut fields);
            // A computed field's value is the server's: a record giving one is refused.
            for field in resource.fields.iter().filter(|field| field.is_computed()) {
                if fields.remove(&field.name).is_some() {
                    checker.error_at_key(
                        &join(&path, &field.name),
                        format!(
                            "'{}' is computed by the server: remove it from the record",
                            field.name
                        ),
                    );
                }
            }
            check_id(checker, &path, resource, id.as_ref(), &mut seen);
            if resource.id == IdKind::Integer {
                // Records without an id count up from the highest id so far, as seeding does.
                let assigned = id.as_ref().and_then(Value::as_i64).unwrap_or(next_id);
                if id.is_none() && !seen.insert(assigned.to_string()) {
                    checker.error(
                        path.as_str(),
                        format!("this record would get id {assigned}, which an earlier record has"),
                    );
                }
                next_id = next_id.max(assigned.saturating_add(1));
            }
            for field in resource.fields.iter().filter(|field| field.unique) {
                let Some(value) = fields.get(&field.name).filter(|value| !value.is_null()) else {
                    continue;
                };
                if let Some(earlier) = unique_values.insert((&field.name, value.to_string()), index)
                {
                    checker.error_at_key(
                        &join(&path, &field.name),
                        format!(
                            "{value} is also the {} of records.{earlier}, and {} is unique",
                            field.name, field.name
                        ),
                    );
                }
            }
            if let Err(errors) = resource.validate_whole(&mut fields) {
                for error in errors {
                    // A field whose definition has a problem reports that
                    // problem alone, not each record's value as it reads.
                    let field = error.field.split('/').next().unwrap_or_default();
                    let definition = format!("resources.{}.fields.{field}", resource.name);
                    if checker.has_problems_under(&definition) {
                        continue;
                    }
                    let field_path = join(&path, &error.field.replace('/', "."));
                    checker.error_at_key(&field_path, error.message);
                }
            }
            for (field, reference) in resource.references() {
                let Some(value) = fields.get(&field.name).filter(|value| !value.is_null()) else {
                    continue;
                };
                if let Some(ids) = plans.get(reference.resource.as_str())
                    && !ids.contains(value)
                {
                    checker.error(
                        &join(&path, &field.name),
                        format!(
                            "no {} record with id {value} will exist",
                            reference.resource
                        ),
                    );
                }
            }
        }
    }
}

fn check_id(
    checker: &mut Checker,
    path: &str,
    resource: &Resource,
    id: Option<&Value>,
    seen: &mut HashSet<String>,
) {
    let id_path = join(path, "id");
    match (resource.id, id) {
        (IdKind::String, None) => checker.error(
            path,
            "records of a resource with client-assigned ids (id: string) need an 'id'",
        ),
        (IdKind::Integer, Some(value))
            if value
                .as_i64()
                .is_none_or(|id| !(1..=MAX_SAFE_ID).contains(&id)) =>
        {
            checker.error(
                &id_path,
                format!("expected a whole number from 1 to {MAX_SAFE_ID}"),
            )
        }
        (IdKind::Uuid, Some(value)) if value.as_str().is_none_or(|text| !is_uuid(text)) => {
            checker.error(&id_path, "expected a UUID")
        }
        (IdKind::String, Some(value))
            if value
                .as_str()
                .is_none_or(|text| matches!(text, "" | "." | "..")) =>
        {
            checker.error(&id_path, "expected a non-empty string other than . and ..")
        }
        _ => {}
    }
    if let Some(value) = id
        && !seen.insert(id_text(value))
    {
        checker.error(&id_path, format!("id {value} is used by an earlier record"));
    }
}

/// The largest integer id: beyond it JavaScript clients lose precision.
const MAX_SAFE_ID: i64 = (1 << 53) - 1;

/// Whether `text` is a UUID in its canonical hyphenated form.
pub fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(index, c)| match index {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}
