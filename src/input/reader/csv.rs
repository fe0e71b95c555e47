//! The CSV and TSV side of the reader: physical lines joined into records
//! by their quotes, with a bound, and resynchronised after a quote that
//! never closes; fields split by hand (see [`CsvReader`]).

use super::*;

/// One physical line of a CSV file, as buffered for a possible resync.
#[derive(Debug)]
enum Physical {
    /// The line's bytes without its `\n`, and whether a `\r` preceded it.
    Bytes(Vec<u8>, bool),
    /// A line longer than [`MAX_LINE_BYTES`] (its length); not kept.
    TooLong(usize),
}

/// Quoting state at the end of a stretch of CSV bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quote {
    /// At the start of a field.
    FieldStart,
    /// In an unquoted field (quotes in it are literal).
    Unquoted,
    /// In a quoted field.
    Quoted,
    /// Just after a quote inside a quoted field: a second quote is an
    /// escaped one; anything else closes the field.
    Closing,
}

/// The quoting state after `bytes`, starting in `state`, and whether a
/// quoted field was closed by a quote followed by something other than a
/// delimiter (as a quote that was never meant to open a field would be).
fn scan_quotes(bytes: &[u8], delim: u8, mut state: Quote) -> (Quote, bool) {
    let mut stray = false;
    for &b in bytes {
        stray |= state == Quote::Closing && b != b'"' && b != delim;
        state = match (state, b) {
            (Quote::FieldStart, b'"') => Quote::Quoted,
            (Quote::Quoted, b'"') => Quote::Closing,
            (Quote::Quoted, _) => Quote::Quoted,
            (Quote::Closing, b'"') => Quote::Quoted,
            (_, b) if b == delim => Quote::FieldStart,
            _ => Quote::Unquoted,
        };
    }
    (state, stray)
}

/// Split one complete CSV record into its fields (quotes removed, `""`
/// unescaped; text after a closing quote is kept, as spreadsheets do).
fn split_fields(bytes: &[u8], delim: u8) -> Vec<Vec<u8>> {
    let mut fields = Vec::new();
    let mut field = Vec::new();
    let mut state = Quote::FieldStart;
    for &b in bytes {
        state = match (state, b) {
            (Quote::FieldStart, b'"') => Quote::Quoted,
            (Quote::Quoted, b'"') => Quote::Closing,
            (Quote::Closing, b'"') => {
                field.push(b'"');
                Quote::Quoted
            }
            (Quote::Quoted, b) => {
                field.push(b);
                Quote::Quoted
            }
            (_, b) if b == delim => {
                fields.push(std::mem::take(&mut field));
                Quote::FieldStart
            }
            (_, b) => {
                field.push(b);
                Quote::Unquoted
            }
        };
    }
    fields.push(field);
    fields
}

pub(super) struct CsvReader {
    src: Source,
    delim: u8,
    /// Physical lines read from `src` so far.
    line: u64,
    /// Lines read ahead and given back by a resync, with their numbers.
    replay: VecDeque<(u64, Physical)>,
    decoder: Decoder,
    headers: Vec<String>,
    buf: Vec<u8>,
    done: bool,
}

/// One CSV record: its first line and its bytes, or why it is refused.
type RawRecord = (u64, Result<Vec<u8>, FieldError>);

impl CsvReader {
    pub(super) fn new(src: Source, decoder: Decoder, format: Format) -> io::Result<CsvReader> {
        let mut r = CsvReader {
            src,
            delim: if format == Format::Tsv { b'\t' } else { b',' },
            line: 0,
            replay: VecDeque::new(),
            decoder,
            headers: Vec::new(),
            buf: Vec::new(),
            done: false,
        };
        r.headers = r.read_headers()?;
        Ok(r)
    }

    fn invalid(msg: String) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidInput, msg)
    }

    /// Read and check the header row: it must name the required fields.
    fn read_headers(&mut self) -> io::Result<Vec<String>> {
        let (line, bytes) = loop {
            match self.next_raw()? {
                None => return Err(Self::invalid("文件是空的，没有表头行".into())),
                Some((line, Err(e))) => {
                    return Err(Self::invalid(format!("表头（第 {line} 行）无法读取：{e}")));
                }
                Some((_, Ok(b))) if is_blank(&b, self.delim) => continue,
                Some((line, Ok(b))) => break (line, b),
            }
        };
        let enc = self
            .decoder
            .choose(&bytes)
            .map_err(|bad| Self::invalid(format!("表头无法读取：{}", bad.reason(&bytes, line))))?;
        let headers: Vec<String> = split_fields(&bytes, self.delim)
            .iter()
            .map(|f| {
                decode_in(f, enc)
                    .trim_start_matches('\u{feff}')
                    .trim()
                    .to_string()
            })
            .collect();
        let known: Vec<&str> = headers.iter().filter_map(|h| canonical_field(h)).collect();
        if known.is_empty() {
            return Err(Self::invalid(format!(
                "第 {line} 行不是可识别的表头（没有一个列名是 编号、登记日期、内容 等），文件可能缺少表头行。{}",
                accepted_list(&REQUIRED)
            )));
        }
        let missing: Vec<&str> = REQUIRED
            .iter()
            .copied()
            .filter(|f| !known.contains(f))
            .collect();
        if !missing.is_empty() {
            let names: Vec<String> = missing
                .iter()
                .map(|f| format!("{}（{f}）", field_label(f)))
                .collect();
            return Err(Self::invalid(format!(
                "表头缺少必填列：{}。{}",
                names.join("、"),
                accepted_list(&missing)
            )));
        }
        Ok(headers)
    }

    fn next_physical(&mut self) -> io::Result<Option<(u64, Physical)>> {
        if let Some(p) = self.replay.pop_front() {
            return Ok(Some(p));
        }
        if self.done {
            return Ok(None);
        }
        let read = read_line_bounded_cr(&mut self.src, &mut self.buf, MAX_LINE_BYTES)?;
        let physical = match read {
            (LineRead::Eof, _) => {
                self.done = true;
                return Ok(None);
            }
            (LineRead::TooLong(n), _) => Physical::TooLong(n),
            (LineRead::Line, cr) => Physical::Bytes(std::mem::take(&mut self.buf), cr),
        };
        self.line += 1;
        Ok(Some((self.line, physical)))
    }

    /// The next record's bytes (physical lines joined while a quoted
    /// field is open), or the refusal of a record whose quote never closes.
    fn next_raw(&mut self) -> io::Result<Option<RawRecord>> {
        let Some((start, first)) = self.next_physical()? else {
            return Ok(None);
        };
        let mut bytes = match first {
            Physical::TooLong(n) => {
                return Ok(Some((
                    start,
                    Err(FieldError(format!(
                        "这一行过长（{n} 字节，上限 {MAX_LINE_BYTES} 字节），已跳过"
                    ))),
                )));
            }
            Physical::Bytes(b, _) => b,
        };
        let (mut state, _) = scan_quotes(&bytes, self.delim, Quote::FieldStart);
        if state != Quote::Quoted {
            return Ok(Some((start, Ok(bytes))));
        }
        let mut taken: Vec<(u64, Physical)> = Vec::new();
        let why = loop {
            if taken.len() + 1 >= MAX_RECORD_LINES {
                break format!("超过 {MAX_RECORD_LINES} 行");
            }
            if bytes.len() > MAX_RECORD_BYTES {
                break format!("超过 {MAX_RECORD_BYTES} 字节");
            }
            let Some((n, next)) = self.next_physical()? else {
                break "直到文件末尾".to_string();
            };
            match &next {
                Physical::TooLong(_) => {
                    taken.push((n, next));
                    break format!("第 {n} 行过长");
                }
                Physical::Bytes(b, cr) => {
                    if *cr {
                        bytes.push(b'\r');
                    }
                    bytes.push(b'\n');
                    bytes.extend_from_slice(b);
                    let (after, stray) = scan_quotes(b, self.delim, state);
                    if stray {
                        taken.push((n, next));
                        break format!("第 {n} 行的引号后紧跟其他字符，");
                    }
                    state = after;
                }
            }
            taken.push((n, next));
            if state != Quote::Quoted {
                return Ok(Some((start, Ok(bytes))));
            }
        };
        // Resynchronise: the lines after the start are read again as
        // records of their own.
        for p in taken.into_iter().rev() {
            self.replay.push_front(p);
        }
        Ok(Some((
            start,
            Err(FieldError(format!(
                "第 {start} 行起的带引号字段没有结束（{why}仍未见到配对的引号）；此行已跳过，从下一行接着读"
            ))),
        )))
    }

    pub(super) fn next_record(&mut self) -> io::Result<Option<Record>> {
        loop {
            let Some((line, raw)) = self.next_raw()? else {
                return Ok(None);
            };
            let bytes = match raw {
                Ok(b) => b,
                Err(e) => return Ok(Some(Record { line, case: Err(e) })),
            };
            if is_blank(&bytes, self.delim) {
                continue;
            }
            let case = self.parse(&bytes, line);
            return Ok(Some(Record { line, case }));
        }
    }

    fn parse(&self, bytes: &[u8], line: u64) -> Result<Case, FieldError> {
        let enc = self
            .decoder
            .choose(bytes)
            .map_err(|bad| bad.reason(bytes, line))?;
        let fields = split_fields(bytes, self.delim);
        if fields.len() != self.headers.len() {
            return Err(FieldError(format!(
                "这一行有 {} 列，表头有 {} 列；请检查未加引号的逗号或换行",
                fields.len(),
                self.headers.len()
            )));
        }
        Case::from_fields(
            self.headers
                .iter()
                .map(String::as_str)
                .zip(fields.iter().map(|f| FieldValue::Scalar(decode_in(f, enc)))),
        )
    }
}

/// Whether a record has only whitespace and delimiters.
fn is_blank(bytes: &[u8], delim: u8) -> bool {
    bytes.iter().all(|b| b.is_ascii_whitespace() || *b == delim)
}

/// The accepted headers of `fields`, for a message.
fn accepted_list(fields: &[&str]) -> String {
    let parts: Vec<String> = fields
        .iter()
        .map(|f| format!("{}：{}", field_label(f), accepted_names(f).join("、")))
        .collect();
    format!("可用的列名——{}", parts.join("；"))
}

/// Like [`read_line_bounded`], also telling whether the line ended in `\r\n`.
pub(super) fn read_line_bounded_cr<R: BufRead>(
    src: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<(LineRead, bool)> {
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
        return Ok((LineRead::Eof, false));
    }
    if total > max {
        buf.clear();
        return Ok((LineRead::TooLong(total), false));
    }
    let cr = buf.last() == Some(&b'\r');
    if cr {
        buf.pop();
    }
    Ok((LineRead::Line, cr))
}
