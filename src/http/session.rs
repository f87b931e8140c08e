//! Picking a request's session: the `Standin-Session` header, or the path
//! prefix `/_session/{key}` (taken off before routing, for clients that
//! cannot set headers). The rest of the request runs within the session
//! (`service::within`), so that its store operations, journal entry and
//! stubs are the session's. The admin API's `sessions` routes start none.

use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Uri;

use super::{AppState, Problem};
use crate::service::{SESSION_HEADER, SESSION_PREFIX, SessionError};

/// The session a request runs within, entered by [`enter`].
pub(super) struct Entered {
    session: std::sync::Arc<crate::service::Session>,
    /// The path prefix that named it, if the path did.
    prefix: Option<String>,
}

/// The session the request names, if any, opened (the first request to
/// name one starts it); a path prefix naming it is taken off the path. The
/// admin API's `sessions` routes enter none.
pub(super) async fn enter(
    request: &mut ServiceRequest,
    state: &AppState,
) -> Result<Option<Entered>, Problem> {
    let from_header = match request.headers().get(SESSION_HEADER) {
        None => None,
        Some(value) => match value.to_str() {
            Ok(key) => Some(key.trim().to_string()),
            Err(_) => {
                return Err(Problem::BadRequest {
                    detail: "the Standin-Session header is not text: name a session with letters, digits, '-', '_' or '.'".into(),
                });
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
        (None, None) => return Ok(None),
        (Some(header), Some((path, _))) if header != path => {
            return Err(Problem::BadRequest {
                detail: format!(
                    "the request names two sessions: '{header}' in its Standin-Session header and '{path}' in its path"
                ),
            });
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
            return Err(Problem::BadRequest {
                detail: format!("'{rewritten}' is not a path"),
            });
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
        return Ok(None);
    }
    if state.spec().dialect == crate::spec::Dialect::JsonServer {
        return Err(Problem::BadRequest {
            detail: "sessions are not available for a db.json file, whose one copy of the data is the file: serve it without a session key, or import it (standin import) and serve the spec".into(),
        });
    }
    let service = state.service.clone();
    let session = match service.sessions.get(&key) {
        Some(session) => Ok(session),
        // Starting one copies the seeded data: off the async workers.
        None => actix_web::rt::task::spawn_blocking(move || service.open_session(&key))
            .await
            .unwrap_or_else(|_| Err(SessionError::Failed("a panic".into()))),
    };
    match session {
        Ok(session) => Ok(Some(Entered { session, prefix })),
        Err(error) => Err(Problem::from(error)),
    }
}

impl Entered {
    /// Answers the request within the session: `answered` runs with the
    /// session's store, journal and stubs, a write it answered with success
    /// has the session's size measured again, and the answer's links keep
    /// the session's path prefix.
    pub(super) async fn run<B>(
        self,
        writes: bool,
        answered: impl std::future::Future<Output = Result<ServiceResponse<B>, actix_web::Error>>,
    ) -> Result<ServiceResponse<B>, actix_web::Error> {
        let measured = std::sync::Arc::clone(&self.session);
        let mut answered = crate::service::within(Some(self.session), answered).await?;
        if writes && answered.status().is_success() {
            measured.measure().await;
        }
        if let Some(prefix) = self.prefix {
            keep_in_session(answered.headers_mut(), &prefix);
        }
        Ok(answered)
    }
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
