//! Writing a db.json back after changes, as json-server does: the whole
//! database, pretty-printed, to a temporary file in the same directory that
//! is synced and then renamed over the original, so the file is never
//! half-written and a crash leaves the old or the new contents. A change is
//! acknowledged once the file holds it; the changes made while a write back
//! waits its turn are written together by it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use serde::Serialize;

/// The db.json file that changes are written back to.
#[derive(Debug)]
pub struct WriteBack {
    path: PathBuf,
    /// Held while the file is written: one writer at a time, whatever thread it is on.
    lock: Mutex<()>,
    /// The last ticket given to a change (see [`WriteBack::changed`]).
    tickets: AtomicU64,
    /// Whether a write back is queued and not yet begun.
    scheduled: AtomicBool,
    /// How far the file has caught up with the changes.
    progress: Mutex<Progress>,
    /// Wakes the changes waiting for the file when a write back ends.
    ended: tokio::sync::Notify,
}

#[derive(Debug, Default)]
struct Progress {
    /// The file holds every change whose ticket is this or lower.
    written: u64,
    /// The last write back that failed: the tickets it was to cover, and why.
    failed: Option<(u64, String)>,
}

impl WriteBack {
    /// Writes changes back to the file at `path`.
    pub fn new(path: &Path) -> WriteBack {
        WriteBack {
            path: path.to_path_buf(),
            lock: Mutex::new(()),
            tickets: AtomicU64::new(0),
            scheduled: AtomicBool::new(false),
            progress: Mutex::new(Progress::default()),
            ended: tokio::sync::Notify::new(),
        }
    }

    /// Excludes writing the file while the guard lives.
    pub fn hold(&self) -> MutexGuard<'_, ()> {
        self.lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts a change to the data, made on the store's thread just before:
    /// its ticket, which a write back reading the data after it covers.
    pub fn changed(&self) -> u64 {
        self.tickets.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Whether the caller is to queue a write back for the change just
    /// counted: `false` when one is queued already, which will cover it.
    pub fn schedule(&self) -> bool {
        !self.scheduled.swap(true, Ordering::SeqCst)
    }

    /// Begins a write back: the changes counted from now on queue another.
    /// Returns the last ticket given, which it covers.
    pub fn begin(&self) -> u64 {
        self.scheduled.store(false, Ordering::SeqCst);
        self.tickets.load(Ordering::SeqCst)
    }

    /// Records that the file holds every change up to `ticket`.
    pub fn written(&self, ticket: u64) {
        {
            let mut progress = self.progress();
            progress.written = progress.written.max(ticket);
        }
        self.ended.notify_waiters();
    }

    /// Records that the write back covering the changes up to `ticket` failed, and why.
    pub fn failed(&self, ticket: u64, why: String) {
        self.progress().failed = Some((ticket, why));
        self.ended.notify_waiters();
    }

    /// Waits until the file holds the change given `ticket`, or says why
    /// the write back meant to hold it failed.
    pub async fn until_written(&self, ticket: u64) -> Result<(), String> {
        loop {
            // Made before looking, so that an end in between still wakes it.
            let ended = self.ended.notified();
            {
                let progress = self.progress();
                if progress.written >= ticket {
                    return Ok(());
                }
                if let Some((covered, why)) = &progress.failed
                    && *covered >= ticket
                {
                    return Err(why.clone());
                }
            }
            ended.await;
        }
    }

    fn progress(&self) -> MutexGuard<'_, Progress> {
        self.progress
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Writes `database` to the file atomically (the caller holds [`WriteBack::hold`]);
    /// returns the text written.
    pub fn write(&self, database: &impl Serialize) -> std::io::Result<String> {
        let mut text = serde_json::to_string_pretty(database).expect("JSON values serialise");
        text.push('\n');
        let directory = self
            .path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut temporary = tempfile::Builder::new()
            .prefix(".standin-")
            .suffix(".tmp")
            .tempfile_in(directory)?;
        temporary.write_all(text.as_bytes())?;
        temporary.as_file().sync_all()?;
        temporary.persist(&self.path).map_err(|error| error.error)?;
        // The rename is durable once the directory is synced.
        if let Ok(handle) = std::fs::File::open(directory) {
            let _ = handle.sync_all();
        }
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::time::Duration;

    #[test]
    fn the_file_is_replaced_whole_and_no_temporary_file_stays() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("db.json");
        std::fs::write(&path, "{}").unwrap();
        let back = WriteBack::new(&path);
        let _held = back.hold();
        back.write(&serde_json::json!({"posts": [{"id": 1}]}))
            .unwrap();
        let written: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(written, serde_json::json!({"posts": [{"id": 1}]}));
        assert_eq!(std::fs::read_dir(directory.path()).unwrap().count(), 1);
    }

    #[actix_web::test]
    async fn a_change_is_answered_once_a_write_back_covering_it_has_ended() {
        let back = WriteBack::new(Path::new("unused.json"));
        let first = back.changed();
        assert!(back.schedule(), "the first change queues a write back");
        let second = back.changed();
        assert!(!back.schedule(), "the one queued covers the second");
        let waiting = [first, second].map(|ticket| back.until_written(ticket));
        let writing = async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let covered = back.begin();
            // A change made while the file is written queues the next one.
            let third = back.changed();
            assert!(back.schedule());
            back.written(covered);
            third
        };
        let (waited, third) = tokio::join!(futures_util::future::join_all(waiting), writing);
        assert_eq!(waited, [Ok(()), Ok(())]);
        let late = tokio::time::timeout(Duration::from_millis(20), back.until_written(third));
        assert!(late.await.is_err(), "not written yet");
        let covered = back.begin();
        back.written(covered);
        assert_eq!(back.until_written(third).await, Ok(()));
    }

    #[actix_web::test]
    async fn a_failed_write_back_fails_the_changes_it_was_to_hold_only() {
        let back = WriteBack::new(Path::new("unused.json"));
        let (first, second) = (back.changed(), back.changed());
        let covered = back.begin();
        let third = back.changed();
        let waiting = [first, second, third].map(|ticket| back.until_written(ticket));
        let failing = async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            back.failed(covered, "the disk is full".into());
            tokio::time::sleep(Duration::from_millis(10)).await;
            let covered = back.begin();
            back.written(covered);
        };
        let (waited, ()) = tokio::join!(futures_util::future::join_all(waiting), failing);
        let full = Err("the disk is full".to_string());
        assert_eq!(waited, [full.clone(), full, Ok(())]);
        // Written since: the file holds them all now.
        assert_eq!(back.until_written(first).await, Ok(()));
    }
}
