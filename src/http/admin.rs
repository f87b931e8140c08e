//! The admin API under `{base_path}/_standin`: `health`, `reset`, the
//! `requests` journal (and `requests/match`: verification with near misses)
//! and the normalised `spec`, for test suites and tooling.
//! Admin requests are not journaled, never carry CORS headers, and are
//! refused to web pages of other sites (see `http::access`).

use actix_web::http::{Method as HttpMethod, StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};

use super::{AppState, Problem, method_not_allowed, respond};
use crate::journal::Selection;
use crate::represent::{Representation, html};
use crate::spec::{self, Spec};
use crate::store::Location;

/// Answers a request to `/_standin/{path}`.
pub async fn handle(
    request: &HttpRequest,
    payload: web::Payload,
    state: &web::Data<AppState>,
    spec: &Spec,
    path: &str,
) -> Result<HttpResponse, Problem> {
    let method = request.method();
    if let Some(page) = page(request, spec, path) {
        return page;
    }
    let allow: &[&'static str] = match path {
        "health" | "spec" | "openapi.json" => &["GET", "HEAD", "OPTIONS"],
        "reset" => &["POST", "OPTIONS"],
        "requests" => &["GET", "HEAD", "DELETE", "OPTIONS"],
        "requests/match" => &["POST", "OPTIONS"],
        "stubs" => &["GET", "HEAD", "POST", "DELETE", "OPTIONS"],
        stub if stub.starts_with("stubs/") => &["GET", "HEAD", "DELETE", "OPTIONS"],
        "sessions" => &["GET", "HEAD", "DELETE", "OPTIONS"],
        session if session.starts_with("sessions/") => &["GET", "HEAD", "DELETE", "OPTIONS"],
        _ => {
            let hint = spec::did_you_mean(
                path,
                [
                    "health",
                    "reset",
                    "requests",
                    "requests/match",
                    "stubs",
                    "sessions",
                    "spec",
                    "openapi.json",
                ],
            )
            .map(|hint| format!(" ({hint})"))
            .unwrap_or_default();
            return Err(Problem::not_found(format!(
                "no admin route '{path}'{hint}: there are health, reset, requests, requests/match, stubs, sessions, spec and openapi.json"
            )));
        }
    };
    if *method == HttpMethod::OPTIONS {
        return Ok(HttpResponse::NoContent()
            .insert_header((header::ALLOW, allow.join(", ")))
            .finish());
    }
    if !allow.contains(&method.as_str()) {
        return Err(method_not_allowed(request, allow.to_vec()));
    }
    // The journal's filters are read by its GET; DELETE forgets it all, so
    // a filter there (which a reader may take to forget only what matches) is refused.
    if path != "requests" || *method == HttpMethod::DELETE {
        reject_parameters(request, &[])?;
    }
    if path == "requests/match" {
        return matching_requests(request, payload, state).await;
    }
    if path == "stubs" || path.starts_with("stubs/") {
        return stubs(request, payload, state, path).await;
    }
    if path == "sessions" || path.starts_with("sessions/") {
        return sessions(request, state, path);
    }
    match (path, method.as_str()) {
        ("health", _) => health(state, spec).await,
        ("spec", _) => Ok(ok_json(&spec::to_json(spec))),
        ("openapi.json", _) => Ok(ok_json(&crate::openapi::document(spec))),
        ("reset", _) => reset(state).await,
        ("requests", "DELETE") => {
            state.service.with_journal(|journal| journal.clear());
            Ok(HttpResponse::NoContent().finish())
        }
        _ => requests(request, state),
    }
}

/// The browsable API's admin page (`/_standin` asked for as `text/html`) and
/// the pages' assets (`/_standin/assets/`), if `path` names one of them.
fn page(request: &HttpRequest, spec: &Spec, path: &str) -> Option<Result<HttpResponse, Problem>> {
    let (body, media_type) = match path.strip_prefix("assets/") {
        Some(name) => {
            let (body, media_type) = html::asset(name)?;
            (web::Bytes::from_static(body.as_bytes()), media_type)
        }
        None if path.is_empty() => {
            // Only for browsers: others get the admin API's answer, as before.
            let offers = [Representation::Json, Representation::Html];
            let representation = respond::representation_among(request, spec, &offers);
            if representation.ok() != Some(Representation::Html) {
                return None;
            }
            (
                web::Bytes::from(html::admin(spec)),
                "text/html; charset=utf-8",
            )
        }
        None => return None,
    };
    if !matches!(*request.method(), HttpMethod::GET | HttpMethod::HEAD) {
        return Some(Err(method_not_allowed(request, vec!["GET", "HEAD"])));
    }
    Some(Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            html::CONTENT_SECURITY_POLICY,
        ))
        .content_type(media_type)
        .body(body)))
}

fn ok_json(body: &Value) -> HttpResponse {
    HttpResponse::build(StatusCode::OK)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("application/json")
        .body(body.to_string())
}

async fn health(state: &web::Data<AppState>, spec: &Spec) -> Result<HttpResponse, Problem> {
    let status = state.service.status();
    let spec_snapshot = state.spec();
    let (counts, durability) = state
        .blocking(move |store| {
            let mut counts = Map::new();
            for resource in &spec_snapshot.resources {
                counts.insert(resource.name.clone(), json!(store.count(resource)?));
            }
            Ok((counts, store.durability()?))
        })
        .await?;
    let storage = match state.service.location() {
        Location::Memory => json!("memory"),
        Location::File(path) => json!(path.display().to_string()),
    };
    let mut body = json!({
        "status": if status.last_reload_error.is_some() { "degraded" } else { "ok" },
        "title": spec.title,
        "spec": { "file": status.file, "hash": status.hash, "loaded_at": status.loaded_at },
        "last_reload_error": status.last_reload_error,
        "storage": storage,
        "durability": durability,
        "resources": counts,
        "journal": state.service.with_journal(|journal| journal.usage()),
    });
    if let Some(upstream) = state.proxy.upstream(spec) {
        body["upstream"] = json!({
            "url": upstream.url,
            "timeout_ms": upstream.timeout.as_millis() as u64,
            "recording": state.proxy.recorder.as_ref().map(|recorder| recorder.path().display().to_string()),
        });
    }
    Ok(ok_json(&body))
}

async fn reset(state: &web::Data<AppState>) -> Result<HttpResponse, Problem> {
    let shared = state.clone();
    // A session's reset restores its own copy, and nothing else.
    let in_session = crate::service::current_session().is_some();
    let report = state
        .blocking(move |store| {
            if in_session {
                let spec = shared.service.spec();
                return store.reset(&spec, shared.service.seed).map_err(|error| {
                    Problem::Internal {
                        detail: error.to_string(),
                    }
                });
            }
            shared
                .service
                .reset_on(store)
                .map_err(|error| Problem::Internal {
                    detail: error.to_string(),
                })
        })
        .await?;
    tracing::info!(
        "reset to the seeded state in {:.1}ms",
        report.took.as_secs_f64() * 1000.0
    );
    Ok(ok_json(&json!({
        "restored": report.restored,
        "reseeded": report.reseeded,
        "took_ms": (report.took.as_secs_f64() * 1_000_000.0).round() / 1000.0,
    })))
}

fn requests(request: &HttpRequest, state: &web::Data<AppState>) -> Result<HttpResponse, Problem> {
    reject_parameters(request, &["method", "path", "status"])?;
    let mut selection = Selection::default();
    for (name, value) in form_urlencoded::parse(request.query_string().as_bytes()) {
        match name.as_ref() {
            "method" => selection.method = Some(value.into_owned()),
            "path" => selection.path = Some(value.into_owned()),
            _ => {
                let status = value
                    .parse::<u16>()
                    .ok()
                    .filter(|status| (100..=599).contains(status))
                    .ok_or_else(|| {
                        Problem::bad_parameter(
                            "status",
                            format!("status must be an HTTP status like 404, not '{value}'"),
                        )
                    })?;
                selection.status = Some(status);
            }
        }
    }
    // Bodies are parsed one entry at a time, as the list is written.
    Ok(HttpResponse::build(StatusCode::OK)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("application/json")
        .body(
            state
                .service
                .with_journal(|journal| journal.to_json(&selection)),
        ))
}

/// `stubs` and `stubs/{id}`: the answers programmed for requests to come.
async fn stubs(
    request: &HttpRequest,
    payload: web::Payload,
    state: &web::Data<AppState>,
    path: &str,
) -> Result<HttpResponse, Problem> {
    let method = request.method().as_str();
    let Some(id) = path.strip_prefix("stubs/") else {
        return match method {
            "POST" => {
                let bytes = super::body::read(request, payload, state.body_limit).await?;
                let definition: crate::stubs::StubDefinition =
                    object_body(&bytes, "a stub ({\"request\", \"response\", \"times\"})")?;
                let stub = state
                    .service
                    .with_stubs(|stubs| stubs.add(definition))
                    .map_err(Problem::bad_request)?;
                Ok(HttpResponse::build(StatusCode::CREATED)
                    .insert_header((header::CACHE_CONTROL, "no-store"))
                    .insert_header((
                        header::LOCATION,
                        format!("{}/{}", request.path().trim_end_matches('/'), stub.id),
                    ))
                    .json(stub))
            }
            "DELETE" => {
                state.service.with_stubs(|stubs| stubs.clear());
                Ok(HttpResponse::NoContent().finish())
            }
            _ => Ok(ok_json(&json!(
                state.service.with_stubs(|stubs| stubs.list())
            ))),
        };
    };
    let missing = || Problem::not_found(format!("no stub numbered '{id}'"));
    let id = id.parse::<u64>().map_err(|_| missing())?;
    match method {
        "DELETE" if state.service.with_stubs(|stubs| stubs.remove(id)) => {
            Ok(HttpResponse::NoContent().finish())
        }
        "DELETE" => Err(missing()),
        _ => Ok(ok_json(&json!(
            state
                .service
                .with_stubs(|stubs| stubs.get(id))
                .ok_or_else(missing)?
        ))),
    }
}

/// `sessions` and `sessions/{key}`: the isolated sessions alive, and ending them.
fn sessions(
    request: &HttpRequest,
    state: &web::Data<AppState>,
    path: &str,
) -> Result<HttpResponse, Problem> {
    let sessions = &state.service.sessions;
    let deleting = request.method() == HttpMethod::DELETE;
    let Some(key) = path.strip_prefix("sessions/") else {
        if deleting {
            sessions.clear();
            return Ok(HttpResponse::NoContent().finish());
        }
        let limits = sessions.limits();
        return Ok(ok_json(&json!({
            "sessions": sessions.list(),
            "limits": {
                "max_sessions": limits.max,
                "memory_bytes": limits.memory,
                "idle_seconds": limits.idle.as_secs(),
            },
        })));
    };
    let missing = || Problem::not_found(format!("no session '{key}' is alive"));
    if deleting {
        return if sessions.remove(key) {
            Ok(HttpResponse::NoContent().finish())
        } else {
            Err(missing())
        };
    }
    let found = sessions
        .list()
        .into_iter()
        .find(|session| session.key == key)
        .ok_or_else(missing)?;
    Ok(ok_json(&json!(found)))
}

/// `POST requests/match`: the journaled requests a pattern matches, and near misses.
async fn matching_requests(
    request: &HttpRequest,
    payload: web::Payload,
    state: &web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    let bytes = super::body::read(request, payload, state.body_limit).await?;
    let pattern: crate::matcher::RequestPattern = object_body(
        &bytes,
        "a request pattern ({\"method\", \"path\", \"query\", \"headers\", \"body\"})",
    )?;
    let matcher = crate::matcher::Matcher::new(pattern).map_err(Problem::bad_request)?;
    let received = state
        .service
        .with_journal(|journal| journal.entries(&Selection::default()));
    let verification = matcher.verify(received);
    Ok(HttpResponse::build(StatusCode::OK)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(verification))
}

/// The JSON object in `bytes` read as a `T`, or a 400 saying it is not `what`.
/// Only an object: serde would read a `T` from an array of its fields too, and
/// `[]` would be a pattern that matches everything.
fn object_body<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, Problem> {
    let not = |error: &dyn std::fmt::Display| {
        Problem::bad_request(format!("the body is not {what}: {error}"))
    };
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|error| not(&error))?;
    if !value.is_object() {
        return Err(not(&"it must be a JSON object"));
    }
    serde_json::from_value(value).map_err(|error| not(&error))
}

fn reject_parameters(request: &HttpRequest, known: &[&str]) -> Result<(), Problem> {
    for (name, _) in form_urlencoded::parse(request.query_string().as_bytes()) {
        if !known.contains(&name.as_ref()) {
            let takes = if known.is_empty() {
                "nothing".to_string()
            } else {
                known.join(", ")
            };
            return Err(Problem::bad_parameter(
                name.as_ref(),
                format!("unknown query parameter '{name}': this admin route takes {takes}"),
            ));
        }
    }
    Ok(())
}
