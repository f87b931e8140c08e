//! Asynchronous resources (`async: 2s`): a create answers `202 Accepted` with
//! the `Location` of a status monitor; the record is created after the delay;
//! the monitor answers `200` with the job's state and `Retry-After` while it
//! is pending, then `303 See Other` to the created record (or `200` with the
//! problem, if creating failed).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};

use super::{AppState, Problem, method_not_allowed};
use crate::links;
use crate::spec::Spec;
use crate::store::RecordId;

/// Jobs kept for their monitors; older ones are forgotten.
const KEPT: usize = 10_000;

#[derive(Debug, Clone)]
enum State {
    Pending { ready_at: Instant },
    Done { location: String },
    Failed { problem: Value },
}

/// The asynchronous creates in progress or done.
#[derive(Debug, Default)]
pub struct Jobs {
    jobs: Mutex<(u64, BTreeMap<u64, State>)>,
}

impl Jobs {
    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, BTreeMap<u64, State>)> {
        self.jobs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn start(&self, delay: Duration) -> u64 {
        let mut guard = self.lock();
        let (counter, jobs) = &mut *guard;
        *counter += 1;
        jobs.insert(
            *counter,
            State::Pending {
                ready_at: Instant::now() + delay,
            },
        );
        while jobs.len() > KEPT {
            jobs.pop_first();
        }
        *counter
    }

    fn finish(&self, job: u64, state: State) {
        if let Some(slot) = self.lock().1.get_mut(&job) {
            *slot = state;
        }
    }
}

/// The monitor of job `job`.
pub fn monitor_href(spec: &Spec, job: u64) -> String {
    format!("{}/_jobs/{job}", spec.base_path)
}

/// Accepts a create for later: answers 202 and creates the record after `delay`.
pub fn accept(
    state: Arc<AppState>,
    spec: Arc<Spec>,
    index: usize,
    id: Option<RecordId>,
    fields: Map<String, Value>,
    delay: Duration,
) -> HttpResponse {
    let job = state.jobs.start(delay);
    let monitor = monitor_href(&spec, job);
    actix_web::rt::spawn(async move {
        actix_web::rt::time::sleep(delay).await;
        let (store, shared_spec) = (state.store.clone(), spec.clone());
        let created = state
            .blocking(move || {
                let resource = &shared_spec.resources[index];
                Ok(store.create(&shared_spec, resource, id, fields)?)
            })
            .await;
        let outcome = match created {
            Ok(record) => State::Done {
                location: links::item(&spec, &spec.resources[index].name, &record.id),
            },
            Err(problem) => State::Failed {
                problem: problem.body(),
            },
        };
        state.jobs.finish(job, outcome);
    });
    HttpResponse::build(StatusCode::ACCEPTED)
        .insert_header((header::LOCATION, monitor.clone()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("application/json")
        .body(
            json!({ "status": "pending", "_links": { "monitor": { "href": monitor } } })
                .to_string(),
        )
}

/// Answers a request to a job's monitor.
pub fn monitor(
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
    let found = state.jobs.lock().1.get(&job).cloned();
    let body = |status: &str| json!({ "status": status, "_links": { "self": { "href": request.path() } } });
    match found {
        None => Err(Problem::not_found(format!(
            "no job {job} (jobs are kept for their last {KEPT})"
        ))),
        Some(State::Pending { ready_at }) => {
            let wait = ready_at
                .saturating_duration_since(Instant::now())
                .as_secs_f64()
                .ceil()
                .max(1.0);
            Ok(HttpResponse::Ok()
                .insert_header((header::RETRY_AFTER, (wait as u64).to_string()))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .content_type("application/json")
                .body(body("pending").to_string()))
        }
        Some(State::Done { location }) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, location))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish()),
        Some(State::Failed { problem }) => {
            let mut failed = body("failed");
            failed["problem"] = problem;
            Ok(HttpResponse::Ok()
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .content_type("application/json")
                .body(failed.to_string()))
        }
    }
}
