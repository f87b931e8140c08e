//! The number of live records of each resource, kept in a table of the
//! database (`_standin_counts`) and changed by the same transaction as the
//! records, so that every reader sees the count of the state it reads and an
//! unfiltered page's total costs one lookup instead of a count of the whole
//! collection. Writes add or take what they change (see `write`); bulk
//! changes (seeding, resets, a db.json's reload) set it afresh; a resource
//! without a row (a database from before) is counted when it is prepared.
//!
//! Filtered and searched totals are counted by their query, and kept in
//! [`Totals`], shared by the store's connections, with the generation of
//! the resource they were counted at. A group of writes that cannot have
//! changed a total carries it to the group's generation instead of dropping
//! it: records changed in no field the total reads, and records created,
//! each added if it is among those counted. The positions of a query's deep
//! pages ([`Fact::Positions`]) are kept beside them the same way, moved by
//! the records created before the first. A reader whose snapshot writes
//! passed reads what is kept only where it is true of every state the
//! snapshot may be of ([`Seen`]): the fact as it is now, or one of the
//! values writes changed it from ([`Earlier`]).

use std::collections::{HashMap, HashSet};

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension};

use super::{RecordId, sql_id, table};
use crate::spec::Resource;

/// Creates the table of counts.
pub(super) fn create_meta(connection: &Connection) -> rusqlite::Result<()> {
    connection.execute_batch(
        "CREATE TABLE IF NOT EXISTS _standin_counts (resource TEXT PRIMARY KEY NOT NULL, live INTEGER NOT NULL) WITHOUT ROWID",
    )
}

/// Counts the live records of `resource` if its count is not kept yet.
pub(super) fn ensure(connection: &Connection, resource: &Resource) -> rusqlite::Result<()> {
    let sql = format!(
        "INSERT INTO _standin_counts (resource, live)
         SELECT ?1, (SELECT count(*) FROM {} WHERE deleted_at IS NULL)
         WHERE NOT EXISTS (SELECT 1 FROM _standin_counts WHERE resource = ?1)",
        table(resource)
    );
    connection.prepare_cached(&sql)?.execute([&resource.name])?;
    Ok(())
}

/// Counts the live records of `resource` afresh.
pub(super) fn recount(connection: &Connection, resource: &Resource) -> rusqlite::Result<()> {
    let sql = format!(
        "INSERT OR REPLACE INTO _standin_counts (resource, live)
         SELECT ?1, count(*) FROM {} WHERE deleted_at IS NULL",
        table(resource)
    );
    connection.prepare_cached(&sql)?.execute([&resource.name])?;
    Ok(())
}

/// Sets the count of `resource`, whose live records the caller knows.
pub(super) fn set(connection: &Connection, resource: &Resource, live: i64) -> rusqlite::Result<()> {
    connection
        .prepare_cached("INSERT OR REPLACE INTO _standin_counts (resource, live) VALUES (?1, ?2)")?
        .execute((&resource.name, live))?;
    Ok(())
}

/// Adds `change` (negative: takes) to the count of `resource`, which a write
/// changed by as many live records; counts them if no count is kept.
pub(super) fn add(
    connection: &Connection,
    resource: &Resource,
    change: i64,
) -> rusqlite::Result<()> {
    if change == 0 {
        return Ok(());
    }
    let changed = connection
        .prepare_cached("UPDATE _standin_counts SET live = live + ?2 WHERE resource = ?1")?
        .execute((&resource.name, change))?;
    if changed == 0 {
        ensure(connection, resource)?;
    }
    Ok(())
}

/// The kept count of `resource`'s live records, if one is kept.
pub(super) fn live(connection: &Connection, resource: &Resource) -> rusqlite::Result<Option<i64>> {
    live_of(connection, &resource.name)
}

/// The kept count of the live records of the resource named `name`, if one is kept.
pub(super) fn live_of(connection: &Connection, name: &str) -> rusqlite::Result<Option<i64>> {
    connection
        .prepare_cached("SELECT live FROM _standin_counts WHERE resource = ?1")?
        .query_row([name], |row| row.get(0))
        .optional()
}

/// The most totals kept; more empty the cache.
const MOST_TOTALS: usize = 4096;

/// The most records created in one group whose totals are carried across
/// it (each a lookup per total kept); a group creating more drops them.
const MOST_CARRIED_CREATES: usize = 16;

/// What one group of writes did to one resource's records, as the totals
/// of filtered queries see it.
#[derive(Debug, Default)]
pub(super) struct Written {
    /// The records created.
    pub created: HashSet<RecordId>,
    /// The records changed that stayed live.
    pub records: HashSet<RecordId>,
    /// The fields changed in records that stayed live (`updated_at` too).
    pub fields: HashSet<String>,
    /// A write no total is carried across (a delete, a bulk change).
    pub unknown: bool,
}

impl Written {
    /// A write whose effect on totals is not known.
    pub(super) fn unknown() -> Written {
        Written {
            unknown: true,
            ..Written::default()
        }
    }

    /// The record `id` created.
    pub(super) fn created(id: RecordId) -> Written {
        Written {
            created: HashSet::from([id]),
            ..Written::default()
        }
    }

    /// These fields changed in the record `id`, which stays live.
    pub(super) fn changed(id: RecordId, fields: impl IntoIterator<Item = String>) -> Written {
        Written {
            records: HashSet::from([id]),
            fields: fields.into_iter().collect(),
            ..Written::default()
        }
    }

    /// Adds what `other` did.
    pub(super) fn merge(&mut self, other: Written) {
        self.created.extend(other.created);
        self.records.extend(other.records);
        self.fields.extend(other.fields);
        self.unknown |= other.unknown;
    }
}

/// What a filtered total depends on, besides which records are live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Reads {
    /// These fields (`updated_at` as one).
    Fields(Vec<String>),
    /// Anything of the records (a computed field).
    Everything,
}

impl Reads {
    /// Whether changing `fields` may change what reads this.
    pub(super) fn touched_by(&self, fields: &HashSet<String>) -> bool {
        match self {
            Reads::Everything => !fields.is_empty(),
            Reads::Fields(read) => read.iter().any(|field| fields.contains(field)),
        }
    }
}

/// What is known of a filtered or searched query at one generation of its
/// resource, and how to keep it current.
#[derive(Debug)]
pub(super) struct Total {
    /// The resource counted.
    pub resource: String,
    /// The resource's generation the total is of.
    pub generation: u64,
    /// The generation since which the records counted are the same ones
    /// (at most `generation`).
    pub same_since: u64,
    /// What is known.
    pub fact: Fact,
    /// What the fact was at generations before `same_since`, the latest
    /// last (at most [`MOST_EARLIER`]): a reader whose snapshot writes have
    /// passed reads the one of its state.
    pub earlier: Vec<Earlier>,
    /// What of a record decides whether it matches (and, for positions,
    /// where it comes).
    pub reads: Reads,
    /// How to tell whether a created record is counted.
    pub membership: Membership,
}

/// What a total's fact was at some generations before a write changed it:
/// the count, or the positions' shift (their keys stay the same).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Earlier {
    /// The first generation it was true of.
    pub since: u64,
    /// The generation of the write that changed it.
    pub until: u64,
    /// The count, or the shift.
    pub amount: u64,
}

/// How many earlier values of a total are kept: the writes a reader's
/// snapshot may have fallen behind by while it reads.
const MOST_EARLIER: usize = 8;

/// What is kept of a query.
#[derive(Debug, Clone)]
pub(super) enum Fact {
    /// How many records match.
    Count(i64),
    /// The order keys of the records at every [`POSITIONS_APART`]th place
    /// of the query's order: a page far into it is read from the nearest
    /// one before it instead of stepping over every record.
    Positions(Positions),
}

/// The order keys of the records at every [`POSITIONS_APART`]th place of a
/// query's order, from the `shift`th.
#[derive(Debug, Clone)]
pub(super) struct Positions {
    /// The order keys of each, in order.
    pub keys: Vec<Vec<Sql>>,
    /// How many records were created before the first since it was found
    /// (the newest first, in an order on when records were created): each
    /// kept one is as many places further.
    pub shift: u64,
    /// The query's order, to tell where a record created comes in it.
    pub order: Order,
}

/// A query's records in its order, for telling where one comes.
#[derive(Debug, Clone)]
pub(super) struct Order {
    /// Its FROM, WHERE and the WHERE's parameters.
    pub from: String,
    pub condition: String,
    pub parameters: Vec<Sql>,
    /// The expressions it orders by, each with whether it is descending.
    pub keys: Vec<(String, bool)>,
}

impl Positions {
    /// The first and last kept positions, with the order.
    fn ends(&self) -> Positions {
        let ends = match self.keys.as_slice() {
            [first, .., last] => vec![first.clone(), last.clone()],
            keys => keys.to_vec(),
        };
        Positions {
            keys: ends,
            shift: self.shift,
            order: self.order.clone(),
        }
    }

    /// Of the records `created`, `added` of which are among the query's,
    /// how many come before the first kept position, if every one of them
    /// comes before the first or after the last (none moves a kept one
    /// but by places before them all).
    fn created_before(
        &self,
        connection: &Connection,
        created: &HashSet<RecordId>,
        added: i64,
    ) -> Option<u64> {
        let (first, last) = (self.keys.first()?, self.keys.last()?);
        let Order {
            from,
            condition,
            parameters,
            keys,
        } = &self.order;
        let (at_first, first_parameters) = super::select::at_or_after(keys, first);
        let (at_last, last_parameters) = super::select::at_or_after(keys, last);
        let matching = |place: &str, place_parameters: &[Sql], id: &RecordId| {
            let sql = format!(
                "SELECT count(*) FROM {from} WHERE {from}.id = ? AND {condition} AND {place}"
            );
            let all = std::iter::once(sql_id(id))
                .chain(parameters.iter().cloned())
                .chain(place_parameters.iter().cloned());
            connection
                .prepare_cached(&sql)
                .and_then(|mut statement| {
                    statement.query_row(rusqlite::params_from_iter(all), |row| row.get::<_, i64>(0))
                })
                .ok()
        };
        let (mut before, mut after) = (0, 0);
        for id in created {
            before += matching(&format!("NOT ({at_first})"), &first_parameters, id)?;
            after += matching(&at_last, &last_parameters, id)?;
        }
        (before + after == added).then(|| before.unsigned_abs())
    }
}

/// The kept position nearest a place of a query's order (see [`Totals::position`]).
#[derive(Debug)]
pub(super) struct Nearest {
    /// Which kept position it is.
    pub index: usize,
    /// Its order keys.
    pub values: Vec<Sql>,
    /// How many positions are kept.
    pub kept: usize,
    /// The place of the first kept position.
    pub shift: u64,
}

/// How many places apart the kept positions of a query's order are.
pub(super) const POSITIONS_APART: u64 = 100;

/// The most positions kept for all queries together (about 8 MB; the deep
/// pages of ten million records' worth of orders).
const MOST_POSITIONS: usize = 100_000;

/// How to tell whether a record created is among those a total counts.
#[derive(Debug, Clone)]
pub(super) enum Membership {
    /// This SQL counts whether the record whose id is bound first matches
    /// (0 or 1), the query's parameters following.
    Query(String, Vec<Sql>),
    /// A search for these words (with filters or not): this SQL reads the
    /// searched fields of the record whose id is bound, which is certainly
    /// not counted when they lack a word ([`super::search::cannot_match`]);
    /// else it is not known (matching one record costs the index about
    /// what counting all the matches does).
    Search(String, String),
}

/// Which state of a resource a connection reads, as kept totals are looked up by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Seen {
    /// The resource's generation, when the state read is its latest:
    /// what is counted is kept under it.
    pub current: Option<u64>,
    /// Generations of the store the state read is of one of (both ends
    /// settled ones): the first and the last it may be.
    pub states: (u64, u64),
}

/// Which of what a total keeps is true of a state (see [`Total::true_of`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Known {
    /// The fact as it is now.
    Now,
    /// An earlier count, or shift of the positions.
    Before(u64),
}

impl Total {
    /// What kept is true of the state `seen`: the fact, if of its generation
    /// or of any the records counted stayed the same through; else an
    /// earlier value, if one was true of every state `seen` may be.
    fn true_of(&self, seen: Seen) -> Option<Known> {
        let (first, last) = seen.states;
        if seen.current == Some(self.generation)
            || (self.same_since <= first && last <= self.generation)
        {
            return Some(Known::Now);
        }
        self.earlier
            .iter()
            .find(|earlier| earlier.since <= first && last < earlier.until)
            .map(|earlier| Known::Before(earlier.amount))
    }

    /// Remembers the fact's `amount` before a write at generation `to`
    /// changes it.
    fn changed(&mut self, amount: u64, to: u64) {
        if self.earlier.len() == MOST_EARLIER {
            self.earlier.remove(0);
        }
        self.earlier.push(Earlier {
            since: self.same_since,
            until: to,
            amount,
        });
        self.same_since = to;
    }
}

/// The searched fields of created records, by the SQL reading them and the
/// record's id, read once for all the searches' totals (`None`: no record).
type SearchedTexts = HashMap<(String, RecordId), Option<Vec<Sql>>>;

impl Membership {
    /// How many of the records `created` are counted, if known.
    fn count(
        &self,
        connection: &Connection,
        created: &HashSet<RecordId>,
        texts: &mut SearchedTexts,
    ) -> Option<i64> {
        let mut counted = 0;
        for id in created {
            counted += match self {
                Membership::Query(sql, parameters) => {
                    let parameters = std::iter::once(sql_id(id)).chain(parameters.iter().cloned());
                    let mut statement = connection.prepare_cached(sql).ok()?;
                    statement
                        .query_row(rusqlite::params_from_iter(parameters), |row| row.get(0))
                        .ok()?
                }
                Membership::Search(sql, words) => {
                    let key = (sql.clone(), id.clone());
                    let read = match texts.get(&key) {
                        Some(read) => read,
                        None => {
                            let read = searched_texts(connection, sql, id).ok()?;
                            texts.entry(key).or_insert(read)
                        }
                    };
                    match read {
                        // Created and deleted in the same group.
                        None => 0,
                        Some(read) if super::search::cannot_match(words, read) => 0,
                        Some(_) => return None,
                    }
                }
            };
        }
        Some(counted)
    }
}

/// The values `sql` reads of the record `id`, if it exists.
fn searched_texts(
    connection: &Connection,
    sql: &str,
    id: &RecordId,
) -> rusqlite::Result<Option<Vec<Sql>>> {
    connection
        .prepare_cached(sql)?
        .query_row([sql_id(id)], |row| {
            (0..row.as_ref().column_count())
                .map(|column| row.get::<_, Sql>(column))
                .collect()
        })
        .optional()
}

/// The totals of filtered and searched list queries, by their SQL and
/// parameters, shared by every connection of a store.
#[derive(Debug, Default)]
pub(super) struct Totals(parking_lot::Mutex<HashMap<String, Total>>);

impl Totals {
    /// The total kept under `key`, if it is true of the state `seen`.
    pub(super) fn get(&self, key: &str, seen: Seen) -> Option<i64> {
        let totals = self.0.lock();
        let total = totals.get(key)?;
        match (&total.fact, total.true_of(seen)?) {
            (Fact::Count(count), Known::Now) => Some(*count),
            (Fact::Count(_), Known::Before(count)) => i64::try_from(count).ok(),
            (Fact::Positions(_), _) => None,
        }
    }

    /// The generation since which the records counted under `key` are the
    /// same ones, if its total is kept at `generation`.
    pub(super) fn same_since(&self, key: &str, generation: u64) -> Option<u64> {
        let totals = self.0.lock();
        let total = totals
            .get(key)
            .filter(|total| total.generation == generation)?;
        matches!(total.fact, Fact::Count(_)).then_some(total.same_since)
    }

    /// Of the positions kept under `key`, if they are true of the state
    /// `seen`: the nearest at or before the `offset`th place, its index,
    /// how many are kept, and the place of the first.
    pub(super) fn position(&self, key: &str, seen: Seen, offset: u64) -> Option<Nearest> {
        let totals = self.0.lock();
        let total = totals.get(key)?;
        let Fact::Positions(positions) = &total.fact else {
            return None;
        };
        let shift = match total.true_of(seen)? {
            Known::Now => positions.shift,
            Known::Before(shift) => shift,
        };
        let wanted = offset.checked_sub(shift)? / POSITIONS_APART;
        let index = usize::try_from(wanted)
            .unwrap_or(usize::MAX)
            .min(positions.keys.len().checked_sub(1)?);
        Some(Nearest {
            index,
            values: positions.keys[index].clone(),
            kept: positions.keys.len(),
            shift,
        })
    }

    /// Adds the positions `found` in the state `seen` after the `known`
    /// ones kept under `key`; where none are kept, keeps them as `first`
    /// makes them (of the resource's generation), if the state read is its
    /// latest. (Positions kept meanwhile, further or newer, are left as
    /// they are.)
    pub(super) fn add_positions(
        &self,
        key: String,
        seen: Seen,
        known: usize,
        found: Vec<Vec<Sql>>,
        first: impl FnOnce(u64, Vec<Vec<Sql>>) -> Total,
    ) {
        let mut totals = self.0.lock();
        // Bounded in memory, whatever the queries: past the bound, every
        // query's positions are forgotten (and found again as asked for).
        let held: usize = totals
            .values()
            .map(|total| match &total.fact {
                Fact::Positions(positions) => positions.keys.len(),
                Fact::Count(_) => 0,
            })
            .sum();
        if found.len() > MOST_POSITIONS {
            return;
        }
        if held + found.len() > MOST_POSITIONS {
            totals.retain(|_, total| matches!(total.fact, Fact::Count(_)));
        }
        match totals.get_mut(&key) {
            // Between the states the shifts are kept for, records were
            // created before the first key only (see `apply`): a key found
            // in any of them is as many places from the first in each.
            Some(total) if total.true_of(seen).is_some() => {
                if let Fact::Positions(kept) = &mut total.fact
                    && kept.keys.len() == known
                {
                    kept.keys.extend(found);
                }
            }
            Some(kept) if Some(kept.generation) >= seen.current => {}
            _ => {
                let Some(generation) = seen.current.filter(|_| known == 0) else {
                    return;
                };
                if totals.len() >= MOST_TOTALS {
                    totals.clear();
                }
                totals.insert(key, first(generation, found));
            }
        }
    }

    /// Keeps `total` under `key`, unless a total of a later generation is kept.
    pub(super) fn keep(&self, key: String, total: Total) {
        let mut totals = self.0.lock();
        if totals
            .get(&key)
            .is_some_and(|kept| kept.generation >= total.generation)
        {
            return;
        }
        if totals.len() >= MOST_TOTALS {
            totals.clear();
        }
        totals.insert(key, total);
    }

    /// Forgets every total (the data was replaced).
    pub(super) fn clear(&self) {
        self.0.lock().clear();
    }

    /// How the totals of `resource` kept at generation `from` change with
    /// what a group `written`, read on `connection`, which sees its writes
    /// (before or after they commit): those it cannot have changed but by
    /// records created, and how.
    pub(super) fn plan(
        &self,
        connection: &Connection,
        resource: &str,
        written: &Written,
        from: u64,
    ) -> Carried {
        let mut carried = Carried {
            from,
            changes: HashMap::new(),
        };
        if written.unknown || written.created.len() > MOST_CARRIED_CREATES {
            return carried;
        }
        // What deciding needs, copied out: the lookups run unlocked.
        let candidates: Vec<(String, Membership, Option<Positions>)> = self
            .0
            .lock()
            .iter()
            .filter(|(_, total)| {
                total.resource == resource
                    && total.generation == from
                    && !total.reads.touched_by(&written.fields)
            })
            .map(|(key, total)| {
                let ends = match &total.fact {
                    Fact::Positions(positions) if !written.created.is_empty() => {
                        Some(positions.ends())
                    }
                    _ => None,
                };
                (key.clone(), total.membership.clone(), ends)
            })
            .collect();
        let mut texts = SearchedTexts::new();
        for (key, membership, ends) in candidates {
            let Some(added) = membership.count(connection, &written.created, &mut texts) else {
                continue;
            };
            // Records created before the first position move every kept
            // one by as many places, those after the last none; one
            // created among them is not known to move each by one.
            let before = match ends {
                Some(ends) if added != 0 => {
                    match ends.created_before(connection, &written.created, added) {
                        Some(before) => before,
                        None => continue,
                    }
                }
                _ => 0,
            };
            carried.changes.insert(key, (added, before));
        }
        carried
    }

    /// Carries the totals of `resource` as `planned` (none: drops them all)
    /// to generation `to`; those kept since, or not planned, are dropped.
    pub(super) fn apply(&self, resource: &str, planned: Option<Carried>, to: u64) {
        let mut totals = self.0.lock();
        let keys: Vec<String> = totals
            .iter()
            .filter(|(_, total)| total.resource == resource)
            .map(|(key, _)| key.clone())
            .collect();
        for key in keys {
            let Some(mut total) = totals.remove(&key) else {
                continue;
            };
            let Some(planned) = &planned else {
                continue;
            };
            let Some(&(added, before)) = planned.changes.get(&key) else {
                continue;
            };
            if total.generation != planned.from {
                continue;
            }
            let was = match &mut total.fact {
                Fact::Count(count) if added != 0 => {
                    // Never negative; one that were would be read as unknown.
                    let was = u64::try_from(*count).unwrap_or(u64::MAX);
                    *count += added;
                    Some(was)
                }
                Fact::Count(_) | Fact::Positions(_) if added == 0 => None,
                Fact::Positions(positions) if positions.shift + before < POSITIONS_APART => {
                    let was = positions.shift;
                    positions.shift += before;
                    if added.unsigned_abs() > before {
                        // Some come after the last: the kept keys are where
                        // they were, but keys found further on now, in this
                        // state, would not be in an earlier one, nor those
                        // an earlier state finds in this one. Only this
                        // state and later ones read them.
                        total.earlier.clear();
                        total.same_since = to;
                        None
                    } else {
                        Some(was)
                    }
                }
                Fact::Positions(_) => continue,
                Fact::Count(_) => None,
            };
            if let Some(was) = was {
                total.changed(was, to);
            }
            total.generation = to;
            totals.insert(key, total);
        }
    }
}

/// How a group's writes change the totals of one resource kept at a
/// generation: by key, the records created that each counts, and (for
/// positions) how many of them come before the first.
#[derive(Debug)]
pub(super) struct Carried {
    from: u64,
    changes: HashMap<String, (i64, u64)>,
}

#[cfg(test)]
impl super::Store {
    /// Fails unless every resource of `spec` keeps the count of its live records.
    pub(crate) fn counts_hold(&self, spec: &crate::spec::Spec) -> Result<(), String> {
        let connection = self.lock();
        for resource in &spec.resources {
            let sql = format!(
                "SELECT count(*) FROM {} WHERE deleted_at IS NULL",
                table(resource)
            );
            let counted: i64 = connection
                .query_row(&sql, [], |row| row.get(0))
                .map_err(|error| error.to_string())?;
            let kept = live(&connection, resource).map_err(|error| error.to_string())?;
            if kept != Some(counted) {
                return Err(format!(
                    "{}: kept {kept:?}, counted {counted}",
                    resource.name
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value, json};

    use super::super::{Location, RecordId, Store, StoreError, select};
    use super::{
        Fact, MOST_POSITIONS, Membership, Order, Positions, Reads, Seen, Sql, Total, Totals,
    };
    use crate::spec::{Resource, Spec};

    const SPEC: &str = "standin: 1\nresources:\n  posts:\n    fields:\n      \
        title: string\n      status: { type: string, enum: [draft, published] }\n      \
        views: integer\n    count: 0\n";

    /// Filtered and searched queries whose totals are kept.
    const QUERIES: [&str; 6] = [
        "status=draft",
        "views__gte=50",
        "q=alpha",
        "q=alpha&status=published",
        "status=draft&views__lt=30",
        "q=zzz",
    ];

    fn fields(title: &str, status: &str, views: i64) -> Map<String, Value> {
        let Value::Object(fields) = json!({"title": title, "status": status, "views": views})
        else {
            unreachable!()
        };
        fields
    }

    /// The spec of posts, an in-memory store with its tables, and a reading connection to it.
    fn prepared() -> (Spec, Store, Store) {
        let spec = crate::spec::parse("spec.yaml", SPEC).expect("a valid spec");
        let store = Store::open(Location::Memory).expect("a store");
        store.prepare(&spec).expect("tables");
        let reader = store.open_reader().expect("a reader");
        (spec, store, reader)
    }

    /// Runs `write` as the store's thread runs a grouped write: in a
    /// savepoint of its own, kept or rolled back, then settled.
    fn member(store: &Store, keep: bool, write: impl FnOnce() -> Result<(), StoreError>) {
        store.savepoint("member").expect("a savepoint");
        write().expect("written");
        store.release("member", keep);
        store.settle();
    }

    /// Creates `count` posts, drafts and published in turn, as one grouped write.
    fn create_alternating(store: &Store, spec: &Spec, posts: &Resource, count: i64) {
        member(store, true, || {
            for index in 0..count {
                let status = ["draft", "published"][(index % 2) as usize];
                store.create(spec, posts, None, fields("text", status, index))?;
            }
            Ok(())
        });
    }

    /// Sets `field` of post `id` to `value`, as a grouped write.
    fn set_field(store: &Store, spec: &Spec, posts: &Resource, id: i64, field: &str, value: Value) {
        member(store, true, || {
            store.update(spec, posts, &RecordId::Integer(id), |current| {
                let mut fields = current.fields.clone();
                fields.insert(field.to_string(), value);
                Ok::<_, StoreError>(fields)
            })?;
            Ok(())
        });
    }

    /// Every query's total as a reader answers it, checked against a count
    /// made afresh; gives which of them the reader found kept.
    fn check_totals(store: &Store, reader: &Store, spec: &Spec, posts: &Resource) -> Vec<bool> {
        QUERIES
            .iter()
            .map(|text| {
                let query = crate::query::parse_list(spec, posts, text).expect("a query");
                let compiled = select::compile(posts, &query, &[]);
                let counted: i64 = store
                    .lock()
                    .query_row(
                        &compiled.count,
                        rusqlite::params_from_iter(&compiled.count_parameters),
                        |row| row.get(0),
                    )
                    .expect("counted");
                reader.in_snapshot(|| {
                    let seen = reader.seen("posts").expect("known");
                    let kept = reader.totals.get(&compiled.total_key(), seen);
                    let page = reader.list(posts, &query, &[]).expect("a page");
                    assert_eq!(page.total, counted.unsigned_abs(), "{text}");
                    kept.is_some()
                })
            })
            .collect()
    }

    /// The ids of `query`'s page as OFFSET reads it on `connection`'s store
    /// (a reader: in its snapshot), integer ids.
    fn offset_ids(
        connection: &Store,
        posts: &Resource,
        query: &crate::query::ListQuery,
    ) -> Vec<RecordId> {
        let compiled = select::compile(posts, query, &[]);
        let connection = connection.lock();
        let mut statement = connection.prepare(&compiled.page).expect("a page query");
        let parameters = compiled.parameters.iter().cloned().chain([
            rusqlite::types::Value::Integer(query.limit as i64),
            rusqlite::types::Value::Integer(query.offset as i64),
        ]);
        statement
            .query_map(rusqlite::params_from_iter(parameters), |row| {
                Ok(RecordId::Integer(row.get(0)?))
            })
            .expect("rows")
            .collect::<rusqlite::Result<_>>()
            .expect("rows")
    }

    /// The ids of `query`'s page as `store` lists it.
    fn listed_ids(
        store: &Store,
        posts: &Resource,
        query: &crate::query::ListQuery,
    ) -> Vec<RecordId> {
        let page = store.list(posts, query, &[]).expect("a page");
        page.records.into_iter().map(|record| record.id).collect()
    }

    /// Orders positions can be kept for, with filters or not.
    const ORDERED: [&str; 6] = [
        "sort=-created_at",
        "status=draft&sort=-created_at",
        "sort=created_at",
        "status=published&sort=-updated_at",
        "views__gte=300&sort=updated_at,-id",
        "sort=-id",
    ];

    /// The ids of every page of each ordered query far enough in to be read
    /// from a kept position, as the reader answers them, checked against the
    /// same pages read with OFFSET; gives how many positions each query keeps.
    fn check_pages(store: &Store, reader: &Store, spec: &Spec, posts: &Resource) -> Vec<usize> {
        let ids = |page: &super::super::read::Page| -> Vec<RecordId> {
            page.records
                .iter()
                .map(|record| record.id.clone())
                .collect()
        };
        ORDERED
            .iter()
            .map(|text| {
                for offset in [100, 137, 250, 299, 300, 1234] {
                    let mut query = crate::query::parse_list(spec, posts, text).expect("a query");
                    query.offset = offset;
                    query.limit = 7;
                    let offset_read = offset_ids(store, posts, &query);
                    // The writer makes the index first; the reader keeps positions.
                    store.list(posts, &query, &[]).expect("a page");
                    store.settle();
                    let page =
                        reader.in_snapshot(|| reader.list(posts, &query, &[]).expect("a page"));
                    assert_eq!(ids(&page), offset_read, "{text}, offset {offset}");
                }
                let query = crate::query::parse_list(spec, posts, text).expect("a query");
                let compiled = select::compile(posts, &query, &[]);
                let key = format!("{}\u{0}{:?}", compiled.page, compiled.parameters);
                reader.in_snapshot(|| {
                    let seen = reader.seen("posts").expect("known");
                    reader
                        .totals
                        .position(&key, seen, u64::MAX)
                        .map_or(0, |nearest| nearest.kept)
                })
            })
            .collect()
    }

    #[test]
    fn pages_read_from_kept_positions_are_those_offset_reads() {
        let (spec, store, reader) = prepared();
        let posts = spec.resource("posts").expect("posts");
        // Many records share a creation time (made in the same millisecond):
        // ties are ordered by id.
        create_alternating(&store, &spec, posts, 700);
        let kept = check_pages(&store, &reader, &spec, posts);
        // `sort=-id` over contiguous ids is read from the id it starts at.
        assert!(kept[..5].iter().all(|&count| count >= 3), "{kept:?}");
        assert_eq!(kept[5], 0);
        // A change of a field no order or filter reads keeps every position.
        let update = |id, field, value| set_field(&store, &spec, posts, id, field, value);
        update(5, "title", json!("retitled"));
        let carried = reader.in_snapshot(|| {
            let seen = reader.seen("posts").expect("known");
            let query = crate::query::parse_list(&spec, posts, ORDERED[1]).expect("a query");
            let compiled = select::compile(posts, &query, &[]);
            let key = format!("{}\u{0}{:?}", compiled.page, compiled.parameters);
            reader.totals.position(&key, seen, 0).is_some()
        });
        assert!(carried, "positions carried across a change of the title");
        check_pages(&store, &reader, &spec, posts);
        // Changes of what orders and filters read, creates that match some
        // queries and not others, a rolled-back create, a delete.
        update(600, "status", json!("published"));
        check_pages(&store, &reader, &spec, posts);
        update(10, "views", json!(5));
        check_pages(&store, &reader, &spec, posts);
        // Records created come first in the orders newest first (each kept
        // position a place further), last in the others (none moved).
        let shift = |text: &str| {
            reader.in_snapshot(|| {
                let seen = reader.seen("posts").expect("known");
                let query = crate::query::parse_list(&spec, posts, text).expect("a query");
                let compiled = select::compile(posts, &query, &[]);
                let key = format!("{}\u{0}{:?}", compiled.page, compiled.parameters);
                reader
                    .totals
                    .position(&key, seen, u64::MAX)
                    .map(|nearest| nearest.shift)
            })
        };
        for (round, views) in [900, 901, 902].into_iter().enumerate() {
            member(&store, true, || {
                store.create(&spec, posts, None, fields("new", "draft", views))?;
                Ok(())
            });
            assert_eq!(shift(ORDERED[0]), Some(round as u64 + 1), "carried, moved");
            assert_eq!(shift(ORDERED[1]), Some(round as u64 + 1), "carried, moved");
            assert_eq!(shift(ORDERED[2]), Some(0), "carried as they were");
            check_pages(&store, &reader, &spec, posts);
        }
        // One created among them (as a clock set back would make it): not
        // known to move each by one, the positions are found again.
        member(&store, true, || {
            let record = store.create(&spec, posts, None, fields("old", "draft", 903))?;
            let RecordId::Integer(id) = record.id else {
                unreachable!("integer ids")
            };
            store
                .lock()
                .execute(
                    "UPDATE res_posts SET created_at = (SELECT created_at FROM res_posts \
                     ORDER BY created_at DESC, id LIMIT 1 OFFSET 150) WHERE id = ?1",
                    [id],
                )
                .expect("moved back");
            Ok(())
        });
        assert_eq!(shift(ORDERED[0]), None, "dropped");
        check_pages(&store, &reader, &spec, posts);
        member(&store, false, || {
            store.create(&spec, posts, None, fields("gone", "published", 901))?;
            Ok(())
        });
        check_pages(&store, &reader, &spec, posts);
        member(&store, true, || {
            store.delete(&spec, posts, &RecordId::Integer(250), &|_| Ok(()))?;
            Ok(())
        });
        let kept = check_pages(&store, &reader, &spec, posts);
        assert!(kept.iter().all(|&count| count >= 3), "{kept:?}");
    }

    #[test]
    fn a_snapshot_that_creates_passed_reads_deep_pages_from_its_states_shift() {
        let (spec, store, reader) = prepared();
        let posts = spec.resource("posts").expect("posts");
        create_alternating(&store, &spec, posts, 700);
        check_pages(&store, &reader, &spec, posts);
        let mut query = crate::query::parse_list(&spec, posts, ORDERED[1]).expect("a query");
        (query.offset, query.limit) = (250, 7);
        let compiled = select::compile(posts, &query, &[]);
        let key = format!("{}\u{0}{:?}", compiled.page, compiled.parameters);
        // The page as OFFSET reads it on the reader's connection, in its snapshot.
        let offset_read = || offset_ids(&reader, posts, &query);
        let listed = || listed_ids(&reader, posts, &query);
        reader.in_snapshot(|| {
            let before = offset_read();
            assert_eq!(listed(), before);
            // Drafts created while the snapshot is open come first in the
            // order: the positions kept move by three for the new state.
            member(&store, true, || {
                for _ in 0..3 {
                    store.create(&spec, posts, None, fields("new", "draft", 1))?;
                }
                Ok(())
            });
            let seen = reader.seen("posts").expect("known");
            assert_eq!(seen.current, None, "written since the snapshot");
            let nearest = reader.totals.position(&key, seen, 250).expect("still kept");
            assert_eq!(nearest.shift, 0, "the snapshot's shift");
            assert_eq!(listed(), before);
        });
        reader.in_snapshot(|| {
            let seen = reader.seen("posts").expect("known");
            let nearest = reader.totals.position(&key, seen, 250).expect("kept");
            assert_eq!(nearest.shift, 3);
            assert_eq!(listed(), offset_read());
        });
    }

    #[test]
    fn a_snapshot_begun_during_a_commit_that_created_records_knows_which_side_it_is_on() {
        let (spec, store, reader) = prepared();
        let posts = spec.resource("posts").expect("posts");
        let query = crate::query::parse_list(&spec, posts, "status=draft").expect("a query");
        let create = |title: &str| {
            store.savepoint("member").expect("a savepoint");
            store
                .create(&spec, posts, None, fields(title, "draft", 1))
                .expect("created");
            store.release("member", true);
        };
        create("first");
        store.settle();
        store.list(posts, &query, &[]).expect("the index made");
        store.settle();
        let total = || reader.list(posts, &query, &[]).expect("a page").total;
        // Committed and not yet settled as the snapshot begins: it holds the commit.
        create("second");
        reader.in_snapshot(|| {
            let (low, high) = reader.seen("posts").expect("known").states;
            assert_eq!(high, low + 2, "either side, as far as the generation tells");
            store.settle();
            assert_eq!(total(), 2);
            let seen = reader.seen("posts").expect("known");
            assert_eq!(seen.states, (high, high));
            assert_eq!(seen.current, Some(high), "the latest state");
        });
        // A commit under way as the snapshot begins, made after it: it does not.
        store.generation.begin_commit();
        reader.in_snapshot(|| {
            let (low, high) = reader.seen("posts").expect("known").states;
            assert_eq!(high, low + 2);
            create("third");
            store.settle();
            assert_eq!(total(), 2);
            assert_eq!(reader.seen("posts").expect("known").states, (low, low));
        });
        reader.in_snapshot(|| assert_eq!(total(), 3));
    }

    #[test]
    fn keys_found_after_a_create_past_the_last_are_read_only_by_states_that_hold_it() {
        let (spec, store, reader) = prepared();
        let posts = spec.resource("posts").expect("posts");
        // Even ids only: an id order is read from kept positions.
        member(&store, true, || {
            for id in (2..=1200_i64).step_by(2) {
                store.create(
                    &spec,
                    posts,
                    Some(RecordId::Integer(id)),
                    fields("t", "draft", 1),
                )?;
            }
            Ok(())
        });
        let query_at = |offset: u64| {
            let mut query = crate::query::parse_list(&spec, posts, "sort=id").expect("a query");
            (query.offset, query.limit) = (offset, 7);
            query
        };
        // What OFFSET reads on the reader's connection, in its snapshot.
        let offset_read = |offset: u64| offset_ids(&reader, posts, &query_at(offset));
        let listed = |offset: u64| listed_ids(&reader, posts, &query_at(offset));
        store
            .list(posts, &query_at(250), &[])
            .expect("the index made");
        store.settle();
        // Positions kept up to place 200 (id 402).
        reader.in_snapshot(|| assert_eq!(listed(250), offset_read(250)));
        reader.in_snapshot(|| {
            // Id 801 comes after the last kept position and before id 802,
            // which this snapshot finds at place 400.
            member(&store, true, || {
                store.create(
                    &spec,
                    posts,
                    Some(RecordId::Integer(801)),
                    fields("t", "draft", 1),
                )?;
                Ok(())
            });
            assert_eq!(listed(450), offset_read(450));
        });
        reader.in_snapshot(|| {
            assert_eq!(listed(450), offset_read(450));
            assert_eq!(listed(650), offset_read(650));
        });
    }

    #[test]
    fn a_snapshot_is_placed_by_a_record_its_commit_kept_not_one_rolled_back() {
        let (spec, store, reader) = prepared();
        let posts = spec.resource("posts").expect("posts");
        let query = crate::query::parse_list(&spec, posts, "status=draft").expect("a query");
        member(&store, true, || {
            store.create(&spec, posts, None, fields("first", "draft", 1))?;
            Ok(())
        });
        store.list(posts, &query, &[]).expect("the index made");
        store.settle();
        let total = || reader.list(posts, &query, &[]).expect("a page").total;
        reader.in_snapshot(|| assert_eq!(total(), 1));
        // A group whose members' creates are rolled back but the last,
        // each of another id.
        store.begin_group().expect("a group");
        for id in 100..106 {
            store.savepoint("member").expect("a savepoint");
            store
                .create(
                    &spec,
                    posts,
                    Some(RecordId::Integer(id)),
                    fields("d", "draft", 1),
                )
                .expect("created");
            store.release("member", id == 105);
        }
        assert!(store.commit_group());
        reader.in_snapshot(|| {
            let (low, high) = reader.seen("posts").expect("known").states;
            assert_eq!(high, low + 2);
            store.settle();
            assert_eq!(total(), 2);
            assert_eq!(reader.seen("posts").expect("known").states, (high, high));
        });
    }

    #[test]
    fn the_positions_kept_are_bounded_in_number() {
        let totals = Totals::default();
        let first = |generation, found| Total {
            resource: "posts".into(),
            generation,
            same_since: generation,
            earlier: Vec::new(),
            fact: Fact::Positions(Positions {
                keys: found,
                shift: 0,
                order: Order {
                    from: String::new(),
                    condition: String::new(),
                    parameters: Vec::new(),
                    keys: Vec::new(),
                },
            }),
            reads: Reads::Everything,
            membership: Membership::Query(String::new(), Vec::new()),
        };
        let positions = |count: usize| vec![vec![Sql::Integer(1)]; count];
        let at = Seen {
            current: Some(2),
            states: (2, 2),
        };
        totals.add_positions("a".into(), at, 0, positions(60_000), first);
        totals.add_positions("a".into(), at, 60_000, positions(30_000), first);
        assert_eq!(
            totals.position("a", at, u64::MAX).map(|kept| kept.kept),
            Some(90_000)
        );
        // Past the bound, what was kept is forgotten for the new.
        totals.add_positions("b".into(), at, 0, positions(20_000), first);
        assert!(totals.position("a", at, 0).is_none());
        assert_eq!(
            totals.position("b", at, u64::MAX).map(|kept| kept.kept),
            Some(20_000)
        );
        // More than the bound for one query alone is not kept.
        totals.add_positions("c".into(), at, 0, positions(MOST_POSITIONS + 1), first);
        assert!(totals.position("c", at, 0).is_none());
        assert!(totals.position("b", at, 0).is_some());
    }

    #[test]
    fn a_snapshot_that_writes_passed_reads_only_totals_true_of_it() {
        let (spec, store, reader) = prepared();
        let posts = spec.resource("posts").expect("posts");
        for status in ["draft", "draft", "published"] {
            member(&store, true, || {
                store.create(&spec, posts, None, fields("a", status, 1))?;
                Ok(())
            });
        }
        let query = crate::query::parse_list(&spec, posts, "status=draft").expect("a query");
        store.list(posts, &query, &[]).expect("the index made");
        store.settle();
        let key = select::compile(posts, &query, &[]).total_key();
        let total = || reader.list(posts, &query, &[]).expect("a page").total;
        reader.in_snapshot(|| {
            assert_eq!(total(), 2);
            let seen = reader.seen("posts").expect("known");
            assert_eq!(reader.totals.get(&key, seen), Some(2));
            // A published post created while the snapshot is open: the
            // drafts' total, carried across it, is still the snapshot's.
            member(&store, true, || {
                store.create(&spec, posts, None, fields("b", "published", 1))?;
                Ok(())
            });
            let seen = reader.seen("posts").expect("known");
            assert_eq!(seen.current, None, "written since the snapshot");
            assert_eq!(reader.totals.get(&key, seen), Some(2));
            assert_eq!(total(), 2);
            // A draft created: the total kept is the new state's, not the snapshot's.
            member(&store, true, || {
                store.create(&spec, posts, None, fields("c", "draft", 1))?;
                Ok(())
            });
            assert_eq!(store.list(posts, &query, &[]).expect("a page").total, 3);
            assert_eq!(
                reader.totals.get(&key, seen),
                Some(2),
                "the count before it"
            );
            assert_eq!(total(), 2);
            // Past the draft's commit, the count kept now is of the new state.
            let after = Seen {
                current: None,
                states: (store.generation(), store.generation()),
            };
            assert_eq!(reader.totals.get(&key, after), Some(3));
            // A snapshot that may or may not hold the draft knows neither.
            let either = Seen {
                current: None,
                states: (seen.states.0, store.generation()),
            };
            assert_eq!(reader.totals.get(&key, either), None);
        });
        reader.in_snapshot(|| assert_eq!(total(), 3));
    }

    #[test]
    fn totals_carried_across_writes_stay_true() {
        let (spec, store, reader) = prepared();
        let posts = spec.resource("posts").expect("posts");
        for (index, title) in ["alpha one", "beta two", "alphabet", "gamma", "alpha"]
            .iter()
            .enumerate()
        {
            let status = if index % 2 == 0 { "draft" } else { "published" };
            member(&store, true, || {
                store.create(&spec, posts, None, fields(title, status, index as i64 * 20))?;
                Ok(())
            });
        }
        // The writer makes the indexes the queries need; the reader keeps totals.
        for text in QUERIES {
            let query = crate::query::parse_list(&spec, posts, text).expect("a query");
            store.list(posts, &query, &[]).expect("a page");
        }
        store.settle();
        check_totals(&store, &reader, &spec, posts);
        assert_eq!(check_totals(&store, &reader, &spec, posts), [true; 6]);

        // A change of a field no query reads, then of one some read.
        let update = |id, field, value| set_field(&store, &spec, posts, id, field, value);
        update(2, "views", json!(5));
        // `views__gte`, `status=draft&views__lt` read views; the others are carried.
        assert_eq!(
            check_totals(&store, &reader, &spec, posts),
            [true, false, true, true, false, true]
        );
        update(3, "status", json!("published"));
        assert_eq!(
            check_totals(&store, &reader, &spec, posts),
            [false, true, false, false, false, false]
        );
        update(4, "title", json!("alphanumeric"));
        assert_eq!(
            check_totals(&store, &reader, &spec, posts),
            [true, true, false, false, true, false]
        );
        check_totals(&store, &reader, &spec, posts);

        // Creates: counted where they match; a search's total carried only
        // where the record lacks one of its words.
        member(&store, true, || {
            store.create(&spec, posts, None, fields("delta", "draft", 70))?;
            store.create(&spec, posts, None, fields("epsilon", "published", 10))?;
            Ok(())
        });
        assert_eq!(
            check_totals(&store, &reader, &spec, posts),
            [true, true, true, true, true, true]
        );
        member(&store, true, || {
            store.create(&spec, posts, None, fields("alpha again", "published", 90))?;
            Ok(())
        });
        assert_eq!(
            check_totals(&store, &reader, &spec, posts),
            [true, true, false, false, true, true]
        );
        check_totals(&store, &reader, &spec, posts);

        // A create rolled back with its member counts nothing.
        member(&store, false, || {
            store.create(&spec, posts, None, fields("zeta", "draft", 99))?;
            Ok(())
        });
        assert_eq!(check_totals(&store, &reader, &spec, posts), [true; 6]);

        // A replacement, then a delete: totals are counted again.
        member(&store, true, || {
            store.replace(
                &spec,
                posts,
                &RecordId::Integer(1),
                fields("omega", "published", 1),
                false,
                &|_, _| Ok(()),
            )?;
            Ok(())
        });
        assert_eq!(check_totals(&store, &reader, &spec, posts), [false; 6]);
        member(&store, true, || {
            store.delete(&spec, posts, &RecordId::Integer(2), &|_| Ok(()))?;
            Ok(())
        });
        assert_eq!(check_totals(&store, &reader, &spec, posts), [false; 6]);
        assert_eq!(check_totals(&store, &reader, &spec, posts), [true; 6]);
    }
}
