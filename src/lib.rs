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

pub mod clock;
pub mod fake;
pub mod fingerprint;
pub mod http;
pub mod import;
pub mod in_process;
pub mod journal;
pub mod json_server;
pub mod links;
pub mod matcher;
pub mod openapi;
pub mod patch;
pub mod query;
pub mod reload;
pub mod represent;
pub mod rewrite;
pub mod server;
pub mod spec;
pub mod store;
pub mod stubs;

pub use http::ResetError;
pub use in_process::Server;
pub use journal::Entry as ReceivedRequest;
pub use matcher::{NearMiss, RequestPattern, Verification};
pub use server::{Options, SpecFile, StartError};
pub use store::SeedError;
pub use stubs::{Stub, StubDefinition, StubResponse};
