//! What every request handler shares: the service (the spec in force, the
//! store, the journal; `crate::service`) and what only HTTP needs: limits,
//! credentials, the read cache and the draws of injected faults.

use std::sync::Arc;

use crate::service::Service;
use crate::spec::Spec;

/// Default request body limit: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1 << 20;

/// What every request handler shares.
#[derive(Debug)]
pub struct AppState {
    /// The API served, HTTP aside.
    pub service: Arc<Service>,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// How long a client may take to send a request.
    pub timeouts: super::body::Timeouts,
    /// The token the admin API requires, when set (`--admin-token`).
    pub admin_token: Option<String>,
    /// Custom routes in json-server's format (`--routes`), fixed at start.
    pub custom_routes: Option<Arc<crate::rewrite::CustomRoutes>>,
    /// The credential values OpenAPI documents' security accepts (any present one when empty).
    pub credentials: Vec<String>,
    /// Whether answers to reads are cached (on unless `--no-read-cache`).
    pub read_cache: bool,
    /// Whether CORS is on (the spec's `cors` at start, as the middleware is built).
    pub cors: bool,
    /// Forwarding to an upstream, and recording its answers.
    pub proxy: super::proxy::Proxy,
    /// Answers to reads, until the next write.
    pub responses: super::cache::ResponseCache,
    /// Draws for injected latency and errors, seeded for reproducible runs.
    fault_random: std::sync::Mutex<rand_chacha::ChaCha8Rng>,
}

impl AppState {
    /// State serving `service` with the default limits.
    pub fn new(service: Arc<Service>) -> AppState {
        let spec = service.spec();
        let cors =
            spec.cors != crate::spec::Cors::Off || spec.dialect == crate::spec::Dialect::JsonServer;
        AppState {
            fault_random: std::sync::Mutex::new(rand::SeedableRng::seed_from_u64(service.seed)),
            service,
            body_limit: DEFAULT_BODY_LIMIT,
            timeouts: super::body::Timeouts::default(),
            admin_token: None,
            custom_routes: None,
            credentials: Vec::new(),
            responses: super::cache::ResponseCache::default(),
            read_cache: true,
            cors,
            proxy: super::proxy::Proxy::default(),
        }
    }

    /// The spec in force now; a request keeps the one it started with.
    pub fn spec(&self) -> Arc<Spec> {
        self.service.spec()
    }

    /// Runs a store operation on the store's thread, after those before it
    /// (see [`Service::blocking`]).
    pub(crate) async fn blocking<T: Send + 'static>(
        &self,
        operation: impl FnOnce(&crate::store::Store) -> Result<T, super::Problem> + Send + 'static,
    ) -> Result<T, super::Problem> {
        self.service.blocking(operation).await
    }

    /// Runs `operation` on the store with the spec its request started on
    /// (see [`Service::on_store`]).
    pub(crate) async fn on_store<T: Send + 'static>(
        &self,
        spec: &Arc<Spec>,
        operation: impl FnOnce(&crate::store::Store, &Spec) -> Result<T, super::Problem>
        + Send
        + 'static,
    ) -> Result<T, super::Problem> {
        self.service.on_store(spec, operation).await
    }

    /// Runs the read-only `operation` on a reading connection, with the
    /// spec its request started on (see [`Service::read_on_store`]).
    pub(crate) async fn read<T: Send + 'static>(
        &self,
        spec: &Arc<Spec>,
        reach: crate::service::Reach,
        operation: impl Fn(&crate::store::Store, &Spec) -> Result<T, super::Problem> + Send + 'static,
    ) -> Result<T, super::Problem> {
        self.service.read_on_store(spec, reach, operation).await
    }

    /// The generator of injected faults.
    pub fn fault_random(&self) -> std::sync::MutexGuard<'_, rand_chacha::ChaCha8Rng> {
        self.fault_random
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// What a cached answer for a request on `spec` depends on; `None` once
    /// `spec` was replaced, when the read cache is off, or in a session.
    pub fn version(&self, spec: &Arc<Spec>) -> Option<super::cache::Version> {
        self.caches().then(|| self.service.version(spec)).flatten()
    }

    /// What a cached answer for a request on `spec` that reads only the
    /// records of `resources` depends on; as [`AppState::version`] otherwise.
    pub fn version_of<'a>(
        &self,
        spec: &Arc<Spec>,
        resources: impl IntoIterator<Item = &'a str>,
    ) -> Option<super::cache::Version> {
        self.caches()
            .then(|| self.service.version_of(spec, resources))
            .flatten()
    }

    /// A read of `request` in `representation` that the read cache may
    /// answer (and keep) at `version` (none: it may not).
    pub fn cached_read(
        &self,
        version: Option<super::cache::Version>,
        request: &actix_web::HttpRequest,
        representation: &str,
    ) -> super::cache::CachedRead<'_> {
        super::cache::CachedRead::begin(
            &self.responses,
            self.service.changes(),
            version,
            request,
            representation,
        )
    }

    /// Whether this request's answers may be kept: the read cache is on, and
    /// the request names no session (a session's answers are its own, never
    /// kept with the shared data's).
    fn caches(&self) -> bool {
        self.read_cache && crate::service::current_session().is_none()
    }
}
