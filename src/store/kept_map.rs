//! A VFS for the reading connections of an in-memory store: SQLite's own,
//! except that a database file's memory map outlives other connections'
//! commits, and its log is read through a map too.
//!
//! SQLite unmaps a connection's whole database file at its first read
//! transaction after a commit elsewhere (a map made for the file's size
//! then could be read past a truncated end); the reader then maps and
//! faults its pages in again, or without a map copies each page it reads
//! from the kernel. Under a steady stream of writes that was most of what
//! a read cost. The store's temporary file is its own and never shrinks
//! (nothing vacuums it, so a checkpoint's truncation to the database's
//! size changes nothing), so its map stays true: pages past the mapped end
//! are read as without a map, and the map is let go of (to be made again
//! at the next page fetched) once the file has grown by a quarter, or once
//! it has grown and [`READS_PAST_BEFORE_REMAP`] reads went past the map's
//! end (what a write adds to the file, such as an index a query made, is
//! what the next reads read).
//!
//! SQLite reads the log's (the `-wal` file's) pages with a system call
//! each, into a connection's page cache, which it empties whenever another
//! connection has committed: under a steady stream of writes every read
//! read the pages written since the last checkpoint again, one call each.
//! The default VFS copies a read from a file's map where the map covers
//! it, so the log is mapped too, and mapped again at once when a read goes
//! past its map and the same rule says. A reader reads only frames its
//! snapshot holds, which are in the file and not rewritten while it reads
//! them; nothing here truncates the log (no `journal_size_limit`, no
//! `wal_checkpoint(TRUNCATE)`), and its last connection deletes it rather
//! than shortening it: no read through a map goes past the file's end.
//!
//! What the VFS keeps of a file ([`State`]) follows the default VFS's own
//! in the space SQLite gives each file, so a file's reads take no lock.

use std::ffi::{CStr, c_char, c_int, c_void};
use std::sync::OnceLock;

use rusqlite::ffi;

/// The VFS's name, to open a connection with.
pub(super) const NAME: &CStr = c"standin-kept-map";

/// Registers the VFS, once; whether connections can be opened with it.
pub(super) fn register() -> bool {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    *REGISTERED.get_or_init(|| {
        // SAFETY: SQLite's default VFS is registered for the life of the
        // process; the copy made of it is leaked, so that it is too.
        unsafe {
            let base = ffi::sqlite3_vfs_find(std::ptr::null());
            if base.is_null() || (*base).xOpen.is_none() {
                return false;
            }
            let Ok(base_size) = usize::try_from((*base).szOsFile) else {
                return false;
            };
            let offset = base_size.next_multiple_of(std::mem::align_of::<State>());
            let Ok(size) = c_int::try_from(offset + std::mem::size_of::<State>()) else {
                return false;
            };
            if BASE.set((base as usize, offset)).is_err() {
                return false;
            }
            let mut vfs = *base;
            vfs.zName = NAME.as_ptr();
            vfs.pNext = std::ptr::null_mut();
            vfs.szOsFile = size;
            vfs.xOpen = Some(open);
            ffi::sqlite3_vfs_register(Box::leak(Box::new(vfs)), 0) == ffi::SQLITE_OK
        }
    })
}

/// The default VFS, whose files this one's are, and where a file's
/// [`State`] begins in the space SQLite gives it.
static BASE: OnceLock<(usize, usize)> = OnceLock::new();

/// What the VFS keeps of one open file.
#[derive(Default)]
struct State {
    /// Its map, as last let go of or made; none before the first.
    map: Option<Mapped>,
    /// Test counts: maps kept where SQLite let them go, made again for
    /// reads past their end, and of a log, made.
    #[cfg(test)]
    counts: Counts,
}

/// How often a file's map was kept, made again for reads past its end,
/// and (a log's) made.
#[cfg(test)]
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Counts {
    pub kept: u32,
    pub remade_for_reads_past: u32,
    pub log_maps: u32,
}

/// A file's map: the default VFS maps a file at its size when the map is
/// made, up to the file's limit.
#[derive(Clone, Copy)]
struct Mapped {
    /// The size it covers at least: the file's size as the map was let go
    /// of or made (the default VFS maps no less), up to the limit.
    size: i64,
    /// Whether it reached the limit: reads past it are not mapped again.
    capped: bool,
    /// How many reads since went past it.
    reads_past: u32,
}

impl Mapped {
    /// The map of a file of `size` whose map may be `limit` long at most.
    fn of(size: i64, limit: i64) -> Mapped {
        Mapped {
            size: size.min(limit),
            capped: size >= limit,
            reads_past: 0,
        }
    }

    /// Counts a read ending at `end` if it goes past the map; whether it does.
    fn read_past(&mut self, end: i64) -> bool {
        let past = end > self.size;
        if past {
            self.reads_past = self.reads_past.saturating_add(1);
        }
        past
    }

    /// Whether reads past it make it worth making again: the file has
    /// grown by a quarter since (a read ending at `end` shows it is that
    /// long at least), or [`READS_PAST_BEFORE_REMAP`] reads went past it.
    fn outgrown_by(&self, end: i64) -> bool {
        !self.capped
            && end > self.size
            && (end > self.size + self.size / 4 || self.reads_past >= READS_PAST_BEFORE_REMAP)
    }
}

/// How many reads past the end of a file's map make it worth making again
/// (each a system call; the map's pages are faulted in again once).
const READS_PAST_BEFORE_REMAP: u32 = 1024;

/// The most of a log mapped; frames past it are read with a system call.
const LOG_MAP_BYTES: ffi::sqlite3_int64 = 256 << 20;

/// The state kept of `file`.
///
/// # Safety
/// `file` was opened by this VFS and is open; SQLite uses a file from one
/// thread at a time, and no other reference to its state is alive.
unsafe fn state<'a>(file: *mut ffi::sqlite3_file) -> Option<&'a mut State> {
    let &(_, offset) = BASE.get()?;
    // SAFETY: SQLite gave the file this VFS's size, which holds a `State`
    // at `offset`, written when the file was opened; see above.
    unsafe { file.cast::<u8>().add(offset).cast::<State>().as_mut() }
}

/// The kinds of file read through a map (the default VFS gives each its
/// own methods: a log is opened without locks).
#[derive(Clone, Copy)]
enum Kind {
    Database,
    Log,
}

/// The default VFS's methods for one kind of file, and their replacement.
struct Methods {
    /// The methods replaced.
    original: usize,
    /// The replacement.
    replaced: ffi::sqlite3_io_methods,
    read: unsafe extern "C" fn(
        *mut ffi::sqlite3_file,
        *mut c_void,
        c_int,
        ffi::sqlite3_int64,
    ) -> c_int,
    file_size: unsafe extern "C" fn(*mut ffi::sqlite3_file, *mut ffi::sqlite3_int64) -> c_int,
    file_control: unsafe extern "C" fn(*mut ffi::sqlite3_file, c_int, *mut c_void) -> c_int,
    fetch: unsafe extern "C" fn(
        *mut ffi::sqlite3_file,
        ffi::sqlite3_int64,
        c_int,
        *mut *mut c_void,
    ) -> c_int,
    unfetch: unsafe extern "C" fn(*mut ffi::sqlite3_file, ffi::sqlite3_int64, *mut c_void) -> c_int,
}

/// The replacement methods of each kind, made from the first file's.
static DATABASE: OnceLock<Option<Methods>> = OnceLock::new();
static LOG: OnceLock<Option<Methods>> = OnceLock::new();

impl Kind {
    /// Where this kind's replacement is kept.
    fn slot(self) -> &'static OnceLock<Option<Methods>> {
        match self {
            Kind::Database => &DATABASE,
            Kind::Log => &LOG,
        }
    }

    /// The replacement for this kind of file's `methods`, if they map files.
    fn replacing(self, methods: *const ffi::sqlite3_io_methods) -> Option<&'static Methods> {
        let made = self.slot().get_or_init(|| {
            // SAFETY: a file's methods are static in the VFS that opened it.
            let original = unsafe { methods.as_ref()? };
            if original.iVersion < 3 {
                return None;
            }
            let mut replaced = *original;
            match self {
                Kind::Database => {
                    replaced.xRead = Some(read_database);
                    replaced.xUnfetch = Some(unfetch_database);
                }
                Kind::Log => replaced.xRead = Some(read_log),
            }
            Some(Methods {
                original: methods as usize,
                replaced,
                read: original.xRead?,
                file_size: original.xFileSize?,
                file_control: original.xFileControl?,
                fetch: original.xFetch?,
                unfetch: original.xUnfetch?,
            })
        });
        made.as_ref()
            .filter(|made| made.original == methods as usize)
    }

    /// The replacement in use (files are opened with it first).
    fn methods(self) -> Option<&'static Methods> {
        self.slot().get()?.as_ref()
    }
}

impl Methods {
    /// `file`'s map as it would be made now, if its size can be read.
    fn map_now(&self, file: *mut ffi::sqlite3_file) -> Option<Mapped> {
        let mut size = 0;
        // SAFETY: `file` is open, with these methods.
        if unsafe { (self.file_size)(file, &mut size) } != ffi::SQLITE_OK {
            return None;
        }
        // A negative limit reads the limit without changing it.
        let mut limit: ffi::sqlite3_int64 = -1;
        // SAFETY: as above; the control reads and writes the integer given.
        unsafe {
            (self.file_control)(
                file,
                ffi::SQLITE_FCNTL_MMAP_SIZE,
                (&raw mut limit).cast::<c_void>(),
            );
        }
        Some(Mapped::of(size, limit))
    }

    /// Sets how much of the log `file` the default VFS may map.
    fn allow_log_map(&self, file: *mut ffi::sqlite3_file) {
        let mut limit: ffi::sqlite3_int64 = LOG_MAP_BYTES;
        // SAFETY: `file` is open, with these methods; the control reads and
        // writes the integer given.
        unsafe {
            (self.file_control)(
                file,
                ffi::SQLITE_FCNTL_MMAP_SIZE,
                (&raw mut limit).cast::<c_void>(),
            );
        }
    }

    /// Maps the log `file` again, at its size now.
    fn map_log(&self, file: *mut ffi::sqlite3_file, state: &mut State) {
        // Read before the map is made: it covers no less.
        state.map = self.map_now(file);
        let mut page = std::ptr::null_mut();
        // SAFETY: `file` is open, with these methods, and no page of its
        // map is out (SQLite fetches none from a log; the one fetched here
        // is let go of at once): letting go of none unmaps the file, and
        // fetching maps it at its size.
        unsafe {
            (self.unfetch)(file, 0, std::ptr::null_mut());
            if (self.fetch)(file, 0, 0, &mut page) == ffi::SQLITE_OK && !page.is_null() {
                (self.unfetch)(file, 0, page);
            }
        }
        #[cfg(test)]
        {
            state.counts.log_maps += 1;
        }
    }
}

/// What this VFS counted of the files of `connection`'s main database: its
/// database file's and its log's counts (none where it did not open them).
#[cfg(test)]
pub(super) fn counts(connection: &rusqlite::Connection) -> (Option<Counts>, Option<Counts>) {
    let of = |operation: c_int| {
        let mut file: *mut ffi::sqlite3_file = std::ptr::null_mut();
        // SAFETY: the controls write the file's pointer (null where it has
        // none); the connection is held, so its files stay open.
        unsafe {
            ffi::sqlite3_file_control(
                connection.handle(),
                c"main".as_ptr(),
                operation,
                (&raw mut file).cast::<c_void>(),
            );
            if file.is_null() || (*file).pMethods.is_null() {
                return None;
            }
            let ours = [Kind::Database, Kind::Log]
                .iter()
                .filter_map(|kind| kind.methods())
                .any(|methods| std::ptr::eq((*file).pMethods, &methods.replaced));
            ours.then(|| state(file).map(|state| state.counts))?
        }
    };
    (
        of(ffi::SQLITE_FCNTL_FILE_POINTER),
        of(ffi::SQLITE_FCNTL_JOURNAL_POINTER),
    )
}

/// Opens a file with the default VFS; a database file gets the methods
/// that keep its map, a log those that read it through one.
unsafe extern "C" fn open(
    vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let _ = vfs;
    let Some(&(base, offset)) = BASE.get() else {
        return ffi::SQLITE_ERROR;
    };
    let base = base as *mut ffi::sqlite3_vfs;
    // SAFETY: SQLite gave the file this VFS's size: the default VFS opens
    // its own part, and the state follows at `offset`.
    unsafe {
        file.cast::<u8>()
            .add(offset)
            .cast::<State>()
            .write(State::default());
        let Some(base_open) = (*base).xOpen else {
            return ffi::SQLITE_ERROR;
        };
        let opened = base_open(base, name, file, flags, out_flags);
        if opened != ffi::SQLITE_OK {
            return opened;
        }
        let kind = if flags & ffi::SQLITE_OPEN_MAIN_DB != 0 {
            Kind::Database
        } else if flags & ffi::SQLITE_OPEN_WAL != 0 {
            Kind::Log
        } else {
            return opened;
        };
        if let Some(methods) = kind.replacing((*file).pMethods) {
            if let Kind::Log = kind {
                methods.allow_log_map(file);
            }
            (*file).pMethods = &methods.replaced;
        }
        opened
    }
}

/// Reads from a database file as the default VFS does (through its map
/// where it covers the range), counting the reads past the map.
unsafe extern "C" fn read_database(
    file: *mut ffi::sqlite3_file,
    buffer: *mut c_void,
    amount: c_int,
    offset: ffi::sqlite3_int64,
) -> c_int {
    let Some(methods) = Kind::Database.methods() else {
        return ffi::SQLITE_IOERR_READ;
    };
    let end = offset.saturating_add(ffi::sqlite3_int64::from(amount));
    // SAFETY: SQLite called this with a file this VFS opened.
    if let Some(Some(map)) = unsafe { state(file) }.map(|state| state.map.as_mut()) {
        map.read_past(end);
    }
    // SAFETY: as SQLite called this, with the default VFS's file.
    unsafe { (methods.read)(file, buffer, amount, offset) }
}

/// Reads from a log as the default VFS does, through its map, made again
/// first if the read goes past it and [`Mapped::outgrown_by`] says (or it
/// was never made).
unsafe extern "C" fn read_log(
    file: *mut ffi::sqlite3_file,
    buffer: *mut c_void,
    amount: c_int,
    offset: ffi::sqlite3_int64,
) -> c_int {
    let Some(methods) = Kind::Log.methods() else {
        return ffi::SQLITE_IOERR_READ;
    };
    let end = offset.saturating_add(ffi::sqlite3_int64::from(amount));
    // SAFETY: SQLite called this with a file this VFS opened.
    if let Some(state) = unsafe { state(file) } {
        let remap = match &mut state.map {
            None => true,
            Some(map) => map.read_past(end) && map.outgrown_by(end),
        };
        if remap {
            methods.map_log(file, state);
        }
    }
    // SAFETY: as SQLite called this, with the default VFS's file.
    unsafe { (methods.read)(file, buffer, amount, offset) }
}

/// Lets go of a page fetched from a database file's map, as the default
/// VFS does; of the whole map only the first time, or once it is outgrown
/// ([`Mapped::outgrown_by`] the file's size now).
unsafe extern "C" fn unfetch_database(
    file: *mut ffi::sqlite3_file,
    offset: ffi::sqlite3_int64,
    page: *mut c_void,
) -> c_int {
    let Some(methods) = Kind::Database.methods() else {
        return ffi::SQLITE_ERROR;
    };
    // SAFETY: SQLite called this with a file this VFS opened.
    if page.is_null()
        && let Some(state) = unsafe { state(file) }
        && let Some(now) = methods.map_now(file)
    {
        if state.map.is_some_and(|map| !map.outgrown_by(now.size)) {
            #[cfg(test)]
            {
                state.counts.kept += 1;
            }
            return ffi::SQLITE_OK;
        }
        #[cfg(test)]
        if state
            .map
            .is_some_and(|map| now.size <= map.size + map.size / 4)
        {
            state.counts.remade_for_reads_past += 1;
        }
        // Let go of: the default VFS maps the file at its size at the next
        // page fetched, which covers no less than the size read now.
        state.map = Some(now);
    }
    // SAFETY: as SQLite called this, with the default VFS's file.
    unsafe { (methods.unfetch)(file, offset, page) }
}
