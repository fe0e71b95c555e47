//! The early-warning list for runs of any size.
//!
//! Verdicts are encoded (a JSON line and a CSV row each) on the worker
//! threads, a [`Block`] of them at a time, and the blocks are kept as they
//! are; past [`SPILL_AT`] bytes they go to a spill file in the output
//! directory, so only a compact sort key (about 40 bytes) per case stays
//! in memory. At the end the keys are sorted into list order, repeated
//! case ids are turned into rejects, and `warnings.jsonl` and
//! `warnings.csv` are written side by side by copying the rows in order.
//! Memory therefore grows with the number of cases by the size of a key,
//! not of a verdict.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::sink::{self, Begin, CsvEncoder, End, Reject, Scored, Sink, Tally};
use crate::util::Spool;
use crate::verdict::{Tier, Verdict};

#[derive(Debug, Clone, Copy)]
struct Key {
    off: u64,
    json_len: u32,
    csv_len: u32,
    id_start: u32,
    line: u32,
    received: i32,
    id_len: u16,
    file: u16,
    risk: u8,
    tier: u8,
    class: u8,
    warned: bool,
    crisis: bool,
    supervised: bool,
    /// The row replaces the earlier row of the same file and line.
    amend: bool,
}

/// Encoded rows kept in memory before they go to a spill file.
pub const SPILL_AT: usize = 64 << 20;

/// Verdicts encoded together on one thread: their JSON lines and CSV rows
/// (each row right after its line) and what the list needs to sort them.
#[derive(Debug, Default)]
pub struct Block {
    bytes: Vec<u8>,
    keys: Vec<Key>,
    ids: String,
    csv: CsvEncoder,
}

impl Block {
    /// An empty block.
    pub fn new() -> Block {
        Block::default()
    }

    /// Encode `v`, read at `line`; `classes` are the class names (其他
    /// last) in report order.
    pub fn add(&mut self, v: &Verdict, line: u64, classes: &[String]) -> std::io::Result<()> {
        let off = self.bytes.len();
        serde_json::to_writer(&mut self.bytes, v)?;
        self.bytes.push(b'\n');
        let json_len = self.bytes.len() - off;
        self.csv
            .row_into(v, &mut self.bytes)
            .map_err(std::io::Error::other)?;
        let csv_len = self.bytes.len() - off - json_len;
        let too_big = |n: usize| std::io::Error::other(format!("记录过大：{n} 字节"));
        self.keys.push(Key {
            off: off as u64,
            json_len: u32::try_from(json_len).map_err(|_| too_big(json_len))?,
            csv_len: u32::try_from(csv_len).map_err(|_| too_big(csv_len))?,
            id_start: u32::try_from(self.ids.len()).map_err(|_| too_big(self.ids.len()))?,
            line: u32::try_from(line).unwrap_or(u32::MAX),
            received: chrono::Datelike::num_days_from_ce(&v.received),
            id_len: u16::try_from(v.id.len()).map_err(|_| too_big(v.id.len()))?,
            file: 0,
            risk: u8::try_from(v.risk.min(255)).unwrap_or(u8::MAX),
            tier: Tier::ALL.iter().position(|t| *t == v.tier).unwrap_or(4) as u8,
            class: classes
                .iter()
                .position(|c| *c == v.primary_class)
                .unwrap_or(classes.len().saturating_sub(1)) as u8,
            warned: v.warned,
            crisis: v.crisis,
            supervised: !v.supervision.is_empty(),
            amend: false,
        });
        self.ids.push_str(&v.id);
        Ok(())
    }
}

/// The encoded rows: blocks in memory while small, then a spill file.
struct Rows {
    mem: Vec<Vec<u8>>,
    starts: Vec<u64>,
    file: Option<Spool>,
    dir: std::path::PathBuf,
    len: u64,
    spill_at: usize,
}

impl Rows {
    fn add(&mut self, bytes: Vec<u8>) -> std::io::Result<()> {
        let len = bytes.len() as u64;
        if self.file.is_none() && self.len + len > self.spill_at as u64 {
            let mut spool = Spool::new(&self.dir)?;
            for b in std::mem::take(&mut self.mem) {
                spool.write(&b)?;
            }
            self.starts = Vec::new();
            self.file = Some(spool);
        }
        match &mut self.file {
            Some(f) => f.write(&bytes)?,
            None => {
                // Kept blocks hold no spare capacity: memory is what was counted.
                let mut bytes = bytes;
                bytes.shrink_to_fit();
                self.starts.push(self.len);
                self.mem.push(bytes);
            }
        }
        self.len += len;
        Ok(())
    }
}

enum RowReader<'a> {
    Mem(&'a [Vec<u8>], &'a [u64]),
    File(File),
}

impl RowReader<'_> {
    /// The `len` bytes at `off`: borrowed from memory, or read into `buf`.
    fn read_at<'b>(
        &'b mut self,
        off: u64,
        len: usize,
        buf: &'b mut Vec<u8>,
    ) -> std::io::Result<&'b [u8]> {
        match self {
            RowReader::Mem(blocks, starts) => {
                let b = starts.partition_point(|&s| s <= off).saturating_sub(1);
                let start = usize::try_from(off - starts.get(b).copied().unwrap_or(0))
                    .map_err(std::io::Error::other)?;
                blocks
                    .get(b)
                    .and_then(|m| m.get(start..start + len))
                    .ok_or_else(|| std::io::Error::other("row out of range"))
            }
            RowReader::File(f) => {
                buf.resize(len, 0);
                f.seek(SeekFrom::Start(off))?;
                f.read_exact(buf)?;
                Ok(buf)
            }
        }
    }
}

fn id<'a>(ids: &'a str, k: &Key) -> &'a str {
    &ids[k.id_start as usize..k.id_start as usize + k.id_len as usize]
}

/// A verdict's JSON line and CSV row (without rank).
pub type Encoded = (Vec<u8>, Vec<u8>);

/// Builds the list while cases are triaged.
pub struct ListBuilder {
    spill: Rows,
    keys: Vec<Key>,
    ids: String,
    classes: Vec<String>,
}

/// What [`ListBuilder::finish`] reports.
#[derive(Debug, Default)]
pub struct Finished {
    /// Cases on the list.
    pub listed: u64,
    /// Records refused because their case id was seen before.
    pub duplicates: Vec<Reject>,
    /// Counts by tier and class, and the top cases.
    pub tally: Tally,
}

impl ListBuilder {
    /// Start a list whose spill file (if it needs one) lives in `dir`; `classes` are the class
    /// names (其他 last) in report order.
    pub fn new(dir: &Path, classes: Vec<String>) -> std::io::Result<ListBuilder> {
        ListBuilder::with_spill_at(dir, classes, SPILL_AT)
    }

    /// Like [`ListBuilder::new`], spilling to disk past `spill_at` bytes.
    pub fn with_spill_at(
        dir: &Path,
        classes: Vec<String>,
        spill_at: usize,
    ) -> std::io::Result<ListBuilder> {
        Ok(ListBuilder {
            spill: Rows {
                mem: Vec::new(),
                starts: Vec::new(),
                file: None,
                dir: dir.to_path_buf(),
                len: 0,
                spill_at,
            },
            keys: Vec::new(),
            ids: String::new(),
            classes,
        })
    }

    /// The class names, 其他 last, that [`Block::add`] expects.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// Add a block of verdicts read from input file number `file`.
    pub fn push(&mut self, block: Block, file: usize) -> std::io::Result<()> {
        self.push_rows(block, file, false)
    }

    /// Add a block of amended verdicts of input file number `file`: each
    /// replaces the row pushed before for the same line.
    pub fn push_amended(&mut self, block: Block, file: usize) -> std::io::Result<()> {
        self.push_rows(block, file, true)
    }

    fn push_rows(&mut self, block: Block, file: usize, amend: bool) -> std::io::Result<()> {
        let Block {
            bytes, keys, ids, ..
        } = block;
        let (off, id_off) = (self.spill.len, self.ids.len());
        u32::try_from(id_off + ids.len())
            .map_err(|_| std::io::Error::other("编号总长超过 4 GiB"))?;
        self.keys.extend(keys.into_iter().map(|mut k| {
            k.off += off;
            k.id_start += id_off as u32;
            k.file = u16::try_from(file).unwrap_or(u16::MAX);
            k.amend = amend;
            k
        }));
        self.ids.push_str(&ids);
        self.spill.add(bytes)
    }

    /// Sort, drop repeated ids (the first occurrence in input order stays),
    /// and write `warnings.jsonl` and `warnings.csv` into `dir`. `inputs`
    /// names the input files for duplicate messages; `top` is the number of
    /// top cases kept for the summary.
    pub fn finish(self, dir: &Path, inputs: &[String], top: usize) -> std::io::Result<Finished> {
        let ListBuilder {
            mut spill,
            keys,
            ids,
            classes,
        } = self;
        let name = |f: u16| inputs.get(usize::from(f)).cloned().unwrap_or_default();

        // Repeated ids: sort by (id, input order, amendments after the
        // row they amend, in the order they came); in each group of equal
        // ids the first record stays (as last amended) and the other
        // records become rejects.
        let mut by_id: Vec<u32> = (0..keys.len() as u32).collect();
        by_id.sort_unstable_by(|&a, &b| {
            let (ka, kb) = (&keys[a as usize], &keys[b as usize]);
            id(&ids, ka)
                .cmp(id(&ids, kb))
                .then((ka.file, ka.line, ka.amend, a).cmp(&(kb.file, kb.line, kb.amend, b)))
        });
        let mut dropped = vec![false; keys.len()];
        let mut duplicates = Vec::new();
        // The row that stands for the first record of the group, and that record.
        let (mut first, mut standing) = (0usize, 0usize);
        for n in 1..by_id.len() {
            let (origin, k) = (&keys[by_id[first] as usize], &keys[by_id[n] as usize]);
            if id(&ids, origin) != id(&ids, k) {
                (first, standing) = (n, n);
                continue;
            }
            if k.amend {
                // An amendment of the first record replaces its row; one
                // of a refused record goes with it.
                dropped[by_id[n] as usize] = true;
                if (k.file, k.line) == (origin.file, origin.line) {
                    dropped[by_id[standing] as usize] = true;
                    dropped[by_id[n] as usize] = false;
                    standing = n;
                }
                continue;
            }
            dropped[by_id[n] as usize] = true;
            let where_ = if origin.file == k.file {
                format!("第 {} 行", origin.line)
            } else {
                format!("{} 第 {} 行", name(origin.file), origin.line)
            };
            duplicates.push(Reject {
                file: name(k.file),
                line: u64::from(k.line),
                reason: format!("编号“{}”与{where_}重复，已跳过", id(&ids, k)),
            });
        }
        drop(by_id);
        duplicates.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));

        let mut order: Vec<u32> = (0..keys.len() as u32)
            .filter(|&i| !dropped[i as usize])
            .collect();
        order.sort_unstable_by(|&a, &b| {
            let (ka, kb) = (&keys[a as usize], &keys[b as usize]);
            kb.crisis
                .cmp(&ka.crisis)
                .then(kb.risk.cmp(&ka.risk))
                .then(ka.received.cmp(&kb.received))
                .then_with(|| id(&ids, ka).cmp(id(&ids, kb)))
        });

        let mut tally = Tally::default();
        for &i in &order {
            let k = &keys[i as usize];
            tally.tiers[usize::from(k.tier).min(4)] += 1;
            tally.crisis += u64::from(k.crisis);
            tally.supervised += u64::from(k.supervised);
            let class = classes
                .get(usize::from(k.class))
                .cloned()
                .unwrap_or_default();
            let c = tally.classes.entry(class).or_default();
            c.0 += 1;
            if k.warned {
                c.1 += 1;
            }
        }
        if let Some(f) = &mut spill.file {
            f.out.flush()?;
        }
        let mut buf = Vec::new();
        let mut reader = spill_reader(&spill)?;
        // Crisis cases sort first, so the top rows hold them all (up to a
        // bound) and then the highest risks.
        let crisis_rows = (tally.crisis as usize).min(sink::MAX_CRISIS_ROWS);
        for &i in order.iter().take(top.max(crisis_rows)) {
            let k = &keys[i as usize];
            let json = reader.read_at(k.off, k.json_len as usize, &mut buf)?;
            let value: serde_json::Value = serde_json::from_slice(json)?;
            let row = sink::TopRow::from_json(&value);
            if row.crisis && tally.crisis_rows.len() < crisis_rows {
                tally.crisis_rows.push(row.clone());
            }
            if tally.top.len() < top {
                tally.top.push(row);
            }
        }
        // Cases flagged for 督办 (deadlines), wherever they stand in the list.
        for &i in &order {
            if tally.supervised_rows.len() >= sink::MAX_CRISIS_ROWS {
                break;
            }
            let k = &keys[i as usize];
            if !k.supervised {
                continue;
            }
            let json = reader.read_at(k.off, k.json_len as usize, &mut buf)?;
            let value: serde_json::Value = serde_json::from_slice(json)?;
            tally.supervised_rows.push(sink::TopRow::from_json(&value));
        }
        drop(reader);

        // The two files are written side by side.
        let write_jsonl = || -> std::io::Result<()> {
            let mut reader = spill_reader(&spill)?;
            let mut jsonl = Spool::new(dir)?;
            let mut buf = Vec::new();
            for &i in &order {
                let k = &keys[i as usize];
                jsonl.write(reader.read_at(k.off, k.json_len as usize, &mut buf)?)?;
            }
            jsonl.persist(&dir.join("warnings.jsonl"))
        };
        let write_csv = || -> std::io::Result<()> {
            let mut reader = spill_reader(&spill)?;
            let mut csv = Spool::new(dir)?;
            csv.write(&sink::csv_header())?;
            let mut buf = Vec::new();
            let mut rank = String::new();
            for (n, &i) in order.iter().enumerate() {
                let k = &keys[i as usize];
                rank.clear();
                std::fmt::Write::write_fmt(&mut rank, format_args!("{},", n + 1))
                    .map_err(std::io::Error::other)?;
                csv.write(rank.as_bytes())?;
                let off = k.off + u64::from(k.json_len);
                csv.write(reader.read_at(off, k.csv_len as usize, &mut buf)?)?;
            }
            csv.persist(&dir.join("warnings.csv"))
        };
        let (a, b) = rayon::join(write_jsonl, write_csv);
        a?;
        b?;
        Ok(Finished {
            listed: order.len() as u64,
            duplicates,
            tally,
        })
    }
}

/// The early-warning list as a [`Sink`]: `warnings.jsonl` and
/// `warnings.csv` in `dir`. Verdicts are encoded in parallel, [`BLOCK`] at
/// a time; at the end the list reports what it listed, the repeated ids
/// and the tally.
pub struct ListSink {
    dir: PathBuf,
    top: usize,
    inputs: Vec<String>,
    list: Option<ListBuilder>,
}

/// Verdicts encoded together on one thread into one block of rows.
pub const BLOCK: usize = 32;

impl ListSink {
    /// A list written into `dir`, keeping `top` cases for the summary.
    pub fn new(dir: &Path, top: usize) -> ListSink {
        ListSink {
            dir: dir.to_path_buf(),
            top,
            inputs: Vec::new(),
            list: None,
        }
    }

    fn list(&mut self) -> std::io::Result<&mut ListBuilder> {
        self.list
            .as_mut()
            .ok_or_else(|| std::io::Error::other("list sink used before begin"))
    }
}

impl Sink for ListSink {
    fn begin(&mut self, run: &Begin<'_>) -> std::io::Result<()> {
        let scoring = &run.rules.scoring;
        let classes: Vec<String> = scoring
            .classes
            .iter()
            .map(|c| c.name.clone())
            .chain([scoring.other.clone()])
            .collect();
        self.inputs = run.inputs.to_vec();
        self.list = Some(ListBuilder::new(&self.dir, classes)?);
        Ok(())
    }

    fn verdict(&mut self, file: usize, scored: &Scored) -> std::io::Result<()> {
        self.verdicts(file, std::slice::from_ref(scored))
    }

    fn verdicts(&mut self, file: usize, chunk: &[Scored]) -> std::io::Result<()> {
        self.rows(file, chunk, false)
    }

    fn amend(&mut self, file: usize, chunk: &[Scored]) -> std::io::Result<()> {
        self.rows(file, chunk, true)
    }

    fn finish(&mut self, end: &mut End) -> std::io::Result<()> {
        self.finish_list(end)
    }
}

impl ListSink {
    fn rows(&mut self, file: usize, chunk: &[Scored], amend: bool) -> std::io::Result<()> {
        let list = self.list()?;
        let classes = list.classes();
        let blocks: Vec<std::io::Result<Block>> = chunk
            .par_chunks(BLOCK)
            .map(|part| {
                let mut block = Block::new();
                for s in part {
                    block.add(&s.verdict, s.line, classes)?;
                }
                Ok(block)
            })
            .collect();
        for b in blocks {
            list.push_rows(b?, file, amend)?;
        }
        Ok(())
    }

    fn finish_list(&mut self, end: &mut End) -> std::io::Result<()> {
        let list = self
            .list
            .take()
            .ok_or_else(|| std::io::Error::other("list sink used before begin"))?;
        let finished = list.finish(&self.dir, &self.inputs, self.top)?;
        for d in &finished.duplicates {
            if let Some(m) = end.inputs.iter_mut().find(|m| m.path == d.file) {
                m.rejected += 1;
            }
            end.counts.rejected += 1;
        }
        end.duplicates = finished.duplicates;
        end.counts.triaged = finished.listed;
        end.tally = finished.tally;
        end.outputs
            .extend(["warnings.jsonl".to_string(), "warnings.csv".to_string()]);
        Ok(())
    }
}

/// An independent reader over flushed rows.
fn spill_reader(rows: &Rows) -> std::io::Result<RowReader<'_>> {
    Ok(match &rows.file {
        None => RowReader::Mem(&rows.mem, &rows.starts),
        Some(f) => RowReader::File(f.file.reopen()?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::case::Case;

    fn verdict(i: u32) -> Verdict {
        let case = Case {
            id: format!("C{:03}", i % 97),
            received: chrono::NaiveDate::from_ymd_opt(2026, 1, 1 + i % 28).unwrap(),
            channel: None,
            petitioner_ids: vec![],
            persons: None,
            target_level: None,
            location: None,
            title: Some(format!("标题{i}")),
            text: String::new(),
            notes: Vec::new(),
            handling: Default::default(),
        };
        let mut v = Verdict::for_case(&case);
        v.risk = (i * 37) % 101;
        v.primary_class = "其他".into();
        v
    }

    fn build(spill_at: usize) -> (String, String, Finished, usize) {
        let dir = tempfile::tempdir().unwrap();
        let mut list =
            ListBuilder::with_spill_at(dir.path(), vec!["其他".into()], spill_at).unwrap();
        // Blocks of 1 to 7 verdicts, so rows are found across block edges.
        let mut i = 0;
        while i < 300 {
            let mut block = Block::new();
            for _ in 0..(1 + i % 7).min(300 - i) {
                let v = verdict(i);
                block.add(&v, u64::from(i) + 1, list.classes()).unwrap();
                i += 1;
            }
            list.push(block, 0).unwrap();
        }
        let spilled = usize::from(list.spill.file.is_some());
        let done = list.finish(dir.path(), &["in.jsonl".into()], 5).unwrap();
        let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap();
        let leftover = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftover, 2, "only the two list files remain");
        (read("warnings.jsonl"), read("warnings.csv"), done, spilled)
    }

    #[test]
    fn spilled_and_in_memory_lists_are_identical() {
        let (j1, c1, d1, s1) = build(usize::MAX);
        let (j2, c2, d2, s2) = build(1024);
        assert_eq!((s1, s2), (0, 1));
        assert_eq!(j1, j2);
        assert_eq!(c1, c2);
        // 300 verdicts, 97 distinct ids: the repeats are rejects.
        assert_eq!(d1.listed, 97);
        assert_eq!(d1.duplicates.len(), 203);
        assert_eq!(d2.listed, 97);
        assert!(d1.duplicates[0].reason.contains("重复"));
        let risks: Vec<u64> = j1
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["risk"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert!(risks.windows(2).all(|w| w[0] >= w[1]));
        assert_eq!(d1.tally.top.len(), 5);
    }

    #[test]
    fn an_amendment_replaces_the_row_of_its_record_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut list = ListBuilder::new(dir.path(), vec!["其他".into()]).unwrap();
        let with = |id: &str, risk: u32| {
            let mut v = verdict(0);
            v.id = id.into();
            v.risk = risk;
            v
        };
        let push = |list: &mut ListBuilder, rows: &[(&str, u32, u64)], amend: bool| {
            let mut block = Block::new();
            for &(id, risk, line) in rows {
                block.add(&with(id, risk), line, list.classes()).unwrap();
            }
            if amend {
                list.push_amended(block, 0).unwrap();
            } else {
                list.push(block, 0).unwrap();
            }
        };
        // A on line 1, B on line 2, A again on line 3 (a repeated id).
        push(
            &mut list,
            &[("A", 10, 1), ("B", 20, 2), ("A", 90, 3)],
            false,
        );
        // A's record amended; the repeat's amendment goes with the repeat;
        // B amended twice, the last counts.
        push(&mut list, &[("A", 50, 1), ("A", 99, 3), ("B", 30, 2)], true);
        push(&mut list, &[("B", 40, 2)], true);
        let done = list.finish(dir.path(), &["in.jsonl".into()], 5).unwrap();
        assert_eq!(done.listed, 2);
        assert_eq!(done.duplicates.len(), 1);
        assert_eq!(done.duplicates[0].line, 3);
        let rows: Vec<(String, u64)> = std::fs::read_to_string(dir.path().join("warnings.jsonl"))
            .unwrap()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (
                    v["id"].as_str().unwrap().to_string(),
                    v["risk"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(rows, vec![("A".to_string(), 50), ("B".to_string(), 40)]);
        let csv = std::fs::read_to_string(dir.path().join("warnings.csv")).unwrap();
        assert_eq!(csv.lines().count(), 3);
    }
}
