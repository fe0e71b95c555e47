//! `triage tune`: tier thresholds for a target precision or a nightly
//! capacity.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use petition_triage::eval;
use petition_triage::sink::{self};

use super::*;

#[derive(clap::Args, Debug)]
pub(crate) struct TuneArgs {
    /// 标注语料（JSON Lines，需要 gold 中的 tier）。
    #[arg(long)]
    corpus: PathBuf,
    /// 规则目录（默认使用内置规则）。
    #[arg(long)]
    rules: Option<PathBuf>,
    /// 目标精确率（0–1）：各等级及以上的预警精确率不低于它的最低阈值。
    #[arg(
        long,
        conflicts_with = "capacity",
        required_unless_present = "capacity"
    )]
    precision: Option<f64>,
    /// 每晚能处理的 红+橙 案件数。
    #[arg(long)]
    capacity: Option<f64>,
    /// 写出 scoring.toml 片段的文件（默认打印）。
    #[arg(long, short)]
    out: Option<PathBuf>,
}

pub(crate) fn cmd_tune(a: TuneArgs) -> Result<u8> {
    let corpus = load_corpus(&a.corpus, None)?;
    if corpus.cases.iter().any(|c| c.gold.tier.is_none()) && a.precision.is_some() {
        bail!("按精确率调阈值需要语料中每件都有 gold.tier 标注");
    }
    let engine = load_engine(a.rules.as_deref())?;
    let verdicts = eval::predict(&engine, &corpus);
    let (target, how) = match (a.precision, a.capacity) {
        (Some(p), _) if (0.0..=1.0).contains(&p) => (
            eval::Target::Precision(p),
            format!("triage tune --precision {p}"),
        ),
        (Some(p), _) => bail!("--precision 应在 0 到 1 之间，收到 {p}"),
        (None, Some(k)) if k > 0.0 => (
            eval::Target::Capacity(k),
            format!("triage tune --capacity {k}"),
        ),
        _ => bail!("请给出 --precision 0.8 或 --capacity 40"),
    };
    let proposal = eval::tune(&engine, &corpus, &verdicts, target);
    let text = eval::proposal_toml(&proposal, &format!("{how}（语料 {}）", a.corpus.display()));
    match a.out {
        None => emit(&text),
        Some(p) => {
            sink::write_atomic(&p, text.as_bytes())
                .with_context(|| format!("无法写入 {}", p.display()))?;
            eprintln!(
                "阈值建议已写入 {}；把 [tiers] 段复制到 scoring.toml 即可生效。",
                p.display()
            );
        }
    }
    Ok(0)
}
