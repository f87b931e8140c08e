//! standin in-process, for Rust test suites: a server on a free port from a
//! spec file or string, with its URL, reset and received requests at hand,
//! stopped when dropped. In the spirit of wiremock-rs's `MockServer`.

use std::path::Path;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use actix_web::dev::ServerHandle;

use crate::journal::{Entry, Selection};
use crate::reload;
use crate::server::{Options, SpecFile, StartError, http_server, prepare, url_of};
use crate::service::Service;
use crate::spec::Spec;

/// A standin server running in the background, stopped when dropped.
///
/// ```
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = standin::Server::start_from_str(
///     "standin: 1\nresources:\n  todos:\n    fields: { title: string }\n    count: 3\n",
/// )?;
/// let client = reqwest::Client::new();
/// let created = client
///     .post(format!("{}/todos", server.url()))
///     .json(&serde_json::json!({ "title": "Write tests" }))
///     .send()
///     .await?;
/// assert_eq!(created.status(), 201);
///
/// // What did the code under test send?
/// let received = server.received_requests();
/// assert_eq!(received[0].method, "POST");
/// assert_eq!(received[0].body["title"], "Write tests");
///
/// // Back to the three seeded todos for the next test.
/// server.reset()?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Server {
    url: String,
    handle: ServerHandle,
    thread: Option<JoinHandle<()>>,
    service: std::sync::Arc<Service>,
    watch: Option<reload::Watch>,
}

impl Server {
    /// Starts a server on a free port from a spec's text (YAML or JSON), in memory.
    pub fn start_from_str(spec: &str) -> Result<Server, StartError> {
        Server::start_with(SpecFile::parse(spec)?, Options::default())
    }

    /// Starts a server on a free port from a spec file, in memory.
    pub fn start_from_file(path: impl AsRef<Path>) -> Result<Server, StartError> {
        Server::start_with(SpecFile::load(path.as_ref())?, Options::default())
    }

    /// Starts a server for a spec built in code, with `options`.
    pub fn start(spec: Spec, options: Options) -> Result<Server, StartError> {
        Server::start_with(SpecFile::from_spec(spec), options)
    }

    /// Starts a server for a spec and its origin, with `options` (which may watch the file).
    pub fn start_with(spec_file: SpecFile, options: Options) -> Result<Server, StartError> {
        let watched = spec_file.path.clone().filter(|_| options.watch);
        let prepared = prepare(spec_file, &options)?;
        let listener = options.bind()?;
        let address = listener.local_addr().map_err(|source| StartError::Bind {
            address: format!("{}:{}", options.host, options.port),
            source,
        })?;
        let url = url_of(address, &prepared.state.spec());
        let service = prepared.state.service.clone();
        // Watched before it serves: a write back then waits for the watcher
        // to reload an edit saved while the data was seeded.
        let watch =
            match watched {
                Some(path) => Some(reload::watch(&path, service.clone()).map_err(|error| {
                    StartError::Watch {
                        file: path.display().to_string(),
                        message: error.to_string(),
                    }
                })?),
                None => None,
            };
        let workers = options.workers.or(Some(2));
        let (sender, receiver) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("standin-server".into())
            .spawn(move || {
                let system = actix_web::rt::System::new();
                system.block_on(async move {
                    match http_server(prepared.state, listener, workers) {
                        Ok(server) => {
                            let _ = sender.send(Ok(server.handle()));
                            let _ = server.await;
                        }
                        Err(error) => {
                            let _ = sender.send(Err(error));
                        }
                    }
                });
            })
            .map_err(|source| StartError::Bind {
                address: url.clone(),
                source,
            })?;
        let handle = receiver
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| std::io::Error::other("the server thread did not start"))
            .and_then(|started| started)
            .map_err(|source| StartError::Bind {
                address: url.clone(),
                source,
            })?;
        Ok(Server {
            url,
            handle,
            thread: Some(thread),
            service,
            watch,
        })
    }

    /// The base URL of the API, e.g. `http://127.0.0.1:41234/api`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The spec being served.
    pub fn spec(&self) -> std::sync::Arc<Spec> {
        self.service.spec()
    }

    /// Puts the data back in its seeded state, as `POST /_standin/reset` does.
    pub fn reset(&self) -> Result<(), crate::service::ResetError> {
        self.service.reset().map(|_| ())
    }

    /// The requests received so far (the newest the journal keeps: at most 1,000 and 8 MiB), oldest first.
    pub fn received_requests(&self) -> Vec<Entry> {
        self.service.journal.entries(&Selection::default())
    }

    /// The received requests `pattern` matches, and the closest of the
    /// others (near misses); a path pattern that cannot be read is refused.
    pub fn verify(&self, pattern: crate::RequestPattern) -> Result<crate::Verification, String> {
        let matcher = crate::matcher::Matcher::new(pattern)?;
        Ok(matcher.verify(self.received_requests()))
    }

    /// Programs an answer for the requests to come that match (the newest
    /// stub first); why not, when the definition cannot be.
    pub fn stub(&self, definition: crate::StubDefinition) -> Result<crate::Stub, String> {
        self.service.stubs.add(definition)
    }

    /// The stubs in place, oldest first.
    pub fn stubs(&self) -> Vec<crate::Stub> {
        self.service.stubs.list()
    }

    /// Removes the stub numbered `id`; whether there was one.
    pub fn remove_stub(&self, id: u64) -> bool {
        self.service.stubs.remove(id)
    }

    /// Forgets the requests received so far.
    pub fn clear_requests(&self) {
        self.service.journal.clear();
    }

    /// Starts an isolated session with a key of its own: its requests (with
    /// its header, or to its URL) see and change only its copy of the
    /// seeded data; ended when the handle is dropped.
    pub fn session(&self) -> Result<SessionHandle, crate::SessionError> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let number = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.session_named(&format!("rust-{}-{number}", std::process::id()))
    }

    /// The isolated session named `key` (started if it is not alive); ended
    /// when the handle is dropped.
    pub fn session_named(&self, key: &str) -> Result<SessionHandle, crate::SessionError> {
        self.service.open_session(key)?;
        let base_path = self.service.spec().base_path.clone();
        let origin = self
            .url
            .strip_suffix(base_path.as_str())
            .unwrap_or(&self.url);
        Ok(SessionHandle {
            key: key.to_string(),
            url: format!("{origin}/_session/{key}{base_path}"),
            service: self.service.clone(),
        })
    }

    /// The isolated sessions alive, by key.
    pub fn sessions(&self) -> Vec<crate::SessionInfo> {
        self.service.sessions.list()
    }

    /// Moves the sessions' idle clock on by `by` and ends those idle for
    /// longer than allowed since: for testing expiry without waiting.
    pub fn advance_session_clock(&self, by: Duration) {
        self.service.sessions.advance_clock(by);
    }
}

/// An isolated session of a [`Server`]: its own copy of the data, journal
/// and stubs, reached with its header or its URL; ended when dropped.
#[derive(Debug)]
pub struct SessionHandle {
    key: String,
    url: String,
    service: std::sync::Arc<Service>,
}

impl SessionHandle {
    /// The session's key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The API's base URL within the session (the `/_session/{key}` prefix form).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The header naming the session, for requests to the server's own URL.
    pub fn header(&self) -> (&'static str, &str) {
        ("Standin-Session", &self.key)
    }

    /// Puts the session's data back in its seeded state; others' are untouched.
    pub fn reset(&self) -> Result<(), crate::service::ResetError> {
        let session = self.service.open_session(&self.key)?;
        let (spec, image) = (self.service.spec(), session.image());
        session
            .thread()?
            .run_and_wait(move |store| store.reset_to_image(&spec, &image))??;
        Ok(())
    }

    /// The requests the session received, oldest first.
    pub fn received_requests(&self) -> Vec<Entry> {
        self.service
            .sessions
            .get(&self.key)
            .map(|session| session.journal.entries(&Selection::default()))
            .unwrap_or_default()
    }

    /// The session's received requests `pattern` matches, and near misses.
    pub fn verify(&self, pattern: crate::RequestPattern) -> Result<crate::Verification, String> {
        let matcher = crate::matcher::Matcher::new(pattern)?;
        Ok(matcher.verify(self.received_requests()))
    }

    /// Programs an answer for the session's requests to come that match.
    pub fn stub(&self, definition: crate::StubDefinition) -> Result<crate::Stub, String> {
        let session = self
            .service
            .open_session(&self.key)
            .map_err(|error| error.to_string())?;
        session.stubs.add(definition)
    }
}

impl Drop for SessionHandle {
    /// Ends the session.
    fn drop(&mut self) {
        self.service.sessions.remove(&self.key);
    }
}

impl Drop for Server {
    /// Stops the server and waits (up to 5 s) until the store is closed, so
    /// that another server can open its database file at once.
    fn drop(&mut self) {
        // The stop command is sent at once; the returned future only reports completion.
        drop(self.handle.stop(false));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        drop(self.watch.take());
        // Worker threads and the watcher's thread let go of the service just
        // after; the last to go ends the store's thread, which closes the store.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while std::sync::Arc::strong_count(&self.service) > 1
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
