//! Where a stream's lines come from: standard input, or a followed file
//! ([`super::follow`]). Both run on a thread of their own and send each
//! complete line, with its number (and, for a file, the read position
//! after it), to the driver.

use std::io::Read;
use std::sync::mpsc::SyncSender;

use crate::history::store::Position;
use crate::input::MAX_LINE_BYTES;

use super::Event;

/// One line of input: its 1-based number and its bytes (without the end
/// of line), or the length of a line too long to hold.
#[derive(Debug)]
pub struct Line {
    /// 1-based line number.
    pub line: u64,
    /// The bytes, or the length of a line longer than [`MAX_LINE_BYTES`].
    pub bytes: Result<Vec<u8>, usize>,
    /// For a followed file: where reading stands after this line.
    pub position: Option<Position>,
}

/// Cuts a byte stream into lines, holding at most [`MAX_LINE_BYTES`] of
/// one line; blank lines are counted and skipped.
#[derive(Debug, Default)]
pub struct Splitter {
    buf: Vec<u8>,
    /// Length of the line being skipped, when it is too long.
    long: Option<usize>,
    /// Lines completed.
    pub line: u64,
}

impl Splitter {
    /// A splitter whose next line is number `line + 1`.
    pub fn at(line: u64) -> Splitter {
        Splitter {
            line,
            ..Splitter::default()
        }
    }

    /// Bytes of the line not yet ended.
    pub fn partial(&self) -> usize {
        self.long.unwrap_or(self.buf.len())
    }

    /// Forget the line not yet ended and start over at line `line + 1`.
    pub fn reset(&mut self, line: u64) {
        *self = Splitter::at(line);
    }

    /// Feed `bytes`; `done` gets each completed line's number, the line
    /// (`None` for a blank one) and the number of bytes of `bytes`
    /// consumed up to its end.
    pub fn feed(&mut self, bytes: &[u8], mut done: impl FnMut(u64, Option<Line>, usize)) {
        let mut start = 0;
        while start < bytes.len() {
            match memchr(b'\n', &bytes[start..]) {
                Some(i) => {
                    self.take(&bytes[start..start + i]);
                    start += i + 1;
                    let line = self.finish();
                    done(self.line, line, start);
                }
                None => {
                    self.take(&bytes[start..]);
                    break;
                }
            }
        }
    }

    /// End the line not yet ended (at the end of the input).
    pub fn flush(&mut self) -> Option<Line> {
        if self.buf.is_empty() && self.long.is_none() {
            return None;
        }
        self.finish()
    }

    fn take(&mut self, part: &[u8]) {
        match &mut self.long {
            Some(n) => *n += part.len(),
            None if self.buf.len() + part.len() > MAX_LINE_BYTES => {
                self.long = Some(self.buf.len() + part.len());
                self.buf = Vec::new();
            }
            None => self.buf.extend_from_slice(part),
        }
    }

    fn finish(&mut self) -> Option<Line> {
        self.line += 1;
        let line = self.line;
        if let Some(n) = self.long.take() {
            return Some(Line {
                line,
                bytes: Err(n),
                position: None,
            });
        }
        let mut bytes = std::mem::take(&mut self.buf);
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        Some(Line {
            line,
            bytes: Ok(bytes),
            position: None,
        })
    }
}

fn memchr(b: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&x| x == b)
}

/// Read standard input to its end, sending each line as it is complete.
pub fn stdin(tx: SyncSender<Event>) {
    let mut input = std::io::stdin().lock();
    let mut split = Splitter::default();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let mut gone = false;
                split.feed(&buf[..n], |_, line, _| {
                    if let Some(l) = line
                        && !gone
                        && tx.send(Event::Line(l)).is_err()
                    {
                        gone = true;
                    }
                });
                if gone {
                    return;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                let _ = tx.send(Event::Failed(format!("读取标准输入出错：{e}")));
                return;
            }
        }
    }
    if let Some(l) = split.flush() {
        let _ = tx.send(Event::Line(l));
    }
    let _ = tx.send(Event::End);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn lines_split_across_reads_and_blank_lines_counted() {
        let mut s = Splitter::default();
        let mut got = Vec::new();
        for part in [&b"ab"[..], b"c\n\n  \nde\r", b"\nf"] {
            s.feed(part, |_, l, _| {
                if let Some(l) = l {
                    got.push((l.line, l.bytes.unwrap()));
                }
            });
        }
        let last = s.flush().unwrap();
        assert_eq!(got, vec![(1, b"abc".to_vec()), (4, b"de".to_vec())]);
        assert_eq!((last.line, last.bytes.unwrap()), (5, b"f".to_vec()));
    }
}
