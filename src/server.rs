//! Starting standin: open the store, create tables, seed, bind, run. Used by
//! the binary (which runs until a signal) and by the library's [`Server`],
//! which runs in a background thread until dropped.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};

use crate::http::{self, AppState};
use crate::spec::{self, Spec, SpecErrors};
use crate::store::{Location, SeedReport, Store};

/// Why standin could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The spec has problems.
    #[error("{0}")]
    Spec(#[from] SpecErrors),
    /// Seeding failed (a spec that cannot be satisfied).
    #[error("cannot seed the data: {0}")]
    Seed(String),
    /// The database could not be opened or prepared.
    #[error("cannot open the database: {0}")]
    Storage(#[from] rusqlite::Error),
    /// The address could not be bound.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address asked for.
        address: String,
        /// Why.
        source: std::io::Error,
    },
}

/// How to run a server.
#[derive(Debug, Clone)]
pub struct Options {
    /// Interface to listen on.
    pub host: String,
    /// Port to listen on; 0 picks a free one.
    pub port: u16,
    /// SQLite file for durable data; in memory when `None`.
    pub db: Option<PathBuf>,
    /// Overrides the spec's seed.
    pub seed: Option<u64>,
    /// Worker threads; actix-web's default (one per core) when `None`.
    pub workers: Option<usize>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            host: "127.0.0.1".into(),
            port: 0,
            db: None,
            seed: None,
            workers: None,
        }
    }
}

/// A store opened, prepared and seeded for a spec, ready to serve.
pub struct Prepared {
    /// The shared state of the handlers.
    pub state: web::Data<AppState>,
    /// What seeding did.
    pub seeded: SeedReport,
}

/// Opens the store for `spec`, creates its tables and seeds what is unseeded.
pub fn prepare(spec: Spec, options: &Options) -> Result<Prepared, StartError> {
    let location = match &options.db {
        Some(path) => Location::File(path.clone()),
        None => Location::Memory,
    };
    let store = Store::open(location)?;
    store.prepare(&spec)?;
    let seed = options.seed.unwrap_or(spec.seed);
    let seeded = store.seed(&spec, seed).map_err(StartError::Seed)?;
    Ok(Prepared {
        state: web::Data::new(AppState::new(spec, store)),
        seeded,
    })
}

/// Binds the listening socket.
pub fn bind(options: &Options) -> Result<TcpListener, StartError> {
    let address = format!("{}:{}", options.host, options.port);
    TcpListener::bind(&address).map_err(|source| StartError::Bind { address, source })
}

/// The actix-web server for `state` on `listener`; must be awaited inside an actix or tokio runtime.
pub fn http_server(
    state: web::Data<AppState>,
    listener: TcpListener,
    workers: Option<usize>,
) -> std::io::Result<actix_web::dev::Server> {
    let mut server = HttpServer::new(move || {
        App::new()
            .wrap(http::cors())
            .wrap(from_fn(http::log_request))
            .configure(http::configure(state.clone()))
    })
    .shutdown_timeout(10)
    // Signals are the binary's business (see `run_until_signal`); a library must not take them.
    .disable_signals();
    if let Some(workers) = workers {
        server = server.workers(workers);
    }
    Ok(server.listen(listener)?.run())
}

/// Serves until SIGINT or SIGTERM, then shuts down gracefully (in-flight
/// requests finish). `ready` runs once the signal handlers are in place.
pub fn run_until_signal(
    state: web::Data<AppState>,
    listener: TcpListener,
    workers: Option<usize>,
    ready: impl FnOnce(),
) -> std::io::Result<()> {
    use actix_web::rt::signal::unix::{SignalKind, signal};
    use futures_util::future::{self, Either};

    actix_web::rt::System::new().block_on(async move {
        let server = http_server(state, listener, workers)?;
        let handle = server.handle();
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        ready();
        actix_web::rt::spawn(async move {
            let which =
                future::select(Box::pin(terminate.recv()), Box::pin(interrupt.recv())).await;
            let name = match which {
                Either::Left(_) => "SIGTERM",
                Either::Right(_) => "SIGINT",
            };
            tracing::info!("{name} received: finishing requests in flight, then stopping");
            handle.stop(true).await;
        });
        server.await
    })
}

/// The URL clients use for a listening address.
pub fn url_of(address: SocketAddr, spec: &Spec) -> String {
    let host = match address {
        SocketAddr::V6(v6) => format!("[{}]", v6.ip()),
        SocketAddr::V4(v4) => v4.ip().to_string(),
    };
    format!("http://{host}:{}{}", address.port(), spec.base_path)
}

/// A standin server running in the background, stopped when dropped.
///
/// ```
/// let server = standin::Server::start_from_str(
///     "standin: 1\nresources:\n  todos:\n    fields: { title: string }\n    count: 3\n",
/// )
/// .expect("the spec is valid");
/// assert!(server.url().starts_with("http://127.0.0.1:"));
/// ```
#[derive(Debug)]
pub struct Server {
    url: String,
    handle: ServerHandle,
    thread: Option<JoinHandle<()>>,
    state: web::Data<AppState>,
}

impl Server {
    /// Starts a server on a free port from a spec's text (YAML or JSON), in memory.
    pub fn start_from_str(spec: &str) -> Result<Server, StartError> {
        Server::start(spec::parse("spec", spec)?, Options::default())
    }

    /// Starts a server on a free port from a spec file, in memory.
    pub fn start_from_file(path: impl AsRef<Path>) -> Result<Server, StartError> {
        Server::start(spec::load(path.as_ref())?, Options::default())
    }

    /// Starts a server for `spec` with `options`.
    pub fn start(spec: Spec, options: Options) -> Result<Server, StartError> {
        let prepared = prepare(spec, &options)?;
        let listener = bind(&options)?;
        let address = listener.local_addr().map_err(|source| StartError::Bind {
            address: format!("{}:{}", options.host, options.port),
            source,
        })?;
        let url = url_of(address, &prepared.state.spec());
        let state = prepared.state.clone();
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
            state,
        })
    }

    /// The base URL of the API, e.g. `http://127.0.0.1:41234/api`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The spec being served.
    pub fn spec(&self) -> std::sync::Arc<Spec> {
        self.state.spec()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // The stop command is sent at once; the returned future only reports completion.
        drop(self.handle.stop(false));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
