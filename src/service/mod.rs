//! A served API without its HTTP: the spec in force (swapped atomically by
//! reloads) and its load status, the thread that owns the store and runs
//! every operation on it, the journal of requests, the stubs, and a db.json's
//! records and write-back. Reloads, the in-process API and the HTTP layer all
//! reach the data through it, as operations on the store's thread.

mod db_json;
mod sessions;
mod store_thread;

use std::sync::{Arc, RwLock};

use serde::Serialize;

use crate::clock;
use crate::journal::Journal;
use crate::spec::{Diagnostic, Spec};
use crate::store::{Generation, Store, StoreError};

pub use crate::json_server::RecordChange;
pub use db_json::WriteBackError;
pub use sessions::{
    HEADER as SESSION_HEADER, PREFIX as SESSION_PREFIX, Session, SessionError, SessionInfo,
    SessionLimits, Sessions, current as current_session, within,
};
pub(crate) use store_thread::Reach;
pub use store_thread::{MAX_QUEUED, Unavailable};

/// Where the spec in force came from, and how its last reload went.
#[derive(Debug, Clone, Serialize)]
pub struct SpecStatus {
    /// The spec file, as given on the command line.
    pub file: String,
    /// A hash of the file's text.
    pub hash: String,
    /// When the spec in force was loaded.
    pub loaded_at: String,
    /// The last reload that was refused, until a valid change arrives.
    pub last_reload_error: Option<ReloadFailure>,
}

/// A refused reload: the old spec kept serving.
#[derive(Debug, Clone, Serialize)]
pub struct ReloadFailure {
    /// When it happened.
    pub at: String,
    /// Why, in a line.
    pub message: String,
    /// Every problem of the spec, with positions (empty for other failures).
    pub diagnostics: Vec<Diagnostic>,
}

/// The spec in force and how many specs were put in force before it: they
/// change together, under one lock, so that a cache key never pairs a spec
/// with another's count.
#[derive(Debug)]
struct InForce {
    spec: Arc<Spec>,
    reloads: u64,
}

/// Why a reset failed.
#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    /// The seeded data could not be restored.
    #[error(transparent)]
    Data(#[from] crate::store::SeedError),
    /// The restored data could not be written back to the db.json file.
    #[error(transparent)]
    WriteBack(#[from] WriteBackError),
    /// The store's thread could not run the reset.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
    /// The session to reset could not be had.
    #[error(transparent)]
    Session(#[from] SessionError),
}

/// A served API's state, HTTP aside.
#[derive(Debug)]
pub struct Service {
    in_force: Arc<RwLock<InForce>>,
    status: RwLock<SpecStatus>,
    /// The data's write generation.
    generation: Generation,
    /// Where the data lives.
    location: crate::store::Location,
    /// The requests received.
    pub journal: Journal,
    /// The answers tests programmed for requests to come.
    pub stubs: crate::stubs::Stubs,
    /// Seed of the fake data (the spec's, or the command line's).
    pub seed: u64,
    /// The thread owning the store, which runs its operations one at a time.
    store_thread: store_thread::StoreThread,
    /// A db.json's collections as last read, for lists.
    pub db_json_records: crate::json_server::RecordCache,
    /// Where changes to a db.json are written back, when they are.
    pub write_back: Option<crate::json_server::WriteBack>,
    /// Whether a reset is restoring the seeded data: requests for data are
    /// answered `503` meanwhile instead of waiting for it.
    resetting: std::sync::atomic::AtomicBool,
    /// The isolated sessions alive, each with its own copy of the data.
    pub sessions: Sessions,
}

/// What a cached answer depends on besides the request: the data's
/// generation (of all of it, or of the resources the answer reads) and the
/// spec in force. Only versions of the same request are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    /// The store's write generation.
    pub generation: u64,
    /// How many specs were put in force before this one.
    pub spec: u64,
}

impl Service {
    /// A service of `spec` (read from `file`, whose text hashes to `hash`) from `store`.
    pub fn new(spec: Spec, store: Store, seed: u64, file: &str, hash: String) -> Service {
        Service {
            in_force: Arc::new(RwLock::new(InForce {
                spec: Arc::new(spec),
                reloads: 0,
            })),
            status: RwLock::new(SpecStatus {
                file: file.to_string(),
                hash,
                loaded_at: clock::now(),
                last_reload_error: None,
            }),
            generation: store.generation_handle(),
            location: store.location().clone(),
            journal: Journal::new(
                crate::journal::DEFAULT_CAPACITY,
                crate::journal::DEFAULT_MAX_BYTES,
            ),
            stubs: crate::stubs::Stubs::default(),
            seed,
            store_thread: store_thread::StoreThread::start(store),
            resetting: std::sync::atomic::AtomicBool::new(false),
            sessions: Sessions::default(),
            write_back: None,
            db_json_records: crate::json_server::RecordCache::default(),
        }
    }

    /// Runs a store operation on the store's thread, after those before it.
    pub(crate) async fn blocking<T, E>(
        &self,
        operation: impl FnOnce(&Store) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<Unavailable> + Send + 'static,
    {
        match sessions::current() {
            Some(session) => session.thread()?.run(operation).await,
            None => self.store_thread.run(operation).await,
        }
    }

    /// Runs `operation` on the store with the spec its request started on,
    /// on the store's thread, after the operations before it, committed
    /// together with the writes queued beside it and answered once that
    /// commit is done (group commit; each its own savepoint). A spec a reload
    /// has replaced since may lack defaults the one in force has: its records
    /// get them right after, in the same transaction, no reader running between.
    pub(crate) async fn on_store<T, E>(
        &self,
        spec: &Arc<Spec>,
        operation: impl FnOnce(&Store, &Spec) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<Unavailable> + From<StoreError> + Send + 'static,
    {
        let (spec, in_force) = (spec.clone(), self.in_force.clone());
        let session = sessions::current();
        let thread = match &session {
            Some(session) => session.thread()?,
            None => &self.store_thread,
        };
        thread
            .write(move |store| {
                let current = in_force
                    .read()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .spec
                    .clone();
                if Arc::ptr_eq(&current, &spec) {
                    return operation(store, &spec);
                }
                // Readers see the records it writes with the defaults only,
                // and a backfill that fails takes the write back with it: the
                // client is told it failed, so nothing of it may stay.
                store_thread::exclusively(|| {
                    store
                        .savepoint("standin_backfill")
                        .map_err(StoreError::from)?;
                    let done = operation(store, &spec).and_then(|answer| {
                        store
                            .backfill_defaults(&current)
                            .map_err(StoreError::from)?;
                        Ok(answer)
                    });
                    store.release("standin_backfill", done.is_ok());
                    done
                })
            })
            .await
    }

    /// Runs the read-only `operation`, which reads what `reach` says, on
    /// the store with the spec its request started on, on a reading
    /// connection (in parallel with other reads and with writes), in one
    /// read transaction begun after every write acknowledged so far. It may
    /// run more than once: a record's read stopped here for taking too long,
    /// then on a reading thread; one that needs a write (a first query's
    /// index) on the store's thread (see [`StoreThread::read`]).
    pub(crate) async fn read_on_store<T, E>(
        &self,
        spec: &Arc<Spec>,
        reach: Reach,
        operation: impl Fn(&Store, &Spec) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<Unavailable> + From<StoreError> + Send + 'static,
    {
        let spec = spec.clone();
        let session = sessions::current();
        let thread = match &session {
            Some(session) => session.thread()?,
            None => &self.store_thread,
        };
        thread
            .read(reach, move |store| operation(store, &spec))
            .await
    }

    /// Runs `operation` on the store's thread and waits for its result. For
    /// threads that may block (a reload's watcher, the in-process API), never
    /// from an operation on the store's thread.
    pub fn run_and_wait<T: Send + 'static>(
        &self,
        operation: impl FnOnce(&Store) -> T + Send + 'static,
    ) -> Result<T, Unavailable> {
        self.store_thread.run_and_wait(operation)
    }

    /// Waits until the operations queued on the store's thread so far have
    /// run, and the db.json snapshots they took are written (at a stop,
    /// once no request is served).
    pub fn finish_operations(&self) {
        let write_back_queued = || {
            self.write_back
                .as_ref()
                .is_some_and(crate::json_server::WriteBack::is_scheduled)
        };
        // A write still queued queues its write back behind the operations
        // waited for: each round waits for those queued by the one before.
        for _ in 0..8 {
            let _ = self.store_thread.run_and_wait(|_| ());
            if !write_back_queued() {
                break;
            }
        }
        if let Some(back) = &self.write_back {
            back.finish();
        }
    }

    /// Runs `operation` on the store's thread with no reader running, reads
    /// going to that thread meanwhile (see `store_thread::exclusively`), and
    /// waits for its result: for what commits in several steps that readers
    /// must not see half-done (a reload: tables, seeding, defaults, the swap).
    pub fn run_exclusively_and_wait<T: Send + 'static>(
        &self,
        operation: impl FnOnce(&Store) -> T + Send + 'static,
    ) -> Result<T, Unavailable> {
        self.store_thread
            .run_and_wait(move |store| store_thread::exclusively(|| operation(store)))
    }

    /// Restores the seeded data, on the store's thread (see [`Service::reset_on`]).
    pub fn reset(self: &Arc<Self>) -> Result<crate::store::ResetReport, ResetError> {
        let service = Arc::clone(self);
        self.run_and_wait(move |store| service.reset_on(store))?
    }

    /// Restores the seeded data of `store` (an operation on the store's
    /// thread), answering requests for data `503` while it runs (a reset of
    /// a large store takes seconds).
    pub fn reset_on(&self, store: &Store) -> Result<crate::store::ResetReport, ResetError> {
        use std::sync::atomic::Ordering;
        /// Clears the flag however the reset ends.
        struct Resetting<'a>(&'a std::sync::atomic::AtomicBool);
        impl Drop for Resetting<'_> {
            fn drop(&mut self) {
                self.0.store(false, Ordering::SeqCst);
            }
        }
        // One transaction: readers see the data before it or after it.
        self.resetting.store(true, Ordering::SeqCst);
        let _resetting = Resetting(&self.resetting);
        let spec = self.spec();
        let report = store.reset(&spec, self.seed)?;
        // A db.json written back holds the data reset to.
        self.write_back(store, &spec)?;
        Ok(report)
    }

    /// Where the data lives.
    pub fn location(&self) -> &crate::store::Location {
        &self.location
    }

    /// Whether a reset is restoring the shared data now (never, for a
    /// session's request: its data is its own).
    pub fn is_resetting(&self) -> bool {
        sessions::current().is_none() && self.resetting.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The journal of the request's session, or the shared one.
    pub fn with_journal<R>(&self, use_it: impl FnOnce(&Journal) -> R) -> R {
        match sessions::current() {
            Some(session) => use_it(&session.journal),
            None => use_it(&self.journal),
        }
    }

    /// The stubs of the request's session, or the shared ones.
    pub fn with_stubs<R>(&self, use_it: impl FnOnce(&crate::stubs::Stubs) -> R) -> R {
        match sessions::current() {
            Some(session) => use_it(&session.stubs),
            None => use_it(&self.stubs),
        }
    }

    /// The spec in force, and how many specs were put in force before it.
    fn in_force_now(&self) -> (Arc<Spec>, u64) {
        let in_force = self
            .in_force
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        (Arc::clone(&in_force.spec), in_force.reloads)
    }

    /// The spec in force now; a request keeps the one it started with.
    pub fn spec(&self) -> Arc<Spec> {
        self.in_force
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .spec
            .clone()
    }

    /// Puts `spec`, whose tables `store` has, in force for every request
    /// that starts from now on (an operation on the store's thread, so none
    /// other runs in between): the defaults of its fields are given again to
    /// records created on the previous spec since the store was prepared.
    pub fn put_in_force(
        &self,
        store: &Store,
        spec: Spec,
        hash: String,
    ) -> Result<(), crate::store::SeedError> {
        store.backfill_defaults(&spec)?;
        self.replace_spec(spec, hash);
        Ok(())
    }

    /// Puts `spec` in force for every request that starts from now on.
    fn replace_spec(&self, spec: Spec, hash: String) {
        {
            let mut in_force = self
                .in_force
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            in_force.spec = Arc::new(spec);
            in_force.reloads += 1;
        }
        // Sessions hold data of the old spec: the next request with a key
        // starts afresh from the new one's seeded data.
        self.sessions.clear();
        let mut status = self
            .status
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        status.hash = hash;
        status.loaded_at = clock::now();
        status.last_reload_error = None;
    }

    /// Records that standin wrote the file itself (its text hashes to
    /// `hash`), so that the watcher does not take it for an edit; a refused
    /// edit it replaced is no longer the file's.
    pub fn file_written(&self, hash: String) {
        let mut status = self
            .status
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        status.hash = hash;
        status.last_reload_error = None;
    }

    /// Forgets a refused reload: the file holds what is served again.
    pub fn clear_reload_error(&self) {
        self.status
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .last_reload_error = None;
    }

    /// Records a refused reload.
    pub fn reload_failed(&self, failure: ReloadFailure) {
        self.status
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .last_reload_error = Some(failure);
    }

    /// What an answer computed now for a request on `spec` depends on;
    /// `None` once `spec` was replaced (a request still running on an old
    /// spec must neither read nor fill a cache).
    pub fn version(&self, spec: &Arc<Spec>) -> Option<Version> {
        let in_force = self
            .in_force
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Arc::ptr_eq(&in_force.spec, spec).then(|| Version {
            generation: self.generation.get(),
            spec: in_force.reloads,
        })
    }

    /// The data's write generation, with what each write changed.
    pub fn changes(&self) -> &Generation {
        &self.generation
    }

    /// What an answer computed now for a request on `spec` that reads only
    /// the records of `resources` depends on (see [`Service::version`]):
    /// writes to other resources leave it as it is.
    pub fn version_of<'a>(
        &self,
        spec: &Arc<Spec>,
        resources: impl IntoIterator<Item = &'a str>,
    ) -> Option<Version> {
        let in_force = self
            .in_force
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // An answer of records with count fields reads the counted records too.
        let mut read: Vec<&str> = resources.into_iter().collect();
        let counted: Vec<&str> = read
            .iter()
            .filter_map(|name| spec.resource(name))
            .flat_map(|resource| resource.counted_resources())
            .collect();
        read.extend(counted);
        Arc::ptr_eq(&in_force.spec, spec).then(|| Version {
            generation: self.generation.of(read),
            spec: in_force.reloads,
        })
    }

    /// The spec's load status.
    pub fn status(&self) -> SpecStatus {
        self.status
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Location;

    fn spec() -> Spec {
        crate::spec::parse(
            "test.yaml",
            "standin: 1\nresources:\n  notes:\n    fields:\n      text: { type: string }\n",
        )
        .expect("a valid spec")
    }

    #[test]
    fn a_cache_key_never_pairs_a_spec_with_another_specs_count() {
        let state = Arc::new(Service::new(
            spec(),
            Store::open(Location::Memory).expect("a store"),
            1,
            "test.yaml",
            String::new(),
        ));
        let reloader = {
            let state = Arc::clone(&state);
            std::thread::spawn(move || {
                for _ in 0..2_000 {
                    state.replace_spec(spec(), String::new());
                }
            })
        };
        let mut seen: std::collections::HashMap<u64, usize> = std::collections::HashMap::new();
        while !reloader.is_finished() {
            let current = state.spec();
            if let Some(version) = state.version(&current) {
                let address = Arc::as_ptr(&current) as usize;
                let first = *seen.entry(version.spec).or_insert(address);
                assert_eq!(first, address, "count {} named two specs", version.spec);
            }
        }
        reloader.join().expect("the reloader finishes");
        assert_eq!(
            state.version(&state.spec()).map(|version| version.spec),
            Some(2_000)
        );
    }

    #[test]
    fn a_reload_ends_every_session() {
        let state = Service::new(
            spec(),
            Store::open(Location::Memory).expect("a store"),
            1,
            "test.yaml",
            String::new(),
        );
        prepare(&state, state.spec());
        state.open_session("a").expect("a session");
        assert_eq!(state.sessions.list().len(), 1);
        state.replace_spec(spec(), String::new());
        assert!(state.sessions.list().is_empty());
        state.open_session("a").expect("a session of the new spec");
        assert_eq!(state.sessions.list().len(), 1);
    }

    /// A state serving `spec()` with its tables, and the spec a reload
    /// brings: `spec()` with a `flagged` field defaulting to false.
    fn before_a_reload() -> (Arc<Service>, Spec) {
        let state = Arc::new(Service::new(
            spec(),
            Store::open(Location::Memory).expect("a store"),
            1,
            "test.yaml",
            String::new(),
        ));
        let first = state.spec();
        prepare(&state, first);
        let flagged = crate::spec::parse(
            "test.yaml",
            "standin: 1\nresources:\n  notes:\n    fields:\n      text: { type: string }\n      flagged: { type: boolean, default: false }\n",
        )
        .expect("a valid spec");
        (state, flagged)
    }

    /// Creates the tables of `spec`.
    fn prepare(state: &Service, spec: impl std::borrow::Borrow<Spec> + Send + 'static) {
        state
            .run_and_wait(move |store| store.prepare(spec.borrow()))
            .expect("the store runs")
            .expect("tables");
    }

    /// Puts `spec` in force as a reload does.
    fn put_in_force(state: &Arc<Service>, spec: Spec) {
        let service = Arc::clone(state);
        state
            .run_exclusively_and_wait(move |store| service.put_in_force(store, spec, String::new()))
            .expect("the store runs")
            .expect("in force");
    }

    /// Creates a note on `spec` as a request that began on it does.
    async fn create_on(state: &Service, spec: &Arc<Spec>, text: &str) {
        let fields = serde_json::json!({ "text": text });
        let fields = fields.as_object().cloned().expect("an object");
        state
            .on_store(spec, move |store, spec| {
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(store.create(
                    spec,
                    &spec.resources[0],
                    None,
                    fields,
                )?)
            })
            .await
            .expect("created");
    }

    /// How many notes the spec in force finds with `flagged=false`.
    fn unflagged(state: &Service) -> u64 {
        let current = state.spec();
        let notes = &current.resources[0];
        let query = crate::query::parse_list(&current, notes, "flagged=false").expect("a query");
        let current = Arc::clone(&current);
        state
            .run_and_wait(move |store| store.list(&current.resources[0], &query, &[]))
            .expect("the store runs")
            .expect("a page")
            .total
    }

    #[actix_web::test]
    async fn a_create_between_a_reloads_backfill_and_its_swap_gets_the_new_defaults() {
        let (state, flagged) = before_a_reload();
        let previous = state.spec();
        let flagged = Arc::new(flagged);
        prepare(&state, Arc::clone(&flagged));
        create_on(&state, &previous, "between backfill and swap").await;
        put_in_force(&state, Arc::into_inner(flagged).expect("one owner"));
        assert_eq!(unflagged(&state), 1);
    }

    #[actix_web::test]
    async fn a_create_begun_on_a_replaced_spec_gets_the_new_defaults() {
        let (state, flagged) = before_a_reload();
        let previous = state.spec();
        let flagged = Arc::new(flagged);
        prepare(&state, Arc::clone(&flagged));
        put_in_force(&state, Arc::into_inner(flagged).expect("one owner"));
        create_on(&state, &previous, "begun before the swap").await;
        assert_eq!(unflagged(&state), 1);
    }
}
