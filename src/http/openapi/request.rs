//! A request to an OpenAPI document: the operation it names, and its
//! parameters, credentials and body checked against the document, each
//! refusal naming what was wrong.

use std::collections::HashMap;

use actix_web::HttpRequest;
use actix_web::http::header;
use serde_json::{Map, Value};

use crate::http::Problem;
use crate::import::openapi::api::{Api, Credential, Location, Operation, Segment};
use crate::spec::FieldError;

/// What matched a request's path.
pub enum Matched<'a> {
    /// The operation for the request's method.
    Operation(&'a Operation, HashMap<String, String>),
    /// The path exists but not with this method: the methods it has.
    Methods(Vec<&'static str>),
    /// No path matches.
    None,
}

/// The operation of `api` that `path` (below the base path) and `method` name.
pub fn find<'a>(api: &'a Api, method: &str, path: &str) -> Matched<'a> {
    let segments: Vec<String> = path
        .split('/')
        .filter(|segment| !segment.is_empty())
        .map(|segment| {
            percent_encoding::percent_decode_str(segment)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let mut best: Option<(usize, &str)> = None;
    for operation in &api.operations {
        if let Some(literals) = matches(&operation.segments, &segments)
            && best.is_none_or(|(most, _)| literals > most)
        {
            best = Some((literals, operation.template.as_str()));
        }
    }
    let Some((_, template)) = best else {
        return Matched::None;
    };
    let same_path = || {
        api.operations
            .iter()
            .filter(move |operation| operation.template == template)
    };
    let wanted = if method == "HEAD" { "GET" } else { method };
    if let Some(operation) = same_path().find(|operation| operation.method == wanted) {
        return matched(operation, segments);
    }
    // `PUT /user/`, where `/user` has no PUT: `PUT /user/{username}` with
    // the name empty (RFC 6570 expands it so), as a key can be.
    if path.ends_with('/') && !segments.is_empty() {
        let mut longer = segments;
        longer.push(String::new());
        let empty_last = api.operations.iter().find(|operation| {
            operation.method == wanted
                && matches!(operation.segments.last(), Some(Segment::Parameter(_)))
                && matches(&operation.segments, &longer).is_some()
        });
        if let Some(operation) = empty_last {
            return matched(operation, longer);
        }
    }
    methods(same_path())
}

/// `operation`, with the values its path's parameters have in `segments`.
fn matched(operation: &Operation, segments: Vec<String>) -> Matched<'_> {
    let mut values = HashMap::new();
    for (segment, value) in operation.segments.iter().zip(segments) {
        if let Segment::Parameter(name) = segment {
            values.insert(name.clone(), value);
        }
    }
    Matched::Operation(operation, values)
}

/// What `Matched::Methods` says of the operations of one path.
fn methods<'a>(operations: impl Iterator<Item = &'a Operation>) -> Matched<'a> {
    Matched::Methods(
        operations
            .filter_map(|operation| {
                crate::import::openapi::api::METHODS
                    .iter()
                    .position(|m| m.eq_ignore_ascii_case(&operation.method))
                    .map(|index| UPPER[index])
            })
            .collect(),
    )
}

const UPPER: [&str; 8] = [
    "GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE",
];

/// The number of literal segments, if `template` matches `segments`.
fn matches(template: &[Segment], segments: &[String]) -> Option<usize> {
    if template.len() != segments.len() {
        return None;
    }
    let mut literals = 0;
    for (part, segment) in template.iter().zip(segments) {
        match part {
            Segment::Literal(text) if text == segment => literals += 1,
            Segment::Literal(_) => return None,
            Segment::Parameter(_) => {}
        }
    }
    Some(literals)
}

/// Checks the request's parameters against `operation`; the typed query values by name.
pub fn parameters(
    request: &HttpRequest,
    operation: &Operation,
    path: &HashMap<String, String>,
) -> Result<HashMap<String, Value>, Problem> {
    let query: Vec<(String, String)> = form_urlencoded::parse(request.query_string().as_bytes())
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    let mut typed = HashMap::new();
    for parameter in &operation.parameters {
        let name = &parameter.name;
        let sent: Vec<String> = match parameter.location {
            Location::Path => path.get(name).cloned().into_iter().collect(),
            Location::Query => query
                .iter()
                .filter(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
                .collect(),
            Location::Header => {
                if ["accept", "content-type", "authorization"]
                    .contains(&name.to_ascii_lowercase().as_str())
                {
                    continue;
                }
                request
                    .headers()
                    .get_all(name.as_str())
                    .filter_map(|value| value.to_str().ok())
                    .map(str::to_string)
                    .collect()
            }
            Location::Cookie => cookie(request, name).into_iter().collect(),
        };
        if sent.is_empty() {
            if parameter.required {
                return Err(Problem::bad_parameter(
                    name,
                    format!(
                        "the {} parameter '{name}' is required",
                        location_name(parameter.location)
                    ),
                ));
            }
            continue;
        }
        if sent.len() > 1 && schema_kind(&parameter.schema) != "array" {
            return Err(Problem::bad_parameter(
                name,
                format!(
                    "the {} parameter '{name}' takes one value and was sent {} times",
                    location_name(parameter.location),
                    sent.len()
                ),
            ));
        }
        let value = typed_value(&parameter.schema, &sent);
        if let Some(validator) = &parameter.validator
            && let Some(error) = validator.iter_errors(&value).next()
        {
            return Err(Problem::bad_parameter(
                name,
                format!(
                    "the {} parameter '{name}' is invalid: {error}",
                    location_name(parameter.location)
                ),
            ));
        }
        if parameter.location == Location::Query {
            typed.insert(name.clone(), value);
        }
    }
    Ok(typed)
}

fn location_name(location: Location) -> &'static str {
    match location {
        Location::Path => "path",
        Location::Query => "query",
        Location::Header => "header",
        Location::Cookie => "cookie",
    }
}

/// The values sent for a parameter, typed as its schema says (text that is
/// not of the type stays text, for the validator to refuse).
fn typed_value(schema: &Value, sent: &[String]) -> Value {
    let kind = schema_kind(schema);
    if kind == "array" {
        let items = schema.get("items").cloned().unwrap_or_default();
        let parts: Vec<&str> =
            if sent.len() == 1 && schema.get("explode") == Some(&Value::Bool(false)) {
                sent[0].split(',').collect()
            } else {
                sent.iter().map(String::as_str).collect()
            };
        return Value::Array(
            parts
                .iter()
                .map(|part| scalar(&schema_kind(&items), part))
                .collect(),
        );
    }
    scalar(&kind, &sent[0])
}

pub(super) fn schema_kind(schema: &Value) -> String {
    crate::import::openapi::infer::kind_of(schema).unwrap_or_else(|| {
        if schema.get("items").is_some() {
            "array".into()
        } else {
            "string".into()
        }
    })
}

pub(super) fn scalar(kind: &str, text: &str) -> Value {
    match kind {
        "integer" => match text.parse::<i64>() {
            Ok(integer) => Value::from(integer),
            // Beyond 64 bits, still an integer to the schema.
            Err(_)
                if text
                    .trim_start_matches('-')
                    .bytes()
                    .all(|b| b.is_ascii_digit()) =>
            {
                text.parse::<f64>()
                    .ok()
                    // Rounded onto the 64-bit limit, it would pass for it: kept as text.
                    .filter(|number| number.abs() != 9_223_372_036_854_775_808.0)
                    .and_then(serde_json::Number::from_f64)
                    .map_or_else(|| Value::from(text), Value::Number)
            }
            Err(_) => Value::from(text),
        },
        "number" => text
            .parse::<f64>()
            .ok()
            .filter(|number| number.is_finite())
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or_else(|| Value::from(text)),
        "boolean" => match text {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::from(text),
        },
        _ => Value::from(text),
    }
}

/// Fails unless the request carries every credential of one of `operation`'s alternatives.
pub fn credentials(
    request: &HttpRequest,
    operation: &Operation,
    accepted: &[String],
) -> Result<(), Problem> {
    if operation.security.is_empty() {
        return Ok(());
    }
    let valid = |value: &str| accepted.is_empty() || accepted.iter().any(|token| token == value);
    let present = |credential: &Credential| match credential {
        Credential::Authorization(scheme) => request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| {
                let (sent, rest) = value.trim().split_once(' ').unwrap_or((value, ""));
                let rest = rest.trim();
                // `basic`, `bearer`, ...: the scheme then the value; an API
                // key in the Authorization header (`Token xxx`) is checked whole.
                !rest.is_empty()
                    && (scheme.is_empty() || sent.eq_ignore_ascii_case(scheme))
                    && (valid(rest) || valid(value.trim()))
            }),
        Credential::Header(name) => request
            .headers()
            .get(name.as_str())
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| {
                let (_, rest) = value.trim().split_once(' ').unwrap_or(("", value));
                valid(value.trim()) || valid(rest.trim())
            }),
        Credential::Query(name) => form_urlencoded::parse(request.query_string().as_bytes())
            .any(|(key, value)| key == name.as_str() && valid(&value)),
        Credential::Cookie(name) => cookie(request, name).is_some_and(|value| valid(&value)),
    };
    if operation
        .security
        .iter()
        .any(|alternative| alternative.iter().all(present))
    {
        return Ok(());
    }
    let wanted: Vec<String> = operation.security[0]
        .iter()
        .map(|credential| match credential {
            Credential::Authorization(scheme) if scheme.is_empty() => {
                "an Authorization header".to_string()
            }
            Credential::Authorization(scheme) => format!("an Authorization: {scheme} header"),
            Credential::Header(name) => format!("the header {name}"),
            Credential::Query(name) => format!("the query parameter {name}"),
            Credential::Cookie(name) => format!("the cookie {name}"),
        })
        .collect();
    Err(Problem::Unauthorized {
        detail: format!(
            "this operation needs credentials: send {}",
            wanted.join(" and ")
        ),
    })
}

/// The request's body checked against `operation`'s: `None` where it has none.
pub fn body(
    request: &HttpRequest,
    operation: &Operation,
    bytes: &[u8],
) -> Result<Option<Value>, Problem> {
    let Some(declared) = &operation.body else {
        return Ok(None);
    };
    let xml = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .ends_with("xml")
        });
    if bytes.is_empty() && xml {
        // An XML document has a root element: an empty one is malformed, not absent.
        return Err(Problem::bad_request(
            "the body is not valid XML: it is empty",
        ));
    }
    let form_sent = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    // An empty form is a form without fields, checked like any other.
    if bytes.is_empty() && !form_sent {
        if declared.required {
            return Err(Problem::bad_request("this operation needs a request body"));
        }
        return Ok(None);
    }
    let sent = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_string();
    let essence = sent
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let accepted = declared.content.iter().find(|(media_type, _)| {
        let media_type = media_type.to_ascii_lowercase();
        media_type == essence
            || media_type == "*/*"
            || media_type
                .strip_suffix("/*")
                .is_some_and(|prefix| essence.starts_with(&format!("{prefix}/")))
    });
    let Some((media_type, validator)) = accepted else {
        let accepted: Vec<&'static str> = declared
            .content
            .iter()
            .map(|(media_type, _)| intern(media_type))
            .collect();
        return Err(Problem::UnsupportedMediaType {
            content_type: if sent.is_empty() {
                "no Content-Type".into()
            } else {
                sent
            },
            accepted,
            header: "Accept-Post",
        });
    };
    let value = if essence.contains("json") || media_type.contains("json") {
        if let Some(number) = beyond_64_bits(bytes) {
            return Err(Problem::bad_request(format!(
                "the body's number {number} is beyond the range of 64-bit integers"
            )));
        }
        serde_json::from_slice::<Value>(bytes)
            .map_err(|error| Problem::bad_request(format!("the body is not valid JSON: {error}")))?
    } else if essence == "application/x-www-form-urlencoded" || essence.ends_with("xml") {
        let shape = declared
            .shapes
            .iter()
            .find(|(declared, _)| declared == media_type)
            .map(|(_, shape)| shape.clone())
            .unwrap_or_default();
        if essence.ends_with("xml") {
            super::xml::read(bytes, &shape).map_err(|error| {
                Problem::bad_request(format!("the body is not valid XML: {error}"))
            })?
        } else {
            form(bytes, &shape)
        }
    } else {
        return Ok(Some(Value::from(
            String::from_utf8_lossy(bytes).into_owned(),
        )));
    };
    if let Some(validator) = validator {
        let errors: Vec<FieldError> = validator
            .iter_errors(&value)
            .take(10)
            .map(|error| {
                let pointer = error.instance_path().as_str().trim_start_matches('/');
                let field = match error.kind() {
                    jsonschema::error::ValidationErrorKind::Required { property } => {
                        let name = property.as_str().unwrap_or_default();
                        if pointer.is_empty() {
                            name.to_string()
                        } else {
                            format!("{pointer}/{name}")
                        }
                    }
                    _ if pointer.is_empty() => "body".to_string(),
                    _ => pointer.to_string(),
                };
                FieldError::new(field, error.to_string())
            })
            .collect();
        if !errors.is_empty() {
            return Err(Problem::Invalid { errors });
        }
    }
    Ok(Some(value))
}

/// `text` as a `&'static str`, kept once per distinct text (media types of loaded documents).
fn intern(text: &str) -> &'static str {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static INTERNED: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut interned = INTERNED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(found) = interned.get(text) {
        return found;
    }
    let leaked: &'static str = Box::leak(text.to_string().into_boxed_str());
    interned.insert(leaked);
    leaked
}

/// The value of the cookie `name` the request sends.
fn cookie(request: &HttpRequest, name: &str) -> Option<String> {
    request
        .headers()
        .get_all(header::COOKIE)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string())
}

/// A form body as a JSON object, each field typed as the schema's property
/// says (repeated fields and array properties become arrays).
fn form(bytes: &[u8], shape: &Value) -> Value {
    let mut object = Map::new();
    for (name, value) in form_urlencoded::parse(bytes) {
        let kind = shape
            .pointer(&format!(
                "/properties/{}",
                name.replace('~', "~0").replace('/', "~1")
            ))
            .map_or_else(|| "string".to_string(), schema_kind);
        let kind = kind.as_str();
        let typed = if kind == "array" {
            Value::from(value.as_ref())
        } else {
            scalar(kind, &value)
        };
        match object.get_mut(name.as_ref()) {
            Some(Value::Array(values)) => values.push(typed),
            Some(existing) => *existing = Value::Array(vec![existing.take(), typed]),
            None if kind == "array" => {
                object.insert(name.into_owned(), Value::Array(vec![typed]));
            }
            None => {
                object.insert(name.into_owned(), typed);
            }
        }
    }
    // A form cannot send an empty array: an array property it leaves out is one.
    for (name, property) in shape
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if schema_kind(property) == "array" && !object.contains_key(name) {
            object.insert(name.clone(), Value::Array(Vec::new()));
        }
    }
    Value::Object(object)
}

/// The first integer literal of a JSON text that no 64-bit integer holds
/// (JSON parsing would round it to a float), if any.
fn beyond_64_bits(bytes: &[u8]) -> Option<String> {
    let mut in_string = false;
    let mut escaped = false;
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            index += 1;
            continue;
        }
        if byte == b'"' {
            in_string = true;
            index += 1;
            continue;
        }
        if byte == b'-' || byte.is_ascii_digit() {
            let start = index;
            index += 1;
            while index < bytes.len()
                && (bytes[index].is_ascii_digit() || b".eE+-".contains(&bytes[index]))
            {
                index += 1;
            }
            let token = String::from_utf8_lossy(&bytes[start..index]).into_owned();
            let integral = !token.contains(['.', 'e', 'E']);
            // Only those rounding onto the 64-bit limits, where validation cannot tell them apart.
            let at_limit = token.parse::<f64>().is_ok_and(|number| {
                number.abs() == 9_223_372_036_854_775_808.0
                    || number == 18_446_744_073_709_551_616.0
            });
            if integral
                && at_limit
                && token.parse::<i64>().is_err()
                && token.parse::<u64>().is_err()
            {
                return Some(token);
            }
            continue;
        }
        index += 1;
    }
    None
}
