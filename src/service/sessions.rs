//! Isolated sessions: a request carrying a session key sees and changes
//! only that session's copy of the data, which starts as the seeded data.
//! Each session owns a private in-memory store, made from an image of the
//! seeded data (SQLite's deserialize: milliseconds, even for 100,000
//! records), run by its own store thread; and its own journal and stubs.
//! Sessions are bounded in number and memory and end when idle; a reload
//! ends them all (the next request with a key starts afresh on the new spec).
//!
//! The request path names its session in a task-local ([`within`]), which
//! [`super::Service`] consults to pick the store thread, journal and stubs.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::store_thread::{StoreThread, Unavailable};
use crate::journal::Journal;
use crate::store::{Image, Store};

tokio::task_local! {
    static CURRENT: Arc<Session>;
}

/// The request header naming a session.
pub const HEADER: &str = "standin-session";
/// The path prefix naming a session, for clients that cannot set headers: `/_session/{key}/...`.
pub const PREFIX: &str = "/_session/";
/// The longest session key.
pub const MAX_KEY_LENGTH: usize = 64;

/// How many sessions may live, how much memory they may take, and when an idle one ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// The most sessions alive at once.
    pub max: usize,
    /// The most bytes the sessions' data may take together (each counted as
    /// its data's size after its last write, the seeded image's at first).
    pub memory: usize,
    /// How long a session may go unused before it ends.
    pub idle: Duration,
}

impl Default for SessionLimits {
    fn default() -> SessionLimits {
        SessionLimits {
            max: 64,
            memory: 1 << 30,
            idle: Duration::from_secs(600),
        }
    }
}

/// The session of the request being served, if it names one.
pub fn current() -> Option<Arc<Session>> {
    CURRENT.try_with(Arc::clone).ok()
}

/// Runs `future` as a request of `session` (as one of the shared data's without one).
pub async fn within<F: std::future::Future>(session: Option<Arc<Session>>, future: F) -> F::Output {
    match session {
        Some(session) => CURRENT.scope(session, future).await,
        None => future.await,
    }
}

/// Why a session could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// The key is not one standin takes.
    #[error(
        "the session key '{0}' is not one: use 1 to {MAX_KEY_LENGTH} letters, digits, '-', '_' or '.'"
    )]
    BadKey(String),
    /// As many sessions as allowed are alive.
    #[error(
        "no session can start: {alive} sessions are alive, the most allowed (--max-sessions); end one with DELETE /_standin/sessions/{{key}}, or wait for an idle one to expire"
    )]
    TooMany {
        /// How many are alive.
        alive: usize,
    },
    /// Another session would take more memory than allowed.
    #[error(
        "no session can start: {alive} sessions take {used} bytes, and a new one {needed} more, over the memory sessions may use ({limit} bytes, --session-memory-mb); end one with DELETE /_standin/sessions/{{key}}"
    )]
    OutOfMemory {
        /// How many are alive.
        alive: usize,
        /// The bytes they take.
        used: usize,
        /// The bytes a new one takes.
        needed: usize,
        /// The limit.
        limit: usize,
    },
    /// The seeded data could not be copied.
    #[error("the session's data could not be made: {0}")]
    Failed(String),
}

/// One session: its store (on its own thread), journal and stubs.
#[derive(Debug)]
pub struct Session {
    /// The key that names it.
    pub key: String,
    /// The thread owning the session's store (`None` only while it ends).
    thread: Option<StoreThread>,
    /// The requests the session received.
    pub journal: Journal,
    /// The answers programmed for the session's requests.
    pub stubs: crate::stubs::Stubs,
    /// When it started.
    created_at: String,
    /// When it was last used, in milliseconds of the sessions' clock.
    last_used: AtomicU64,
    /// The bytes of its data: the image's at first, measured after each write.
    bytes: AtomicUsize,
    /// The seeded data it started from, which its reset puts back.
    image: Arc<Image>,
}

impl Drop for Session {
    /// Ends the session's store thread on a thread of its own, so that the
    /// last holder (an async worker, a reload) does not wait for it.
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = std::thread::Builder::new()
                .name("standin-session-end".into())
                .spawn(move || drop(thread));
        }
    }
}

impl Session {
    /// The session's store thread.
    pub(crate) fn thread(&self) -> Result<&StoreThread, Unavailable> {
        self.thread.as_ref().ok_or(Unavailable::ShutDown)
    }

    /// Measures the session's data again, after a write (the memory bound
    /// counts what sessions grow by, not only what they started with).
    pub async fn measure(&self) {
        let Ok(thread) = self.thread() else { return };
        let measured = thread
            .run(|store| store.bytes().map_err(|_| Unavailable::Failed))
            .await;
        if let Ok(bytes) = measured {
            self.bytes.store(bytes, Ordering::SeqCst);
        }
    }

    /// The seeded data the session started from (its reset puts it back).
    pub fn image(&self) -> Arc<Image> {
        Arc::clone(&self.image)
    }
}

/// A session as `GET /_standin/sessions` lists it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SessionInfo {
    /// Its key.
    pub key: String,
    /// When it started.
    pub created_at: String,
    /// How long it has gone unused, in milliseconds.
    pub idle_ms: u64,
    /// The requests its journal holds.
    pub requests: usize,
    /// The bytes of its data (measured after its last write).
    pub bytes: usize,
}

/// The image sessions start from, and the spec (by reload count) it is of.
#[derive(Debug)]
struct Template {
    reloads: u64,
    image: Arc<Image>,
}

/// The sessions alive, bounded.
#[derive(Debug)]
pub struct Sessions {
    limits: SessionLimits,
    /// The query budget of the shared store, which sessions' stores get too.
    budget: Duration,
    alive: Mutex<HashMap<String, Arc<Session>>>,
    template: Mutex<Option<Template>>,
    /// The sessions' clock starts here...
    epoch: Instant,
    /// ...and is moved on by this many milliseconds (a test's hook).
    advanced: AtomicU64,
}

impl Default for Sessions {
    fn default() -> Sessions {
        Sessions::new(SessionLimits::default(), crate::store::DEFAULT_QUERY_BUDGET)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Whether `key` is a session key standin takes.
pub fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= MAX_KEY_LENGTH
        && key
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'))
}

impl Sessions {
    /// No sessions yet, bounded by `limits`; their stores get `budget` per request.
    pub fn new(limits: SessionLimits, budget: Duration) -> Sessions {
        Sessions {
            limits,
            budget,
            alive: Mutex::new(HashMap::new()),
            template: Mutex::new(None),
            epoch: Instant::now(),
            advanced: AtomicU64::new(0),
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> SessionLimits {
        self.limits
    }

    /// Now, on the sessions' clock, in milliseconds.
    fn now(&self) -> u64 {
        let elapsed = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        elapsed.saturating_add(self.advanced.load(Ordering::SeqCst))
    }

    /// Moves the sessions' clock on by `by`, and ends the sessions idle for
    /// longer than allowed since: a hook for testing expiry without waiting.
    pub fn advance_clock(&self, by: Duration) {
        let millis = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.advanced.fetch_add(millis, Ordering::SeqCst);
        self.expire();
    }

    /// Ends the sessions idle for longer than allowed.
    pub fn expire(&self) {
        let now = self.now();
        let idle = u64::try_from(self.limits.idle.as_millis()).unwrap_or(u64::MAX);
        let ended: Vec<Arc<Session>> = {
            let mut alive = lock(&self.alive);
            let keys: Vec<String> = alive
                .values()
                .filter(|session| {
                    now.saturating_sub(session.last_used.load(Ordering::SeqCst)) > idle
                })
                .map(|session| session.key.clone())
                .collect();
            keys.iter().filter_map(|key| alive.remove(key)).collect()
        };
        for session in &ended {
            tracing::info!("session '{}' ended after being idle", session.key);
        }
    }

    /// The session named `key` if it is alive, marked as used now.
    pub fn get(&self, key: &str) -> Option<Arc<Session>> {
        let session = lock(&self.alive).get(key).cloned()?;
        session.last_used.store(self.now(), Ordering::SeqCst);
        Some(session)
    }

    /// The sessions alive, by key.
    pub fn list(&self) -> Vec<SessionInfo> {
        self.expire();
        let now = self.now();
        let mut sessions: Vec<SessionInfo> = lock(&self.alive)
            .values()
            .map(|session| SessionInfo {
                key: session.key.clone(),
                created_at: session.created_at.clone(),
                idle_ms: now.saturating_sub(session.last_used.load(Ordering::SeqCst)),
                requests: session.journal.usage().requests,
                bytes: session.bytes.load(Ordering::SeqCst),
            })
            .collect();
        sessions.sort_by(|a, b| a.key.cmp(&b.key));
        sessions
    }

    /// Ends the session named `key`; whether there was one.
    pub fn remove(&self, key: &str) -> bool {
        lock(&self.alive).remove(key).is_some()
    }

    /// Ends every session (a reload does: their data is of the old spec).
    pub fn clear(&self) {
        let ended: Vec<_> = lock(&self.alive).drain().collect();
        drop(ended);
    }

    /// The image sessions of the spec put in force `reloads`th start from, if made already.
    fn template(&self, reloads: u64) -> Option<Arc<Image>> {
        lock(&self.template)
            .as_ref()
            .filter(|template| template.reloads == reloads)
            .map(|template| Arc::clone(&template.image))
    }

    /// Checks that one more session of `bytes` fits the limits beside `alive`.
    fn room_for(
        &self,
        alive: &HashMap<String, Arc<Session>>,
        bytes: usize,
    ) -> Result<(), SessionError> {
        if alive.len() >= self.limits.max {
            return Err(SessionError::TooMany { alive: alive.len() });
        }
        let used = alive
            .values()
            .map(|session| session.bytes.load(Ordering::SeqCst))
            .fold(0, usize::saturating_add);
        if used.saturating_add(bytes) > self.limits.memory {
            return Err(SessionError::OutOfMemory {
                alive: alive.len(),
                used,
                needed: bytes,
                limit: self.limits.memory,
            });
        }
        Ok(())
    }
}

impl super::Service {
    /// The session named `key`, started from the seeded data if it is not
    /// alive. Blocks (the first session after a start or reload copies the
    /// seeded data): call it off the async workers.
    pub fn open_session(&self, key: &str) -> Result<Arc<Session>, SessionError> {
        if !valid_key(key) {
            return Err(SessionError::BadKey(key.to_string()));
        }
        let sessions = &self.sessions;
        if let Some(session) = sessions.get(key) {
            return Ok(session);
        }
        sessions.expire();
        let (image, reloads) = self.session_image()?;
        sessions.room_for(&lock(&sessions.alive), image.size())?;
        let store =
            Store::from_image(&image).map_err(|error| SessionError::Failed(error.to_string()))?;
        store.set_query_budget(sessions.budget);
        let session = Arc::new(Session {
            key: key.to_string(),
            // Its own writer only: reading connections open the shared
            // store's file, not this copy in memory.
            thread: Some(StoreThread::without_readers(store)),
            journal: Journal::new(
                crate::journal::DEFAULT_CAPACITY,
                crate::journal::DEFAULT_MAX_BYTES,
            ),
            stubs: crate::stubs::Stubs::default(),
            created_at: crate::clock::now(),
            last_used: AtomicU64::new(sessions.now()),
            bytes: AtomicUsize::new(image.size()),
            image: Arc::clone(&image),
        });
        let mut alive = lock(&sessions.alive);
        if let Some(existing) = alive.get(key) {
            // Another request started it meanwhile.
            return Ok(Arc::clone(existing));
        }
        if self.in_force_now().1 != reloads {
            // A reload ended the sessions meanwhile: start from the new spec's data.
            drop(alive);
            return self.open_session(key);
        }
        sessions.room_for(&alive, image.size())?;
        alive.insert(key.to_string(), Arc::clone(&session));
        tracing::info!("session '{key}' started");
        Ok(session)
    }

    /// The image of the seeded data of the spec in force, and that spec's
    /// reload count; made from the shared store the first time it is asked
    /// for after a start or reload.
    fn session_image(&self) -> Result<(Arc<Image>, u64), SessionError> {
        let (spec, reloads) = self.in_force_now();
        if let Some(image) = self.sessions.template(reloads) {
            return Ok((image, reloads));
        }
        let failed = |error: &dyn std::fmt::Display| SessionError::Failed(error.to_string());
        // The shared data as it is now, snapshots included; reset to the
        // seeded state in a private copy.
        let now = self
            .run_and_wait(|store| store.image_with_snapshots())
            .map_err(|error| failed(&error))?
            .map_err(|error| failed(&error))?;
        let copy = Store::from_image(&now).map_err(|error| failed(&error))?;
        drop(now);
        copy.reset(&spec, self.seed)
            .map_err(|error| failed(&error))?;
        let image = Arc::new(copy.image().map_err(|error| failed(&error))?);
        *lock(&self.sessions.template) = Some(Template {
            reloads,
            image: Arc::clone(&image),
        });
        Ok((image, reloads))
    }
}
