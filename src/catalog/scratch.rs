//! The text index's directory: its large files (the segments of a build) memory-mapped from a
//! private temporary directory, its small ones (an edit's commit, the index's metadata) in
//! memory, nothing synced. The index is built from the store at start (or copied from the
//! index a start saved, `text::saved`, which is synced when it is written) and the directory
//! is deleted with the last snapshot, so durability buys nothing here, and an edit's small
//! commit must not wait for the disk (with files and fsyncs it took half as long again).

use std::collections::HashSet;
use std::fs::OpenOptions;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tantivy::directory::error::{DeleteError, OpenReadError, OpenWriteError};
use tantivy::directory::{
    AntiCallToken, Directory, FileHandle, MmapDirectory, RamDirectory, TerminatingWrite,
    WatchCallback, WatchHandle, WritePtr,
};

/// Files up to this size stay in memory: an edit's commit writes a dozen small files, and
/// creating, renaming and mapping each on disk cost more than the edit itself.
pub(crate) const IN_MEMORY_MAX: usize = 1 << 20;

#[derive(Debug, Clone)]
pub struct ScratchDirectory {
    files: MmapDirectory,
    small: RamDirectory,
    /// Files opened for writing and not finished yet (a lock file is never finished): they
    /// exist, so a second writer of the same name is refused.
    open: Arc<Mutex<HashSet<PathBuf>>>,
    root: PathBuf,
}

impl ScratchDirectory {
    /// The directory at `root`, which must exist.
    pub fn open(root: &Path) -> tantivy::Result<ScratchDirectory> {
        Ok(ScratchDirectory {
            files: MmapDirectory::open(root)?,
            small: RamDirectory::create(),
            open: Default::default(),
            root: root.to_path_buf(),
        })
    }

    /// Adds the file at `source` as `path`: small ones are read into memory, large ones
    /// linked (or, across file systems, copied) into the directory. `source` is not changed.
    pub fn import(&self, source: &Path, path: &Path) -> io::Result<()> {
        let len = std::fs::metadata(source)?.len();
        if len <= IN_MEMORY_MAX as u64 {
            return self.small.atomic_write(path, &std::fs::read(source)?);
        }
        let dest = self.root.join(path);
        if std::fs::hard_link(source, &dest).is_err() {
            std::fs::copy(source, &dest)?;
        }
        Ok(())
    }

    /// Writes the file `path` to `dest` as written (footer included): small ones from memory,
    /// large ones linked (or copied) on disk — never through the index's mapping, which would
    /// bring the whole file into the process's resident memory.
    pub fn export(&self, path: &Path, dest: &Path) -> io::Result<()> {
        if self.small.exists(path).unwrap_or(false) {
            let bytes = self.small.atomic_read(path).map_err(io::Error::other)?;
            return std::fs::write(dest, bytes);
        }
        let source = self.root.join(path);
        if std::fs::hard_link(&source, dest).is_err() {
            std::fs::copy(&source, dest)?;
        }
        Ok(())
    }

    fn is_open(&self, path: &Path) -> bool {
        self.open.lock().is_ok_and(|o| o.contains(path))
    }

    fn set_open(&self, path: &Path, open: bool) -> bool {
        let Ok(mut o) = self.open.lock() else {
            return false;
        };
        if open {
            o.insert(path.to_path_buf())
        } else {
            o.remove(path)
        }
    }
}

/// A file being written: kept in memory until it is finished, then stored in memory or, when
/// large, on disk without a sync.
struct Staged {
    dir: ScratchDirectory,
    path: PathBuf,
    bytes: Vec<u8>,
}

impl Write for Staged {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl TerminatingWrite for Staged {
    fn terminate_ref(&mut self, _: AntiCallToken) -> io::Result<()> {
        let bytes = std::mem::take(&mut self.bytes);
        if bytes.len() <= IN_MEMORY_MAX {
            self.dir.small.atomic_write(&self.path, &bytes)?;
        } else {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(self.dir.root.join(&self.path))?;
            file.write_all(&bytes)?;
        }
        self.dir.set_open(&self.path, false);
        Ok(())
    }
}

impl Directory for ScratchDirectory {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        if self.small.exists(path)? {
            return self.small.get_file_handle(path);
        }
        self.files.get_file_handle(path)
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        if self.set_open(path, false) {
            return Ok(());
        }
        if self.small.exists(path).unwrap_or(false) {
            return self.small.delete(path);
        }
        self.files.delete(path)
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        Ok(self.is_open(path) || self.small.exists(path)? || self.files.exists(path)?)
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        let taken = self
            .exists(path)
            .map_err(|e| OpenWriteError::wrap_io_error(io::Error::other(e), path.to_path_buf()))?;
        if taken || !self.set_open(path, true) {
            return Err(OpenWriteError::FileAlreadyExists(path.to_path_buf()));
        }
        Ok(BufWriter::new(Box::new(Staged {
            dir: self.clone(),
            path: path.to_path_buf(),
            bytes: Vec::new(),
        })))
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        self.small.atomic_read(path)
    }

    fn atomic_write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        self.small.atomic_write(path, data)
    }

    fn sync_directory(&self) -> io::Result<()> {
        Ok(())
    }

    fn watch(&self, callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.small.watch(callback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_written_are_read_back_small_in_memory_and_large_on_disk() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ScratchDirectory::open(tmp.path()).unwrap();
        for (name, len) in [("small.bin", 10), ("large.bin", IN_MEMORY_MAX + 1)] {
            let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let path = Path::new(name);
            let mut w = dir.open_write(path).unwrap();
            // Being written, it exists: a second writer is refused (tantivy's locks rely on it).
            assert!(dir.exists(path).unwrap());
            assert!(matches!(
                dir.open_write(path),
                Err(OpenWriteError::FileAlreadyExists(_))
            ));
            w.write_all(&data).unwrap();
            w.into_inner().ok().unwrap().terminate().unwrap();
            let back = dir.open_read(path).unwrap().read_bytes().unwrap();
            assert_eq!(back.as_slice(), &data[..]);
            assert_eq!(
                tmp.path().join(name).exists(),
                len > IN_MEMORY_MAX,
                "{name}"
            );
            dir.delete(path).unwrap();
            assert!(!dir.exists(path).unwrap());
        }
        // A lock: opened, never finished, deleted.
        let lock = Path::new(".lock");
        drop(dir.open_write(lock).unwrap());
        assert!(dir.open_write(lock).is_err());
        dir.delete(lock).unwrap();
        assert!(dir.open_write(lock).is_ok());
        dir.atomic_write(Path::new("meta.json"), b"{1}").unwrap();
        dir.atomic_write(Path::new("meta.json"), b"{2}").unwrap();
        assert_eq!(dir.atomic_read(Path::new("meta.json")).unwrap(), b"{2}");
    }
}
