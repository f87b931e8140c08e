//! Picking a request's session: the `Standin-Session` header, or the path
//! prefix `/_session/{key}` (taken off before routing, for clients that
//! cannot set headers). The rest of the request runs within the session
//! (`service::within`), so that its store operations, journal entry and
//! stubs are the session's. The admin API's `sessions` routes start none.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Uri;
use actix_web::middleware::Next;
use actix_web::web;

use super::{AppState, Problem};
use crate::service::{SESSION_HEADER, SESSION_PREFIX, SessionError};

/// Runs the request within the session it names, if any; to wrap the app with, outermost.
pub async fn sessions(
    mut request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = request.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(request).await?.map_into_boxed_body());
    };
    let from_header = match request.headers().get(SESSION_HEADER) {
        None => None,
        Some(value) => match value.to_str() {
            Ok(key) => Some(key.trim().to_string()),
            Err(_) => {
                return Ok(request.error_response(Problem::BadRequest {
                    detail: "the Standin-Session header is not text: name a session with letters, digits, '-', '_' or '.'".into(),
                }));
            }
        },
    };
    let from_path =
        request
            .path()
            .strip_prefix(SESSION_PREFIX)
            .map(|rest| match rest.split_once('/') {
                Some((key, rest)) => (key.to_string(), format!("/{rest}")),
                None => (rest.to_string(), "/".to_string()),
            });
    let key = match (&from_header, &from_path) {
        (None, None) => return Ok(next.call(request).await?.map_into_boxed_body()),
        (Some(header), Some((path, _))) if header != path => {
            return Ok(request.error_response(Problem::BadRequest {
                detail: format!(
                    "the request names two sessions: '{header}' in its Standin-Session header and '{path}' in its path"
                ),
            }));
        }
        (Some(key), _) | (None, Some((key, _))) => key.clone(),
    };
    let prefix = from_path
        .as_ref()
        .map(|(key, _)| format!("{SESSION_PREFIX}{key}"));
    if let Some((_, rest)) = from_path {
        let rewritten = match request.query_string() {
            "" => rest,
            query => format!("{rest}?{query}"),
        };
        let Ok(uri) = rewritten.parse::<Uri>() else {
            return Ok(request.error_response(Problem::BadRequest {
                detail: format!("'{rewritten}' is not a path"),
            }));
        };
        request.match_info_mut().get_mut().update(&uri);
        request.head_mut().uri = uri;
    }
    // Listing and ending sessions happens outside any.
    if request
        .path()
        .split('/')
        .skip_while(|segment| *segment != "_standin")
        .nth(1)
        == Some("sessions")
    {
        return Ok(next.call(request).await?.map_into_boxed_body());
    }
    let spec = state.spec();
    if spec.dialect == crate::spec::Dialect::JsonServer {
        return Ok(request.error_response(Problem::BadRequest {
            detail: "sessions are not available for a db.json file, whose one copy of the data is the file: serve it without a session key, or import it (standin import) and serve the spec".into(),
        }));
    }
    let service = state.service.clone();
    let session = match service.sessions.get(&key) {
        Some(session) => Ok(session),
        // Starting one copies the seeded data: off the async workers.
        None => actix_web::rt::task::spawn_blocking(move || service.open_session(&key))
            .await
            .unwrap_or_else(|_| Err(SessionError::Failed("a panic".into()))),
    };
    let session = match session {
        Ok(session) => session,
        Err(error) => return Ok(request.error_response(Problem::from(error))),
    };
    let writes = !request.method().is_safe();
    let measured = std::sync::Arc::clone(&session);
    let mut answered =
        crate::service::within(Some(session), async move { next.call(request).await }).await?;
    if writes && answered.status().is_success() {
        measured.measure().await;
    }
    if let Some(prefix) = prefix {
        keep_in_session(answered.headers_mut(), &prefix);
    }
    Ok(answered.map_into_boxed_body())
}

/// Puts the session's prefix in front of the paths the answer's `Location`,
/// `Content-Location` and `Link` headers name, so that a client of the
/// prefix form that follows them stays in its session. (Links in bodies
/// are left as they are.)
fn keep_in_session(headers: &mut actix_web::http::header::HeaderMap, prefix: &str) {
    use actix_web::http::header::{self, HeaderValue};
    for name in [header::LOCATION, header::CONTENT_LOCATION] {
        if let Some(value) = headers.get(&name).and_then(|value| value.to_str().ok())
            && value.starts_with('/')
            && let Ok(value) = HeaderValue::from_str(&format!("{prefix}{value}"))
        {
            headers.insert(name, value);
        }
    }
    if let Some(value) = headers
        .get(header::LINK)
        .and_then(|value| value.to_str().ok())
        && let Ok(value) = HeaderValue::from_str(&value.replace("</", &format!("<{prefix}/")))
    {
        headers.insert(header::LINK, value);
    }
}
