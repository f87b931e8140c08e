//! A db.json's data as json-server holds it: collections as arrays of
//! records (parsed once, then kept in step with each write), singular
//! resources as one object, the whole database, and writing it back to its
//! file: a write queues a write back on the store's thread, which takes a
//! snapshot of the data (shared records, not copies) holding it and the
//! writes queued before it, for the writer's thread to write; operations on
//! the store's thread.

use std::sync::Arc;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use super::Service;
use crate::json_server::pretty::{self, RecordTexts, Snapshot};
use crate::json_server::{RecordChange, Tickets, UnhandledEdit, is_singular};
use crate::spec::{Resource, Spec};
use crate::store::{Store, StoreError};

/// Why a change could not be written back to the db.json file.
#[derive(Debug, thiserror::Error)]
pub enum WriteBackError {
    /// The database could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The file could not be written.
    #[error("the change is stored but cannot be written to the file: {0}")]
    File(#[from] std::io::Error),
    /// The write back meant to hold the change failed, as this says.
    #[error("{0}")]
    Failed(String),
}

/// The whole database as db.json holds it, each collection shared with the
/// parsed records rather than copied: `GET /db` and the file are written from it.
#[derive(Debug)]
pub struct Database(Vec<(String, Part)>);

#[derive(Debug)]
enum Part {
    Object(Value),
    Collection(crate::json_server::Records),
}

impl Serialize for Database {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, part) in &self.0 {
            match part {
                Part::Object(object) => map.serialize_entry(name, object)?,
                Part::Collection(records) => map.serialize_entry(name, &Listed(records))?,
            }
        }
        map.end()
    }
}

impl Snapshot for Database {
    fn write_text(&self, out: &mut Vec<u8>, texts: &mut RecordTexts) {
        texts.begin();
        if self.0.is_empty() {
            out.extend_from_slice(b"{}");
            return;
        }
        out.push(b'{');
        for (position, (name, part)) in self.0.iter().enumerate() {
            pretty::write_member(name, position == 0, out);
            match part {
                Part::Object(object) => pretty::write_indented(object, b"  ", out),
                Part::Collection(records) => texts.write_array(name, records, out),
            }
        }
        out.extend_from_slice(b"\n}");
    }
}

/// A collection's records, serialised as an array.
struct Listed<'a>(&'a [Arc<Value>]);

impl Serialize for Listed<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(Arc::as_ref))
    }
}

impl Service {
    /// A singular resource's object (`{}` before anything is stored).
    pub fn db_json_object(store: &Store, resource: &Resource) -> Result<Value, StoreError> {
        Ok(Value::Object(
            store
                .stored_in_order(resource)?
                .into_iter()
                .next()
                .unwrap_or_default(),
        ))
    }

    /// The records of a collection, parsed once and kept in step with the
    /// writes noted by [`Service::db_json_wrote`] (read again after any other).
    pub fn db_json_collection(
        &self,
        store: &Store,
        resource: &Resource,
    ) -> Result<crate::json_server::Records, StoreError> {
        self.db_json_records
            .records(&resource.name, self.collection_generation(resource), || {
                read_collection(store, resource)
            })
    }

    /// The id json-server gives a new record of a collection.
    pub fn db_json_next_id(&self, store: &Store, resource: &Resource) -> Result<Value, StoreError> {
        self.db_json_records
            .next_id(&resource.name, self.collection_generation(resource), || {
                read_collection(store, resource)
            })
    }

    /// The generation at which the records of `resource` last changed.
    pub fn collection_generation(&self, resource: &Resource) -> u64 {
        self.generation.of([resource.name.as_str()])
    }

    /// Notes, on the store's thread right after a write to `resource` whose
    /// records were at generation `before` (see
    /// [`Service::collection_generation`]), what it did to them (`None`:
    /// anything), so that lists need not parse them again; and, if the
    /// db.json is written back, queues a write back on the store's thread
    /// unless one is queued already (which covers the write), or takes its
    /// snapshot now if the queue is full. Gives the ticket the write's
    /// acknowledgement waits for (see [`Service::db_json_written`]).
    pub fn db_json_wrote(
        self: &Arc<Self>,
        store: &Store,
        resource: &Resource,
        before: u64,
        change: Option<RecordChange<'_>>,
    ) -> Option<u64> {
        let after = self.collection_generation(resource);
        // A record's fields are stored as they are, and read back equal.
        let change = change.filter(|_| !resource.has_computed());
        self.db_json_records
            .changed(&resource.name, before, after, change);
        let back = self.write_back.as_ref()?;
        let ticket = back.changed();
        if back.schedule() {
            let service = Arc::clone(self);
            let queued = self.store_thread.queue_after(move |store| {
                service.write_back_later(store, &service.spec());
            });
            if queued.is_err() {
                // Taken now instead, after the write, on this thread.
                self.write_back_later(store, &self.spec());
            }
        }
        Some(ticket)
    }

    /// Takes a snapshot of the database, holding every change noted so far,
    /// for the writer's thread to write back (on the store's thread).
    fn write_back_later(self: &Arc<Self>, store: &Store, spec: &Spec) {
        let Some(back) = &self.write_back else {
            return;
        };
        if self.written_back(spec).is_none() {
            // The file became a spec, which is not written to: the changes
            // counted before the swap wait for nothing.
            back.begin();
            back.superseded();
            return;
        }
        if let Ok((tickets, database)) = self.snapshot(back, store, spec) {
            let service = Arc::clone(self);
            back.write_later(tickets, move |tickets, edit| {
                // Its outcome goes to the writes waiting for it.
                let _ = service.write_snapshot(tickets, &database, edit);
            });
        }
    }

    /// Begins a write back and takes its snapshot (on the store's thread):
    /// the changes it is to write, and the data. If the data cannot be
    /// read, or the reading panics, those writes are told.
    fn snapshot(
        &self,
        back: &crate::json_server::WriteBack,
        store: &Store,
        spec: &Spec,
    ) -> Result<(Tickets, Database), WriteBackError> {
        let tickets = back.begin();
        let unfinished = back.unfinished(tickets);
        let taken = self.db_json(store, spec).map_err(WriteBackError::from);
        unfinished.ended();
        match taken {
            Ok(database) => Ok((tickets, database)),
            Err(error) => {
                back.failed(tickets, error.to_string());
                Err(error)
            }
        }
    }

    /// Writes a snapshot meant to write the changes `tickets`, where the
    /// server writes its db.json back (its outcome goes to the writes
    /// waiting for it); `edit` says what it does about a hand edit the
    /// watcher has not reloaded yet.
    fn write_snapshot(
        &self,
        tickets: Tickets,
        database: &Database,
        edit: UnhandledEdit,
    ) -> Result<(), WriteBackError> {
        let Some(back) = &self.write_back else {
            return Ok(());
        };
        back.write_snapshot(tickets, database, edit, |text| {
            self.file_written(crate::import::input_hash(text, &[]));
        })?;
        Ok(())
    }

    /// The whole database, as `GET /db` answers and the file is written.
    pub fn db_json(&self, store: &Store, spec: &Spec) -> Result<Database, StoreError> {
        let mut parts = Vec::with_capacity(spec.resources.len());
        for resource in &spec.resources {
            let part = if is_singular(resource) {
                Part::Object(Service::db_json_object(store, resource)?)
            } else {
                Part::Collection(self.db_json_collection(store, resource)?)
            };
            parts.push((resource.name.clone(), part));
        }
        Ok(Database(parts))
    }

    /// Writes the data, changed as a whole (a reset), back to the file now,
    /// where the server does that (on the store's thread): the file then
    /// holds every change so far, and the writes waiting for it are
    /// answered (or told why not).
    pub fn write_back(&self, store: &Store, spec: &Spec) -> Result<(), WriteBackError> {
        let Some(back) = self.written_back(spec) else {
            return Ok(());
        };
        // A change of its own: newer than every snapshot taken before it.
        back.changed();
        let (tickets, database) = self.snapshot(back, store, spec)?;
        // On the store's thread, which a reload waits for; and the data replaces the file whole.
        self.write_snapshot(tickets, &database, UnhandledEdit::WriteOver)
    }

    /// The file the data of `spec` is written back to: the db.json served,
    /// while it is one (a db.json edited into a spec is the user's spec).
    fn written_back(&self, spec: &Spec) -> Option<&crate::json_server::WriteBack> {
        self.write_back
            .as_ref()
            .filter(|_| spec.dialect == crate::spec::Dialect::JsonServer)
    }

    /// Answers once the db.json file holds the change that was given
    /// `ticket` by [`Service::db_json_wrote`] (at once for none), or says
    /// why the write back meant to hold it failed.
    pub async fn db_json_written(&self, ticket: Option<u64>) -> Result<(), WriteBackError> {
        let (Some(back), Some(ticket)) = (&self.write_back, ticket) else {
            return Ok(());
        };
        back.until_written(ticket)
            .await
            .map_err(WriteBackError::Failed)
    }
}

/// The records of a collection, read from the store in order.
fn read_collection(store: &Store, resource: &Resource) -> Result<Vec<Arc<Value>>, StoreError> {
    let records = store.stored_in_order(resource)?;
    Ok(records
        .into_iter()
        .map(|record| Arc::new(Value::Object(record)))
        .collect())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The database as a write back writes it, the records' texts kept in `texts`.
    fn text(database: &Database, texts: &mut RecordTexts) -> String {
        let mut out = Vec::new();
        database.write_text(&mut out, texts);
        String::from_utf8(out).unwrap()
    }

    fn records(values: &[Value]) -> crate::json_server::Records {
        Arc::new(values.iter().cloned().map(Arc::new).collect())
    }

    #[test]
    fn the_file_is_written_as_serde_json_pretty_prints_it_with_kept_records_or_new() {
        let posts = records(&[
            json!({"id": 1, "title": "a \"quoted\"\nline", "tags": ["x", {"deep": []}], "empty": {}}),
            json!({}),
            json!({"id": "é✓", "n": null, "f": 1.5, "list": [[], [1, 2]]}),
        ]);
        let mut parts = vec![
            ("posts".to_string(), Part::Collection(Arc::clone(&posts))),
            ("none".to_string(), Part::Collection(records(&[]))),
            (
                "profile".to_string(),
                Part::Object(json!({"name": "p", "nested": {"a": [1]}})),
            ),
            ("blank \"name\"".to_string(), Part::Object(json!({}))),
        ];
        let mut texts = RecordTexts::default();
        let database = Database(std::mem::take(&mut parts));
        let first = text(&database, &mut texts);
        assert_eq!(first, serde_json::to_string_pretty(&database).unwrap());
        // Again, one record replaced and one added: the others' texts copied.
        let Database(mut parts) = database;
        let mut changed = (*posts).clone();
        changed[1] = Arc::new(json!({"id": 2, "now": "changed"}));
        changed.push(Arc::new(json!({"id": 3})));
        parts[0].1 = Part::Collection(Arc::new(changed));
        let database = Database(parts);
        let second = text(&database, &mut texts);
        assert_eq!(second, serde_json::to_string_pretty(&database).unwrap());
        assert_ne!(first, second);
        // Two removed together: the rest found by address.
        let Database(mut parts) = database;
        let Part::Collection(posts) = &parts[0].1 else {
            unreachable!("posts are a collection")
        };
        let kept = vec![Arc::clone(&posts[3]), Arc::clone(&posts[2])];
        parts[0].1 = Part::Collection(Arc::new(kept));
        let database = Database(parts);
        assert_eq!(
            text(&database, &mut texts),
            serde_json::to_string_pretty(&database).unwrap()
        );
        assert_eq!(text(&Database(Vec::new()), &mut texts), "{}");
    }
}
