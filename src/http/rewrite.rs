//! Custom routes (`--routes`, then the spec's `routes:`): requests are served
//! as the URL the routes map them to, before routing; the journal and logs
//! keep the URL as sent. The admin API is never rewritten.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Uri;
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};

use super::{AppState, Problem};

/// Rewrites the request's URL by the custom routes, if any; to wrap the app with.
pub async fn rewrite(
    mut request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let (routes, spec_routes) = match request.app_data::<web::Data<AppState>>() {
        Some(state) => (state.custom_routes.clone(), state.spec().routes.clone()),
        None => (None, None),
    };
    if routes.is_none() && spec_routes.is_none() {
        return Ok(next.call(request).await?.map_into_boxed_body());
    }
    let path = request.path();
    if path.split('/').any(|segment| segment == "_standin") {
        return Ok(next.call(request).await?.map_into_boxed_body());
    }
    if path == "/__rules" && request.method() == actix_web::http::Method::GET {
        // Every rule in the order applied: `--routes`, then the spec's (a
        // pattern in both shows as the first has it).
        let mut rules = serde_json::Map::new();
        for routes in routes.iter().chain(spec_routes.iter()) {
            for (pattern, target) in routes.document() {
                rules
                    .entry(pattern.clone())
                    .or_insert_with(|| target.clone());
            }
        }
        return Ok(request.into_response(HttpResponse::Ok().json(rules)));
    }
    let sent = request.uri().path_and_query().map_or_else(
        || request.path().to_string(),
        |whole| whole.as_str().to_string(),
    );
    // `--routes` first, then the spec's routes on what they made.
    let rewritten: Result<Option<String>, crate::rewrite::TooLong> = routes
        .iter()
        .chain(spec_routes.iter())
        .try_fold(None, |current: Option<String>, routes| {
            Ok(routes
                .rewrite(current.as_deref().unwrap_or(&sent))?
                .or(current))
        });
    let rewritten = match rewritten {
        Ok(Some(rewritten)) => rewritten,
        Ok(None) => return Ok(next.call(request).await?.map_into_boxed_body()),
        Err(too_long) => {
            let problem = Problem::BadRequest {
                detail: too_long.to_string(),
            };
            return Ok(request.error_response(problem));
        }
    };
    let Ok(uri) = rewritten.parse::<Uri>() else {
        let problem = Problem::BadRequest {
            detail: format!(
                "the custom routes rewrote '{sent}' to '{rewritten}', which is not a URL"
            ),
        };
        return Ok(request.error_response(problem));
    };
    request.match_info_mut().get_mut().update(&uri);
    request.head_mut().uri = uri;
    Ok(next.call(request).await?.map_into_boxed_body())
}
