//! Writing a db.json back after changes, as json-server does: the whole
//! database, pretty-printed, to a temporary file in the same directory that
//! is synced and then renamed over the original, so the file is never
//! half-written and a crash leaves the old or the new contents. A change is
//! acknowledged once the file holds it. Snapshots of the data are written on
//! a thread of their own: one taken while another is written waits, and a
//! later one replaces it (it holds the same changes and more); a snapshot
//! older than what the file holds is never written. A write back that fails
//! fails only the changes it was to write: those an earlier one, still
//! under way, writes are answered by that one. Where a watcher reloads the
//! file, a write back finding it edited since standin read it at the start,
//! last wrote it, or the watcher last handled it, waits for the watcher to
//! handle the edit first, rather than write over it (a reload supersedes
//! the snapshot).

use std::io::Write;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

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
    /// Set by [`WriteBack::finish`]: snapshots are written where they are taken.
    finished: AtomicBool,
    /// The length of the text written last.
    last_length: AtomicUsize,
    /// The records' texts the file holds, for the next write back to copy.
    texts: Mutex<RecordTexts>,
    /// Whether a watcher reloads the file when it is edited (see [`WriteBack::watched`]).
    watched: AtomicBool,
    /// The file as standin read it at the start, last wrote it, or the watcher last handled it.
    known: Mutex<Option<FileState>>,
    /// Wakes a write back waiting for the watcher to handle an edit.
    handled: Condvar,
}

/// What tells one state of a file from another: an edit in place changes
/// its length or time of change, a file saved in its place its inode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileState {
    length: u64,
    modified: Option<SystemTime>,
    #[cfg(unix)]
    inode: (u64, u64),
}

impl FileState {
    fn of(metadata: &std::fs::Metadata) -> FileState {
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt;
        FileState {
            length: metadata.len(),
            modified: metadata.modified().ok(),
            #[cfg(unix)]
            inode: (metadata.dev(), metadata.ino()),
        }
    }

    /// The state of the file at `path`, if there is one.
    pub fn at(path: &Path) -> Option<FileState> {
        std::fs::metadata(path)
            .ok()
            .map(|metadata| FileState::of(&metadata))
    }
}

/// What a write back does about an edit of the file that the watcher has
/// not handled yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnhandledEdit {
    /// Waits (up to [`WriteBack::EDIT_WAIT`]) for the watcher to reload it, or refuse it.
    Wait,
    /// Writes over it: on the store's thread, which a reload waits for,
    /// or where the data replaces the file as a whole (a reset).
    WriteOver,
}

/// Held by the watcher while it reads the file and handles what it read:
/// once dropped, a write back finding the file as it was when the guard
/// was made writes over it. (Taken before the read: a file changed after
/// it stays an edit to handle, which its own event brings.)
#[derive(Debug)]
pub struct Handling<'a> {
    back: &'a WriteBack,
    /// The file's state when the guard was made.
    state: Option<FileState>,
    /// What was known of the file then: a write of standin's since is the newer.
    known_then: Option<FileState>,
}

impl Drop for Handling<'_> {
    fn drop(&mut self) {
        let mut known = self.back.known();
        // A file that was gone is no edit to record: a write back writes it again.
        if let Some(state) = self.state.take()
            && *known == self.known_then
        {
            *known = Some(state);
        }
        drop(known);
        self.back.handled.notify_all();
    }
}

#[derive(Debug, Default)]
struct Progress {
    /// The file holds every change whose ticket is this or lower.
    written: u64,
    /// The last ticket the write back begun last covers.
    begun: u64,
    /// The write backs that failed, with the changes they were to write
    /// and not written since, and why.
    failures: Vec<(Tickets, String)>,
}

/// The changes a write back is to write: those whose tickets are above
/// `after` and up to `upto`. The ones up to `after` are an earlier write
/// back's to write (it may have, may still, or may have failed to).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tickets {
    /// The last ticket an earlier write back covers.
    pub after: u64,
    /// The last ticket this one covers: its snapshot holds every change up to it.
    pub upto: u64,
}

impl Tickets {
    fn hold(&self, ticket: u64) -> bool {
        self.after < ticket && ticket <= self.upto
    }
}

/// Work for the writer's thread: writing one snapshot, which is to write
/// the changes given, doing as said about an edit the watcher has not handled.
type Job = Box<dyn FnOnce(Tickets, UnhandledEdit) + Send>;

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
    /// The latest snapshot's job, not begun, and the changes it is to write.
    next: Option<(Tickets, Job)>,
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
            let (tickets, job) = {
                let mut state = self.state();
                loop {
                    if let Some(next) = state.next.take() {
                        break next;
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
            let _ =
                std::panic::catch_unwind(AssertUnwindSafe(|| job(tickets, UnhandledEdit::Wait)));
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
    tickets: Tickets,
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
            self.back.failed(self.tickets, why.to_string());
        }
    }
}

impl WriteBack {
    /// Writes changes back to the file at `path`.
    pub fn new(path: &Path) -> WriteBack {
        WriteBack::as_read(path, FileState::at(path))
    }

    /// Writes changes back to the file at `path`, which was in `state`
    /// when standin read it: an edit saved since (while the data was
    /// seeded) is one for the watcher to handle, not to write over.
    pub fn as_read(path: &Path, state: Option<FileState>) -> WriteBack {
        WriteBack {
            path: path.to_path_buf(),
            lock: Mutex::new(()),
            tickets: AtomicU64::new(0),
            scheduled: AtomicBool::new(false),
            progress: Mutex::new(Progress::default()),
            ended: tokio::sync::Notify::new(),
            writer: Mutex::new(None),
            finished: AtomicBool::new(false),
            last_length: AtomicUsize::new(0),
            texts: Mutex::new(RecordTexts::default()),
            watched: AtomicBool::new(false),
            known: Mutex::new(state),
            handled: Condvar::new(),
        }
    }

    /// How long a write back waits at most for the watcher to handle an
    /// edit (a reload of a large file takes seconds); then it writes.
    pub const EDIT_WAIT: Duration = Duration::from_secs(10);

    /// Says that a watcher reloads the file when it is edited: a write
    /// back then waits for it to handle an edit, rather than write over it.
    pub fn watched(&self) {
        self.watched.store(true, Ordering::SeqCst);
    }

    /// Says that the watcher stopped: a write back waiting for it writes now.
    pub fn unwatched(&self) {
        self.watched.store(false, Ordering::SeqCst);
        self.edit_handled();
    }

    /// Wakes the write backs waiting for the watcher, to look at the file again.
    fn edit_handled(&self) {
        let _known = self.known();
        self.handled.notify_all();
    }

    /// Begins the watcher's handling of the file, just before it reads it
    /// (the caller holds [`WriteBack::hold`]); write backs that find the
    /// file so wait until the guard is dropped, once what was read is
    /// reloaded or refused.
    pub fn handling(&self) -> Handling<'_> {
        Handling {
            back: self,
            state: FileState::at(&self.path),
            known_then: self.known().clone(),
        }
    }

    fn known(&self) -> MutexGuard<'_, Option<FileState>> {
        self.known
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether the file was edited since it was `known` (as standin read it
    /// at the start, wrote it, or the watcher handled it last), and the
    /// watcher is to handle that edit.
    fn edit_unhandled(&self, known: &Option<FileState>) -> bool {
        self.watched.load(Ordering::SeqCst)
            // A file gone is written again.
            && FileState::at(&self.path).is_some_and(|now| known.as_ref() != Some(&now))
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
    /// changes counted from now on queue another. Returns the changes it is
    /// to write: those counted since the write back begun before it.
    pub fn begin(&self) -> Tickets {
        self.scheduled.store(false, Ordering::SeqCst);
        let upto = self.tickets.load(Ordering::SeqCst);
        let after = std::mem::replace(&mut self.progress().begun, upto);
        Tickets { after, upto }
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
            // Their changes are answered as written now.
            let written = progress.written;
            progress
                .failures
                .retain(|(tickets, _)| tickets.upto > written);
        }
        self.ended.notify_waiters();
    }

    /// Records that the write back meant to write the changes `tickets` failed, and why.
    pub fn failed(&self, tickets: Tickets, why: String) {
        {
            let mut progress = self.progress();
            match progress.failures.last_mut() {
                // The same failure again (a disk still full): one range.
                Some((last, same)) if *same == why && last.upto >= tickets.after => {
                    last.after = last.after.min(tickets.after);
                    last.upto = last.upto.max(tickets.upto);
                }
                _ => progress.failures.push((tickets, why)),
            }
        }
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
                let mut failures = progress.failures.iter().rev();
                if let Some((_, why)) = failures.find(|(tickets, _)| tickets.hold(ticket)) {
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

    /// Runs `job`, the writing of a snapshot meant to write the changes
    /// `tickets`, on the writer's thread, in place of the one waiting there
    /// if any: the latest snapshot holds what the earlier one does, and
    /// takes on writing its changes. After [`WriteBack::finish`], runs it
    /// here, writing over an edit the watcher has not handled (the caller
    /// is the store's thread, which a reload waits for).
    pub fn write_later(
        &self,
        tickets: Tickets,
        job: impl FnOnce(Tickets, UnhandledEdit) + Send + 'static,
    ) {
        let mut writer = self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if self.finished.load(Ordering::SeqCst) {
            drop(writer);
            return job(tickets, UnhandledEdit::WriteOver);
        }
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
                    return job(tickets, UnhandledEdit::WriteOver);
                }
            }
        }
        let Some(writer) = writer.as_ref() else {
            unreachable!("a writer was made above");
        };
        let mut state = writer.waiting.state();
        let tickets = match &state.next {
            Some((replaced, _)) => Tickets {
                after: replaced.after.min(tickets.after),
                ..tickets
            },
            None => tickets,
        };
        // Dropped here, the replaced snapshot, not on the writer's thread.
        let _replaced = state.next.replace((tickets, Box::new(job)));
        drop(state);
        writer.waiting.arrived.notify_one();
    }

    /// Whether a write back is queued and has not begun (see [`WriteBack::begin`]).
    pub fn is_scheduled(&self) -> bool {
        self.scheduled.load(Ordering::SeqCst)
    }

    /// A guard that fails the changes `tickets` when dropped, unless
    /// [`Unfinished::ended`] says the write back meant to write them took them on.
    pub fn unfinished(&self, tickets: Tickets) -> Unfinished<'_> {
        Unfinished {
            back: self,
            tickets,
            ended: false,
        }
    }

    /// Waits until the snapshot given to [`WriteBack::write_later`] last is
    /// written (after the watcher handled an edit it waits for), and ends
    /// the writer's thread; later snapshots are written where they are taken.
    pub fn finish(&self) {
        let thread = {
            let mut writer = self
                .writer
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            self.finished.store(true, Ordering::SeqCst);
            writer.as_mut().and_then(|writer| {
                writer.waiting.close();
                writer.thread.take()
            })
        };
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }

    /// Writes `database`, a snapshot meant to write the changes `tickets`
    /// (see [`WriteBack::begin`]) and holding every one up to `tickets.upto`,
    /// unless the file holds a later state already (which a reload of an
    /// edit it waited for may make it); `noted` is told the text once it is
    /// the file's. The changes are then answered, or told why it failed.
    pub fn write_snapshot(
        &self,
        tickets: Tickets,
        database: &impl Snapshot,
        edit: UnhandledEdit,
        noted: impl FnOnce(&str),
    ) -> std::io::Result<()> {
        let unfinished = self.unfinished(tickets);
        // Set once it first waits: the time it waited for the file's hold
        // (a reload of a large file holds it for seconds) is no wait for the watcher.
        let mut deadline = None;
        let mut edit = edit;
        let mut held = self.hold();
        let mut prepared = None;
        let written = loop {
            if self.progress().written >= tickets.upto {
                unfinished.ended();
                return Ok(());
            }
            if self.waits_for_watcher(&mut edit, &mut deadline) {
                // Not held while waiting: the watcher reads the file and reloads it meanwhile.
                drop(held);
                let known = self.known();
                // Looked at again under the lock the watcher's end takes: no wake-up is missed.
                if self.edit_unhandled(&known) {
                    let timeout = deadline.map_or(WriteBack::EDIT_WAIT, |deadline| {
                        deadline.saturating_duration_since(Instant::now())
                    });
                    drop(self.handled.wait_timeout(known, timeout));
                } else {
                    drop(known);
                }
                held = self.hold();
                continue;
            }
            let ready = match prepared.take() {
                Some(ready) => ready,
                None => match self.prepare(database) {
                    Ok(ready) => ready,
                    Err(error) => break Err(error),
                },
            };
            // Looked at again once the text is ready (a large file takes a
            // while to write and sync): an edit saved meanwhile is waited
            // for too, and the text kept for after.
            if self.waits_for_watcher(&mut edit, &mut deadline) {
                prepared = Some(ready);
                continue;
            }
            break self.put_in_place(ready, noted);
        };
        unfinished.ended();
        match &written {
            Ok(()) => self.written(tickets.upto),
            Err(error) => self.failed(
                tickets,
                format!("the change is stored but cannot be written to the file: {error}"),
            ),
        }
        written
    }

    /// Whether a write back is to wait for the watcher now: it waits for
    /// an edit not handled yet, until its `deadline` (set as it first
    /// waits, [`WriteBack::EDIT_WAIT`] ahead), past which it writes over
    /// (and `edit` says so from then on).
    fn waits_for_watcher(&self, edit: &mut UnhandledEdit, deadline: &mut Option<Instant>) -> bool {
        if *edit == UnhandledEdit::WriteOver || !self.edit_unhandled(&self.known()) {
            return false;
        }
        let deadline = *deadline.get_or_insert_with(|| Instant::now() + WriteBack::EDIT_WAIT);
        if Instant::now() < deadline {
            return true;
        }
        tracing::warn!(
            "{} was edited and not reloaded within {}s: writing the data over it",
            self.path.display(),
            WriteBack::EDIT_WAIT.as_secs()
        );
        *edit = UnhandledEdit::WriteOver;
        false
    }

    /// Writes `database` to the file atomically (the caller holds
    /// [`WriteBack::hold`]); `noted` is told the text once it is the file's.
    pub fn write(&self, database: &impl Snapshot, noted: impl FnOnce(&str)) -> std::io::Result<()> {
        let ready = self.prepare(database)?;
        self.put_in_place(ready, noted)
    }

    /// Writes `database`'s text to a temporary file beside the file, synced.
    fn prepare(&self, database: &impl Snapshot) -> std::io::Result<Prepared> {
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
        let mut temporary = tempfile::Builder::new()
            .prefix(".standin-")
            .suffix(".tmp")
            .tempfile_in(self.directory())?;
        temporary.write_all(text.as_bytes())?;
        temporary.as_file().sync_all()?;
        let state = temporary
            .as_file()
            .metadata()
            .map(|metadata| FileState::of(&metadata))
            .ok();
        Ok(Prepared {
            temporary,
            text,
            state,
        })
    }

    /// Renames a prepared text into the file's place (the caller holds
    /// [`WriteBack::hold`]); `noted` is told the text once it is the file's.
    fn put_in_place(&self, ready: Prepared, noted: impl FnOnce(&str)) -> std::io::Result<()> {
        ready
            .temporary
            .persist(&self.path)
            .map_err(|error| error.error)?;
        *self.known() = ready.state;
        // A write back waiting for the watcher finds the file standin's now.
        self.handled.notify_all();
        // Before the hold ends: the watcher reads the file and this together.
        noted(&ready.text);
        // The rename is durable once the directory is synced.
        if let Ok(handle) = std::fs::File::open(self.directory()) {
            let _ = handle.sync_all();
        }
        Ok(())
    }

    /// The directory the file is in, where its temporary files are made.
    fn directory(&self) -> &Path {
        self.path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    }
}

/// A snapshot's text, written and synced in a temporary file beside the
/// file, ready to take its place.
struct Prepared {
    temporary: tempfile::NamedTempFile,
    text: String,
    /// The temporary file's state, the file's once renamed.
    state: Option<FileState>,
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
            assert_eq!(
                covered,
                Tickets {
                    after: 0,
                    upto: second
                }
            );
            // A change made while the file is written queues the next one.
            let third = back.changed();
            assert!(back.schedule());
            back.written(covered.upto);
            third
        };
        let (waited, third) = tokio::join!(futures_util::future::join_all(waiting), writing);
        assert_eq!(waited, [Ok(()), Ok(())]);
        let late = tokio::time::timeout(Duration::from_millis(20), back.until_written(third));
        assert!(late.await.is_err(), "not written yet");
        let covered = back.begin();
        assert_eq!(
            covered,
            Tickets {
                after: second,
                upto: third
            }
        );
        back.written(covered.upto);
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
            back.written(covered.upto);
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
        let older = Tickets {
            after: 0,
            upto: back.changed(),
        };
        let (newer, covered) = (back.changed(), back.begin());
        let mut noted = Vec::new();
        back.write_snapshot(
            covered,
            &serde_json::json!({"v": 2}),
            UnhandledEdit::Wait,
            |text| noted.push(text.to_string()),
        )
        .unwrap();
        back.write_snapshot(
            older,
            &serde_json::json!({"v": 1}),
            UnhandledEdit::Wait,
            |text| noted.push(text.to_string()),
        )
        .unwrap();
        assert_eq!(file_contents(&path), serde_json::json!({"v": 2}));
        assert_eq!(noted.len(), 1, "the older one was not written: {noted:?}");
        assert_eq!(noted[0], std::fs::read_to_string(&path).unwrap());
        assert_eq!(back.until_written(newer).await, Ok(()));
        // Superseded: a snapshot taken before the file was read again is left.
        let replaced = back.changed();
        let tickets = back.begin();
        back.superseded();
        back.write_snapshot(
            tickets,
            &serde_json::json!({"v": 3}),
            UnhandledEdit::Wait,
            |_| (),
        )
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
        back.changed();
        back.write_later(back.begin(), move |tickets, edit| {
            started.send(()).unwrap();
            released.recv().unwrap();
            first.lock().unwrap().push(("being written", tickets, edit));
        });
        is_started.recv().unwrap();
        for name in ["waiting", "replaced it"] {
            let ran = Arc::clone(&ran);
            back.changed();
            back.write_later(back.begin(), move |tickets, edit| {
                ran.lock().unwrap().push((name, tickets, edit))
            });
        }
        release.send(()).unwrap();
        back.finish();
        // The one that replaced the waiting one writes its changes too.
        let wait = UnhandledEdit::Wait;
        let written = [
            ("being written", Tickets { after: 0, upto: 1 }, wait),
            ("replaced it", Tickets { after: 1, upto: 3 }, wait),
        ];
        assert_eq!(*ran.lock().unwrap(), written);
        // After the end, a snapshot is written where it is taken, without waiting.
        let here = std::thread::current().id();
        let (sender, ran_on) = std::sync::mpsc::channel();
        back.write_later(back.begin(), move |_, edit| {
            sender.send((std::thread::current().id(), edit)).unwrap()
        });
        assert_eq!(ran_on.try_recv(), Ok((here, UnhandledEdit::WriteOver)));
    }

    #[actix_web::test]
    async fn a_failure_fails_only_the_changes_no_write_back_under_way_is_to_write() {
        let back = WriteBack::new(Path::new("unused.json"));
        let first = back.changed();
        let under_way = back.begin();
        let second = back.changed();
        // Its snapshot cannot be taken while the first one is being written.
        back.failed(back.begin(), "cannot read the data".into());
        let failed = Err("cannot read the data".to_string());
        assert_eq!(back.until_written(second).await, failed);
        let waiting = tokio::time::timeout(Duration::from_millis(20), back.until_written(first));
        assert!(waiting.await.is_err(), "the first write back decides");
        back.written(under_way.upto);
        assert_eq!(back.until_written(first).await, Ok(()));
        // A reset's own write back fails beside a queued one: the queued one decides its own.
        let third = back.changed();
        let queued = back.begin();
        let reset = back.changed();
        back.failed(back.begin(), "the disk is full".into());
        assert!(back.until_written(reset).await.is_err());
        let waiting = tokio::time::timeout(Duration::from_millis(20), back.until_written(third));
        assert!(waiting.await.is_err(), "the queued write back decides");
        back.written(queued.upto);
        assert_eq!(back.until_written(third).await, Ok(()));
    }

    #[actix_web::test]
    async fn a_snapshot_that_panics_fails_its_changes_and_the_next_is_written() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("db.json");
        let back = Arc::new(WriteBack::new(&path));
        let ticket = back.changed();
        let panicking = Arc::clone(&back);
        back.write_later(back.begin(), move |tickets, edit| {
            let _ = panicking
                .write_snapshot(tickets, &serde_json::json!({}), edit, |_| panic!("a bug"));
        });
        back.finish();
        let failed = back.until_written(ticket).await;
        assert!(failed.unwrap_err().contains("a bug in standin"));
        let next = back.changed();
        let writing = Arc::clone(&back);
        back.write_later(back.begin(), move |tickets, edit| {
            writing
                .write_snapshot(tickets, &serde_json::json!({"v": 1}), edit, |_| ())
                .unwrap()
        });
        assert_eq!(back.until_written(next).await, Ok(()));
        assert_eq!(file_contents(&path), serde_json::json!({"v": 1}));
    }

    #[test]
    fn a_write_back_waits_for_the_watcher_to_handle_an_edit_rather_than_write_over_it() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("db.json");
        std::fs::write(&path, "{}").unwrap();
        let back = Arc::new(WriteBack::new(&path));
        back.watched();
        let write = |value: Value, edit: UnhandledEdit| write_in_background(&back, value, edit);
        // The file as standin read it, then as it wrote it: no wait.
        ends(write(serde_json::json!({"v": 1}), UnhandledEdit::Wait));
        ends(write(serde_json::json!({"v": 2}), UnhandledEdit::Wait));
        // Edited by hand: the write back waits; the watcher reloads the edit,
        // which supersedes the snapshot.
        std::fs::write(&path, r#"{"v": "edited"}"#).unwrap();
        let written = write(serde_json::json!({"v": 3}), UnhandledEdit::Wait);
        waits(&written);
        {
            let _held = back.hold();
            let _handling = back.handling();
            back.superseded();
        }
        ends(written);
        assert_eq!(file_contents(&path), serde_json::json!({"v": "edited"}));
        // An edit the watcher refuses is written over once refused.
        std::fs::write(&path, "{ not json").unwrap();
        let written = write(serde_json::json!({"v": 4}), UnhandledEdit::Wait);
        waits(&written);
        drop((back.hold(), back.handling()));
        ends(written);
        assert_eq!(file_contents(&path), serde_json::json!({"v": 4}));
        // A file gone when the watcher looks is written again once it has looked.
        std::fs::write(&path, r#"{"v": "to be deleted"}"#).unwrap();
        let written = write(serde_json::json!({"v": "again"}), UnhandledEdit::Wait);
        waits(&written);
        std::fs::remove_file(&path).unwrap();
        drop((back.hold(), back.handling()));
        ends(written);
        assert_eq!(file_contents(&path), serde_json::json!({"v": "again"}));
        // A reset writes over an edit at once.
        std::fs::write(&path, r#"{"v": "again"}"#).unwrap();
        ends(write(serde_json::json!({"v": 5}), UnhandledEdit::WriteOver));
        assert_eq!(file_contents(&path), serde_json::json!({"v": 5}));
        // Once the watcher stops, the write back waiting for it writes.
        std::fs::write(&path, r#"{"v": "unwatched"}"#).unwrap();
        let written = write(serde_json::json!({"v": 6}), UnhandledEdit::Wait);
        waits(&written);
        back.unwatched();
        ends(written);
        assert_eq!(file_contents(&path), serde_json::json!({"v": 6}));
    }

    #[test]
    fn an_edit_saved_while_a_write_back_prepares_its_text_is_waited_for_too() {
        /// A snapshot during whose writing the file is saved by hand.
        struct EditedMeanwhile(PathBuf);
        impl Snapshot for EditedMeanwhile {
            fn write_text(&self, out: &mut Vec<u8>, _: &mut RecordTexts) {
                let saved = self.0.with_extension("saved");
                std::fs::write(&saved, r#"{"v": "edited"}"#).unwrap();
                std::fs::rename(&saved, &self.0).unwrap();
                out.extend_from_slice(br#"{"v": "standin's"}"#);
            }
        }
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("db.json");
        std::fs::write(&path, "{}").unwrap();
        let back = Arc::new(WriteBack::new(&path));
        back.watched();
        let snapshot = EditedMeanwhile(path.clone());
        let written = write_in_background(&back, snapshot, UnhandledEdit::Wait);
        waits(&written);
        assert_eq!(file_contents(&path), serde_json::json!({"v": "edited"}));
        // The watcher reloads the edit, which supersedes the snapshot.
        {
            let _held = back.hold();
            let _handling = back.handling();
            back.superseded();
        }
        ends(written);
        assert_eq!(file_contents(&path), serde_json::json!({"v": "edited"}));
        let leftovers = std::fs::read_dir(directory.path()).unwrap().count();
        assert_eq!(leftovers, 1, "the text not written is not left behind");
    }

    #[test]
    fn an_edit_saved_after_the_file_was_read_at_the_start_is_not_written_over() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("db.json");
        std::fs::write(&path, r#"{"v": 0}"#).unwrap();
        let read_as = FileState::at(&path);
        // Saved while the data read was seeded.
        std::fs::write(&path, r#"{"v": "edited at the start"}"#).unwrap();
        let back = Arc::new(WriteBack::as_read(&path, read_as));
        back.watched();
        let written = write_in_background(&back, serde_json::json!({"v": 1}), UnhandledEdit::Wait);
        waits(&written);
        back.unwatched();
        ends(written);
        assert_eq!(file_contents(&path), serde_json::json!({"v": 1}));
    }

    /// Counts a change and writes `snapshot` for it on a thread of its
    /// own; the answer hears once it is written.
    fn write_in_background(
        back: &Arc<WriteBack>,
        snapshot: impl Snapshot + Send + 'static,
        edit: UnhandledEdit,
    ) -> std::sync::mpsc::Receiver<()> {
        back.changed();
        let (tickets, writing) = (back.begin(), Arc::clone(back));
        let (done, written) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            writing
                .write_snapshot(tickets, &snapshot, edit, |_| ())
                .unwrap();
            done.send(()).unwrap();
        });
        written
    }

    /// Asserts that the write back under way is waiting (for the watcher).
    fn waits(written: &std::sync::mpsc::Receiver<()>) {
        let waited = written.recv_timeout(Duration::from_millis(100));
        assert!(waited.is_err(), "it waits for the watcher");
    }

    /// Waits for the write back under way to end.
    fn ends(written: std::sync::mpsc::Receiver<()>) {
        written.recv_timeout(Duration::from_secs(5)).unwrap();
    }

    fn file_contents(path: &Path) -> Value {
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }
}
