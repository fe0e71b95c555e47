//! `triage explain`: why a case scores what it scores, or what a rule
//! looks for.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use petition_triage::input::{CaseReader, EncodingChoice, Format};
use petition_triage::sink::{self};
use petition_triage::{Case, explain};

use super::*;

#[derive(clap::Args, Debug)]
pub(crate) struct ExplainArgs {
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
    /// 研判日期（默认今天）：按这一天判断敏感时段和办理期限。
    #[arg(long, value_parser = parse_as_of)]
    as_of: Option<chrono::NaiveDate>,
    #[command(flatten)]
    state: StateArgs,
}

pub(crate) fn cmd_explain(a: ExplainArgs) -> Result<u8> {
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
            received: a.as_of.unwrap_or_else(|| chrono::Local::now().date_naive()),
            channel: None,
            petitioner_ids: Vec::new(),
            persons: None,
            target_level: None,
            location: None,
            title: a.title,
            text,
            notes: Vec::new(),
            handling: Default::default(),
        }
    } else if let (Some(input), Some(id)) = (&a.input, &a.id) {
        find_case(input, id, a.encoding)?
    } else {
        bail!("请给出 --text \"案件内容\"，或 --input 文件 --id 编号，或 --rule 规则编号");
    };
    let as_of = a.as_of.unwrap_or_else(|| chrono::Local::now().date_naive());
    let calendar = load_calendar(&engine.rules().source)?;
    // The store is opened before anything is shown: a wrong path stops
    // the explanation instead of following it.
    let state = match a.state.path()? {
        Some(path) => {
            let rules = history_rules(&engine)?;
            let (store, key) = open_store(&path, Open::Existing)?;
            Some((path, store, key, rules))
        }
        None => None,
    };
    let findings =
        petition_triage::run::calendar::dated_findings(&engine, Some(&calendar), as_of, &case);
    let (mut v, history) = match &state {
        None => {
            let set = engine.rules();
            let v = petition_triage::score::scored(&set.scoring, &set.rules, findings);
            (v, None)
        }
        Some((path, store, key, rules)) => {
            let (v, past, fired) = petition_triage::history::explain_scored(
                store, key, rules, &engine, findings, &case,
            )?;
            let text = explain_state(path, store, rules, &case, &past, &fired)?;
            (v, Some(text))
        }
    };
    let mut shown = case.clone();
    if a.mask {
        sink::mask_verdict(&mut v);
        shown.text = sink::mask(&shown.text);
        shown.title = shown.title.map(|t| sink::mask(&t));
    }
    emit(&explain::explain_case(&engine, &shown, &v));
    if let Some(text) = history {
        emit(&text);
    }
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

/// The case's history in the store and the repeat rules that fire on it
/// (their points are in the score above).
fn explain_state(
    path: &Path,
    store: &petition_triage::history::Store,
    rules: &petition_triage::history::HistoryRules,
    case: &Case,
    past: &[petition_triage::history::store::Past],
    fired: &[petition_triage::history::rules::Fired],
) -> Result<String> {
    use petition_triage::history;
    let mut out = format!("\n信访史（历史库 {}）：\n", path.display());
    if let Some(own) = store.case(&case.id)? {
        out.push_str(&format!(
            "  本件已在库中：{} 登记，{}，{}\n",
            own.received,
            own.class,
            own.tier.name()
        ));
    }
    if case.petitioner_ids.is_empty() {
        out.push_str("  本件没有信访人编号，无法关联历史。\n");
    } else if past.is_empty() {
        out.push_str("  这位信访人此前没有记录。\n");
    }
    for p in past {
        out.push_str(&format!(
            "  {}  {}  {}  {}  {}\n",
            p.received,
            p.case_id,
            p.level.map_or("—", |l| l.name()),
            p.class,
            p.tier.name()
        ));
    }
    out.push_str("触发的信访史规则：\n");
    if fired.is_empty() {
        out.push_str("  （无）\n");
    }
    for f in fired {
        out.push_str(&format!("  {}\n", history::describe(rules, f)));
    }
    out.push_str("（信访史规则的分数已计入上面的总分；聚类要整批研判才看得出，这里不计。）\n");
    Ok(out)
}
