//! `triage report`: build `report.html` again from a run's output folder.

use std::path::PathBuf;

use anyhow::Result;

use petition_triage::report::{self, ReportOptions};
use petition_triage::util::ioerr;

use super::*;

#[derive(clap::Args, Debug)]
pub(crate) struct ReportArgs {
    /// 一次运行的输出目录（含 warnings.jsonl 和 manifest.json）。
    out_dir: PathBuf,
    /// 报告中显示完整的身份证号、手机号和姓名（默认遮蔽；清单文件不受影响）。
    #[arg(long)]
    unmasked: bool,
    /// 与另一次运行的输出目录比较（新增红色案件、增大的聚类、新超期案件）。
    #[arg(long, value_name = "DIR")]
    previous: Option<PathBuf>,
    #[command(flatten)]
    state: StateArgs,
}

pub(crate) fn cmd_report(a: ReportArgs) -> Result<u8> {
    let history = match a.state.path()? {
        None => None,
        Some(path) => Some(chart_window(&path, &a.out_dir)?),
    };
    let opts = ReportOptions {
        unmasked: a.unmasked,
        previous: a.previous,
        history,
        preamble: None,
    };
    let missing = report::rebuild(&a.out_dir, &opts)
        .map_err(|e| ioerr::with_path("生成报告", &a.out_dir, e))?;
    for m in &missing {
        eprintln!("提示：输入 {m} 已不在原处，报告中的案件没有原文");
    }
    eprintln!(
        "报告已写入 {}",
        a.out_dir.join(report::REPORT_FILE).display()
    );
    Ok(0)
}

/// The history store's cases of the chart's thirty days ending at the
/// run's `--as-of` date (read from its manifest).
fn chart_window(
    store: &std::path::Path,
    out_dir: &std::path::Path,
) -> Result<Vec<report::DayCase>> {
    let as_of = std::fs::read(out_dir.join("manifest.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<report::model::RunInfo>(&b).ok())
        .and_then(|r| chrono::NaiveDate::parse_from_str(&r.as_of, "%Y-%m-%d").ok())
        .unwrap_or_else(|| chrono::Local::now().date_naive());
    let (store, _) = open_store(store, Open::Existing)?;
    Ok(report::store_window(&store, as_of)?)
}
