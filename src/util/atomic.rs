//! Files, and sets of files, that appear whole or not at all.
//!
//! Every output is written to a temporary file in its own directory
//! (`.triage-*.tmp`, mode 0600 on Unix), flushed, synced and renamed into
//! place, so a reader never sees half a file.
//!
//! A run's outputs are one unit ([`OutputSet`]): they are written into a
//! fresh folder beside the output folder, which is swapped in once every
//! file is complete. After a crash, `kill -9` or a full disk the output
//! folder holds either the complete previous set or the complete new one,
//! and the next run removes what the crashed one left behind.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

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

/// Infix of the staging and retired folders beside an output folder.
const SET_INFIX: &str = ".triage-";

/// An output folder replaced as a whole: the sinks write into
/// [`OutputSet::dir`], a fresh folder beside the target (mode 0700), and
/// [`OutputSet::commit`] swaps it in (atomically on Linux, where the two
/// folders are exchanged in one step). Dropped without a commit, the
/// staging folder is removed. Files of an earlier run that this run does
/// not write disappear with the old folder.
#[derive(Debug)]
pub struct OutputSet {
    target: PathBuf,
    staging: PathBuf,
    committed: bool,
}

impl OutputSet {
    /// Prepare a run into `target`. First the leftovers of a crashed run
    /// into the same folder are cleared: a staging folder is removed (or,
    /// if the crash came between the two steps of a swap, put in place),
    /// a retired old folder removed, and stray temporaries inside
    /// `target` deleted. `target` must not hold files other than `owned`
    /// (the names a run writes), so that a folder with other files in it
    /// is never replaced.
    pub fn prepare(target: &Path, owned: &[&str]) -> std::io::Result<OutputSet> {
        let target = match std::fs::symlink_metadata(target) {
            Ok(m) if m.file_type().is_symlink() => std::fs::canonicalize(target)?,
            _ => target.to_path_buf(),
        };
        let (parent, name) = split(&target)?;
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(&parent)?;
        }
        recover(&parent, &name, &target)?;
        match std::fs::metadata(&target) {
            Ok(m) if !m.is_dir() => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    format!("{} 已存在，但不是目录", target.display()),
                ));
            }
            Ok(_) => check_owned(&target, owned)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let staging = dir_of(&parent).join(format!(
            ".{name}{SET_INFIX}new-{}-{}",
            std::process::id(),
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
        ));
        let mut b = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            b.mode(0o700);
        }
        b.create(&staging)?;
        Ok(OutputSet {
            target,
            staging,
            committed: false,
        })
    }

    /// The folder to write this run's files into.
    pub fn dir(&self) -> &Path {
        &self.staging
    }

    /// The output folder the set goes to.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Swap the complete set in: the staging folder becomes the output
    /// folder and the previous one is removed.
    pub fn commit(mut self) -> std::io::Result<()> {
        sync_dir(&self.staging)?;
        let (parent, name) = split(&self.target)?;
        let parent = dir_of(&parent).to_path_buf();
        if std::fs::symlink_metadata(&self.target).is_err() {
            std::fs::rename(&self.staging, &self.target)?;
        } else if exchange(&self.staging, &self.target)? {
            // The staging path now holds the previous set.
            std::fs::remove_dir_all(&self.staging)?;
        } else {
            let old = parent.join(format!(".{name}{SET_INFIX}old-{}", std::process::id()));
            std::fs::rename(&self.target, &old)?;
            std::fs::rename(&self.staging, &self.target)?;
            std::fs::remove_dir_all(&old)?;
        }
        self.committed = true;
        sync_dir(&parent)?;
        Ok(())
    }
}

impl Drop for OutputSet {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}

/// The parent folder and the name of `target`; `.` and `/` have no name
/// and cannot be replaced.
fn split(target: &Path) -> std::io::Result<(PathBuf, String)> {
    let name = target
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| *n != "." && *n != "..");
    match name {
        Some(n) => Ok((
            target.parent().map(Path::to_path_buf).unwrap_or_default(),
            n.to_string(),
        )),
        None => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "输出目录 {} 不能整体替换；请指定一个专用的输出目录，如 --out out",
                target.display()
            ),
        )),
    }
}

fn dir_of(parent: &Path) -> &Path {
    if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    }
}

/// Clear what a crashed run into `target` left beside and inside it.
fn recover(parent: &Path, name: &str, target: &Path) -> std::io::Result<()> {
    let new_prefix = format!(".{name}{SET_INFIX}new-");
    let old_prefix = format!(".{name}{SET_INFIX}old-");
    let mut staged = Vec::new();
    let mut retired = Vec::new();
    for entry in std::fs::read_dir(dir_of(parent))? {
        let entry = entry?;
        let file_name = entry.file_name();
        let Some(n) = file_name.to_str() else {
            continue;
        };
        if n.starts_with(&new_prefix) {
            staged.push(entry.path());
        } else if n.starts_with(&old_prefix) {
            retired.push(entry.path());
        }
    }
    if std::fs::symlink_metadata(target).is_err() && !retired.is_empty() {
        // A crash between the two renames of a swap: the new set is
        // complete if its manifest (written last) is there.
        let complete = staged.iter().position(|s| s.join("manifest.json").exists());
        match complete {
            Some(i) => std::fs::rename(staged.remove(i), target)?,
            None => std::fs::rename(retired.remove(0), target)?,
        }
    }
    for p in staged.iter().chain(&retired) {
        std::fs::remove_dir_all(p)?;
    }
    if let Ok(entries) = std::fs::read_dir(target) {
        for entry in entries.flatten() {
            let n = entry.file_name();
            let n = n.to_string_lossy();
            if n.starts_with(".triage-") && n.ends_with(".tmp") {
                std::fs::remove_file(entry.path())?;
            }
        }
    }
    Ok(())
}

/// Refuse to replace a folder that holds files a run does not write.
fn check_owned(target: &Path, owned: &[&str]) -> std::io::Result<()> {
    for entry in std::fs::read_dir(target)? {
        let entry = entry?;
        let n = entry.file_name();
        let n = n.to_string_lossy();
        if !owned.contains(&n.as_ref()) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!(
                    "输出目录 {} 中有不是 triage 写出的文件 {n}；输出目录会整体替换，\
                     为免误删，请换一个专用的输出目录或先移走该文件",
                    target.display()
                ),
            ));
        }
    }
    Ok(())
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Exchange two folders in one step where the system can (Linux); false
/// when it cannot, and nothing was changed.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<bool> {
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        std::ffi::CString::new(p.as_os_str().as_bytes())
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))
    };
    let (ca, cb) = (c(a)?, c(b)?);
    // SAFETY: both are valid NUL-terminated paths that outlive the call.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EINVAL) | Some(libc::ENOSYS) | Some(libc::EOPNOTSUPP) => Ok(false),
        _ => Err(e),
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Path, _b: &Path) -> std::io::Result<bool> {
    Ok(false)
}

/// Create `dir` (and its parents) with mode 0700.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
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

    #[test]
    fn output_set_replaces_the_folder_whole() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        let owned = ["a.txt", "b.txt", "manifest.json"];
        let set = OutputSet::prepare(&out, &owned).unwrap();
        write_atomic(&set.dir().join("a.txt"), b"1").unwrap();
        write_atomic(&set.dir().join("b.txt"), b"1").unwrap();
        set.commit().unwrap();
        let set = OutputSet::prepare(&out, &owned).unwrap();
        write_atomic(&set.dir().join("a.txt"), b"2").unwrap();
        // Not committed: the first set stays, the staging folder goes.
        drop(set);
        assert_eq!(std::fs::read(out.join("b.txt")).unwrap(), b"1");
        let set = OutputSet::prepare(&out, &owned).unwrap();
        write_atomic(&set.dir().join("a.txt"), b"3").unwrap();
        set.commit().unwrap();
        assert_eq!(std::fs::read(out.join("a.txt")).unwrap(), b"3");
        assert!(
            !out.join("b.txt").exists(),
            "a file of the old set survived"
        );
        let names: Vec<_> = std::fs::read_dir(root.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["out"]);
    }

    #[test]
    fn output_set_recovers_from_a_crash_and_guards_other_files() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("a.txt"), b"old").unwrap();
        std::fs::write(out.join(".triage-x.tmp"), b"junk").unwrap();
        let staged = root.path().join(".out.triage-new-1-2");
        std::fs::create_dir(&staged).unwrap();
        std::fs::write(staged.join("spill"), b"case data").unwrap();
        let set = OutputSet::prepare(&out, &["a.txt"]).unwrap();
        assert!(!staged.exists());
        assert!(!out.join(".triage-x.tmp").exists());
        drop(set);
        // A crash between the two renames of a swap, new set complete.
        std::fs::rename(&out, root.path().join(".out.triage-old-7")).unwrap();
        std::fs::create_dir(&staged).unwrap();
        std::fs::write(staged.join("manifest.json"), b"{}").unwrap();
        let set = OutputSet::prepare(&out, &["a.txt", "manifest.json"]).unwrap();
        assert!(out.join("manifest.json").exists());
        drop(set);
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 1);
        std::fs::write(out.join("mine.docx"), b"x").unwrap();
        let e = OutputSet::prepare(&out, &["a.txt", "manifest.json"]).unwrap_err();
        assert!(e.to_string().contains("mine.docx"), "{e}");
        assert!(OutputSet::prepare(Path::new("."), &[]).is_err());
    }
}
