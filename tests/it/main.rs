//! standin's integration tests: one binary, one module per capability. Every
//! test starts its own real server on a free port and speaks HTTP to it.

mod access;
mod admin;
mod async_resources;
mod bad_input;
mod cli;
mod clients;
mod concurrency;
mod conditional;
mod crud;
mod custom_routes;
mod differential;
mod docs;
mod example_specs;
mod faults;
mod helpers;
mod hostile;
mod html;
mod json_patch;
mod json_server;
mod json_server_files;
mod openapi;
mod openapi_import;
mod proxy;
mod queries;
mod reload;
mod representations;
mod seeding;
mod sessions;
mod spec_check;
mod storage;
mod transitions;
