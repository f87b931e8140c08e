//! The resource description: reading a spec file (YAML or JSON), checking it
//! with compiler-style diagnostics, and the normalised model every other part
//! of standin works from. Knows nothing of HTTP or storage.

mod actions;
mod behaviour;
mod checker;
mod definitions;
mod diagnostic;
mod export;
mod fields;
mod generators;
mod include;
mod limits;
mod locate;
mod model;
mod parse;
mod pattern;
mod records;
mod resources;
mod routes;
mod schema;
mod seeding;
mod source;
mod states;
mod suggest;
mod validate;
mod values;

use std::path::Path;

pub use behaviour::{Cors, DEFAULT_UPSTREAM_TIMEOUT, Faults, Scope, Upstream};
pub use diagnostic::{Diagnostic, Position, SpecErrors};
pub use export::{field_to_json, to_json};
pub use fields::field_schema;
pub use generators::infer_generator;
#[cfg(test)]
pub use generators::{GENERATORS, longest_text};
pub use locate::Locations;
pub use model::{
    Action, Computed, Dialect, Field, FieldType, Format, IdKind, Inverse, Method, OnDelete,
    Reference, Resource, Return, SortKey, Spec, SpecKind, TemplatePart,
};
pub use parse::parse;
pub use records::is_uuid;
pub use schema::json_schema;
pub use source::document;
pub use suggest::{closest, did_you_mean};
pub use validate::{FieldError, strip_server_set};
pub use values::{Values, number_range};

/// Reads a spec file's text; failing to read is reported like any spec problem.
pub fn read(path: &Path) -> Result<String, SpecErrors> {
    std::fs::read_to_string(path).map_err(|error| SpecErrors {
        diagnostics: vec![Diagnostic {
            file: path.display().to_string(),
            position: None,
            path: String::new(),
            message: format!("cannot read the spec: {error}"),
            suggestion: None,
        }],
        source: String::new(),
        included: Vec::new(),
    })
}
