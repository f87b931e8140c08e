//! The thread that runs store operations for requests: one at a time, in
//! the order they arrive, off the async workers. The store works through one
//! SQLite connection, so one thread serves it best: threads taking turns at
//! its lock pass it on with a context switch each time, and under load spend
//! more time switching than querying.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;

type Job = Box<dyn FnOnce() + Send>;

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
    jobs: mpsc::SyncSender<Job>,
}

impl StoreThread {
    /// Starts the thread, taking up to [`MAX_QUEUED`] waiting operations.
    pub(crate) fn start() -> StoreThread {
        StoreThread::with_bound(MAX_QUEUED)
    }

    fn with_bound(bound: usize) -> StoreThread {
        let (jobs, queue) = mpsc::sync_channel::<Job>(bound);
        std::thread::Builder::new()
            .name("standin-store".into())
            .spawn(move || {
                for job in queue {
                    // A panicking operation drops its reply, which answers
                    // `Unavailable::Failed`; the thread serves the next one.
                    let _ = catch_unwind(AssertUnwindSafe(job));
                }
            })
            .expect("the operating system starts a thread");
        StoreThread { jobs }
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
        F: FnOnce() -> Result<T, E> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            // The request may have gone (its client hung up): nobody to tell.
            let _ = reply.send(operation());
        });
        let queued = self.jobs.try_send(job).map_err(|error| match error {
            mpsc::TrySendError::Full(_) => Unavailable::Busy,
            mpsc::TrySendError::Disconnected(_) => Unavailable::ShutDown,
        });
        async move {
            queued?;
            answer.await.map_err(|_| Unavailable::Failed)?
        }
    }
}

impl StoreThread {
    /// Holds the thread between two operations until the returned guard is
    /// dropped; `None` if the thread has ended.
    pub(crate) fn pause(&self) -> Option<Paused> {
        let (parked, is_parked) = mpsc::channel::<()>();
        let (resume, resumed) = mpsc::channel::<()>();
        let job: Job = Box::new(move || {
            let _ = parked.send(());
            // Ends when the guard, and with it the sender, is dropped.
            let _ = resumed.recv();
        });
        // Waits for room: a reload must not be refused for a busy moment.
        self.jobs.send(job).ok()?;
        is_parked.recv().ok()?;
        Some(Paused { _resume: resume })
    }
}

/// The store thread held by [`StoreThread::pause`]; dropping this lets it go on.
pub(crate) struct Paused {
    _resume: mpsc::Sender<()>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn operations_run_in_order_and_a_panic_is_an_error() {
        let thread = StoreThread::start();
        let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let answers = (0..5).map(|step| {
            let order = order.clone();
            thread.run(move || {
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
        let failed = thread.run::<(), Unavailable, _>(|| panic!("a bug")).await;
        assert!(matches!(failed, Err(Unavailable::Failed)));
        assert_eq!(
            thread.run(|| Ok::<_, Unavailable>(7)).await.unwrap(),
            7,
            "the thread goes on"
        );
    }

    #[actix_web::test]
    async fn nothing_runs_while_the_thread_is_paused() {
        let thread = StoreThread::start();
        let ran = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let paused = std::thread::scope(|scope| {
            scope
                .spawn(|| thread.pause().expect("the thread runs"))
                .join()
                .expect("paused")
        });
        let queued = {
            let ran = ran.clone();
            thread.run(move || {
                ran.store(true, std::sync::atomic::Ordering::SeqCst);
                Ok::<_, Unavailable>(())
            })
        };
        let (queued, waited) = futures_util::future::join(queued, async {
            // Whatever the wait, the queued operation has not run.
            actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
            let ran_while_paused = ran.load(std::sync::atomic::Ordering::SeqCst);
            drop(paused);
            ran_while_paused
        })
        .await;
        assert!(!waited, "an operation ran while the thread was paused");
        queued.expect("the operation runs once the pause ends");
        assert!(ran.load(std::sync::atomic::Ordering::SeqCst));
    }

    #[actix_web::test]
    async fn operations_beyond_the_queues_bound_are_refused_at_once() {
        let thread = StoreThread::with_bound(2);
        let paused = thread.pause().expect("the thread runs");
        let first = thread.run(|| Ok::<_, Unavailable>(1));
        let second = thread.run(|| Ok::<_, Unavailable>(2));
        let third = thread.run(|| Ok::<_, Unavailable>(3));
        assert!(matches!(third.await, Err(Unavailable::Busy)));
        drop(paused);
        assert_eq!(first.await.expect("queued"), 1);
        assert_eq!(second.await.expect("queued"), 2);
        assert_eq!(
            thread
                .run(|| Ok::<_, Unavailable>(4))
                .await
                .expect("room again"),
            4
        );
    }
}
