//! Following a file that another system appends to, as `tail -F` does,
//! with a read position that survives a restart.
//!
//! The file is recognised by a **fingerprint**: the keyed hash of its
//! first [`FINGERPRINT_BYTES`] bytes (fewer while the file is shorter),
//! not by its name or inode alone. At the end of the data the follower
//! looks again:
//!
//! - the open file is shorter than what was read, or its first bytes
//!   changed: it was **truncated** (or rewritten in place): read it again
//!   from byte 0;
//! - the path now names another file whose first bytes differ: the file
//!   was **rotated**: the old file is read to its end through the handle
//!   still open (its last line counts even without an end of line), then
//!   the new one is read from byte 0.
//!
//! Each line carries the [`Position`] after it, which the driver commits
//! with the cases. On a restart the recorded position is used when the
//! file at the path has the recorded fingerprint; when the file is
//! shorter than the position it was truncated (read from 0); when its
//! fingerprint differs it was rotated while the stream was stopped: a
//! file beside it whose name starts with the same name (`cases.jsonl.1`,
//! `cases.jsonl-20261201`) and has the recorded fingerprint is read from
//! the position to its end first.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::time::Duration;

use crate::history::store::Position;

use super::Event;
use super::source::{Line, Splitter};

/// Bytes the fingerprint covers once the file is that long.
pub const FINGERPRINT_BYTES: u64 = 1024;

/// How often the end of the file is looked at again.
pub const POLL: Duration = Duration::from_millis(5);

/// The keyed hash a fingerprint is made with.
pub type Hash = Arc<dyn Fn(&[u8]) -> [u8; 32] + Send + Sync>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fingerprint {
    hash: [u8; 32],
    len: u64,
}

fn fingerprint(file: &File, len: u64, hash: &Hash) -> std::io::Result<Fingerprint> {
    use std::os::unix::fs::FileExt;
    let len = len.min(FINGERPRINT_BYTES);
    let mut buf = vec![0u8; len as usize];
    let mut got = 0;
    while got < buf.len() {
        let n = file.read_at(&mut buf[got..], got as u64)?;
        if n == 0 {
            break;
        }
        got += n;
    }
    buf.truncate(got);
    Ok(Fingerprint {
        hash: hash(&buf),
        len: got as u64,
    })
}

fn identity(m: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (m.dev(), m.ino())
}

/// One file being read.
struct Reader {
    file: File,
    id: (u64, u64),
    /// Bytes read from the file.
    read: u64,
    /// Offset after the last complete line.
    done: u64,
    split: Splitter,
    fp: Fingerprint,
}

impl Reader {
    fn open(path: &Path, offset: u64, line: u64, hash: &Hash) -> std::io::Result<Reader> {
        let mut file = File::open(path)?;
        let meta = file.metadata()?;
        file.seek(SeekFrom::Start(offset))?;
        let fp = fingerprint(&file, meta.len(), hash)?;
        Ok(Reader {
            id: identity(&meta),
            file,
            read: offset,
            done: offset,
            split: Splitter::at(line),
            fp,
        })
    }
}

impl Reader {
    /// Read the same file again from byte 0 (it was truncated).
    fn rewind(&mut self, hash: &Hash) -> std::io::Result<()> {
        self.file.seek(SeekFrom::Start(0))?;
        let len = self.file.metadata()?.len();
        self.fp = fingerprint(&self.file, len, hash)?;
        self.read = 0;
        self.done = 0;
        self.split.reset(0);
        Ok(())
    }
}

/// The follower: reads `path` and sends its lines to the driver.
pub struct Follower {
    source: String,
    path: PathBuf,
    hash: Hash,
    exit_at_end: bool,
    stop: Arc<AtomicBool>,
    tx: SyncSender<Event>,
}

/// The outcome of sending: `false` once the driver is gone.
type Sent = bool;

impl Follower {
    /// A follower of `path`, recorded in the store as `source`.
    pub fn new(
        source: String,
        path: PathBuf,
        hash: Hash,
        exit_at_end: bool,
        stop: Arc<AtomicBool>,
        tx: SyncSender<Event>,
    ) -> Follower {
        Follower {
            source,
            path,
            hash,
            exit_at_end,
            stop,
            tx,
        }
    }

    fn notice(&self, kind: &str, message: String) -> Sent {
        self.tx
            .send(Event::Notice(serde_json::json!({
                "kind": kind,
                "source": self.source,
                "message": message,
            })))
            .is_ok()
    }

    fn position(&self, r: &Reader, offset: u64, line: u64) -> Position {
        Position {
            source: self.source.clone(),
            fingerprint: r.fp.hash,
            fingerprint_len: r.fp.len,
            offset,
            line,
        }
    }

    /// Run until the end (with `exit_at_end`), a stop, or the driver is
    /// gone. `saved` is the position recorded by an earlier stream.
    pub fn run(self, saved: Option<Position>) {
        if let Err(e) = self.follow(saved) {
            let _ = self.tx.send(Event::Failed(format!(
                "读取 {} 出错：{e}",
                self.path.display()
            )));
        }
    }

    fn wait_for_file(&self) -> std::io::Result<bool> {
        let mut said = false;
        loop {
            match std::fs::metadata(&self.path) {
                Ok(_) => return Ok(true),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && !self.exit_at_end => {
                    // Once: a mistyped path must not look like a quiet night.
                    if !said {
                        said = true;
                        let message = format!(
                            "{} 还不存在：等它出现后读起（若路径写错，请停止后改正）",
                            self.path.display()
                        );
                        if !self.notice("waiting", message) {
                            return Ok(false);
                        }
                    }
                    if self.stop.load(Ordering::Relaxed) {
                        return Ok(false);
                    }
                    std::thread::sleep(POLL * 10);
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn follow(&self, saved: Option<Position>) -> std::io::Result<()> {
        if !self.wait_for_file()? {
            return Ok(());
        }
        let mut reader = match saved {
            None => Reader::open(&self.path, 0, 0, &self.hash)?,
            Some(p) => match self.resume(&p)? {
                Some(r) => r,
                None => return Ok(()),
            },
        };
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            if !self.read_to_end(&mut reader, &mut buf)? {
                return Ok(());
            }
            if self.stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            if self.exit_at_end {
                if !self.flush(&mut reader) {
                    return Ok(());
                }
                let _ = self.tx.send(Event::End);
                return Ok(());
            }
            // Truncated, or rewritten in place?
            let len = reader.file.metadata()?.len();
            let rewritten = reader.fp.len > 0
                && fingerprint(&reader.file, reader.fp.len, &self.hash)? != reader.fp;
            if len < reader.read || rewritten {
                if !self.notice(
                    "truncated",
                    format!(
                        "文件变短或开头被改写，从头读起（此前读到第 {} 行）",
                        reader.split.line
                    ),
                ) {
                    return Ok(());
                }
                reader.rewind(&self.hash)?;
                continue;
            }
            // Rotated: the path names another file.
            if let Ok(m) = std::fs::metadata(&self.path)
                && identity(&m) != reader.id
                && let Ok(new) = Reader::open(&self.path, 0, 0, &self.hash)
            {
                let same_start = reader.fp.len > 0
                    && m.len() >= reader.fp.len
                    && fingerprint(&new.file, reader.fp.len, &self.hash)? == reader.fp;
                if same_start && m.len() >= reader.read {
                    // The same file under a new inode (copied back):
                    // go on where reading stands.
                    let mut new =
                        Reader::open(&self.path, reader.done, reader.split.line, &self.hash)?;
                    new.fp = fingerprint(&new.file, m.len(), &self.hash)?;
                    reader = new;
                    continue;
                }
                // Drain the old file through the open handle, then the new.
                if !self.read_to_end(&mut reader, &mut buf)? || !self.flush(&mut reader) {
                    return Ok(());
                }
                if !self.notice(
                    "rotated",
                    format!(
                        "文件已轮换：旧文件读完（{} 行），开始读新文件",
                        reader.split.line
                    ),
                ) {
                    return Ok(());
                }
                reader = new;
                continue;
            }
            std::thread::sleep(POLL);
        }
    }

    /// Where to start after a restart at `p`; `None` when the driver is gone.
    fn resume(&self, p: &Position) -> std::io::Result<Option<Reader>> {
        let file = File::open(&self.path)?;
        let len = file.metadata()?.len();
        if len >= p.fingerprint_len
            && fingerprint(&file, p.fingerprint_len, &self.hash)?.hash == p.fingerprint
        {
            if len < p.offset {
                let sent = self.notice(
                    "truncated",
                    format!("文件比记录的位置（第 {} 行）短，从头读起", p.line),
                );
                return sent
                    .then(|| Reader::open(&self.path, 0, 0, &self.hash))
                    .transpose();
            }
            let r = Reader::open(&self.path, p.offset, p.line, &self.hash)?;
            let sent = self.notice(
                "resumed",
                format!("从记录的位置（第 {} 行之后）接着读", p.line),
            );
            return Ok(sent.then_some(r));
        }
        // Another file at the path. Rotated while stopped: the old file
        // beside it, found by its fingerprint, is finished first.
        if let Some(old) = self.rotated_away(p)? {
            let mut r = Reader::open(&old, p.offset, p.line, &self.hash)?;
            let mut buf = vec![0u8; 64 * 1024];
            if !self.read_to_end(&mut r, &mut buf)? || !self.flush(&mut r) {
                return Ok(None);
            }
            let name = old
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if !self.notice(
                "rotated",
                format!("停止期间文件已轮换：已读完旧文件 {name}，开始读新文件"),
            ) {
                return Ok(None);
            }
        } else if len < p.offset {
            if !self.notice(
                "truncated",
                format!("文件比记录的位置（第 {} 行）短，从头读起", p.line),
            ) {
                return Ok(None);
            }
        } else if !self.notice(
            "rotated",
            "停止期间文件已轮换，旧文件未找到；从新文件开头读起".to_string(),
        ) {
            return Ok(None);
        }
        Ok(Some(Reader::open(&self.path, 0, 0, &self.hash)?))
    }

    /// A file beside the followed one, named like it, with the recorded
    /// fingerprint and at least the recorded length.
    fn rotated_away(&self, p: &Position) -> std::io::Result<Option<PathBuf>> {
        let Some(name) = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
        else {
            return Ok(None);
        };
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut found: Vec<PathBuf> = Vec::new();
        for e in std::fs::read_dir(&dir)?.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n == name || !n.starts_with(&name) {
                continue;
            }
            let path = e.path();
            let Ok(f) = File::open(&path) else { continue };
            let Ok(m) = f.metadata() else { continue };
            if m.is_file()
                && m.len() >= p.offset
                && m.len() >= p.fingerprint_len
                && fingerprint(&f, p.fingerprint_len, &self.hash)?.hash == p.fingerprint
            {
                found.push(path);
            }
        }
        found.sort();
        Ok(found.into_iter().next())
    }

    /// Read what the file holds now; `false` once the driver is gone.
    fn read_to_end(&self, r: &mut Reader, buf: &mut [u8]) -> std::io::Result<Sent> {
        loop {
            let n = match r.file.read(buf) {
                Ok(0) => return Ok(true),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            let start = r.read;
            r.read += n as u64;
            if r.fp.len < FINGERPRINT_BYTES {
                r.fp = fingerprint(&r.file, r.read, &self.hash)?;
            }
            let mut sent = true;
            let mut lines: Vec<(u64, Option<Line>, u64)> = Vec::new();
            r.split.feed(&buf[..n], |no, l, used| {
                lines.push((no, l, start + used as u64))
            });
            for (no, l, end) in lines {
                r.done = end;
                let pos = self.position(r, end, no);
                let ev = match l {
                    Some(mut l) => {
                        l.position = Some(pos);
                        Event::Line(l)
                    }
                    // A blank line: only the position moves.
                    None => Event::Position(pos),
                };
                if sent && self.tx.send(ev).is_err() {
                    sent = false;
                }
            }
            if !sent {
                return Ok(false);
            }
            if self.stop.load(Ordering::Relaxed) {
                return Ok(true);
            }
        }
    }

    /// The last line of a file that is finished, even without an end of
    /// line.
    fn flush(&self, r: &mut Reader) -> Sent {
        if r.split.partial() == 0 {
            return true;
        }
        match r.split.flush() {
            Some(mut l) => {
                r.done = r.read;
                l.position = Some(self.position(r, r.read, l.line));
                self.tx.send(Event::Line(l)).is_ok()
            }
            None => true,
        }
    }
}
