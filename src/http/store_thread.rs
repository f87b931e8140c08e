//! The thread that runs store operations for requests: one at a time, in
//! the order they arrive, off the async workers. The store works through one
//! SQLite connection, so one thread serves it best: threads taking turns at
//! its lock pass it on with a context switch each time, and under load spend
//! more time switching than querying.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;

use super::Problem;

type Job = Box<dyn FnOnce() + Send>;

/// A thread running store operations in arrival order; it ends when this is dropped.
#[derive(Debug)]
pub(crate) struct StoreThread {
    jobs: mpsc::Sender<Job>,
}

impl StoreThread {
    /// Starts the thread.
    pub(crate) fn start() -> StoreThread {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("standin-store".into())
            .spawn(move || {
                for job in queue {
                    // A panicking operation drops its reply, which answers
                    // 500; the thread serves the next one.
                    let _ = catch_unwind(AssertUnwindSafe(job));
                }
            })
            .expect("the operating system starts a thread");
        StoreThread { jobs }
    }

    /// Runs `operation` on the thread and waits for its result.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        operation: impl FnOnce() -> Result<T, Problem> + Send + 'static,
    ) -> Result<T, Problem> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            // The request may have gone (its client hung up): nobody to tell.
            let _ = reply.send(operation());
        });
        self.jobs.send(job).map_err(|_| Problem::Internal {
            detail: "the store has shut down".into(),
        })?;
        answer.await.map_err(|_| Problem::Internal {
            detail: "the store operation failed".into(),
        })?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn operations_run_in_order_and_a_panic_is_an_error() {
        let thread = StoreThread::start();
        let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut answers = Vec::new();
        for step in 0..5 {
            let order = order.clone();
            answers.push(thread.run(move || {
                order.lock().unwrap().push(step);
                Ok(step)
            }));
        }
        for (step, answer) in answers.into_iter().enumerate() {
            assert_eq!(answer.await.unwrap(), step);
        }
        assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3, 4]);
        let failed = thread.run::<()>(|| panic!("a bug")).await;
        assert!(matches!(failed, Err(Problem::Internal { .. })));
        assert_eq!(thread.run(|| Ok(7)).await.unwrap(), 7, "the thread goes on");
    }
}
