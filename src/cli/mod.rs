//! The `triage` command line: the arguments, one file per command, and
//! the helpers they share (loading rules, printing diagnostics, writing to
//! standard output).
//!
//! Exit codes: 0 success; 1 the rule set is invalid (or `check` found
//! errors); 2 usage or I/O error (unreadable input, unwritable output);
//! 3 `run` finished and wrote its lists, but some records were rejected.
//! `stream` exits 0 at the end of its input and on SIGINT or SIGTERM
//! (rejected lines are `reject` lines of its output).
//!
//! The top floor: it may use every part of the library; nothing uses it.

use std::path::Path;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use petition_triage::{Diagnostic, Engine, RuleSet, RuleSource};

mod check;
mod corpus;
mod eval;
mod explain;
mod history;
mod report;
mod rules;
mod run;
mod stream;
mod tune;

pub(crate) use check::*;
pub(crate) use corpus::*;
pub(crate) use eval::*;
pub(crate) use explain::*;
pub(crate) use history::*;
pub(crate) use report::*;
pub(crate) use rules::*;
pub(crate) use run::*;
pub(crate) use stream::*;
pub(crate) use tune::*;

/// 信访案件风险预警与分流研判。
#[derive(Parser, Debug)]
#[command(name = "triage", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// 批量研判：读入案件，输出预警清单（JSONL、CSV、摘要、清单说明）和晨报 report.html。
    Run(RunArgs),
    /// 晨报：由一次运行的输出目录重新生成 report.html（可离线打开、筛选和打印）。
    Report(ReportArgs),
    /// 流式研判：逐行读入案件（标准输入或 --follow 跟踪的文件），每研判一件就输出一行 JSON。
    Stream(StreamArgs),
    /// 检查规则：校验规则文件并运行每条规则的示例。
    Check(CheckArgs),
    /// 解释一个案件的研判结果，或一条规则。
    Explain(ExplainArgs),
    /// 历史库：导入过去的案件、查看、按期限或按人删除。
    History {
        #[command(subcommand)]
        command: HistoryCommand,
    },
    /// 规则集操作。
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// 评估：在标注语料上计算各类别的精确率、召回率、预警指标，列出错误案例；
    /// 给出 --baseline 和 --candidate 时比较两套规则。
    Eval(EvalArgs),
    /// 调阈值：按目标精确率或每晚处理容量给出分级阈值（scoring.toml 片段）。
    Tune(TuneArgs),
    /// 生成语料（带标注的基准语料，或测速用的无标注语料）。
    Corpus {
        #[command(subcommand)]
        command: CorpusCommand,
    },
    /// 敏感时段和法定节假日：列出某一年的时段、预警窗口、放假和调休安排。
    Calendar {
        /// 年份（默认今年）。
        #[arg(long)]
        year: Option<i32>,
        /// 规则目录（默认使用内置规则）。
        #[arg(long)]
        rules: Option<PathBuf>,
    },
}

/// A failure with its exit code; the message has been printed.
pub(crate) struct Exit(pub(crate) u8);

/// Run the command; the exit code, or an error to print (exit 2).
pub(crate) fn dispatch(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Run(a) => cmd_run(a),
        Command::Report(a) => cmd_report(a),
        Command::Stream(a) => cmd_stream(a),
        Command::Check(a) => cmd_check(a),
        Command::Explain(a) => cmd_explain(a),
        Command::History { command } => cmd_history(command),
        Command::Rules {
            command: RulesCommand::Export { dir },
        } => cmd_export(&dir),
        Command::Eval(a) => cmd_eval(a),
        Command::Tune(a) => cmd_tune(a),
        Command::Corpus { command } => cmd_corpus(command),
        Command::Calendar { year, rules } => Ok(petition_triage::calendar::run_command(
            year,
            rules.as_deref(),
        )),
    }
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}", self.0)
    }
}
impl std::fmt::Debug for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}", self.0)
    }
}
impl std::error::Error for Exit {}

/// Write to standard output; a closed pipe (`triage explain … | head`)
/// ends the program quietly with success, as other command-line tools do.
pub(crate) fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("错误：无法写出结果：{e}");
        std::process::exit(2);
    }
}

pub(crate) fn rule_source(dir: Option<&Path>) -> Result<RuleSource> {
    match dir {
        None => Ok(RuleSource::builtin()),
        Some(d) => {
            RuleSource::from_dir(d).with_context(|| format!("无法读取规则目录 {}", d.display()))
        }
    }
}

pub(crate) fn print_diags(diags: &[Diagnostic]) {
    for d in diags {
        eprintln!("{}", d.render());
    }
}

/// Load and compile a rule set, or print every problem and fail with 1.
pub(crate) fn load_engine(dir: Option<&Path>) -> Result<Engine> {
    let source = rule_source(dir)?;
    let rules = match RuleSet::load(source) {
        Ok(r) => r,
        Err(diags) => {
            print_diags(&diags);
            eprintln!("规则有错误，未加载。请先运行 triage check 修正。");
            return Err(Exit(1).into());
        }
    };
    match Engine::new(rules) {
        Ok(e) => Ok(e),
        Err(diags) => {
            print_diags(&diags);
            eprintln!("规则示例未通过，未加载。请先运行 triage check 修正。");
            Err(Exit(1).into())
        }
    }
}

pub(crate) fn load_corpus(
    path: &Path,
    labels: Option<&Path>,
) -> Result<petition_triage::eval::Corpus> {
    let map = match labels {
        None => None,
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("无法读取 {}", p.display()))?;
            Some(
                toml::from_str::<petition_triage::eval::LabelMap>(&text)
                    .with_context(|| format!("标签映射文件 {} 有误", p.display()))?,
            )
        }
    };
    let corpus = petition_triage::eval::read_corpus(path, map.as_ref())
        .with_context(|| format!("无法读取语料 {}", path.display()))?;
    for (line, reason) in corpus.rejected.iter().take(10) {
        eprintln!("跳过 {}:{line}：{reason}", path.display());
    }
    if corpus.cases.is_empty() {
        bail!("{} 中没有可评估的案件", path.display());
    }
    Ok(corpus)
}

pub(crate) fn engine_for(dir: Option<&Path>) -> Result<Engine> {
    match dir {
        Some(d) if d.as_os_str() == "default" => load_engine(None),
        other => load_engine(other),
    }
}

/// `--as-of`: a date as records write it (2026-12-01, 2026/12/1, 2026年12月1日).
pub(crate) fn parse_as_of(s: &str) -> std::result::Result<chrono::NaiveDate, String> {
    petition_triage::input::case::parse_date(s)
        .ok_or_else(|| format!("无法识别的日期“{s}”，应为 2026-12-01 这样的格式"))
}

/// The calendar of a rule set; its files' errors refuse the run (exit 1).
pub(crate) fn load_calendar(
    source: &petition_triage::RuleSource,
) -> Result<petition_triage::calendar::Calendar> {
    petition_triage::calendar::Calendar::from_source(source).map_err(|d| {
        for x in &d {
            eprint!("{}", x.render());
        }
        anyhow::Error::new(Exit(1))
    })
}

/// The summary's first lines: the date judged at and the period in force.
pub(crate) fn period_preamble(
    calendar: &petition_triage::calendar::Calendar,
    as_of: chrono::NaiveDate,
) -> String {
    let hits = calendar.in_force(as_of);
    let periods = if hits.is_empty() {
        "不在任何敏感时段的预警窗口内".to_string()
    } else {
        hits.iter()
            .map(|h| {
                format!(
                    "{}，预警窗口 {} 至 {}",
                    h.explain(),
                    h.period.window_start,
                    h.period.window_end
                )
            })
            .collect::<Vec<_>>()
            .join("；")
    };
    format!("研判日期 {as_of}：{periods}。")
}
