//! A db.json's data as json-server holds it: collections as arrays of
//! records (parsed once per write), singular resources as one object, the
//! whole database, and writing it back to its file; operations on the
//! store's thread.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::Service;
use crate::json_server::is_singular;
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

    /// The records of a collection, parsed once per write.
    pub fn db_json_collection(
        &self,
        store: &Store,
        resource: &Resource,
    ) -> Result<Arc<Vec<Value>>, StoreError> {
        self.db_json_records
            .records(&resource.name, store.generation(), || {
                let records = store.stored_in_order(resource)?;
                Ok(records.into_iter().map(Value::Object).collect())
            })
    }

    /// The whole database, as `GET /db` answers and the file is written.
    pub fn db_json(&self, store: &Store, spec: &Spec) -> Result<Value, StoreError> {
        let mut db = Map::new();
        for resource in &spec.resources {
            let value = if is_singular(resource) {
                Service::db_json_object(store, resource)?
            } else {
                Value::Array(self.db_json_collection(store, resource)?.as_ref().clone())
            };
            db.insert(resource.name.clone(), value);
        }
        Ok(Value::Object(db))
    }

    /// Writes the database back to its file, where the server does that.
    pub fn write_back(&self, store: &Store, spec: &Spec) -> Result<(), WriteBackError> {
        let Some(back) = &self.write_back else {
            return Ok(());
        };
        let _held = back.hold();
        let db = self.db_json(store, spec)?;
        let text = back.write(&db)?;
        self.file_written(crate::fingerprint::hex(text.as_bytes()));
        Ok(())
    }
}
