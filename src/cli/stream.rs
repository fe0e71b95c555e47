//! `triage stream`: triage cases as they arrive, one JSON line each.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result};

use petition_triage::history::live::{Live, RuleGen};
use petition_triage::run::stream::{self, Input, StreamOptions, reload::Generation};

use super::*;

#[derive(clap::Args, Debug)]
pub(crate) struct StreamArgs {
    /// 跟踪一个不断追加的 JSONL 文件（像 tail -F），而不是读标准输入。
    #[arg(long, value_name = "FILE")]
    follow: Option<PathBuf>,
    /// 读完跟踪的文件就停止（补读、测试用）。
    #[arg(long, requires = "follow")]
    exit_at_end: bool,
    /// 结果写入这个文件（追加），而不是标准输出。
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// 规则目录（默认使用内置规则）。给出时监视它，规则改动后检查通过即热加载。
    #[arg(long)]
    rules: Option<PathBuf>,
    /// 在输出中遮蔽身份证号和手机号。
    #[arg(long)]
    mask: bool,
    /// 研判日期（默认为每件案件研判的当天）：按这一天判断敏感时段和办理期限。
    #[arg(long, value_parser = parse_as_of)]
    as_of: Option<chrono::NaiveDate>,
    /// 内存中保留多少天的案件用于聚类和迟到案件的更新（按登记日期，默认为聚类时间窗）。
    #[arg(long, value_name = "DAYS")]
    memory_days: Option<u32>,
    /// 不显示状态行。
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    state: StateArgs,
}

pub(crate) fn cmd_stream(a: StreamArgs) -> Result<u8> {
    let engine = load_engine(a.rules.as_deref())?;
    let history = history_rules(&engine)?;
    let set = engine.rules();
    let calendar = load_calendar(&set.source)?;
    let hash = set.source.rules_hash();
    let dict_hash = set.source.dict_hash();
    let origin = set.source.origin.clone();
    let generation = Generation {
        rules: Arc::new(RuleGen::new(Arc::new(engine), history)),
        calendar,
        hash,
        dict_hash,
        origin,
    };
    let live = match a.state.path()? {
        None => None,
        Some(path) => {
            let (store, key) = open_store(&path, Open::Create)?;
            Some(
                Live::new(
                    store,
                    key,
                    &generation.rules,
                    !a.state.no_clusters,
                    a.memory_days,
                )
                .with_context(|| format!("无法读取历史库 {}", path.display()))?,
            )
        }
    };
    let input = match &a.follow {
        None => Input::Stdin,
        Some(path) => Input::Follow {
            path: path.clone(),
            source: follow_name(path),
        },
    };
    let opts = StreamOptions {
        input,
        exit_at_end: a.exit_at_end,
        mask: a.mask,
        as_of: a.as_of,
        watch: a.rules.clone(),
        progress: !a.quiet && std::io::stderr().is_terminal(),
    };
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop)).context("无法设置信号处理")?;
    }
    let result = match &a.out {
        None => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::with_capacity(64 * 1024, stdout.lock());
            stream::run(generation, live, &opts, &mut out, stop)?
        }
        Some(path) => {
            let mut o = std::fs::OpenOptions::new();
            o.read(true).append(true).create(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                o.mode(0o600);
            }
            let file = o
                .open(path)
                .map_err(|e| petition_triage::util::ioerr::with_path("写入", path, e))?;
            drop_unfinished_line(&file)
                .map_err(|e| petition_triage::util::ioerr::with_path("写入", path, e))?;
            let mut out = std::io::BufWriter::with_capacity(64 * 1024, file);
            stream::run(generation, live, &opts, &mut out, stop)?
        }
    };
    if !a.quiet {
        let why = match result.reason {
            "signal" => "收到停止信号，已提交",
            "closed" => "输出已关闭",
            _ => "输入结束",
        };
        eprintln!(
            "{why}：研判 {} 件，更新 {}，拒收 {}，预警 {} 件",
            result.cases, result.updates, result.rejects, result.warned
        );
    }
    Ok(0)
}

/// A stream killed while writing may leave its last line unfinished;
/// its case was not committed and is written again, so the broken line
/// is cut off before appending.
fn drop_unfinished_line(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(());
    }
    let mut at = len;
    let mut buf = vec![0u8; 64 * 1024];
    while at > 0 {
        let n = (buf.len() as u64).min(at);
        let start = at - n;
        file.read_exact_at(&mut buf[..n as usize], start)?;
        if let Some(i) = buf[..n as usize].iter().rposition(|&b| b == b'\n') {
            let end = start + i as u64 + 1;
            if end != len {
                file.set_len(end)?;
            }
            return Ok(());
        }
        at = start;
    }
    file.set_len(0)
}

/// The name a followed file's position is recorded under: its folder's
/// full path and its name, so that the same file given from another
/// working folder is the same source.
fn follow_name(path: &std::path::Path) -> String {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    match (std::fs::canonicalize(&dir), path.file_name()) {
        (Ok(d), Some(n)) => d.join(n).display().to_string(),
        _ => path.display().to_string(),
    }
}
