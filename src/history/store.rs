//! The SQLite history store.
//!
//! One file (WAL mode, mode 0600) with a schema version in
//! `PRAGMA user_version` and migrations from every earlier version. It
//! holds, per triaged case: the case id (the key: a case triaged again
//! replaces its record), the received date, the keyed hashes of its
//! petitioner ids and of its place, the target level, the primary class,
//! the tier and risk, the keyed hash of its content, and (for the
//! cluster window only) its MinHash sketch. Never a name, an id number,
//! a phone number or any text. Deleted rows are overwritten
//! (`secure_delete`), so forgetting a person leaves nothing behind.
//!
//! Schema (version 5):
//!
//! ```sql
//! meta(name PRIMARY KEY, value)                      -- the key check value
//! cases(case_id PRIMARY KEY, received,               -- YYYY-MM-DD
//!       level, class, tier, risk, content, place,
//!       pkeys,                                       -- its petitioner keys, 32 bytes each
//!       sketch)                                      -- the cluster window only
//! index cases(received); index cases(received) where sketch is not null
//! persons(pkey PRIMARY KEY, cases)                   -- each petitioner's cases, packed
//! follows(source PRIMARY KEY, fingerprint, fingerprint_len,
//!         offset, line)                             -- read positions of followed files
//! ```
//!
//! A petitioner's cases (id, date, level, class, tier of each) are one
//! value of `persons` ([`super::person`]): what a run needs of a
//! petitioner is one lookup, and a run rewrites one row per petitioner
//! it saw instead of inserting a link per case into a table ten times
//! the size. A new case costs four B-tree insertions (the row, its id,
//! its date, its date among the sketched cases) and its petitioners'
//! rows. Version 4 kept one row per petitioner and case in
//! `petitioners(pkey, case_id, received, level, class, tier)`; version 3
//! had no `follows`; version 2 kept the sketches in a table of their own
//! and indexed the links by case as well; version 1 had no `place`, no
//! sketches, and `petitioners` held only (pkey, case_id) without a
//! primary key. [`Store::open`] migrates any of them in one transaction.
//!
//! `follows` holds, per file that `triage stream --follow` reads, the
//! keyed hash of its first bytes (how the file is recognised) and the
//! byte offset and line number after the last case recorded; it is
//! written in the same transaction as those cases ([`Store::upsert_at`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, params};
use rustc_hash::FxHashMap;

use super::person::{self, Edits};

use crate::input::case::Level;
use crate::rules::Tier;

use super::key::StateKey;

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = 5;

/// The schema of version 1, as earlier builds created it (kept for the
/// migration and its test).
pub const SCHEMA_V1: &str = "
CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE cases (
    case_id TEXT PRIMARY KEY,
    received TEXT NOT NULL,
    level INTEGER,
    class TEXT NOT NULL,
    tier TEXT NOT NULL,
    risk INTEGER NOT NULL,
    content BLOB NOT NULL
);
CREATE TABLE petitioners (pkey BLOB NOT NULL, case_id TEXT NOT NULL);
CREATE INDEX petitioners_by_key ON petitioners(pkey);
PRAGMA user_version = 1;
";

/// The schema of version 2 (kept for the migration and its test).
pub const SCHEMA_V2: &str = "
CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE cases (
    case_id TEXT PRIMARY KEY,
    received TEXT NOT NULL,
    level INTEGER,
    class TEXT NOT NULL,
    tier TEXT NOT NULL,
    risk INTEGER NOT NULL,
    content BLOB NOT NULL,
    place BLOB
);
CREATE INDEX cases_by_received ON cases(received);
CREATE TABLE petitioners (
    pkey BLOB NOT NULL,
    case_id TEXT NOT NULL,
    received TEXT NOT NULL,
    level INTEGER,
    class TEXT NOT NULL,
    tier TEXT NOT NULL,
    PRIMARY KEY (pkey, case_id)
) WITHOUT ROWID;
CREATE INDEX petitioners_by_case ON petitioners(case_id);
CREATE TABLE sketches (
    case_id TEXT PRIMARY KEY,
    received TEXT NOT NULL,
    sketch BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX sketches_by_received ON sketches(received);
PRAGMA user_version = 2;
";

const SCHEMA_V3: &str = "
CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE cases (
    case_id TEXT PRIMARY KEY,
    received TEXT NOT NULL,
    level INTEGER,
    class TEXT NOT NULL,
    tier TEXT NOT NULL,
    risk INTEGER NOT NULL,
    content BLOB NOT NULL,
    place BLOB,
    pkeys BLOB NOT NULL DEFAULT x'',
    sketch BLOB
);
CREATE INDEX cases_by_received ON cases(received);
CREATE INDEX cases_sketched ON cases(received) WHERE sketch IS NOT NULL;
CREATE TABLE petitioners (
    pkey BLOB NOT NULL,
    case_id TEXT NOT NULL,
    received TEXT NOT NULL,
    level INTEGER,
    class TEXT NOT NULL,
    tier TEXT NOT NULL,
    PRIMARY KEY (pkey, case_id)
) WITHOUT ROWID;
PRAGMA user_version = 3;
";

/// From version 2: the sketches move into `cases`, and each case keeps
/// its petitioner keys (filled in by [`Store::migrate`]) instead of an
/// index of the links by case.
const MIGRATE_2_TO_3: &str = "
ALTER TABLE cases ADD COLUMN pkeys BLOB NOT NULL DEFAULT x'';
ALTER TABLE cases ADD COLUMN sketch BLOB;
UPDATE cases SET sketch = (SELECT s.sketch FROM sketches s WHERE s.case_id = cases.case_id);
DROP TABLE sketches;
CREATE INDEX cases_sketched ON cases(received) WHERE sketch IS NOT NULL;
";

/// After [`MIGRATE_2_TO_3`]'s keys are filled in.
const MIGRATE_2_TO_3_END: &str = "
DROP INDEX petitioners_by_case;
PRAGMA user_version = 3;
";

const MIGRATE_1_TO_2: &str = "
ALTER TABLE cases ADD COLUMN place BLOB;
CREATE INDEX cases_by_received ON cases(received);
CREATE TABLE petitioners_v2 (
    pkey BLOB NOT NULL,
    case_id TEXT NOT NULL,
    received TEXT NOT NULL,
    level INTEGER,
    class TEXT NOT NULL,
    tier TEXT NOT NULL,
    PRIMARY KEY (pkey, case_id)
) WITHOUT ROWID;
INSERT OR IGNORE INTO petitioners_v2
    SELECT p.pkey, p.case_id, c.received, c.level, c.class, c.tier
    FROM petitioners p JOIN cases c ON c.case_id = p.case_id;
DROP TABLE petitioners;
ALTER TABLE petitioners_v2 RENAME TO petitioners;
CREATE INDEX petitioners_by_case ON petitioners(case_id);
CREATE TABLE sketches (
    case_id TEXT PRIMARY KEY,
    received TEXT NOT NULL,
    sketch BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX sketches_by_received ON sketches(received);
PRAGMA user_version = 2;
";

/// From version 3: the read positions of followed files.
const MIGRATE_3_TO_4: &str = "
CREATE TABLE follows (
    source TEXT PRIMARY KEY,
    fingerprint BLOB NOT NULL,
    fingerprint_len INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    line INTEGER NOT NULL
) WITHOUT ROWID;
PRAGMA user_version = 4;
";

/// From version 4: each petitioner's cases in one row of `persons`
/// (filled in by [`Store::migrate`] from `petitioners`, which goes).
const MIGRATE_4_TO_5: &str = "
CREATE TABLE persons (pkey BLOB PRIMARY KEY, cases BLOB NOT NULL) WITHOUT ROWID;
";

/// After [`MIGRATE_4_TO_5`]'s rows are filled in.
const MIGRATE_4_TO_5_END: &str = "
DROP TABLE petitioners;
PRAGMA user_version = 5;
";

/// Where the reading of a followed file stands: the file is the one
/// whose first `fingerprint_len` bytes have the keyed hash `fingerprint`;
/// everything before byte `offset` (line `line`) has been recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// The followed path, as given.
    pub source: String,
    /// Keyed hash of the file's first `fingerprint_len` bytes.
    pub fingerprint: [u8; 32],
    /// How many bytes the fingerprint covers.
    pub fingerprint_len: u64,
    /// Byte offset after the last line recorded.
    pub offset: u64,
    /// Lines read up to `offset`.
    pub line: u64,
}

/// What the store keeps of one case.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Case id.
    pub case_id: String,
    /// Received date.
    pub received: NaiveDate,
    /// Keyed hashes of the petitioner ids.
    pub petitioners: Vec<[u8; 32]>,
    /// Target level.
    pub level: Option<Level>,
    /// Primary class.
    pub class: String,
    /// Keyed hash of the location.
    pub place: Option<[u8; 32]>,
    /// Tier.
    pub tier: Tier,
    /// Risk score.
    pub risk: u32,
    /// Keyed hash of the content.
    pub content: [u8; 32],
    /// MinHash sketch (cluster window only).
    pub sketch: Option<Vec<u32>>,
}

pub use super::person::Past;

/// A case of the cluster window.
#[derive(Debug, Clone)]
pub struct WindowCase {
    /// Case id.
    pub case_id: String,
    /// Received date.
    pub received: NaiveDate,
    /// Primary class.
    pub class: String,
    /// Keyed hash of the place.
    pub place: Option<[u8; 32]>,
    /// MinHash sketch.
    pub sketch: Option<Vec<u32>>,
    /// Keyed hashes of the petitioner ids.
    pub pkeys: Vec<[u8; 32]>,
}

/// What the store holds (`triage history stats`).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Stats {
    /// Cases.
    pub cases: u64,
    /// Distinct petitioner keys.
    pub petitioners: u64,
    /// Earliest and latest received date.
    pub range: Option<(NaiveDate, NaiveDate)>,
    /// Cases by primary class.
    pub by_class: BTreeMap<String, u64>,
    /// Cases by level (无 for none).
    pub by_level: BTreeMap<String, u64>,
    /// Schema version.
    pub version: i64,
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upsert {
    /// A new case.
    Added,
    /// A known case whose content, class, tier or petitioners changed.
    Updated,
    /// A known case, unchanged.
    Unchanged,
}

/// The settings of every connection: WAL, so that a reader never waits
/// for the writer; erased rows overwritten; a 64 MiB page cache, and the
/// file mapped into memory (reads without a system call a page).
const PRAGMAS: &str =
    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA secure_delete = ON;
     PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY; PRAGMA mmap_size = 1073741824;";

/// The history store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// A read position to write in the next upsert's transaction.
    position: Option<Position>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({})", self.path.display())
    }
}

fn db_err(e: rusqlite::Error) -> std::io::Error {
    std::io::Error::other(format!("历史库错误：{e}"))
}

pub use crate::util::create_private_dir;

fn level_code(l: Option<Level>) -> Option<i64> {
    l.map(|l| l as i64)
}

fn level_of(code: Option<i64>) -> Option<Level> {
    person::level_of(u8::try_from(code?).ok()?)
}

fn tier_of(name: &str) -> Tier {
    Tier::ALL
        .iter()
        .copied()
        .find(|t| t.name() == name)
        .unwrap_or(Tier::None)
}

/// A stored `YYYY-MM-DD` date. Read for every stored case of every
/// petitioner of a run, so the common form is read by hand (chrono's
/// format parser costs more than the rest of the row); anything else
/// goes through chrono.
fn date_of(s: &str) -> NaiveDate {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| {
        b[r].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    if b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10))
        && let Some(date) = NaiveDate::from_ymd_opt(y as i32, m, d)
    {
        return date;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
}

/// A date as the store keeps it, `YYYY-MM-DD` (written by hand for the
/// same reason as [`date_of`] reads it so).
fn date_text(d: NaiveDate) -> String {
    use chrono::Datelike;
    let y = d.year();
    if (0..=9999).contains(&y) {
        format!("{y:04}-{:02}-{:02}", d.month(), d.day())
    } else {
        d.format("%Y-%m-%d").to_string()
    }
}

fn blob32(b: Option<Vec<u8>>) -> Option<[u8; 32]> {
    b.and_then(|v| <[u8; 32]>::try_from(v.as_slice()).ok())
}

/// A sketch as stored: two bytes a value, little-endian.
fn sketch_blob(s: &Option<Vec<u32>>) -> Option<Vec<u8>> {
    s.as_ref().map(|s| {
        s.iter()
            .flat_map(|&x| (x.min(u32::from(u16::MAX)) as u16).to_le_bytes())
            .collect()
    })
}

/// A stored sketch. Version 2 stored four bytes a value; its high 16
/// bits are the value this build computes.
fn sketch_of(b: Option<Vec<u8>>) -> Option<Vec<u32>> {
    b.map(|b| {
        if b.len() == 4 * crate::cluster::PERMUTATIONS {
            b.chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]) >> 16)
                .collect()
        } else {
            b.chunks_exact(2)
                .map(|c| u32::from(u16::from_le_bytes([c[0], c[1]])))
                .collect()
        }
    })
}

fn put_position(tx: &rusqlite::Transaction<'_>, p: &Position) -> std::io::Result<()> {
    tx.execute(
        "INSERT OR REPLACE INTO follows(source, fingerprint, fingerprint_len, offset, line)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            p.source,
            p.fingerprint.to_vec(),
            p.fingerprint_len as i64,
            p.offset as i64,
            p.line as i64
        ],
    )
    .map_err(db_err)?;
    Ok(())
}

/// A case's stored fields that an upsert compares.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    content: Vec<u8>,
    class: String,
    tier: String,
    risk: i64,
    level: Option<i64>,
    place: Option<[u8; 32]>,
    received: String,
    pkeys: Vec<u8>,
}

impl Row {
    fn of(r: &Record) -> Row {
        let mut keys: Vec<[u8; 32]> = r.petitioners.clone();
        keys.sort();
        keys.dedup();
        Row {
            content: r.content.to_vec(),
            class: r.class.clone(),
            tier: r.tier.name().to_string(),
            risk: i64::from(r.risk),
            level: level_code(r.level),
            place: r.place,
            received: date_text(r.received),
            pkeys: keys.concat(),
        }
    }
}

/// The stored cases of petitioner `pkey` (none when unknown).
fn person(tx: &Connection, pkey: &[u8; 32]) -> std::io::Result<Vec<Past>> {
    let mut q = tx
        .prepare_cached("SELECT cases FROM persons WHERE pkey = ?1")
        .map_err(db_err)?;
    // Decoded from SQLite's own buffer: no copy of the row.
    let got: Option<Option<Vec<Past>>> = q
        .query_row(params![pkey.as_slice()], |r| {
            Ok(r.get_ref(0)?.as_blob().ok().and_then(person::decode))
        })
        .optional()
        .map_err(db_err)?;
    match got {
        None => Ok(Vec::new()),
        Some(Some(cases)) => Ok(cases),
        Some(None) => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "历史库中一位信访人的记录已损坏：请用 triage history forget 删除或从备份恢复",
        )),
    }
}

/// Apply `edits` to the petitioners' rows, a petitioner at a time in key
/// order.
fn put_persons(tx: &Connection, edits: Edits) -> std::io::Result<()> {
    put_persons_known(tx, edits, FxHashMap::default())
}

/// [`put_persons`] with the rows of some petitioners already at hand
/// (`known`, as the store holds them now): those are not read again.
fn put_persons_known(
    tx: &Connection,
    edits: Edits,
    mut known: FxHashMap<[u8; 32], Vec<Past>>,
) -> std::io::Result<()> {
    let mut write = tx
        .prepare_cached("INSERT OR REPLACE INTO persons(pkey, cases) VALUES (?1, ?2)")
        .map_err(db_err)?;
    let mut erase = tx
        .prepare_cached("DELETE FROM persons WHERE pkey = ?1")
        .map_err(db_err)?;
    edits.apply(
        |k| match known.remove(k) {
            Some(cases) => Ok(cases),
            None => person(tx, k),
        },
        |k, cases| {
            if cases.is_empty() {
                erase.execute(params![k.as_slice()]).map_err(db_err)?;
            } else {
                write
                    .execute(params![k.as_slice(), person::encode(cases)])
                    .map_err(db_err)?;
            }
            Ok(())
        },
    )
}

/// Write `records` inside the open transaction `tx`: a known case id is
/// replaced when anything changed. Returns what happened to each and,
/// for a known case, the row it had. What changes in the petitioners'
/// rows goes into `persons` when given (the caller writes it later, all
/// together), else it is written now.
fn put(
    tx: &Connection,
    records: &[Record],
    persons: Option<&mut Edits>,
) -> std::io::Result<Vec<(Upsert, Option<Row>)>> {
    let mut add = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO cases(case_id, received, level, class, tier, risk, content, place, pkeys, sketch)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )
        .map_err(db_err)?;
    let mut find = tx
        .prepare_cached(
            "SELECT content, class, tier, risk, level, place, received, pkeys, sketch IS NOT NULL
             FROM cases WHERE case_id = ?1",
        )
        .map_err(db_err)?;
    let mut update = tx
        .prepare_cached(
            "UPDATE cases SET received = ?2, level = ?3, class = ?4, tier = ?5, risk = ?6,
               content = ?7, place = ?8, pkeys = ?9, sketch = ?10 WHERE case_id = ?1",
        )
        .map_err(db_err)?;
    let mut sketch = tx
        .prepare_cached("UPDATE cases SET sketch = ?2 WHERE case_id = ?1")
        .map_err(db_err)?;
    let mut now = Edits::default();
    let pending = match persons {
        Some(e) => e,
        None => &mut now,
    };
    // The cases go in in date order: one sweep through the date
    // indexes. `out` keeps the order of `records`.
    let mut order: Vec<usize> = (0..records.len()).collect();
    order.sort_by(|&a, &b| {
        (records[a].received, &records[a].case_id).cmp(&(records[b].received, &records[b].case_id))
    });
    let mut out: Vec<(Upsert, Option<Row>)> = vec![(Upsert::Unchanged, None); records.len()];
    for &n in &order {
        let r = &records[n];
        let new = Row::of(r);
        let sketch_bytes = sketch_blob(&r.sketch);
        let values = params![
            r.case_id,
            new.received,
            new.level,
            new.class,
            new.tier,
            new.risk,
            new.content,
            new.place.map(|p| p.to_vec()),
            new.pkeys,
            sketch_bytes,
        ];
        let (what, old) = if add.execute(values).map_err(db_err)? == 1 {
            (Upsert::Added, None)
        } else {
            let (old, had_sketch) = find
                .query_row(params![r.case_id], |row| {
                    Ok((
                        Row {
                            content: row.get(0)?,
                            class: row.get(1)?,
                            tier: row.get(2)?,
                            risk: row.get(3)?,
                            level: row.get(4)?,
                            place: blob32(row.get(5)?),
                            received: row.get(6)?,
                            pkeys: row.get(7)?,
                        },
                        row.get::<_, bool>(8)?,
                    ))
                })
                .map_err(db_err)?;
            if old == new {
                // The sketch of an unchanged case is kept, or added when
                // this run made one.
                if !had_sketch && sketch_bytes.is_some() {
                    sketch
                        .execute(params![r.case_id, sketch_bytes])
                        .map_err(db_err)?;
                }
                (Upsert::Unchanged, Some(old))
            } else {
                update.execute(values).map_err(db_err)?;
                for k in old.pkeys.chunks_exact(32) {
                    if let Ok(k) = k.try_into() {
                        pending.remove(k, &r.case_id);
                    }
                }
                (Upsert::Updated, Some(old))
            }
        };
        if what != Upsert::Unchanged {
            for k in new.pkeys.chunks_exact(32) {
                if let Ok(k) = k.try_into() {
                    pending.add(
                        k,
                        Past {
                            case_id: r.case_id.clone(),
                            received: r.received,
                            level: r.level,
                            class: r.class.clone(),
                            tier: r.tier,
                        },
                    );
                }
            }
        }
        out[n] = (what, old);
    }
    drop((add, find, update, sketch));
    if !now.is_empty() {
        put_persons(tx, now)?;
    }
    Ok(out)
}

/// A run to be written into the store, in one transaction at its end
/// ([`RunWrite::commit`]), so that the store's write lock is held only
/// while it is written. Made before the run reads the store, it notes
/// the store's data version, so that it can tell at the end whether the
/// petitioners' rows read during the run are still what the store holds.
pub struct RunWrite {
    store: Store,
    version: i64,
}

impl RunWrite {
    /// Write `records` (every case of the run, as finally scored) in one
    /// transaction: a known case id is replaced when anything changed;
    /// then drop the sketches of cases received before `prune`. `known`
    /// are petitioners' stored cases as another connection read them
    /// after [`Store::begin_run`]: used instead of reading them again
    /// unless some other connection wrote since. Returns what happened
    /// to each record.
    pub fn commit(
        self,
        records: &[Record],
        prune: Option<NaiveDate>,
        known: FxHashMap<[u8; 32], Vec<Past>>,
    ) -> std::io::Result<Vec<Upsert>> {
        let conn = &self.store.conn;
        conn.execute_batch("BEGIN IMMEDIATE").map_err(db_err)?;
        let r = (|| {
            let unchanged = data_version(conn)? == self.version;
            let mut persons = Edits::default();
            let what = put(conn, records, Some(&mut persons))?;
            let known = if unchanged {
                known
            } else {
                FxHashMap::default()
            };
            put_persons_known(conn, persons, known)?;
            if let Some(cut) = prune {
                prune_sketches(conn, cut)?;
            }
            Ok(what.into_iter().map(|(w, _)| w).collect())
        })();
        match r {
            Ok(what) => {
                conn.execute_batch("COMMIT").map_err(db_err)?;
                Ok(what)
            }
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }
}

/// Drop the sketches of cases received before `before`.
fn prune_sketches(conn: &Connection, before: NaiveDate) -> std::io::Result<u64> {
    let n = conn
        .execute(
            "UPDATE cases INDEXED BY cases_sketched SET sketch = NULL
             WHERE received < ?1 AND sketch IS NOT NULL",
            params![date_text(before)],
        )
        .map_err(db_err)?;
    Ok(n as u64)
}

/// SQLite's count of commits by other connections, as this one sees it.
fn data_version(conn: &Connection) -> std::io::Result<i64> {
    conn.query_row("PRAGMA data_version", [], |r| r.get(0))
        .map_err(db_err)
}

impl Store {
    /// Open (or create) the store at `path`, migrating an older schema,
    /// and check that `key` is the key it was made with.
    pub fn open(path: &Path, key: &StateKey) -> std::io::Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir)?;
        }
        // Create the file owner-only before SQLite opens it; SQLite gives
        // its -wal and -shm files the same mode.
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        opts.open(path).map_err(|e| {
            std::io::Error::new(e.kind(), format!("无法打开历史库 {}：{e}", path.display()))
        })?;
        let mut store = Store::connect(path)?;
        store.migrate()?;
        store.check_key(key)?;
        Ok(store)
    }

    fn connect(path: &Path) -> std::io::Result<Store> {
        let conn = Connection::open(path).map_err(db_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(db_err)?;
        conn.execute_batch(PRAGMAS).map_err(db_err)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            position: None,
        })
    }

    /// A second connection to this store, for a thread of its own: it
    /// reads while a run goes on, or writes while the lists are written.
    /// (The schema and the key were checked when this one was opened.)
    pub fn reopen(&self) -> std::io::Result<Store> {
        Store::connect(&self.path)
    }

    /// Map at most `bytes` of the file into memory on this connection
    /// (`PRAGMA mmap_size`; 0 reads through system calls). A stream that
    /// runs for months keeps its resident memory to its window this way,
    /// instead of growing with the file.
    pub fn limit_mmap(&self, bytes: u64) -> std::io::Result<()> {
        self.conn
            .execute_batch(&format!("PRAGMA mmap_size = {bytes};"))
            .map_err(db_err)
    }

    /// Where the store is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the open file.
    pub fn version(&self) -> std::io::Result<i64> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(db_err)
    }

    fn migrate(&mut self) -> std::io::Result<()> {
        let v = self.version()?;
        if v > SCHEMA_VERSION {
            return Err(std::io::Error::other(format!(
                "历史库 {} 的版本 {v} 比本程序支持的 {SCHEMA_VERSION} 新，请升级 triage",
                self.path.display()
            )));
        }
        let tx = self.conn.transaction().map_err(db_err)?;
        if v == 0 {
            tx.execute_batch(SCHEMA_V3).map_err(db_err)?;
        }
        if v == 1 {
            tx.execute_batch(MIGRATE_1_TO_2).map_err(db_err)?;
        }
        if v == 1 || v == 2 {
            tx.execute_batch(MIGRATE_2_TO_3).map_err(db_err)?;
            {
                let mut links = tx
                    .prepare("SELECT case_id, pkey FROM petitioners ORDER BY case_id, pkey")
                    .map_err(db_err)?;
                let mut set = tx
                    .prepare("UPDATE cases SET pkeys = ?2 WHERE case_id = ?1")
                    .map_err(db_err)?;
                let mut rows = links.query([]).map_err(db_err)?;
                let mut current: Option<(String, Vec<u8>)> = None;
                while let Some(row) = rows.next().map_err(db_err)? {
                    let (id, key): (String, Vec<u8>) =
                        (row.get(0).map_err(db_err)?, row.get(1).map_err(db_err)?);
                    match &mut current {
                        Some((c, keys)) if *c == id => keys.extend_from_slice(&key),
                        _ => {
                            if let Some((c, keys)) = current.take() {
                                set.execute(params![c, keys]).map_err(db_err)?;
                            }
                            current = Some((id, key));
                        }
                    }
                }
                if let Some((c, keys)) = current {
                    set.execute(params![c, keys]).map_err(db_err)?;
                }
            }
            tx.execute_batch(MIGRATE_2_TO_3_END).map_err(db_err)?;
        }
        if v <= 3 {
            tx.execute_batch(MIGRATE_3_TO_4).map_err(db_err)?;
        }
        if v <= 4 {
            tx.execute_batch(MIGRATE_4_TO_5).map_err(db_err)?;
            {
                let mut links = tx
                    .prepare(
                        "SELECT pkey, case_id, received, level, class, tier FROM petitioners
                         ORDER BY pkey, received, case_id",
                    )
                    .map_err(db_err)?;
                let mut put = tx
                    .prepare("INSERT INTO persons(pkey, cases) VALUES (?1, ?2)")
                    .map_err(db_err)?;
                let mut rows = links.query([]).map_err(db_err)?;
                let mut current: Option<(Vec<u8>, Vec<Past>)> = None;
                while let Some(row) = rows.next().map_err(db_err)? {
                    let key: Vec<u8> = row.get(0).map_err(db_err)?;
                    let p = Past {
                        case_id: row.get(1).map_err(db_err)?,
                        received: date_of(&row.get::<_, String>(2).map_err(db_err)?),
                        level: level_of(row.get(3).map_err(db_err)?),
                        class: row.get(4).map_err(db_err)?,
                        tier: tier_of(&row.get::<_, String>(5).map_err(db_err)?),
                    };
                    match &mut current {
                        Some((k, cases)) if *k == key => cases.push(p),
                        _ => {
                            if let Some((k, cases)) = current.take() {
                                put.execute(params![k, person::encode(&cases)])
                                    .map_err(db_err)?;
                            }
                            current = Some((key, vec![p]));
                        }
                    }
                }
                if let Some((k, cases)) = current {
                    put.execute(params![k, person::encode(&cases)])
                        .map_err(db_err)?;
                }
            }
            tx.execute_batch(MIGRATE_4_TO_5_END).map_err(db_err)?;
        }
        tx.commit().map_err(db_err)
    }

    fn check_key(&mut self, key: &StateKey) -> std::io::Result<()> {
        let check = key.check_value();
        let stored: Option<Vec<u8>> = self
            .conn
            .query_row("SELECT value FROM meta WHERE name = 'key_check'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(db_err)?;
        match stored {
            None => {
                self.conn
                    .execute(
                        "INSERT INTO meta(name, value) VALUES ('key_check', ?1)",
                        params![check.to_vec()],
                    )
                    .map_err(db_err)?;
                Ok(())
            }
            Some(s) if s == check => Ok(()),
            Some(_) => Err(std::io::Error::other(format!(
                "历史库 {} 是用另一把密钥建立的（TRIAGE_STATE_KEY 或密钥文件不对）",
                self.path.display()
            ))),
        }
    }

    /// Write `records` in one transaction: a known case id is replaced
    /// when anything changed. Returns what happened to each.
    pub fn upsert(&mut self, records: &[Record]) -> std::io::Result<Vec<Upsert>> {
        let tx = self.conn.transaction().map_err(db_err)?;
        let out = put(&tx, records, None)?;
        if let Some(p) = self.position.take() {
            put_position(&tx, &p)?;
        }
        tx.commit().map_err(db_err)?;
        Ok(out.into_iter().map(|(what, _)| what).collect())
    }

    /// Make ready to write a run at its end ([`RunWrite::commit`]); call
    /// it before the run reads the store. A run that never commits
    /// (killed, or a sink failed) leaves the store as it was.
    pub fn begin_run(self) -> std::io::Result<RunWrite> {
        let version = data_version(&self.conn)?;
        Ok(RunWrite {
            store: self,
            version,
        })
    }

    /// [`Store::upsert`] with the read position of a followed file,
    /// written in the same transaction as the records: after a crash the
    /// store holds both or neither.
    pub fn upsert_at(
        &mut self,
        records: &[Record],
        position: Option<&Position>,
    ) -> std::io::Result<Vec<Upsert>> {
        self.position = position.cloned();
        let r = self.upsert(records);
        self.position = None;
        r
    }

    /// The read position recorded for the followed path `source`.
    pub fn position(&self, source: &str) -> std::io::Result<Option<Position>> {
        self.conn
            .query_row(
                "SELECT fingerprint, fingerprint_len, offset, line FROM follows WHERE source = ?1",
                params![source],
                |r| {
                    Ok((
                        r.get::<_, Vec<u8>>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?,
                    ))
                },
            )
            .optional()
            .map_err(db_err)
            .map(|row| {
                row.and_then(|(fp, len, offset, line)| {
                    Some(Position {
                        source: source.to_string(),
                        fingerprint: blob32(Some(fp))?,
                        fingerprint_len: len.max(0) as u64,
                        offset: offset.max(0) as u64,
                        line: line.max(0) as u64,
                    })
                })
            })
    }

    /// Every case of the petitioner with key `pkey`.
    pub fn petitioner_cases(&self, pkey: &[u8; 32]) -> std::io::Result<Vec<Past>> {
        person(&self.conn, pkey)
    }

    /// The stored cases of each of `pkeys`, read in one read transaction
    /// (one snapshot, and the log's lock taken once rather than a key).
    pub fn petitioners_cases(
        &self,
        pkeys: impl IntoIterator<Item = [u8; 32]>,
    ) -> std::io::Result<Vec<([u8; 32], Vec<Past>)>> {
        self.conn.execute_batch("BEGIN").map_err(db_err)?;
        let got: std::io::Result<Vec<_>> = pkeys
            .into_iter()
            .map(|k| Ok((k, person(&self.conn, &k)?)))
            .collect();
        let end = self.conn.execute_batch("COMMIT").map_err(db_err);
        let got = got?;
        end?;
        Ok(got)
    }

    /// The petitioner keys of a case.
    pub fn case_petitioners(&self, case_id: &str) -> std::io::Result<Vec<[u8; 32]>> {
        let mut q = self
            .conn
            .prepare_cached("SELECT pkeys FROM cases WHERE case_id = ?1")
            .map_err(db_err)?;
        let keys: Option<Vec<u8>> = q
            .query_row(params![case_id], |r| r.get(0))
            .optional()
            .map_err(db_err)?;
        Ok(keys
            .unwrap_or_default()
            .chunks_exact(32)
            .filter_map(|k| <[u8; 32]>::try_from(k).ok())
            .collect())
    }

    /// The stored record of a case, if any (without petitioner keys).
    pub fn case(&self, case_id: &str) -> std::io::Result<Option<Past>> {
        self.conn
            .query_row(
                "SELECT case_id, received, level, class, tier FROM cases WHERE case_id = ?1",
                params![case_id],
                |r| {
                    Ok(Past {
                        case_id: r.get(0)?,
                        received: date_of(&r.get::<_, String>(1)?),
                        level: level_of(r.get(2)?),
                        class: r.get(3)?,
                        tier: tier_of(&r.get::<_, String>(4)?),
                    })
                },
            )
            .optional()
            .map_err(db_err)
    }

    /// The cases received on or after `from`: the cluster window.
    pub fn window(&self, from: NaiveDate) -> std::io::Result<Vec<WindowCase>> {
        let mut q = self
            .conn
            .prepare_cached(
                "SELECT case_id, received, class, place, sketch, pkeys FROM cases WHERE received >= ?1",
            )
            .map_err(db_err)?;
        let rows = q
            .query_map(params![date_text(from)], |r| {
                Ok(WindowCase {
                    case_id: r.get(0)?,
                    received: date_of(&r.get::<_, String>(1)?),
                    class: r.get(2)?,
                    place: blob32(r.get(3)?),
                    sketch: sketch_of(r.get(4)?),
                    pkeys: r
                        .get_ref(5)?
                        .as_blob()
                        .unwrap_or_default()
                        .chunks_exact(32)
                        .filter_map(|k| <[u8; 32]>::try_from(k).ok())
                        .collect(),
                })
            })
            .map_err(db_err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db_err)
    }

    /// Drop the sketches of cases received before `before` (they have
    /// left the cluster window).
    pub fn prune_sketches(&mut self, before: NaiveDate) -> std::io::Result<u64> {
        prune_sketches(&self.conn, before)
    }

    /// Erase every case received before `before`. Returns the number of
    /// cases erased.
    pub fn forget_before(&mut self, before: NaiveDate) -> std::io::Result<u64> {
        let d = date_text(before);
        let tx = self.conn.transaction().map_err(db_err)?;
        {
            let mut edits = Edits::default();
            let mut q = tx
                .prepare("SELECT pkey, cases FROM persons")
                .map_err(db_err)?;
            let mut rows = q.query([]).map_err(db_err)?;
            while let Some(row) = rows.next().map_err(db_err)? {
                let (k, b): (Vec<u8>, Vec<u8>) =
                    (row.get(0).map_err(db_err)?, row.get(1).map_err(db_err)?);
                let (Ok(k), Some(cases)) = (<[u8; 32]>::try_from(k), person::decode(&b)) else {
                    continue;
                };
                for p in cases.iter().filter(|p| p.received < before) {
                    edits.remove(k, &p.case_id);
                }
            }
            drop(rows);
            drop(q);
            put_persons(&tx, edits)?;
        }
        let n = tx
            .execute("DELETE FROM cases WHERE received < ?1", params![d])
            .map_err(db_err)?;
        tx.commit().map_err(db_err)?;
        self.compact()?;
        Ok(n as u64)
    }

    /// Erase one person: their links, and the cases no other petitioner
    /// is linked to. Returns (links, cases) erased.
    pub fn forget_petitioner(&mut self, pkey: &[u8; 32]) -> std::io::Result<(u64, u64)> {
        let tx = self.conn.transaction().map_err(db_err)?;
        let ids: Vec<String> = person(&tx, pkey)?.into_iter().map(|p| p.case_id).collect();
        let links = ids.len();
        tx.execute(
            "DELETE FROM persons WHERE pkey = ?1",
            params![pkey.as_slice()],
        )
        .map_err(db_err)?;
        let mut cases = 0;
        for id in &ids {
            // The case keeps its other petitioners' keys, not this one.
            let keys: Vec<u8> = tx
                .query_row(
                    "SELECT pkeys FROM cases WHERE case_id = ?1",
                    params![id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db_err)?
                .unwrap_or_default();
            let kept: Vec<u8> = keys
                .chunks_exact(32)
                .filter(|k| *k != pkey.as_slice())
                .flatten()
                .copied()
                .collect();
            tx.execute(
                "UPDATE cases SET pkeys = ?2 WHERE case_id = ?1",
                params![id, kept],
            )
            .map_err(db_err)?;
            cases += tx
                .execute(
                    "DELETE FROM cases WHERE case_id = ?1 AND pkeys = x''",
                    params![id],
                )
                .map_err(db_err)?;
        }
        tx.commit().map_err(db_err)?;
        self.compact()?;
        Ok((links as u64, cases as u64))
    }

    /// Move the WAL into the file and truncate it, so erased rows leave
    /// no copy in the log.
    fn compact(&mut self) -> std::io::Result<()> {
        self.conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .map_err(db_err)
    }

    /// What the store holds.
    pub fn stats(&self) -> std::io::Result<Stats> {
        let c = &self.conn;
        let one = |sql: &str| -> std::io::Result<i64> {
            c.query_row(sql, [], |r| r.get(0)).map_err(db_err)
        };
        let mut s = Stats {
            cases: one("SELECT count(*) FROM cases")? as u64,
            petitioners: one("SELECT count(*) FROM persons")? as u64,
            version: self.version()?,
            ..Stats::default()
        };
        let range: (Option<String>, Option<String>) = c
            .query_row("SELECT min(received), max(received) FROM cases", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(db_err)?;
        if let (Some(a), Some(b)) = range {
            s.range = Some((date_of(&a), date_of(&b)));
        }
        let mut q = c
            .prepare("SELECT class, count(*) FROM cases GROUP BY class")
            .map_err(db_err)?;
        for row in q
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
            .map_err(db_err)?
        {
            let (k, n) = row.map_err(db_err)?;
            s.by_class.insert(k, n as u64);
        }
        let mut q = c
            .prepare("SELECT level, count(*) FROM cases GROUP BY level")
            .map_err(db_err)?;
        for row in q
            .query_map([], |r| {
                Ok((r.get::<_, Option<i64>>(0)?, r.get::<_, i64>(1)?))
            })
            .map_err(db_err)?
        {
            let (l, n) = row.map_err(db_err)?;
            let name = level_of(l).map_or("无", |l| l.name());
            s.by_level.insert(name.to_string(), n as u64);
        }
        Ok(s)
    }

    /// Whether SQLite finds the file sound (`PRAGMA integrity_check`).
    pub fn integrity_ok(&self) -> std::io::Result<bool> {
        let r: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(db_err)?;
        Ok(r == "ok")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_and_written_as_chrono_does() {
        for (y, m, d) in [(2026, 12, 1), (2024, 2, 29), (1, 1, 1), (9999, 12, 31)] {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
            let text = date_text(date);
            assert_eq!(text, date.format("%Y-%m-%d").to_string());
            assert_eq!(date_of(&text), date);
        }
        // Not a date of the common form: chrono decides.
        assert_eq!(date_of("2025-02-30"), NaiveDate::default());
        assert_eq!(
            date_of("2026-1-05"),
            NaiveDate::from_ymd_opt(2026, 1, 5).unwrap_or_default()
        );
        assert_eq!(date_of("garbage!!!"), NaiveDate::default());
    }
}
