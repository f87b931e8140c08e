//! The threads that own the store and run every operation on it. One thread
//! owns the writing connection and runs requests' writes, reloads, resets
//! and the in-process API's operations one at a time, in the order they
//! arrive, off the async workers: no lock to take, and no context switch to
//! pass one on. Long writes (a reload's seeding) run the operations that
//! arrived meanwhile between their steps. Beside it, a few reading threads,
//! each with a connection of its own, run read-only operations, each in one
//! read transaction, in parallel with each other and with the writes (WAL
//! lets them). A read of one record is first tried where it is asked for,
//! on the async worker's own thread, on a reading connection kept for that:
//! it takes microseconds, less than handing it to another thread and back
//! costs. One that runs longer than [`BRIEF_READ`] is stopped and given to
//! the reading threads, so that no worker is held up for long; so are pages,
//! whose reading and writing take longer, and which a reading thread runs
//! while the worker goes on with its connections. Reading connections keep
//! their read transaction open while nothing commits (see
//! [`Store::run_read`]); the writer's thread ends those left open by idle
//! connections once something has. An operation that must see no other
//! half-done ([`exclusively`]: a reload, a reset) keeps the readers out
//! while it runs; reads then go to the writer's thread, which runs them
//! between its steps.

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use crate::store::Store;

type Job = Box<dyn FnOnce(&Store) + Send>;

/// A write that may share its transaction with the writes queued beside it
/// (group commit): it runs, and gives back what answers it once the group's
/// transaction has committed (`true`) or failed (`false`).
type GroupedJob = Box<dyn FnOnce(&Store) -> Deliver + Send>;

/// Answers a grouped write, once its group's commit has succeeded or failed.
type Deliver = Box<dyn FnOnce(bool) + Send>;

/// What the writer's thread runs.
enum Work {
    /// An operation run on its own.
    Alone(Job),
    /// A write committed together with the writes queued beside it.
    Grouped(GroupedJob),
}

/// The most writes committed in one transaction.
const MAX_GROUP: usize = 256;

/// A read-only operation: run on a reading connection (`Some`), it answers,
/// or gives back the job that runs it again on the writer's (when it needs
/// a write, as a first query's index); given none, it gives that job at once.
type ReadJob = Box<dyn FnOnce(Option<&Store>) -> Option<Job> + Send>;

/// The most operations waiting for the thread; more are answered `503` at once.
pub const MAX_QUEUED: usize = 1024;

/// The most reading threads, whatever the number of cores.
const MAX_READERS: usize = 16;

/// How long a read may run on the thread that asks for it (an async
/// worker, which serves other connections too) before it is stopped and
/// run on a reading thread instead.
const BRIEF_READ: std::time::Duration = std::time::Duration::from_micros(500);

/// What a read reads, which decides where it runs first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    /// One record (and what it embeds): first on the thread asking for it.
    Record,
    /// A page of records: on a reading thread.
    Page,
}

/// Why a store operation was not run, or ended without an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unavailable {
    /// [`MAX_QUEUED`] operations are waiting already.
    #[error("more operations are waiting for the store than it queues ({MAX_QUEUED})")]
    Busy,
    /// The thread has ended.
    #[error("the store has shut down")]
    ShutDown,
    /// The operation panicked (a bug): its transaction rolled back.
    #[error("the store operation failed")]
    Failed,
}

/// What keeps the readers out while an operation runs [`exclusively`].
#[derive(Debug, Default)]
struct Gate {
    /// Read by each reader for one operation, written by the writer's thread.
    lock: parking_lot::RwLock<()>,
    /// Set while the writer holds (or waits for) the lock: reads go to it.
    closed: AtomicBool,
}

thread_local! {
    /// The gate of the store whose writing thread this is.
    static GATE: RefCell<Option<Arc<Gate>>> = const { RefCell::new(None) };
    /// Whether this thread runs an operation exclusively now.
    static EXCLUSIVE: Cell<bool> = const { Cell::new(false) };
}

/// Runs `work` (on the store's writing thread) with no reader running: the
/// readers finish what they run, and the reads that come meanwhile go to
/// the writer's thread, which runs them between the steps of a long write,
/// as it runs other operations. For what readers must never see half-done:
/// a reload (tables, seeding, defaults, the spec swapped), a reset, a write
/// on a replaced spec and its defaults. Elsewhere (or nested) it just runs `work`.
pub(crate) fn exclusively<T>(work: impl FnOnce() -> T) -> T {
    let Some(gate) = GATE.with(|slot| slot.borrow().clone()) else {
        return work();
    };
    if EXCLUSIVE.get() {
        return work();
    }
    /// Opens the gate again however `work` ends.
    struct Open<'a>(&'a Gate, Option<parking_lot::RwLockWriteGuard<'a, ()>>);
    impl Drop for Open<'_> {
        fn drop(&mut self) {
            EXCLUSIVE.set(false);
            drop(self.1.take());
            self.0.closed.store(false, Ordering::SeqCst);
        }
    }
    gate.closed.store(true, Ordering::SeqCst);
    let held = gate.lock.write();
    EXCLUSIVE.set(true);
    let _open = Open(&gate, Some(held));
    work()
}

/// The reading threads, and where their operations queue.
#[derive(Debug)]
struct Readers {
    jobs: Option<mpsc::SyncSender<ReadJob>>,
    threads: Vec<std::thread::JoinHandle<()>>,
    connections: Arc<ReadingConnections>,
}

/// The reading connections.
#[derive(Debug)]
struct ReadingConnections {
    /// Each reading thread's own, held by it while it runs an operation.
    threads: Vec<Mutex<Store>>,
    /// Those not in use for reads run where they are asked for (one per
    /// core: one for each async worker reading at once).
    idle: Mutex<Vec<Store>>,
}

impl ReadingConnections {
    /// Ends the read transactions that connections not in use left open,
    /// if something has committed since (see [`Store::run_read`]): run by
    /// the writer's thread, which they would otherwise keep from
    /// checkpointing (the log would grow).
    fn end_stale_snapshots(&self) {
        for store in &self.threads {
            if let Ok(store) = store.try_lock() {
                store.end_stale_snapshot();
            }
        }
        if let Ok(stores) = self.idle.try_lock() {
            for store in stores.iter() {
                store.end_stale_snapshot();
            }
        }
    }
}

/// The most operations the writer's thread runs between two looks at the
/// idle reading connections' read transactions, when it is never idle.
const SNAPSHOTS_LOOKED_AT_EVERY: usize = 64;

impl Drop for Readers {
    /// Ends the reading threads once the operations queued have run.
    fn drop(&mut self) {
        drop(self.jobs.take());
        for thread in self.threads.drain(..) {
            if thread.thread().id() != std::thread::current().id() {
                let _ = thread.join();
            }
        }
    }
}

/// A thread running store operations in arrival order, with reading threads
/// beside it; they end when this is dropped.
#[derive(Debug)]
pub(crate) struct StoreThread {
    /// Read-only operations' threads; `None` when no reader could open.
    readers: Option<Readers>,
    /// Where operations queue; `None` once the thread is told to end.
    jobs: Option<mpsc::SyncSender<Work>>,
    /// How many operations are queued (counted before they are sent, so at
    /// times one more than the queue holds).
    queued: Arc<AtomicUsize>,
    /// What keeps the readers out of an exclusive operation.
    gate: Arc<Gate>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for StoreThread {
    /// Ends the threads once the operations queued have run, and waits for
    /// them, so that the store is closed (and its database file free) when
    /// this returns. (Dropped on the thread itself, it cannot wait for it.)
    fn drop(&mut self) {
        // The readers first: they may pass operations on to the writer.
        drop(self.readers.take());
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take()
            && thread.thread().id() != std::thread::current().id()
        {
            let _ = thread.join();
        }
    }
}

impl StoreThread {
    /// Starts the thread, which owns `store` from now on, taking up to
    /// [`MAX_QUEUED`] waiting operations, and a reading thread per core.
    pub(crate) fn start(store: Store) -> StoreThread {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        // `STANDIN_READERS` sets how many (0: every read on the writer's thread).
        let readers = std::env::var("STANDIN_READERS")
            .ok()
            .and_then(|count| count.trim().parse::<usize>().ok())
            .unwrap_or(cores)
            .min(MAX_READERS);
        StoreThread::with_bound(store, MAX_QUEUED, readers)
    }

    /// Starts the thread, which owns `store` from now on and runs its reads
    /// too (a session's store: a copy in memory no other connection opens).
    pub(crate) fn without_readers(store: Store) -> StoreThread {
        StoreThread::with_bound(store, MAX_QUEUED, 0)
    }

    fn with_bound(store: Store, bound: usize, readers: usize) -> StoreThread {
        let (jobs, queue) = mpsc::sync_channel::<Work>(bound);
        let queued = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(Gate::default());
        let readers = start_readers(&store, readers, bound, &gate, &jobs, &queued);
        let connections = readers
            .as_ref()
            .map(|readers| Arc::clone(&readers.connections));
        let count = Arc::clone(&queued);
        let own_gate = Arc::clone(&gate);
        let thread = std::thread::Builder::new()
            .name("standin-store".into())
            .spawn(move || {
                GATE.with(|slot| *slot.borrow_mut() = Some(own_gate));
                let queue = Rc::new(queue);
                let (waiting, counted) = (Rc::clone(&queue), Arc::clone(&count));
                // Only the operations queued when the step ended: those that
                // keep arriving (each client's next request) wait for the
                // next step, so that the long write goes on under load.
                crate::store::between_steps(move |store| {
                    for _ in 0..counted.load(Ordering::SeqCst) {
                        let Ok(work) = waiting.try_recv() else {
                            break;
                        };
                        counted.fetch_sub(1, Ordering::SeqCst);
                        match work {
                            Work::Alone(job) => run(job, store),
                            // Outside any transaction: its own.
                            Work::Grouped(job) => {
                                if let Some(deliver) = run_member(job, store) {
                                    store.settle();
                                    deliver(true);
                                }
                            }
                        }
                    }
                });
                let mut unlooked = 0;
                while let Ok(work) = queue.recv() {
                    count.fetch_sub(1, Ordering::SeqCst);
                    let mut next = Some(work);
                    while let Some(work) = next.take() {
                        match work {
                            Work::Alone(job) => run(job, &store),
                            Work::Grouped(job) => next = run_group(job, &queue, &count, &store),
                        }
                        unlooked += 1;
                    }
                    if let Some(connections) = &connections
                        && (unlooked >= SNAPSHOTS_LOOKED_AT_EVERY
                            || count.load(Ordering::SeqCst) == 0)
                    {
                        connections.end_stale_snapshots();
                        unlooked = 0;
                    }
                }
            })
            .expect("the operating system starts a thread");
        StoreThread {
            readers,
            jobs: Some(jobs),
            queued,
            gate,
            thread: Some(thread),
        }
    }

    /// Queues `job` for the writer's thread, or says why not.
    fn queue(&self, job: Work) -> Result<(), Unavailable> {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let queued = match &self.jobs {
            Some(jobs) => jobs.try_send(job).map_err(|error| match error {
                mpsc::TrySendError::Full(_) => Unavailable::Busy,
                mpsc::TrySendError::Disconnected(_) => Unavailable::ShutDown,
            }),
            None => Err(Unavailable::ShutDown),
        };
        if queued.is_err() {
            self.queued.fetch_sub(1, Ordering::SeqCst);
        }
        queued
    }

    /// Queues `operation` for the thread, with nobody waiting for it (or
    /// refuses it at once when the queue is full): for work an operation
    /// leaves to follow it.
    pub(crate) fn queue_after(
        &self,
        operation: impl FnOnce(&Store) + Send + 'static,
    ) -> Result<(), Unavailable> {
        self.queue(Work::Alone(Box::new(move |store| {
            operation(store);
            store.settle();
        })))
    }

    /// Queues `operation` for the thread (or refuses it at once when the
    /// queue is full); the future answers its result.
    pub(crate) fn run<T, E, F>(
        &self,
        operation: F,
    ) -> impl std::future::Future<Output = Result<T, E>> + use<T, E, F>
    where
        T: Send + 'static,
        E: From<Unavailable> + Send + 'static,
        F: FnOnce(&Store) -> Result<T, E> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |store| {
            let answer = operation(store);
            // Answered once settled, as grouped writes are: a read after
            // the answer then never reads in a transaction kept from before
            // (see `Store::run_read`).
            store.settle();
            // The request may have gone (its client hung up): nobody to tell.
            let _ = reply.send(answer);
        });
        let queued = self.queue(Work::Alone(job));
        answered(queued, answer)
    }

    /// Queues the write `operation` for the thread, as [`StoreThread::run`]
    /// does, to be committed together with the writes queued beside it (one
    /// transaction, one sync to disk with `--db`): each in a savepoint of its
    /// own, so one write's failure fails no other; each answered only once
    /// the group has committed (a failed commit fails them all).
    pub(crate) fn write<T, E, F>(
        &self,
        operation: F,
    ) -> impl std::future::Future<Output = Result<T, E>> + use<T, E, F>
    where
        T: Send + 'static,
        E: From<Unavailable> + Send + 'static,
        F: FnOnce(&Store) -> Result<T, E> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: GroupedJob = Box::new(move |store| {
            let answer = operation(store);
            Box::new(move |committed| {
                let answer = match answer {
                    Ok(_) if !committed => Err(E::from(Unavailable::Failed)),
                    answer => answer,
                };
                let _ = reply.send(answer);
            })
        });
        let queued = self.queue(Work::Grouped(job));
        answered(queued, answer)
    }

    /// Runs the read-only `operation`, which reads what `reach` says, in
    /// one read transaction: a record's first here, if it ends within
    /// [`BRIEF_READ`]; else on a reading thread (or the writer's, while an
    /// operation runs exclusively, or when it needs a write), refused at
    /// once when the queue is full. The future answers its result.
    pub(crate) fn read<T, E, F>(
        &self,
        reach: Reach,
        operation: F,
    ) -> impl std::future::Future<Output = Result<T, E>> + use<T, E, F>
    where
        T: Send + 'static,
        E: From<Unavailable> + Send + 'static,
        F: Fn(&Store) -> Result<T, E> + Send + 'static,
    {
        let here = match reach {
            Reach::Record => self.read_briefly_here(&operation),
            Reach::Page => None,
        };
        let pending = match here {
            Some(answer) => Err(answer),
            None => Ok(self.queue_read(operation)),
        };
        async move {
            match pending {
                Err(answered_here) => answered_here,
                Ok(queued) => queued.await,
            }
        }
    }

    /// Runs the read-only `operation` on this thread, in one read
    /// transaction on an idle reading connection, if it ends within
    /// [`BRIEF_READ`]; `None` when it did not (its answer dropped), or when
    /// no connection is idle, or readers are kept out.
    fn read_briefly_here<T, E, F>(&self, operation: &F) -> Option<Result<T, E>>
    where
        E: From<Unavailable>,
        F: Fn(&Store) -> Result<T, E>,
    {
        let readers = self.readers.as_ref()?;
        if self.gate.closed.load(Ordering::SeqCst) {
            return None;
        }
        let open = self.gate.lock.try_read()?;
        let reader = readers
            .connections
            .idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop()?;
        let ran = catch_unwind(AssertUnwindSafe(|| {
            reader.run_read(Some(BRIEF_READ), || operation(&reader))
        }));
        drop(open);
        let needs_writer = reader.take_needs_writer();
        readers
            .connections
            .idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(reader);
        match ran {
            Ok(Some(answer)) if !needs_writer => Some(answer),
            Ok(_) => None,
            // A panic (a bug): its transaction has ended.
            Err(_) => Some(Err(E::from(Unavailable::Failed))),
        }
    }

    /// Queues the read-only `operation` for a reading thread (or the
    /// writer's, as [`StoreThread::read`] says); the future answers it.
    fn queue_read<T, E, F>(
        &self,
        operation: F,
    ) -> impl std::future::Future<Output = Result<T, E>> + use<T, E, F>
    where
        T: Send + 'static,
        E: From<Unavailable> + Send + 'static,
        F: Fn(&Store) -> Result<T, E> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: ReadJob = Box::new(move |store| {
            if let Some(store) = store {
                let answer = operation(store);
                if !store.take_needs_writer() {
                    let _ = reply.send(answer);
                    return None;
                }
            }
            Some(Box::new(move |store| {
                let answer = operation(store);
                store.settle();
                let _ = reply.send(answer);
            }))
        });
        let queued = match &self.readers {
            Some(Readers {
                jobs: Some(readers),
                ..
            }) if !self.gate.closed.load(Ordering::SeqCst) => {
                readers.try_send(job).map_err(|error| match error {
                    mpsc::TrySendError::Full(_) => Unavailable::Busy,
                    mpsc::TrySendError::Disconnected(_) => Unavailable::ShutDown,
                })
            }
            _ => self.queue(Work::Alone(Box::new(move |store| {
                if let Some(job) = job(None) {
                    job(store);
                }
            }))),
        };
        answered(queued, answer)
    }

    /// Runs `operation` on the thread and waits for its result, waiting for
    /// room in the queue if need be. For threads that may block (a reload's
    /// watcher, the in-process API), never the store's own.
    pub(crate) fn run_and_wait<T, F>(&self, operation: F) -> Result<T, Unavailable>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> T + Send + 'static,
    {
        let (reply, answer) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |store| {
            let answer = operation(store);
            store.settle();
            let _ = reply.send(answer);
        });
        let jobs = self.jobs.as_ref().ok_or(Unavailable::ShutDown)?;
        self.queued.fetch_add(1, Ordering::SeqCst);
        if jobs.send(Work::Alone(job)).is_err() {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            return Err(Unavailable::ShutDown);
        }
        answer.recv().map_err(|_| Unavailable::Failed)
    }
}

/// The result an operation sends on `answer`, once `queued` says it was
/// queued (else why it was not).
async fn answered<T, E: From<Unavailable>>(
    queued: Result<(), Unavailable>,
    answer: tokio::sync::oneshot::Receiver<Result<T, E>>,
) -> Result<T, E> {
    queued?;
    answer.await.map_err(|_| Unavailable::Failed)?
}

/// Starts `count` reading threads on connections to `store`'s database,
/// sharing one queue of up to `bound` operations; none when no reading
/// connection opens (every operation then runs on the writer's thread).
fn start_readers(
    store: &Store,
    count: usize,
    bound: usize,
    gate: &Arc<Gate>,
    writer: &mpsc::SyncSender<Work>,
    queued: &Arc<AtomicUsize>,
) -> Option<Readers> {
    if count == 0 {
        return None;
    }
    let opened: Result<Vec<Store>, _> = (0..2 * count).map(|_| store.open_reader()).collect();
    let mut opened = match opened {
        Ok(opened) => opened,
        Err(error) => {
            tracing::warn!("reads go to the writer: no reading connection opens: {error}");
            return None;
        }
    };
    let connections = Arc::new(ReadingConnections {
        threads: opened.drain(..count).map(Mutex::new).collect(),
        idle: Mutex::new(opened),
    });
    let (jobs, queue) = mpsc::sync_channel::<ReadJob>(bound);
    let queue = Arc::new(Mutex::new(queue));
    let threads = (0..count)
        .map(|number| {
            let (connections, queue, gate, writer, queued) = (
                Arc::clone(&connections),
                Arc::clone(&queue),
                Arc::clone(gate),
                writer.clone(),
                Arc::clone(queued),
            );
            std::thread::Builder::new()
                .name(format!("standin-reader-{number}"))
                .spawn(move || {
                    let reader = &connections.threads[number];
                    serve_reads(reader, &queue, &gate, &writer, &queued);
                })
                .expect("the operating system starts a thread")
        })
        .collect();
    Some(Readers {
        jobs: Some(jobs),
        threads,
        connections,
    })
}

/// A reading thread's loop: each operation in one read transaction on its
/// connection (held while it runs), unless the gate is closed; what must
/// run on the writer's thread goes there.
fn serve_reads(
    reader: &Mutex<Store>,
    queue: &Mutex<mpsc::Receiver<ReadJob>>,
    gate: &Gate,
    writer: &mpsc::SyncSender<Work>,
    queued: &AtomicUsize,
) {
    loop {
        let job = {
            let queue = queue
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            match queue.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        let again = match gate.lock.try_read() {
            Some(open) => {
                let reader = reader
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                // A panic (a bug) drops the reply, which answers `Failed`.
                let again = catch_unwind(AssertUnwindSafe(|| {
                    reader.run_read(None, || job(Some(&reader)))
                }))
                .ok()
                .flatten()
                .flatten();
                drop(reader);
                drop(open);
                again
            }
            None => job(None),
        };
        if let Some(job) = again {
            queued.fetch_add(1, Ordering::SeqCst);
            if writer.send(Work::Alone(job)).is_err() {
                queued.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }
}

/// Runs `first` and the grouped writes queued behind it (up to
/// [`MAX_GROUP`]) in one transaction, each in a savepoint of its own, then
/// commits and answers them. Returns the operation that ended the group by
/// coming next, not grouped, to run after it.
fn run_group(
    first: GroupedJob,
    queue: &mpsc::Receiver<Work>,
    count: &AtomicUsize,
    store: &Store,
) -> Option<Work> {
    if store.begin_group().is_err() {
        // Alone, then: its own savepoints commit it.
        let delivered = run_member(first, store);
        store.settle();
        if let Some(deliver) = delivered {
            deliver(true);
        }
        return None;
    }
    let mut members = Vec::new();
    let mut next = Some(Work::Grouped(first));
    while let Some(work) = next.take() {
        let Work::Grouped(job) = work else {
            next = Some(work);
            break;
        };
        members.extend(run_member(job, store));
        if !store.in_transaction() {
            // SQLite rolled the whole transaction back (an interrupted
            // statement, a full disk): nothing of the group is written.
            for deliver in members.drain(..) {
                deliver(false);
            }
            store.settle();
            if store.begin_group().is_err() {
                break;
            }
        }
        if members.len() >= MAX_GROUP {
            break;
        }
        if let Ok(work) = queue.try_recv() {
            count.fetch_sub(1, Ordering::SeqCst);
            next = Some(work);
        }
    }
    let committed = store.commit_group();
    store.settle();
    for deliver in members {
        deliver(committed);
    }
    next
}

/// Runs one grouped write in a savepoint of its own; a panic (a bug) rolls
/// it back and drops its reply, which answers [`Unavailable::Failed`].
fn run_member(job: GroupedJob, store: &Store) -> Option<Deliver> {
    if store.savepoint("standin_member").is_err() {
        return catch_unwind(AssertUnwindSafe(|| job(store))).ok();
    }
    match catch_unwind(AssertUnwindSafe(|| job(store))) {
        Ok(deliver) => {
            store.release("standin_member", true);
            Some(deliver)
        }
        Err(_) => {
            store.release("standin_member", false);
            None
        }
    }
}

/// Runs one operation; a panic (a bug) drops its reply, which answers
/// [`Unavailable::Failed`], and the thread serves the next one.
fn run(job: Job, store: &Store) {
    let _ = catch_unwind(AssertUnwindSafe(|| job(store)));
    store.settle();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Location;

    fn thread(bound: usize) -> StoreThread {
        StoreThread::with_bound(Store::open(Location::Memory).expect("a store"), bound, 2)
    }

    /// Keeps the thread busy until the returned sender is dropped.
    fn occupy(thread: &StoreThread) -> mpsc::Sender<()> {
        let (release, released) = mpsc::channel::<()>();
        let (started, has_started) = mpsc::channel::<()>();
        // Queued at once; nobody waits for its answer.
        drop(thread.run(move |_| {
            let _ = started.send(());
            let _ = released.recv();
            Ok::<_, Unavailable>(())
        }));
        has_started.recv().expect("the thread runs");
        release
    }

    #[actix_web::test]
    async fn operations_run_in_order_and_a_panic_is_an_error() {
        let thread = thread(MAX_QUEUED);
        let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let answers = (0..5).map(|step| {
            let order = order.clone();
            thread.run(move |_| {
                // The first waits, so that the others queue up behind it.
                if step == 0 {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                order.lock().unwrap().push(step);
                Ok::<_, Unavailable>(step)
            })
        });
        let answers = futures_util::future::join_all(answers).await;
        assert_eq!(
            answers.into_iter().map(Result::unwrap).collect::<Vec<_>>(),
            [0, 1, 2, 3, 4]
        );
        assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3, 4]);
        let failed = thread.run::<(), Unavailable, _>(|_| panic!("a bug")).await;
        assert_eq!(failed, Err(Unavailable::Failed));
        assert_eq!(
            thread.run(|_| Ok::<_, Unavailable>(7)).await,
            Ok(7),
            "the thread goes on"
        );
        assert_eq!(thread.run_and_wait(|_| 8), Ok(8));
    }

    #[test]
    fn operations_queued_during_a_long_write_run_between_its_steps() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};

        let thread = Arc::new(thread(MAX_QUEUED));
        let spec = crate::spec::parse(
            "test.yaml",
            "standin: 1\nresources:\n  notes:\n    fields: { text: string }\n    count: 20000\n",
        )
        .expect("a valid spec");
        let ran = Arc::new(AtomicBool::new(false));
        let (started, has_started) = mpsc::channel::<()>();
        let (go, gone) = mpsc::channel::<()>();
        let seeding = {
            let (thread, ran) = (Arc::clone(&thread), Arc::clone(&ran));
            std::thread::spawn(move || {
                thread.run_and_wait(move |store| {
                    started.send(()).expect("the test waits");
                    gone.recv().expect("the other operation is queued");
                    store.prepare(&spec).expect("tables");
                    // Seeding 20,000 records takes many steps.
                    store.seed(&spec, 1).expect("seeded");
                    ran.load(Ordering::SeqCst)
                })
            })
        };
        has_started.recv().expect("the seeding runs");
        // Queued behind the seeding, which is running.
        let other = {
            let ran = Arc::clone(&ran);
            thread.run(move |_| {
                ran.store(true, Ordering::SeqCst);
                Ok::<_, Unavailable>(())
            })
        };
        go.send(()).expect("the seeding waits");
        assert_eq!(
            seeding.join().expect("seeded"),
            Ok(true),
            "the operation queued meanwhile ran before the seeding ended"
        );
        drop(other);
    }

    /// Queues link `left` of a chain: each link, when run, queues the next,
    /// as clients do that send a request as soon as the last is answered.
    fn chain(thread: &std::sync::Arc<StoreThread>, left: usize, ran: std::sync::Arc<AtomicUsize>) {
        let next = std::sync::Arc::clone(thread);
        drop(thread.run(move |_| {
            ran.fetch_add(1, Ordering::SeqCst);
            if left > 0 {
                chain(&next, left - 1, ran);
            }
            Ok::<_, Unavailable>(())
        }));
    }

    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_long_write_goes_on_while_operations_keep_arriving() {
        use std::sync::Arc;

        let thread = Arc::new(thread(MAX_QUEUED));
        let spec = crate::spec::parse(
            "test.yaml",
            "standin: 1\nresources:\n  notes:\n    fields: { text: string }\n    count: 20000\n",
        )
        .expect("a valid spec");
        // More links than seeding 20,000 records has steps: a long write
        // that runs only the operations waiting when its step ends (one
        // link each time) ends before the chain does.
        const LINKS: usize = 50_000;
        let ran = Arc::new(AtomicUsize::new(0));
        let (started, has_started) = mpsc::channel::<()>();
        let (go, gone) = mpsc::channel::<()>();
        let seeding = {
            let (thread, ran) = (Arc::clone(&thread), Arc::clone(&ran));
            std::thread::spawn(move || {
                thread.run_and_wait(move |store| {
                    started.send(()).expect("the test waits");
                    gone.recv().expect("the chain is queued");
                    store.prepare(&spec).expect("tables");
                    store.seed(&spec, 1).expect("seeded");
                    ran.load(Ordering::SeqCst)
                })
            })
        };
        has_started.recv().expect("the seeding runs");
        chain(&thread, LINKS, Arc::clone(&ran));
        go.send(()).expect("the seeding waits");
        let before_the_end = seeding.join().expect("seeded").expect("the thread runs");
        assert!(before_the_end > 0, "operations ran between the steps");
        assert!(
            before_the_end < LINKS,
            "the seeding waited for {before_the_end} operations queued after its steps ended"
        );
    }

    #[actix_web::test]
    async fn operations_beyond_the_queues_bound_are_refused_at_once() {
        let thread = thread(2);
        let busy = occupy(&thread);
        let first = thread.run(|_| Ok::<_, Unavailable>(1));
        let second = thread.run(|_| Ok::<_, Unavailable>(2));
        let third = thread.run(|_| Ok::<_, Unavailable>(3));
        assert_eq!(third.await, Err(Unavailable::Busy));
        drop(busy);
        assert_eq!(first.await, Ok(1));
        assert_eq!(second.await, Ok(2));
        assert_eq!(thread.run(|_| Ok::<_, Unavailable>(4)).await, Ok(4));
    }

    /// A thread serving a table of notes, seeded with `count` of them.
    fn notes(count: usize) -> (StoreThread, Arc<crate::spec::Spec>) {
        let thread = thread(MAX_QUEUED);
        let spec = Arc::new(
            crate::spec::parse(
                "test.yaml",
                &format!(
                    "standin: 1\nresources:\n  notes:\n    fields: {{ text: string, rank: integer }}\n    count: {count}\n"
                ),
            )
            .expect("a valid spec"),
        );
        let prepared = Arc::clone(&spec);
        thread
            .run_and_wait(move |store| {
                store.prepare(&prepared).expect("tables");
                store.seed(&prepared, 1).expect("seeded");
            })
            .expect("the thread runs");
        (thread, spec)
    }

    type Failure = Box<dyn std::error::Error + Send + Sync>;

    /// The name of the thread running an operation.
    fn thread_name() -> String {
        std::thread::current()
            .name()
            .unwrap_or_default()
            .to_string()
    }

    /// Waits for `read` on a thread of its own, named `name`.
    fn on_a_thread_of_its_own<T: Send + 'static>(
        name: &str,
        read: impl std::future::Future<Output = T> + Send + 'static,
    ) -> std::thread::JoinHandle<T> {
        std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .build()
                    .expect("a runtime")
                    .block_on(read)
            })
            .expect("a thread")
    }

    #[actix_web::test]
    async fn brief_reads_run_where_they_are_asked_for_beside_a_write_and_each_other() {
        let (thread, _) = notes(3);
        let thread = Arc::new(thread);
        let busy = occupy(&thread);
        // Both reads wait until the other has begun: they end only if they
        // run at once, while the writer's thread is held.
        let both = Arc::new(std::sync::Barrier::new(2));
        let reads: Vec<_> = (0..2)
            .map(|number| {
                let (thread, together) = (Arc::clone(&thread), Arc::clone(&both));
                on_a_thread_of_its_own(&format!("asking-{number}"), async move {
                    thread
                        .read(Reach::Record, move |_| {
                            together.wait();
                            Ok::<_, Unavailable>(thread_name())
                        })
                        .await
                })
            })
            .collect();
        for (number, read) in reads.into_iter().enumerate() {
            assert_eq!(read.join().expect("read"), Ok(format!("asking-{number}")));
        }
        drop(busy);
    }

    #[actix_web::test]
    async fn a_read_running_past_the_brief_budget_gives_way_to_a_reading_thread() {
        let (thread, _) = notes(3);
        // Counts to `last` in SQL: the count, where it ran, how often it ran.
        let count_to = async |last: i64| {
            let tries = Arc::new(AtomicUsize::new(0));
            let tried = Arc::clone(&tries);
            let (count, ran_on) = thread
                .read(Reach::Record, move |store| {
                    tried.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, Failure>((store.count_to(last)?, thread_name()))
                })
                .await
                .expect("counted");
            (count, ran_on, tries.load(Ordering::SeqCst))
        };
        let (count, ran_on, runs) = count_to(2_000_000).await;
        assert_eq!(count, 2_000_000, "the second run was not stopped");
        assert!(ran_on.starts_with("standin-reader-"), "ran on {ran_on}");
        assert_eq!(runs, 2, "stopped here, run there");
        let (count, ran_on, runs) = count_to(10).await;
        assert_eq!((count, runs), (10, 1));
        assert_eq!(
            ran_on,
            thread_name(),
            "a brief read runs where it is asked for"
        );
    }

    #[actix_web::test]
    async fn read_transactions_left_open_are_ended_once_a_write_commits() {
        let (thread, spec) = notes(3);
        let connections = Arc::clone(&thread.readers.as_ref().expect("readers").connections);
        let kept = || -> Vec<Option<u64>> {
            let idle = connections.idle.lock().expect("not poisoned");
            let threads = connections
                .threads
                .iter()
                .map(|store| store.lock().expect("not poisoned").kept_snapshot());
            idle.iter()
                .map(Store::kept_snapshot)
                .chain(threads)
                .collect()
        };
        let read = Arc::clone(&spec);
        let query = crate::query::parse_list(&spec, &spec.resources[0], "").expect("a query");
        thread
            .read(Reach::Page, move |store| {
                Ok::<_, Failure>(store.list(&read.resources[0], &query, &[])?.total)
            })
            .await
            .expect("a page");
        let read = Arc::clone(&spec);
        let id = crate::store::RecordId::Integer(1);
        thread
            .read(Reach::Record, move |store| {
                Ok::<_, Failure>(store.get(&read.resources[0], &id)?)
            })
            .await
            .expect("a record");
        assert_eq!(
            kept().iter().filter(|kept| kept.is_some()).count(),
            2,
            "both reads left their transaction open: {:?}",
            kept()
        );
        let fields = serde_json::json!({ "text": "new", "rank": 1 })
            .as_object()
            .cloned()
            .expect("an object");
        thread
            .write(move |store| {
                Ok::<_, Failure>(store.create(&spec, &spec.resources[0], None, fields)?)
            })
            .await
            .expect("created");
        // The writer looks once nothing waits for it, after answering.
        let waited = std::time::Instant::now();
        while kept().iter().any(Option::is_some) {
            assert!(
                waited.elapsed() < std::time::Duration::from_secs(10),
                "{:?}",
                kept()
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    /// Whether a reading connection finds the fourth note, read in its
    /// kept transaction if it has one.
    fn finds_a_fourth_note(spec: Arc<crate::spec::Spec>) -> impl Fn(&Store) -> bool + Clone {
        move |reader: &Store| {
            let id = crate::store::RecordId::Integer(4);
            reader
                .run_read(None, || reader.get(&spec.resources[0], &id).is_ok())
                .expect("not stopped")
        }
    }

    #[actix_web::test]
    async fn a_read_transaction_left_open_serves_reads_until_a_commit_settles() {
        let (thread, spec) = notes(3);
        let connections = Arc::clone(&thread.readers.as_ref().expect("readers").connections);
        let generation = thread.run(|store| Ok::<_, Unavailable>(store.generation_handle()));
        let generation = generation.await.expect("the generation");
        let found = finds_a_fourth_note(spec);
        let finds = found.clone();
        let seen = thread.run(move |store| {
            let reader = connections
                .idle
                .lock()
                .expect("not poisoned")
                .pop()
                .expect("an idle reading connection");
            let before = finds(&reader);
            let kept = reader.kept_snapshot();
            store.commit_unsettled(
                r#"INSERT INTO res_notes (data, created_at, updated_at) VALUES ('{"text": "new"}', 'now', 'now')"#,
            );
            let committing = store.generation() % 2 == 1;
            // Until this operation has settled, nobody is told of its write.
            let during = finds(&reader);
            let still_kept = reader.kept_snapshot();
            connections
                .idle
                .lock()
                .expect("not poisoned")
                .push(reader);
            Ok::<_, Unavailable>((before, kept, committing, during, still_kept))
        });
        let (before, kept, committing, during, still_kept) = seen.await.expect("read");
        assert_eq!(generation.get() % 2, 0, "answered once settled");
        assert!(!before && committing && kept.is_some());
        assert_eq!(
            (during, still_kept),
            (before, kept),
            "read in the kept state"
        );
        let after = thread.run(move |store| {
            let reader = store.open_reader().expect("a reader");
            Ok::<_, Unavailable>(found(&reader))
        });
        assert!(after.await.expect("read"), "a new snapshot once settled");
    }

    #[actix_web::test]
    async fn a_lone_operation_is_answered_once_its_commit_has_settled() {
        let (thread, spec) = notes(3);
        let generation = thread.run(|store| Ok::<_, Unavailable>(store.generation_handle()));
        let generation = generation.await.expect("the generation");
        let found = finds_a_fourth_note(spec);
        let reader = thread.run(|store| Ok::<_, Unavailable>(store.open_reader()));
        let reader = reader.await.expect("run").expect("a reader");
        assert!(!found(&reader));
        let committing = thread.run(|store| {
            store.commit_unsettled(
                r#"INSERT INTO res_notes (data, created_at, updated_at) VALUES ('{"text": "new"}', 'now', 'now')"#,
            );
            Ok::<_, Unavailable>(store.generation() % 2 == 1)
        });
        assert!(committing.await.expect("committed"), "odd while it runs");
        assert_eq!(generation.get() % 2, 0, "answered once settled");
        assert!(found(&reader), "a read after the answer sees the write");
    }

    #[actix_web::test]
    async fn a_read_after_an_acknowledged_write_sees_it_and_its_count() {
        let (thread, spec) = notes(3);
        let fields = serde_json::json!({ "text": "new", "rank": 1 })
            .as_object()
            .cloned()
            .expect("an object");
        for round in 0..50_u64 {
            let counted = Arc::clone(&spec);
            let query = crate::query::parse_list(&spec, &spec.resources[0], "").expect("a query");
            let before = thread
                .read(Reach::Page, move |store| {
                    Ok::<_, Failure>(store.list(&counted.resources[0], &query, &[])?.total)
                })
                .await
                .expect("a page");
            assert_eq!(before, 3 + round);
            let (written, fields) = (Arc::clone(&spec), fields.clone());
            let created = thread
                .run(move |store| {
                    Ok::<_, Failure>(store.create(&written, &written.resources[0], None, fields)?)
                })
                .await
                .expect("created");
            let read = Arc::clone(&spec);
            let id = created.id.clone();
            let found = thread
                .read(Reach::Record, move |store| {
                    Ok::<_, Failure>(store.get(&read.resources[0], &id)?)
                })
                .await
                .expect("the acknowledged record is found");
            assert_eq!(found, created);
        }
    }

    #[actix_web::test]
    async fn a_read_needing_an_index_runs_again_on_the_writer_which_makes_it() {
        let (thread, spec) = notes(5);
        let read = |spec: &Arc<crate::spec::Spec>| {
            let spec = Arc::clone(spec);
            let query = crate::query::parse_list(&spec, &spec.resources[0], "rank=3&sort=-text")
                .expect("a query");
            thread.read(Reach::Page, move |store| {
                let page = store.list(&spec.resources[0], &query, &[])?;
                Ok::<_, Failure>((page, thread_name()))
            })
        };
        let (first, ran_on) = read(&spec).await.expect("a page");
        assert_eq!(ran_on, "standin-store", "the first query makes its indexes");
        let (again, ran_on) = read(&spec).await.expect("a page");
        assert!(ran_on.starts_with("standin-reader-"), "ran on {ran_on}");
        assert_eq!(first, again);
    }

    #[actix_web::test]
    async fn no_read_runs_on_a_reader_during_an_exclusive_operation() {
        let thread = Arc::new(thread(MAX_QUEUED));
        let (started, has_started) = mpsc::channel::<()>();
        let (release, released) = mpsc::channel::<()>();
        let exclusive = {
            let thread = Arc::clone(&thread);
            std::thread::spawn(move || {
                thread.run_and_wait(move |_| {
                    exclusively(|| {
                        started.send(()).expect("the test waits");
                        released.recv().expect("the test releases");
                        thread_name()
                    })
                })
            })
        };
        has_started.recv().expect("the exclusive operation runs");
        let read = thread.read(Reach::Record, |_| Ok::<_, Unavailable>(thread_name()));
        release.send(()).expect("the operation waits");
        assert_eq!(
            exclusive.join().expect("ran"),
            Ok("standin-store".to_string())
        );
        assert_eq!(
            read.await,
            Ok("standin-store".to_string()),
            "the read waited for the writer"
        );
        let after = thread
            .read(Reach::Record, |_| Ok::<_, Unavailable>(thread_name()))
            .await;
        assert_eq!(after, Ok(thread_name()), "readers serve again");
    }

    #[actix_web::test]
    async fn writes_queued_behind_a_commit_are_committed_together_each_its_own_unit() {
        let thread = thread(MAX_QUEUED);
        let spec = Arc::new(
            crate::spec::parse(
                "test.yaml",
                "standin: 1\nresources:\n  notes:\n    fields: { text: { type: string, unique: true } }\n",
            )
            .expect("a valid spec"),
        );
        let prepared = Arc::clone(&spec);
        thread
            .run_and_wait(move |store| store.prepare(&prepared).expect("tables"))
            .expect("the thread runs");
        let commits = || thread.run(|store| Ok::<_, Unavailable>(store.commits()));
        let before = commits().await.expect("counted");
        let busy = occupy(&thread);
        // Queued while the writer is busy: "b" twice (the second a
        // conflict), and a write that panics.
        let writes: Vec<_> = ["a", "b", "b", "panic", "c"]
            .into_iter()
            .map(|text| {
                let spec = Arc::clone(&spec);
                thread.write(move |store| {
                    let fields = serde_json::json!({ "text": text });
                    let fields = fields.as_object().cloned().expect("an object");
                    let record = store.create(&spec, &spec.resources[0], None, fields)?;
                    if text == "panic" {
                        panic!("a bug after the write");
                    }
                    Ok::<_, Failure>(record)
                })
            })
            .collect();
        drop(busy);
        let answers = futures_util::future::join_all(writes).await;
        let outcomes: Vec<&str> = answers
            .iter()
            .map(|answer| match answer {
                Ok(_) => "created",
                Err(error) if error.to_string().contains("failed") => "failed",
                Err(_) => "refused",
            })
            .collect();
        assert_eq!(
            outcomes,
            ["created", "created", "refused", "failed", "created"]
        );
        assert_eq!(commits().await.expect("counted"), before + 1, "one commit");
        let listed = Arc::clone(&spec);
        let texts = thread
            .read(Reach::Page, move |store| {
                let query = crate::query::parse_list(&listed, &listed.resources[0], "sort=text")
                    .expect("a query");
                let page = store.list(&listed.resources[0], &query, &[])?;
                Ok::<_, Failure>(
                    page.records
                        .into_iter()
                        .map(|record| record.fields["text"].clone())
                        .collect::<Vec<_>>(),
                )
            })
            .await
            .expect("a page");
        assert_eq!(
            texts,
            ["a", "b", "c"],
            "the panicking write was rolled back"
        );
    }
}
