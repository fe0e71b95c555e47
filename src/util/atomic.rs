//! Files that appear whole or not at all.
//!
//! Every output is written to a temporary file in its own directory
//! (`.triage-*.tmp`, mode 0600 on Unix), flushed, synced and renamed into
//! place, so a reader never sees half a file and an interrupted run leaves
//! the previous outputs as they were.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Write `bytes` to `path` atomically: a temporary file in the same
/// directory (mode 0600 on Unix), flushed and synced, then renamed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".triage-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Writes to a temporary file in a directory (mode 0600), renamed into
/// place by [`Spool::persist`]; dropped unpersisted, it disappears.
pub struct Spool {
    pub(crate) file: tempfile::NamedTempFile,
    pub(crate) out: BufWriter<File>,
    len: u64,
}

impl Spool {
    /// A new temporary file in `dir`.
    pub fn new(dir: &Path) -> std::io::Result<Spool> {
        let file = tempfile::Builder::new()
            .prefix(".triage-")
            .suffix(".tmp")
            .tempfile_in(dir)?;
        let out = BufWriter::with_capacity(1 << 16, file.reopen()?);
        Ok(Spool { file, out, len: 0 })
    }

    /// Append bytes.
    pub fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.out.write_all(bytes)?;
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Flush, sync and rename to `path`.
    pub fn persist(mut self, path: &Path) -> std::io::Result<()> {
        self.out.flush()?;
        self.out.get_ref().sync_all()?;
        self.file.persist(path).map_err(|e| e.error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
