//! Case input: JSON Lines and CSV readers, encoding detection (UTF-8,
//! UTF-8 with BOM, GB18030/GBK) and per-record refusal with line numbers.
//!
//! Readers are streaming: one record is decoded at a time, and a line
//! longer than [`MAX_LINE_BYTES`] is skipped without being held in memory.
//! Every physical record yields exactly one [`Record`], either a [`Case`]
//! or a reason, so a run can account for all of its input.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::input::case::{Case, FieldError, FieldValue, MAX_TEXT_BYTES};

/// Longest accepted physical line of a JSON Lines file, in bytes. JSON
/// escapes (`\u4e2d`) can make a line up to six times the text it holds.
pub const MAX_LINE_BYTES: usize = 8 * MAX_TEXT_BYTES;

/// Bytes looked at to detect the encoding.
const SNIFF_BYTES: usize = 64 * 1024;

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
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("csv") => Format::Csv,
            Some("tsv") | Some("tab") => Format::Tsv,
            _ => Format::Jsonl,
        }
    }
}

/// How to decode the input bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum EncodingChoice {
    /// Detect: a UTF-8 BOM or valid UTF-8 means UTF-8, else GB18030.
    /// Lines of a UTF-8 file that are not UTF-8 are tried as GB18030.
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
}

/// One input record: its line number and either the case or why it was refused.
#[derive(Debug)]
pub struct Record {
    /// 1-based line where the record starts.
    pub line: u64,
    /// The case, or the reason it could not be read.
    pub case: Result<Case, FieldError>,
}

/// A streaming reader of cases from one file.
pub struct CaseReader {
    inner: Inner,
    detected: Detected,
    path: PathBuf,
}

enum Inner {
    Jsonl(JsonlReader),
    Csv(CsvReader),
}

impl CaseReader {
    /// Open `path` (or standard input for `-`) in `format`, detecting or
    /// forcing the encoding.
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
        source: Box<dyn Read + Send>,
        path: &Path,
        format: Format,
        encoding: EncodingChoice,
    ) -> io::Result<CaseReader> {
        let mut buf = BufReader::with_capacity(SNIFF_BYTES, source);
        let detected = sniff(&mut buf, encoding)?;
        if matches!(detected, Detected::Utf8Bom) {
            buf.consume(3);
        }
        let decoder = Decoder {
            detected,
            fallback: encoding == EncodingChoice::Auto && detected != Detected::Gb18030,
        };
        let inner = match format {
            Format::Jsonl => Inner::Jsonl(JsonlReader {
                src: buf,
                line: 0,
                decoder,
                buf: Vec::new(),
            }),
            Format::Csv | Format::Tsv => Inner::Csv(CsvReader::new(buf, decoder, format)),
        };
        Ok(CaseReader {
            inner,
            detected,
            path: path.to_path_buf(),
        })
    }

    /// The encoding in use.
    pub fn detected(&self) -> Detected {
        self.detected
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

fn sniff(
    buf: &mut BufReader<Box<dyn Read + Send>>,
    choice: EncodingChoice,
) -> io::Result<Detected> {
    let head = buf.fill_buf()?;
    let bom = head.starts_with(&[0xEF, 0xBB, 0xBF]);
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "文件是 UTF-16 编码，暂不支持；请另存为 UTF-8 或 GBK",
        ));
    }
    Ok(match choice {
        EncodingChoice::Utf8 if bom => Detected::Utf8Bom,
        EncodingChoice::Utf8 => Detected::Utf8,
        EncodingChoice::Gb18030 | EncodingChoice::Gbk => Detected::Gb18030,
        EncodingChoice::Auto if bom => Detected::Utf8Bom,
        EncodingChoice::Auto => match std::str::from_utf8(head) {
            Ok(_) => Detected::Utf8,
            // A multi-byte character cut by the end of the sniffed block.
            Err(e) if e.error_len().is_none() => Detected::Utf8,
            Err(_) => Detected::Gb18030,
        },
    })
}

/// Decodes record bytes in the file's encoding.
#[derive(Debug, Clone, Copy)]
pub struct Decoder {
    detected: Detected,
    fallback: bool,
}

impl Decoder {
    /// Like `decode`, without copying valid UTF-8.
    fn decode_owned(&self, bytes: Vec<u8>) -> Result<String, FieldError> {
        if self.detected != Detected::Gb18030 {
            match String::from_utf8(bytes) {
                Ok(s) => return Ok(s),
                Err(e) => return self.decode(e.as_bytes()),
            }
        }
        self.decode(&bytes)
    }

    fn decode(&self, bytes: &[u8]) -> Result<String, FieldError> {
        if self.detected != Detected::Gb18030 {
            if let Ok(s) = std::str::from_utf8(bytes) {
                return Ok(s.to_string());
            }
            if !self.fallback {
                return Err(FieldError(
                    "不是有效的 UTF-8 文本；若文件是 GBK 导出，请加 --encoding gbk".into(),
                ));
            }
        }
        encoding_rs::GB18030
            .decode_without_bom_handling_and_without_replacement(bytes)
            .map(|s| s.into_owned())
            .ok_or_else(|| {
                FieldError(
                    "既不是有效的 UTF-8 也不是有效的 GB18030/GBK 文本，文件可能已损坏".into(),
                )
            })
    }
}

struct JsonlReader {
    src: BufReader<Box<dyn Read + Send>>,
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
    buf.clear();
    let mut total = 0usize;
    let mut any = false;
    loop {
        let chunk = src.fill_buf()?;
        if chunk.is_empty() {
            break;
        }
        any = true;
        let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (i, true),
            None => (chunk.len(), false),
        };
        if total + take <= max {
            buf.extend_from_slice(&chunk[..take]);
        }
        total += take;
        src.consume(if done { take + 1 } else { take });
        if done {
            break;
        }
    }
    if !any {
        return Ok(LineRead::Eof);
    }
    if total > max {
        buf.clear();
        return Ok(LineRead::TooLong(total));
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(LineRead::Line)
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
                decoder: self.decoder,
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
                    .decode_owned(bytes)
                    .and_then(|text| parse_json_case(&text)),
            },
        }
    }
}

/// Parse one JSON object into a case.
pub fn parse_json_case(line: &str) -> Result<Case, FieldError> {
    let record: JsonRecord<'_> = serde_json::from_str(line)
        .map_err(|e| FieldError(format!("不是有效的 JSON（第 {} 列：{e}）", e.column())))?;
    let JsonRecord::Object(mut entries) = record else {
        return Err(FieldError("每行应是一个 JSON 对象 {…}".into()));
    };
    // Keys in sorted order, the last of repeated keys winning, as a JSON
    // object map would have them.
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let mut unique: Vec<(std::borrow::Cow<'_, str>, JsonValue<'_>)> =
        Vec::with_capacity(entries.len());
    for e in entries {
        if unique.last().is_some_and(|last| last.0 == e.0) {
            unique.pop();
        }
        unique.push(e);
    }
    let mut fields = Vec::with_capacity(unique.len());
    for (k, v) in &mut unique {
        let k: &str = k;
        let value = match std::mem::replace(v, JsonValue::Null) {
            JsonValue::Null => {
                fields.push((k, None));
                continue;
            }
            JsonValue::Scalar(s) => FieldValue::Scalar(s.into_owned()),
            JsonValue::List(items) => FieldValue::List(items),
            JsonValue::BadList => {
                return Err(FieldError(format!("字段 {k} 的列表里只能是文字或数字")));
            }
            JsonValue::Other => {
                if crate::input::case::canonical_field(k).is_none() {
                    fields.push((k, None));
                    continue;
                }
                return Err(FieldError(format!("字段 {k} 的类型不对：应为文字或数字")));
            }
        };
        fields.push((k, Some(value)));
    }
    Case::from_fields(fields.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))))
}

/// A JSON line as the reader needs it: the object's entries, with string
/// values borrowed from the line where they need no unescaping.
enum JsonRecord<'a> {
    Object(Vec<(std::borrow::Cow<'a, str>, JsonValue<'a>)>),
    NotObject,
}

/// One value of a record.
enum JsonValue<'a> {
    Null,
    Scalar(std::borrow::Cow<'a, str>),
    List(Vec<String>),
    /// A list with something other than text or numbers in it.
    BadList,
    /// `true`/`false` or an object.
    Other,
}

/// A string that borrows from the input when it can.
struct Text<'a>(std::borrow::Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Text<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(std::borrow::Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text(std::borrow::Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> serde::Deserialize<'de> for JsonValue<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = JsonValue<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<JsonValue<'de>, E> {
                Ok(JsonValue::Null)
            }
            fn visit_none<E>(self) -> Result<JsonValue<'de>, E> {
                Ok(JsonValue::Null)
            }
            fn visit_bool<E>(self, _: bool) -> Result<JsonValue<'de>, E> {
                Ok(JsonValue::Other)
            }
            fn visit_u64<E>(self, v: u64) -> Result<JsonValue<'de>, E> {
                Ok(JsonValue::Scalar(
                    serde_json::Number::from(v).to_string().into(),
                ))
            }
            fn visit_i64<E>(self, v: i64) -> Result<JsonValue<'de>, E> {
                Ok(JsonValue::Scalar(
                    serde_json::Number::from(v).to_string().into(),
                ))
            }
            fn visit_f64<E>(self, v: f64) -> Result<JsonValue<'de>, E> {
                Ok(match serde_json::Number::from_f64(v) {
                    Some(n) => JsonValue::Scalar(n.to_string().into()),
                    None => JsonValue::Other,
                })
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<JsonValue<'de>, E> {
                Ok(JsonValue::Scalar(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<JsonValue<'de>, E> {
                Ok(JsonValue::Scalar(std::borrow::Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<JsonValue<'de>, E> {
                Ok(JsonValue::Scalar(std::borrow::Cow::Owned(v)))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<JsonValue<'de>, A::Error> {
                let mut out = Vec::new();
                let mut bad = false;
                while let Some(item) = seq.next_element::<JsonValue<'de>>()? {
                    match item {
                        JsonValue::Scalar(s) => out.push(s.into_owned()),
                        _ => bad = true,
                    }
                }
                Ok(if bad {
                    JsonValue::BadList
                } else {
                    JsonValue::List(out)
                })
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<JsonValue<'de>, A::Error> {
                while map
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(JsonValue::Other)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> serde::Deserialize<'de> for JsonRecord<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = JsonRecord<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<JsonRecord<'de>, A::Error> {
                let mut entries = Vec::with_capacity(12);
                while let Some(Text(k)) = map.next_key::<Text<'de>>()? {
                    let v = map.next_value::<JsonValue<'de>>()?;
                    entries.push((k, v));
                }
                Ok(JsonRecord::Object(entries))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<JsonRecord<'de>, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(JsonRecord::NotObject)
            }
            fn visit_unit<E>(self) -> Result<JsonRecord<'de>, E> {
                Ok(JsonRecord::NotObject)
            }
            fn visit_bool<E>(self, _: bool) -> Result<JsonRecord<'de>, E> {
                Ok(JsonRecord::NotObject)
            }
            fn visit_u64<E>(self, _: u64) -> Result<JsonRecord<'de>, E> {
                Ok(JsonRecord::NotObject)
            }
            fn visit_i64<E>(self, _: i64) -> Result<JsonRecord<'de>, E> {
                Ok(JsonRecord::NotObject)
            }
            fn visit_f64<E>(self, _: f64) -> Result<JsonRecord<'de>, E> {
                Ok(JsonRecord::NotObject)
            }
            fn visit_str<E>(self, _: &str) -> Result<JsonRecord<'de>, E> {
                Ok(JsonRecord::NotObject)
            }
        }
        d.deserialize_any(V)
    }
}

/// Passes bytes through and notes where each `\n` is, so that CSV record
/// offsets can be turned into line numbers (the csv crate's own line
/// counts are off for CRLF files).
struct NewlineIndex<R> {
    inner: R,
    offset: u64,
    newlines: std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<u64>>>,
}

impl<R: Read> Read for NewlineIndex<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Ok(mut q) = self.newlines.lock() {
            for (i, _) in buf[..n].iter().enumerate().filter(|(_, b)| **b == b'\n') {
                q.push_back(self.offset + i as u64);
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}

type CsvSource = NewlineIndex<BufReader<Box<dyn Read + Send>>>;

struct CsvReader {
    rdr: csv::Reader<CsvSource>,
    newlines: std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<u64>>>,
    lines_before: u64,
    decoder: Decoder,
    headers: Option<Result<Vec<String>, FieldError>>,
    record: csv::ByteRecord,
    done: bool,
}

impl CsvReader {
    fn new(src: BufReader<Box<dyn Read + Send>>, decoder: Decoder, format: Format) -> CsvReader {
        let newlines = std::sync::Arc::default();
        let src = NewlineIndex {
            inner: src,
            offset: 0,
            newlines: std::sync::Arc::clone(&newlines),
        };
        let rdr = csv::ReaderBuilder::new()
            .delimiter(if format == Format::Tsv { b'\t' } else { b',' })
            .has_headers(false)
            .flexible(true)
            .from_reader(src);
        CsvReader {
            rdr,
            newlines,
            lines_before: 0,
            decoder,
            headers: None,
            record: csv::ByteRecord::new(),
            done: false,
        }
    }

    /// 1-based line of the record starting at byte `start`. The csv crate
    /// reports a record after CRLF as starting on the `\n`, so newlines at
    /// or before `start` are counted.
    fn line_at(&mut self, start: u64) -> u64 {
        if let Ok(mut q) = self.newlines.lock() {
            while q.front().is_some_and(|&nl| nl <= start) {
                q.pop_front();
                self.lines_before += 1;
            }
        }
        self.lines_before + 1
    }

    fn next_record(&mut self) -> io::Result<Option<Record>> {
        if self.done {
            return Ok(None);
        }
        loop {
            let ok = match self.rdr.read_byte_record(&mut self.record) {
                Ok(ok) => ok,
                Err(e) => {
                    let line = match e.position() {
                        Some(p) => self.line_at(p.byte()),
                        None => self.lines_before + 1,
                    };
                    if let csv::ErrorKind::Io(_) = e.kind() {
                        self.done = true;
                        return Err(io::Error::other(e.to_string()));
                    }
                    return Ok(Some(Record {
                        line,
                        case: Err(FieldError(format!("CSV 格式错误：{e}"))),
                    }));
                }
            };
            if !ok {
                self.done = true;
                return Ok(None);
            }
            let start = self.record.position().map_or(0, csv::Position::byte);
            let line = self.line_at(start);
            if self
                .record
                .iter()
                .all(|f| f.iter().all(u8::is_ascii_whitespace))
            {
                continue;
            }
            let Some(headers) = &self.headers else {
                let decoded = self.decode_row().map(|h| {
                    h.into_iter()
                        .map(|s| s.trim_start_matches('\u{feff}').trim().to_string())
                        .collect::<Vec<_>>()
                });
                let check = decoded.and_then(|h| {
                    if h.iter()
                        .any(|name| crate::input::case::canonical_field(name) == Some("text"))
                    {
                        Ok(h)
                    } else {
                        Err(FieldError(format!(
                            "表头中找不到内容列（text/内容/信访内容…）；表头是：{}",
                            h.join(",")
                        )))
                    }
                });
                // Without usable headers no row can be read: every data
                // row is then refused with the header's reason.
                self.headers = Some(check);
                continue;
            };
            let case = match headers {
                Err(e) => Err(FieldError(format!("表头无效：{e}"))),
                Ok(h) if h.len() != self.record.len() => Err(FieldError(format!(
                    "这一行有 {} 列，表头有 {} 列；请检查未加引号的逗号或换行",
                    self.record.len(),
                    h.len()
                ))),
                Ok(h) => {
                    let h = h.clone();
                    self.decode_row().and_then(|row| {
                        Case::from_fields(
                            h.iter()
                                .map(String::as_str)
                                .zip(row.into_iter().map(FieldValue::Scalar)),
                        )
                    })
                }
            };
            return Ok(Some(Record { line, case }));
        }
    }

    fn decode_row(&self) -> Result<Vec<String>, FieldError> {
        self.record
            .iter()
            .map(|field| self.decoder.decode(field))
            .collect()
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
    fn csv_without_text_column_refuses_every_row() {
        let (_, recs) = read_all(b"a,b\n1,2\n3,4\n", Format::Csv, EncodingChoice::Auto);
        assert_eq!(recs.len(), 2);
        assert!(
            recs.iter()
                .all(|r| r.case.as_ref().unwrap_err().0.contains("表头"))
        );
    }
}
