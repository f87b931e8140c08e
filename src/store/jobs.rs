//! Asynchronous creates (`async: 2s`) kept in the store: a job is committed
//! before its `202` is sent, so that with `--db` a restart finds it and
//! finishes it, and its number comes from an `AUTOINCREMENT` key, so that no
//! number is ever given twice. Creating the record and marking the job done
//! are one transaction: a job never creates two records.

use rusqlite::{Connection, OptionalExtension};
use serde_json::{Map, Value};

use super::{Record, RecordId, Store, StoreError};
use crate::spec::Spec;

/// Finished jobs kept for their monitors; older ones are forgotten.
pub const KEPT_JOBS: u64 = 10_000;

/// Where a job stands.
#[derive(Debug, Clone, PartialEq)]
pub enum JobState {
    /// The record is to be created at `due_at` (milliseconds since the Unix epoch).
    Pending {
        /// When the record is due.
        due_at: i64,
    },
    /// The record was created.
    Done {
        /// Its resource.
        resource: String,
        /// Its id.
        id: RecordId,
    },
    /// Creating the record failed, for the reason in this problem document.
    Failed {
        /// The problem, as a client would have received it.
        problem: Value,
    },
}

pub(super) fn create_table(connection: &Connection) -> rusqlite::Result<()> {
    connection.execute_batch(
        "CREATE TABLE IF NOT EXISTS _standin_jobs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            resource TEXT NOT NULL,
            record_id TEXT,
            fields TEXT NOT NULL,
            due_at INTEGER NOT NULL,
            created TEXT,
            problem TEXT
        )",
    )
}

impl Store {
    /// Keeps a create of `fields` (with the client's `id`, if any) in
    /// `resource`, due at `due_at`; returns the job's number.
    pub fn add_job(
        &self,
        resource: &str,
        id: Option<&RecordId>,
        fields: &Map<String, Value>,
        due_at: i64,
    ) -> Result<u64, StoreError> {
        let mut connection = self.lock();
        let transaction = connection.savepoint()?;
        transaction.execute(
            "INSERT INTO _standin_jobs (resource, record_id, fields, due_at) VALUES (?1, ?2, ?3, ?4)",
            (
                resource,
                id.map(|id| id.to_json().to_string()),
                Value::Object(fields.clone()).to_string(),
                due_at,
            ),
        )?;
        let number = transaction.last_insert_rowid();
        transaction.execute(
            "DELETE FROM _standin_jobs WHERE id <= ?1 AND (created IS NOT NULL OR problem IS NOT NULL)",
            [number - KEPT_JOBS as i64],
        )?;
        transaction.commit()?;
        Ok(number.unsigned_abs())
    }

    /// The state of job `number`, if it is kept.
    pub fn job(&self, number: u64) -> Result<Option<JobState>, StoreError> {
        let connection = self.lock();
        Ok(read_job(&connection, number)?.map(|(state, _)| state))
    }

    /// The jobs still pending, with when each is due.
    pub fn pending_jobs(&self) -> Result<Vec<(u64, i64)>, StoreError> {
        let connection = self.lock();
        let mut statement = connection.prepare(
            "SELECT id, due_at FROM _standin_jobs WHERE created IS NULL AND problem IS NULL ORDER BY id",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((row.get::<_, i64>(0)?.unsigned_abs(), row.get(1)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Creates the record of pending job `number` with `spec` in force, and
    /// marks the job done in the same transaction. A job already finished is
    /// left as it is. When the record cannot be created, the job stays
    /// pending and the reason is returned: see [`Store::fail_job`].
    pub fn run_job(&self, spec: &Spec, number: u64) -> Result<JobState, StoreError> {
        let mut connection = self.lock();
        let transaction = connection.savepoint()?;
        let Some((state, payload)) = read_job(&transaction, number)? else {
            return Err(StoreError::NotFound);
        };
        let Some((resource_name, id, fields)) = payload else {
            return Ok(state);
        };
        let Some(resource) = spec.resource(&resource_name) else {
            return Err(StoreError::Conflict {
                message: format!("the spec no longer has the resource {resource_name}"),
                errors: Vec::new(),
            });
        };
        let id = id.and_then(|id| RecordId::from_json(resource.id, &id));
        let record: Record = super::write::create_in(&transaction, spec, resource, id, fields)?;
        transaction.execute(
            "UPDATE _standin_jobs SET created = ?2 WHERE id = ?1",
            (number as i64, record.id.to_path_segment()),
        )?;
        transaction.commit()?;
        self.written();
        Ok(JobState::Done {
            resource: resource_name,
            id: record.id,
        })
    }

    /// Marks pending job `number` failed with `problem`.
    pub fn fail_job(&self, number: u64, problem: &Value) -> Result<(), StoreError> {
        self.lock().execute(
            "UPDATE _standin_jobs SET problem = ?2 WHERE id = ?1 AND created IS NULL AND problem IS NULL",
            (number as i64, problem.to_string()),
        )?;
        Ok(())
    }
}

/// What a pending job creates: its resource, the client's id and the fields.
type Payload = (String, Option<Value>, Map<String, Value>);

/// Job `number`'s state, and what it creates while it is pending.
fn read_job(
    connection: &Connection,
    number: u64,
) -> rusqlite::Result<Option<(JobState, Option<Payload>)>> {
    connection
        .query_row(
            "SELECT resource, record_id, fields, due_at, created, problem FROM _standin_jobs WHERE id = ?1",
            [number as i64],
            |row| {
                let resource: String = row.get(0)?;
                let created: Option<String> = row.get(4)?;
                let problem: Option<String> = row.get(5)?;
                if let Some(created) = created {
                    // Read back as text: the monitor only needs it for the record's URL.
                    let state = JobState::Done {
                        resource,
                        id: RecordId::Text(created),
                    };
                    return Ok((state, None));
                }
                if let Some(problem) = problem {
                    let problem = serde_json::from_str(&problem).unwrap_or(Value::Null);
                    return Ok((JobState::Failed { problem }, None));
                }
                let id = row
                    .get::<_, Option<String>>(1)?
                    .and_then(|id| serde_json::from_str(&id).ok());
                let fields = match serde_json::from_str(&row.get::<_, String>(2)?) {
                    Ok(Value::Object(fields)) => fields,
                    _ => Map::new(),
                };
                let state = JobState::Pending {
                    due_at: row.get(3)?,
                };
                Ok((state, Some((resource, id, fields))))
            },
        )
        .optional()
}
