//! Validation of record values against a resource: the one place that decides
//! whether a set of fields may be stored. Used for request bodies and for the
//! spec's fixed records alike. Uniqueness and references need the data and
//! are checked by the store.

use serde_json::{Map, Number, Value};

use super::model::{FieldType, Resource};

/// Keys every record carries that the server sets; writes may send them back unchanged.
pub const SERVER_SET: &[&str] = &["id", "created_at", "updated_at"];

/// One invalid field, as reported in a problem's `errors` list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// The field's name (or a JSON pointer below it, like `tags/2`).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldError {
    /// An error about `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl Resource {
    /// Checks a whole record (a create, a replace, a fixed record): fills in
    /// defaults for the fields it leaves out, then validates it.
    pub fn validate_whole(&self, fields: &mut Map<String, Value>) -> Result<(), Vec<FieldError>> {
        self.apply_defaults(fields);
        self.validate(fields)
    }

    /// Fills in spec defaults for fields a create omits.
    fn apply_defaults(&self, fields: &mut Map<String, Value>) {
        for field in &self.fields {
            if let Some(default) = &field.default
                && !fields.contains_key(&field.name)
            {
                fields.insert(field.name.clone(), default.clone());
            }
        }
    }

    /// Checks `fields` against the resource, normalising integral floats of
    /// integer fields (`82.0` becomes `82`) and writing absent fields as
    /// `null`; every problem is reported.
    pub fn validate(&self, fields: &mut Map<String, Value>) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        for field in &self.fields {
            if let Some(value) = fields.get_mut(&field.name) {
                let is_integer = field.kind == FieldType::Integer;
                let items_are_integers = field
                    .items
                    .as_ref()
                    .is_some_and(|items| items.kind == FieldType::Integer);
                if is_integer && let Err(message) = normalise_integer(value) {
                    errors.push(FieldError::new(&field.name, message));
                }
                if items_are_integers && let Value::Array(items) = value {
                    for (index, item) in items.iter_mut().enumerate() {
                        if let Err(message) = normalise_integer(item) {
                            errors
                                .push(FieldError::new(format!("{}/{index}", field.name), message));
                        }
                    }
                }
            }
        }
        // Optional fields may be sent as null: "no value".
        let checked: Map<String, Value> = fields
            .iter()
            .filter(|(name, value)| {
                !(value.is_null() && self.field(name).is_some_and(|field| !field.required))
            })
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        let instance = Value::Object(checked);
        let reported = errors.len();
        for error in self.validator.iter_errors(&instance) {
            for field_error in describe_error(&error) {
                // A number already reported as not an integer needs no second message.
                let duplicate = errors[..reported]
                    .iter()
                    .any(|earlier| earlier.field == field_error.field);
                if !duplicate {
                    errors.push(field_error);
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        // Every field is stored explicitly, so that a missing key only ever
        // means a field added to the spec after the record was written.
        for field in self.fields.iter().filter(|field| !field.is_computed()) {
            fields.entry(field.name.clone()).or_insert(Value::Null);
        }
        Ok(())
    }
}

fn normalise_integer(value: &mut Value) -> Result<(), String> {
    let Value::Number(number) = value else {
        return Ok(());
    };
    if number.is_i64() || number.is_u64() {
        if number.is_u64() && !number.is_i64() {
            return Err(format!(
                "{number} is too large: integers range up to {}",
                i64::MAX
            ));
        }
        return Ok(());
    }
    let float = number.as_f64().unwrap_or(f64::NAN);
    if float.fract() != 0.0 {
        return Err(format!("{number} is not a whole number"));
    }
    // 2^63 is exactly representable; everything below it fits an i64.
    if float.abs() >= 9.223_372_036_854_776e18 {
        return Err(format!(
            "{number} is too large: integers range up to {}",
            i64::MAX
        ));
    }
    *value = Value::Number(Number::from(float as i64));
    Ok(())
}

fn describe_error(error: &jsonschema::ValidationError<'_>) -> Vec<FieldError> {
    use jsonschema::error::ValidationErrorKind as Kind;
    let pointer = error.instance_path().as_str().trim_start_matches('/');
    match error.kind() {
        Kind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            vec![FieldError::new(name, "is required")]
        }
        Kind::AdditionalProperties { unexpected } => unexpected
            .iter()
            .map(|name| FieldError::new(name, "is not a field of this resource"))
            .collect(),
        _ => vec![FieldError::new(pointer, error.to_string())],
    }
}

/// Removes the server-set keys (and HAL's `_links` / `_embedded`) from a write body.
pub fn strip_server_set(fields: &mut Map<String, Value>) -> Option<Value> {
    let id = fields.remove("id");
    for key in &SERVER_SET[1..] {
        fields.remove(*key);
    }
    fields.remove("_links");
    fields.remove("_embedded");
    id
}
