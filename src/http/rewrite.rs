//! Custom routes (`--routes`, then the spec's `routes:`): requests are served
//! as the URL the routes map them to, before routing; the journal and logs
//! keep the URL as sent. The admin API is never rewritten.

use actix_web::dev::ServiceRequest;
use actix_web::http::Uri;
use actix_web::{HttpMessage, HttpResponse};

use super::{Answered, AppState, Problem};

/// Rewrites the request's URL by the custom routes, if any; or leaves what
/// they answer (the rules, or why a URL could not be rewritten) in its
/// extensions, as an [`Answered`].
pub(super) fn rewrite(request: &mut ServiceRequest, state: &AppState) {
    if let Some(answer) = rewrite_or_answer(request, state) {
        request.extensions_mut().insert(Answered(answer));
    }
}

/// Rewrites the request's URL, or gives what the routes answer instead.
fn rewrite_or_answer(
    request: &mut ServiceRequest,
    state: &AppState,
) -> Option<Result<HttpResponse, Problem>> {
    let spec = state.spec();
    let (routes, spec_routes) = (state.custom_routes.as_ref(), spec.routes.as_ref());
    if routes.is_none() && spec_routes.is_none() {
        return None;
    }
    let path = request.path();
    if path.split('/').any(|segment| segment == "_standin") {
        return None;
    }
    if path == "/__rules" && request.method() == actix_web::http::Method::GET {
        // Every rule in the order applied: `--routes`, then the spec's (a
        // pattern in both shows as the first has it).
        let mut rules = serde_json::Map::new();
        for routes in routes.into_iter().chain(spec_routes) {
            for (pattern, target) in routes.document() {
                rules
                    .entry(pattern.clone())
                    .or_insert_with(|| target.clone());
            }
        }
        return Some(Ok(HttpResponse::Ok().json(rules)));
    }
    let sent = request.uri().path_and_query().map_or_else(
        || request.path().to_string(),
        |whole| whole.as_str().to_string(),
    );
    // `--routes` first, then the spec's routes on what they made.
    let rewritten: Result<Option<String>, crate::rewrite::TooLong> = routes
        .into_iter()
        .chain(spec_routes)
        .try_fold(None, |current: Option<String>, routes| {
            Ok(routes
                .rewrite(current.as_deref().unwrap_or(&sent))?
                .or(current))
        });
    let rewritten = match rewritten {
        Ok(Some(rewritten)) => rewritten,
        Ok(None) => return None,
        Err(too_long) => {
            return Some(Err(Problem::BadRequest {
                detail: too_long.to_string(),
            }));
        }
    };
    let Ok(uri) = rewritten.parse::<Uri>() else {
        return Some(Err(Problem::BadRequest {
            detail: format!(
                "the custom routes rewrote '{sent}' to '{rewritten}', which is not a URL"
            ),
        }));
    };
    request.match_info_mut().get_mut().update(&uri);
    request.head_mut().uri = uri;
    None
}
