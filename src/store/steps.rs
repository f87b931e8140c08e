//! Long writes (preparing tables, seeding) in bounded steps: each step is a
//! transaction of its own, committed after about [`STEP`], and between two
//! steps the store's thread runs the operations waiting for it (see
//! [`between_steps`]), so that requests are served while a reload seeds a
//! large resource. A step that fails or panics is
//! rolled back; the steps before it stay committed, which is why seeding
//! clears the rows of a resource it never finished (see `seed`). A thread
//! with nothing to run between steps (start-up, before requests are served)
//! writes in one transaction: a commit costs a sync to disk with `--db`, and
//! seeding writes its search index faster when nothing commits in between.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::{Held, Store};

/// Work run between two steps of a long write.
type Between = Box<dyn FnMut(&Store)>;

thread_local! {
    /// What this thread runs between two steps of a long write.
    static BETWEEN_STEPS: RefCell<Option<Between>> = RefCell::new(None);
}

/// Sets what the calling thread runs between two steps of a long write,
/// outside any transaction: the store's thread runs the operations that
/// arrived meanwhile.
pub fn between_steps(work: impl FnMut(&Store) + 'static) {
    BETWEEN_STEPS.with(|slot| *slot.borrow_mut() = Some(Box::new(work)));
}

/// Runs `work` on this thread with nothing run between the steps of the
/// long writes it makes: what must see no other write until it ends.
pub fn without_interruption<T>(work: impl FnOnce() -> T) -> T {
    let between = BETWEEN_STEPS.with(|slot| slot.borrow_mut().take());
    /// Puts the work between steps back however `work` ends.
    struct Restore(Option<Between>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(between) = self.0.take() {
                BETWEEN_STEPS.with(|slot| *slot.borrow_mut() = Some(between));
            }
        }
    }
    let _restore = Restore(between);
    work()
}

/// Whether this thread has work to run between steps (none within it).
fn has_work_between_steps() -> bool {
    BETWEEN_STEPS.with(|slot| slot.borrow().is_some())
}

/// Runs this thread's work between steps, if it has some (not from within
/// itself: a long write it runs does not run it again).
fn run_between_steps(store: &Store) {
    let Some(mut work) = BETWEEN_STEPS.with(|slot| slot.borrow_mut().take()) else {
        return;
    };
    work(store);
    BETWEEN_STEPS.with(|slot| *slot.borrow_mut() = Some(work));
}

/// How long one step holds the connection.
pub(super) const STEP: Duration = Duration::from_millis(25);

/// Where a long write goes: into a transaction the caller holds (a reset,
/// which must be atomic), or into steps of its own.
pub(super) enum Writer<'a> {
    /// Inside the caller's transaction: nothing is committed here.
    Within(&'a Connection),
    /// Transactions of its own, committed step by step.
    Steps(Steps<'a>),
}

impl Writer<'_> {
    /// The connection, inside the current transaction.
    pub(super) fn connection(&self) -> &Connection {
        match self {
            Writer::Within(connection) => connection,
            Writer::Steps(steps) => steps.connection(),
        }
    }

    /// Ends the step once it has lasted [`STEP`]: commits what it wrote,
    /// runs the operations waiting for the store, and begins the next one.
    pub(super) fn pause(&mut self) -> rusqlite::Result<()> {
        match self {
            Writer::Within(_) => Ok(()),
            Writer::Steps(steps) => steps.pause(),
        }
    }

    /// Whether the step has lasted [`STEP`] and work waits to run between
    /// steps: [`Writer::pause`] would end it now.
    pub(super) fn step_is_over(&self) -> bool {
        match self {
            Writer::Within(_) => false,
            Writer::Steps(steps) => steps.is_over(),
        }
    }

    /// Whether what is written now may be committed before the write ends
    /// (a step ends in between); else it all commits (or not) together.
    pub(super) fn commits_in_steps(&self) -> bool {
        matches!(self, Writer::Steps(_)) && has_work_between_steps()
    }
}

/// Transactions committed every [`STEP`], on the store's connection.
pub(super) struct Steps<'a> {
    store: &'a Store,
    held: Option<Held<'a>>,
    since: Instant,
}

impl<'a> Steps<'a> {
    /// Takes the connection and begins the first step.
    pub(super) fn begin(store: &'a Store) -> rusqlite::Result<Steps<'a>> {
        let held = store.lock();
        held.execute_batch("BEGIN IMMEDIATE")?;
        Ok(Steps {
            store,
            held: Some(held),
            since: Instant::now(),
        })
    }

    fn connection(&self) -> &Connection {
        self.held.as_ref().expect("held between steps")
    }

    fn is_over(&self) -> bool {
        has_work_between_steps() && self.since.elapsed() >= STEP
    }

    fn pause(&mut self) -> rusqlite::Result<()> {
        if !self.is_over() {
            return Ok(());
        }
        self.commit()?;
        self.held = None;
        run_between_steps(self.store);
        let held = self.store.lock();
        held.execute_batch("BEGIN IMMEDIATE")?;
        self.held = Some(held);
        self.since = Instant::now();
        Ok(())
    }

    fn commit(&mut self) -> rusqlite::Result<()> {
        self.connection().execute_batch("COMMIT")?;
        self.store.written();
        Ok(())
    }

    /// Commits the last step.
    pub(super) fn finish(mut self) -> rusqlite::Result<()> {
        self.commit()?;
        self.held = None;
        Ok(())
    }
}

impl Drop for Steps<'_> {
    /// A step left open by an error or a panic is rolled back, so that the
    /// connection goes back to others outside any transaction.
    fn drop(&mut self) {
        if let Some(held) = &self.held
            && !held.is_autocommit()
        {
            let _ = held.execute_batch("ROLLBACK");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Location;

    fn rows(store: &Store) -> i64 {
        store
            .lock()
            .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
            .expect("t exists")
    }

    fn store_with_table() -> Store {
        let store = Store::open(Location::Memory).expect("an in-memory store");
        store
            .lock()
            .execute_batch("CREATE TABLE t (x)")
            .expect("a table");
        store
    }

    #[test]
    fn a_panic_inside_a_step_rolls_it_back_and_frees_the_connection() {
        let store = store_with_table();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let steps = Steps::begin(&store).expect("a step");
            steps
                .connection()
                .execute_batch("INSERT INTO t VALUES (1)")
                .expect("an insert");
            panic!("a bug while seeding");
        }));
        assert!(outcome.is_err());
        assert_eq!(rows(&store), 0);
        assert!(store.lock().is_autocommit(), "no transaction left open");
    }

    #[test]
    fn steps_commit_as_they_go_when_work_waits_between_them() {
        let store = store_with_table();
        let ran = std::rc::Rc::new(std::cell::Cell::new(0));
        let counted = ran.clone();
        between_steps(move |_| counted.set(counted.get() + 1));
        let mut writer = Writer::Steps(Steps::begin(&store).expect("a step"));
        writer
            .connection()
            .execute_batch("INSERT INTO t VALUES (1)")
            .expect("an insert");
        std::thread::sleep(STEP);
        writer.pause().expect("a new step");
        writer
            .connection()
            .execute_batch("INSERT INTO t VALUES (2)")
            .expect("an insert");
        // Abandoned: the first step stays, the second is rolled back.
        drop(writer);
        BETWEEN_STEPS.with(|slot| slot.borrow_mut().take());
        assert_eq!(rows(&store), 1);
        assert_eq!(ran.get(), 1);
    }

    #[test]
    fn with_no_work_between_steps_a_long_write_is_one_transaction() {
        let store = store_with_table();
        let mut writer = Writer::Steps(Steps::begin(&store).expect("a step"));
        assert!(!writer.commits_in_steps());
        writer
            .connection()
            .execute_batch("INSERT INTO t VALUES (1)")
            .expect("an insert");
        std::thread::sleep(STEP);
        writer.pause().expect("no new step");
        drop(writer);
        assert_eq!(rows(&store), 0, "nothing was committed");
    }
}
