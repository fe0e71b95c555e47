//! The `triage` command line: `run`, `check`, `explain` and `rules export`.
//!
//! Exit codes: 0 success; 1 the rule set is invalid (or `check` found
//! errors); 2 usage or I/O error (unreadable input, unwritable output);
//! 3 `run` finished and wrote its lists, but some records were rejected.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};

use petition_triage::batch::{self, BatchOptions};
use petition_triage::input::{CaseReader, EncodingChoice, Format};
use petition_triage::output::{self, Manifest};
use petition_triage::rules::Severity;
use petition_triage::{Case, Diagnostic, Engine, RuleSet, RuleSource, eval, explain};

/// 信访案件风险预警与分流研判。
#[derive(Parser, Debug)]
#[command(name = "triage", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// 批量研判：读入案件，输出预警清单（JSONL、CSV、摘要、清单说明）。
    Run(RunArgs),
    /// 检查规则：校验规则文件并运行每条规则的示例。
    Check(CheckArgs),
    /// 解释一个案件的研判结果，或一条规则。
    Explain(ExplainArgs),
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

#[derive(Subcommand, Debug)]
enum CorpusCommand {
    /// 生成带标注的基准语料（JSON Lines，含 gold 标注）。
    Generate {
        /// 随机种子（相同种子得到相同语料）。
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// 案件数。
        #[arg(long, default_value_t = 20_000)]
        count: usize,
        /// 输出文件。
        #[arg(long, short)]
        out: PathBuf,
    },
    /// 流式生成无标注语料（测速用），例如 --size 100MB；- 表示标准输出。
    Stream {
        /// 随机种子。
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// 大小：字节数，或带 KB/MB/GB。
        #[arg(long)]
        size: String,
        /// 输出文件（- 为标准输出）。
        #[arg(long, short)]
        out: PathBuf,
    },
}

#[derive(clap::Args, Debug)]
struct EvalArgs {
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

#[derive(clap::Args, Debug)]
struct TuneArgs {
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

#[derive(Subcommand, Debug)]
enum RulesCommand {
    /// 把内置默认规则导出到目录，供编辑。
    Export {
        /// 目标目录。
        dir: PathBuf,
    },
}

#[derive(clap::Args, Debug)]
struct RunArgs {
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
}

#[derive(clap::Args, Debug)]
struct CheckArgs {
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
enum DiagFormat {
    Text,
    Json,
}

#[derive(clap::Args, Debug)]
struct ExplainArgs {
    /// 规则目录（默认使用内置规则）。
    #[arg(long)]
    rules: Option<PathBuf>,
    /// 直接给出案件内容。
    #[arg(long, conflicts_with_all = ["input", "rule"])]
    text: Option<String>,
    /// 与 --text 一起使用的标题。
    #[arg(long, requires = "text")]
    title: Option<String>,
    /// 从文件中取案件（配合 --id）。
    #[arg(long, requires = "id", conflicts_with = "rule")]
    input: Option<PathBuf>,
    /// 案件编号。
    #[arg(long)]
    id: Option<String>,
    /// 解释一条规则。
    #[arg(long)]
    rule: Option<String>,
    /// 输入编码。
    #[arg(long, value_enum, default_value_t = EncodingChoice::Auto)]
    encoding: EncodingChoice,
    /// 在输出中遮蔽身份证号和手机号。
    #[arg(long)]
    mask: bool,
}

/// A failure with its exit code; the message has been printed.
struct Exit(u8);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(a) => cmd_run(a),
        Command::Check(a) => cmd_check(a),
        Command::Explain(a) => cmd_explain(a),
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
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if let Some(Exit(code)) = e.downcast_ref::<Exit>() {
                return ExitCode::from(*code);
            }
            eprintln!("错误：{e:#}");
            ExitCode::from(2)
        }
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
fn emit(text: &str) {
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

fn rule_source(dir: Option<&Path>) -> Result<RuleSource> {
    match dir {
        None => Ok(RuleSource::builtin()),
        Some(d) => {
            RuleSource::from_dir(d).with_context(|| format!("无法读取规则目录 {}", d.display()))
        }
    }
}

fn print_diags(diags: &[Diagnostic]) {
    for d in diags {
        eprintln!("{}", d.render());
    }
}

/// Load and compile a rule set, or print every problem and fail with 1.
fn load_engine(dir: Option<&Path>) -> Result<Engine> {
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

fn cmd_check(a: CheckArgs) -> Result<u8> {
    let source = rule_source(a.rules.as_deref())?;
    let origin = source.origin.clone();
    let (diags, summary) = match RuleSet::load(source) {
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
                    let examples: usize = engine
                        .rules()
                        .rules
                        .iter()
                        .map(|r| r.examples.len() + r.counter_examples.len())
                        .sum();
                    (d, Some((n_rules, examples)))
                }
            }
        }
    };
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let mut diags = diags;
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
            profile = Some(output::profile_markdown(
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

fn cmd_run(a: RunArgs) -> Result<u8> {
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
    let result = batch::run(&engine, &a.inputs, &opts, &a.out, |n| {
        if let Some(b) = &bar {
            b.set_position(n);
        }
    })?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let rules = engine.rules();
    let mut outputs = vec![
        "warnings.jsonl",
        "warnings.csv",
        "summary.md",
        "rejects.jsonl",
    ];
    if a.profile {
        let report = engine.profile_report();
        let md = output::profile_markdown(&report, result.counts.triaged);
        let path = a.out.join("profile.md");
        output::write_atomic(&path, md.as_bytes())
            .with_context(|| format!("无法写入 {}", path.display()))?;
        outputs.push("profile.md");
        eprintln!("最耗时的规则（详见 profile.md）：");
        for r in report.iter().take(5) {
            eprintln!(
                "  {}  {:.1} 毫秒  命中 {} 件",
                r.rule,
                r.nanos as f64 / 1e6,
                r.hits
            );
        }
    }
    let manifest = Manifest {
        program: format!("triage {}", env!("CARGO_PKG_VERSION")),
        rules_origin: rules.source.origin.clone(),
        rules_sha256: rules.source.rules_hash(),
        dict_sha256: rules.source.dict_hash(),
        inputs: result.inputs.clone(),
        counts: result.counts,
        threads: rayon::current_num_threads(),
        masked: a.mask,
        started: started.to_rfc3339(),
        finished: chrono::Local::now().to_rfc3339(),
        outputs: outputs.iter().map(|n| (*n).to_string()).collect(),
    };
    let path = a.out.join("manifest.json");
    output::write_atomic(&path, &serde_json::to_vec_pretty(&manifest)?)
        .with_context(|| format!("无法写入 {}", path.display()))?;

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

fn create_private_dir(dir: &Path) -> Result<()> {
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

fn cmd_explain(a: ExplainArgs) -> Result<u8> {
    let engine = load_engine(a.rules.as_deref())?;
    if let Some(id) = &a.rule {
        let Some(rule) = engine.rules().rules.iter().find(|r| &r.id == id) else {
            bail!("找不到规则 {id}");
        };
        emit(&explain::explain_rule(&engine, rule));
        return Ok(0);
    }
    let case = if let Some(text) = a.text {
        Case {
            id: "命令行".into(),
            received: chrono::Local::now().date_naive(),
            channel: None,
            petitioner_ids: Vec::new(),
            persons: None,
            target_level: None,
            location: None,
            title: a.title,
            text,
        }
    } else if let (Some(input), Some(id)) = (&a.input, &a.id) {
        find_case(input, id, a.encoding)?
    } else {
        bail!("请给出 --text \"案件内容\"，或 --input 文件 --id 编号，或 --rule 规则编号");
    };
    let mut v = engine.triage(&case);
    let mut shown = case.clone();
    if a.mask {
        output::mask_verdict(&mut v);
        shown.text = output::mask(&shown.text);
        shown.title = shown.title.map(|t| output::mask(&t));
    }
    emit(&explain::explain_case(&engine, &shown, &v));
    Ok(0)
}

fn find_case(input: &Path, id: &str, encoding: EncodingChoice) -> Result<Case> {
    let reader = CaseReader::open(input, Format::from_path(input), encoding)
        .with_context(|| format!("无法读取 {}", input.display()))?;
    for rec in reader {
        let rec = rec?;
        if let Ok(case) = rec.case
            && case.id == id
        {
            return Ok(case);
        }
    }
    bail!("{} 中找不到编号为 {id} 的案件", input.display())
}

fn cmd_export(dir: &Path) -> Result<u8> {
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        bail!(
            "{} 不是空目录；为免覆盖已编辑的规则，请换一个新目录",
            dir.display()
        );
    }
    let n = RuleSource::builtin()
        .export(dir)
        .with_context(|| format!("无法写入 {}", dir.display()))?;
    emit(&format!(
        "已导出 {n} 个规则文件到 {}；编辑后用 triage check {} 检查。\n",
        dir.display(),
        dir.display()
    ));
    Ok(0)
}

fn load_corpus(path: &Path, labels: Option<&Path>) -> Result<eval::Corpus> {
    let map = match labels {
        None => None,
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("无法读取 {}", p.display()))?;
            Some(
                toml::from_str::<eval::LabelMap>(&text)
                    .with_context(|| format!("标签映射文件 {} 有误", p.display()))?,
            )
        }
    };
    let corpus = eval::read_corpus(path, map.as_ref())
        .with_context(|| format!("无法读取语料 {}", path.display()))?;
    for (line, reason) in corpus.rejected.iter().take(10) {
        eprintln!("跳过 {}:{line}：{reason}", path.display());
    }
    if corpus.cases.is_empty() {
        bail!("{} 中没有可评估的案件", path.display());
    }
    Ok(corpus)
}

fn engine_for(dir: Option<&Path>) -> Result<Engine> {
    match dir {
        Some(d) if d.as_os_str() == "default" => load_engine(None),
        other => load_engine(other),
    }
}

fn cmd_eval(a: EvalArgs) -> Result<u8> {
    let corpus = load_corpus(&a.corpus, a.labels.as_deref())?;
    let name = a.corpus.display().to_string();
    let write = |dir: &Path, files: &[(&str, String)]| -> Result<()> {
        create_private_dir(dir)?;
        for (f, text) in files {
            output::write_atomic(&dir.join(f), text.as_bytes())
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

fn cmd_tune(a: TuneArgs) -> Result<u8> {
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
            output::write_atomic(&p, text.as_bytes())
                .with_context(|| format!("无法写入 {}", p.display()))?;
            eprintln!(
                "阈值建议已写入 {}；把 [tiers] 段复制到 scoring.toml 即可生效。",
                p.display()
            );
        }
    }
    Ok(0)
}

fn parse_size(s: &str) -> Option<u64> {
    let t = s.trim().to_ascii_uppercase();
    let (num, mult) = [
        ("GB", 1u64 << 30),
        ("MB", 1 << 20),
        ("KB", 1 << 10),
        ("G", 1 << 30),
        ("M", 1 << 20),
        ("K", 1 << 10),
        ("B", 1),
    ]
    .iter()
    .find_map(|(suf, m)| t.strip_suffix(suf).map(|n| (n.trim().to_string(), *m)))
    .unwrap_or((t.clone(), 1));
    num.parse::<f64>()
        .ok()
        .filter(|n| *n > 0.0)
        .map(|n| (n * mult as f64) as u64)
}

fn cmd_corpus(c: CorpusCommand) -> Result<u8> {
    match c {
        CorpusCommand::Generate { seed, count, out } => {
            let mut buf = Vec::new();
            petition_triage::corpus::write_labeled(&mut buf, seed, count)?;
            output::write_atomic(&out, &buf)
                .with_context(|| format!("无法写入 {}", out.display()))?;
            eprintln!(
                "已生成 {count} 件带标注的案件（种子 {seed}）：{}",
                out.display()
            );
        }
        CorpusCommand::Stream { seed, size, out } => {
            let Some(bytes) = parse_size(&size) else {
                bail!("无法识别的大小“{size}”，例如 500KB、100MB、1GB");
            };
            let n = if out.as_os_str() == "-" {
                let mut w = std::io::BufWriter::new(std::io::stdout().lock());
                match petition_triage::corpus::write_unlabeled(&mut w, seed, bytes) {
                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(0),
                    r => r?,
                }
            } else {
                let file = std::fs::File::create(&out)
                    .with_context(|| format!("无法写入 {}", out.display()))?;
                let mut w = std::io::BufWriter::new(file);
                let n = petition_triage::corpus::write_unlabeled(&mut w, seed, bytes)?;
                std::io::Write::flush(&mut w)?;
                n
            };
            eprintln!("已生成 {n} 字节（种子 {seed}）");
        }
    }
    Ok(0)
}
