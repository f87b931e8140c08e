//! standin's integration tests: one binary, one module per capability. Every
//! test starts its own real server on a free port and speaks HTTP to it.

mod admin;
mod bad_input;
mod cli;
mod clients;
mod concurrency;
mod crud;
mod differential;
mod docs;
mod example_specs;
mod helpers;
mod hostile;
mod openapi;
mod openapi_import;
mod queries;
mod reload;
mod representations;
mod seeding;
mod semantics;
mod spec_check;
mod storage;
