//! The HTTP face of standin (actix-web): one dispatching service that routes
//! each request against the current spec, then reads top to bottom: route →
//! negotiate → parse → one store call → render. Everything here turns the
//! engine's results into HTTP; the engine itself lives in `store` and `spec`.

mod access;
mod admin;
mod body;
mod cache;
mod collection;
mod conditional;
mod faults;
mod item;
pub(crate) mod jobs;
mod json_server;
mod negotiate;
mod observe;
mod openapi;
mod pages;
mod problem;
pub(crate) mod proxy;
pub(crate) mod respond;
mod rewrite;
mod route;
mod session;
mod state;

mod transport;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method as HttpMethod;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};

pub use body::Timeouts;
pub use problem::Problem;
pub use route::Target;
pub use state::AppState;
pub(crate) use transport::{Abort, Guarded};

use crate::represent::Representation;
use crate::spec::Spec;

/// Registers standin's service and middleware on an actix-web app.
pub fn configure(state: web::Data<AppState>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |config| {
        config.app_data(state).default_service(web::to(dispatch));
    }
}

/// CORS as the spec's `cors` says: by default open for prototyping (any
/// origin, without credentials), or limited to a list of origins, or off.
/// (Fixed at start: a reload does not change it.) A json-server db.json gets
/// json-server's CORS: the origin reflected, credentials allowed, preflights
/// answered for any method and header. The headers clients may read and
/// `Vary` are written by [`settle_cors`].
pub fn cors(
    setting: &crate::spec::Cors,
    json_server: bool,
) -> actix_web::middleware::Condition<actix_cors::Cors> {
    if json_server {
        let cors = actix_cors::Cors::default()
            .allow_any_origin()
            .allow_any_method()
            .allow_any_header()
            .supports_credentials()
            .block_on_origin_mismatch(false)
            .disable_vary_header();
        return actix_web::middleware::Condition::new(true, cors);
    }
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
        .disable_vary_header()
        .max_age(3600);
    actix_web::middleware::Condition::new(enabled, cors)
}

/// The response headers cross-origin clients may read, in a fixed order.
const EXPOSED_HEADERS: &str =
    "content-range, etag, last-modified, link, location, preference-applied, x-total-count";

/// Completes the CORS headers of the app's answer, when CORS is on: the
/// headers cross-origin clients may read, in one order, and `Vary` naming
/// `Origin` (and on a preflight, the request headers it depends on), each
/// once. The admin API's answers lose them all, so that no web page of
/// another origin may read them.
fn settle_cors<B>(response: &mut ServiceResponse<B>, cors: bool) {
    use actix_web::http::header::{self, HeaderValue};
    if !cors {
        return;
    }
    let admin = response
        .request()
        .extensions()
        .contains::<access::AdminRequest>();
    let preflight = response.request().method() == HttpMethod::OPTIONS;
    let headers = response.headers_mut();
    if admin {
        let cors: Vec<_> = headers
            .keys()
            .filter(|name| name.as_str().starts_with("access-control-"))
            .cloned()
            .collect();
        for name in cors {
            headers.remove(name);
        }
    } else {
        // Names the answer exposes itself (a stub's headers) come after.
        let own = headers
            .get(header::ACCESS_CONTROL_EXPOSE_HEADERS)
            .and_then(|own| own.to_str().ok())
            .filter(|own| !own.is_empty())
            .map(|own| format!("{EXPOSED_HEADERS}, {own}"));
        let exposed = match own.map(HeaderValue::try_from) {
            Some(Ok(both)) => both,
            _ => HeaderValue::from_static(EXPOSED_HEADERS),
        };
        headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, exposed);
    }
    let varies_by: &[&str] = if preflight {
        &[
            "Origin",
            "Access-Control-Request-Method",
            "Access-Control-Request-Headers",
        ]
    } else {
        &["Origin"]
    };
    // Most answers: written without a string of their own.
    let mut lines = headers.get_all(header::VARY);
    if let (Some(only), None) = (lines.next(), lines.next())
        && only.as_bytes() == b"Accept"
        && !preflight
    {
        headers.insert(header::VARY, HeaderValue::from_static("Accept, Origin"));
        return;
    }
    // Every line of the answer's own Vary (a forwarded one's may name some
    // already, in any case, on several lines), then what it does not name.
    let mut vary: Vec<u8> = Vec::new();
    for line in headers.get_all(header::VARY) {
        let line = line.as_bytes().trim_ascii();
        if !line.is_empty() {
            if !vary.is_empty() {
                vary.extend_from_slice(b", ");
            }
            vary.extend_from_slice(line);
        }
    }
    for name in varies_by {
        let named = vary
            .split(|byte| *byte == b',')
            .any(|named| named.trim_ascii().eq_ignore_ascii_case(name.as_bytes()));
        if !named {
            if !vary.is_empty() {
                vary.extend_from_slice(b", ");
            }
            vary.extend_from_slice(name.as_bytes());
        }
    }
    if let Ok(value) = HeaderValue::from_bytes(&vary) {
        headers.insert(header::VARY, value);
    }
}

/// What standin does around the app, in one layer to wrap it (and its CORS)
/// with: the request's session entered ([`session::enter`]), then within it
/// the request observed ([`observe::observe`]: stubs, journal, log, the
/// custom routes' rewriting, CORS settled).
pub async fn front<B: MessageBody + 'static>(
    mut request: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<actix_web::body::EitherBody<B>>, actix_web::Error> {
    let Some(state) = request.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(request).await?.map_into_left_body());
    };
    let writes = !request.method().is_safe();
    match session::enter(&mut request, &state).await {
        Ok(None) => observe::observe(request, next, &state).await,
        Ok(Some(session)) => {
            session
                .run(writes, observe::observe(request, next, &state))
                .await
        }
        Err(problem) => {
            // (Not routed: a page of another origin must not read an admin
            // refusal either, whatever the path's spelling.)
            if access::may_be_admin(request.path()) {
                request.extensions_mut().insert(access::AdminRequest);
            }
            request.extensions_mut().insert(Answered(Err(problem)));
            let mut answered = next.call(request).await?;
            settle_cors(&mut answered, state.cors);
            Ok(answered.map_into_left_body())
        }
    }
}

/// An answer decided before the app (a stub's, a custom route's, a refusal
/// of a session or of a body too slow to arrive), left in the request's
/// extensions for [`dispatch`]: so that it is answered inside CORS like
/// any other, and a browser's page can read it.
pub(crate) struct Answered(pub Result<HttpResponse, Problem>);

/// Answers a request; a problem answering a browser's navigation is a page.
async fn dispatch(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    let spec = state.spec();
    let page = respond::wants_page(&request, &spec);
    match answer(request, payload, state, spec.clone()).await {
        Err(problem) if page => Ok(respond::problem_page(&spec, &problem).await),
        answered => answered,
    }
}

/// Answers a request with `spec`, the spec in force as it arrived.
async fn answer(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    spec: std::sync::Arc<Spec>,
) -> Result<HttpResponse, Problem> {
    if let Some(Answered(answer)) = request.extensions_mut().remove() {
        return answer;
    }
    if let Some(upstream) = state.proxy.upstream(&spec)
        && !proxy::declares(&spec, &request)
    {
        return Ok(proxy::forward(&request, payload, &state, &spec, upstream).await);
    }
    if spec.dialect == crate::spec::Dialect::JsonServer
        && let Some(segments) = json_server::claims(&request, &spec)
    {
        return json_server::handle(&request, payload, state.into_inner(), spec, segments).await;
    }
    if matches!(spec.dialect, crate::spec::Dialect::OpenApi(_))
        && !openapi::is_admin(&spec, request.path())
    {
        if openapi::is_home_page(&request, &spec) {
            return home(&request, &state, &spec).await;
        }
        return openapi::handle(request, payload, state.into_inner(), spec).await;
    }
    let target = route::resolve(&spec, request.path(), request.query_string())?;
    if access::is_admin(&target) {
        request.extensions_mut().insert(access::AdminRequest);
    }
    access::authorise(&request, &spec, &target, state.admin_token.as_deref())?;
    faults::inject(&request, &state, &spec, &target).await?;
    let reads_data = matches!(
        target,
        Target::Collection(_)
            | Target::Inverse { .. }
            | Target::Item(..)
            | Target::Action(..)
            | Target::Job(_)
    );
    if reads_data && state.service.is_resetting() {
        return Err(Problem::Resetting);
    }
    match target {
        Target::Redirect(location) => Ok(respond::moved(request.method(), &location)),
        Target::Home => home(&request, &state, &spec).await,
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
        Target::Action(index, id, action) => {
            item::act(request, state.into_inner(), spec, index, id, &action).await
        }
        Target::Job(job) => jobs::monitor(&request, &state, job).await,
        Target::Admin(path) => admin::handle(&request, payload, &state, &spec, &path).await,
    }
}

const HOME_METHODS: &[&str] = &["GET", "HEAD", "OPTIONS"];

async fn home(
    request: &HttpRequest,
    state: &web::Data<AppState>,
    spec: &std::sync::Arc<Spec>,
) -> Result<HttpResponse, Problem> {
    match *request.method() {
        HttpMethod::GET | HttpMethod::HEAD => {
            let representation =
                respond::representation_among(request, spec, &Representation::HOME_PAGES)?;
            if representation == Representation::Html {
                let counts = state
                    .on_store(spec, |store, spec| {
                        let counts: Vec<Option<u64>> = spec
                            .resources
                            .iter()
                            .map(|resource| store.count(resource).ok())
                            .collect();
                        Ok(counts)
                    })
                    .await?;
                return Ok(respond::home_page(request, spec, &counts));
            }
            Ok(respond::home(request, spec, representation))
        }
        HttpMethod::OPTIONS => Ok(respond::options(request, spec, HOME_METHODS)),
        _ => Err(method_not_allowed(request, HOME_METHODS.to_vec())),
    }
}

/// Refuses a write that carries query parameters: reads refuse unknown
/// ones, and a write takes none, so nothing is silently ignored.
pub(crate) fn refuse_query_on_write(request: &HttpRequest) -> Result<(), Problem> {
    match form_urlencoded::parse(request.query_string().as_bytes()).next() {
        Some((name, _)) => Err(Problem::bad_parameter(
            name.as_ref(),
            format!(
                "unknown query parameter '{name}': a {} takes no query parameters",
                request.method()
            ),
        )),
        None => Ok(()),
    }
}

pub(crate) fn method_not_allowed(request: &HttpRequest, allow: Vec<&'static str>) -> Problem {
    Problem::MethodNotAllowed {
        method: request.method().to_string(),
        allow,
    }
}

#[cfg(test)]
mod tests {
    use actix_web::HttpResponse;
    use actix_web::http::Method;
    use actix_web::test::TestRequest;

    /// The `Vary` of `answer` to a `method` request, once its CORS is settled (CORS on).
    fn settled_vary(method: Method, answer: HttpResponse) -> Option<String> {
        let mut response = TestRequest::default()
            .method(method)
            .to_srv_request()
            .into_response(answer);
        super::settle_cors(&mut response, true);
        let lines: Vec<_> = response.headers().get_all("vary").collect();
        assert!(lines.len() <= 1, "one Vary line: {lines:?}");
        lines
            .first()
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
    }

    #[test]
    fn vary_names_origin_once_whatever_the_answer_named() {
        assert_eq!(
            settled_vary(
                Method::GET,
                HttpResponse::Ok()
                    .insert_header(("Vary", "Accept"))
                    .finish()
            )
            .as_deref(),
            Some("Accept, Origin")
        );
        assert_eq!(
            settled_vary(Method::GET, HttpResponse::Ok().finish()).as_deref(),
            Some("Origin")
        );
        // A forwarded answer's own Vary, on several lines, naming Origin in its own case.
        let forwarded = HttpResponse::Ok()
            .append_header(("Vary", "Accept-Encoding"))
            .append_header(("Vary", "origin, Accept"))
            .finish();
        assert_eq!(
            settled_vary(Method::GET, forwarded).as_deref(),
            Some("Accept-Encoding, origin, Accept")
        );
        assert_eq!(
            settled_vary(
                Method::OPTIONS,
                HttpResponse::Ok()
                    .insert_header(("Vary", "Accept"))
                    .finish()
            )
            .as_deref(),
            Some("Accept, Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
        );
        // Text that is not UTF-8 is kept, and Origin still named.
        let opaque = HttpResponse::Ok()
            .insert_header((
                "Vary",
                actix_web::http::header::HeaderValue::from_bytes(b"X-\xe9t\xe9").unwrap(),
            ))
            .finish();
        let mut response = TestRequest::default()
            .to_srv_request()
            .into_response(opaque);
        super::settle_cors(&mut response, true);
        assert_eq!(
            response.headers().get("vary").map(|value| value.as_bytes()),
            Some(&b"X-\xe9t\xe9, Origin"[..])
        );
    }
}
