//! A VFS for the reading connections of an in-memory store: SQLite's own,
//! except that a database file's memory map outlives other connections'
//! commits. SQLite unmaps a connection's whole file at its first read
//! transaction after a commit elsewhere (a map made for the file's size
//! then could be read past a truncated end); the reader then maps and
//! faults its pages in again, or without a map copies each page it reads
//! from the kernel. Under a steady stream of writes that was most of what
//! a read cost. The store's temporary file is its own and only grows
//! (nothing vacuums or truncates it), so its map stays true: pages past
//! the mapped end are read as without a map, and the map is made again
//! once the file has grown by a quarter.

use std::collections::HashMap;
use std::ffi::{CStr, c_char, c_int, c_void};
use std::sync::{Mutex, OnceLock};

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

/// The replacement methods, made from the first database file's.
static KEPT: OnceLock<Option<KeptMap>> = OnceLock::new();

/// The default VFS's methods for a database file, with unmapping the
/// whole file left to [`unfetch`].
struct KeptMap {
    /// The methods replaced.
    original: usize,
    /// The replacement.
    methods: ffi::sqlite3_io_methods,
    close: unsafe extern "C" fn(*mut ffi::sqlite3_file) -> c_int,
    file_size: unsafe extern "C" fn(*mut ffi::sqlite3_file, *mut ffi::sqlite3_int64) -> c_int,
    unfetch: unsafe extern "C" fn(*mut ffi::sqlite3_file, ffi::sqlite3_int64, *mut c_void) -> c_int,
    /// By open file, its size when its map was last let go of.
    mapped: Mutex<HashMap<usize, i64>>,
}

impl KeptMap {
    /// The replacement for a database file's `methods`, if they map files.
    fn of(methods: *const ffi::sqlite3_io_methods) -> Option<&'static KeptMap> {
        let kept = KEPT.get_or_init(|| {
            // SAFETY: a file's methods are static in the VFS that opened it.
            let original = unsafe { methods.as_ref()? };
            if original.iVersion < 3 {
                return None;
            }
            let mut replaced = *original;
            replaced.xClose = Some(close);
            replaced.xUnfetch = Some(unfetch);
            Some(KeptMap {
                original: methods as usize,
                methods: replaced,
                close: original.xClose?,
                file_size: original.xFileSize?,
                unfetch: original.xUnfetch?,
                mapped: Mutex::default(),
            })
        });
        kept.as_ref()
            .filter(|kept| kept.original == methods as usize)
    }

    /// The replacement in use (files are opened with it first).
    fn get() -> Option<&'static KeptMap> {
        KEPT.get()?.as_ref()
    }

    /// Whether `file`'s map is to be let go of: it is the first time, or
    /// the file has grown by a quarter since it was mapped.
    fn outgrown(&self, file: *mut ffi::sqlite3_file) -> bool {
        let mut size = 0;
        // SAFETY: `file` is open, with these methods.
        if unsafe { (self.file_size)(file, &mut size) } != ffi::SQLITE_OK {
            return true;
        }
        let mut mapped = self
            .mapped
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match mapped.get_mut(&(file as usize)) {
            Some(at) if size <= *at + *at / 4 => false,
            Some(at) => {
                *at = size;
                true
            }
            None => {
                mapped.insert(file as usize, size);
                true
            }
        }
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

/// Opens a file with the default VFS; a database file gets the methods
/// that keep its map.
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
        if opened == ffi::SQLITE_OK
            && flags & ffi::SQLITE_OPEN_MAIN_DB != 0
            && let Some(kept) = KeptMap::of((*file).pMethods)
        {
            (*file).pMethods = &kept.methods;
        }
        opened
    }
}

/// Lets go of a page fetched from the map, as the default VFS does; the
/// whole map only when [`KeptMap::outgrown`] says.
unsafe extern "C" fn unfetch(
    file: *mut ffi::sqlite3_file,
    offset: ffi::sqlite3_int64,
    page: *mut c_void,
) -> c_int {
    let Some(kept) = KeptMap::get() else {
        return ffi::SQLITE_ERROR;
    };
    if page.is_null() && !kept.outgrown(file) {
        #[cfg(test)]
        MAPS_KEPT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return ffi::SQLITE_OK;
    }
    // SAFETY: as SQLite called this, with the default VFS's file.
    unsafe { (kept.unfetch)(file, offset, page) }
}

/// Closes a file, forgetting its map's size.
unsafe extern "C" fn close(file: *mut ffi::sqlite3_file) -> c_int {
    let Some(kept) = KeptMap::get() else {
        return ffi::SQLITE_ERROR;
    };
    kept.mapped
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .remove(&(file as usize));
    // SAFETY: as SQLite called this, with the default VFS's file.
    unsafe { (kept.close)(file) }
}
