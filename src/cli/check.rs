//! `triage check`: validate a rule set, run its examples, and try it on
//! a corpus.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::ValueEnum;

use petition_triage::input::{CaseReader, EncodingChoice, Format};
use petition_triage::rules::Severity;
use petition_triage::sink::{self};
use petition_triage::{Engine, RuleSet};

use super::*;

#[derive(clap::Args, Debug)]
pub(crate) struct CheckArgs {
    /// 规则目录（默认检查内置规则）。
    rules: Option<PathBuf>,
    /// 输出格式。
    #[arg(long, value_enum, default_value_t = DiagFormat::Text)]
    format: DiagFormat,
    /// 在语料上运行规则，列出最耗时和命中最多的规则（配合 --corpus）。
    #[arg(long, requires = "corpus")]
    profile: bool,
    /// 在这份案件文件（JSONL/CSV）上试运行规则：报告常落在别的词里的关键词（W004），
    /// 配合 --profile 列出规则耗时。
    #[arg(long)]
    corpus: Option<PathBuf>,
}

#[derive(Copy, Clone, Debug, ValueEnum)]
pub(crate) enum DiagFormat {
    Text,
    Json,
}

pub(crate) fn cmd_check(a: CheckArgs) -> Result<u8> {
    let source = rule_source(a.rules.as_deref())?;
    let origin = source.origin.clone();
    // The calendar files (periods.toml, holidays.toml) are checked with the rules.
    let calendar_diags = match petition_triage::calendar::Calendar::from_source(&source) {
        Ok(_) => Vec::new(),
        Err(d) => d,
    };
    let (mut diags, summary) = match RuleSet::load(source) {
        Err(d) => (d, None),
        Ok(rules) => {
            let n_rules = rules.rules.len();
            let warnings = rules.warnings.clone();
            match Engine::compile(rules) {
                Err(d) => (d, None),
                Ok(engine) => {
                    let mut d = warnings;
                    d.extend(engine.segmenter_fit());
                    d.extend(engine.run_inline_tests());
                    let set = engine.rules();
                    let history = match petition_triage::history::HistoryRules::load(
                        &set.source,
                        &set.scoring,
                    ) {
                        Ok(h) => {
                            d.extend(h.run_examples());
                            h.example_count()
                        }
                        Err(e) => {
                            d.extend(e);
                            0
                        }
                    };
                    let examples: usize = history
                        + engine
                            .rules()
                            .rules
                            .iter()
                            .map(|r| r.examples.len() + r.counter_examples.len())
                            .sum::<usize>();
                    (d, Some((n_rules, examples)))
                }
            }
        }
    };
    diags.extend(calendar_diags);
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let mut profile = None;
    if errors == 0
        && let Some(corpus) = &a.corpus
    {
        let mut engine = load_engine(a.rules.as_deref())?;
        if a.profile {
            engine.enable_profile();
        }
        let reader = CaseReader::open(corpus, Format::from_path(corpus), EncodingChoice::Auto)
            .with_context(|| format!("无法读取 {}", corpus.display()))?;
        let mut cases = Vec::new();
        for rec in reader {
            if let Ok(case) = rec?.case {
                engine.triage(&case);
                cases.push(case);
            }
        }
        let found = engine.boundary_report(&cases);
        diags.extend(found);
        if a.profile {
            profile = Some(sink::profile_markdown(
                &engine.profile_report(),
                cases.len() as u64,
            ));
        }
    }
    let warnings = diags.len() - errors;
    match a.format {
        DiagFormat::Json => {
            let out = serde_json::json!({
                "rules": origin,
                "errors": errors,
                "warnings": warnings,
                "diagnostics": diags,
            });
            emit(&format!("{}\n", serde_json::to_string_pretty(&out)?));
        }
        DiagFormat::Text => {
            print_diags(&diags);
            match summary {
                Some((n, ex)) if errors == 0 => emit(&format!(
                    "规则检查通过：{origin}，{n} 条规则，{ex} 个示例全部通过，{warnings} 个警告。\n"
                )),
                _ => emit(&format!(
                    "规则检查未通过：{origin}，{errors} 个错误，{warnings} 个警告。\n"
                )),
            }
        }
    }
    if let Some(md) = profile {
        emit(&md);
    }
    Ok(if errors > 0 { 1 } else { 0 })
}
