//! Request bodies: the size limit, the time a client may take to send one,
//! the accepted media types and content coding, and parsing into a JSON
//! object, each failure a precise problem (413, 408, 415, 400).

use std::time::{Duration, Instant};

use actix_web::HttpRequest;
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::web::{self, Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use serde_json::{Map, Value};

use super::problem::Problem;

/// How long a client may take to send a request; a late one is answered
/// `408` and its connection closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// To send one request's line and headers, from its first byte.
    pub head: Duration,
    /// Between two pieces of a body.
    pub body_idle: Duration,
    /// To send a whole body.
    pub body_total: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            head: Duration::from_secs(5),
            body_idle: Duration::from_secs(10),
            body_total: Duration::from_secs(30),
        }
    }
}

impl Timeouts {
    /// The next piece of a body whose reading began at `started`, or `408`
    /// when it does not come in time.
    pub async fn next_chunk<S>(
        &self,
        payload: &mut S,
        started: Instant,
    ) -> Result<Option<Result<Bytes, PayloadError>>, Problem>
    where
        S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
    {
        let left = self.body_total.saturating_sub(started.elapsed());
        let wait = self.body_idle.min(left);
        actix_web::rt::time::timeout(wait, payload.next())
            .await
            .map_err(|_| Problem::RequestTimeout {
                detail: format!(
                    "the body did not arrive in time: each piece must come within {}s, the whole body within {}s",
                    self.body_idle.as_secs_f64(),
                    self.body_total.as_secs_f64()
                ),
            })
    }
}

/// Refuses a body in a content coding (`gzip`, `br`, ...): bodies are read
/// as sent, so a coded one would be taken for what it encodes.
pub fn uncoded(request: &HttpRequest) -> Result<(), Problem> {
    let Some(value) = request.headers().get(header::CONTENT_ENCODING) else {
        return Ok(());
    };
    let text = String::from_utf8_lossy(value.as_bytes());
    let coded = text
        .split(',')
        .map(str::trim)
        .any(|coding| !coding.is_empty() && !coding.eq_ignore_ascii_case("identity"));
    if coded {
        return Err(Problem::UnsupportedEncoding {
            encoding: text.into_owned(),
        });
    }
    Ok(())
}

/// Media types a create or replace accepts.
pub const ACCEPT_POST: &[&str] = &["application/json", "application/vnd.collection+json"];
/// Media types a patch accepts.
pub const ACCEPT_PATCH: &[&str] = &[
    "application/merge-patch+json",
    "application/json-patch+json",
    "application/json",
];

/// How a body is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    /// A JSON document (for PATCH: a merge patch).
    Json,
    /// An RFC 7396 merge patch.
    MergePatch,
    /// An RFC 6902 JSON patch.
    JsonPatch,
    /// A filled-in Collection+JSON template.
    CollectionJson,
}

/// What a write's body is meant to be: a whole document or a patch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    /// A create's or a replacement's document.
    Document,
    /// A patch to a record.
    Patch,
}

/// A create's or replacement's format from `Content-Type`; a missing type is taken as JSON.
pub fn document_format(request: &HttpRequest) -> Result<BodyFormat, Problem> {
    format(request, Write::Document)
}

/// The body's format from `Content-Type`; a missing type is taken as JSON.
fn format(request: &HttpRequest, write: Write) -> Result<BodyFormat, Problem> {
    let patch = write == Write::Patch;
    let Some(value) = request.headers().get(header::CONTENT_TYPE) else {
        return Ok(BodyFormat::Json);
    };
    let text = value.to_str().unwrap_or_default();
    let essence = text
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/merge-patch+json" if patch => Ok(BodyFormat::MergePatch),
        "application/json-patch+json" if patch => Ok(BodyFormat::JsonPatch),
        "application/json" => Ok(BodyFormat::Json),
        "application/vnd.collection+json" if !patch => Ok(BodyFormat::CollectionJson),
        // Any other +json type is JSON (RFC 6839), except patch formats we do not apply.
        other if other.ends_with("+json") && !other.contains("patch") => Ok(BodyFormat::Json),
        _ => Err(Problem::UnsupportedMediaType {
            content_type: if text.is_empty() {
                "an empty Content-Type".into()
            } else {
                text.to_string()
            },
            accepted: if patch {
                ACCEPT_PATCH.to_vec()
            } else {
                ACCEPT_POST.to_vec()
            },
            header: if patch { "Accept-Patch" } else { "Accept-Post" },
        }),
    }
}

/// A write's body with its format and the representation to answer with.
pub type Incoming = (BodyFormat, crate::represent::Representation, BytesMut);

/// A create's or replacement's body, checked in the order HTTP wants: its
/// media type (415), the representation to answer with (406), then the bytes (413).
pub async fn incoming_document(
    request: &HttpRequest,
    payload: web::Payload,
    spec: &crate::spec::Spec,
    limit: usize,
) -> Result<Incoming, Problem> {
    incoming(request, payload, spec, limit, Write::Document).await
}

/// A patch's body, checked as [`incoming_document`] checks a document's.
pub async fn incoming_patch(
    request: &HttpRequest,
    payload: web::Payload,
    spec: &crate::spec::Spec,
    limit: usize,
) -> Result<Incoming, Problem> {
    incoming(request, payload, spec, limit, Write::Patch).await
}

async fn incoming(
    request: &HttpRequest,
    payload: web::Payload,
    spec: &crate::spec::Spec,
    limit: usize,
    write: Write,
) -> Result<Incoming, Problem> {
    uncoded(request)?;
    let format = format(request, write)?;
    let representation = super::respond::representation(request, spec)?;
    let bytes = read(request, payload, limit).await?;
    Ok((format, representation, bytes))
}

/// Reads the whole body, refusing more than `limit` bytes or a late one.
pub async fn read(
    request: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<BytesMut, Problem> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(Problem::PayloadTooLarge { limit });
    }
    let timeouts = request
        .app_data::<web::Data<super::AppState>>()
        .map(|state| state.timeouts)
        .unwrap_or_default();
    let started = Instant::now();
    let mut body = BytesMut::new();
    while let Some(chunk) = timeouts.next_chunk(&mut payload, started).await? {
        let chunk = chunk
            .map_err(|error| Problem::bad_request(format!("cannot read the body: {error}")))?;
        if body.len() + chunk.len() > limit {
            return Err(Problem::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Parses an RFC 6902 JSON patch document.
pub fn json_patch(body: &[u8]) -> Result<json_patch::Patch, Problem> {
    serde_json::from_slice(body).map_err(|error| {
        Problem::bad_request(format!(
            "the body is not a JSON patch (an array of operations like {{\"op\": \"replace\", \"path\": \"/title\", \"value\": \"x\"}}): {error}"
        ))
    })
}

/// The fields a create or replace body gives, in JSON or as a Collection+JSON template.
pub fn fields(body: &[u8], format: BodyFormat) -> Result<Map<String, Value>, Problem> {
    let object = json_object(body)?;
    if format != BodyFormat::CollectionJson {
        return Ok(object);
    }
    crate::represent::fields_of_template(&Value::Object(object)).map_err(Problem::bad_request)
}

/// Parses a body that must be a JSON object.
pub fn json_object(body: &[u8]) -> Result<Map<String, Value>, Problem> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Problem::bad_request(
            "the body is empty: send a JSON object",
        ));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|error| Problem::bad_request(format!("the body is not valid JSON: {error}")))?;
    match value {
        Value::Object(map) => Ok(map),
        other => Err(Problem::bad_request(format!(
            "the body must be a JSON object, not {}",
            match other {
                Value::Array(_) => "an array",
                Value::String(_) => "a string",
                Value::Number(_) => "a number",
                Value::Bool(_) => "a boolean",
                _ => "null",
            }
        ))),
    }
}
