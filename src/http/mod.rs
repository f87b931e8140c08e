//! The HTTP face of standin (actix-web): one dispatching service that routes
//! each request against the current spec, then reads top to bottom: route →
//! negotiate → parse → one store call → render. Everything here turns the
//! engine's results into HTTP; the engine itself lives in `store` and `spec`.

mod access;
mod body;
mod cache;
mod collection;
mod conditional;
mod faults;
mod item;
pub(crate) mod jobs;
mod negotiate;
mod observe;
mod problem;
mod respond;
mod route;
mod state;
mod store_thread;

use actix_web::http::Method as HttpMethod;
use actix_web::{HttpRequest, HttpResponse, web};

pub use problem::Problem;
pub use route::Target;
pub use state::{AppState, ReloadFailure, SpecStatus};

use crate::represent::Representation;
use crate::spec::Spec;

/// Registers standin's service and middleware on an actix-web app.
pub fn configure(state: web::Data<AppState>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |config| {
        config.app_data(state).default_service(web::to(dispatch));
    }
}

/// CORS as the spec's `cors` says: by default open for prototyping (any
/// origin, without credentials), or limited to a list of origins, or off; with
/// the request headers clients send and the response headers they need to read.
/// (Fixed at start: a reload does not change it.)
pub fn cors(setting: &crate::spec::Cors) -> actix_web::middleware::Condition<actix_cors::Cors> {
    use actix_web::http::header;
    let enabled = *setting != crate::spec::Cors::Off;
    let mut cors = actix_cors::Cors::default();
    cors = match setting {
        crate::spec::Cors::Origins(origins) => origins
            .iter()
            .fold(cors, |cors, origin| cors.allowed_origin(origin)),
        _ => cors.allow_any_origin().send_wildcard(),
    };
    // Preflights are answered by the routes themselves (respond::options),
    // with the methods each route allows; a foreign origin is served without
    // CORS headers (the browser then refuses it) rather than refused here.
    let cors = cors
        .disable_preflight()
        .block_on_origin_mismatch(false)
        .expose_headers([
            header::CONTENT_RANGE,
            header::ETAG,
            header::LAST_MODIFIED,
            header::LINK,
            header::LOCATION,
            header::HeaderName::from_static("x-total-count"),
            header::HeaderName::from_static("preference-applied"),
        ])
        .max_age(3600);
    actix_web::middleware::Condition::new(enabled, cors)
}

/// The request logger and journal, to wrap the app with.
pub use observe::observe;

async fn dispatch(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    let spec = state.spec();
    let target = route::resolve(&spec, request.path(), request.query_string())?;
    access::authorise(&request, &spec, &target)?;
    faults::inject(&request, &state, &spec, &target).await?;
    match target {
        Target::Redirect(location) => Ok(respond::moved(&location)),
        Target::Home => home(&request, &spec),
        Target::Collection(index) => {
            collection::handle(request, payload, state.into_inner(), spec, index, None).await
        }
        Target::Inverse {
            parent,
            id,
            inverse,
        } => {
            let index = spec
                .resources
                .iter()
                .position(|resource| resource.name == inverse.resource)
                .expect("inverses come from the spec");
            let scope = collection::Scope {
                parent,
                id,
                inverse,
            };
            collection::handle(
                request,
                payload,
                state.into_inner(),
                spec,
                index,
                Some(scope),
            )
            .await
        }
        Target::Item(index, id) => {
            item::handle(request, payload, state.into_inner(), spec, index, id).await
        }
        Target::Job(job) => jobs::monitor(&request, &state, job).await,
        Target::Admin(path) => crate::admin::handle(&request, &state, &spec, &path).await,
    }
}

const HOME_METHODS: &[&str] = &["GET", "HEAD", "OPTIONS"];

fn home(request: &HttpRequest, spec: &Spec) -> Result<HttpResponse, Problem> {
    match *request.method() {
        HttpMethod::GET | HttpMethod::HEAD => {
            let representation =
                respond::representation_among(request, spec, &Representation::HOME)?;
            Ok(respond::home(spec, representation))
        }
        HttpMethod::OPTIONS => Ok(respond::options(request, spec, HOME_METHODS)),
        _ => Err(method_not_allowed(request, HOME_METHODS.to_vec())),
    }
}

pub(crate) fn method_not_allowed(request: &HttpRequest, allow: Vec<&'static str>) -> Problem {
    Problem::MethodNotAllowed {
        method: request.method().to_string(),
        allow,
    }
}
