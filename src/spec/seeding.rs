//! What seeding will need, checked before it runs, so that a spec `check`
//! accepts is one `serve` can seed: the order resources are seeded in
//! (referenced ones first, as far as cycles allow), references it can fill
//! (a required one needs records to point at when its records are made), and
//! values it can generate (a unique field needs a distinct value per record).

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use serde_json::Value;

use super::checker::{Checker, join};
use super::model::{Field, IdKind, Reference, Resource, Spec};
use super::values::Values;

impl Spec {
    /// The resources in the order seeding fills them: each after the ones it
    /// references, except where references form a cycle.
    pub fn seeding_order(&self) -> Vec<&Resource> {
        seeding_order(&self.resources)
            .into_iter()
            .map(|index| &self.resources[index])
            .collect()
    }
}

/// Indexes of `resources` in seeding order: repeatedly the first (in spec
/// order) whose references all point at resources already ordered (or at
/// itself); where a cycle leaves none, the first remaining one.
fn seeding_order(resources: &[Resource]) -> Vec<usize> {
    let index: HashMap<&str, usize> = resources
        .iter()
        .enumerate()
        .map(|(position, resource)| (resource.name.as_str(), position))
        .collect();
    let mut waiting = vec![0usize; resources.len()];
    let mut dependants: Vec<Vec<usize>> = vec![Vec::new(); resources.len()];
    for (position, resource) in resources.iter().enumerate() {
        for (_, reference) in resource.references() {
            match index.get(reference.resource.as_str()) {
                Some(&target) if target == position => {}
                Some(&target) => {
                    waiting[position] += 1;
                    dependants[target].push(position);
                }
                // Never ordered: as if in a cycle.
                None => waiting[position] += 1,
            }
        }
    }
    let mut remaining: BTreeSet<usize> = (0..resources.len()).collect();
    let mut ready: BTreeSet<usize> = (0..resources.len())
        .filter(|&position| waiting[position] == 0)
        .collect();
    let mut order = Vec::with_capacity(resources.len());
    while let Some(&first) = remaining.first() {
        let next = ready.pop_first().unwrap_or(first);
        remaining.remove(&next);
        order.push(next);
        for &dependant in &dependants[next] {
            waiting[dependant] -= 1;
            if waiting[dependant] == 0 && remaining.contains(&dependant) {
                ready.insert(dependant);
            }
        }
    }
    order
}

/// Reports references seeding cannot fill and fields it cannot generate values for.
pub(super) fn check(checker: &mut Checker, resources: &[Resource]) {
    let index: HashMap<&str, usize> = resources
        .iter()
        .enumerate()
        .map(|(position, resource)| (resource.name.as_str(), position))
        .collect();
    let mut rank = vec![0; resources.len()];
    for (turn, position) in seeding_order(resources).into_iter().enumerate() {
        rank[position] = turn;
    }
    for (position, resource) in resources.iter().enumerate() {
        let path = join("resources", &resource.name);
        if checker.has_problems_under(&path) {
            continue;
        }
        for (field, reference) in resource.references() {
            let Some(&target) = index.get(reference.resource.as_str()) else {
                continue;
            };
            let check = References {
                resource,
                field,
                target: &resources[target],
            };
            if target == position {
                check.to_itself(checker);
            } else if rank[target] > rank[position] {
                let why = cycle(resources, &index, position, target);
                check.to_later(checker, &why);
            } else {
                check.to_earlier(checker);
            }
        }
        if resource.count > 0 {
            generated_values(checker, resource);
        }
    }
}

/// One reference field of a resource, and the resource it references.
struct References<'a> {
    resource: &'a Resource,
    field: &'a Field,
    target: &'a Resource,
}

impl References<'_> {
    fn path(&self) -> String {
        format!(
            "resources.{}.fields.{}",
            self.resource.name, self.field.name
        )
    }

    /// The fixed records that give this field a value, with their index.
    fn fixed_values(&self) -> impl Iterator<Item = (usize, &Value)> {
        self.resource
            .records
            .iter()
            .enumerate()
            .filter_map(|(index, record)| {
                record
                    .get(&self.field.name)
                    .filter(|value| !value.is_null())
                    .map(|value| (index, value))
            })
    }

    /// Distinct targets the fixed records take from a unique reference.
    fn taken(&self) -> usize {
        if !self.field.unique {
            return 0;
        }
        let values: HashSet<String> = self
            .fixed_values()
            .map(|(_, value)| value.to_string())
            .collect();
        values.len()
    }

    /// Records are stored in order: each can reference itself or an earlier one.
    fn to_itself(&self, checker: &mut Checker) {
        let ids = fixed_ids(self.resource);
        // Generated records of integer-id resources count up after the fixed ones.
        let last_fixed = ids
            .iter()
            .flatten()
            .filter_map(|id| id.parse::<i64>().ok())
            .max()
            .unwrap_or(0);
        let generated = last_fixed..=last_fixed.saturating_add(i64::from(self.resource.count));
        for (index, value) in self.fixed_values() {
            let text = id_text(value);
            let stored_later = ids[index + 1..]
                .iter()
                .any(|id| id.as_deref() == Some(text.as_str()))
                || (self.resource.id == IdKind::Integer
                    && value
                        .as_i64()
                        .is_some_and(|id| id > last_fixed && generated.contains(&id)));
            let earlier = ids[..=index]
                .iter()
                .any(|id| id.as_deref() == Some(text.as_str()));
            if stored_later && !earlier {
                checker.error(
                    &format!("resources.{}.records.{index}.{}", self.resource.name, self.field.name),
                    format!(
                        "{value} is stored after this record (records are stored in order, fixed ones first): a record can reference itself or an earlier one"
                    ),
                );
            }
        }
        if self.resource.count == 0 || !self.field.required {
            return;
        }
        let free = self.resource.records.len() - self.taken();
        if free == 0 {
            let message = if self.resource.records.is_empty() {
                format!(
                    "the first generated {} record has no {} record to reference (a required reference to its own resource): give {} fixed `records` to start from, or make it optional (required: false)",
                    self.resource.name, self.resource.name, self.resource.name
                )
            } else {
                "every fixed record is already referenced through this unique field, so the first generated record has none left: add a fixed record, or make it optional (required: false)".to_string()
            };
            checker.error_at_key(&self.path(), message);
        }
    }

    /// The target is seeded after this resource: nothing to point at yet.
    fn to_later(&self, checker: &mut Checker, why: &str) {
        for (index, _) in self.fixed_values() {
            checker.error(
                &format!("resources.{}.records.{index}.{}", self.resource.name, self.field.name),
                format!(
                    "{} records are stored after {} records ({why}), so this record cannot reference one: leave '{}' out here and set it with a request later",
                    self.target.name, self.resource.name, self.field.name
                ),
            );
        }
        if self.resource.count > 0 && self.field.required {
            checker.error_at_key(
                &self.path(),
                format!(
                    "{} records are generated before any {} record exists ({why}), and this reference is required: make it optional (required: false), or make a reference back optional",
                    self.resource.name, self.target.name
                ),
            );
        }
    }

    /// The target is seeded first: its records must exist, one per record for a unique reference.
    fn to_earlier(&self, checker: &mut Checker) {
        if self.resource.count == 0 || !self.field.required {
            return;
        }
        let available =
            (self.target.records.len() + self.target.count as usize).saturating_sub(self.taken());
        let needed = if self.field.unique {
            self.resource.count as usize
        } else {
            1
        };
        if available >= needed {
            return;
        }
        let message = if available == 0 && !self.field.unique {
            format!(
                "no {target} records will exist to reference: give {target} a count or records, or make this reference optional (required: false)",
                target = self.target.name
            )
        } else {
            format!(
                "{} generated records need one {} record each (the reference is unique), but only {available} will be free: lower the count, or make it optional (required: false)",
                self.resource.count, self.target.name
            )
        };
        checker.error_at_key(&self.path(), message);
    }
}

/// The ids fixed records get where they are known (none for a uuid assigned at random).
fn fixed_ids(resource: &Resource) -> Vec<Option<String>> {
    let mut next: i64 = 1;
    resource
        .records
        .iter()
        .map(|record| {
            let id = record.get("id").filter(|id| !id.is_null());
            match resource.id {
                IdKind::Integer => {
                    let id = id.and_then(Value::as_i64).unwrap_or(next);
                    next = next.max(id.saturating_add(1));
                    Some(id.to_string())
                }
                IdKind::Uuid | IdKind::String => id.map(id_text),
            }
        })
        .collect()
}

fn id_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Why `target` is seeded after `resource`, which references it: the cycle
/// of references from `resource` through `target` back to it
/// (`a → b → a`), or, where `resource` is outside the cycle holding
/// `target` back, the resources seeded after it.
fn cycle(
    resources: &[Resource],
    index: &HashMap<&str, usize>,
    resource: usize,
    target: usize,
) -> String {
    let mut previous: HashMap<usize, usize> = HashMap::new();
    let mut queue = VecDeque::from([target]);
    while let Some(current) = queue.pop_front() {
        for (_, Reference { resource: name, .. }) in resources[current].references() {
            if let Some(&next) = index.get(name.as_str())
                && next != target
                && !previous.contains_key(&next)
            {
                previous.insert(next, current);
                queue.push_back(next);
            }
        }
    }
    if !previous.contains_key(&resource) {
        return format!(
            "references among resources seeded after {} form a cycle",
            resources[resource].name
        );
    }
    let mut path = vec![resource];
    let mut current = resource;
    while let Some(&before) = previous.get(&current) {
        path.push(before);
        current = before;
    }
    path.push(resource);
    path.reverse();
    let names: Vec<&str> = path.iter().map(|&at| resources[at].name.as_str()).collect();
    format!("their references form a cycle: {}", names.join(" → "))
}

/// Reports fields of a resource with a `count` that seeding cannot fill:
/// no value satisfies their constraints, or too few distinct ones for a unique field.
fn generated_values(checker: &mut Checker, resource: &Resource) {
    for field in resource
        .fields
        .iter()
        .filter(|field| field.reference.is_none() && !field.is_computed())
    {
        let fixed: HashSet<String> = resource
            .records
            .iter()
            .filter_map(|record| record.get(&field.name))
            .filter(|value| !value.is_null())
            .map(Value::to_string)
            .collect();
        let wanted = if field.unique {
            u64::from(resource.count) + fixed.len() as u64
        } else {
            1
        };
        let available = Values::of(field, wanted).count_up_to(wanted);
        if available >= wanted {
            continue;
        }
        let path = format!("resources.{}.fields.{}", resource.name, field.name);
        let message = if available == 0 {
            "standin cannot generate a value that satisfies this field's constraints (pattern, lengths, format): loosen them, or set count: 0 and give fixed `records`".to_string()
        } else {
            format!(
                "standin can generate only {available} distinct values for this unique field, and {} needs {wanted} ({} fixed, count {}): lower the count or widen the field's constraints",
                resource.name,
                fixed.len(),
                resource.count
            )
        };
        checker.error_at_key(&path, message);
    }
}
