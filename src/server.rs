//! Starting standin: load the spec, open the store, create tables, seed,
//! bind, run. Used by the binary (which runs until a signal) and by the
//! library's in-process [`Server`](crate::Server).

use actix_web::middleware::from_fn;
use actix_web::{App, web};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::fingerprint;
use crate::http::{self, AppState};
use crate::import;
use crate::service::Service;
use crate::spec::{self, Spec, SpecErrors};
use crate::store::{Location, Store};

/// Why standin could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The spec has problems.
    #[error("{0}")]
    Spec(#[from] SpecErrors),
    /// Seeding failed (a spec that cannot be satisfied).
    #[error("cannot seed the data: {0}")]
    Seed(#[from] crate::store::SeedError),
    /// The database could not be opened or prepared.
    #[error("cannot open the database {database}: {source}")]
    Storage {
        /// The database file, or `in memory`.
        database: String,
        /// The database's error.
        source: crate::store::DatabaseError,
    },
    /// The spec file could not be watched.
    #[error("cannot watch {file} for changes: {message}")]
    Watch {
        /// The spec file.
        file: String,
        /// Why.
        message: String,
    },
    /// Record mode cannot start (`--record` without an upstream, or a file that cannot be written).
    #[error("cannot record: {0}")]
    Record(String),
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
    /// Whether to reload the spec when its file changes (for specs read from a file).
    pub watch: bool,
    /// Whether to keep answers to reads until the next write.
    pub read_cache: bool,
    /// How long one request's store operation may run before it is stopped (503).
    pub query_budget: std::time::Duration,
    /// The token the admin API (`/_standin`) requires, when set.
    pub admin_token: Option<String>,
    /// The credential values OpenAPI documents' security accepts (any present one when empty).
    pub credentials: Vec<String>,
    /// How long a client may take to send a request.
    pub timeouts: http::Timeouts,
    /// Custom routes in json-server's `routes.json` format (`--routes`).
    pub custom_routes: Option<std::sync::Arc<crate::rewrite::CustomRoutes>>,
    /// Whether changes to a json-server db.json served from a file are written back to it.
    pub write_back: bool,
    /// The real service that routes the spec does not declare are forwarded
    /// to (`--upstream`), ahead of the spec's `upstream`.
    pub upstream: Option<crate::spec::Upstream>,
    /// The db.json file the upstream's answers to reads are recorded into (`--record`).
    pub record: Option<PathBuf>,
    /// How many isolated sessions may live, in how much memory, and how long an idle one lasts.
    pub sessions: crate::service::SessionLimits,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            host: "127.0.0.1".into(),
            port: 0,
            db: None,
            seed: None,
            workers: None,
            watch: false,
            read_cache: true,
            query_budget: crate::store::DEFAULT_QUERY_BUDGET,
            admin_token: None,
            credentials: Vec::new(),
            timeouts: http::Timeouts::default(),
            custom_routes: None,
            write_back: true,
            upstream: None,
            record: None,
            sessions: crate::service::SessionLimits::default(),
        }
    }
}

/// A checked spec and where it came from.
#[derive(Debug)]
pub struct SpecFile {
    /// The spec.
    pub(crate) spec: Spec,
    /// The file's name as given, for messages.
    pub(crate) file: String,
    /// The file, when the spec was read from one (watched for reloads).
    pub(crate) path: Option<PathBuf>,
    /// A hash of the file's text.
    pub(crate) hash: String,
    /// The file's state just before it was read.
    pub(crate) read_as: Option<crate::json_server::FileState>,
}

impl SpecFile {
    /// Reads and parses the spec file at `path`.
    pub fn load(path: &Path) -> Result<SpecFile, SpecErrors> {
        let read_as = crate::json_server::FileState::at(path);
        let text = spec::read(path)?;
        let file = path.display().to_string();
        let spec = import::parse(&file, &text)?;
        Ok(SpecFile {
            hash: import::spec_hash(&text, &spec),
            spec,
            file,
            path: Some(path.to_path_buf()),
            read_as,
        })
    }

    /// Parses a spec's text (YAML or JSON).
    pub fn parse(text: &str) -> Result<SpecFile, SpecErrors> {
        Ok(SpecFile {
            spec: import::parse("spec", text)?,
            file: "spec".to_string(),
            path: None,
            hash: import::input_hash(text, &[]),
            read_as: None,
        })
    }

    /// The checked spec.
    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    /// A hash of the input's text (and of the files it references), as health reports it.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// A spec checked in code, read from no file.
    pub fn from_spec(spec: Spec) -> SpecFile {
        let hash = fingerprint::text_hex(spec::to_json(&spec).to_string().as_bytes());
        SpecFile {
            spec,
            file: "spec".to_string(),
            path: None,
            hash,
            read_as: None,
        }
    }
}

/// A store opened, prepared and seeded for a spec, ready to serve.
pub struct Prepared {
    /// The shared state of the handlers.
    pub(crate) state: web::Data<AppState>,
}

/// A collection served, as the start-up banner lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collection {
    /// The resource's name.
    pub name: String,
    /// The collection's path, base path included.
    pub path: String,
    /// How many records it holds.
    pub records: u64,
}

impl Prepared {
    /// Opens the store for the spec, creates its tables and seeds what is unseeded.
    pub fn new(spec_file: SpecFile, options: &Options) -> Result<Prepared, StartError> {
        prepare(spec_file, options)
    }

    /// Runs the operations queued on the store's thread (a db.json's
    /// write back among them) and waits for them: before the process ends.
    pub fn finish(&self) {
        self.state.service.finish_operations();
    }

    /// The spec in force (a reload replaces it).
    pub fn spec(&self) -> std::sync::Arc<Spec> {
        self.state.spec()
    }

    /// The URL clients use when it listens on `address`.
    pub fn url(&self, address: SocketAddr) -> String {
        url_of(address, &self.state.spec())
    }

    /// The collections served, in spec order, with their record counts.
    pub fn collections(&self) -> Vec<Collection> {
        let spec = self.state.spec();
        let counted = Arc::clone(&spec);
        let counts = self
            .state
            .service
            .run_and_wait(move |store| {
                counted
                    .resources
                    .iter()
                    .map(|resource| store.count(resource).unwrap_or(0))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        spec.resources
            .iter()
            .zip(counts.into_iter().chain(std::iter::repeat(0)))
            .map(|(resource, records)| Collection {
                name: resource.name.clone(),
                path: crate::links::collection(&spec, &resource.name),
                records,
            })
            .collect()
    }

    /// Whether changes are written back to the db.json served.
    pub fn writes_back(&self) -> bool {
        self.state.service.write_back.is_some()
    }

    /// Watches the input at `path` and reloads it on every valid change, until the watch is dropped.
    pub fn watch(&self, path: &Path) -> notify::Result<crate::reload::Watch> {
        crate::reload::watch(path, self.state.service.clone())
    }

    /// Serves on `listener` until `shutdown` completes, then stops
    /// gracefully: the listener closes, idle connections close, and requests
    /// in flight finish (for up to 10 s). Must be awaited inside an actix
    /// runtime (`actix_web::rt::System`).
    pub async fn serve(
        &self,
        listener: TcpListener,
        workers: Option<usize>,
        shutdown: impl std::future::Future<Output = ()> + 'static,
    ) -> std::io::Result<()> {
        serve(self.state.clone(), listener, workers, shutdown).await
    }
}

/// Opens the store for the spec, creates its tables and seeds what is unseeded.
pub(crate) fn prepare(mut spec_file: SpecFile, options: &Options) -> Result<Prepared, StartError> {
    let recorder = match &options.record {
        Some(_) if options.upstream.is_none() && spec_file.spec.upstream.is_none() => {
            return Err(StartError::Record(format!(
                "{} has no upstream to record from: give one with --upstream URL or the spec's `upstream`",
                spec_file.file
            )));
        }
        Some(path) => Some(std::sync::Arc::new(
            crate::record::Recorder::open(path).map_err(StartError::Record)?,
        )),
        None => None,
    };
    let location = match &options.db {
        Some(path) => Location::File(path.clone()),
        None => Location::Memory,
    };
    let storage = |source: rusqlite::Error| StartError::Storage {
        database: match &options.db {
            Some(path) => path.display().to_string(),
            None => "in memory".to_string(),
        },
        source: source.into(),
    };
    let store = Store::open(location).map_err(storage)?;
    store.set_query_budget(options.query_budget);
    store.prepare(&spec_file.spec).map_err(storage)?;
    let json_server = spec_file.spec.dialect == crate::spec::Dialect::JsonServer;
    if json_server {
        // A db.json is the truth: its contents replace what --db kept.
        store.forget_seeded(&spec_file.spec)?;
    }
    let seed = options.seed.unwrap_or(spec_file.spec.seed);
    // An OpenAPI document's records are generated when it is read, with seed 0.
    crate::import::openapi::reseed(&mut spec_file.spec, seed);
    store.seed(&spec_file.spec, seed)?;
    let spec_file_path = spec_file.path.clone();
    let mut service = Service::new(spec_file.spec, store, seed, &spec_file.file, spec_file.hash);
    service.sessions = crate::service::Sessions::new(options.sessions, options.query_budget);
    if json_server
        && options.write_back
        && let Some(path) = &spec_file_path
    {
        // An edit saved while the data was seeded is the watcher's to reload.
        service.write_back = Some(crate::json_server::WriteBack::as_read(
            path,
            spec_file.read_as,
        ));
    }
    let mut state = AppState::new(std::sync::Arc::new(service));
    state.read_cache = options.read_cache;
    state.admin_token = options.admin_token.clone();
    state.credentials = options.credentials.clone();
    state.timeouts = options.timeouts;
    state.custom_routes = options.custom_routes.clone();
    state.proxy = crate::http::proxy::Proxy::new(options.upstream.clone(), recorder);
    Ok(Prepared {
        state: web::Data::new(state),
    })
}

impl Options {
    /// Binds the listening socket on `host` and `port`.
    pub fn bind(&self) -> Result<TcpListener, StartError> {
        let address = format!("{}:{}", self.host, self.port);
        TcpListener::bind(&address).map_err(|source| StartError::Bind { address, source })
    }
}

/// The actix-web server for `state` on `listener` (and the asynchronous
/// creates a previous run left pending); must be called inside an actix runtime.
///
/// Built from actix-web's parts as `HttpServer::listen` builds it, with one
/// difference: each connection is served through [`http::Guarded`], which
/// times every request's head and answers actix-http's own rejections as
/// problem+json.
pub(crate) fn http_server(
    state: web::Data<AppState>,
    listener: TcpListener,
    workers: Option<usize>,
) -> std::io::Result<actix_web::dev::Server> {
    use actix_http::{HttpService, Protocol};
    use actix_service::{IntoServiceFactory, ServiceFactoryExt, fn_service, map_config};
    use actix_web::dev::AppConfig;

    http::jobs::resume(state.clone().into_inner());
    sweep_idle_sessions(&state);
    let cors = state.spec().cors.clone();
    let json_server = state.spec().dialect == crate::spec::Dialect::JsonServer;
    let head_timeout = state.timeouts.head;
    let workers = workers.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    let local = listener.local_addr()?;
    let builder = actix_server::Server::build();
    let shutdown = builder.graceful_shutdown_signal();
    let builder = builder
        .shutdown_timeout(10)
        .workers(workers)
        .max_concurrent_connections(connections_per_worker(open_file_limit(), workers))
        // Signals are the binary's business (see `run_until_signal`); a library must not take them.
        .disable_signals()
        .listen(format!("standin-{local}"), listener, move || {
            let state = state.clone();
            let app = App::new()
                .wrap(http::cors(&cors, json_server))
                .wrap(from_fn(http::front))
                .configure(http::configure(state))
                .into_factory()
                .map_err(|error| error.error_response());
            let shutdown = shutdown.clone();
            let service = HttpService::build()
                // Handlers may end their connection unanswered (a stub's dropped connection).
                .on_connect_ext(|io: &http::Guarded<actix_rt::net::TcpStream>, data| {
                    data.insert(io.abort_handle());
                })
                // Idle keep-alive connections close at once on a graceful stop.
                .graceful_shutdown_signal(move || {
                    let shutdown = shutdown.clone();
                    async move { shutdown.notified().await }
                })
                // Every head is timed by `Guarded` (actix-http times only the first).
                .client_request_timeout(std::time::Duration::ZERO)
                .client_disconnect_timeout(std::time::Duration::from_secs(1))
                .local_addr(local)
                // As `HttpServer` does: the host for requests without a `Host` header is
                // the bound address (`AppConfig::new` is crate-private in actix-web).
                .finish(map_config(app, move |()| {
                    AppConfig::__priv_test_new(false, local.to_string(), local)
                }));
            fn_service(move |io: actix_rt::net::TcpStream| {
                let peer = io.peer_addr().ok();
                std::future::ready(Ok::<_, actix_http::error::DispatchError>((
                    http::Guarded::new(io, head_timeout),
                    Protocol::Http1,
                    peer,
                )))
            })
            .and_then(service)
        })?;
    Ok(builder.run())
}

/// Files the process keeps open besides connections: the listener, the
/// database and its WAL, the spec watcher, standard streams.
const RESERVED_FILES: u64 = 64;

/// actix-web's own cap on each worker's connections.
const MOST_CONNECTIONS_PER_WORKER: usize = 25_000;

/// How many connections each worker takes before it stops accepting (the
/// rest wait in the listen backlog): below the open-file limit, so that
/// accepting never fails for want of a file descriptor.
fn connections_per_worker(open_files: u64, workers: usize) -> usize {
    let spare = open_files
        .saturating_sub(RESERVED_FILES)
        .max(workers as u64);
    usize::try_from(spare / workers.max(1) as u64)
        .unwrap_or(usize::MAX)
        .clamp(1, MOST_CONNECTIONS_PER_WORKER)
}

/// The limit on this process's open files (its soft `RLIMIT_NOFILE`).
fn open_file_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 1024;
    }
    limit.rlim_cur
}

/// Raises this process's limit on open files to the most it may have (the
/// hard limit; on macOS at most `OPEN_MAX`), so that many clients do not
/// exhaust the common default of 1,024. Returns the limit in force.
pub fn raise_open_file_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 1024;
    }
    for wanted in [limit.rlim_max, limit.rlim_max.min(10_240)] {
        if wanted <= limit.rlim_cur {
            break;
        }
        let raised = libc::rlimit {
            rlim_cur: wanted,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: setrlimit only reads the struct it is given.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            return wanted;
        }
    }
    limit.rlim_cur
}

/// Ends `state`'s idle sessions about when they expire, so that an idle
/// session's memory goes back even when no new session starts. The task
/// ends with the runtime, or once `state` is gone.
fn sweep_idle_sessions(state: &web::Data<AppState>) {
    let period = (state.service.sessions.limits().idle / 4).clamp(
        std::time::Duration::from_millis(100),
        std::time::Duration::from_secs(30),
    );
    let state = std::sync::Arc::downgrade(&state.clone().into_inner());
    actix_web::rt::spawn(async move {
        loop {
            actix_web::rt::time::sleep(period).await;
            let Some(state) = state.upgrade() else { break };
            state.service.sessions.expire();
        }
    });
}

/// Serves `state` until `shutdown` completes (see [`Prepared::serve`]).
async fn serve(
    state: web::Data<AppState>,
    listener: TcpListener,
    workers: Option<usize>,
    shutdown: impl std::future::Future<Output = ()> + 'static,
) -> std::io::Result<()> {
    let server = http_server(state, listener, workers)?;
    let handle = server.handle();
    actix_web::rt::spawn(async move {
        shutdown.await;
        handle.stop(true).await;
    });
    server.await
}

/// Serves each of `servers` until SIGINT or SIGTERM, then shuts them down as
/// [`Prepared::serve`] does. `ready` runs once the signal handlers are in place.
pub fn run_until_signal<'a>(
    servers: impl IntoIterator<Item = (&'a Prepared, TcpListener)>,
    workers: Option<usize>,
    ready: impl FnOnce(),
) -> std::io::Result<()> {
    use actix_web::rt::signal::unix::{SignalKind, signal};
    use futures_util::FutureExt;
    use futures_util::future::{self, Either};

    let servers: Vec<_> = servers
        .into_iter()
        .map(|(prepared, listener)| (prepared.state.clone(), listener))
        .collect();
    actix_web::rt::System::new().block_on(async move {
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        ready();
        let signalled = async move {
            let which =
                future::select(Box::pin(terminate.recv()), Box::pin(interrupt.recv())).await;
            let name = match which {
                Either::Left(_) => "SIGTERM",
                Either::Right(_) => "SIGINT",
            };
            tracing::info!("{name} received: finishing requests in flight, then stopping");
        }
        .shared();
        // The first server that fails ends the process's serving, the others with it.
        future::try_join_all(
            servers
                .into_iter()
                .map(|(state, listener)| serve(state, listener, workers, signalled.clone())),
        )
        .await
        .map(drop)
    })
}

/// The URL clients use for a listening address.
pub(crate) fn url_of(address: SocketAddr, spec: &Spec) -> String {
    let host = match address {
        SocketAddr::V6(v6) => format!("[{}]", v6.ip()),
        SocketAddr::V4(v4) => v4.ip().to_string(),
    };
    format!("http://{host}:{}{}", address.port(), spec.base_path)
}
