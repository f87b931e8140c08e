//! Fault injection for tests: `Prefer: status=503` (or Prism's `code=503`)
//! answers that status; the spec's `latency` delays answers and `error_rate`
//! fails a share of them with `500`. The random draws come from a generator
//! seeded by the spec's seed, so a run is reproducible.

use std::time::Duration;

use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use rand::RngExt;

use super::AppState;
use super::problem::Problem;
use super::route::Target;
use crate::spec::{Faults, Spec};

/// The status a request asks for with `Prefer: status=NNN` or `code=NNN`.
fn requested_status(request: &HttpRequest) -> Result<Option<StatusCode>, Problem> {
    let preferences = request
        .headers()
        .get_all("prefer")
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split([',', ';']));
    for preference in preferences {
        let Some((name, value)) = preference.trim().split_once('=') else {
            continue;
        };
        if !matches!(name.trim().to_ascii_lowercase().as_str(), "status" | "code") {
            continue;
        }
        let value = value.trim().trim_matches('"');
        return match value
            .parse::<u16>()
            .ok()
            .filter(|code| (400..=599).contains(code))
        {
            Some(code) => Ok(StatusCode::from_u16(code).ok()),
            None => Err(Problem::bad_request(format!(
                "Prefer: {name}={value} asks for an error status: use 400 to 599"
            ))),
        };
    }
    Ok(None)
}

/// Applies the faults that concern this request: an injected status, latency, errors.
pub async fn inject(
    request: &HttpRequest,
    state: &AppState,
    spec: &Spec,
    target: &Target,
) -> Result<(), Problem> {
    if matches!(target, Target::Admin(_)) {
        return Ok(());
    }
    if let Some(status) = requested_status(request)? {
        return Err(Problem::Injected {
            status,
            detail: format!("this {} was asked for with Prefer", status.as_u16()),
        });
    }
    let faults = match target {
        Target::Collection(index) | Target::Item(index, _) | Target::Action(index, ..) => {
            spec.resources[*index].faults.or(spec.faults)
        }
        Target::Inverse { inverse, .. } => spec
            .resource(&inverse.resource)
            .map_or(spec.faults, |resource| resource.faults.or(spec.faults)),
        _ => spec.faults,
    };
    if faults == Faults::default() {
        return Ok(());
    }
    let (delay, fail) = {
        let mut random = state.fault_random();
        let delay = faults.latency.map(|(low, high)| {
            if low == high {
                low
            } else {
                Duration::from_secs_f64(random.random_range(low.as_secs_f64()..=high.as_secs_f64()))
            }
        });
        (
            delay,
            faults
                .error_rate
                .is_some_and(|rate| rate > 0.0 && random.random_bool(rate)),
        )
    };
    if let Some(delay) = delay {
        actix_web::rt::time::sleep(delay).await;
    }
    if fail {
        return Err(Problem::Injected {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            detail: format!(
                "an injected error (error_rate {})",
                faults.error_rate.unwrap_or_default()
            ),
        });
    }
    Ok(())
}
