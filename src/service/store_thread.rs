//! The thread that owns the store and runs every operation on it: requests',
//! reloads', resets', the in-process API's; one at a time, in the order they
//! arrive, off the async workers. The store works through one SQLite
//! connection, so one owner serves it best: no lock to take, and no context
//! switch to pass one on. Long writes (a reload's seeding) run the
//! operations that arrived meanwhile between their steps.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};

use crate::store::Store;

type Job = Box<dyn FnOnce(&Store) + Send>;

/// The most operations waiting for the thread; more are answered `503` at once.
pub const MAX_QUEUED: usize = 1024;

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

/// A thread running store operations in arrival order; it ends when this is dropped.
#[derive(Debug)]
pub(crate) struct StoreThread {
    /// Where operations queue; `None` once the thread is told to end.
    jobs: Option<mpsc::SyncSender<Job>>,
    /// How many operations are queued (counted before they are sent, so at
    /// times one more than the queue holds).
    queued: Arc<AtomicUsize>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for StoreThread {
    /// Ends the thread once the operations queued have run, and waits for
    /// it, so that the store is closed (and its database file free) when
    /// this returns. (Dropped on the thread itself, it cannot wait for it.)
    fn drop(&mut self) {
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
    /// [`MAX_QUEUED`] waiting operations.
    pub(crate) fn start(store: Store) -> StoreThread {
        StoreThread::with_bound(store, MAX_QUEUED)
    }

    fn with_bound(store: Store, bound: usize) -> StoreThread {
        let (jobs, queue) = mpsc::sync_channel::<Job>(bound);
        let queued = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&queued);
        let thread = std::thread::Builder::new()
            .name("standin-store".into())
            .spawn(move || {
                let queue = Rc::new(queue);
                let (waiting, counted) = (Rc::clone(&queue), Arc::clone(&count));
                // Only the operations queued when the step ended: those that
                // keep arriving (each client's next request) wait for the
                // next step, so that the long write goes on under load.
                crate::store::between_steps(move |store| {
                    for _ in 0..counted.load(Ordering::SeqCst) {
                        let Ok(job) = waiting.try_recv() else {
                            break;
                        };
                        counted.fetch_sub(1, Ordering::SeqCst);
                        run(job, store);
                    }
                });
                while let Ok(job) = queue.recv() {
                    count.fetch_sub(1, Ordering::SeqCst);
                    run(job, &store);
                }
            })
            .expect("the operating system starts a thread");
        StoreThread {
            jobs: Some(jobs),
            queued,
            thread: Some(thread),
        }
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
            // The request may have gone (its client hung up): nobody to tell.
            let _ = reply.send(operation(store));
        });
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
        async move {
            queued?;
            answer.await.map_err(|_| Unavailable::Failed)?
        }
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
            let _ = reply.send(operation(store));
        });
        let jobs = self.jobs.as_ref().ok_or(Unavailable::ShutDown)?;
        self.queued.fetch_add(1, Ordering::SeqCst);
        if jobs.send(job).is_err() {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            return Err(Unavailable::ShutDown);
        }
        answer.recv().map_err(|_| Unavailable::Failed)
    }
}

/// Runs one operation; a panic (a bug) drops its reply, which answers
/// [`Unavailable::Failed`], and the thread serves the next one.
fn run(job: Job, store: &Store) {
    let _ = catch_unwind(AssertUnwindSafe(|| job(store)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Location;

    fn thread(bound: usize) -> StoreThread {
        StoreThread::with_bound(Store::open(Location::Memory).expect("a store"), bound)
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
}
