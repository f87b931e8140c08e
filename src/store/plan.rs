//! Planning seeded records: each resource's fixed `records`, then `count`
//! generated ones drawn from a generator seeded by the spec's seed and the
//! resource's name, with distinct values for unique fields and references
//! drawn from existing ids. Storing them is `seed`'s business.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::RecordId;
use crate::clock;
use crate::fake::Faker;
use crate::spec::{Field, IdKind, Resource, Values, strip_server_set};

/// Seconds from the Unix epoch to 2025-01-01T00:00:00Z: seeded records are
/// stamped from there, one minute apart, so timestamps are reproducible.
const SEED_EPOCH: i64 = 1_735_689_600;

/// A record ready to store: its position among the resource's records, its
/// id where chosen up front, its fields serialised, and its timestamp.
pub(super) struct Planned {
    pub(super) index: usize,
    /// A fixed record's fields, whose references are checked once it is
    /// stored; none for a generated one (its references are drawn from
    /// existing ids, and its fields are dropped on the planning thread).
    pub(super) fixed: Option<Map<String, Value>>,
    pub(super) id: Option<RecordId>,
    pub(super) data: String,
    pub(super) stamp: String,
    /// The text of each of the resource's search fields (none where a
    /// field holds none), where the plan was asked for them.
    pub(super) search: Vec<Option<String>>,
    /// The value of each of the resource's reference fields, as SQL (what
    /// `json_extract` reads of `data`), for their columns.
    pub(super) references: Vec<rusqlite::types::Value>,
}

/// The records to seed for one resource, in order: its fixed records, then
/// generated ones; the same seed plans the same records.
pub(super) struct Plan<'s> {
    resource: &'s Resource,
    faker: Faker,
    taken: UniqueValues,
    index: usize,
    pub(super) total: usize,
    /// Whether fixed records are stored exactly as written, their `id`
    /// included (a json-server db.json's records).
    verbatim: bool,
    /// Whether each record comes with its search fields' text.
    search: bool,
}

impl<'s> Plan<'s> {
    /// The plan of `resource`'s records; `search`: with their search fields' text.
    pub(super) fn new(resource: &'s Resource, seed: u64, verbatim: bool, search: bool) -> Plan<'s> {
        Plan {
            resource,
            faker: Faker::new(seed, &resource.name),
            taken: UniqueValues::new(resource),
            index: 0,
            total: resource.records.len() + resource.count as usize,
            verbatim,
            search,
        }
    }

    /// The next record, drawing references from `ids`; None after the last.
    pub(super) fn next(
        &mut self,
        ids: &HashMap<&str, Vec<Value>>,
    ) -> Option<Result<Planned, String>> {
        if self.index == self.total {
            return None;
        }
        let index = self.index;
        self.index += 1;
        let fixed = self.resource.records.get(index);
        let (id, fields) = match fixed {
            Some(record) if self.verbatim => (Some(verbatim_id(record)), record.clone()),
            Some(record) => {
                let (id, fields) = fixed_record(self.resource, record);
                // A fixed record of a uuid resource may leave its id to the server.
                let id = id.or_else(|| {
                    (self.resource.id == IdKind::Uuid).then(|| RecordId::Text(self.faker.uuid()))
                });
                (id, fields)
            }
            None => match generated_record(self.resource, &mut self.faker, &mut self.taken, ids) {
                Ok(generated) => generated,
                Err(error) => return Some(Err(error)),
            },
        };
        // A singular resource's one record has the one id its path stands for.
        let id = match self.resource.singular && !self.verbatim {
            true => Some(RecordId::singular(self.resource)),
            false => id,
        };
        self.taken.record(&fields);
        let search = match self.search {
            true => self
                .resource
                .search
                .iter()
                .map(|name| fields.get(name).and_then(Value::as_str).map(str::to_string))
                .collect(),
            false => Vec::new(),
        };
        let references = super::references::values(self.resource, &fields);
        Some(Ok(Planned {
            index,
            id,
            search,
            references,
            data: serde_json::to_string(&fields).expect("JSON values serialise"),
            fixed: fixed.is_some().then_some(fields),
            stamp: clock::format_timestamp(SEED_EPOCH + 60 * index as i64, 0),
        }))
    }
}

/// The stored id of a record kept verbatim: its `id` as text (json-server
/// compares ids as text), or the one id of a singular resource's record.
fn verbatim_id(record: &Map<String, Value>) -> RecordId {
    RecordId::Text(match record.get("id") {
        Some(Value::String(text)) => text.clone(),
        Some(id @ Value::Number(_)) => crate::json_server::js_string(id),
        _ => crate::import::dbjson::SINGULAR_ID.to_string(),
    })
}

fn fixed_record(
    resource: &Resource,
    record: &Map<String, Value>,
) -> (Option<RecordId>, Map<String, Value>) {
    let mut fields = record.clone();
    let id = strip_server_set(&mut fields).and_then(|id| RecordId::from_json(resource.id, &id));
    // The spec check validated these records; this fills in defaults and
    // normalises integers.
    let _ = resource.validate_whole(&mut fields);
    (id, fields)
}

fn generated_record(
    resource: &Resource,
    faker: &mut Faker,
    taken: &mut UniqueValues,
    ids: &HashMap<&str, Vec<Value>>,
) -> Result<(Option<RecordId>, Map<String, Value>), String> {
    let mut fields = faker.record(resource)?;
    for field in resource
        .fields
        .iter()
        .filter(|field| field.unique && field.reference.is_none())
    {
        let mut attempt = 0;
        while taken.contains(field, &fields[&field.name]) {
            attempt += 1;
            if attempt > 1_000 || taken.ran_out(field) {
                // Random values ran out: the values the field allows, in order.
                let value = taken.next_free(resource, field, faker).ok_or_else(|| {
                    format!(
                        "resources.{}.fields.{}: cannot generate {} distinct values; lower the count or widen the constraints",
                        resource.name,
                        field.name,
                        resource.records.len() + resource.count as usize
                    )
                })?;
                fields.insert(field.name.clone(), value);
                break;
            }
            let mut value = faker.valid_value(resource, field)?;
            // Small generator vocabularies (city names...) run out: a numeric
            // suffix keeps values distinct, where the field's constraints allow it.
            if attempt > 20
                && let Value::String(text) = &value
            {
                let suffixed = Value::from(format!("{text} {attempt}"));
                if faker.accepts(resource, field, &suffixed) {
                    value = suffixed;
                }
            }
            fields.insert(field.name.clone(), value);
        }
    }
    for (field, reference) in resource.references() {
        let all = ids
            .get(reference.resource.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        // A unique reference takes each target at most once.
        let free: Option<Vec<&Value>> = field
            .unique
            .then(|| all.iter().filter(|id| !taken.contains(field, id)).collect());
        let value = match free.as_ref().map_or(all.len(), Vec::len) {
            0 if field.required => {
                let problem = if all.is_empty() {
                    format!(
                        "no {} records exist to reference; give {} a count or records",
                        reference.resource, reference.resource
                    )
                } else {
                    format!(
                        "only {} {} records exist for this unique reference; lower the count",
                        all.len(),
                        reference.resource
                    )
                };
                return Err(format!(
                    "resources.{}.fields.{}: {problem}",
                    resource.name, field.name
                ));
            }
            0 => Value::Null,
            len => {
                let pick = faker.index(len);
                match &free {
                    Some(free) => free[pick].clone(),
                    None => all[pick].clone(),
                }
            }
        };
        fields.insert(field.name.clone(), value);
    }
    let id = match resource.id {
        IdKind::Integer => None,
        IdKind::Uuid => Some(RecordId::Text(faker.uuid())),
        IdKind::String => Some(RecordId::Text(faker.uuid())),
    };
    Ok((id, fields))
}

/// Values of unique fields already used while seeding one resource, and the
/// supply of values of those whose random values ran out.
struct UniqueValues {
    used: HashMap<String, HashSet<String>>,
    supplies: HashMap<String, Values>,
}

impl UniqueValues {
    fn new(resource: &Resource) -> UniqueValues {
        let used = resource
            .fields
            .iter()
            .filter(|field| field.unique)
            .map(|field| (field.name.clone(), HashSet::new()))
            .collect();
        UniqueValues {
            used,
            supplies: HashMap::new(),
        }
    }

    /// Whether random values of `field` ran out earlier.
    fn ran_out(&self, field: &Field) -> bool {
        self.supplies.contains_key(&field.name)
    }

    /// The next value the field allows that is not used yet.
    fn next_free(&mut self, resource: &Resource, field: &Field, faker: &Faker) -> Option<Value> {
        let wanted = (resource.records.len() + resource.count as usize) as u64;
        let supply = self
            .supplies
            .entry(field.name.clone())
            .or_insert_with(|| Values::of(field, wanted));
        let used = self.used.get(&field.name)?;
        // Values are skipped only for being used (or, against the check, invalid).
        let limit = used.len() + 1_000;
        supply.by_ref().take(limit).find(|value| {
            !used.contains(&value.to_string()) && faker.accepts(resource, field, value)
        })
    }

    fn contains(&self, field: &Field, value: &Value) -> bool {
        !value.is_null()
            && self
                .used
                .get(&field.name)
                .is_some_and(|values| values.contains(&value.to_string()))
    }

    fn record(&mut self, fields: &Map<String, Value>) {
        for (name, values) in &mut self.used {
            if let Some(value) = fields.get(name).filter(|value| !value.is_null()) {
                values.insert(value.to_string());
            }
        }
    }
}
