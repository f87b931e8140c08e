//! Observing every request: one log line (method, path, status, time) and,
//! outside the admin API, an entry in the journal with headers and body.

use std::time::Instant;

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes, BytesMut};
use futures_util::StreamExt;
use serde_json::{Map, Value};

use super::AppState;
use crate::clock;
use crate::journal::{self, Entry};

/// Logs the request once answered, and records it in the journal.
pub async fn observe(
    mut request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let state = request.app_data::<web::Data<AppState>>().cloned();
    // Admin requests are not journaled (the spec, for its base path, is
    // consulted only for paths that may be one).
    let journaled = state.as_ref().is_some_and(|state| {
        !request.path().contains("/_standin") || {
            let below_base = request.path().strip_prefix(state.spec().base_path.as_str());
            !below_base.is_some_and(|rest| rest.starts_with("/_standin"))
        }
    });
    let mut pending = None;
    if let Some(state) = state.as_ref().filter(|_| journaled) {
        let body = read_body(&mut request, state.body_limit).await;
        pending = Some(Entry {
            sequence: 0,
            time: clock::now(),
            method: request.method().to_string(),
            path: request.path().to_string(),
            query: request.query_string().to_string(),
            headers: headers(&request),
            body: journal::recorded_body(&body),
            status: 0,
            duration_ms: 0.0,
        });
    }
    let method = request.method().clone();
    let path = request.path().to_string();
    let response = next.call(request).await?;
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    let status = response.status().as_u16();
    tracing::info!(target: "standin::request", "{method} {path} {status} {elapsed:.1}ms");
    if let (Some(state), Some(mut entry)) = (state, pending) {
        entry.status = status;
        entry.duration_ms = (elapsed * 1000.0).round() / 1000.0;
        state.journal.record(entry);
    }
    Ok(response)
}

/// Reads the body (at most one byte over the limit, so the handler still
/// answers 413) and puts it back for the handler.
async fn read_body(request: &mut ServiceRequest, limit: usize) -> Bytes {
    let declared = request
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        // The handler answers 413 without reading it; neither do we.
        return Bytes::new();
    }
    // A request with neither a length nor a chunked body has none (RFC 9112,
    // section 6.3): the payload is left as it is.
    let chunked = request
        .headers()
        .contains_key(actix_web::http::header::TRANSFER_ENCODING);
    if !chunked && declared.unwrap_or(0) == 0 {
        return Bytes::new();
    }
    let mut payload = request.take_payload();
    let mut body = BytesMut::new();
    let mut failure = None;
    while let Some(chunk) = payload.next().await {
        match chunk {
            Ok(chunk) => {
                body.extend_from_slice(&chunk);
                if body.len() > limit {
                    break;
                }
            }
            Err(error) => {
                failure = Some(error);
                break;
            }
        }
    }
    let body = body.freeze();
    // Hand the handler what was read, and a read error as the error it was.
    let replay =
        futures_util::stream::iter(std::iter::once(Ok(body.clone())).chain(failure.map(Err)));
    request.set_payload(Payload::Stream {
        payload: Box::pin(replay),
    });
    body
}

fn headers(request: &ServiceRequest) -> Map<String, Value> {
    let mut headers: Map<String, Value> = Map::new();
    for (name, value) in request.headers() {
        let value =
            journal::recorded_header(name.as_str(), &String::from_utf8_lossy(value.as_bytes()));
        match headers.get_mut(name.as_str()) {
            Some(Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(&value);
            }
            _ => {
                headers.insert(name.as_str().to_string(), Value::String(value));
            }
        }
    }
    headers
}
