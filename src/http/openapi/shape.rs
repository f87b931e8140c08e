//! Bodies and headers in the document's own shapes: items bare or wrapped
//! (`{"article": ...}`), lists bare or in an envelope filled from the store
//! (`{data: [...], total: n, next_cursor: ...}`) with opaque cursors,
//! problems fitted to the declared error schema, and declared response headers.

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpResponse, HttpResponseBuilder, ResponseError};
use serde_json::{Map, Value};

use crate::http::Problem;
use crate::import::openapi::api::{Content, Operation, Response};
use crate::import::openapi::generate::Generator;
use crate::import::openapi::infer;

/// The JSON content of a response, else its first content.
pub fn json_content(response: &Response) -> Option<&Content> {
    response
        .content
        .iter()
        .find(|content| content.media_type.contains("json"))
        .or_else(|| response.content.first())
}

/// `item` as the response schema wants it: inside its wrapper where the schema is one.
pub fn item(content: Option<&Content>, item: Value) -> Value {
    let Some(inlined) = content.and_then(|content| content.inlined.as_ref()) else {
        return item;
    };
    let unwrapped = infer::unwrap_item(inlined.clone());
    if unwrapped == *inlined {
        return item;
    }
    let key = inlined
        .get("properties")
        .and_then(Value::as_object)
        .and_then(|properties| properties.keys().next().cloned())
        .unwrap_or_default();
    let mut wrapper = Map::new();
    wrapper.insert(key, item);
    Value::Object(wrapper)
}

/// The window of a list and its total, for filling envelopes.
pub struct Window {
    /// Records skipped.
    pub offset: u64,
    /// Records asked for.
    pub limit: u32,
    /// Records matching in all.
    pub total: u64,
    /// Whether records follow this page.
    pub more: bool,
    /// The cursor to the next page, where the list takes one and a page follows.
    pub next: Option<Value>,
    /// Whether the list takes a cursor (so envelopes carry one).
    pub cursors: bool,
}

/// Prefix of standin's cursors before hex encoding, so that other text is told apart.
const CURSOR_PREFIX: &str = "standin:";

/// The cursor to the page starting at `offset`: the offset itself for an
/// integer parameter, else opaque text.
pub fn cursor(offset: u64, schema: &Value) -> Value {
    if infer::kind_of(schema).as_deref() == Some("integer") {
        return Value::from(offset);
    }
    let text = format!("{CURSOR_PREFIX}{offset}");
    Value::from(
        text.bytes()
            .map(|byte| format!("{byte:02x}"))
            .collect::<String>(),
    )
}

/// The offset a cursor `cursor` (made by [`cursor`]) stands for.
pub fn cursor_offset(cursor: &Value) -> Option<u64> {
    if let Some(offset) = cursor.as_u64() {
        return Some(offset);
    }
    let text = cursor.as_str()?;
    if text.len() % 2 != 0 || !text.is_ascii() {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&text[at..at + 2], 16).ok())
        .collect();
    String::from_utf8(bytes?)
        .ok()?
        .strip_prefix(CURSOR_PREFIX)?
        .parse()
        .ok()
}

/// Names (lower case, without `_`) of envelope properties holding the next page's cursor.
const NEXT_CURSOR_NAMES: [&str; 9] = [
    "nextcursor",
    "next",
    "nextpagetoken",
    "nexttoken",
    "endcursor",
    "cursor",
    "continuationtoken",
    "nextkey",
    "after",
];

/// Names (lower case, without `_`) of envelope objects describing the page.
const PAGE_OBJECT_NAMES: [&str; 6] = ["meta", "pagination", "paging", "pageinfo", "links", "page"];

/// Names (lower case, without `_`) of envelope properties saying whether a page follows.
const MORE_NAMES: [&str; 4] = ["hasmore", "hasnext", "hasnextpage", "more"];

/// The value of an envelope property that describes the page (`total`,
/// `limit`, `next_cursor`...), if `name` is one.
fn page_value(name: &str, property: &Value, required: bool, window: &Window) -> Option<Value> {
    let lower = name.to_ascii_lowercase().replace('_', "");
    if lower.starts_with("total") || lower.ends_with("count") {
        Some(Value::from(window.total))
    } else if ["limit", "perpage", "pagesize", "size"].contains(&lower.as_str()) {
        Some(Value::from(window.limit))
    } else if ["offset", "skip", "start"].contains(&lower.as_str()) {
        Some(Value::from(window.offset))
    } else if lower == "page" && window.limit > 0 {
        Some(Value::from(window.offset / u64::from(window.limit) + 1))
    } else if window.cursors && MORE_NAMES.contains(&lower.as_str()) {
        Some(Value::Bool(window.more))
    } else if window.cursors && NEXT_CURSOR_NAMES.contains(&lower.as_str()) {
        let wanted = infer::kind_of(property);
        match (&window.next, wanted.as_deref()) {
            (Some(Value::Number(offset)), Some("string")) => Some(Value::from(offset.to_string())),
            (Some(next), _) => Some(next.clone()),
            // The last page: no cursor, as the schema allows.
            (None, _) if allows_null(property) => Some(Value::Null),
            (None, _) if !required => None,
            (None, Some("string")) => Some(Value::from("")),
            (None, _) => None,
        }
    } else {
        None
    }
}

/// Whether `schema` admits `null`.
pub(super) fn allows_null(schema: &Value) -> bool {
    match schema.get("type") {
        Some(Value::Array(kinds)) => kinds.iter().any(|kind| kind == "null"),
        Some(Value::String(kind)) => kind == "null",
        _ => schema.get("nullable") == Some(&Value::Bool(true)),
    }
}

/// The names a schema requires.
fn required_names(schema: &Value) -> Vec<&str> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// `items` as the list response schema wants them: a bare array, or an envelope.
pub fn list(
    document: &Value,
    content: Option<&Content>,
    items: Vec<Value>,
    window: &Window,
    seed: u64,
) -> Value {
    let Some(inlined) = content.and_then(|content| content.inlined.as_ref()) else {
        return Value::Array(items);
    };
    let Some(properties) = inlined.get("properties").and_then(Value::as_object) else {
        return Value::Array(items);
    };
    let Some(array) = properties
        .iter()
        .find(|(_, property)| property.get("items").is_some())
        .map(|(name, _)| name.clone())
    else {
        return Value::Array(items);
    };
    let required = required_names(inlined);
    let mut generator = Generator::new(document, seed, "envelope");
    let mut envelope = Map::new();
    let mut items = Some(items);
    for (name, property) in properties {
        let is_required = required.contains(&name.as_str());
        let value = if *name == array {
            Value::Array(items.take().unwrap_or_default())
        } else if let Some(value) = page_value(name, property, is_required, window) {
            value
        } else if let Some(value) = page_object(name, property, window, &mut generator) {
            // Paging described in an object of its own (`meta: {next_cursor}`).
            value
        } else if is_required {
            generator.value(property, name)
        } else {
            continue;
        };
        envelope.insert(name.clone(), value);
    }
    Value::Object(envelope)
}

/// An object property describing the page (`meta`, `pagination`), filled
/// like the envelope; none if no property of it describes the page.
fn page_object(
    name: &str,
    property: &Value,
    window: &Window,
    generator: &mut Generator,
) -> Option<Value> {
    let lower = name.to_ascii_lowercase().replace('_', "");
    if !PAGE_OBJECT_NAMES.contains(&lower.as_str()) {
        return None;
    }
    let properties = property.get("properties")?.as_object()?;
    let required = required_names(property);
    let mut object = Map::new();
    let mut paging = false;
    for (name, inner) in properties {
        let is_required = required.contains(&name.as_str());
        if let Some(value) = page_value(name, inner, is_required, window) {
            paging = true;
            object.insert(name.clone(), value);
        } else if is_required {
            object.insert(name.clone(), generator.value(inner, name));
        }
    }
    paging.then_some(Value::Object(object))
}

/// Sets the declared headers of `response` on `builder`, with generated values.
pub fn headers(
    builder: &mut HttpResponseBuilder,
    document: &Value,
    response: &Response,
    seed: u64,
) {
    let mut generator = Generator::new(document, seed, "headers");
    for (name, _, schema) in &response.headers {
        let lower = name.to_ascii_lowercase();
        if [
            "content-type",
            "content-length",
            "location",
            "transfer-encoding",
        ]
        .contains(&lower.as_str())
        {
            continue;
        }
        let value = match generator.value(schema, name) {
            Value::String(text) => text,
            Value::Null => continue,
            other => other.to_string(),
        };
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value),
        ) {
            builder.insert_header((name, value));
        }
    }
}

/// A response with `status`, the declared headers, and `body` in `content`'s media type.
pub fn respond(
    status: u16,
    document: &Value,
    response: Option<&Response>,
    body: Option<Value>,
    seed: u64,
) -> HttpResponseBuilderWithBody {
    let mut builder = HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::OK));
    if let Some(response) = response {
        headers(&mut builder, document, response, seed);
    }
    let media_type = response
        .and_then(json_content)
        .map(|content| content.media_type.clone());
    HttpResponseBuilderWithBody {
        builder,
        body: body.filter(|_| media_type.is_some()),
        media_type: media_type.unwrap_or_else(|| "application/json".into()),
    }
}

/// A response being built, with its body to send last.
pub struct HttpResponseBuilderWithBody {
    /// The status and headers so far.
    pub builder: HttpResponseBuilder,
    body: Option<Value>,
    media_type: String,
}

impl HttpResponseBuilderWithBody {
    /// The finished response.
    pub fn finish(mut self) -> HttpResponse {
        match self.body {
            Some(body) => {
                let media_type = if self.media_type.contains('*') {
                    "application/json".to_string()
                } else {
                    self.media_type
                };
                self.builder
                    .insert_header(("content-type", media_type))
                    .body(body.to_string())
            }
            None => self.builder.finish(),
        }
    }
}

/// The declared status and response a problem of `status` is answered with:
/// its own where declared (exactly, by class or by `default`); else, for a
/// client error, the document's own refusal: 400 and 422 stand for each
/// other, then the lowest declared 4xx that is not about credentials.
fn declared_status(operation: &Operation, status: u16) -> Option<(u16, &Response)> {
    if let Some(response) = operation.response(status) {
        return Some((status, response));
    }
    if !(400..500).contains(&status) {
        return None;
    }
    let declared = |code: u16| {
        operation
            .responses
            .iter()
            .find(|response| response.status == crate::import::openapi::api::Status::Code(code))
            .map(|response| (code, response))
    };
    let twin = match status {
        400 => declared(422),
        422 => declared(400),
        _ => None,
    };
    twin.or_else(|| {
        let mut codes: Vec<u16> = operation
            .responses
            .iter()
            .filter_map(|response| match response.status {
                crate::import::openapi::api::Status::Code(code)
                    if (400..500).contains(&code) && code != 401 && code != 403 =>
                {
                    Some(code)
                }
                _ => None,
            })
            .collect();
        codes.sort_unstable();
        codes.first().and_then(|code| declared(*code))
    })
}

/// `problem` answered as `operation` declares its status: its body fitted to
/// the declared schema, in the declared media type; standin's own
/// problem+json where the document declares nothing for the status.
pub fn problem(
    document: &Value,
    operation: &Operation,
    problem: Problem,
    seed: u64,
) -> HttpResponse {
    let plain = problem.error_response();
    let Some((status, response)) = declared_status(operation, problem.status_code().as_u16())
    else {
        return plain;
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let content = json_content(response);
    let body = content.map(|content| {
        let ours = problem.body();
        let (Some(declared), Some(validator)) = (&content.schema, &content.validator) else {
            return ours;
        };
        let mut ours = ours;
        if let Some(field) = ours.get_mut("status") {
            // Answered with the document's status, the body says the same.
            *field = Value::from(status.as_u16());
        }
        if validator.is_valid(&ours) {
            return ours;
        }
        let mut generated = Generator::new(document, seed, "problem").value(declared, "error");
        let detail = problem.to_string();
        if let Value::Object(members) = &mut generated {
            let candidate = members.clone();
            for (name, value) in members.iter_mut() {
                let lower = name.to_ascii_lowercase();
                if value.is_number() && ["code", "status", "statuscode"].contains(&lower.as_str()) {
                    *value = Value::from(status.as_u16());
                } else if value.is_string()
                    && [
                        "message",
                        "detail",
                        "error",
                        "title",
                        "description",
                        "reason",
                    ]
                    .contains(&lower.as_str())
                {
                    *value = Value::from(detail.clone());
                }
            }
            if !validator.is_valid(&generated) {
                return Value::Object(candidate);
            }
        }
        generated
    });
    let mut built = respond(status.as_u16(), document, Some(response), body, seed);
    // What standin's problem sends beside its body (Allow, WWW-Authenticate, ...) stays.
    for (name, value) in plain.headers() {
        if name != "content-type" && name != "content-length" {
            built.builder.insert_header((name.clone(), value.clone()));
        }
    }
    built.finish()
}
