//! Bounded fuzz targets for the engine's parsers, run by `cargo test`:
//! random specs against the checker and the store (`specs`), random query
//! strings against the query parser and the SQL it leads to (`queries`).
//! `.ci/run` runs them again with more cases (`PROPTEST_CASES`).

mod queries;
mod specs;
