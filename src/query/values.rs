//! Typing filter values by their column: integers compare as integers, dates
//! as dates, booleans as booleans; a value of the wrong type is rejected
//! naming the parameter.

use serde_json::{Number, Value};

use super::{Column, Operator, QueryError};
use crate::spec::{FieldType, IdKind, Resource, Spec};

/// What kind of values a column holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnKind {
    /// Whole numbers.
    Integer,
    /// Any number.
    Number,
    /// Text.
    Text,
    /// `true` / `false`.
    Boolean,
    /// `YYYY-MM-DD`.
    Date,
    /// RFC 3339, as clients wrote it.
    DateTime,
    /// `created_at` / `updated_at`: RFC 3339 in standin's canonical form.
    Timestamp,
    /// Arrays of the inner kind.
    Array(Box<ColumnKind>),
    /// JSON objects.
    Object,
}

fn id_kind(kind: IdKind) -> ColumnKind {
    match kind {
        IdKind::Integer => ColumnKind::Integer,
        IdKind::Uuid | IdKind::String => ColumnKind::Text,
    }
}

fn field_kind(kind: FieldType, items: Option<&crate::spec::Field>) -> ColumnKind {
    match kind {
        FieldType::String => ColumnKind::Text,
        FieldType::Integer => ColumnKind::Integer,
        FieldType::Number => ColumnKind::Number,
        FieldType::Boolean => ColumnKind::Boolean,
        FieldType::Date => ColumnKind::Date,
        FieldType::DateTime => ColumnKind::DateTime,
        FieldType::Object => ColumnKind::Object,
        FieldType::Array => {
            let inner = items.map_or(ColumnKind::Text, |items| {
                field_kind(items.kind, items.items.as_deref())
            });
            ColumnKind::Array(Box::new(inner))
        }
    }
}

/// The kind of values `column` holds in `resource`.
pub fn column_kind(spec: &Spec, resource: &Resource, column: &Column) -> ColumnKind {
    match column {
        Column::Id => id_kind(resource.id),
        Column::CreatedAt | Column::UpdatedAt => ColumnKind::Timestamp,
        Column::Field(name) => {
            let Some(field) = resource.field(name) else {
                return ColumnKind::Text;
            };
            match &field.reference {
                Some(reference) => spec
                    .resource(&reference.resource)
                    .map_or(ColumnKind::Integer, |target| id_kind(target.id)),
                None => field_kind(field.kind, field.items.as_deref()),
            }
        }
    }
}

/// Rejects operators that make no sense for the column's kind.
pub fn check_operator(name: &str, kind: &ColumnKind, operator: Operator) -> Result<(), QueryError> {
    use ColumnKind as K;
    let allowed = match operator {
        Operator::IsNull => true,
        Operator::Eq | Operator::Ne => !matches!(kind, K::Array(_) | K::Object),
        Operator::Lt | Operator::Lte | Operator::Gt | Operator::Gte => {
            matches!(
                kind,
                K::Integer | K::Number | K::Text | K::Date | K::DateTime | K::Timestamp
            )
        }
        Operator::Contains | Operator::Includes => matches!(kind, K::Text | K::Array(_)),
        Operator::StartsWith | Operator::Like => matches!(kind, K::Text),
    };
    if allowed {
        return Ok(());
    }
    let advice = match kind {
        K::Array(_) => "array fields take __contains and __isnull",
        K::Object => "object fields take only __isnull",
        K::Boolean => "boolean fields take equality, __ne and __isnull",
        _ => "__contains, __startswith and _like apply to text",
    };
    Err(QueryError::new(
        name,
        format!("this operator does not apply here: {advice}"),
    ))
}

/// The raw query value typed for comparison with the column.
pub fn typed(
    name: &str,
    kind: &ColumnKind,
    operator: Operator,
    raw: &str,
) -> Result<Value, QueryError> {
    let wrong =
        |expected: &str| QueryError::new(name, format!("{name} must be {expected}, not '{raw}'"));
    if operator == Operator::IsNull {
        return boolean(raw)
            .map(Value::Bool)
            .ok_or_else(|| wrong("true or false"));
    }
    if operator == Operator::Like {
        crate::query::like_pattern(raw).map_err(|error| {
            QueryError::new(
                name,
                format!("{name} must be a regular expression: {error}"),
            )
        })?;
        return Ok(Value::String(raw.to_string()));
    }
    match kind {
        ColumnKind::Array(inner) => typed(name, inner, Operator::Eq, raw),
        ColumnKind::Integer => integer(raw)
            .map(Value::from)
            .ok_or_else(|| wrong("a whole number")),
        ColumnKind::Number => raw
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(|number| match number.as_f64() {
                Some(float) if float.fract() == 0.0 && float.abs() < 9.0e15 => {
                    Value::from(float as i64)
                }
                _ => Value::Number(number),
            })
            .ok_or_else(|| wrong("a number")),
        ColumnKind::Boolean => boolean(raw)
            .map(Value::Bool)
            .ok_or_else(|| wrong("true or false")),
        ColumnKind::Date if !is_comparison(operator) || is_date(raw) => {
            if is_date(raw) {
                Ok(Value::String(raw.to_string()))
            } else {
                Err(wrong("a date like 2024-05-31"))
            }
        }
        ColumnKind::Date => Err(wrong("a date like 2024-05-31")),
        ColumnKind::DateTime => {
            // SQLite's julianday() reads only an upper-case T and Z.
            let raw = raw.to_ascii_uppercase();
            if is_date(&raw) || is_datetime(&raw) {
                Ok(Value::String(raw))
            } else {
                Err(wrong("a date-time like 2024-05-31T12:00:00Z (or a date)"))
            }
        }
        ColumnKind::Timestamp => crate::clock::canonical(raw)
            .map(Value::String)
            .ok_or_else(|| wrong("a date-time like 2024-05-31T12:00:00Z (or a date)")),
        ColumnKind::Text | ColumnKind::Object => Ok(Value::String(raw.to_string())),
    }
}

fn is_comparison(operator: Operator) -> bool {
    matches!(
        operator,
        Operator::Lt | Operator::Lte | Operator::Gt | Operator::Gte
    )
}

fn integer(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    raw.parse::<i64>().ok().or_else(|| {
        raw.parse::<f64>()
            .ok()
            .filter(|float| float.fract() == 0.0 && float.abs() < 9.2e18)
            .map(|float| float as i64)
    })
}

fn boolean(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

fn is_date(raw: &str) -> bool {
    // A signed year (+2024-01-01) would compare as text, wrongly.
    if !raw.starts_with(|c: char| c.is_ascii_digit()) {
        return false;
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(raw, &format).is_ok()
}

fn is_datetime(raw: &str) -> bool {
    if !raw.starts_with(|c: char| c.is_ascii_digit()) {
        return false;
    }
    time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_accept_integral_floats_only() {
        let kind = ColumnKind::Integer;
        assert_eq!(
            typed("year", &kind, Operator::Eq, "82.0").unwrap(),
            Value::from(82)
        );
        assert!(typed("year", &kind, Operator::Eq, "82.5").is_err());
        assert!(typed("year", &kind, Operator::Eq, "abc").is_err());
    }

    #[test]
    fn dates_must_be_dates() {
        assert!(typed("on", &ColumnKind::Date, Operator::Gte, "2024-02-30").is_err());
        assert!(typed("on", &ColumnKind::Date, Operator::Gte, "2024-02-29").is_ok());
    }

    #[test]
    fn booleans_take_true_false_1_0() {
        assert_eq!(
            typed("done", &ColumnKind::Boolean, Operator::Eq, "1").unwrap(),
            Value::Bool(true)
        );
        assert!(typed("done", &ColumnKind::Boolean, Operator::Eq, "yes").is_err());
    }
}
