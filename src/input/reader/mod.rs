//! Case input: JSON Lines and CSV readers, encoding detection (UTF-8,
//! UTF-8 with BOM, GB18030/GBK) and per-record refusal with line numbers.
//!
//! Readers are streaming: one record is decoded at a time, and a line
//! longer than [`MAX_LINE_BYTES`] is skipped without being held in memory.
//! Every physical record yields exactly one [`Record`], either a [`Case`]
//! or a reason, so a run can account for all of its input.
//!
//! **Encodings.** The encoding is chosen for the file from its first
//! [`SNIFF_BYTES`] bytes: the one of UTF-8 and GB18030 under which fewer
//! byte sequences are invalid (UTF-8 on a tie, and for a BOM). Each record
//! is then checked on its own: a record that is invalid in the file's
//! encoding but valid in the other is read in the other and counted
//! ([`ReadStats::fallback_lines`]); one valid in neither is refused with
//! its line and the byte where the bad sequence starts. A few bad bytes
//! in a UTF-8 file thus cost only their lines.
//!
//! **CSV.** Records are split by this module (RFC 4180 quoting, as
//! spreadsheets write it). A quoted field that is still open after
//! [`MAX_RECORD_LINES`] lines, [`MAX_RECORD_BYTES`] bytes or at the end of
//! the file is refused with its starting line, and reading resumes at the
//! line after it, so one stray quote costs one record, not the rest of
//! the file. The header row is read when the file is opened: a file
//! without the required columns cannot be opened.

mod csv;
mod json;
use csv::{CsvReader, read_line_bounded_cr};
pub use json::parse_json_case;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::input::case::{
    Case, FieldError, FieldValue, MAX_FIELD_BYTES, MAX_TEXT_BYTES, REQUIRED, accepted_names,
    canonical_field, field_label,
};

/// Longest accepted physical line of a JSON Lines file, in bytes. JSON
/// escapes (`\u4e2d`) can make a line up to six times the text it holds.
pub const MAX_LINE_BYTES: usize = 8 * MAX_TEXT_BYTES;

/// Bytes looked at to choose the encoding of a file.
pub const SNIFF_BYTES: usize = 1024 * 1024;

/// Most physical lines one CSV record may span.
pub const MAX_RECORD_LINES: usize = 10_000;

/// Most bytes one CSV record may hold: the text limit, every other field
/// at its limit, and room for quoting and unknown columns.
pub const MAX_RECORD_BYTES: usize = 2 * MAX_TEXT_BYTES + 16 * MAX_FIELD_BYTES;

/// Input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// JSON Lines: one JSON object per line.
    Jsonl,
    /// Comma-separated values with a header row.
    Csv,
    /// Tab-separated values with a header row.
    Tsv,
}

impl Format {
    /// Guess the format from a file name: `.csv`, `.tsv`, otherwise JSON Lines.
    pub fn from_path(path: &Path) -> Format {
        Format::guess(path).unwrap_or(Format::Jsonl)
    }

    /// The format of a file name's extension: `.jsonl`/`.ndjson`, `.csv`,
    /// `.tsv`/`.tab`; standard input (`-`) is JSON Lines; `None` for any
    /// other name (the caller asks for `--format`).
    pub fn guess(path: &Path) -> Option<Format> {
        if path.as_os_str() == "-" {
            return Some(Format::Jsonl);
        }
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("csv") => Some(Format::Csv),
            Some("tsv") | Some("tab") => Some(Format::Tsv),
            Some("jsonl") | Some("ndjson") => Some(Format::Jsonl),
            _ => None,
        }
    }
}

/// Whether a file name is a spreadsheet workbook that must be saved as
/// CSV first (`.xlsx`, `.xls`, `.xlsm`, `.et`, `.ods`).
pub fn is_workbook(path: &Path) -> bool {
    matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("xlsx" | "xls" | "xlsm" | "xlsb" | "et" | "ods")
    )
}

/// The message for a workbook given as input.
pub const WORKBOOK_MESSAGE: &str = "这是 Excel/WPS 工作簿，不是文本文件；请在 Excel 或 WPS 中“另存为”CSV（UTF-8）后再读入：请另存为 CSV（UTF-8）";

/// How to decode the input bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum EncodingChoice {
    /// Detect: the encoding with fewer invalid sequences in the first
    /// megabyte (UTF-8 for a BOM or a tie); records invalid in it but valid
    /// in the other are read in the other.
    #[default]
    Auto,
    /// UTF-8 (a BOM is skipped).
    Utf8,
    /// GB18030, a superset of GBK and GB2312.
    Gb18030,
    /// Same as gb18030.
    Gbk,
}

/// The encoding a reader settled on, for the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detected {
    /// UTF-8 without BOM.
    Utf8,
    /// UTF-8 with BOM.
    Utf8Bom,
    /// GB18030 / GBK.
    Gb18030,
}

impl Detected {
    /// Name written in the manifest.
    pub fn name(self) -> &'static str {
        match self {
            Detected::Utf8 => "utf-8",
            Detected::Utf8Bom => "utf-8-bom",
            Detected::Gb18030 => "gb18030",
        }
    }

    fn is_utf8(self) -> bool {
        self != Detected::Gb18030
    }

    fn label(self) -> &'static str {
        if self.is_utf8() {
            "UTF-8"
        } else {
            "GB18030/GBK"
        }
    }

    /// The encoding a record falls back to.
    pub fn other(self) -> Detected {
        if self.is_utf8() {
            Detected::Gb18030
        } else {
            Detected::Utf8
        }
    }
}

/// One input record: its line number and either the case or why it was refused.
#[derive(Debug)]
pub struct Record {
    /// 1-based line where the record starts.
    pub line: u64,
    /// The case, or the reason it could not be read.
    pub case: Result<Case, FieldError>,
}

/// Counts a reader keeps while records are decoded (on any thread).
#[derive(Debug, Clone, Default)]
pub struct ReadStats {
    fallback: Arc<AtomicU64>,
}

impl ReadStats {
    /// Records that were invalid in the file's encoding and read in the
    /// other one.
    pub fn fallback_lines(&self) -> u64 {
        self.fallback.load(Ordering::Relaxed)
    }
}

/// A streaming reader of cases from one file.
pub struct CaseReader {
    inner: Inner,
    detected: Detected,
    stats: ReadStats,
    path: PathBuf,
}

enum Inner {
    Jsonl(JsonlReader),
    Csv(Box<CsvReader>),
}

type Source = BufReader<Box<dyn Read + Send>>;

impl CaseReader {
    /// Open `path` (or standard input for `-`) in `format`, detecting or
    /// forcing the encoding. For CSV the header row is read and checked.
    pub fn open(path: &Path, format: Format, encoding: EncodingChoice) -> io::Result<CaseReader> {
        let source: Box<dyn Read + Send> = if path.as_os_str() == "-" {
            Box::new(io::stdin())
        } else {
            Box::new(File::open(path)?)
        };
        CaseReader::from_reader(source, path, format, encoding)
    }

    /// Read cases from any byte source; `path` is used only in messages.
    pub fn from_reader(
        mut source: Box<dyn Read + Send>,
        path: &Path,
        format: Format,
        encoding: EncodingChoice,
    ) -> io::Result<CaseReader> {
        let mut head = Vec::with_capacity(64 * 1024);
        (&mut source)
            .take(SNIFF_BYTES as u64)
            .read_to_end(&mut head)?;
        let detected = sniff(&head, encoding)?;
        let skip = if detected == Detected::Utf8Bom { 3 } else { 0 };
        let rest: Box<dyn Read + Send> = Box::new(io::Cursor::new(head).chain(source));
        let mut buf = BufReader::with_capacity(64 * 1024, rest);
        buf.consume(skip);
        let stats = ReadStats::default();
        let decoder = Decoder {
            detected,
            fallback: (encoding == EncodingChoice::Auto).then(|| Arc::clone(&stats.fallback)),
        };
        let inner = match format {
            Format::Jsonl => Inner::Jsonl(JsonlReader {
                src: buf,
                line: 0,
                decoder,
                buf: Vec::new(),
            }),
            Format::Csv | Format::Tsv => {
                Inner::Csv(Box::new(CsvReader::new(buf, decoder, format)?))
            }
        };
        Ok(CaseReader {
            inner,
            detected,
            stats,
            path: path.to_path_buf(),
        })
    }

    /// The encoding in use.
    pub fn detected(&self) -> Detected {
        self.detected
    }

    /// The reader's counts; the handle stays valid after the reader moves.
    pub fn stats(&self) -> ReadStats {
        self.stats.clone()
    }

    /// The path given to [`CaseReader::open`].
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl CaseReader {
    /// The next record, parsed or still to parse (see [`Pending`]).
    pub fn next_pending(&mut self) -> Option<io::Result<Pending>> {
        match &mut self.inner {
            Inner::Jsonl(r) => r.next_pending().transpose(),
            Inner::Csv(r) => r.next_record().map(|o| o.map(Pending::Done)).transpose(),
        }
    }
}

impl Iterator for CaseReader {
    type Item = io::Result<Record>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.inner {
            Inner::Jsonl(r) => r.next_record().transpose(),
            Inner::Csv(r) => r.next_record().transpose(),
        }
    }
}

/// Invalid sequences in `bytes` as UTF-8, valid multi-byte UTF-8
/// characters, and invalid sequences as GB18030; a sequence cut by the
/// end of `bytes` does not count as invalid UTF-8.
fn invalid_counts(bytes: &[u8]) -> (usize, usize, usize) {
    let mut utf8 = 0;
    let mut multibyte = 0;
    let mut rest = bytes;
    let leads = |b: &[u8]| b.iter().filter(|b| **b >= 0xC0).count();
    loop {
        match std::str::from_utf8(rest) {
            Ok(_) => {
                multibyte += leads(rest);
                break;
            }
            Err(e) => {
                multibyte += leads(&rest[..e.valid_up_to()]);
                match e.error_len() {
                    Some(n) => {
                        utf8 += 1;
                        rest = &rest[e.valid_up_to() + n..];
                    }
                    None => break,
                }
            }
        }
    }
    let mut gb = 0;
    let mut at = 0;
    while at < bytes.len() {
        match gb18030_error(&bytes[at..]) {
            Some((start, len)) => {
                gb += 1;
                at += start + len.max(1);
            }
            None => break,
        }
    }
    (utf8, multibyte, gb)
}

/// The first invalid GB18030 sequence of `bytes`: its start and length.
fn gb18030_error(bytes: &[u8]) -> Option<(usize, usize)> {
    let mut decoder = encoding_rs::GB18030.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(
        decoder
            .max_utf8_buffer_length_without_replacement(bytes.len())
            .unwrap_or(bytes.len() * 3 + 16),
    );
    let (result, read) = decoder.decode_to_string_without_replacement(bytes, &mut out, true);
    match result {
        encoding_rs::DecoderResult::Malformed(bad, after) => {
            let start = read - usize::from(bad) - usize::from(after);
            Some((start, usize::from(bad)))
        }
        _ => None,
    }
}

fn sniff(head: &[u8], choice: EncodingChoice) -> io::Result<Detected> {
    let bom = head.starts_with(&[0xEF, 0xBB, 0xBF]);
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "文件是 UTF-16 编码，暂不支持；请另存为 UTF-8 或 GBK",
        ));
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(io::Error::new(io::ErrorKind::InvalidData, WORKBOOK_MESSAGE));
    }
    Ok(match choice {
        EncodingChoice::Utf8 if bom => Detected::Utf8Bom,
        EncodingChoice::Utf8 => Detected::Utf8,
        EncodingChoice::Gb18030 | EncodingChoice::Gbk => Detected::Gb18030,
        EncodingChoice::Auto if bom => Detected::Utf8Bom,
        EncodingChoice::Auto => {
            // Valid multi-byte UTF-8 characters are rare by chance in GBK
            // text, where most characters are invalid UTF-8; UTF-8 text
            // often is valid GB18030. So mostly-valid UTF-8 is UTF-8.
            let (utf8, multibyte, gb) = invalid_counts(head);
            if utf8 == 0 || multibyte >= 4 * utf8 || utf8 <= gb {
                Detected::Utf8
            } else {
                Detected::Gb18030
            }
        }
    })
}

/// Decodes record bytes in the file's encoding, falling back to the other
/// encoding per record when asked.
#[derive(Debug, Clone)]
pub struct Decoder {
    detected: Detected,
    /// Counter of records read in the other encoding; `None` when the
    /// encoding was forced (no fallback).
    fallback: Option<Arc<AtomicU64>>,
}

/// Where a record stops being valid text.
#[derive(Debug, Clone, Copy)]
struct BadBytes {
    /// Byte offset in the record.
    offset: usize,
    /// The encoding tried first.
    encoding: Detected,
    /// Whether the other encoding was tried too.
    tried_other: bool,
}

impl BadBytes {
    /// The reason for the rejects file: the line of the record
    /// (`first_line`, for multi-line CSV records) and the byte in it.
    fn reason(self, record: &[u8], first_line: u64) -> FieldError {
        let before = &record[..self.offset.min(record.len())];
        let newlines = before.iter().filter(|b| **b == b'\n').count() as u64;
        let col = match before.iter().rposition(|b| *b == b'\n') {
            Some(nl) => self.offset - nl,
            None => self.offset + 1,
        };
        let line = first_line + newlines;
        let also = if self.tried_other {
            format!("，也不是有效的 {}", self.encoding.other().label())
        } else if self.encoding.is_utf8() {
            "；若文件是 GBK 导出，请加 --encoding gbk".to_string()
        } else {
            String::new()
        };
        FieldError(format!(
            "第 {line} 行第 {col} 字节起不是有效的 {} 文本{also}；此行已跳过",
            self.encoding.label()
        ))
    }
}

fn valid_in(bytes: &[u8], enc: Detected) -> Result<(), usize> {
    if enc.is_utf8() {
        std::str::from_utf8(bytes)
            .map(|_| ())
            .map_err(|e| e.valid_up_to())
    } else {
        match gb18030_error(bytes) {
            None => Ok(()),
            Some((start, _)) => Err(start),
        }
    }
}

fn decode_in(bytes: &[u8], enc: Detected) -> String {
    if enc.is_utf8() {
        String::from_utf8_lossy(bytes).into_owned()
    } else {
        encoding_rs::GB18030
            .decode_without_bom_handling(bytes)
            .0
            .into_owned()
    }
}

impl Decoder {
    /// The encoding `bytes` are valid in: the file's, or (when falling
    /// back) the other one, which is counted.
    fn choose(&self, bytes: &[u8]) -> Result<Detected, BadBytes> {
        let enc = self.detected;
        let Err(offset) = valid_in(bytes, enc) else {
            return Ok(enc);
        };
        let bad = BadBytes {
            offset,
            encoding: enc,
            tried_other: self.fallback.is_some(),
        };
        match &self.fallback {
            Some(count) if valid_in(bytes, enc.other()).is_ok() => {
                count.fetch_add(1, Ordering::Relaxed);
                Ok(enc.other())
            }
            _ => Err(bad),
        }
    }

    /// Decode a whole record (a JSON line), without copying valid UTF-8.
    fn decode_owned(&self, bytes: Vec<u8>, line: u64) -> Result<String, FieldError> {
        if self.detected.is_utf8() {
            match String::from_utf8(bytes) {
                Ok(s) => return Ok(s),
                Err(e) => {
                    let bytes = e.into_bytes();
                    return match self.choose(&bytes) {
                        Ok(enc) => Ok(decode_in(&bytes, enc)),
                        Err(bad) => Err(bad.reason(&bytes, line)),
                    };
                }
            }
        }
        match self.choose(&bytes) {
            Ok(enc) => Ok(decode_in(&bytes, enc)),
            Err(bad) => Err(bad.reason(&bytes, line)),
        }
    }
}

struct JsonlReader {
    src: Source,
    line: u64,
    decoder: Decoder,
    buf: Vec<u8>,
}

enum LineRead {
    Eof,
    Line,
    TooLong(usize),
}

/// Read one line into `buf` (without the newline), keeping at most `max`
/// bytes; a longer line is consumed to its end and reported with its length.
fn read_line_bounded<R: BufRead>(
    src: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<LineRead> {
    Ok(read_line_bounded_cr(src, buf, max)?.0)
}

impl JsonlReader {
    fn next_record(&mut self) -> io::Result<Option<Record>> {
        Ok(self.next_pending()?.map(Pending::parse))
    }

    fn next_pending(&mut self) -> io::Result<Option<Pending>> {
        loop {
            let read = read_line_bounded(&mut self.src, &mut self.buf, MAX_LINE_BYTES)?;
            self.line += 1;
            let line = self.line;
            match read {
                LineRead::Eof => return Ok(None),
                LineRead::TooLong(n) => {
                    return Ok(Some(Pending::Done(Record {
                        line,
                        case: Err(FieldError(format!(
                            "这一行过长（{n} 字节，上限 {MAX_LINE_BYTES} 字节），已跳过"
                        ))),
                    })));
                }
                LineRead::Line => {}
            }
            if self.buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Ok(Some(Pending::Line {
                line,
                bytes: std::mem::take(&mut self.buf),
                decoder: self.decoder.clone(),
            }));
        }
    }
}

/// A record read but not yet parsed: parsing (decoding and JSON) can then
/// run on worker threads while the next records are read.
#[derive(Debug)]
pub enum Pending {
    /// Already parsed (CSV rows, refused lines).
    Done(Record),
    /// A JSON line still to decode and parse.
    Line {
        /// 1-based line number.
        line: u64,
        /// The raw bytes.
        bytes: Vec<u8>,
        /// How to decode them.
        decoder: Decoder,
    },
}

impl Pending {
    /// Decode and parse.
    pub fn parse(self) -> Record {
        match self {
            Pending::Done(r) => r,
            Pending::Line {
                line,
                bytes,
                decoder,
            } => Record {
                line,
                case: decoder
                    .decode_owned(bytes, line)
                    .and_then(|text| parse_json_case(&text)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &[u8], format: Format, enc: EncodingChoice) -> (Detected, Vec<Record>) {
        let src: Box<dyn Read + Send> = Box::new(io::Cursor::new(bytes.to_vec()));
        let rdr = CaseReader::from_reader(src, Path::new("t"), format, enc).unwrap();
        let d = rdr.detected();
        (d, rdr.map(|r| r.unwrap()).collect())
    }

    #[test]
    fn bounded_lines_skip_overlong_lines_whole() {
        let mut src = io::Cursor::new(b"abc\nxxxxxxxxxx\nde\r\n".to_vec());
        let mut buf = Vec::new();
        assert!(matches!(
            read_line_bounded(&mut src, &mut buf, 5).unwrap(),
            LineRead::Line
        ));
        assert_eq!(buf, b"abc");
        assert!(matches!(
            read_line_bounded(&mut src, &mut buf, 5).unwrap(),
            LineRead::TooLong(10)
        ));
        assert!(matches!(
            read_line_bounded(&mut src, &mut buf, 5).unwrap(),
            LineRead::Line
        ));
        assert_eq!(buf, b"de");
        assert!(matches!(
            read_line_bounded(&mut src, &mut buf, 5).unwrap(),
            LineRead::Eof
        ));
    }

    #[test]
    fn jsonl_lines_are_numbered_and_blank_lines_skipped() {
        let data = "{\"id\":\"A\",\"received\":\"2024-01-02\",\"text\":\"拆迁\"}\n\n\
                    not json\n{\"id\":\"B\",\"received\":\"2024-01-02\",\"text\":\"x\",\"petitioner_ids\":[\"p1\",2]}\n";
        let (d, recs) = read_all(data.as_bytes(), Format::Jsonl, EncodingChoice::Auto);
        assert_eq!(d, Detected::Utf8);
        let lines: Vec<u64> = recs.iter().map(|r| r.line).collect();
        assert_eq!(lines, [1, 3, 4]);
        assert!(recs[1].case.as_ref().unwrap_err().0.contains("JSON"));
        assert_eq!(recs[2].case.as_ref().unwrap().petitioner_ids, ["p1", "2"]);
    }

    #[test]
    fn gbk_csv_is_detected_and_decoded() {
        let text = "编号,登记日期,人数,内容\r\nG1,2024/5/6,12,\"厂子改制，买断工龄\"\r\n";
        let (bytes, _, _) = encoding_rs::GBK.encode(text);
        let (d, recs) = read_all(&bytes, Format::Csv, EncodingChoice::Auto);
        assert_eq!(d, Detected::Gb18030);
        assert_eq!(recs.len(), 1);
        let case = recs[0].case.as_ref().unwrap();
        assert_eq!(case.text, "厂子改制，买断工龄");
        assert_eq!(case.persons, Some(12));
        assert_eq!(recs[0].line, 2);
    }

    #[test]
    fn utf8_bom_csv_and_ragged_rows() {
        let text = "\u{feff}id,received,text\nA,2024-01-01,\"多行\n内容\"\nB,2024-01-01\nC,2024-01-01,好\n";
        let (d, recs) = read_all(text.as_bytes(), Format::Csv, EncodingChoice::Auto);
        assert_eq!(d, Detected::Utf8Bom);
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[0].case.as_ref().unwrap().text, "多行\n内容");
        assert_eq!(recs[1].line, 4);
        assert!(recs[1].case.as_ref().unwrap_err().0.contains("列"));
        assert_eq!(recs[2].line, 5);
        assert!(recs[2].case.is_ok());
    }

    #[test]
    fn stray_gbk_line_in_utf8_file_is_read_in_auto_mode_only() {
        let mut data =
            b"{\"id\":\"A\",\"received\":\"2024-01-02\",\"text\":\"\xe6\x8b\x86\"}\n".to_vec();
        let (gbk, _, _) = encoding_rs::GBK
            .encode("{\"id\":\"B\",\"received\":\"2024-01-02\",\"text\":\"拆迁\"}\n");
        data.extend_from_slice(&gbk);
        let (_, recs) = read_all(&data, Format::Jsonl, EncodingChoice::Auto);
        assert_eq!(recs[1].case.as_ref().unwrap().text, "拆迁");
        let (_, recs) = read_all(&data, Format::Jsonl, EncodingChoice::Utf8);
        assert!(recs[1].case.as_ref().unwrap_err().0.contains("UTF-8"));
    }

    #[test]
    fn csv_without_required_columns_cannot_be_opened() {
        let open = |b: &[u8]| {
            let src: Box<dyn Read + Send> = Box::new(io::Cursor::new(b.to_vec()));
            CaseReader::from_reader(src, Path::new("t"), Format::Csv, EncodingChoice::Auto)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        let e = open(b"a,b\n1,2\n");
        assert!(e.contains("表头") && e.contains("信访内容"), "{e}");
        let e = open("编号,登记日期\nA,2024-01-01\n".as_bytes());
        assert!(e.contains("缺少必填列：内容（text）"), "{e}");
        assert!(e.contains("正文"), "{e}");
        // A file without a header row: the first case is not echoed.
        let e = open("XF1,2024-01-01,身份证110101199001011234 要求赔偿\n".as_bytes());
        assert!(!e.contains("赔偿") && !e.contains("1990"), "{e}");
    }

    /// A UTF-8 JSON Lines file of `n` cases.
    fn utf8_lines(n: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0..n {
            out.extend_from_slice(
                format!("{{\"id\":\"A{i}\",\"received\":\"2024-01-02\",\"text\":\"拆迁补偿，不到位\"}}\n")
                    .as_bytes(),
            );
        }
        out
    }

    #[test]
    fn a_few_bad_bytes_keep_a_utf8_file_utf8() {
        let mut data = utf8_lines(300);
        // Line 6: the full-width comma becomes one byte 0xFF.
        let text = String::from_utf8(data.clone()).unwrap();
        let start: usize = text.split_inclusive('\n').take(5).map(str::len).sum();
        let comma = start + text[start..].find('，').unwrap();
        data.splice(comma..comma + 3, [0xFF]);
        let (d, recs) = read_all(&data, Format::Jsonl, EncodingChoice::Auto);
        assert_eq!(d, Detected::Utf8);
        assert_eq!(recs.len(), 300);
        let bad: Vec<_> = recs.iter().filter(|r| r.case.is_err()).collect();
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].line, 6);
        let reason = &bad[0].case.as_ref().unwrap_err().0;
        let col = comma - start + 1;
        assert!(
            reason.contains(&format!("第 6 行第 {col} 字节")),
            "{reason}"
        );
    }

    #[test]
    fn a_few_bad_bytes_keep_a_gbk_file_gbk() {
        let text = "编号,登记日期,内容\r\n".to_string()
            + &(0..200)
                .map(|i| format!("G{i},2024/5/6,厂子改制，买断工龄\r\n"))
                .collect::<String>();
        let (mut bytes, _, _) = encoding_rs::GBK.encode(&text);
        let mut bytes = bytes.to_mut().clone();
        let at = bytes.len() / 2;
        let at = at + bytes[at..].iter().position(|b| *b >= 0x81).unwrap();
        bytes[at] = 0xFF;
        let (d, recs) = read_all(&bytes, Format::Csv, EncodingChoice::Auto);
        assert_eq!(d, Detected::Gb18030);
        assert_eq!(recs.len(), 200);
        assert_eq!(recs.iter().filter(|r| r.case.is_err()).count(), 1);
        let bad = recs.iter().find(|r| r.case.is_err()).unwrap();
        assert!(bad.case.as_ref().unwrap_err().0.contains("GB18030"));
    }

    #[test]
    fn fallback_lines_are_counted() {
        let mut data = utf8_lines(50);
        let (gbk, _, _) = encoding_rs::GBK
            .encode("{\"id\":\"B\",\"received\":\"2024-01-02\",\"text\":\"拆迁\"}\n");
        data.extend_from_slice(&gbk);
        let src: Box<dyn Read + Send> = Box::new(io::Cursor::new(data));
        let rdr = CaseReader::from_reader(src, Path::new("t"), Format::Jsonl, EncodingChoice::Auto)
            .unwrap();
        let stats = rdr.stats();
        assert!(rdr.map(|r| r.unwrap()).all(|r| r.case.is_ok()));
        assert_eq!(stats.fallback_lines(), 1);
    }

    #[test]
    fn an_unclosed_quote_costs_one_record() {
        let mut text = "编号,登记日期,内容\n".to_string();
        for i in 1..=100 {
            if i == 10 {
                text += "R10,2026-01-01,\"他说不给钱就不走\n";
            } else {
                text += &format!("R{i},2026-01-01,\"第{i}件，\"\"引号\"\"\"\n");
            }
        }
        let (_, recs) = read_all(text.as_bytes(), Format::Csv, EncodingChoice::Auto);
        assert_eq!(recs.len(), 100, "every physical line accounted for");
        let bad: Vec<u64> = recs
            .iter()
            .filter(|r| r.case.is_err())
            .map(|r| r.line)
            .collect();
        assert_eq!(bad, [11]);
        assert!(
            recs[9]
                .case
                .as_ref()
                .unwrap_err()
                .0
                .contains("第 11 行起的带引号字段没有结束")
        );
        assert_eq!(recs[10].case.as_ref().unwrap().text, "第11件，\"引号\"");
        let lines: Vec<u64> = recs.iter().map(|r| r.line).collect();
        assert_eq!(lines, (2..=101).collect::<Vec<_>>());
    }

    #[test]
    fn an_unclosed_quote_past_the_line_bound_resyncs() {
        let mut text = "编号,登记日期,内容\n".to_string();
        text += "R1,2026-01-01,\"开头\n";
        for i in 0..MAX_RECORD_LINES + 5 {
            text += &format!("R{i}x,2026-01-01,好\n");
        }
        text += "R2,2026-01-01,\"后来\"\n";
        let (_, recs) = read_all(text.as_bytes(), Format::Csv, EncodingChoice::Auto);
        assert_eq!(recs.len(), MAX_RECORD_LINES + 7);
        assert!(recs[0].case.as_ref().unwrap_err().0.contains("超过"));
        assert!(recs[1..].iter().all(|r| r.case.is_ok()));
    }

    #[test]
    fn workbooks_are_refused_whatever_their_name() {
        let src: Box<dyn Read + Send> = Box::new(io::Cursor::new(b"PK\x03\x04rest".to_vec()));
        let e = CaseReader::from_reader(src, Path::new("t.csv"), Format::Csv, EncodingChoice::Auto)
            .err()
            .unwrap();
        assert!(e.to_string().contains("请另存为 CSV（UTF-8）"));
    }

    #[test]
    fn json_errors_count_characters_and_echo_nothing() {
        let e = parse_json_case("{\"id\":\"拆迁拆迁\" \"x\"}").unwrap_err();
        assert!(e.0.contains("第 14 个字符"), "{e}");
        assert!(!e.0.contains("拆迁"), "{e}");
        let e = parse_json_case("{\"id\":\"A\",\"received\":\"2024-01-01\",\"text\":\"x\",\"persons\":{\"a\":1},\"备注\":[{}]}")
            .unwrap();
        assert_eq!(e.notes.len(), 1);
    }
}
