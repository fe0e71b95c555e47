//! `triage run`: the batch run into the output directory.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use petition_triage::context::PassThrough;
use petition_triage::history::{HistoryContext, Mode};
use petition_triage::input::{CaseReader, EncodingChoice, Format, WORKBOOK_MESSAGE, is_workbook};
use petition_triage::report::{self, ReportOptions, ReportSink};
use petition_triage::run::batch::{self, BatchOptions};
use petition_triage::run::calendar::CalendarContext;
use petition_triage::sink::{
    Counts, HistoryManifest, Manifest, ManifestSink, OUTPUT_FILES, ProfileSink, Sink,
};
use petition_triage::util::OutputSet;
use petition_triage::util::ioerr;

use super::*;

#[derive(clap::Args, Debug)]
pub(crate) struct RunArgs {
    /// 输入文件（.jsonl / .csv / .tsv；- 表示标准输入）。
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// 输出目录。
    #[arg(long, short)]
    out: PathBuf,
    /// 规则目录（默认使用内置规则）。
    #[arg(long)]
    rules: Option<PathBuf>,
    /// 输入格式（默认按扩展名判断）。
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// 输入编码。
    #[arg(long, value_enum, default_value_t = EncodingChoice::Auto)]
    encoding: EncodingChoice,
    /// 工作线程数（默认或 0 为 CPU 核数；上限为核数的 4 倍）。
    #[arg(long)]
    threads: Option<usize>,
    /// 在输出中遮蔽身份证号和手机号。
    #[arg(long)]
    mask: bool,
    /// 晨报 report.html 中显示完整的身份证号、手机号和姓名（默认遮蔽；
    /// 清单文件不受影响）。
    #[arg(long)]
    report_unmasked: bool,
    /// 摘要中列出的高风险案件数。
    #[arg(long, default_value_t = 20)]
    top: usize,
    /// 不显示进度。
    #[arg(long, short)]
    quiet: bool,
    /// 记录每条规则的耗时和命中，写入 profile.md（运行会稍慢）。
    #[arg(long)]
    profile: bool,
    /// 研判日期（默认今天）：按这一天判断敏感时段和办理期限，结果可重现。
    #[arg(long, value_parser = parse_as_of)]
    as_of: Option<chrono::NaiveDate>,
    #[command(flatten)]
    state: StateArgs,
}

pub(crate) fn cmd_run(a: RunArgs) -> Result<u8> {
    let started = chrono::Local::now();
    check_inputs(&a.inputs, a.format, a.encoding)?;
    if let Some(n) = thread_count(a.threads) {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .context("无法设置线程数")?;
    }
    let mut engine = load_engine(a.rules.as_deref())?;
    if a.profile {
        engine.enable_profile();
    }
    let set = OutputSet::prepare(&a.out, &OUTPUT_FILES)
        .map_err(|e| ioerr::with_path("准备输出目录", &a.out, e))?;
    let dir = set.dir().to_path_buf();
    let show = !a.quiet && std::io::stderr().is_terminal();
    let bar = if show {
        let b = indicatif::ProgressBar::new_spinner();
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} 已读入 {pos} 条  {per_sec}  {elapsed}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        Some(b)
    } else {
        None
    };
    let opts = BatchOptions {
        format: a.format,
        encoding: a.encoding,
        mask: a.mask,
        top: a.top,
    };
    let rules = engine.rules();
    let as_of = a.as_of.unwrap_or_else(|| started.date_naive());
    let calendar = load_calendar(&rules.source)?;
    let state = a.state.path()?;
    let manifest = Manifest {
        program: format!("triage {}", env!("CARGO_PKG_VERSION")),
        rules_origin: rules.source.origin.clone(),
        rules_sha256: rules.source.rules_hash(),
        dict_sha256: rules.source.dict_hash(),
        inputs: Vec::new(),
        counts: Counts::default(),
        threads: rayon::current_num_threads(),
        masked: a.mask,
        as_of: as_of.to_string(),
        started: started.to_rfc3339(),
        finished: String::new(),
        outputs: Vec::new(),
        history: state.as_ref().map(|p| HistoryManifest {
            store: p.display().to_string(),
            clusters: !a.state.no_clusters,
            clusters_found: 0,
        }),
    };
    let preamble = period_preamble(&calendar, as_of);
    let mut report_opts = ReportOptions {
        unmasked: a.report_unmasked,
        previous: Some(a.out.clone()),
        history: None,
        preamble: Some(preamble.clone()),
    };
    let mut history = match state {
        None => None,
        Some(path) => {
            let rules = history_rules(&engine)?;
            let (store, key) = open_store(&path, Open::Create)?;
            report_opts.history = Some(report::store_window(&store, as_of)?);
            Some(HistoryContext::new(
                store,
                key,
                &engine,
                rules,
                Mode::Run,
                !a.state.no_clusters,
            ))
        }
    };
    let mut sinks = batch::default_sinks_with(&dir, a.top, preamble)?;
    if a.profile {
        sinks.push(Box::new(ProfileSink::new(&engine, &dir)));
    }
    sinks.push(Box::new(ReportSink::new(&dir, &manifest, report_opts)));
    sinks.push(Box::new(ManifestSink::new(&dir, manifest)));
    let mut sinks: Vec<&mut dyn Sink> = sinks
        .iter_mut()
        .map(|s| &mut **s as &mut dyn Sink)
        .collect();
    let mut pass = PassThrough;
    let context: &mut dyn petition_triage::context::Context = match &mut history {
        Some(h) => h,
        None => &mut pass,
    };
    let mut context = CalendarContext::new(&engine, &calendar, as_of, context);
    let result = batch::run_into(&engine, &a.inputs, &opts, &mut context, &mut sinks, |n| {
        if let Some(b) = &bar {
            b.set_position(n);
        }
    })?;
    drop(sinks);
    set.commit()
        .map_err(|e| ioerr::with_path("替换输出目录", &a.out, e))?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if a.profile {
        eprintln!("最耗时的规则（详见 profile.md）：");
        for r in engine.profile_report().iter().take(5) {
            eprintln!(
                "  {}  {:.1} 毫秒  命中 {} 件",
                r.rule,
                r.nanos as f64 / 1e6,
                r.hits
            );
        }
    }

    if let Some(h) = &history {
        let r = h.recorded();
        eprintln!(
            "历史库 {}：新增 {}，更新 {}，未变 {}；聚类 {} 个",
            h.store().path().display(),
            r.added,
            r.updated,
            r.unchanged,
            result.clusters
        );
    }
    for r in &result.first_rejects {
        eprintln!("拒收 {}:{}：{}", r.file, r.line, r.reason);
    }
    let c = result.counts;
    if c.rejected > result.first_rejects.len() as u64 {
        eprintln!(
            "……另有 {} 条拒收，见 rejects.jsonl",
            c.rejected - result.first_rejects.len() as u64
        );
    }
    let warned: u64 = result.tally.tiers[..4].iter().sum();
    let by_tier: Vec<String> = petition_triage::Tier::ALL[..4]
        .iter()
        .zip(result.tally.tiers)
        .map(|(t, n)| format!("{}{n}", t.name()))
        .collect();
    let notes = if result.notes > 0 {
        format!("；字段备注 {}（见 notes.jsonl）", result.notes)
    } else {
        String::new()
    };
    eprintln!(
        "读入 {}，研判 {}，拒收 {}{notes}；预警 {} 件（{}）；输出在 {}",
        c.read,
        c.triaged,
        c.rejected,
        warned,
        by_tier.join(" "),
        a.out.display()
    );
    Ok(if c.rejected > 0 { 3 } else { 0 })
}

/// The worker threads for `--threads`: `None` (rayon's default, one per
/// core) when not given or 0; at most four per core, with a message.
fn thread_count(asked: Option<usize>) -> Option<usize> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cap = 4 * cores;
    match asked {
        None | Some(0) => None,
        Some(n) if n > cap => {
            eprintln!(
                "提示：--threads {n} 超过上限 {cap}（CPU 核数 {cores} 的 4 倍），按 {cap} 个线程运行"
            );
            Some(cap)
        }
        Some(n) => Some(n),
    }
}

/// Check the inputs before anything is written: the same file twice, a
/// workbook, a name whose format is unknown without `--format`, a file
/// that cannot be opened or a CSV header without the required columns
/// are usage errors (exit 2) with a message that names the file.
pub(crate) fn check_inputs(
    inputs: &[PathBuf],
    format: Option<Format>,
    encoding: EncodingChoice,
) -> Result<()> {
    let mut seen: Vec<(PathBuf, PathBuf)> = Vec::new();
    for path in inputs {
        let shown = path.display();
        if is_workbook(path) {
            bail!("{shown}：{WORKBOOK_MESSAGE}");
        }
        let identity = if path.as_os_str() == "-" {
            PathBuf::from("-")
        } else {
            std::fs::canonicalize(path).map_err(|e| ioerr::with_path("读取", path, e))?
        };
        if let Some((first, _)) = seen.iter().find(|(_, id)| *id == identity) {
            bail!(
                "输入文件重复：{} 与 {shown} 是同一个文件；每个文件只能给一次",
                first.display()
            );
        }
        seen.push((path.clone(), identity));
        let Some(fmt) = format.or_else(|| Format::guess(path)) else {
            bail!(
                "无法从扩展名判断 {shown} 的格式（可识别 .jsonl、.csv、.tsv）；请用 --format jsonl、--format csv 或 --format tsv 指明"
            );
        };
        if path.as_os_str() != "-" {
            CaseReader::open(path, fmt, encoding).map_err(|e| match e.kind() {
                std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData => {
                    anyhow::anyhow!("{shown}：{e}")
                }
                _ => ioerr::with_path("读取", path, e).into(),
            })?;
        }
    }
    Ok(())
}

pub(crate) fn create_private_dir(dir: &Path) -> Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
        .map_err(|e| ioerr::with_path("创建输出目录", dir, e).into())
}
