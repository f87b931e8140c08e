//! Asynchronous resources (`async: 2s`): a create answers `202 Accepted` with
//! the `Location` of a status monitor; the record is created after the delay;
//! the monitor answers `200` with the job's state and `Retry-After` while it
//! is pending, then `303 See Other` to the created record (or `200` with the
//! problem, if creating failed). Jobs live in the store (see `store::jobs`):
//! with `--db` they survive a restart, which finishes the pending ones.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};

use super::{AppState, Problem, method_not_allowed};
use crate::links;
use crate::spec::Spec;
use crate::store::{JobState, KEPT_JOBS, RecordId, StoreError};

/// The monitor of job `job`.
pub fn monitor_href(spec: &Spec, job: u64) -> String {
    format!("{}/_jobs/{job}", spec.base_path)
}

/// Milliseconds since the Unix epoch: jobs' due times outlive the process.
fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
        })
}

/// Accepts a create of `fields` in resource `index` for later: keeps the job
/// in the store (committed before answering), answers 202, and creates the
/// record after `delay`.
pub async fn accept(
    state: Arc<AppState>,
    spec: Arc<Spec>,
    index: usize,
    id: Option<RecordId>,
    fields: Map<String, Value>,
    delay: Duration,
) -> Result<HttpResponse, Problem> {
    let due_at = now_millis().saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX));
    let resource = spec.resources[index].name.clone();
    let job = state
        .blocking(move |store| Ok(store.add_job(&resource, id.as_ref(), &fields, due_at)?))
        .await?;
    schedule(state, job, delay);
    let monitor = monitor_href(&spec, job);
    Ok(HttpResponse::build(StatusCode::ACCEPTED)
        .insert_header((header::LOCATION, monitor.clone()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("application/json")
        .body(
            json!({ "status": "pending", "_links": { "monitor": { "href": monitor } } })
                .to_string(),
        ))
}

/// Schedules every job a previous run left pending (with `--db`): those past
/// due run at once. Must be called inside the server's runtime.
pub fn resume(state: Arc<AppState>) {
    let pending = match state.service.run_and_wait(|store| store.pending_jobs()) {
        Ok(Ok(pending)) => pending,
        Ok(Err(error)) => {
            tracing::error!("cannot read the pending asynchronous creates: {error}");
            return;
        }
        Err(error) => {
            tracing::error!("cannot read the pending asynchronous creates: {error}");
            return;
        }
    };
    let now = now_millis();
    for (job, due_at) in pending {
        let wait = Duration::from_millis(due_at.saturating_sub(now).max(0).unsigned_abs());
        schedule(state.clone(), job, wait);
    }
}

/// Creates job `job`'s record after `delay`, with the spec then in force.
fn schedule(state: Arc<AppState>, job: u64, delay: Duration) {
    // A session's job is created in the session's data.
    let session = crate::service::current_session();
    actix_web::rt::spawn(crate::service::within(session, async move {
        actix_web::rt::time::sleep(delay).await;
        let outcome = state
            .on_store(&state.spec(), move |store, spec| {
                match store.run_job(spec, job) {
                    Ok(_) | Err(StoreError::NotFound) => Ok(()),
                    Err(error) => Ok(store.fail_job(job, &Problem::from(error).body())?),
                }
            })
            .await;
        if let Err(problem) = outcome {
            tracing::error!("asynchronous create {job}: {}", problem.body());
        }
    }));
}

/// Answers a request to a job's monitor.
pub async fn monitor(
    request: &HttpRequest,
    state: &web::Data<AppState>,
    job: u64,
) -> Result<HttpResponse, Problem> {
    if !matches!(
        *request.method(),
        actix_web::http::Method::GET | actix_web::http::Method::HEAD
    ) {
        return Err(method_not_allowed(request, vec!["GET", "HEAD"]));
    }
    let found = state.blocking(move |store| Ok(store.job(job)?)).await?;
    let body = |status: &str| json!({ "status": status, "_links": { "self": { "href": request.path() } } });
    match found {
        None => Err(Problem::not_found(format!(
            "no job {job} (finished jobs are kept for the last {KEPT_JOBS})"
        ))),
        Some(JobState::Pending { due_at }) => {
            let wait = (due_at.saturating_sub(now_millis()) as f64 / 1000.0)
                .ceil()
                .max(1.0);
            Ok(HttpResponse::Ok()
                .insert_header((header::RETRY_AFTER, (wait as u64).to_string()))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .content_type("application/json")
                .body(body("pending").to_string()))
        }
        Some(JobState::Done { resource, id }) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, links::item(&state.spec(), &resource, &id)))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish()),
        Some(JobState::Failed { problem }) => {
            let mut failed = body("failed");
            failed["problem"] = problem;
            Ok(HttpResponse::Ok()
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .content_type("application/json")
                .body(failed.to_string()))
        }
    }
}
