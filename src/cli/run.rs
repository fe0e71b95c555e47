//! `triage run`: the batch run into the output directory.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use petition_triage::history::{HistoryContext, Mode};
use petition_triage::input::{EncodingChoice, Format};
use petition_triage::run::PassThrough;
use petition_triage::run::batch::{self, BatchOptions};
use petition_triage::sink::{Counts, Manifest, ManifestSink, ProfileSink, Sink};

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
    /// 工作线程数（默认为 CPU 核数）。
    #[arg(long)]
    threads: Option<usize>,
    /// 在输出中遮蔽身份证号和手机号。
    #[arg(long)]
    mask: bool,
    /// 摘要中列出的高风险案件数。
    #[arg(long, default_value_t = 20)]
    top: usize,
    /// 不显示进度。
    #[arg(long, short)]
    quiet: bool,
    /// 记录每条规则的耗时和命中，写入 profile.md（运行会稍慢）。
    #[arg(long)]
    profile: bool,
    #[command(flatten)]
    state: StateArgs,
}

pub(crate) fn cmd_run(a: RunArgs) -> Result<u8> {
    let started = chrono::Local::now();
    if let Some(n) = a.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
            .context("无法设置线程数")?;
    }
    let mut engine = load_engine(a.rules.as_deref())?;
    if a.profile {
        engine.enable_profile();
    }
    create_private_dir(&a.out)?;
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
    let manifest = Manifest {
        program: format!("triage {}", env!("CARGO_PKG_VERSION")),
        rules_origin: rules.source.origin.clone(),
        rules_sha256: rules.source.rules_hash(),
        dict_sha256: rules.source.dict_hash(),
        inputs: Vec::new(),
        counts: Counts::default(),
        threads: rayon::current_num_threads(),
        masked: a.mask,
        started: started.to_rfc3339(),
        finished: String::new(),
        outputs: Vec::new(),
    };
    let mut sinks = batch::default_sinks(&a.out, a.top)?;
    if a.profile {
        sinks.push(Box::new(ProfileSink::new(&engine, &a.out)));
    }
    sinks.push(Box::new(ManifestSink::new(&a.out, manifest)));
    let mut sinks: Vec<&mut dyn Sink> = sinks
        .iter_mut()
        .map(|s| &mut **s as &mut dyn Sink)
        .collect();
    let mut history = match a.state.path() {
        None => None,
        Some(path) => {
            let rules = history_rules(&engine)?;
            let (store, key) = open_store(&path)?;
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
    let mut pass = PassThrough;
    let context: &mut dyn petition_triage::run::Context = match &mut history {
        Some(h) => h,
        None => &mut pass,
    };
    let result = batch::run_into(&engine, &a.inputs, &opts, context, &mut sinks, |n| {
        if let Some(b) = &bar {
            b.set_position(n);
        }
    })?;
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
    eprintln!(
        "读入 {}，研判 {}，拒收 {}；预警 {} 件（{}）；输出在 {}",
        c.read,
        c.triaged,
        c.rejected,
        warned,
        by_tier.join(" "),
        a.out.display()
    );
    Ok(if c.rejected > 0 { 3 } else { 0 })
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
        .with_context(|| format!("无法创建输出目录 {}", dir.display()))
}
