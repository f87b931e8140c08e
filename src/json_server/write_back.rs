//! Writing a db.json back after each change, as json-server does: the whole
//! database, pretty-printed, to a temporary file in the same directory that
//! is synced and then renamed over the original, so the file is never
//! half-written and a crash leaves the old or the new contents.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use serde_json::Value;

/// The db.json file that changes are written back to.
#[derive(Debug)]
pub struct WriteBack {
    path: PathBuf,
    /// Held while the file is written: one writer at a time, whatever thread it is on.
    lock: Mutex<()>,
}

impl WriteBack {
    /// Writes changes back to the file at `path`.
    pub fn new(path: &Path) -> WriteBack {
        WriteBack {
            path: path.to_path_buf(),
            lock: Mutex::new(()),
        }
    }

    /// Excludes writing the file while the guard lives.
    pub fn hold(&self) -> MutexGuard<'_, ()> {
        self.lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Writes `database` to the file atomically (the caller holds [`WriteBack::hold`]);
    /// returns the text written.
    pub fn write(&self, database: &Value) -> std::io::Result<String> {
        let mut text = serde_json::to_string_pretty(database).expect("JSON values serialise");
        text.push('\n');
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
        // The rename is durable once the directory is synced.
        if let Ok(handle) = std::fs::File::open(directory) {
            let _ = handle.sync_all();
        }
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_replaced_whole_and_no_temporary_file_stays() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("db.json");
        std::fs::write(&path, "{}").unwrap();
        let back = WriteBack::new(&path);
        let _held = back.hold();
        back.write(&serde_json::json!({"posts": [{"id": 1}]}))
            .unwrap();
        let written: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(written, serde_json::json!({"posts": [{"id": 1}]}));
        assert_eq!(std::fs::read_dir(directory.path()).unwrap().count(), 1);
    }
}
