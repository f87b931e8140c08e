//! Writing a db.json back after changes, as json-server does: the whole
//! database, pretty-printed, to a temporary file in the same directory that
//! is synced and then renamed over the original, so the file is never
//! half-written and a crash leaves the old or the new contents. A change is
//! acknowledged once the file holds it. Snapshots of the data are written on
//! a thread of their own: one taken while another is written waits, and a
//! later one replaces it (it holds the same changes and more); a snapshot
//! older than what the file holds is never written.

use std::io::Write;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use super::pretty::{RecordTexts, Snapshot};

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
    /// The thread that writes snapshots, started by the first.
    writer: Mutex<Option<Writer>>,
    /// The length of the text written last.
    last_length: AtomicUsize,
    /// The records' texts the file holds, for the next write back to copy.
    texts: Mutex<RecordTexts>,
}

#[derive(Debug, Default)]
struct Progress {
    /// The file holds every change whose ticket is this or lower.
    written: u64,
    /// The last write back that failed: the tickets it was to cover, and why.
    failed: Option<(u64, String)>,
}

/// Work for the writer's thread: writing one snapshot.
type Job = Box<dyn FnOnce() + Send>;

/// The writer's thread and the snapshot waiting for it.
#[derive(Debug)]
struct Writer {
    waiting: Arc<Waiting>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[derive(Default)]
struct Waiting {
    state: Mutex<WaitingState>,
    arrived: Condvar,
}

#[derive(Default)]
struct WaitingState {
    /// The latest snapshot's job, not begun.
    next: Option<Job>,
    /// Set once no more come: the thread ends after the one waiting.
    closed: bool,
}

impl std::fmt::Debug for Waiting {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Waiting")
    }
}

impl Waiting {
    fn state(&self) -> MutexGuard<'_, WaitingState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs each job as it arrives, until closed and none waits.
    fn run(&self) {
        loop {
            let job = {
                let mut state = self.state();
                loop {
                    if let Some(job) = state.next.take() {
                        break job;
                    }
                    if state.closed {
                        return;
                    }
                    state = self
                        .arrived
                        .wait(state)
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                }
            };
            // A job that panics has failed its changes (see `Unfinished`);
            // the thread goes on for the next.
            let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
        }
    }

    fn close(&self) {
        self.state().closed = true;
        self.arrived.notify_all();
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Not joined: the last owner may be a job on that very thread.
        self.waiting.close();
    }
}

/// Tells the changes a write back covers that it failed, unless it ended
/// (a panic, a bug, would otherwise leave them waiting).
#[derive(Debug)]
pub struct Unfinished<'a> {
    back: &'a WriteBack,
    covered: u64,
    ended: bool,
}

impl Unfinished<'_> {
    /// Disarms the guard: the changes are answered otherwise.
    pub fn ended(mut self) {
        self.ended = true;
    }
}

impl Drop for Unfinished<'_> {
    fn drop(&mut self) {
        if !self.ended {
            let why = "the change is stored but writing the file failed (a bug in standin)";
            self.back.failed(self.covered, why.to_string());
        }
    }
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
            writer: Mutex::new(None),
            last_length: AtomicUsize::new(0),
            texts: Mutex::new(RecordTexts::default()),
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

    /// Begins a write back, before its snapshot of the data is taken: the
    /// changes counted from now on queue another. Returns the last ticket
    /// given, which it covers.
    pub fn begin(&self) -> u64 {
        self.scheduled.store(false, Ordering::SeqCst);
        self.tickets.load(Ordering::SeqCst)
    }

    /// Records that the file holds every change counted so far, or a later
    /// state that replaced them (the data was read again from the file,
    /// which the caller holds with [`WriteBack::hold`]).
    pub fn superseded(&self) {
        self.written(self.tickets.load(Ordering::SeqCst));
    }

    /// Records that the file holds every change up to `ticket`.
    fn written(&self, ticket: u64) {
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

    /// Runs `job` (the writing of a snapshot) on the writer's thread, in
    /// place of the one waiting there if any: the latest snapshot holds
    /// what the earlier one does.
    pub fn write_later(&self, job: impl FnOnce() + Send + 'static) {
        let mut writer = self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let ended = |writer: &Writer| {
            writer
                .thread
                .as_ref()
                .is_none_or(std::thread::JoinHandle::is_finished)
        };
        if writer.as_ref().is_some_and(ended) {
            *writer = None; // finished: a new thread for what comes after
        }
        if writer.is_none() {
            let waiting = Arc::new(Waiting::default());
            let running = Arc::clone(&waiting);
            let spawned = std::thread::Builder::new()
                .name("db.json writer".into())
                .spawn(move || running.run());
            match spawned {
                Ok(thread) => {
                    *writer = Some(Writer {
                        waiting,
                        thread: Some(thread),
                    })
                }
                Err(error) => {
                    // Written on this thread instead: slower, never lost.
                    tracing::warn!("no thread to write the db.json on ({error}): writing it here");
                    drop(writer);
                    return job();
                }
            }
        }
        let Some(writer) = writer.as_ref() else {
            unreachable!("a writer was made above");
        };
        // Dropped here, the replaced snapshot, not on the writer's thread.
        let _replaced = writer.waiting.state().next.replace(Box::new(job));
        writer.waiting.arrived.notify_one();
    }

    /// Whether a write back is queued and has not begun (see [`WriteBack::begin`]).
    pub fn is_scheduled(&self) -> bool {
        self.scheduled.load(Ordering::SeqCst)
    }

    /// A guard that fails the changes up to `covered` when dropped, unless
    /// [`Unfinished::ended`] says the write back covering them took them on.
    pub fn unfinished(&self, covered: u64) -> Unfinished<'_> {
        Unfinished {
            back: self,
            covered,
            ended: false,
        }
    }

    /// Waits until the snapshot given to [`WriteBack::write_later`] last is
    /// written, and ends the writer's thread.
    pub fn finish(&self) {
        let thread = {
            let mut writer = self
                .writer
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            writer.as_mut().and_then(|writer| {
                writer.waiting.close();
                writer.thread.take()
            })
        };
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }

    /// Writes `database`, a snapshot holding the changes up to ticket
    /// `covered` (see [`WriteBack::begin`]), unless the file holds a later
    /// state already; `noted` is told the text once it is the file's.
    /// The changes it covers are then answered, or told why it failed.
    pub fn write_snapshot(
        &self,
        covered: u64,
        database: &impl Snapshot,
        noted: impl FnOnce(&str),
    ) -> std::io::Result<()> {
        let _held = self.hold();
        if self.progress().written >= covered {
            return Ok(());
        }
        let unfinished = self.unfinished(covered);
        let written = self.write(database, noted);
        unfinished.ended();
        match &written {
            Ok(()) => self.written(covered),
            Err(error) => self.failed(
                covered,
                format!("the change is stored but cannot be written to the file: {error}"),
            ),
        }
        written
    }

    /// Writes `database` to the file atomically (the caller holds
    /// [`WriteBack::hold`]); `noted` is told the text once it is the file's.
    pub fn write(&self, database: &impl Snapshot, noted: impl FnOnce(&str)) -> std::io::Result<()> {
        // Sized as the text written last, so that it is seldom copied to grow.
        let mut bytes = Vec::with_capacity(self.last_length.load(Ordering::Relaxed) + 4096);
        database.write_text(
            &mut bytes,
            &mut self
                .texts
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        bytes.push(b'\n');
        self.last_length.store(bytes.len(), Ordering::Relaxed);
        let text = String::from_utf8(bytes).expect("serde_json writes UTF-8");
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
        // Before the hold ends: the watcher reads the file and this together.
        noted(&text);
        // The rename is durable once the directory is synced.
        if let Ok(handle) = std::fs::File::open(directory) {
            let _ = handle.sync_all();
        }
        Ok(())
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
        back.write(&serde_json::json!({"posts": [{"id": 1}]}), |_| ())
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

    #[actix_web::test]
    async fn a_snapshot_older_than_the_files_contents_is_never_written() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("db.json");
        let back = WriteBack::new(&path);
        let older = back.changed();
        let (newer, covered) = (back.changed(), back.begin());
        let mut noted = Vec::new();
        back.write_snapshot(covered, &serde_json::json!({"v": 2}), |text| {
            noted.push(text.to_string())
        })
        .unwrap();
        back.write_snapshot(older, &serde_json::json!({"v": 1}), |text| {
            noted.push(text.to_string())
        })
        .unwrap();
        assert_eq!(file_contents(&path), serde_json::json!({"v": 2}));
        assert_eq!(noted.len(), 1, "the older one was not written: {noted:?}");
        assert_eq!(noted[0], std::fs::read_to_string(&path).unwrap());
        assert_eq!(back.until_written(newer).await, Ok(()));
        // Superseded: a snapshot taken before the file was read again is left.
        let replaced = back.changed();
        back.superseded();
        back.write_snapshot(replaced, &serde_json::json!({"v": 3}), |_| ())
            .unwrap();
        assert_eq!(file_contents(&path), serde_json::json!({"v": 2}));
        assert_eq!(back.until_written(replaced).await, Ok(()));
    }

    #[test]
    fn the_latest_snapshot_replaces_the_one_waiting_and_the_last_is_written_before_the_end() {
        let back = WriteBack::new(Path::new("unused.json"));
        let ran = Arc::new(Mutex::new(Vec::new()));
        let (started, is_started) = std::sync::mpsc::channel();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let first = Arc::clone(&ran);
        back.write_later(move || {
            started.send(()).unwrap();
            released.recv().unwrap();
            first.lock().unwrap().push("being written");
        });
        is_started.recv().unwrap();
        for name in ["waiting", "replaced it"] {
            let ran = Arc::clone(&ran);
            back.write_later(move || ran.lock().unwrap().push(name));
        }
        release.send(()).unwrap();
        back.finish();
        assert_eq!(*ran.lock().unwrap(), ["being written", "replaced it"]);
    }

    #[actix_web::test]
    async fn a_snapshot_that_panics_fails_its_changes_and_the_next_is_written() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("db.json");
        let back = Arc::new(WriteBack::new(&path));
        let ticket = back.changed();
        let covered = back.begin();
        let panicking = Arc::clone(&back);
        back.write_later(move || {
            let _ = panicking.write_snapshot(covered, &serde_json::json!({}), |_| panic!("a bug"));
        });
        back.finish();
        let failed = back.until_written(ticket).await;
        assert!(failed.unwrap_err().contains("a bug in standin"));
        let next = back.changed();
        let covered = back.begin();
        let writing = Arc::clone(&back);
        back.write_later(move || {
            writing
                .write_snapshot(covered, &serde_json::json!({"v": 1}), |_| ())
                .unwrap()
        });
        back.finish();
        assert_eq!(back.until_written(next).await, Ok(()));
        assert_eq!(file_contents(&path), serde_json::json!({"v": 1}));
    }

    fn file_contents(path: &Path) -> Value {
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }
}
