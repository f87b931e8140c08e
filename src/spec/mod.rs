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

/// The most bytes one spec file (or included file) may have: enough for a
/// fixture of millions of records, and a bound on what a mistaken path
/// (`include: /dev/zero`, a stray dump matched by a glob) can make standin read.
pub const MAX_SPEC_BYTES: u64 = 256 * 1024 * 1024;

/// The text of the spec file (or included file) at `path`, refused past
/// [`MAX_SPEC_BYTES`].
pub fn read_text(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(MAX_SPEC_BYTES + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > MAX_SPEC_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "it is larger than {} MiB, the most a spec file may have",
                MAX_SPEC_BYTES / 1024 / 1024
            ),
        ));
    }
    Ok(text)
}

/// Reads a spec file's text; failing to read is reported like any spec problem.
pub fn read(path: &Path) -> Result<String, SpecErrors> {
    read_text(path).map_err(|error| SpecErrors {
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
