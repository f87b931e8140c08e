//! A VFS for the reading connections of an in-memory store: SQLite's own,
//! except that a database file's memory map outlives other connections'
//! commits, and its log is read through a map too.
//!
//! SQLite unmaps a connection's whole database file at its first read
//! transaction after a commit elsewhere (a map made for the file's size
//! then could be read past a truncated end); the reader then maps and
//! faults its pages in again, or without a map copies each page it reads
//! from the kernel. Under a steady stream of writes that was most of what
//! a read cost. The store's temporary file is its own and only grows
//! (nothing vacuums or truncates it), so its map stays true: pages past
//! the mapped end are read as without a map, and the map is made again
//! once the file has grown by a quarter, or once it has grown and
//! [`READS_PAST_BEFORE_REMAP`] reads went past the map's end (what a write
//! adds to the file, such as an index a query made, is what the next reads
//! read).
//!
//! SQLite reads the log's (the `-wal` file's) pages with a system call
//! each, into a connection's page cache, which it empties whenever another
//! connection has committed: under a steady stream of writes every read
//! read the pages written since the last checkpoint again, one call each.
//! The default VFS copies a read from a file's map where the map covers
//! it, so the log is mapped too, and mapped again by the same rule as the
//! database file. SQLite reads only frames of the log that a snapshot
//! holds, which are not rewritten while it is read, and it shortens the
//! log only as its last connection closes (nothing here sets a size limit
//! or truncates it), so a map never covers bytes past the file's end.

use std::collections::HashMap;
use std::ffi::{CStr, c_char, c_int, c_void};
use std::sync::{LazyLock, Mutex, OnceLock};

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
            if base.is_null() || (*base).xOpen.is_none() || BASE.set(base as usize).is_err() {
                return false;
            }
            let mut vfs = *base;
            vfs.zName = NAME.as_ptr();
            vfs.pNext = std::ptr::null_mut();
            vfs.xOpen = Some(open);
            ffi::sqlite3_vfs_register(Box::leak(Box::new(vfs)), 0) == ffi::SQLITE_OK
        }
    })
}

/// The default VFS, whose files this one's are.
static BASE: OnceLock<usize> = OnceLock::new();

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
    close: unsafe extern "C" fn(*mut ffi::sqlite3_file) -> c_int,
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
                    replaced.xClose = Some(close_database);
                    replaced.xRead = Some(read_database);
                    replaced.xUnfetch = Some(unfetch_database);
                }
                Kind::Log => {
                    replaced.xClose = Some(close_log);
                    replaced.xRead = Some(read_log);
                }
            }
            Some(Methods {
                original: methods as usize,
                replaced,
                close: original.xClose?,
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

/// A file's map, as last let go of (the default VFS maps the file again,
/// at its size then, at the next page fetched).
#[derive(Clone, Copy)]
struct Mapped {
    /// The file's size then.
    size: i64,
    /// How many reads since went past it.
    reads_past: u32,
}

/// How many reads past the end of a file's map make it worth making again
/// (each a system call; the map's pages are faulted in again once).
const READS_PAST_BEFORE_REMAP: u32 = 1024;

/// The most of a log mapped; frames past it are read with a system call.
const LOG_MAP_BYTES: ffi::sqlite3_int64 = 256 << 20;

/// By open file, its map as last let go of.
static MAPPED: LazyLock<Mutex<HashMap<usize, Mapped>>> = LazyLock::new(Mutex::default);

/// The maps as last let go of.
fn mapped() -> std::sync::MutexGuard<'static, HashMap<usize, Mapped>> {
    MAPPED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Whether a read of `file` ending at `end` goes past its map (or it has
/// none); counts it if so.
fn read_past(file: *mut ffi::sqlite3_file, end: i64) -> bool {
    match mapped().get_mut(&(file as usize)) {
        Some(map) if end <= map.size => false,
        Some(map) => {
            map.reads_past = map.reads_past.saturating_add(1);
            true
        }
        None => true,
    }
}

impl Methods {
    /// Whether `file`'s map is to be let go of: it is the first time, or
    /// the file has grown by a quarter since it was mapped, or it has grown
    /// and [`READS_PAST_BEFORE_REMAP`] reads went past the map.
    fn outgrown(&self, file: *mut ffi::sqlite3_file) -> bool {
        let mut size = 0;
        // SAFETY: `file` is open, with these methods.
        if unsafe { (self.file_size)(file, &mut size) } != ffi::SQLITE_OK {
            return true;
        }
        let now = Mapped {
            size,
            reads_past: 0,
        };
        let mut mapped = mapped();
        match mapped.get_mut(&(file as usize)) {
            Some(map)
                if size <= map.size
                    || (size <= map.size + map.size / 4
                        && map.reads_past < READS_PAST_BEFORE_REMAP) =>
            {
                false
            }
            Some(map) => {
                #[cfg(test)]
                if size <= map.size + map.size / 4 {
                    REMADE_FOR_READS_PAST.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                *map = now;
                true
            }
            None => {
                mapped.insert(file as usize, now);
                true
            }
        }
    }

    /// Lets the default VFS map the log `file` (up to [`LOG_MAP_BYTES`]).
    fn allow_log_map(&self, file: *mut ffi::sqlite3_file) {
        let mut limit: ffi::sqlite3_int64 = LOG_MAP_BYTES;
        // SAFETY: `file` is open, with these methods; the control reads and
        // writes the 64-bit integer given.
        unsafe {
            (self.file_control)(
                file,
                ffi::SQLITE_FCNTL_MMAP_SIZE,
                (&raw mut limit).cast::<c_void>(),
            );
        }
    }

    /// Maps the log `file` again, at its size now.
    fn map_log(&self, file: *mut ffi::sqlite3_file) {
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
        LOG_MAPS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// How many times a file's map was kept where SQLite let it go, by every
/// connection of the process.
#[cfg(test)]
pub(super) fn maps_kept() -> u64 {
    MAPS_KEPT.load(std::sync::atomic::Ordering::Relaxed)
}

#[cfg(test)]
static MAPS_KEPT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many times a map was made again because reads went past it, by
/// every connection of the process.
#[cfg(test)]
pub(super) fn remade_for_reads_past() -> u64 {
    REMADE_FOR_READS_PAST.load(std::sync::atomic::Ordering::Relaxed)
}

#[cfg(test)]
static REMADE_FOR_READS_PAST: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many times a log was mapped, by every connection of the process.
#[cfg(test)]
pub(super) fn log_maps() -> u64 {
    LOG_MAPS.load(std::sync::atomic::Ordering::Relaxed)
}

#[cfg(test)]
static LOG_MAPS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

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
    let Some(&base) = BASE.get() else {
        return ffi::SQLITE_ERROR;
    };
    let base = base as *mut ffi::sqlite3_vfs;
    // SAFETY: the default VFS opens the file into the space SQLite gave,
    // which is its size (this VFS's is a copy of its).
    unsafe {
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
    read_past(
        file,
        offset.saturating_add(ffi::sqlite3_int64::from(amount)),
    );
    // SAFETY: as SQLite called this, with the default VFS's file.
    unsafe { (methods.read)(file, buffer, amount, offset) }
}

/// Reads from a log as the default VFS does, through its map, made again
/// first if the read goes past it and [`Methods::outgrown`] says.
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
    if read_past(file, end) && methods.outgrown(file) {
        methods.map_log(file);
    }
    // SAFETY: as SQLite called this, with the default VFS's file.
    unsafe { (methods.read)(file, buffer, amount, offset) }
}

/// Lets go of a page fetched from a database file's map, as the default
/// VFS does; the whole map only when [`Methods::outgrown`] says.
unsafe extern "C" fn unfetch_database(
    file: *mut ffi::sqlite3_file,
    offset: ffi::sqlite3_int64,
    page: *mut c_void,
) -> c_int {
    let Some(methods) = Kind::Database.methods() else {
        return ffi::SQLITE_ERROR;
    };
    if page.is_null() && !methods.outgrown(file) {
        #[cfg(test)]
        MAPS_KEPT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return ffi::SQLITE_OK;
    }
    // SAFETY: as SQLite called this, with the default VFS's file.
    unsafe { (methods.unfetch)(file, offset, page) }
}

/// Closes a file of `kind`, forgetting its map.
fn close_as(kind: Kind, file: *mut ffi::sqlite3_file) -> c_int {
    let Some(methods) = kind.methods() else {
        return ffi::SQLITE_ERROR;
    };
    mapped().remove(&(file as usize));
    // SAFETY: as SQLite called the replacement, with the default VFS's file.
    unsafe { (methods.close)(file) }
}

/// Closes a database file, forgetting its map.
unsafe extern "C" fn close_database(file: *mut ffi::sqlite3_file) -> c_int {
    close_as(Kind::Database, file)
}

/// Closes a log, forgetting its map.
unsafe extern "C" fn close_log(file: *mut ffi::sqlite3_file) -> c_int {
    close_as(Kind::Log, file)
}
