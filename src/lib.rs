//! standin turns a resource description file into a real, stateful REST API.
//!
//! The binary serves a spec file; this library starts the same server
//! in-process, for test suites:
//!
//! ```
//! let server = standin::Server::start_from_str(r#"
//! standin: 1
//! resources:
//!   books:
//!     fields:
//!       title: { type: string, required: true }
//!     count: 5
//! "#).unwrap();
//! println!("serving at {}", server.url());
//! // the server stops when `server` is dropped
//! ```
//!
//! Every module is private: what is re-exported here is the whole API (see
//! ARCHITECTURE.md, "The API boundary"). A [`Spec`] exists only as the result
//! of checking an input with [`load`] or [`parse`].

mod clock;
mod fake;
mod fingerprint;
#[cfg(test)]
mod fuzz;
mod http;
mod import;
mod in_process;
mod journal;
mod json_server;
mod links;
mod matcher;
mod openapi;
mod patch;
mod query;
mod record;
mod reload;
mod represent;
mod rewrite;
mod server;
mod service;
mod spec;
mod store;
mod stubs;

use std::path::Path;

use serde_json::Value;

pub use http::Timeouts;
pub use in_process::Server;
pub use in_process::SessionHandle;
pub use journal::{Entry as ReceivedRequest, Forwarded};
pub use matcher::{NearMiss, RequestPattern, Verification};
pub use reload::Watch;
pub use rewrite::CustomRoutes;
pub use server::{
    Collection, Options, Prepared, SpecFile, StartError, raise_open_file_limit, run_until_signal,
};
pub use service::{ResetError, SessionError, SessionInfo, SessionLimits};
pub use spec::{
    DEFAULT_UPSTREAM_TIMEOUT, Diagnostic, Position, Spec, SpecErrors, SpecKind, Upstream,
};
pub use store::{DEFAULT_QUERY_BUDGET, DatabaseError, SeedError, remove_temporary_databases};
pub use stubs::{Stub, StubDefinition, StubResponse};

/// Reads and checks the input at `path`: a standin spec, a json-server
/// `db.json` or an OpenAPI 3 document, told apart by their content.
pub fn load(path: &Path) -> Result<Spec, SpecErrors> {
    import::load(path)
}

/// Checks an input's text, of any kind [`load`] reads; `file` names it in diagnostics.
pub fn parse(file: &str, source: &str) -> Result<Spec, SpecErrors> {
    import::parse(file, source)
}

/// The standin spec inferred from the input at `path`, with warnings for
/// what it could not express.
pub fn import_spec(path: &Path) -> Result<(Value, Vec<Diagnostic>), SpecErrors> {
    import::standin_spec(path)
}

/// What standin understood of an OpenAPI document (`file`, whose text is
/// `source`): each resource with its routes, fields and id, and each
/// operation answered from examples. Empty for other inputs.
pub fn describe_inferred(spec: &Spec, file: &str, source: &str) -> String {
    import::openapi::describe(spec, file, source)
}

/// The JSON Schema of standin's spec format.
pub fn spec_format_schema() -> Value {
    spec::json_schema()
}

/// The OpenAPI 3.1 document of the API `spec` describes.
pub fn openapi_document(spec: &Spec) -> Value {
    openapi::document(spec)
}
