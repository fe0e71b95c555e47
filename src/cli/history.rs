//! `triage history`: the history store (import, stats, forget), and the
//! `--state` options that `run` and `explain` share.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use petition_triage::history::{self, HistoryContext, HistoryRules, Mode, StateKey, Store};
use petition_triage::input::EncodingChoice;
use petition_triage::run::batch::{self, BatchOptions};
use petition_triage::sink::Sink;

use super::*;

/// Where the history store is, for `run` and `explain`.
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct StateArgs {
    /// 使用历史库（信访史规则与聚类）。不给路径时用默认位置（$TRIAGE_STATE，
    /// 否则 ~/.local/state/petition-triage/history.sqlite）；设置了 TRIAGE_STATE 时默认使用。
    #[arg(long, value_name = "PATH", num_args = 0..=1)]
    pub(crate) state: Option<Option<PathBuf>>,
    /// 不使用历史库（即使设置了 TRIAGE_STATE）。
    #[arg(long, conflicts_with = "state")]
    pub(crate) no_state: bool,
    /// 使用历史库，但不做聚类。
    #[arg(long)]
    pub(crate) no_clusters: bool,
}

impl StateArgs {
    /// The store path to use, if any. A path that names a case file is
    /// refused: `--state` takes the word after it when that is not an
    /// option, so `--state cases.jsonl` would otherwise make the input
    /// the store.
    pub(crate) fn path(&self) -> Result<Option<PathBuf>> {
        if self.no_state {
            return Ok(None);
        }
        let path = match &self.state {
            Some(Some(p)) => p.clone(),
            Some(None) => history::default_state_path(),
            None => match std::env::var_os(history::STATE_ENV).filter(|p| !p.is_empty()) {
                Some(p) => PathBuf::from(p),
                None => return Ok(None),
            },
        };
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        if matches!(
            ext.as_deref(),
            Some("jsonl" | "json" | "csv" | "tsv" | "txt" | "xlsx" | "xls")
        ) {
            bail!(
                "--state 的路径 {} 像是案件文件，不是历史库：--state 后面紧跟的词会被当作历史库路径。\
                 请写 --state=路径，或把 --state 放在输入文件之后",
                path.display()
            );
        }
        Ok(Some(path))
    }
}

/// How a command opens the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Open {
    /// Create the store and its key when missing, and say so (runs,
    /// streams and imports).
    Create,
    /// Refuse a store that does not exist (explanations, statistics,
    /// erasure): a mistyped path must not look like an empty history.
    Existing,
}

/// Open the store at `path` with its key (from TRIAGE_STATE_KEY or the
/// key file beside it).
///
/// A key file is created only with a new store: beside a store that
/// exists, a missing key file is an error (a new key could never open
/// it). A new store that fails to open leaves no file behind. A key in
/// TRIAGE_STATE_KEY that fails is tried once more as the key file's
/// hexadecimal text, so `TRIAGE_STATE_KEY="$(cat history.key)"` opens the
/// store the file opens.
pub(crate) fn open_store(path: &std::path::Path, how: Open) -> Result<(Store, StateKey)> {
    let key_file = history::key::default_key_file(path);
    let exists = path.exists();
    if path.is_dir() {
        bail!(
            "{} 是文件夹，不是历史库：--state 要给历史库文件的路径，如 {}",
            path.display(),
            path.join("history.sqlite").display()
        );
    }
    if !exists && how == Open::Existing {
        bail!(
            "历史库 {} 不存在：请检查路径，或先用 triage history import 或 triage run --state 建立",
            path.display()
        );
    }
    if exists && !looks_like_sqlite(path) {
        bail!(
            "{} 不是历史库（不是 SQLite 数据库文件）：请检查 --state 的路径",
            path.display()
        );
    }
    let from_env = std::env::var_os(history::key::KEY_ENV).is_some_and(|k| !k.is_empty());
    let key_existed = key_file.exists();
    if exists && !from_env && !key_existed {
        bail!(
            "历史库 {} 已存在，但旁边没有它的密钥文件 {}：请把建库时的密钥文件放回原处，\
             或用 TRIAGE_STATE_KEY 给出密钥（不会新建密钥：新密钥打不开这个库）",
            path.display(),
            key_file.display()
        );
    }
    if key_existed && !from_env {
        warn_if_readable(&key_file);
    }
    let key = StateKey::load(&key_file)?;
    let opened = match Store::open(path, &key) {
        Err(e) if exists && from_env => match key.hex_reading() {
            Some(hex) => Store::open(path, &hex).map(|s| (s, hex)).map_err(|_| e),
            None => Err(e),
        },
        other => other.map(|s| (s, key)),
    };
    match opened {
        Ok(pair) => {
            if !exists {
                let whose = if from_env {
                    "密钥取自 TRIAGE_STATE_KEY".to_string()
                } else {
                    format!("密钥文件 {}，请与历史库一起备份", key_file.display())
                };
                eprintln!("新建历史库 {}（{whose}）", path.display());
            }
            Ok(pair)
        }
        Err(e) => {
            if !exists {
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.as_os_str().to_owned();
                    p.push(suffix);
                    let _ = std::fs::remove_file(p);
                }
                if !key_existed && !from_env {
                    let _ = std::fs::remove_file(&key_file);
                }
            }
            Err(e).with_context(|| format!("无法打开历史库 {}", path.display()))
        }
    }
}

/// Whether a file is empty or starts as every SQLite database does.
fn looks_like_sqlite(path: &std::path::Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 16];
    match std::fs::File::open(path).and_then(|mut f| f.read(&mut head)) {
        Ok(0) => true,
        Ok(n) => head[..n] == b"SQLite format 3\0"[..n],
        // Unreadable: opening it says why.
        Err(_) => true,
    }
}

/// Say so when a key file can be read by others than its owner.
fn warn_if_readable(key_file: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(m) = std::fs::metadata(key_file) {
            let mode = m.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                eprintln!(
                    "提示：密钥文件 {} 的权限是 {mode:04o}，别人也能读：请执行 chmod 600 {}",
                    key_file.display(),
                    key_file.display()
                );
            }
        }
    }
}

/// The repeat rules of a rule set, or every problem and exit 1.
pub(crate) fn history_rules(engine: &petition_triage::Engine) -> Result<HistoryRules> {
    let set = engine.rules();
    match HistoryRules::load(&set.source, &set.scoring) {
        Ok(r) => Ok(r),
        Err(d) => {
            print_diags(&d);
            eprintln!("信访史规则有错误，未加载。请先运行 triage check 修正。");
            Err(Exit(1).into())
        }
    }
}

#[derive(clap::Subcommand, Debug)]
pub(crate) enum HistoryCommand {
    /// 导入过去的案件（与 run 相同的读入方式），让新装的系统从历史开始。
    Import {
        /// 案件文件（.jsonl / .csv / .tsv）。
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// 历史库路径（默认 $TRIAGE_STATE 或 ~/.local/state/petition-triage/history.sqlite）。
        #[arg(long)]
        state: Option<PathBuf>,
        /// 规则目录（默认使用内置规则）。
        #[arg(long)]
        rules: Option<PathBuf>,
        /// 输入格式（默认按扩展名判断）。
        #[arg(long, value_enum)]
        format: Option<petition_triage::input::Format>,
        /// 输入编码。
        #[arg(long, value_enum, default_value_t = EncodingChoice::Auto)]
        encoding: EncodingChoice,
        /// 不显示进度。
        #[arg(long, short)]
        quiet: bool,
    },
    /// 历史库里有什么：案件数、信访人数、日期范围、按类别和层级。
    Stats {
        /// 历史库路径。
        #[arg(long)]
        state: Option<PathBuf>,
    },
    /// 删除：--before 日期之前登记的全部案件（保存期限），或 --petitioner 一个人的全部记录。
    Forget {
        /// 删除这一天之前登记的案件（不含这一天）。
        #[arg(
            long,
            conflicts_with = "petitioner",
            required_unless_present = "petitioner"
        )]
        before: Option<String>,
        /// 删除这位信访人（证件号或编号）的记录。
        #[arg(long)]
        petitioner: Option<String>,
        /// 确认删除：--before 给的日期晚于今天时（会删除库中到今天为止的全部案件）必须加上。
        #[arg(long)]
        yes: bool,
        /// 历史库路径。
        #[arg(long)]
        state: Option<PathBuf>,
    },
}

/// Counts the imported verdicts (an import writes no list) and keeps
/// the first refused records to name them.
struct Counted(u64, Vec<petition_triage::sink::Reject>);

/// Refused records named on the terminal (the rest are counted).
const SHOWN_REJECTS: usize = 20;

impl Sink for Counted {
    fn reject(&mut self, r: &petition_triage::sink::Reject) -> std::io::Result<()> {
        if self.1.len() < SHOWN_REJECTS {
            self.1.push(r.clone());
        }
        Ok(())
    }

    fn verdicts(
        &mut self,
        _file: usize,
        chunk: &[petition_triage::sink::Scored],
    ) -> std::io::Result<()> {
        self.0 += chunk.len() as u64;
        Ok(())
    }

    fn finish(&mut self, end: &mut petition_triage::sink::End) -> std::io::Result<()> {
        end.counts.triaged = self.0;
        end.first_rejects = std::mem::take(&mut self.1);
        Ok(())
    }
}

fn spinner(quiet: bool, template: &str) -> Option<indicatif::ProgressBar> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let b = indicatif::ProgressBar::new_spinner();
    b.set_style(
        indicatif::ProgressStyle::with_template(template)
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    b.enable_steady_tick(std::time::Duration::from_millis(120));
    Some(b)
}

pub(crate) fn cmd_history(c: HistoryCommand) -> Result<u8> {
    match c {
        HistoryCommand::Import {
            inputs,
            state,
            rules,
            format,
            encoding,
            quiet,
        } => {
            super::run::check_inputs(&inputs, format, encoding)?;
            let path = state.unwrap_or_else(history::default_state_path);
            let engine = load_engine(rules.as_deref())?;
            let hrules = history_rules(&engine)?;
            let (store, key) = open_store(&path, Open::Create)?;
            let mut ctx = HistoryContext::new(store, key, &engine, hrules, Mode::Import, true);
            let bar = spinner(quiet, "{spinner} 已导入 {pos} 条  {per_sec}  {elapsed}");
            let opts = BatchOptions {
                format,
                encoding,
                ..BatchOptions::default()
            };
            let mut count = Counted(0, Vec::new());
            let mut sinks: Vec<&mut dyn Sink> = vec![&mut count];
            let result = batch::run_into(&engine, &inputs, &opts, &mut ctx, &mut sinks, |n| {
                if let Some(b) = &bar {
                    b.set_position(n);
                }
            })?;
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            let r = ctx.recorded();
            eprintln!(
                "读入 {}，拒收 {}；新增 {}，更新 {}，未变 {}；历史库 {}",
                result.counts.read,
                result.counts.rejected,
                r.added,
                r.updated,
                r.unchanged,
                path.display()
            );
            for r in &result.first_rejects {
                eprintln!("拒收 {}:{}：{}", r.file, r.line, r.reason);
            }
            let rejected = result.counts.rejected;
            if rejected > result.first_rejects.len() as u64 {
                eprintln!(
                    "……另有 {} 条拒收",
                    rejected - result.first_rejects.len() as u64
                );
            }
            // As a run: refused records make the exit status 3.
            Ok(if rejected > 0 { 3 } else { 0 })
        }
        HistoryCommand::Stats { state } => {
            let path = state.unwrap_or_else(history::default_state_path);
            let (store, _) = open_store(&path, Open::Existing)?;
            let bar = spinner(false, "{spinner} 统计中  {elapsed}");
            let s = store.stats()?;
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            let mut out = format!(
                "历史库：{}（格式版本 {}）\n案件 {}，信访人 {}\n",
                path.display(),
                s.version,
                s.cases,
                s.petitioners
            );
            if let Some((a, b)) = s.range {
                out.push_str(&format!("登记日期 {a} 至 {b}\n"));
            }
            // Classes by count, the largest first; levels from 乡镇 up.
            out.push_str("按类别：\n");
            let mut classes: Vec<(&String, &u64)> = s.by_class.iter().collect();
            classes.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            for (k, n) in classes {
                out.push_str(&format!("  {k}  {n}\n"));
            }
            out.push_str("按层级：\n");
            let rank = |name: &str| {
                use petition_triage::input::case::Level;
                [
                    Level::Township,
                    Level::County,
                    Level::City,
                    Level::Province,
                    Level::National,
                ]
                .iter()
                .position(|l| l.name() == name)
                .unwrap_or(usize::MAX)
            };
            let mut levels: Vec<(&String, &u64)> = s.by_level.iter().collect();
            levels.sort_by_key(|(k, _)| rank(k));
            for (k, n) in levels {
                out.push_str(&format!("  {k}  {n}\n"));
            }
            emit(&out);
            Ok(0)
        }
        HistoryCommand::Forget {
            before,
            petitioner,
            yes,
            state,
        } => {
            let path = state.unwrap_or_else(history::default_state_path);
            let date = match &before {
                None => None,
                Some(d) => match petition_triage::input::case::parse_date(d) {
                    Some(date) => Some(date),
                    None => bail!("日期 {d} 无法识别（如 2024-01-01）"),
                },
            };
            let today = chrono::Local::now().date_naive();
            if let Some(date) = date.filter(|d| *d > today && !yes) {
                bail!(
                    "--before {date} 晚于今天（{today}）：会删除库中到今天为止登记的全部案件。\
                     确要如此，请加 --yes；保存期限通常是今天往前若干年的日期"
                );
            }
            let (mut store, key) = open_store(&path, Open::Existing)?;
            let bar = spinner(false, "{spinner} 删除中  {elapsed}");
            let msg = if let Some(date) = date {
                let n = store.forget_before(date)?;
                format!("已删除 {date} 之前登记的 {n} 件案件\n")
            } else if let Some(p) = petitioner {
                let Some(k) = key.petitioner(&p) else {
                    bail!("信访人编号为空");
                };
                let (links, cases) = store.forget_petitioner(&k)?;
                if links == 0 {
                    "库中没有这位信访人的记录，没有删除任何内容（编号按去空格、全角转半角、字母大写后比对）\n"
                        .to_string()
                } else {
                    format!("已删除这位信访人的 {links} 条关联、{cases} 件只属于他/她的案件\n")
                }
            } else {
                bail!("请给出 --before 日期 或 --petitioner 编号");
            };
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            emit(&msg);
            Ok(0)
        }
    }
}
