//! Hot reload: the spec file's directory is watched (so that editors saving
//! by rename, and files deleted and recreated, are seen), changes are
//! debounced, and a valid spec is swapped in atomically after its new tables
//! exist and its new resources are seeded. An invalid spec is reported with
//! positions and the old spec keeps serving. Nothing is ever dropped.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use actix_web::web;
use notify::RecursiveMode;
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};

use crate::clock;
use crate::fingerprint;
use crate::http::{AppState, ReloadFailure};
use crate::spec::{self, Spec};

/// How long the file must be quiet before a change is read.
const DEBOUNCE: Duration = Duration::from_millis(50);

/// A running watch; dropping it stops watching.
pub struct Watch {
    _debouncer: Debouncer<notify::RecommendedWatcher, RecommendedCache>,
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Watch")
    }
}

/// Watches the spec file at `path` and reloads `state` on every valid change.
pub fn watch(path: &Path, state: web::Data<AppState>) -> notify::Result<Watch> {
    let absolute = std::path::absolute(path)?;
    let directory = absolute
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let file_name = absolute.file_name().map(|name| name.to_os_string());
    let target = path.to_path_buf();
    let mut debouncer = new_debouncer(DEBOUNCE, None, move |result: DebounceEventResult| {
        let Ok(events) = result else { return };
        let touches_spec = events.iter().any(|event| {
            event
                .paths
                .iter()
                .any(|changed| changed.file_name().map(|name| name.to_os_string()) == file_name)
        });
        if touches_spec {
            reload(&target, &state);
        }
    })?;
    debouncer.watch(&directory, RecursiveMode::NonRecursive)?;
    Ok(Watch {
        _debouncer: debouncer,
    })
}

/// Reads the spec file again and, if it changed and is valid, puts it in force.
pub fn reload(path: &Path, state: &AppState) {
    let started = Instant::now();
    let file = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        // Saved by delete-and-recreate: the new file's own event follows.
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return,
        Err(error) => {
            return refuse(
                state,
                &file,
                format!("cannot read the spec: {error}"),
                Vec::new(),
            );
        }
    };
    let hash = fingerprint::hex(text.as_bytes());
    let status = state.status();
    if hash == status.hash && status.last_reload_error.is_none() {
        return;
    }
    let spec = match spec::parse(&file, &text) {
        Ok(spec) => spec,
        Err(errors) => {
            tracing::error!(
                "{file} changed but is invalid; the previous spec keeps serving:\n{errors}"
            );
            let message = format!("{} problem(s) in the spec", errors.diagnostics.len());
            return refuse(state, &file, message, errors.diagnostics);
        }
    };
    let prepared = state
        .store
        .prepare(&spec)
        .map_err(|error| error.to_string())
        .and_then(|()| state.store.seed(&spec, state.seed));
    if let Err(error) = prepared {
        tracing::error!(
            "{file} changed but cannot be served ({error}); the previous spec keeps serving"
        );
        return refuse(state, &file, error, Vec::new());
    }
    let changes = describe_changes(&state.spec(), &spec);
    state.replace_spec(spec, hash);
    tracing::info!(
        "reloaded {file} in {:.1}ms: {changes}",
        started.elapsed().as_secs_f64() * 1000.0
    );
}

fn refuse(state: &AppState, file: &str, message: String, diagnostics: Vec<spec::Diagnostic>) {
    state.reload_failed(ReloadFailure {
        at: clock::now(),
        message: format!("{file}: {message}"),
        diagnostics,
    });
}

/// What changed between two specs, in a line: `+reviews -tags; books: +isbn -price ~year`.
pub fn describe_changes(old: &Spec, new: &Spec) -> String {
    let mut parts = Vec::new();
    let mut resources = Vec::new();
    for resource in &new.resources {
        if old.resource(&resource.name).is_none() {
            resources.push(format!("+{}", resource.name));
        }
    }
    for resource in &old.resources {
        if new.resource(&resource.name).is_none() {
            resources.push(format!("-{}", resource.name));
        }
    }
    if !resources.is_empty() {
        parts.push(format!("resources {}", resources.join(" ")));
    }
    for resource in &new.resources {
        let Some(previous) = old.resource(&resource.name) else {
            continue;
        };
        let mut fields = Vec::new();
        for field in &resource.fields {
            match previous.field(&field.name) {
                None => fields.push(format!("+{}", field.name)),
                Some(before) if spec::field_to_json(before) != spec::field_to_json(field) => {
                    fields.push(format!("~{}", field.name));
                }
                Some(_) => {}
            }
        }
        for field in &previous.fields {
            if resource.field(&field.name).is_none() {
                fields.push(format!("-{}", field.name));
            }
        }
        let settings_changed = single(old, previous) != single(new, resource);
        if !fields.is_empty() {
            parts.push(format!("{}: {}", resource.name, fields.join(" ")));
        } else if settings_changed {
            parts.push(format!("{}: settings", resource.name));
        }
    }
    if parts.is_empty() {
        "no change to resources or fields".to_string()
    } else {
        parts.join("; ")
    }
}

/// The JSON of one resource, for comparing its settings.
fn single(spec: &Spec, resource: &spec::Resource) -> serde_json::Value {
    spec::to_json(spec)["resources"][&resource.name].clone()
}
