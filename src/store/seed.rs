//! Seeding: each resource's fixed `records`, then `count` generated ones,
//! written once per resource (never on top of existing data) and
//! deterministic: the same spec and seed give byte-identical data.

use std::collections::{HashMap, HashSet};

use rusqlite::{Connection, OptionalExtension};
use serde_json::{Map, Value};

use super::steps::{Steps, Writer};
use super::write::insert_data;
use super::{RecordId, Store, sql_id, table};
use crate::clock;
use crate::fake::Faker;
use crate::spec::{Field, IdKind, Resource, Spec, strip_server_set};

/// Seconds from the Unix epoch to 2025-01-01T00:00:00Z: seeded records are
/// stamped from there, one minute apart, so timestamps are reproducible.
const SEED_EPOCH: i64 = 1_735_689_600;

/// Above this many records, a resource is seeded in bulk: its search index is
/// made up front and filled once after seeding instead of row by row.
/// Dropping and creating its triggers changes the schema, which costs in
/// proportion to the whole schema, so it only pays for large seedings.
const BULK: usize = 1_000;

/// Whether `resource` is seeded in bulk (see [`BULK`]).
pub(super) fn is_bulk(resource: &Resource) -> bool {
    resource.records.len() + resource.count as usize > BULK
}

/// What seeding did, per resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeedReport {
    /// Resources seeded now, with the number of records written.
    pub seeded: Vec<(String, u64)>,
}

impl Store {
    /// Seeds every resource of `spec` that has never been seeded, in steps
    /// that let requests use the store in between.
    pub fn seed(&self, spec: &Spec, seed: u64) -> Result<SeedReport, String> {
        let cannot = |error: rusqlite::Error| format!("cannot seed: {error}");
        let mut writer = Writer::Steps(Steps::begin(self).map_err(cannot)?);
        let report = seed_unseeded(&mut writer, spec, seed)?;
        if let Writer::Steps(steps) = writer {
            steps.finish().map_err(cannot)?;
        }
        Ok(report)
    }
}

/// Seeds every resource of `spec` not seeded yet, keeping a snapshot of what
/// it writes (in the attached `seeded` database) for resets.
pub(super) fn seed_unseeded(
    writer: &mut Writer<'_>,
    spec: &Spec,
    seed: u64,
) -> Result<SeedReport, String> {
    let mut ids: HashMap<&str, Vec<Value>> = HashMap::new();
    let mut report = SeedReport::default();
    for resource in seeding_order(spec) {
        let connection = writer.connection();
        if is_seeded(connection, resource).map_err(|error| error.to_string())? {
            let live = live_ids(connection, resource).map_err(|error| error.to_string())?;
            ids.insert(&resource.name, live);
            continue;
        }
        let bulk = is_bulk(resource);
        if bulk {
            super::search::pause(connection, resource).map_err(|error| error.to_string())?;
        }
        clear_unfinished(connection, resource).map_err(|error| error.to_string())?;
        let written = seed_resource(writer, spec, resource, seed, &mut ids)?;
        let connection = writer.connection();
        if bulk {
            super::search::resume(connection, resource).map_err(|error| error.to_string())?;
        }
        connection
            .execute(
                "INSERT INTO _standin_seeded (resource) VALUES (?1)",
                [&resource.name],
            )
            .map_err(|error| error.to_string())?;
        super::reset::snapshot(connection, resource)
            .map_err(|error| format!("cannot keep the seeded state: {error}"))?;
        report.seeded.push((resource.name.clone(), written));
        writer.pause().map_err(|error| error.to_string())?;
    }
    Ok(report)
}

/// Removes the rows of a seeding that never finished (a process stopped
/// between two of its steps), so that seeding starts again from nothing and
/// gives the same records and ids.
fn clear_unfinished(connection: &Connection, resource: &Resource) -> rusqlite::Result<()> {
    let table = table(resource);
    let sql = format!("SELECT EXISTS (SELECT 1 FROM {table})");
    let unfinished: bool = connection.query_row(&sql, [], |row| row.get(0))?;
    if unfinished {
        connection.execute_batch(&format!("DELETE FROM {table}"))?;
    }
    if unfinished && resource.id == IdKind::Integer {
        connection.execute(
            "DELETE FROM main.sqlite_sequence WHERE name = ?1",
            [format!("res_{}", resource.name)],
        )?;
    }
    Ok(())
}

/// Resources ordered so that referenced ones come first where the references allow it.
fn seeding_order(spec: &Spec) -> Vec<&Resource> {
    let mut ordered: Vec<&Resource> = Vec::new();
    let mut remaining: Vec<&Resource> = spec.resources.iter().collect();
    while !remaining.is_empty() {
        let ready = remaining.iter().position(|resource| {
            resource.references().all(|(_, reference)| {
                reference.resource == resource.name
                    || ordered.iter().any(|done| done.name == reference.resource)
            })
        });
        // A cycle: take the next one anyway; its references into the cycle are
        // drawn from whatever exists (or left null where optional).
        ordered.push(remaining.remove(ready.unwrap_or(0)));
    }
    ordered
}

fn is_seeded(connection: &Connection, resource: &Resource) -> rusqlite::Result<bool> {
    connection
        .query_row(
            "SELECT 1 FROM _standin_seeded WHERE resource = ?1",
            [&resource.name],
            |_| Ok(()),
        )
        .optional()
        .map(|found| found.is_some())
}

fn live_ids(connection: &Connection, resource: &Resource) -> rusqlite::Result<Vec<Value>> {
    let sql = format!(
        "SELECT id FROM {} WHERE deleted_at IS NULL ORDER BY id",
        table(resource)
    );
    let mut statement = connection.prepare(&sql)?;
    let rows = statement.query_map([], |row| {
        Ok(match resource.id {
            IdKind::Integer => Value::from(row.get::<_, i64>(0)?),
            _ => Value::from(row.get::<_, String>(0)?),
        })
    })?;
    rows.collect()
}

fn seed_resource<'s>(
    writer: &mut Writer<'_>,
    spec: &'s Spec,
    resource: &'s Resource,
    seed: u64,
    ids: &mut HashMap<&'s str, Vec<Value>>,
) -> Result<u64, String> {
    let mut plan = Plan::new(resource, seed);
    let total = plan.total as u64;
    let mut own = ids.remove(resource.name.as_str()).unwrap_or_default();
    if resource
        .references()
        .any(|(_, reference)| reference.resource == resource.name)
    {
        // A reference to its own resource draws from the records stored so
        // far: each record is planned after the one before it is stored.
        ids.insert(&resource.name, own);
        while let Some(planned) = plan.next(ids) {
            let id = store(writer, spec, resource, planned?)?;
            ids.entry(&resource.name).or_default().push(id);
        }
        return Ok(total);
    }
    // Generating values costs about as much as storing them: records are
    // planned on a second thread while this one stores them, in order.
    let others = &*ids;
    let stored = std::thread::scope(|scope| {
        let (sender, planned) = std::sync::mpsc::sync_channel(256);
        scope.spawn(move || {
            while let Some(next) = plan.next(others) {
                let failed = next.is_err();
                if sender.send(next).is_err() || failed {
                    break;
                }
            }
        });
        for next in planned {
            own.push(store(writer, spec, resource, next?)?);
        }
        Ok(())
    });
    ids.insert(&resource.name, own);
    stored.map(|()| total)
}

/// A record ready to store: its position among the resource's records, its
/// id where chosen up front, its fields serialised, and its timestamp.
struct Planned {
    index: usize,
    /// A fixed record's fields, whose references are checked once it is
    /// stored; none for a generated one (its references are drawn from
    /// existing ids, and its fields are dropped on the planning thread).
    fixed: Option<Map<String, Value>>,
    id: Option<RecordId>,
    data: String,
    stamp: String,
}

/// The records to seed for one resource, in order: its fixed records, then
/// generated ones; the same seed plans the same records.
struct Plan<'s> {
    resource: &'s Resource,
    faker: Faker,
    taken: UniqueValues,
    index: usize,
    total: usize,
}

impl<'s> Plan<'s> {
    fn new(resource: &'s Resource, seed: u64) -> Plan<'s> {
        Plan {
            resource,
            faker: Faker::new(seed, &resource.name),
            taken: UniqueValues::new(resource),
            index: 0,
            total: resource.records.len() + resource.count as usize,
        }
    }

    /// The next record, drawing references from `ids`; None after the last.
    fn next(&mut self, ids: &HashMap<&str, Vec<Value>>) -> Option<Result<Planned, String>> {
        if self.index == self.total {
            return None;
        }
        let index = self.index;
        self.index += 1;
        let fixed = self.resource.records.get(index);
        let (id, fields) = match fixed {
            Some(record) => fixed_record(self.resource, record),
            None => match generated_record(self.resource, &mut self.faker, &mut self.taken, ids) {
                Ok(generated) => generated,
                Err(error) => return Some(Err(error)),
            },
        };
        self.taken.record(&fields);
        Some(Ok(Planned {
            index,
            id,
            data: serde_json::to_string(&fields).expect("JSON values serialise"),
            fixed: fixed.is_some().then_some(fields),
            stamp: clock::format_timestamp(SEED_EPOCH + 60 * index as i64, 0),
        }))
    }
}

/// Stores a planned record of `resource`, then lets others use the store if
/// the step is over; returns its id.
fn store(
    writer: &mut Writer<'_>,
    spec: &Spec,
    resource: &Resource,
    planned: Planned,
) -> Result<Value, String> {
    let connection = writer.connection();
    let path = || match planned.fixed {
        Some(_) => format!("resources.{}.records.{}", resource.name, planned.index),
        None => format!("resources.{}.count", resource.name),
    };
    let id = insert_data(
        connection,
        resource,
        planned.id.clone(),
        &planned.data,
        &planned.stamp,
        &planned.stamp,
    )
    .map_err(|error| match error {
        rusqlite::Error::SqliteFailure(_, Some(message)) => {
            format!("{}: cannot store the record: {message}", path())
        }
        other => format!("{}: cannot store the record: {other}", path()),
    })?;
    if let Some(fields) = &planned.fixed {
        check_references(connection, spec, resource, fields, &path())?;
    }
    writer
        .pause()
        .map_err(|error| format!("cannot seed: {error}"))?;
    Ok(id.to_json())
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
            if attempt > 1_000 {
                return Err(format!(
                    "resources.{}.fields.{}: cannot generate {} distinct values; lower the count or widen the constraints",
                    resource.name,
                    field.name,
                    resource.records.len() + resource.count as usize
                ));
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

fn check_references(
    connection: &Connection,
    spec: &Spec,
    resource: &Resource,
    fields: &Map<String, Value>,
    path: &str,
) -> Result<(), String> {
    for (field, reference) in resource.references() {
        let Some(value) = fields.get(&field.name).filter(|value| !value.is_null()) else {
            continue;
        };
        let target = spec
            .resource(&reference.resource)
            .expect("the spec checks that references resolve");
        let exists = match RecordId::from_json(target.id, value) {
            Some(id) => {
                let sql = format!("SELECT 1 FROM {} WHERE id = ?1", table(target));
                connection
                    .prepare_cached(&sql)
                    .and_then(|mut statement| statement.query_row([sql_id(&id)], |_| Ok(())))
                    .optional()
                    .map_err(|error| error.to_string())?
                    .is_some()
            }
            None => false,
        };
        if !exists {
            return Err(format!(
                "{path}.{}: no {} record has id {value}",
                field.name, target.name
            ));
        }
    }
    Ok(())
}

/// Values of unique fields already used while seeding one resource.
struct UniqueValues {
    used: HashMap<String, HashSet<String>>,
}

impl UniqueValues {
    fn new(resource: &Resource) -> UniqueValues {
        let used = resource
            .fields
            .iter()
            .filter(|field| field.unique)
            .map(|field| (field.name.clone(), HashSet::new()))
            .collect();
        UniqueValues { used }
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
