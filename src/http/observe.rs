//! Observing every request: one log line (method, path, status, time) and,
//! outside the admin API, an entry in the journal with headers and body.
//! Reading the body for the journal is where a body too slow to arrive is
//! answered `408`.

use std::time::Instant;

use actix_web::HttpMessage;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes, BytesMut};

use super::body::Timeouts;
use super::{AppState, Problem};
use crate::journal::{self, Observed};

/// Answers the request through `next`, unless a stub a test programmed
/// answers it first; logs it once answered, and records it in the journal.
/// Between the journal and `next`, the custom routes rewrite its URL and,
/// after, [`super::settle_cors`] settles the CORS headers of `next`'s answer.
pub(super) async fn observe<B: MessageBody + 'static>(
    mut request: ServiceRequest,
    next: Next<B>,
    state: &web::Data<AppState>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let started = Instant::now();
    // Admin requests are not journaled.
    let journaled = !is_admin_path(request.path(), state);
    let mut pending = None;
    let mut late = None;
    if journaled {
        let body = match read_body(&mut request, state.body_limit, &state.timeouts).await {
            Ok(body) => body,
            Err(problem) => {
                late = Some(problem);
                Bytes::new()
            }
        };
        pending = Some(Observed {
            time: std::time::SystemTime::now(),
            request: request_text(&request),
            // One byte over the journal's limit tells it the body was cut.
            body: body[..body.len().min(journal::BODY_LIMIT + 1)].to_vec(),
            status: 0,
            duration_ms: 0.0,
            stub: None,
            forwarded: None,
        });
    }
    // A stub a test programmed answers ahead of everything else.
    let mut stubbed = None;
    if let (Some(observed), None) = (pending.as_mut(), &late)
        && let Some((id, answer)) = state.service.with_stubs(|stubs| {
            if stubs.is_empty() {
                None
            } else {
                stubs.answer(&observed.entry())
            }
        })
    {
        observed.stub = Some(id);
        stubbed = Some(answer);
    }
    let method = request.method().clone();
    let path = request.path().to_string();
    // What is answered before the app is answered by it all the same
    // (`Answered`), inside CORS; but a stub answering a CORS preflight
    // answers it as programmed (else actix-cors, which answers a db.json's
    // preflights, would).
    let decided = match (late, stubbed) {
        (Some(problem), _) => Some(Err(problem)),
        (None, Some(answer)) => {
            if answer.delay_ms > 0 {
                actix_web::rt::time::sleep(std::time::Duration::from_millis(answer.delay_ms)).await;
            }
            if answer.drop_connection
                && let Some(abort) = request.request().conn_data::<super::Abort>()
            {
                abort.now();
            }
            Some(Ok(stubbed_response(&answer, state.cors)))
        }
        (None, None) => None,
    };
    let mut response = match decided {
        Some(Ok(stubbed)) if is_preflight(&request) => {
            request.into_response(stubbed).map_into_right_body()
        }
        decided => {
            match decided {
                Some(answer) => {
                    request.extensions_mut().insert(super::Answered(answer));
                }
                None => super::rewrite::rewrite(&mut request, state),
            }
            let mut answered = next.call(request).await?;
            super::settle_cors(&mut answered, state.cors);
            answered.map_into_left_body()
        }
    };
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    let status = response.status().as_u16();
    tracing::info!(target: "standin::request", "{method} {path} {status} {elapsed:.1}ms");
    if let Some(mut observed) = pending {
        observed.status = status;
        observed.forwarded = response
            .response()
            .extensions()
            .get::<journal::Forwarded>()
            .cloned();
        observed.duration_ms = (elapsed * 1000.0).round() / 1000.0;
        state
            .service
            .with_journal(|journal| journal.record(observed));
    }
    mark_own_empty_answer(&mut response);
    Ok(response)
}

/// Whether `request` is a CORS preflight.
fn is_preflight(request: &ServiceRequest) -> bool {
    request.method() == actix_web::http::Method::OPTIONS
        && request
            .headers()
            .contains_key(actix_web::http::header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// Whether `path` may be one of the admin API's (the spec, for its base
/// path, is consulted only for paths that may be one).
fn is_admin_path(path: &str, state: &AppState) -> bool {
    path.contains("/_standin") && {
        let below_base = path.strip_prefix(state.spec().base_path.as_str());
        below_base.is_some_and(|rest| rest.starts_with("/_standin"))
    }
}

/// Marks an empty-bodied 4xx without a content type (a document's declared
/// error with no content, a stub's) as the service's, so that the transport
/// does not take it for one of actix-http's rejections.
fn mark_own_empty_answer<B: MessageBody>(response: &mut ServiceResponse<B>) {
    use actix_web::body::BodySize;
    use actix_web::http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
    if response.status().is_client_error()
        && !response.headers().contains_key(CONTENT_TYPE)
        && matches!(response.response().body().size(), BodySize::Sized(0))
    {
        response.headers_mut().insert(
            HeaderName::from_static(super::transport::OWN_ANSWER),
            HeaderValue::from_static("1"),
        );
    }
}

/// The answer a stub was programmed with (its headers readable by a page
/// of another origin, with `cors` on).
fn stubbed_response(answer: &crate::stubs::StubResponse, cors: bool) -> actix_web::HttpResponse {
    use actix_web::http::StatusCode;
    use actix_web::http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = actix_web::HttpResponse::build(status);
    let (body, media_type) = match &answer.body {
        None => (Vec::new(), None),
        Some(serde_json::Value::String(text)) => {
            (text.clone().into_bytes(), Some("text/plain; charset=utf-8"))
        }
        Some(value) => (value.to_string().into_bytes(), Some("application/json")),
    };
    if let Some(media_type) = media_type {
        response.insert_header((CONTENT_TYPE, media_type));
    }
    // Checked when the stub was added; anything else is left out.
    let mut exposed = Vec::new();
    for (name, value) in &answer.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            let usual = super::EXPOSED_HEADERS
                .split(", ")
                .any(|usual| usual == name.as_str());
            if !usual && !name.as_str().starts_with("access-control-") && name != CONTENT_TYPE {
                exposed.push(name.as_str().to_string());
            }
            response.insert_header((name, value));
        }
    }
    // A page reads what a stub was programmed to send (`Retry-After`...)
    // with CORS on (`settle_cors` adds the usual names).
    if cors
        && !exposed.is_empty()
        && let Ok(value) = HeaderValue::try_from(exposed.join(", "))
    {
        response.insert_header((
            actix_web::http::header::ACCESS_CONTROL_EXPOSE_HEADERS,
            value,
        ));
    }
    response.body(body)
}

/// Reads the body (at most one byte over the limit, so the handler still
/// answers 413) and puts it back for the handler; `408` when it comes too
/// slowly.
async fn read_body(
    request: &mut ServiceRequest,
    limit: usize,
    timeouts: &Timeouts,
) -> Result<Bytes, Problem> {
    let declared = request
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        // The handler answers 413 without reading it; neither do we.
        return Ok(Bytes::new());
    }
    // A request with neither a length nor a chunked body has none (RFC 9112,
    // section 6.3): the payload is left as it is.
    let chunked = request
        .headers()
        .contains_key(actix_web::http::header::TRANSFER_ENCODING);
    if !chunked && declared.unwrap_or(0) == 0 {
        return Ok(Bytes::new());
    }
    let mut payload = request.take_payload();
    let mut body = BytesMut::new();
    let mut failure = None;
    let started = Instant::now();
    while let Some(chunk) = timeouts.next_chunk(&mut payload, started).await? {
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
    Ok(body)
}

/// The request's method, path, query and headers, for the journal.
fn request_text(request: &ServiceRequest) -> journal::RequestText {
    let headers = request.headers();
    let bytes = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    let mut text = journal::RequestText::new(
        request.method().as_str(),
        request.path(),
        request.query_string(),
        headers.len(),
        bytes,
    );
    for (name, value) in headers {
        text.push_header(name.as_str(), &String::from_utf8_lossy(value.as_bytes()));
    }
    text
}
