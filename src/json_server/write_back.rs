//! Writing a db.json back after changes, as json-server does: the whole
//! database, pretty-printed, to a temporary file in the same directory that
//! is synced and then renamed over the original, so the file is never
//! half-written and a crash leaves the old or the new contents. A change is
//! acknowledged once the file holds it; the changes made while the file is
//! being written are written together by the next write back.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
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
    /// How far the file has caught up with the changes.
    progress: Mutex<Progress>,
    /// Wakes the changes waiting for the file when a write back ends.
    ended: tokio::sync::Notify,
}

#[derive(Debug, Default)]
struct Progress {
    /// The file holds every change whose ticket is this or lower.
    written: u64,
    /// Whether a write back is under way for a change waiting.
    running: bool,
}

impl WriteBack {
    /// Writes changes back to the file at `path`.
    pub fn new(path: &Path) -> WriteBack {
        WriteBack {
            path: path.to_path_buf(),
            lock: Mutex::new(()),
            tickets: AtomicU64::new(0),
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

    /// The last ticket given: a write back reading the data now covers it.
    pub fn noted(&self) -> u64 {
        self.tickets.load(Ordering::SeqCst)
    }

    /// Records that the file holds every change up to `ticket`.
    pub fn written(&self, ticket: u64) {
        let mut progress = self.progress();
        progress.written = progress.written.max(ticket);
    }

    /// Waits until the file holds the change given `ticket`. When no write
    /// back is under way, this caller runs one (`write`, which writes every
    /// change made before it); otherwise it waits for that one to end and
    /// looks again, since a write back begun before its change does not hold it.
    pub async fn until_written<E, F, W>(&self, ticket: u64, write: W) -> Result<(), E>
    where
        W: Fn() -> F,
        F: std::future::Future<Output = Result<(), E>>,
    {
        loop {
            // Made before looking, so that an end in between still wakes it.
            let ended = self.ended.notified();
            let leading = {
                let mut progress = self.progress();
                if progress.written >= ticket {
                    return Ok(());
                }
                !std::mem::replace(&mut progress.running, true)
            };
            if leading {
                let _leading = Leading(self);
                write().await?;
            } else {
                ended.await;
            }
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

/// Ends the write back a waiting change runs, however it ends (its request
/// may be dropped), and wakes the others to look again.
struct Leading<'a>(&'a WriteBack);

impl Drop for Leading<'_> {
    fn drop(&mut self) {
        self.0.progress().running = false;
        self.0.ended.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

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

    /// A write back that takes `pause` and counts itself, covering the
    /// changes noted when it begins, as `Service::write_back` does.
    async fn write_counted(
        back: &WriteBack,
        runs: &std::sync::atomic::AtomicUsize,
        pause: Duration,
    ) -> Result<(), ()> {
        runs.fetch_add(1, Ordering::SeqCst);
        let covered = back.noted();
        tokio::time::sleep(pause).await;
        back.written(covered);
        Ok(())
    }

    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    #[actix_web::test]
    async fn changes_waiting_together_are_written_by_one_write_back() {
        let back = WriteBack::new(Path::new("unused.json"));
        let runs = AtomicUsize::new(0);
        let tickets: Vec<u64> = (0..20).map(|_| back.changed()).collect();
        let waits = tickets.iter().map(|&ticket| {
            back.until_written(ticket, || {
                write_counted(&back, &runs, Duration::from_millis(20))
            })
        });
        for waited in futures_util::future::join_all(waits).await {
            assert_eq!(waited, Ok(()));
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        // Written already: no write back.
        assert_eq!(
            back.until_written(tickets[3], || async { Err(()) }).await,
            Ok(())
        );
    }

    #[actix_web::test]
    async fn a_change_made_while_the_file_is_written_waits_for_the_next_write_back() {
        let back = WriteBack::new(Path::new("unused.json"));
        let runs = AtomicUsize::new(0);
        let first = back.changed();
        let writing = back.until_written(first, || {
            write_counted(&back, &runs, Duration::from_millis(50))
        });
        let later = async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            let second = back.changed();
            back.until_written(second, || {
                write_counted(&back, &runs, Duration::from_millis(1))
            })
            .await?;
            Ok::<_, ()>(second)
        };
        let (first_written, second) = tokio::join!(writing, later);
        assert_eq!(first_written, Ok(()));
        assert_eq!(second, Ok(2));
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        assert_eq!(back.progress().written, 2);
    }

    #[actix_web::test]
    async fn a_write_back_given_up_leaves_the_waiting_changes_to_write_their_own() {
        let back = WriteBack::new(Path::new("unused.json"));
        let runs = AtomicUsize::new(0);
        let (first, second) = (back.changed(), back.changed());
        // The first change's request goes (its client hung up) while its
        // write back runs; the second, waiting for it, then writes.
        let given_up = tokio::time::timeout(
            Duration::from_millis(10),
            back.until_written(first, || {
                write_counted(&back, &runs, Duration::from_secs(60))
            }),
        );
        let waiting = back.until_written(second, || {
            write_counted(&back, &runs, Duration::from_millis(1))
        });
        let (given_up, waited) = tokio::join!(given_up, waiting);
        assert!(given_up.is_err(), "timed out");
        assert_eq!(waited, Ok(()));
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    #[actix_web::test]
    async fn a_failed_write_back_fails_each_waiting_change_in_turn() {
        let back = WriteBack::new(Path::new("unused.json"));
        let runs = AtomicUsize::new(0);
        let tickets = [back.changed(), back.changed(), back.changed()];
        let waits = tickets.map(|ticket| {
            back.until_written(ticket, || async {
                runs.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
                Err::<(), _>("the disk is full")
            })
        });
        for waited in futures_util::future::join_all(waits).await {
            assert_eq!(waited, Err("the disk is full"));
        }
        assert_eq!(
            runs.load(Ordering::SeqCst),
            3,
            "each tried, none was told it was written"
        );
    }
}
