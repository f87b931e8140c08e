//! Custom routes (`--routes`): requests are served as the URL the routes
//! file maps them to, before routing; the journal and logs keep the URL as
//! sent. The admin API is never rewritten.

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
    let Some(routes) = request
        .app_data::<web::Data<AppState>>()
        .and_then(|state| state.custom_routes.clone())
    else {
        return Ok(next.call(request).await?.map_into_boxed_body());
    };
    let path = request.path();
    if path.split('/').any(|segment| segment == "_standin") {
        return Ok(next.call(request).await?.map_into_boxed_body());
    }
    if path == "/__rules" && request.method() == actix_web::http::Method::GET {
        let rules = HttpResponse::Ok().json(routes.document());
        return Ok(request.into_response(rules));
    }
    let sent = request.uri().path_and_query().map_or_else(
        || request.path().to_string(),
        |whole| whole.as_str().to_string(),
    );
    let rewritten = match routes.rewrite(&sent) {
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
