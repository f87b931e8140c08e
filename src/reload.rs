//! Hot reload: the spec file's directory is watched (so that editors saving
//! by rename, and files deleted and recreated, are seen), changes are
//! debounced, and a valid spec is swapped in atomically after its new tables
//! exist and its new resources are seeded. An invalid spec is reported with
//! positions and the old spec keeps serving. Nothing is ever dropped.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode};
use notify::{EventKind, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};
use parking_lot::Mutex;
use std::sync::{Arc, Weak};

use crate::clock;
use crate::service::{ReloadFailure, Service};
use crate::spec::{self, Spec};

/// How long the file must be quiet before a change is read.
const DEBOUNCE: Duration = Duration::from_millis(50);

type FileDebouncer = Debouncer<notify::RecommendedWatcher, RecommendedCache>;

/// A running watch; dropping it stops watching.
pub struct Watch {
    _debouncer: Arc<Mutex<FileDebouncer>>,
    service: Weak<Service>,
}

impl Drop for Watch {
    /// Tells a db.json's write backs that no watcher reloads an edit now.
    fn drop(&mut self) {
        if let Some(back) = self
            .service
            .upgrade()
            .as_ref()
            .and_then(|service| service.write_back.as_ref())
        {
            back.unwatched();
        }
    }
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Watch")
    }
}

/// Watches the spec file at `path` and reloads `service` on every valid change.
///
/// The directory is watched, not the file: editors save by rename, and a
/// Kubernetes ConfigMap changes by swapping a symbolic link (`..data`) that
/// the spec's own link goes through, so a change shows either as an event on
/// the spec's name or as its resolved path changing. A directory elsewhere
/// that the spec links to is watched too, and so are those of the files the
/// spec includes (or an OpenAPI document references) and those its
/// `include` globs list: re-read after every reload, so that a file
/// included since is watched too. The spec is read once more as the watch
/// begins, for an edit saved while the server was starting.
pub fn watch(path: &Path, service: Arc<Service>) -> notify::Result<Watch> {
    let absolute = std::path::absolute(path)?;
    let directory = absolute
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let file_name = absolute.file_name().map(|name| name.to_os_string());
    let mut resolved = std::fs::canonicalize(&absolute).ok();
    let linked_directory = resolved
        .as_ref()
        .and_then(|resolved| resolved.parent())
        .map(Path::to_path_buf)
        .filter(|linked| std::fs::canonicalize(&directory).ok().as_ref() != Some(linked));
    let watcher_service = service.clone();
    let handle: Arc<std::sync::OnceLock<Weak<Mutex<FileDebouncer>>>> = Arc::default();
    let watcher_handle = handle.clone();
    let mut watched: Vec<PathBuf> = vec![directory.clone()];
    watched.extend(linked_directory.clone());
    let following = Arc::new(Mutex::new(Following {
        path: path.to_path_buf(),
        service: service.clone(),
        watched,
        refused: Vec::new(),
    }));
    let watcher_following = following.clone();
    let debouncer = new_debouncer(DEBOUNCE, None, move |result: DebounceEventResult| {
        let Ok(events) = result else { return };
        let mut following = watcher_following.lock();
        let now_resolved = std::fs::canonicalize(&absolute).ok();
        let swapped = now_resolved != resolved;
        let mut referenced = referenced_files(&watcher_service);
        referenced.extend(following.refused.iter().cloned());
        let globbed = globbed_directories(&watcher_service);
        // Reading a file (as a reload does) is no change of it: else every
        // reload would set off the next.
        let changes = events.iter().filter(|event| match event.kind {
            EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
            EventKind::Access(_) => false,
            _ => true,
        });
        let touches_spec = changes.into_iter().any(|event| {
            event.paths.iter().any(|changed| {
                changed.file_name().map(|name| name.to_os_string()) == file_name
                    || Some(changed) == resolved.as_ref()
                    || referenced.iter().any(|file| same_file(file, changed))
                    || changed
                        .parent()
                        .is_some_and(|parent| globbed.iter().any(|dir| same_file(dir, parent)))
            })
        });
        resolved = now_resolved;
        if let Some(debouncer) = watcher_handle.get().and_then(Weak::upgrade)
            && (touches_spec || swapped)
        {
            following.reload_and_watch(&mut debouncer.lock());
        }
    })?;
    let debouncer = Arc::new(Mutex::new(debouncer));
    let _ = handle.set(Arc::downgrade(&debouncer));
    {
        let mut following = following.lock();
        let mut locked = debouncer.lock();
        locked.watch(&directory, RecursiveMode::NonRecursive)?;
        if let Some(linked) = linked_directory {
            locked.watch(&linked, RecursiveMode::NonRecursive)?;
        }
        following.watch_more(&mut locked);
    }
    // An edit made while the spec was read and its data seeded (seconds, at
    // scale) sent no event: read once more now that the watch is on, once
    // the file is quiet (as events are). Beside the start, not in its way,
    // and holding nothing of the server's while it waits.
    let (debouncer_handle, following) = (Arc::downgrade(&debouncer), Arc::downgrade(&following));
    let spec_path = path.to_path_buf();
    std::thread::Builder::new()
        .name("standin-watch-start".into())
        .spawn(move || {
            wait_until_quiet(&spec_path);
            if let (Some(following), Some(debouncer)) =
                (following.upgrade(), debouncer_handle.upgrade())
            {
                following.lock().reload_and_watch(&mut debouncer.lock());
            }
        })?;
    if let Some(back) = &service.write_back {
        // Its write backs wait for the watcher to reload an edit rather than write over it.
        back.watched();
    }
    Ok(Watch {
        _debouncer: debouncer,
        service: Arc::downgrade(&service),
    })
}

/// Waits (up to two seconds) until the file at `path` has not changed for
/// [`DEBOUNCE`]: a file being written is then read whole, not half-written.
fn wait_until_quiet(path: &Path) {
    let state = || {
        std::fs::metadata(path)
            .ok()
            .map(|metadata| (metadata.len(), metadata.modified().ok()))
    };
    let mut last = state();
    for _ in 0..40 {
        std::thread::sleep(DEBOUNCE);
        let now = state();
        if now == last {
            return;
        }
        last = now;
    }
}

/// What a watch follows: the spec, the directories watched, and the files
/// the last refused spec included (beside the serving spec's).
struct Following {
    path: PathBuf,
    service: Arc<Service>,
    watched: Vec<PathBuf>,
    refused: Vec<PathBuf>,
}

impl Following {
    /// Reloads the spec, then watches the directories of the files it reads
    /// now (or would, once valid) not watched yet.
    ///
    /// A file in such a directory changed after the reload read it but
    /// before its directory was watched sends no event: so the spec is read
    /// again once they are (unchanged, that is a no-op). Each round can only
    /// add directories, so it ends.
    fn reload_and_watch(&mut self, debouncer: &mut FileDebouncer) {
        loop {
            self.refused = reload(&self.path, &self.service)
                .into_iter()
                .map(|file| std::path::absolute(&file).unwrap_or(file))
                .collect();
            if !self.watch_more(debouncer) {
                break;
            }
        }
    }

    /// Watches the directories not watched yet of the files the serving
    /// spec reads, and of those a refused spec included; answers whether it
    /// added any.
    fn watch_more(&mut self, debouncer: &mut FileDebouncer) -> bool {
        let directories = referenced_files(&self.service)
            .iter()
            .chain(&self.refused)
            .filter_map(|file| file.parent().map(Path::to_path_buf))
            .map(|directory| std::path::absolute(&directory).unwrap_or(directory))
            .chain(globbed_directories(&self.service))
            .collect::<Vec<_>>();
        let before = self.watched.len();
        for directory in directories {
            if self.watched.iter().any(|seen| same_file(seen, &directory)) {
                continue;
            }
            // A directory that vanished is not worth failing the watch for.
            if debouncer
                .watch(&directory, RecursiveMode::NonRecursive)
                .is_ok()
            {
                self.watched.push(directory);
            }
        }
        self.watched.len() > before
    }
}

/// The other files the serving spec was read from (an OpenAPI document's references, included files).
fn referenced_files(service: &Service) -> Vec<PathBuf> {
    crate::import::referenced_files(&service.spec())
        .iter()
        .map(|file| std::path::absolute(file).unwrap_or_else(|_| file.clone()))
        .collect()
}

/// The directories the serving spec's `include` globs listed.
fn globbed_directories(service: &Service) -> Vec<PathBuf> {
    service
        .spec()
        .included
        .directories
        .iter()
        .map(|directory| {
            let directory = if directory.as_os_str().is_empty() {
                Path::new(".")
            } else {
                directory
            };
            std::path::absolute(directory).unwrap_or_else(|_| directory.to_path_buf())
        })
        .collect()
}

/// Whether `one` and `other` name the same file (compared as written, then resolved).
fn same_file(one: &Path, other: &Path) -> bool {
    one == other
        || std::fs::canonicalize(one)
            .ok()
            .is_some_and(|one| std::fs::canonicalize(other).ok() == Some(one))
}

/// Reads the spec file again and, if it changed and is valid, puts it in
/// force. Whatever happens, even a panic (a bug), the old spec keeps serving,
/// health tells why, and the next change is read as usual. Answers the
/// files an invalid spec included (not the serving spec's: a fix of one of
/// them must be seen too).
pub fn reload(path: &Path, service: &Arc<Service>) -> Vec<PathBuf> {
    let file = path.display().to_string();
    let mut refused_includes = Vec::new();
    survive(service, &file, || {
        apply(path, &file, service, &mut refused_includes)
    });
    refused_includes
}

/// Runs a reload's `work`, turning a panic into a refused reload: the
/// watcher's thread must outlive any reload. (The store is left usable: its
/// lock does not poison and an open transaction rolls back as it unwinds.)
fn survive(service: &Service, file: &str, work: impl FnOnce()) {
    let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)) else {
        return;
    };
    let why = panic
        .downcast_ref::<&str>()
        .map(|text| text.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_string());
    tracing::error!("reloading {file} failed ({why}); the previous spec keeps serving");
    refuse(
        service,
        file,
        format!("reloading failed, a bug in standin ({why}); the previous spec keeps serving"),
        Vec::new(),
    );
}

fn apply(path: &Path, file: &str, service: &Arc<Service>, refused_includes: &mut Vec<PathBuf>) {
    let started = Instant::now();
    // Read while no write back replaces the file, which records the hash of
    // its text first: the file and the hash then agree when it wrote last
    // (else a file read just before a write back's hash was recorded would
    // be taken for an edit, and parsed whole for nothing).
    let held = service
        .write_back
        .as_ref()
        .map(crate::json_server::WriteBack::hold);
    // Before the read: a write back finding the file as it is now waits
    // until what is read is handled, whatever comes of it.
    let _handling = service
        .write_back
        .as_ref()
        .map(crate::json_server::WriteBack::handling);
    let text = match crate::spec::read_text(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            // Maybe saved by delete-and-recreate, whose new file's event follows.
            return refuse(
                service,
                file,
                "the spec file is gone; the previous spec keeps serving until it is back"
                    .to_string(),
                Vec::new(),
            );
        }
        Err(error) => {
            return refuse(
                service,
                file,
                format!("cannot read the spec: {error}"),
                Vec::new(),
            );
        }
    };
    let hash = crate::import::input_hash(&text, &crate::import::referenced_files(&service.spec()));
    let status = service.status();
    // Released before the reload, whose operation holds it on the store's thread.
    // (A db.json edited into a spec is not written back: a spec's globs may match more.)
    let written_back = held.is_some() && service.spec().dialect == spec::Dialect::JsonServer;
    drop(held);
    if written_back && hash == status.hash {
        // The text standin wrote last (or read at the start): the data holds
        // it, and perhaps writes not in the file yet, which a reload would
        // drop. An edit refused meanwhile is no longer the file's.
        if status.last_reload_error.is_some() {
            service.clear_reload_error();
        }
        return;
    }
    // With globs, the same files may include one more now: read them to know.
    let globbed = !service.spec().included.directories.is_empty();
    if hash == status.hash && status.last_reload_error.is_none() && !globbed {
        return;
    }
    let mut spec = match crate::import::parse(file, &text) {
        Ok(spec) => spec,
        Err(errors) => {
            tracing::error!(
                "{file} changed but is invalid; the previous spec keeps serving:\n{errors}"
            );
            let message = format!("{} problem(s) in the spec", errors.diagnostics.len());
            refused_includes.extend(errors.included.iter().map(|(name, _)| PathBuf::from(name)));
            return refuse(service, file, message, errors.diagnostics);
        }
    };
    crate::import::openapi::reseed(&mut spec, service.seed);
    let hash = crate::import::spec_hash(&text, &spec);
    // The same text may include other files now (a glob matches a new file).
    if hash == status.hash && status.last_reload_error.is_none() {
        return;
    }
    let changes = describe_changes(&service.spec(), &spec);
    let (in_force, path) = (Arc::clone(service), path.to_path_buf());
    // One operation on the store's thread: tables, seeding (in steps, with
    // requests served between them), defaults, and the swap; readers wait
    // meanwhile (their reads served between the steps) so that none sees it half-done.
    let outcome = service.run_exclusively_and_wait(move |store| {
        let db_json = spec.dialect == spec::Dialect::JsonServer;
        // A db.json served, or one edited into a spec: the file is written
        // back to until the swap.
        let written_back = db_json || in_force.spec().dialect == spec::Dialect::JsonServer;
        let put_in_force = || -> Result<bool, crate::store::SeedError> {
            // No write back replaces the file from here on.
            let back = in_force.write_back.as_ref().filter(|_| written_back);
            let _held = back.map(crate::json_server::WriteBack::hold);
            // A file written back since it was read was read too early:
            // the event of the newer text follows.
            if written_back && std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str())
            {
                return Ok(false);
            }
            store.prepare(&spec)?;
            if db_json {
                // Edited by hand: its contents replace the data, as json-server does.
                store.forget_seeded(&spec)?;
            }
            store.seed(&spec, in_force.seed)?;
            in_force.put_in_force(store, spec, hash)?;
            if let Some(back) = back {
                // The file holds what is served now (a db.json's data, or
                // the spec it became): the snapshots taken before are not written.
                back.superseded();
            }
            Ok(true)
        };
        match written_back {
            // The file is replaced whole, with no write (and no write back,
            // nor a reset's) in between.
            true => crate::store::without_interruption(put_in_force),
            false => put_in_force(),
        }
    });
    match outcome {
        Ok(Ok(true)) => tracing::info!(
            "reloaded {file} in {:.1}ms: {changes}",
            started.elapsed().as_secs_f64() * 1000.0
        ),
        Ok(Ok(false)) => tracing::debug!("{file} changed again while it was read"),
        Ok(Err(error)) => {
            tracing::error!(
                "{file} changed but cannot be served ({error}); the previous spec keeps serving"
            );
            refuse(service, file, error.to_string(), Vec::new());
        }
        Err(unavailable) => {
            tracing::error!(
                "reloading {file} failed ({unavailable}); the previous spec keeps serving"
            );
            refuse(
                service,
                file,
                format!(
                    "reloading failed, a bug in standin ({unavailable}); the previous spec keeps serving"
                ),
                Vec::new(),
            );
        }
    }
}

fn refuse(service: &Service, file: &str, message: String, diagnostics: Vec<spec::Diagnostic>) {
    service.reload_failed(ReloadFailure {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Location, Store};

    const NOTES: &str =
        "standin: 1\nresources:\n  notes:\n    fields: { text: string }\n    count: 2\n";

    fn service_for(file: &str) -> Arc<Service> {
        let spec = spec::parse(file, NOTES).expect("a valid spec");
        let store = Store::open(Location::Memory).expect("an in-memory store");
        store.prepare(&spec).expect("tables");
        store.seed(&spec, 1).expect("seeded");
        Arc::new(Service::new(
            spec,
            store,
            1,
            file,
            crate::import::input_hash(NOTES, &[]),
        ))
    }

    #[test]
    fn a_panicking_reload_is_reported_and_the_next_one_applies() {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let path = directory.path().join("spec.yaml");
        let file = path.display().to_string();
        let service = service_for(&file);
        survive(&service, &file, || panic!("a bug in the seeder"));
        let failure = service
            .status()
            .last_reload_error
            .expect("the panic is reported");
        assert!(
            failure.message.contains("a bug in the seeder"),
            "{}",
            failure.message
        );
        let edited = format!("{NOTES}  tags:\n    fields: {{ label: string }}\n    count: 1\n");
        std::fs::write(&path, edited).expect("the spec is written");
        reload(&path, &service);
        assert!(service.status().last_reload_error.is_none());
        assert!(service.spec().resource("tags").is_some());
    }
}
