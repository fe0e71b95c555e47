//! `triage rules export`: write the built-in rules out for editing.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Subcommand;

use petition_triage::RuleSource;

use super::*;

#[derive(Subcommand, Debug)]
pub(crate) enum RulesCommand {
    /// 把内置默认规则导出到目录，供编辑。
    Export {
        /// 目标目录。
        dir: PathBuf,
    },
}

pub(crate) fn cmd_export(dir: &Path) -> Result<u8> {
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
