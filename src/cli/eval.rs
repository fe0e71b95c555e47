//! `triage eval`: metrics on a labeled corpus, or two rule sets compared.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use petition_triage::eval;
use petition_triage::sink::{self};

use super::*;

#[derive(clap::Args, Debug)]
pub(crate) struct EvalArgs {
    /// 标注语料（JSON Lines）。
    #[arg(long)]
    corpus: PathBuf,
    /// 标签映射文件（其他数据集的标签 → 本系统类别）。
    #[arg(long)]
    labels: Option<PathBuf>,
    /// 规则目录（默认使用内置规则）。
    #[arg(long, conflicts_with_all = ["baseline", "candidate"])]
    rules: Option<PathBuf>,
    /// 变更前的规则目录（与 --candidate 一起用；default 表示内置规则）。
    #[arg(long, requires = "candidate")]
    baseline: Option<PathBuf>,
    /// 变更后的规则目录。
    #[arg(long, requires = "baseline")]
    candidate: Option<PathBuf>,
    /// 报告目录（写 Markdown、JSON 和 SVG 图）；不给则把 Markdown 打印出来。
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Markdown 中每类错误最多列出的件数（JSON 中全部列出）。
    #[arg(long, default_value_t = 50)]
    max_errors: usize,
}

pub(crate) fn cmd_eval(a: EvalArgs) -> Result<u8> {
    let corpus = load_corpus(&a.corpus, a.labels.as_deref())?;
    let name = a.corpus.display().to_string();
    let write = |dir: &Path, files: &[(&str, String)]| -> Result<()> {
        create_private_dir(dir)?;
        for (f, text) in files {
            sink::write_atomic(&dir.join(f), text.as_bytes())
                .with_context(|| format!("无法写入 {}", dir.join(f).display()))?;
        }
        eprintln!("报告已写入 {}", dir.display());
        Ok(())
    };
    if let (Some(base), Some(cand)) = (&a.baseline, &a.candidate) {
        let (eb, ec) = (engine_for(Some(base))?, engine_for(Some(cand))?);
        let (vb, vc) = (eval::predict(&eb, &corpus), eval::predict(&ec, &corpus));
        let (rb, rc) = (
            eval::evaluate(&eb, &corpus, &vb, &name),
            eval::evaluate(&ec, &corpus, &vc, &name),
        );
        let changes = eval::changes(&corpus, &vb, &vc);
        let md = eval::compare_markdown(&rb, &rc, &changes);
        eprintln!(
            "宏平均 F1 {:.1}% → {:.1}%；类别或等级变化 {} 件",
            rb.macro_f1 * 100.0,
            rc.macro_f1 * 100.0,
            changes.len()
        );
        match &a.out {
            None => emit(&md),
            Some(dir) => {
                let json = serde_json::to_string_pretty(&serde_json::json!({
                    "baseline": rb, "candidate": rc, "changes": changes,
                }))?;
                write(dir, &[("compare.md", md), ("compare.json", json)])?;
            }
        }
        return Ok(0);
    }
    let engine = load_engine(a.rules.as_deref())?;
    let verdicts = eval::predict(&engine, &corpus);
    let report = eval::evaluate(&engine, &corpus, &verdicts, &name);
    let md = eval::markdown(&report, a.max_errors);
    eprintln!(
        "评估 {} 件：宏平均 F1 {:.1}%，微平均 F1 {:.1}%，准确率 {:.1}%",
        report.cases,
        report.macro_f1 * 100.0,
        report.micro_f1 * 100.0,
        report.accuracy * 100.0
    );
    match &a.out {
        None => emit(&md),
        Some(dir) => {
            let mut files = vec![
                ("eval.md", md),
                ("eval.json", serde_json::to_string_pretty(&report)?),
            ];
            if !report.sweep.is_empty() {
                files.push(("sweep.svg", eval::sweep_svg(&report.sweep)));
            }
            write(dir, &files)?;
        }
    }
    Ok(0)
}
